"""Live mode reads a cluster through the real kubernetes client: what it lists, how, and the
cluster it builds, which must be the one the same objects give as manifests."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from netpol.load.live import LiveTarget, connect, read_cluster
from netpol.load.live import client as live_client
from netpol.model.options import Options
from netpol.model.source import GENERATED
from netpol.validate.pipeline import check_and_build, load_cluster

from .fake_apiserver import FIXTURES, FakeApiServer, serve

TUTORIAL = FIXTURES / "tutorial"
MANIFESTS = [
    str(TUTORIAL / f"{n}.json")
    for n in ("namespaces", "nodes", "pods", "services", "networkpolicies")
]


def test_every_modelled_kind_is_listed_read_only_and_page_by_page(
    apiserver: FakeApiServer, kubeconfig: str
) -> None:
    seen: list[tuple[str, int, bool]] = []
    live = read_cluster(LiveTarget(kubeconfig, page_size=4), lambda *a: seen.append(a))
    kinds = [o["kind"] for o in live.objects]
    assert {k: kinds.count(k) for k in set(kinds)} == {
        "Namespace": 6,
        "Node": 3,
        "Pod": 16,
        "Service": 5,
        "NetworkPolicy": 3,
    }
    assert len(live.daemonsets) == 2
    assert live.version == "v1.29.2"
    assert apiserver.verbs() == {"GET"}
    pod_pages = [r.query for r in apiserver.requests if r.path == "/api/v1/pods"]
    assert [q.get("limit") for q in pod_pages] == ["4"] * 4
    assert [bool(q.get("continue")) for q in pod_pages] == [False, True, True, True]
    assert ("pods", 16, True) in seen and ("pods", 4, False) in seen
    assert not any(r.path.endswith("/secrets") for r in apiserver.requests)


def test_items_come_back_as_kubectl_prints_them(kubeconfig: str) -> None:
    live = read_cluster(LiveTarget(kubeconfig))
    pod = next(o for o in live.objects if o["metadata"]["name"] == "db-sts-0")
    assert list(pod)[:2] == ["apiVersion", "kind"]
    assert (pod["apiVersion"], pod["kind"]) == ("v1", "Pod")
    assert "managedFields" not in pod["metadata"]
    policy = next(o for o in live.objects if o["kind"] == "NetworkPolicy")
    assert policy["apiVersion"] == "networking.k8s.io/v1"
    document = live.documents()[0]
    assert (document.path, document.line) == ("live", 0)


def test_live_cluster_is_the_cluster_its_manifests_describe(kubeconfig: str) -> None:
    live = read_cluster(LiveTarget(kubeconfig))
    from_api = check_and_build(live.documents(), [], Options())
    from_files = load_cluster(MANIFESTS, Options())
    assert from_api.ok and from_files.ok, [d.one_line() for d in from_api.errors]
    for kind in ("pods", "workloads", "services", "policies", "nodes", "namespaces"):
        assert _sourceless(getattr(from_api.cluster, kind)) == _sourceless(
            getattr(from_files.cluster, kind)
        ), kind
    assert {p.source.path for p in from_api.cluster.pods} == {"live"}


def _sourceless(objects: tuple[object, ...]) -> list[object]:
    """The objects without where they came from (``live`` against ``file:line``)."""
    return [replace(o, source=GENERATED) for o in objects]  # type: ignore[type-var]


def test_running_pods_are_the_truth_with_their_ips_nodes_and_owners(kubeconfig: str) -> None:
    live = read_cluster(LiveTarget(kubeconfig))
    cluster = check_and_build(live.documents(), [], Options()).cluster
    pods = {p.name: p for p in cluster.pods}
    assert len(pods) == 16  # no controller was expanded into invented pods
    backend = pods["backend-deploy-5c694bf5fc-6vgxk"]
    assert (backend.ips, backend.node) == (("10.244.1.2",), "kind-worker")
    assert backend.workload is not None
    assert (backend.workload.kind, backend.workload.name) == ("Deployment", "backend-deploy")
    db = pods["db-sts-0"]
    assert db.workload is not None and db.workload.kind == "StatefulSet"
    assert (db.hostname, db.subdomain) == ("db-sts-0", "db-svc")
    kindnet = pods["kindnet-7hzfd"]
    assert kindnet.host_network and kindnet.ips == ("172.18.0.3",)
    assert kindnet.workload is not None and kindnet.workload.kind == "DaemonSet"
    assert {n.name: n.ips for n in cluster.nodes}["kind-worker2"] == ("172.18.0.4",)


def test_a_namespaced_reader_reads_its_namespaces_and_does_without_nodes(
    apiserver: FakeApiServer, kubeconfig: str
) -> None:
    apiserver.forbidden |= {("list", "nodes"), ("list", "namespaces")}
    live = read_cluster(LiveTarget(kubeconfig, namespaces=("app1-ns",)))
    assert {o["metadata"].get("namespace") for o in live.objects if o["kind"] == "Pod"} == {
        "app1-ns"
    }
    assert [o["metadata"]["name"] for o in live.objects if o["kind"] == "Namespace"] == ["app1-ns"]
    assert live.notes == (
        "only namespaces app1-ns were read: flows to and from other namespaces are not modelled",
        "nodes not read (403); going on without them",
    )
    # kube-system's pods are read for CNI detection only, not modelled
    assert any(p["metadata"]["name"].startswith("kindnet-") for p in live.system_pods)
    assert "/api/v1/namespaces/app1-ns" in [r.path for r in apiserver.requests]


def test_kubeconfig_from_the_environment_and_another_context(
    apiserver: FakeApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = apiserver.kubeconfig(tmp_path / "a", context="kind-kind")
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([str(tmp_path / "missing"), str(first)]))
    conn = connect(LiveTarget(context="other"))
    assert (conn.server, conn.context) == (apiserver.url, "other")
    assert read_cluster(LiveTarget()).context == "kind-kind"


def test_kubeconfig_list_first_current_context_wins_and_empty_files_are_skipped(
    apiserver: FakeApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """kubectl's merge: the first file that sets current-context wins; an empty file is none."""
    empty = tmp_path / "empty"
    empty.write_text("")
    no_current = tmp_path / "users-only"
    no_current.write_text("apiVersion: v1\nkind: Config\nusers: []\n")
    first = apiserver.kubeconfig(tmp_path / "a", context="kind-kind")
    later = tmp_path / "b"
    later.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: dead\n"
        "clusters: [{name: dead, cluster: {server: 'http://127.0.0.1:9'}}]\n"
        "users: [{name: dead, user: {token: t}}]\n"
        "contexts: [{name: dead, context: {cluster: dead, user: dead}}]\n"
    )
    files = [empty, no_current, first, later]
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join(str(f) for f in files))
    conn = connect(LiveTarget())
    assert (conn.server, conn.context) == (apiserver.url, "kind-kind")
    assert connect(LiveTarget(context="dead")).server == "http://127.0.0.1:9"


