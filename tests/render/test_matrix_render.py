"""Matrix renderers: truth tables, pair lists, CSV, Markdown and the JSON contract, on the
tutorial's examples, compared with golden files (NETPOL_UPDATE_GOLDEN=1 rewrites them)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest

from netpol.engine.compile import CompiledCluster, compile_cluster
from netpol.engine.matrix import class_matrix
from netpol.engine.ports import ConnectionSet
from netpol.engine.views import MatrixView
from netpol.model.options import Options
from netpol.render import matrix as render_matrix
from netpol.render.matrix import (
    matrix_csv,
    matrix_json,
    matrix_markdown,
    pair_rows,
    truth_tables,
    wide,
)
from netpol.validate.pipeline import load_cluster

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "docs" / "schemas" / "matrix.schema.json").read_text()
)
TIER_PORTS = [("TCP", 80), ("TCP", 5678), ("TCP", 3306), ("UDP", 53)]

View = Callable[..., MatrixView]
Golden = Callable[[str, str], None]


def allowed_flows(view: MatrixView) -> set[tuple[str, str, str]]:
    return {(s, d, c.text()) for s, d, c, *_ in pair_rows(view, None, all_pairs=False)}


# --- golden files, one per format ------------------------------------------------------------


@pytest.mark.parametrize("example", ["three-tier", "tutorial"])
def test_truth_tables_per_port_by_workload(example: str, view: View, golden: Golden) -> None:
    golden(
        f"matrix-{example}-workload-ports.txt", truth_tables(view(example, "workload"), TIER_PORTS)
    )


def test_connection_set_table_by_pod(view: View, golden: Golden) -> None:
    golden("matrix-three-tier-pod.txt", truth_tables(view("three-tier", "pod")))


def test_wide_by_workload(view: View, golden: Golden) -> None:
    golden("matrix-three-tier-workload-wide.txt", wide(view("three-tier", "workload"), None, False))


def test_wide_by_namespace_lists_members_beside_nodes_and_external_blocks(
    view: View, golden: Golden
) -> None:
    """Nodes and external blocks hold classes but no pods: they have no member pairs."""
    golden(
        "matrix-tutorial-namespace-external-nodes-wide.txt",
        wide(view("tutorial", "namespace", include_external=True, include_nodes=True), None, False),
    )


def test_csv_by_workload(view: View, golden: Golden) -> None:
    golden(
        "matrix-three-tier-workload.csv", matrix_csv(view("three-tier", "workload"), None, False)
    )


def test_markdown_by_workload_all_pairs(view: View, golden: Golden) -> None:
    golden(
        "matrix-three-tier-workload-all-pairs.md",
        matrix_markdown(view("three-tier", "workload"), None, True),
    )


def test_json_by_workload_with_external(view: View, golden: Golden) -> None:
    text = matrix_json(
        view("three-tier", "workload", include_external=True), "upstream", None, False
    )
    golden("matrix-three-tier-workload-external.json", text)


def test_json_by_namespace_is_mixed_where_members_disagree(view: View, golden: Golden) -> None:
    text = matrix_json(view("three-tier", "namespace"), "upstream", None, False)
    golden("matrix-three-tier-namespace.json", text)
    connections = {(c["src"], c["dst"]): c for c in json.loads(text)["connections"]}
    # Inside app1-ns only some pairs talk (frontend->backend, backend->db): the union, marked.
    assert connections[("app1-ns", "app1-ns")] == {
        "src": "app1-ns",
        "dst": "app1-ns",
        "allowed": {"TCP": [[3306, 3306], [5678, 5678]]},
        "text": "TCP 3306,5678",
        "mixed": True,
    }
    # CoreDNS replicas are not isolated: they agree, so no "mixed" key at all.
    assert "mixed" not in connections[("kube-system", "kube-system")]


# --- the tutorial's story, flow by flow --------------------------------------------------------

THREE_TIER_FLOWS = {
    ("app1-ns/frontend-deploy", "app1-ns/backend-deploy", "TCP 5678"),
    ("app1-ns/backend-deploy", "app1-ns/db-sts", "TCP 3306"),
    ("app1-ns/frontend-deploy", "kube-system/coredns", "TCP 53,UDP 53"),
    ("app1-ns/backend-deploy", "kube-system/coredns", "TCP 53,UDP 53"),
    ("kube-system/coredns", "app1-ns/frontend-deploy", "TCP 80"),  # ipBlock 0.0.0.0/0 has pod IPs
    ("kube-system/coredns", "kube-system/coredns", "All Connections"),  # two replicas
}


def test_three_tier_allowed_flows_by_workload(view: View) -> None:
    assert allowed_flows(view("three-tier", "workload")) == THREE_TIER_FLOWS


def test_tutorial_as_published_lacks_exactly_frontend_to_backend(view: View) -> None:
    expected = THREE_TIER_FLOWS - {
        ("app1-ns/frontend-deploy", "app1-ns/backend-deploy", "TCP 5678")
    }
    assert allowed_flows(view("tutorial", "workload")) == expected


def test_cilium_profile_drops_pod_ingress_through_the_ipblock(view: View) -> None:
    upstream = allowed_flows(view("three-tier", "workload"))
    cilium = allowed_flows(view("three-tier", "workload", profile="cilium"))

    assert upstream - cilium == {("kube-system/coredns", "app1-ns/frontend-deploy", "TCP 80")}
    assert cilium - upstream == set()


def test_cilium_profile_still_admits_external_addresses_to_frontend(view: View) -> None:
    flows = allowed_flows(view("three-tier", "workload", profile="cilium", include_external=True))

    assert ("external:0.0.0.0/0", "app1-ns/frontend-deploy", "TCP 80") in flows
    assert ("kube-system/coredns", "app1-ns/frontend-deploy", "TCP 80") not in flows


def test_port_filter_restricts_and_drops_pairs_left_empty(view: View) -> None:
    ports = ConnectionSet.of("TCP", 5678)
    rows = pair_rows(view("three-tier", "workload"), ports, all_pairs=False)

    assert [(s, d, c.text()) for s, d, c, *_ in rows] == [
        ("app1-ns/frontend-deploy", "app1-ns/backend-deploy", "TCP 5678"),
        ("kube-system/coredns", "kube-system/coredns", "TCP 5678"),
    ]


def test_all_pairs_lists_every_ordered_pair_but_no_pod_with_itself(view: View) -> None:
    pod_view = view("three-tier", "pod")
    rows = pair_rows(pod_view, None, all_pairs=True)
    pods = [e.id for e in pod_view.endpoints]

    assert len(pods) == 5
    assert {(s, d) for s, d, *_ in rows} == {(s, d) for s in pods for d in pods if s != d}
    denied = [(s, d) for s, d, c, *_ in rows if c.is_empty]
    frontend = next(p for p in pods if p.startswith("app1-ns/frontend-deploy-"))
    assert ("app1-ns/db-sts-0", frontend) in denied


def test_truth_table_legend_and_self_cells(view: View) -> None:
    table = truth_tables(view("three-tier", "pod"), [("TCP", 80)])
    lines = table.splitlines()

    assert lines[0].split()[0] == "80/TCP"
    assert lines[-1] == "'.' allowed, 'X' denied, '-' no pair (a pod and itself)"
    # Row i, column i is '-': a pod and itself is not a pair.
    for i, line in enumerate(lines[1:6]):
        assert line.split()[1 + i] == "-"


def test_mixed_pairs_are_flagged_in_the_truth_table(view: View) -> None:
    table = truth_tables(view("three-tier", "namespace"), [("TCP", 5678)])

    assert "app1-ns      .*" in table
    assert (
        ", '*' member pods disagree (listed below)\n\napp1-ns -> app1-ns: member pods disagree\n"
        in table
    )
    assert "-> app1-ns/backend-deploy-5c694bf5fc-6vgxk: TCP 5678" in table


# --- the JSON contract ------------------------------------------------------------------------


@pytest.mark.parametrize("granularity", ["pod", "workload", "namespace"])
@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({}, id="plain"),
        pytest.param({"include_external": True}, id="external"),
        pytest.param({"include_nodes": True}, id="nodes"),
        pytest.param({"include_external": True, "profile": "cilium"}, id="external-cilium"),
    ],
)
@pytest.mark.parametrize("all_pairs", [False, True], ids=["allowed", "all-pairs"])
def test_json_validates_against_the_schema(
    granularity: str, extra: dict[str, object], all_pairs: bool, view: View
) -> None:
    profile = str(extra.get("profile", "upstream"))
    document = json.loads(
        matrix_json(view("three-tier", granularity, **extra), profile, None, all_pairs)
    )

    jsonschema.validate(document, SCHEMA)
    assert (document["granularity"], document["profile"]) == (granularity, profile)


def test_json_connections_are_non_empty_unique_and_never_between_two_non_pods(view: View) -> None:
    document = json.loads(
        matrix_json(
            view("three-tier", "pod", include_external=True, include_nodes=True),
            "upstream",
            None,
            False,
        )
    )
    kinds = {e["id"]: e["kind"] for e in document["endpoints"]}
    pairs = [(c["src"], c["dst"]) for c in document["connections"]]

    assert len(pairs) == len(set(pairs))
    assert all(c["allowed"] and c["text"] != "No Connections" for c in document["connections"])
    assert all(s != d for s, d in pairs)
    assert not [p for p in pairs if kinds[p[0]] != "Pod" and kinds[p[1]] != "Pod"]
    assert {kinds[i] for i in kinds} == {"Pod", "Node", "External"}


@pytest.mark.parametrize(
    ("example", "granularity", "profile"),
    [
        ("three-tier", "pod", "upstream"),
        ("three-tier-db-ns", "namespace", "upstream"),
        ("three-tier-cilium", "workload", "cilium"),  # L7-filtered pairs
        ("three-tier-cilium", "namespace", "cilium"),
    ],
)
def test_a_long_pair_list_is_what_json_writes_on_one_line(
    example: str,
    granularity: str,
    profile: str,
    compile_example: Callable[..., CompiledCluster],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past ``INDENTED_UP_TO`` the document is assembled from pieces: byte for byte what
    ``json.dumps`` writes of the same document, mixed and L7 marks included."""
    cc = compile_example(example, profile)
    view = MatrixView(class_matrix(cc, include_nodes=True), granularity)
    if cc.without_l7 is not None:
        view.mark_l7(MatrixView(class_matrix(cc.without_l7, include_nodes=True), granularity))
    indented = json.loads(matrix_json(view, profile, None, True))
    monkeypatch.setattr(render_matrix, "INDENTED_UP_TO", 0)
    one_line = matrix_json(view, profile, None, True)

    assert one_line == json.dumps(indented)
    assert len(indented["connections"]) > 1


