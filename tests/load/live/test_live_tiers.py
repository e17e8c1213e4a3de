"""Live mode reads the tiered kinds where the cluster serves them: the Network Policy API's
admin and baseline policies, Calico's tiers and policies (its API server, else its CRDs,
never both) and ServiceAccounts; a kind not served is nothing, a refused one is a note."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from netpol.cli.explain_cmd import command as explain
from netpol.load.live import LiveTarget, connect, read_cluster
from netpol.load.live.listing import ADMIN_POLICIES, list_items
from netpol.model.options import Options
from netpol.validate.pipeline import check_and_build, load_cluster

from .compare import sourceless
from .fake_apiserver import FIXTURES, FakeApiServer, serve

TIERS = FIXTURES / "tiers"
MANIFESTS = [
    *(str(p) for p in sorted((FIXTURES / "tutorial").glob("*.json")) if p.stem != "version"),
    *(str(TIERS / f"{n}.json") for n in ("adminnetworkpolicies", "baselineadminnetworkpolicies")),
    *(str(TIERS / f"{n}.json") for n in ("calico-v3", "serviceaccounts")),
]
RBAC = "netpol needs get and list on them (docs/rbac/netpol-reader.yaml)"
DNS = ("--from", "app1-ns/db-sts", "--to", "kube-dns.kube-system:53/UDP")
IGNORED = "verdicts ignore them, and any the cluster has can change what is allowed"


@pytest.fixture
def tiered() -> Iterator[FakeApiServer]:
    """The tutorial's cluster with admin policies, Calico (API server and CRDs) and SAs."""
    with serve(FakeApiServer.from_fixtures("tutorial", "tiers")) as server:
        yield server


@pytest.fixture
def config(tiered: FakeApiServer, tmp_path: Path) -> str:
    return str(tiered.kubeconfig(tmp_path / "kubeconfig"))


def kinds(objects: tuple[dict[str, object], ...]) -> Counter[tuple[object, object]]:
    return Counter((o["apiVersion"], o["kind"]) for o in objects)


def test_every_tiered_kind_the_cluster_serves_is_read_and_calico_once(
    tiered: FakeApiServer, config: str
) -> None:
    live = read_cluster(LiveTarget(config))
    counted = kinds(live.objects)
    assert {k: n for k, n in counted.items() if k[0] != "v1" or k[1] == "ServiceAccount"} == {
        ("networking.k8s.io/v1", "NetworkPolicy"): 3,
        ("v1", "ServiceAccount"): 11,
        ("policy.networking.k8s.io/v1alpha1", "AdminNetworkPolicy"): 3,
        ("policy.networking.k8s.io/v1alpha1", "BaselineAdminNetworkPolicy"): 1,
        ("projectcalico.org/v3", "Tier"): 2,
        ("projectcalico.org/v3", "GlobalNetworkPolicy"): 1,
        ("projectcalico.org/v3", "NetworkPolicy"): 1,
    }
    assert live.notes == ()
    assert tiered.verbs() == {"GET"}
    # the API server answered: the CRDs that store the same objects are not read as well
    assert not any("crd.projectcalico.org" in r.path for r in tiered.requests)
    assert not any(r.path.endswith("/secrets") for r in tiered.requests)
    result = check_and_build(live.documents(), [], Options())
    assert result.ok and result.warnings == ()
    cluster = result.cluster
    assert sorted((p.kind, p.namespace, p.name) for p in cluster.tiered_policies) == [
        ("AdminNetworkPolicy", None, "app1-boundary"),
        ("AdminNetworkPolicy", None, "cluster-dns"),
        ("AdminNetworkPolicy", None, "coredns-serves-every-pod"),
        ("BaselineAdminNetworkPolicy", None, "default"),
        ("GlobalNetworkPolicy", None, "security.db-no-internet"),
        ("NetworkPolicy", "app1-ns", "db-ingress-log"),
    ]
    assert [(t.name, t.order, t.default_action) for t in cluster.tiers] == [
        ("default", 1_000_000, "Deny"),
        ("security", 100, "Pass"),
    ]
    accounts = {a.id: a.labels for a in cluster.service_accounts}
    assert len(accounts) == 11
    assert accounts["app1-ns/db-admin"] == {"netpol.example.com/untrusted": ""}


