"""examples/three-tier-cilium and examples/three-tier-cilium-pitfalls (docs/cilium.md).

Both load without a problem as a user would read them; the app's workloads are
three-tier's byte for byte, so only the policies differ; every port of a Cilium rule is a
string, as the CRD demands; and each pitfall file says which trap it plants.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.conftest import EXAMPLES

from netpol.model.cilium import CCNP_KIND, CNP_KIND
from netpol.model.diagnostics import Severity
from netpol.model.options import PROFILES, Options
from netpol.validate.pipeline import load_cluster

APP = EXAMPLES / "three-tier-cilium"
PITFALLS = EXAMPLES / "three-tier-cilium-pitfalls"
WORKLOAD_FILES = (
    "00-namespace.yaml",
    "01-frontend.yaml",
    "02-backend.yaml",
    "03-db.yaml",
    "kube-system-coredns.yaml",
)
PITFALL_FILES = {
    "10-pitfall-empty-ingress-rule.yaml": '`ingress: [{}]` meant as "allow all"',
    "11-pitfall-cidr-to-pods.yaml": "a CIDR rule aimed at the pod network",
    "12-pitfall-ccnp-empty-selector-for-nodes.yaml": "a CiliumClusterwideNetworkPolicy"
    " `fromEndpoints: [{}]` expected to match nodes",
    "13-pitfall-allow-shadowed-by-deny.yaml": "an allow shadowed by a deny",
    "14-pitfall-l7-on-a-port-open-at-l4.yaml": "an L7 rule on a port that another policy"
    " already opens at L4",
    "15-pitfall-policytypes-ignored.yaml": "a NetworkPolicy whose policyTypes Cilium ignores",
    "16-pitfall-fqdn-without-dns-visibility.yaml": "toFQDNs without a DNS L7 rule",
}


def manifests(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.glob("*.yaml") if p.name != "expectations.yaml")


@pytest.mark.parametrize(
    ("folder", "cnps", "ccnps", "netpols"),
    [
        pytest.param(
            APP,
            {"backend", "db", "db-deny-frontend", "frontend"},
            {"dns-through-the-proxy"},
            {"db-from-frontend", "frontend-to-db"},
            id="three-tier-cilium",
        ),
        pytest.param(
            PITFALLS,
            {
                "backend-api-get-only",
                "db-backend-only",
                "db-dns-by-cidr",
                "frontend-open-to-all",
                "reports-mail",
            },
            {"coredns-serves-the-cluster"},
            {"backend-policy", "reports-policy"},
            id="three-tier-cilium-pitfalls",
        ),
    ],
)
def test_the_example_loads_without_a_problem(
    folder: Path, cnps: set[str], ccnps: set[str], netpols: set[str]
) -> None:
    result = load_cluster(manifests(folder), Options(profile=PROFILES["cilium"]))
    assert result.ok, "\n".join(d.one_line() for d in result.errors)
    assert [d.one_line() for d in result.diagnostics if d.severity is not Severity.INFO] == []
    cilium = result.cluster.cilium_policies
    assert {p.name for p in cilium if p.kind == CNP_KIND} == cnps
    assert {p.name for p in cilium if p.kind == CCNP_KIND} == ccnps
    assert {p.namespace for p in cilium if p.kind == CNP_KIND} == {"app1-ns"}
    assert {p.namespace for p in cilium if p.kind == CCNP_KIND} == {None}
    assert {p.name for p in result.cluster.policies} == netpols


@pytest.mark.parametrize("folder", [APP, PITFALLS], ids=lambda p: p.name)
def test_the_workloads_are_three_tiers_byte_for_byte(folder: Path) -> None:
    for name in WORKLOAD_FILES:
        assert (folder / name).read_bytes() == (EXAMPLES / "three-tier" / name).read_bytes(), name


def cilium_ports(document: Any) -> list[Any]:
    """Every ``port`` under a ``toPorts`` of a Cilium policy document, as YAML read it."""
    found: list[Any] = []

    def walk(node: Any, in_to_ports: bool) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if in_to_ports and key == "port":
                    found.append(value)
                walk(value, in_to_ports or key == "toPorts")
        elif isinstance(node, list):
            for item in node:
                walk(item, in_to_ports)

    walk(document.get("spec"), False)
    for rule in document.get("specs") or []:
        walk(rule, False)
    return found


@pytest.mark.parametrize("folder", [APP, PITFALLS], ids=lambda p: p.name)
def test_every_cilium_port_is_a_quoted_string(folder: Path) -> None:
    """A YAML integer (``port: 80``) fails ``kubectl apply``: the CRD types it string."""
    ports = []
    for path in manifests(folder):
        for document in yaml.safe_load_all(Path(path).read_text()):
            if document and document.get("apiVersion", "").startswith("cilium.io/"):
                ports += cilium_ports(document)
    assert ports, "no Cilium port found"
    assert [p for p in ports if not isinstance(p, str)] == []


def test_each_pitfall_file_says_which_trap_it_plants() -> None:
    planted = {p.name for p in PITFALLS.glob("*pitfall*")}
    assert planted == set(PITFALL_FILES)
    for name, trap in PITFALL_FILES.items():
        first = (PITFALLS / name).read_text().splitlines()[0]
        assert first == f"# PITFALL: {trap}.", name