def test_csv_parses_back_to_the_pair_list(view: View) -> None:
    workload_view = view("three-tier", "workload")
    rows = list(csv.reader(io.StringIO(matrix_csv(workload_view, None, False))))

    assert rows[0] == ["src", "dst", "allowed", "mixed"]
    assert {(s, d, a) for s, d, a, _ in rows[1:]} == allowed_flows(workload_view)
    assert {m for *_, m in rows[1:]} == {"false"}


# --- "mixed" is judged on the ports shown, not on the whole set ---

# a1 and a2 (namespace a) both reach b1 on 80; only a1 also reaches it on 443.
AGREE_ON_80 = """\
apiVersion: v1
kind: Namespace
metadata: {name: a}
---
apiVersion: v1
kind: Namespace
metadata: {name: b}
---
apiVersion: v1
kind: Pod
metadata: {name: a1, namespace: a, labels: {x: "1"}}
spec: {containers: [{name: c, image: i}]}
---
apiVersion: v1
kind: Pod
metadata: {name: a2, namespace: a, labels: {x: "2"}}
spec: {containers: [{name: c, image: i}]}
---
apiVersion: v1
kind: Pod
metadata: {name: b1, namespace: b}
spec: {containers: [{name: c, image: i}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: b}
spec:
  podSelector: {}
  ingress:
    - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: a}}}]
      ports: [{port: 80}]
    - from:
        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: a}}
          podSelector: {matchLabels: {x: "1"}}
      ports: [{port: 443}]
"""