def test_the_live_cluster_with_tiers_is_the_cluster_its_manifests_describe(config: str) -> None:
    from_api = check_and_build(read_cluster(LiveTarget(config)).documents(), [], Options())
    from_files = load_cluster(MANIFESTS, Options())
    assert from_api.ok and from_files.ok, [d.one_line() for d in from_files.errors]
    for kind in ("tiered_policies", "tiers", "service_accounts", "policies", "pods"):
        assert sourceless(getattr(from_api.cluster, kind)) == sourceless(
            getattr(from_files.cluster, kind)
        ), kind
    assert len(from_api.cluster.tiered_policies) == 6


def test_without_the_crds_live_mode_reads_what_it_read_before(
    apiserver: FakeApiServer, kubeconfig: str
) -> None:
    """The tutorial's KIND cluster has no admin policy CRDs and no Calico: 404s, silently."""
    live = read_cluster(LiveTarget(kubeconfig))
    assert live.notes == ()
    assert {k for k in kinds(live.objects) if k[1] != "ServiceAccount"} == {
        ("v1", "Namespace"),
        ("v1", "Node"),
        ("v1", "Pod"),
        ("v1", "Service"),
        ("networking.k8s.io/v1", "NetworkPolicy"),
    }
    cluster = check_and_build(live.documents(), [], Options()).cluster
    assert (cluster.tiered_policies, cluster.tiers) == ((), ())
    tried = {r.path for r in apiserver.requests if r.path.startswith("/apis/")}
    assert {
        "/apis/policy.networking.k8s.io/v1alpha1/adminnetworkpolicies",
        "/apis/policy.networking.k8s.io/v1alpha2/clusternetworkpolicies",
        "/apis/projectcalico.org/v3/tiers",
        "/apis/crd.projectcalico.org/v1/tiers",
    } <= tried


def test_a_refused_admin_policy_list_is_a_note_and_the_rest_is_evaluated(
    tiered: FakeApiServer, config: str
) -> None:
    tiered.forbidden.add(("list", "adminnetworkpolicies"))
    live = read_cluster(LiveTarget(config))
    assert live.notes == (
        f"list adminnetworkpolicies.policy.networking.k8s.io refused (403 Forbidden): "
        f"{IGNORED}; {RBAC}",
    )
    cluster = check_and_build(live.documents(), [], Options()).cluster
    assert {p.kind for p in cluster.tiered_policies} == {
        "BaselineAdminNetworkPolicy",
        "GlobalNetworkPolicy",
        "NetworkPolicy",
    }
    # the user sees the note, and a verdict the baseline decides without the admin tier
    lines, stderr = explained("--kubeconfig", config, *DNS)
    assert (
        "note: list adminnetworkpolicies.policy.networking.k8s.io refused (403 Forbidden): "
        f"{IGNORED}; {RBAC}"
    ) in stderr.splitlines()
    assert (
        '    decision: [BaselineAdminNetworkPolicy default ingress[0] "deny-from-pods"] Deny'
        in (lines)
    )


def test_calico_is_read_from_its_crds_when_its_api_server_is_absent(
    tiered: FakeApiServer, config: str
) -> None:
    tiered.uninstall("projectcalico.org")
    live = read_cluster(LiveTarget(config))
    assert live.notes == ()
    calico = {k: n for k, n in kinds(live.objects).items() if "projectcalico" in str(k[0])}
    assert calico == {
        ("crd.projectcalico.org/v1", "Tier"): 2,
        ("crd.projectcalico.org/v1", "GlobalNetworkPolicy"): 1,
        ("crd.projectcalico.org/v1", "NetworkPolicy"): 1,
    }
    cluster = check_and_build(live.documents(), [], Options()).cluster
    assert {p.api_version for p in cluster.tiered_policies if "calico" in p.api_version} == {
        "crd.projectcalico.org/v1"
    }
    assert [t.name for t in cluster.tiers] == ["default", "security"]


