"""Live mode reads Cilium's policies and CIDR groups where the cluster serves them (its
CRDs, cilium.io), read-only and through the same bounded listing as every other kind: a
cluster without Cilium answers 404, silently; a refused list is one note, and the rest
is read."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from netpol.cli.main import cli
from netpol.load.live import LiveError, LiveTarget, connect, read_cluster
from netpol.load.live.listing import CILIUM_POLICIES, list_items
from netpol.model.options import Options
from netpol.validate.pipeline import check_and_build, load_cluster

from .compare import sourceless
from .fake_apiserver import FIXTURES, TOKEN, FakeApiServer, serve

TUTORIAL = [str(p) for p in sorted((FIXTURES / "tutorial").glob("*.json")) if p.stem != "version"]
CILIUM_FILES = [str(p) for p in sorted((FIXTURES / "cilium").glob("*.json"))]
RBAC = "netpol needs get and list on them (docs/rbac/netpol-reader.yaml)"
IGNORED = "verdicts ignore them, and any the cluster has can change what is allowed"
CNP_PATH = "/apis/cilium.io/v2/ciliumnetworkpolicies"
CCNP_PATH = "/apis/cilium.io/v2/ciliumclusterwidenetworkpolicies"
GROUPS_ALPHA = "/apis/cilium.io/v2alpha1/ciliumcidrgroups"
GROUPS_V2 = "/apis/cilium.io/v2/ciliumcidrgroups"


@pytest.fixture
def cilium() -> Iterator[FakeApiServer]:
    """The tutorial's cluster with Cilium's CRDs and the objects of tests/fixtures/cilium."""
    with serve(FakeApiServer.from_fixtures("tutorial", "cilium")) as server:
        yield server


@pytest.fixture
def config(cilium: FakeApiServer, tmp_path: Path) -> str:
    return str(cilium.kubeconfig(tmp_path / "kubeconfig"))


def cilium_kinds(objects: tuple[dict[str, object], ...]) -> Counter[tuple[object, object]]:
    return Counter(
        (o["apiVersion"], o["kind"]) for o in objects if "cilium.io" in str(o["apiVersion"])
    )


def paths(server: FakeApiServer) -> set[str]:
    return {r.path for r in server.requests}


def test_cilium_policies_and_cidr_groups_are_read_as_custom_objects(
    cilium: FakeApiServer, config: str
) -> None:
    live = read_cluster(LiveTarget(config))
    assert cilium_kinds(live.objects) == {
        ("cilium.io/v2", "CiliumNetworkPolicy"): 2,
        ("cilium.io/v2", "CiliumClusterwideNetworkPolicy"): 2,
        ("cilium.io/v2alpha1", "CiliumCIDRGroup"): 1,
    }
    assert live.notes == ()
    assert cilium.verbs() == {"GET"}
    # v2alpha1 answered: the same groups are not read again as v2
    assert {CNP_PATH, CCNP_PATH, GROUPS_ALPHA} <= paths(cilium)
    assert GROUPS_V2 not in paths(cilium)
    result = check_and_build(live.documents(), [], Options())
    assert result.ok and result.warnings == (), [d.one_line() for d in result.diagnostics]
    cluster = result.cluster
    assert [p.id for p in cluster.cilium_policies] == [
        "CiliumClusterwideNetworkPolicy/cluster-dns",
        "CiliumClusterwideNetworkPolicy/no-metadata-server",
        "CiliumNetworkPolicy/app1-ns/backend-l7",
        "CiliumNetworkPolicy/app1-ns/db",
    ]
    assert [(g.name, g.labels, tuple(map(str, g.cidrs))) for g in cluster.cidr_groups] == [
        ("partners", (("team", "partners"),), ("203.0.113.0/24", "198.51.100.0/24"))
    ]


def test_the_live_cilium_policies_are_those_their_manifests_describe(config: str) -> None:
    from_api = check_and_build(read_cluster(LiveTarget(config)).documents(), [], Options())
    from_files = load_cluster([*TUTORIAL, *CILIUM_FILES], Options())
    assert from_api.ok and from_files.ok, [d.one_line() for d in from_files.errors]
    for kind in ("cilium_policies", "cidr_groups"):
        assert sourceless(getattr(from_api.cluster, kind)) == sourceless(
            getattr(from_files.cluster, kind)
        ), kind
    db = next(p for p in from_api.cluster.cilium_policies if p.name == "db")
    assert [r.path for r in db.rules] == ["specs[0]", "specs[1]"]


def test_cidr_groups_served_only_as_v2_are_read_from_v2(cilium: FakeApiServer, config: str) -> None:
    alpha = cilium.objects.pop("ciliumcidrgroups.cilium.io")  # a release without v2alpha1
    cilium.objects["ciliumcidrgroups.v2.cilium.io"] = [
        {**g, "apiVersion": "cilium.io/v2"} for g in alpha
    ]
    live = read_cluster(LiveTarget(config))
    assert cilium_kinds(live.objects)[("cilium.io/v2", "CiliumCIDRGroup")] == 1
    assert live.notes == ()
    assert {GROUPS_ALPHA, GROUPS_V2} <= paths(cilium)  # v2alpha1 first (404), then v2
    cluster = check_and_build(live.documents(), [], Options()).cluster
    assert [g.name for g in cluster.cidr_groups] == ["partners"]


def test_without_cilium_the_crds_answer_404_and_nothing_is_said(
    apiserver: FakeApiServer, kubeconfig: str
) -> None:
    live = read_cluster(LiveTarget(kubeconfig))
    assert live.notes == ()
    assert cilium_kinds(live.objects) == {}
    assert {CNP_PATH, CCNP_PATH, GROUPS_ALPHA, GROUPS_V2} <= paths(apiserver)
    cluster = check_and_build(live.documents(), [], Options()).cluster
    assert (cluster.cilium_policies, cluster.cidr_groups) == ((), ())


def test_a_refused_cilium_list_is_a_note_and_the_rest_is_read(
    cilium: FakeApiServer, config: str
) -> None:
    cilium.forbidden |= {("list", "ciliumnetworkpolicies"), ("list", "ciliumcidrgroups")}
    live = read_cluster(LiveTarget(config))
    assert live.notes == (
        f"list ciliumnetworkpolicies.cilium.io refused (403 Forbidden): {IGNORED}; {RBAC}",
        "list ciliumcidrgroups.cilium.io refused (403 Forbidden): Cilium rules that name "
        f"CIDR groups match no address; {RBAC}",
    )
    assert cilium_kinds(live.objects) == {("cilium.io/v2", "CiliumClusterwideNetworkPolicy"): 2}
    cluster = check_and_build(live.documents(), [], Options()).cluster
    assert [p.name for p in cluster.cilium_policies] == ["cluster-dns", "no-metadata-server"]
    assert (len(cluster.pods), len(cluster.policies)) == (16, 3)  # the rest is all there


def test_a_namespaced_reader_lists_cilium_policies_per_namespace(
    cilium: FakeApiServer, config: str
) -> None:
    cilium.forbidden |= {("list", "ciliumclusterwidenetworkpolicies")}
    live = read_cluster(LiveTarget(config, namespaces=("app1-ns",)))
    assert (
        "list ciliumclusterwidenetworkpolicies.cilium.io refused (403 Forbidden): "
        f"{IGNORED}; {RBAC}"
    ) in live.notes
    assert "/apis/cilium.io/v2/namespaces/app1-ns/ciliumnetworkpolicies" in paths(cilium)
    assert CNP_PATH not in paths(cilium)
    names = sorted(o["metadata"]["name"] for o in live.objects if o["kind"].startswith("Cilium"))
    assert names == ["backend-l7", "db", "partners"]


def test_a_cilium_list_is_paginated_like_every_list(cilium: FakeApiServer, config: str) -> None:
    conn = connect(LiveTarget(config, page_size=1))
    seen: list[tuple[str, int, bool]] = []
    items = list_items(conn, CILIUM_POLICIES[1], progress=lambda *a: seen.append(a))
    assert [i["metadata"]["name"] for i in items] == ["cluster-dns", "no-metadata-server"]
    assert [r.query.get("limit") for r in cilium.requests if r.path == CCNP_PATH] == ["1", "1"]
    assert seen[-1] == ("ciliumclusterwidenetworkpolicies.cilium.io", 2, True)


@pytest.mark.parametrize(
    ("mode", "said"),
    [
        (
            "echoed-token",
            "failed to list ciliumnetworkpolicies.cilium.io (500 Internal Server "
            "Error): bad request from Bearer ***",
        ),
        (
            "endless-continue",
            "kept paging list ciliumnetworkpolicies.cilium.io: stopped after "
            "3 pages of 500, more than any cluster needs",
        ),
        (
            "huge-body",
            "answered list ciliumnetworkpolicies.cilium.io with more than 1MiB "
            "(--max-input-size 1MiB)",
        ),
    ],
)
def test_a_misbehaving_cilium_list_fails_the_read_in_one_line(
    cilium: FakeApiServer, config: str, mode: str, said: str
) -> None:
    """Not "not installed": the read fails as it does for any kind, within the same
    bounds (pages, size), and what the server says comes back with the token masked."""
    cilium.hostile, cilium.hostile_on = mode, "ciliumnetworkpolicies"
    with pytest.raises(LiveError) as caught:
        read_cluster(LiveTarget(config, max_pages=3, max_response_bytes=1 << 20))
    assert str(caught.value) == f"the API server at {cilium.url} {said}"
    assert TOKEN not in str(caught.value)


def test_get_and_describe_read_cilium_policies_live(config: str) -> None:
    def netpol(*args: str) -> list[str]:
        result = CliRunner().invoke(cli, [*args, "--kubeconfig", config], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.stdout.splitlines()

    assert netpol("get", "cnp", "-n", "app1-ns", "-o", "name") == [
        "ciliumnetworkpolicy.cilium.io/backend-l7",
        "ciliumnetworkpolicy.cilium.io/db",
    ]
    assert [line.split()[:2] for line in netpol("get", "ccg")] == [
        ["NAME", "CIDRS"],
        ["partners", "203.0.113.0/24,"],
    ]
    described = netpol("describe", "cnp", "app1-ns/backend-l7")
    assert described[3] == "Source:       live"
    assert "  Selects:    1 pod(s): app1-ns/backend-deploy-5c694bf5fc-6vgxk" in described