def test_in_cluster_service_account(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    token, ca = tmp_path / "token", tmp_path / "ca.crt"
    token.write_text("in-cluster-token")
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setattr(live_client, "SERVICE_TOKEN_FILE", str(token))
    monkeypatch.setattr(live_client, "SERVICE_CA_FILE", str(ca))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "6443")
    conn = connect(LiveTarget())
    assert (conn.server, conn.context) == ("https://127.0.0.1:6443", "in-cluster")
    assert conn.api.configuration.api_key["BearerToken"] == "bearer in-cluster-token"


def test_fixtures_are_what_the_generator_writes() -> None:
    """The recorded JSON is written by make_fixtures.py (no real cluster here): keep them in step."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURES / "make_fixtures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, data in module.tutorial().items():
        assert json.loads((TUTORIAL / f"{name}.json").read_text()) == data, name
    for name, data in module.tiers().items():
        assert json.loads((FIXTURES / "tiers" / f"{name}.json").read_text()) == data, name


def test_the_rbac_document_grants_what_live_mode_uses(tmp_path: Path) -> None:
    import yaml

    rbac = Path(__file__).resolve().parents[3] / "docs" / "rbac" / "netpol-reader.yaml"
    reader = next(
        d for d in yaml.safe_load_all(rbac.read_text()) if d["metadata"]["name"] == "netpol-reader"
    )
    granted = {
        (group, verb, resource)
        for rule in reader["rules"]
        for group in rule["apiGroups"]
        for verb in rule["verbs"]
        for resource in rule["resources"]
    }
    used = set()
    # every kind served, then Calico from its CRDs only: both groups are read somewhere
    for calico in ("projectcalico.org", "crd.projectcalico.org"):
        server = FakeApiServer.from_fixtures("tutorial", "tiers")
        server.install("clusternetworkpolicies.policy.networking.k8s.io")
        server.uninstall(calico)
        with serve(server):
            kubeconfig = str(server.kubeconfig(tmp_path / "kubeconfig"))
            read_cluster(LiveTarget(kubeconfig))
            read_cluster(LiveTarget(kubeconfig, namespaces=("app1-ns",)))
        used |= {_rbac_of(r.path) for r in server.requests if "version" not in r.path}
    assert used <= granted
    assert used == granted - {("apps", "get", "daemonsets")} - {
        (g, "get", r) for g, v, r in granted if r != "namespaces"
    }
    assert {v for _, v, _ in granted} == {"get", "list"}


def _rbac_of(path: str) -> tuple[str, str, str]:
    """(API group, verb, resource) RBAC checks for a GET of ``path``."""
    parts = path.strip("/").split("/")
    group = "" if parts[0] == "api" else parts[1]
    rest = parts[2:] if parts[0] == "api" else parts[3:]
    if rest[0] == "namespaces" and len(rest) == 2:
        return (group, "get", "namespaces")
    return (group, "list", rest[-1])


def test_an_expired_continue_token_starts_the_listing_again(
    apiserver: FakeApiServer, kubeconfig: str
) -> None:
    apiserver.expire_continue = 1
    live = read_cluster(LiveTarget(kubeconfig, page_size=4))
    names = [o["metadata"]["name"] for o in live.objects if o["kind"] == "Namespace"]
    assert len(names) == len(set(names)) == 6
    pages = [r.query for r in apiserver.requests if r.path == "/api/v1/namespaces"]
    assert [bool(q.get("continue")) for q in pages] == [False, True, False, True]
    assert len([o for o in live.objects if o["kind"] == "Pod"]) == 16


def test_fields_of_a_newer_api_server_are_warned_about_not_refused(
    apiserver: FakeApiServer, kubeconfig: str
) -> None:
    policy = apiserver.objects["networkpolicies"][0]
    policy["spec"]["futureField"] = {"x": 1}
    apiserver.objects["namespaces"][0]["metadata"]["futureMeta"] = "y"
    result = check_and_build(read_cluster(LiveTarget(kubeconfig)).documents(), [], Options())
    assert result.ok
    name = f"NetworkPolicy/{policy['metadata']['namespace']}/{policy['metadata']['name']}"
    assert (
        f'live: warning: {name}: spec.futureField: unknown field "futureField": the API server '
        "has it, this netpol does not; ignored (upgrade netpol if it changes what is allowed)"
    ) in [d.one_line() for d in result.warnings]
    assert len(result.cluster.policies) == 3
    namespace = apiserver.objects["namespaces"][0]["metadata"]["name"]
    assert namespace in {n.name for n in result.cluster.namespaces}
    assert [d.field for d in result.warnings if "unknown field" in d.message] == [
        "metadata.futureMeta",
        "spec.futureField",
    ]