def test_a_namespaced_reader_reads_calico_policies_and_accounts_per_namespace(
    tiered: FakeApiServer, config: str
) -> None:
    cluster_scoped = ("adminnetworkpolicies", "baselineadminnetworkpolicies", "tiers")
    tiered.forbidden |= {("list", r) for r in (*cluster_scoped, "globalnetworkpolicies")}
    live = read_cluster(LiveTarget(config, namespaces=("app1-ns",)))
    assert live.notes[1:] == (
        f"list adminnetworkpolicies.policy.networking.k8s.io refused (403 Forbidden): "
        f"{IGNORED}; {RBAC}",
        "list baselineadminnetworkpolicies.policy.networking.k8s.io refused (403 Forbidden): "
        f"{IGNORED}; {RBAC}",
        "list tiers.projectcalico.org refused (403 Forbidden): Calico's policies are placed as "
        f"in tiers with no order, after every other tier; {RBAC}",
        f"list globalnetworkpolicies.projectcalico.org refused (403 Forbidden): {IGNORED}; {RBAC}",
    )
    paths = {r.path for r in tiered.requests}
    assert "/apis/projectcalico.org/v3/namespaces/app1-ns/networkpolicies" in paths
    assert "/api/v1/namespaces/app1-ns/serviceaccounts" in paths
    assert not any("crd.projectcalico.org" in p for p in paths)
    calico = [o["metadata"]["name"] for o in live.objects if "projectcalico" in o["apiVersion"]]
    accounts = sorted(o["metadata"]["name"] for o in live.objects if o["kind"] == "ServiceAccount")
    assert (calico, accounts) == (["db-ingress-log"], ["db-admin", "default"])


def test_a_custom_list_is_paginated_and_restarts_when_its_token_expires(
    tiered: FakeApiServer, config: str
) -> None:
    tiered.expire_continue = 1
    conn = connect(LiveTarget(config, page_size=1))
    seen: list[tuple[str, int, bool]] = []
    items = list_items(conn, ADMIN_POLICIES[0], progress=lambda *a: seen.append(a))
    assert [i["metadata"]["name"] for i in items] == [
        "cluster-dns",
        "coredns-serves-every-pod",
        "app1-boundary",
    ]
    pages = [r.query for r in tiered.requests if r.path.endswith("/adminnetworkpolicies")]
    assert [q.get("limit") for q in pages] == ["1"] * 5
    assert [bool(q.get("continue")) for q in pages] == [False, True, False, True, True]
    assert seen[-1] == ("adminnetworkpolicies.policy.networking.k8s.io", 3, True)


def explained(*args: str) -> tuple[list[str], str]:
    """``netpol explain ARGS``: its stdout lines and its stderr, after checking it exits 0."""
    result = CliRunner().invoke(explain, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines(), result.stderr


def test_explain_live_shows_the_admin_decision_chain(
    tiered: FakeApiServer, config: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", config)
    lines, _ = explained("--live", "--from", "app1-ns/frontend-deploy", "--to", "backend-svc:5678")
    # the tutorial's Step 4 mistake (backend-policy allows role=web) is still in the cluster
    assert lines[0].endswith("port 5678/TCP: DENIED")
    assert (
        '    decision: [AdminNetworkPolicy app1-boundary ingress[0] "same-app"] Pass -> '
        "[NetworkPolicy app1-ns/backend-policy] Deny (no rule matched)"
    ) in lines
    lines, stderr = explained("--live", *DNS)
    assert lines[0].endswith("port 53/UDP: ALLOWED")
    assert '    decision: [AdminNetworkPolicy cluster-dns egress[0] "to-coredns"] Allow' in lines
    assert "note:" not in stderr
