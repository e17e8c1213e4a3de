"""Explanations with tiered policies: the decision chain, then the admin rules that did not
match and why (only those that cover the asked port), in text and in JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from tests.analysis.test_lint_tiers import HOST_AGENT
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


def explain_client(tmp_path: Path, text: str, to: str) -> str:
    """``netpol explain`` from default/client to ``to`` in the cluster ``text``."""
    path = tmp_path / "cluster.yaml"
    path.write_text(text)
    args = [str(path), "--from", "default/client", "--to", to]
    return CliRunner().invoke(explain, args, catch_exceptions=False).output


CLIENT = """---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: default, labels: {app: client}}
spec:
  containers: [{name: c, image: c}]
status: {podIP: 10.244.0.5}
"""
AGENT_WEB_RULE = """---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: to-agents}
spec:
  priority: 10
  subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: client}}}}
  egress:
    - name: agent-web
      action: Allow
      to: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: agent}}}}]
      ports: [{namedPort: web}]
"""


def test_a_named_port_rule_is_not_listed_for_a_host_network_pods_port(tmp_path: Path) -> None:
    """The agent is its node's traffic: the engine resolves no named port there, so the
    rule naming `web` covers nothing towards it and is not offered as a near miss on 8080."""
    out = explain_client(tmp_path, HOST_AGENT + CLIENT + AGENT_WEB_RULE, "kube-system/agent:8080")
    assert "Egress from default/client" in out
    assert "agent-web" not in out


WEB_DENY_ALL_INGRESS = """---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default, labels: {app: web}}
spec:
  containers: [{name: c, image: c, ports: [{containerPort: 80}]}]
status: {podIP: 10.244.0.6}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-ingress, namespace: default}
spec:
  podSelector: {}
  policyTypes: [Ingress]
"""
CLIENT_PASSES = """---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: client-out}
spec:
  priority: 10
  subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: client}}}}
  egress:
    - {name: all, action: Pass, to: [{namespaces: {}}]}
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            CLIENT + WEB_DENY_ALL_INGRESS,
            "  the isolating policies have no rule for this direction: everything denied",
            id="without-tiers",
        ),
        pytest.param(
            CLIENT + WEB_DENY_ALL_INGRESS + CLIENT_PASSES,
            "  the isolating policies have no rule for this direction\n",
            id="in-a-decision-chain",
        ),
    ],
)
def test_an_isolating_policy_without_rules_is_said_so(
    tmp_path: Path, text: str, expected: str
) -> None:
    out = explain_client(tmp_path, text, "default/web:80")
    ingress = out[out.index("  Ingress to") :]
    assert "isolated by: default/deny-ingress" in ingress
    assert expected in ingress
