"""Explanations with tiered policies: the decision chain, then the admin rules that did not
match and why (only those that cover the asked port), in text and in JSON."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner, Result
from tests.conftest import REPO

from netpol.cli.explain_cmd import command as explain

EXAMPLE = "examples/admin-tiers"


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


def run(*args: str) -> Result:
    return CliRunner().invoke(explain, [EXAMPLE, *args], catch_exceptions=False)


def test_a_denied_scrape_names_the_deciding_rule_and_the_rule_that_did_not_match() -> None:
    out = run("--from", "monitoring/prometheus-deploy", "--to", "app1-ns/db-sts:3306").output
    ingress = out[out.index("  Ingress to") :]
    assert (
        'decision: [AdminNetworkPolicy app1-boundary ingress[1] "other-namespaces"] Deny' in ingress
    )
    assert "rules that did not match (in evaluation order):" in ingress
    assert (
        '[AdminNetworkPolicy app1-boundary ingress[0] "same-app"] Pass: namespaces app=app1 '
        "does not match namespace monitoring" in ingress
    )


def test_rules_that_do_not_cover_the_asked_port_are_not_listed() -> None:
    """The metrics rules (named port `metrics`) say nothing about 3306."""
    out = run("--from", "monitoring/prometheus-deploy", "--to", "app1-ns/db-sts:3306").output
    assert "monitoring-scrapes-metrics" not in out


def test_json_carries_decisions_and_the_rules_that_did_not_match() -> None:
    args = ("--from", "monitoring/prometheus-deploy", "--to", "app1-ns/db-sts:3306", "-o", "json")
    [flow] = json.loads(run(*args).output)["flows"]
    ingress = flow["ingress"]
    assert [d["action"] for d in ingress["decisions"]][-1] == "Deny"
    same_app = next(m for m in ingress["notMatched"] if m["rule"]["name"] == "same-app")
    assert same_app["rule"]["policy"] == "AdminNetworkPolicy/app1-boundary"
    assert same_app["action"] == "Pass"
    assert "does not match namespace monitoring" in same_app["reason"]
