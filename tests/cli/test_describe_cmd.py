"""``netpol describe policy|pod``: the object in plain words, with the cluster in view."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from tests.conftest import without_addon_note

from netpol.cli.describe_cmd import command
from netpol.model.options import Options
from netpol.validate.pipeline import load_cluster

REPO = Path(__file__).resolve().parents[2]


@cache
def pods(workload: str, example: str = "three-tier") -> tuple[str, ...]:
    """The pod ids of ``workload`` (NS/NAME), sorted: names are deterministic, not literal here."""
    cluster = load_cluster((str(REPO / "examples" / example),), Options()).cluster
    return tuple(
        sorted(p.id for p in cluster.pods if p.workload is not None and p.workload.id == workload)
    )


def pod(workload: str, example: str = "three-tier") -> str:
    [only] = pods(workload, example)
    return only


BACKEND, FRONTEND = pod("app1-ns/backend-deploy"), pod("app1-ns/frontend-deploy")
DNS_A, DNS_B = pods("kube-system/coredns")


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    # Paths are given relative to the repository, as a user would, so Source: lines are stable.
    monkeypatch.chdir(REPO)


def run(*args: str) -> Result:
    return CliRunner().invoke(command, list(args), catch_exceptions=False)


def ok(*args: str) -> list[str]:
    result = run(*args)
    assert (result.exit_code, without_addon_note(result.stderr)) == (0, "")
    return result.stdout.splitlines()


def test_policy_as_published_flags_the_peer_that_matches_no_pod() -> None:
    lines = ok("policy", "backend-policy", "-n", "app1-ns", "examples/tutorial")

    assert lines[:6] == [
        "Name:         backend-policy",
        "Namespace:    app1-ns",
        "Source:       examples/tutorial/05-revised-backend-netpol.yaml:1",
        "PodSelector:  app=app1,role=backend (in app1-ns)",
        f"Selects:      1 pod(s): {pod('app1-ns/backend-deploy', 'tutorial')}",
        "PolicyTypes:  Ingress, Egress",
    ]
    assert lines[6:9] == [
        "Ingress: isolates the selected pods; allowed only:",
        "  [0] allow from these peers on 5678/TCP",
        "      - podSelector app=app1,role=web: matches NO pod (in namespaces app1-ns) — check the labels",
    ]


def test_policy_egress_rules_in_words_with_what_each_peer_matches() -> None:
    lines = ok("policy", "app1-ns/backend-policy", "examples/three-tier")

    egress = lines.index("Egress: isolates the selected pods; allowed only:")
    assert lines[egress + 1 :] == [
        "  [0] allow to these peers on 3306/TCP",
        "      - podSelector app=app1,role=db: 1 pod(s) in namespaces app1-ns: app1-ns/db-sts-0",
        "  [1] allow to these peers on 53/UDP, 53/TCP",
        "      - namespaceSelector kubernetes.io/metadata.name=kube-system AND podSelector "
        "k8s-app=kube-dns: 2 pod(s) in namespaces kube-system: "
        f"{DNS_A}, {DNS_B}",
    ]
    # Fixed: the ingress peer now matches the frontend pod.
    assert (
        f"      - podSelector app=app1,role=frontend: 1 pod(s) in namespaces app1-ns: {FRONTEND}"
    ) in lines
    assert not [line for line in lines if "matches NO pod" in line]


def test_policy_with_an_ipblock_peer() -> None:
    lines = ok("netpol", "app1-ns/frontend-policy", "examples/three-tier")

    assert lines[lines.index("Ingress: isolates the selected pods; allowed only:") + 1 :][:2] == [
        "  [0] allow from these peers on 80/TCP",
        "      - ipBlock 0.0.0.0/0: addresses 0.0.0.0/0",
    ]


def test_policy_without_egress_rules_says_default_deny(tmp_path: Path) -> None:
    manifest = tmp_path / "deny.yaml"
    manifest.write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: deny-egress, namespace: app1-ns}\n"
        "spec: {podSelector: {}, policyTypes: [Egress]}\n"
    )

    lines = ok("policy", "app1-ns/deny-egress", "examples/three-tier", str(manifest))

    assert "Selects:      3 pod(s): " in lines[4]
    assert lines[-1] == "Egress: isolates the selected pods and allows nothing (default deny)"
    assert not [line for line in lines if line.startswith("Ingress")]


def test_pod_isolating_policies_and_whom_it_reaches() -> None:
    lines = ok("pod", "app1-ns/db-sts-0", "examples/three-tier")

    assert lines[0] == "Name:       db-sts-0"
    assert lines[1] == "Namespace:  app1-ns"
    assert re.fullmatch(r"IP:         10\.244\.\d+\.\d+", lines[2])
    assert lines[4:] == [
        "Labels:     app=app1,role=db",
        "Ingress:    isolated by app1-ns/db-policy",
        "Egress:     isolated by app1-ns/db-policy",
        "May connect to:",
        "  no pod",
        "May be reached by:",
        f"  {BACKEND}: TCP 3306",
    ]


def test_pod_by_workload_prefix_in_the_tutorial_is_reached_by_nobody() -> None:
    lines = ok("po", "backend-deploy", "-n", "app1-ns", "examples/tutorial")

    reached = lines.index("May be reached by:")
    assert lines[reached + 1 :] == ["  no pod"]
    assert lines[lines.index("May connect to:") + 1 : reached] == [
        "  app1-ns/db-sts-0: TCP 3306",
        f"  {DNS_A}: TCP 53,UDP 53",
        f"  {DNS_B}: TCP 53,UDP 53",
    ]


def test_a_workload_name_describes_its_first_pod() -> None:
    lines = ok("pod", "kube-system/coredns", "examples/three-tier")

    assert lines[0] == f"Name:       {DNS_A.split('/')[1]}"


def test_pod_that_no_policy_selects() -> None:
    lines = ok("pod", DNS_A, "examples/three-tier")

    assert "Ingress:    not isolated (everything allowed)" in lines
    assert "Egress:     not isolated (everything allowed)" in lines
    assert f"  {FRONTEND}: TCP 80" in lines  # reaches it
    assert f"  {DNS_B}: All Connections" in lines


def test_pod_under_cilium_is_not_reached_through_the_ipblock() -> None:
    lines = ok("pod", "app1-ns/frontend-deploy", "examples/three-tier", "--profile", "cilium")

    assert lines[lines.index("May be reached by:") + 1 :] == ["  no pod"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["policy", "nosuch", "-n", "app1-ns", "examples/three-tier"],
            "error: no NetworkPolicy 'nosuch' in namespace app1-ns (policies: "
            "app1-ns/backend-policy, app1-ns/db-policy, app1-ns/frontend-policy)",
            id="unknown-policy",
        ),
        pytest.param(
            ["policy", "backend-policy", "examples/three-tier"],
            "error: no NetworkPolicy 'backend-policy' in namespace default (policies: "
            "app1-ns/backend-policy, app1-ns/db-policy, app1-ns/frontend-policy)",
            id="policy-in-the-wrong-namespace",
        ),
        pytest.param(
            ["pod", "app1-ns/nosuch", "examples/three-tier"],
            "error: 'app1-ns/nosuch': no pod or workload 'nosuch' in namespace app1-ns",
            id="unknown-pod",
        ),
        pytest.param(
            ["pod", "app1-ns/db-sts-1", "examples/three-tier"],
            "error: 'app1-ns/db-sts-1': no pod or workload 'db-sts-1' in namespace app1-ns "
            "(did you mean db-sts-0, db-sts?)",
            id="a-near-name-is-offered",
        ),
        pytest.param(
            ["pod", "app1-ns/db-sts-0"],
            "error: no input: give one or more files, directories, or - for stdin",
            id="no-paths",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = run(*args)

    assert result.exit_code == 2
    assert result.stderr.splitlines() == [message]
    assert result.stdout == ""


def test_unknown_kind_is_a_usage_error() -> None:
    result = run("service", "backend-svc", "examples/three-tier")

    assert result.exit_code == 2
    assert (
        "Invalid value for 'KIND': 'service' is not one of 'adminnetworkpolicy'," in result.stderr
    )


def test_describe_takes_output_json() -> None:
    result = run("policy", "app1-ns/backend-policy", "examples/tutorial", "-o", "json")

    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["kind"] == "PolicyDescription"
    assert document["policy"] == "app1-ns/backend-policy"
    assert document["policyTypes"] == ["Ingress", "Egress"]
    web_peer = document["ingress"][0]["peers"][0]
    assert web_peer["peer"] == "podSelector app=app1,role=web"
    assert web_peer["matchesNothing"] is True
    assert document["egress"][0]["peers"][0]["pods"] == ["app1-ns/db-sts-0"]


def test_describe_pod_output_json() -> None:
    result = run("pod", "app1-ns/db-sts-0", "examples/three-tier", "-o", "json")

    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["ingressPolicies"] == ["app1-ns/db-policy"]
    assert document["reaches"] == []
    assert [r["text"] for r in document["reachedBy"]] == ["TCP 3306"]


def test_describe_pod_lists_the_admin_and_baseline_policies_in_evaluation_order() -> None:
    db = pod("app1-ns/db-sts", "admin-tiers")
    result = run("pod", db, str(REPO / "examples" / "admin-tiers"))
    assert result.exit_code == 0, result.output
    assert (
        "Egress tiers: AdminNetworkPolicy/cluster-dns (tier kube-admin), "
        "BaselineAdminNetworkPolicy/default (tier kube-baseline)" in result.output
    )
    data = json.loads(run("pod", db, str(REPO / "examples" / "admin-tiers"), "-o", "json").output)
    assert (
        data["ingressTieredPolicies"][-1]
        == "BaselineAdminNetworkPolicy/default (tier kube-baseline)"
    )
    assert data["ingressPolicies"] == ["app1-ns/db-policy"]


# -- admin, baseline and Calico policies -----------------------------------------------------

EVERY_FIELD = "tests/fixtures/tiers-every-field"


def warned_ok(*args: str) -> list[str]:
    """Like ``ok`` for the fixture, whose rules netpol cannot model warn on stderr (the
    fixture is exactly its objects: no implicit CoreDNS)."""
    result = run(*args, "--no-implicit-dns")
    assert result.exit_code == 0, result.output
    assert all(": warning: " in line for line in result.stderr.splitlines())
    return result.stdout.splitlines()


def test_admin_policy_tier_priority_selected_pods_and_rules_in_order() -> None:
    app1 = sorted(
        pod(f"app1-ns/{w}", "admin-tiers") for w in ("backend-deploy", "db-sts", "frontend-deploy")
    )
    lines = ok("anp", "app1-boundary", "examples/admin-tiers")

    assert lines[:9] == [
        "Name:         app1-boundary",
        "Kind:         AdminNetworkPolicy (policy.networking.k8s.io/v1alpha1)",
        "Source:       examples/admin-tiers/10-admin-network-policies.yaml:117",
        "Tier:         kube-admin (order 1000, default action Pass)",
        "Priority:     30",
        "Subject:      namespaces app=app1",
        f"Selects:      3 pod(s): {', '.join(app1)}",
        "Types:        Ingress",
        "Ingress: rules in order, the first that matches decides:",
    ]
    assert lines[9:11] == [
        '  [0] "same-app" Pass from these peers on any port, any protocol',
        f"      - namespaces app=app1: 3 pod(s) in namespaces app1-ns: {', '.join(app1)}",
    ]
    assert lines[11] == '  [1] "other-namespaces" Deny from these peers on any port, any protocol'
    assert lines[12].startswith(
        "      - namespaces <all>: 6 pod(s) in namespaces app1-ns, kube-system, monitoring: "
    )


def test_admin_policy_named_port_and_the_baseline_singleton() -> None:
    lines = ok("anp", "monitoring-scrapes-metrics", "examples/admin-tiers")
    assert lines[-2:] == [
        '  [0] "from-prometheus" Allow from these peers on the port named metrics',
        "      - namespaces kubernetes.io/metadata.name=monitoring AND pods app=prometheus: "
        f"1 pod(s) in namespaces monitoring: {pod('monitoring/prometheus-deploy', 'admin-tiers')}",
    ]
    baseline = ok("banp", "default", "examples/admin-tiers")
    assert baseline[3:5] == [
        "Tier:         kube-baseline (order 10000000, default action Pass)",
        "Subject:      namespaces <all>",
    ]
    assert not any(line.startswith("Priority:") for line in baseline)
    assert '  [0] "deny-to-pods" Deny to these peers on any port, any protocol' in baseline


def test_calico_policy_with_n_flags_peers_that_match_nothing() -> None:
    lines = warned_ok("cnetpol", "platform.db-access", "-n", "data", EVERY_FIELD)
    assert lines == warned_ok("cnetpol", "data/platform.db-access", EVERY_FIELD)
    assert lines[2:7] == [
        "Namespace:    data",
        "Source:       tests/fixtures/tiers-every-field/cluster.yaml:100",
        "Tier:         platform (order 200.5, default action Deny)",
        "Order:        5.5",
        "Subject:      namespace data AND pods role == 'db'",
    ]
    assert lines[9:] == [
        "Ingress: rules in order, the first that matches decides:",
        "  [0] Allow from these peers on pg/TCP, 5432/TCP",
        "      - namespaces all() AND pods app in {'web', 'api'}: 1 pod(s) in namespaces data, "
        "shop: shop/web",
        "  [1] Deny from these peers on any port, any protocol",
        "      - namespace data AND pods app ends with 'x' || (app contains 'y' && !has(z)): "
        "matches NO pod (in namespaces data) — check the labels",
        "Egress: rules in order, the first that matches decides:",
        "  [0] Deny to these peers on any port, any protocol",
        "      - namespace data AND not pods app == 'db': matches NO pod (in namespaces data) "
        "— check the labels",
    ]


def test_global_policy_rules_with_addresses_local_side_and_what_netpol_cannot_match() -> None:
    result = run("gnp", "security.quarantine", EVERY_FIELD, "--no-implicit-dns")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert "Selects:      1 pod(s): shop/web" in lines
    rule = lines.index("  [3] Allow from these peers on any port of TCP, SCTP")
    assert lines[rule + 1 : rule + 3] == [
        "      only to the selected pods matching pods !has(debug): 1 pod(s) in namespaces "
        "data, shop: shop/web",
        "      - serviceAccounts api,batch AND serviceAccounts role == 'api' AND IPv4: 1 pod(s) "
        "in namespaces data, shop: shop/web",
    ]
    assert lines[lines.index("  [0] Allow to these peers on 9000/SCTP") + 1] == (
        "      - networks 10.0.0.0/8: 2 pod(s): data/db, shop/web; and addresses outside the "
        "cluster in 10.0.0.0/8"
    )
    icmp = lines.index("  [5] Deny from anyone on no TCP, UDP or SCTP port")
    assert lines[icmp + 1] == (
        "      never matches in netpol: ICMP is not modelled (only TCP, UDP and SCTP are)"
    )


def test_admin_rule_whose_peers_netpol_cannot_evaluate() -> None:
    lines = warned_ok("anp", "nodes-and-networks", EVERY_FIELD)
    assert lines[-2:] == [
        '  [3] "to-a-domain" Allow to peers netpol cannot evaluate on any port, any protocol',
        "      never matches in netpol: its domainNames peers cannot be evaluated offline",
    ]
    assert (
        "      - nodes kubernetes.io/os=linux: 3 node(s): kind-control-plane, kind-worker, kind-worker2"
        in lines
    )


def test_calico_policy_without_rules_says_the_tier_default_decides() -> None:
    lines = warned_ok("cnetpol", "shop/default-deny", EVERY_FIELD)
    assert lines[-1] == (
        "Ingress: no rule; what no later policy of tier default decides for the selected pods "
        "gets the tier's default action (Deny)"
    )


def test_tiered_output_json() -> None:
    result = run("cnp", "admin-dns", EVERY_FIELD, "-o", "json", "--no-implicit-dns")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert {k: document[k] for k in ("kind", "policy", "tier", "order", "types", "selects")} == {
        "kind": "TieredPolicyDescription",
        "policy": "ClusterNetworkPolicy/admin-dns",
        "tier": {"name": "kube-admin", "order": 1000, "defaultAction": "Pass"},
        "order": 3.0,
        "types": ["Ingress", "Egress"],
        "selects": ["data/db", "shop/web"],
    }
    (dns,) = document["egress"]
    assert (dns["name"], dns["action"]) == ("dns", "Allow")
    assert dns["ports"] == ["53/UDP", "53-54/TCP", "SCTP (all ports)", "the port named dns"]
    (peer,) = dns["peers"]
    assert (peer["scope"], peer["pods"], peer["matchesNothing"]) == ("pods", [], True)
    assert peer["namespaces"] == []  # the fixture has no kube-system


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["anp", "nosuch", "examples/admin-tiers"],
            "error: no AdminNetworkPolicy 'nosuch' (existing: app1-boundary, cluster-dns, "
            "coredns-serves-every-pod, monitoring-scrapes-metrics, prometheus-scrapes-every-pod)",
            id="unknown-anp",
        ),
        pytest.param(
            ["cnetpol", "platform.db-access", "-n", "shop", EVERY_FIELD],
            "error: no Calico NetworkPolicy 'platform.db-access' in namespace shop "
            "(existing: shop/default-deny)",
            id="calico-policy-in-another-namespace",
        ),
        pytest.param(
            ["gnp", "x", "examples/tutorial"],
            "error: no GlobalNetworkPolicy 'x' (existing: none)",
            id="no-tiered-policies",
        ),
    ],
)
def test_unknown_tiered_policy_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == message


def test_a_short_name_means_the_only_workload_it_begins() -> None:
    """As in explain and lab exec: kube-system/core is the coredns Deployment's first pod."""
    result = run("pod", "kube-system/core", "examples/three-tier")

    assert result.exit_code == 0, result.output
    name, namespace = result.stdout.splitlines()[:2]
    assert (name.split(), namespace.split()) == (
        ["Name:", DNS_A.partition("/")[2]],
        ["Namespace:", "kube-system"],
    )
