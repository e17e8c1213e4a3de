"""examples/three-tier-cilium and examples/three-tier-cilium-pitfalls (docs/cilium.md).

Both load without a problem as a user would read them; the app's workloads are
three-tier's byte for byte, so only the policies differ; every port of a Cilium rule is a
string, as the CRD demands; each pitfall file says which trap it plants. The engine gives
the app exactly the tutorial's flows plus DNS, both expectation files pass, and the
decision chains the guide prints are the engine's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from tests.conftest import EXAMPLES, REPO

from netpol.cli.explain_cmd import command as explain
from netpol.cli.verify_cmd import command as verify
from netpol.engine.compile import compile_cluster
from netpol.engine.endpoints import pod_endpoint
from netpol.engine.ports import ConnectionSet
from netpol.engine.verdict import evaluate
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


# --- the engine on the app --------------------------------------------------------------

DNS_ANY = ConnectionSet.of("TCP", 53) | ConnectionSet.of("UDP", 53) | ConnectionSet.of("SCTP", 53)


def tier_of(labels: dict[str, str]) -> str:
    return "dns" if labels.get("k8s-app") == "kube-dns" else labels["role"]


def test_the_app_gets_the_tutorials_flows_and_dns_and_nothing_else() -> None:
    """Every ordered pod pair, compared with the exact set: the deny closes frontend -> db
    although two NetworkPolicies open it; port "53" with protocol ANY is TCP, UDP and SCTP;
    CoreDNS, which no policy selects, talks to itself only."""
    options = Options(profile=PROFILES["cilium"])
    result = load_cluster(manifests(APP), options)
    cc = compile_cluster(result.cluster, options)
    expected = {
        ("frontend", "backend"): ConnectionSet.of("TCP", 5678),
        ("backend", "db"): ConnectionSet.of("TCP", 3306),
        ("frontend", "dns"): DNS_ANY,
        ("backend", "dns"): DNS_ANY,
        ("db", "dns"): DNS_ANY,
        ("dns", "dns"): ConnectionSet.all(),
    }
    pods = cc.cluster.pods
    assert sorted(tier_of(dict(p.labels)) for p in pods) == [
        "backend",
        "db",
        "dns",
        "dns",
        "frontend",
    ]
    for src in pods:
        for dst in pods:
            if src.id == dst.id:
                continue
            pair = (tier_of(dict(src.labels)), tier_of(dict(dst.labels)))
            src_end = pod_endpoint(src, cc.profile, cc.cluster.node_by_name.get(src.node))
            dst_end = pod_endpoint(dst, cc.profile, cc.cluster.node_by_name.get(dst.node))
            allowed = evaluate(cc, src_end, dst_end).allowed
            assert allowed == expected.get(pair, ConnectionSet.none()), pair


# --- the command line, as the guide shows it ---------------------------------------------


@pytest.fixture
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


def run(command: object, *args: str) -> Result:
    return CliRunner().invoke(command, list(args), catch_exceptions=False)  # type: ignore[arg-type]


@pytest.mark.usefixtures("_in_repo")
@pytest.mark.parametrize(
    ("example", "summary"),
    [
        ("three-tier-cilium", "PASS: 16 passed, 0 failed, 0 errors"),
        ("three-tier-cilium-pitfalls", "PASS: 9 passed, 0 failed, 0 errors"),
    ],
)
def test_the_expectations_pass(example: str, summary: str) -> None:
    folder = f"examples/{example}"
    result = run(verify, folder, "--expect", f"{folder}/expectations.yaml")
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.output
    assert result.output.rstrip().endswith(summary)


def decision(output: str, side: str) -> str:
    """The ``decision:`` line under the first side heading that starts with ``side``."""
    lines = output.splitlines()
    heads = [i for i, line in enumerate(lines) if line.strip().startswith(side)]
    assert heads, output
    line = lines[heads[0] + 1].strip()
    assert line.startswith("decision: "), output
    return line.removeprefix("decision: ")


@pytest.mark.usefixtures("_in_repo")
@pytest.mark.parametrize(
    ("example", "src", "dst", "side", "chain"),
    [
        pytest.param(
            "three-tier-cilium",
            "app1-ns/frontend-deploy",
            "db-sts-0.db-svc.app1-ns.svc.cluster.local:3306",
            "Egress from app1-ns/frontend-deploy",
            "[NetworkPolicy app1-ns/frontend-to-db egress[0]] Allow",
            id="the-networkpolicy-opens-the-frontends-egress",
        ),
        pytest.param(
            "three-tier-cilium",
            "app1-ns/frontend-deploy",
            "db-sts-0.db-svc.app1-ns.svc.cluster.local:3306",
            "Ingress to app1-ns/db-sts-0",
            "[CiliumNetworkPolicy app1-ns/db-deny-frontend ingressDeny[0]] Deny"
            " beats [NetworkPolicy app1-ns/db-from-frontend ingress[0]] Allow",
            id="the-cilium-deny-closes-the-databases-ingress",
        ),
        pytest.param(
            "three-tier-cilium",
            "app1-ns/db-sts",
            "kube-dns.kube-system:53/UDP",
            "Egress from app1-ns/db-sts-0",
            "[CiliumClusterwideNetworkPolicy dns-through-the-proxy egress[0]] Allow"
            " (L7-filtered (dns))",
            id="dns-through-the-proxy-is-allowed-at-l4",
        ),
        pytest.param(
            "three-tier-cilium",
            "kube-system/coredns",
            "app1-ns/frontend-deploy:80",
            "Ingress to app1-ns/frontend-deploy",
            "[CiliumNetworkPolicy app1-ns/frontend] Deny (no rule matched)",
            id="the-world-entity-is-no-pod",
        ),
        pytest.param(
            "three-tier-cilium-pitfalls",
            "203.0.113.7",
            "app1-ns/frontend-deploy:80",
            "Ingress to app1-ns/frontend-deploy",
            "[CiliumNetworkPolicy app1-ns/frontend-open-to-all] Deny (no rule matched)",
            id="the-empty-rule-denies",
        ),
        pytest.param(
            "three-tier-cilium-pitfalls",
            "app1-ns/backend-deploy",
            "db-sts-0.db-svc.app1-ns.svc.cluster.local:3306",
            "Ingress to app1-ns/db-sts-0",
            "[CiliumNetworkPolicy app1-ns/db-backend-only ingressDeny[0]] Deny"
            " beats [CiliumNetworkPolicy app1-ns/db-backend-only ingress[0]] Allow",
            id="the-deny-shadows-the-allow",
        ),
    ],
)
def test_decision_chains_as_the_guide_prints_them(
    example: str, src: str, dst: str, side: str, chain: str
) -> None:
    result = run(explain, f"examples/{example}", "--from", src, "--to", dst)
    assert result.exit_code == 0, result.output
    assert decision(result.output, side) == chain


@pytest.mark.usefixtures("_in_repo")
def test_a_tofqdns_rule_without_a_map_depends_on_dns() -> None:
    result = run(
        explain,
        "examples/three-tier-cilium-pitfalls",
        "--from",
        "app1-ns/reports-deploy",
        "--to",
        "198.51.100.25:587",
    )
    assert "DENIED" in result.output.splitlines()[0]
    assert (
        "[CiliumNetworkPolicy app1-ns/reports-mail egress[0]] Allow: toFQDNs smtp.example.com"
        " depends on DNS: netpol cannot resolve it offline (give --fqdn-map)"
    ) in result.output
