"""examples/admin-tiers on real packets: every probe agrees with the engine, and an
admin Deny beats a NetworkPolicy allow (docs/tiers.md)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.conftest import EXAMPLES
from tests.lab.conftest import lab_name, pod_label, requires_lab

from netpol.lab import inventory, lifecycle
from netpol.lab.probe import ProbeReport
from netpol.model.options import Options

pytestmark = [pytest.mark.lab, requires_lab, pytest.mark.usefixtures("host_untouched")]


@pytest.fixture(scope="module")
def report() -> Iterator[ProbeReport]:
    name = lab_name("anp")
    lifecycle.up([str(EXAMPLES / "admin-tiers")], name, Options())
    try:
        found, _ = lifecycle.probe_lab(name, timeout=2.0)
        yield found
    finally:
        inventory.down(name)


def observed(report: ProbeReport, src: str, dst: str, port: int, protocol: str = "TCP") -> bool:
    """The packets' one answer for every pod pair the prefixes name (they must agree, so a
    refusal for one of CoreDNS's two pods does not pass for both)."""
    found = {
        c.observed
        for c in report.cells
        if pod_label(report, c.attempt.src).startswith(src)
        and pod_label(report, c.attempt.dst).startswith(dst)
        and (c.attempt.port, c.attempt.protocol) == (port, protocol)
    }
    assert len(found) == 1, (src, dst, port, protocol, found)
    return found.pop()


def test_every_probe_agrees_with_the_engine(report: ProbeReport) -> None:
    assert [str(c) for c in report.disagreements] == []
    assert len(report.cells) == 78
    assert sum(c.observed for c in report.cells) == 35


def test_the_tiers_on_real_packets(report: ProbeReport) -> None:
    # admin Allow beats db-policy's egress isolation: the database reaches DNS
    assert observed(report, "db-sts-0", "coredns", 53, "UDP")
    # admin Deny beats frontend-policy's ipBlock 0.0.0.0/0 allow for CoreDNS's pod IPs
    assert not observed(report, "coredns", "frontend-deploy", 80)
    assert observed(report, "outside", "frontend-deploy", 80)
    # the scrape, by the port named metrics, and nothing else of the apps
    assert observed(report, "prometheus-deploy", "backend-deploy", 9000)
    assert not observed(report, "prometheus-deploy", "backend-deploy", 5678)
    # Pass: the tutorial's NetworkPolicies still decide the app's own traffic
    assert observed(report, "frontend-deploy", "backend-deploy", 5678)
    assert not observed(report, "frontend-deploy", "db-sts-0", 3306)
    # the baseline: no pod reaches Prometheus
    assert not observed(report, "backend-deploy", "prometheus-deploy", 9090)