def namespace_view_of(tmp_path: Path, text: str) -> MatrixView:
    manifest = tmp_path / "cluster.yaml"
    manifest.write_text(text)
    options = Options(implicit_dns=False)
    result = load_cluster((str(manifest),), options)
    assert result.ok, [d.one_line() for d in result.diagnostics]
    return MatrixView(class_matrix(compile_cluster(result.cluster, options)), "namespace")


def test_members_that_disagree_on_other_ports_are_mixed_without_a_port_filter(
    tmp_path: Path,
) -> None:
    rows = pair_rows(namespace_view_of(tmp_path, AGREE_ON_80), None, all_pairs=False)

    assert ("a", "b", "TCP 80,443", True) in [(s, d, c.text(), m) for s, d, c, m, _ in rows]


def test_members_that_agree_on_the_shown_port_are_not_mixed(tmp_path: Path) -> None:
    view = namespace_view_of(tmp_path, AGREE_ON_80)
    port_80 = ConnectionSet.of("TCP", 80)

    assert truth_tables(view, [("TCP", 80)]).splitlines()[1].split() == ["a", ".", "."]
    assert "members disagree" not in wide(view, port_80, False)
    document = json.loads(matrix_json(view, "upstream", port_80, False))
    assert [c for c in document["connections"] if c.get("mixed")] == []
