"""A pod diff computed only on the classes the changed policies reach
(analysis.diff_incremental) equals the whole diff, on random small clusters with random
policy edits; and it declines (None: the whole diff runs) wherever one shared partition or
the NetworkPolicy-only region cannot be trusted."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.analysis.test_diff_candidates import changes, cluster_pairs
from tests.conftest import cluster_from_yaml
from tests.engine.test_properties import clusters, policies

from netpol.analysis import diff as diff_module
from netpol.analysis import diff_incremental
from netpol.analysis.diff import DiffReport, diff
from netpol.analysis.diff_incremental import Incremental, incremental_diff
from netpol.analysis.lint_examples import policy as policy_text
from netpol.engine.classes import Partition
from netpol.engine.compile import CompiledCluster, compile_cluster
from netpol.model.cluster import Cluster
from netpol.model.options import PROFILES, Options

# derandomized: the same clusters every run, so the test cannot fail one run in fifty
SAME_AS_WHOLE = settings(max_examples=150, deadline=None, derandomize=True)


@st.composite
def edited_pairs(draw: st.DrawFn) -> tuple[Cluster, Cluster]:
    """One cluster and the same cluster with some policies edited in place (same namespace
    and name: the podSelector, the ingress rules, the egress rules or the whole policy
    redrawn), some dropped and some added."""
    old = draw(clusters())
    names = sorted({n.name for n in old.namespaces})
    edited = []
    for i, policy in enumerate(old.policies):
        what = draw(st.sampled_from(("keep", "keep", "drop", "ingress", "egress", "select", "all")))
        if what == "drop":
            continue
        drawn = draw(policies(names, 20 + i))
        if what == "ingress":
            policy = replace(policy, ingress=drawn.ingress)
        elif what == "egress":
            policy = replace(policy, egress=drawn.egress)
        elif what == "select":
            policy = replace(policy, pod_selector=drawn.pod_selector)
        elif what == "all":
            policy = replace(drawn, namespace=policy.namespace, name=policy.name)
        edited.append(policy)
    added = [draw(policies(names, 10 + i)) for i in range(draw(st.integers(0, 1)))]
    return old, old.with_policies(tuple(edited + added))


def whole(old: CompiledCluster, new: CompiledCluster, **kwargs: object) -> DiffReport:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(diff_module, "incremental_diff", lambda *args, **kw: Incremental(None))
        return diff(old, new, **kwargs)  # type: ignore[arg-type]


def compiled(pair: tuple[Cluster, Cluster], profile: str) -> tuple[CompiledCluster, ...]:
    options = Options(profile=PROFILES[profile])
    return tuple(compile_cluster(c, options) for c in pair)


# how many drawn examples the region path computed (not declined): the property must
# exercise it, not only the fallback
TAKEN: dict[str, int] = {"edited": 0, "redrawn": 0}


def check_same_as_whole(pair: tuple[Cluster, Cluster], profile: str, kind: str) -> None:
    old, new = compiled(pair, profile)
    with pytest.MonkeyPatch.context() as patch:
        # any region size: small clusters are where every pair can be checked
        patch.setattr(diff_incremental, "LARGEST_REGION", 10.0**9)
        found = incremental_diff(old, new).found
        TAKEN[kind] += found is not None
        report = diff(old, new)
    expected = whole(old, new)
    assert changes(report) == changes(expected)
    assert report.counts == expected.counts
    assert report.pairs_compared == expected.pairs_compared


@SAME_AS_WHOLE
@given(edited_pairs(), st.sampled_from(sorted(PROFILES)))
def _edited_same_as_whole(pair: tuple[Cluster, Cluster], profile: str) -> None:
    check_same_as_whole(pair, profile, "edited")


@SAME_AS_WHOLE
@given(cluster_pairs(), st.sampled_from(sorted(PROFILES)))
def _redrawn_same_as_whole(pair: tuple[Cluster, Cluster], profile: str) -> None:
    check_same_as_whole(pair, profile, "redrawn")


def test_region_diff_equals_the_whole_diff_for_edited_policies() -> None:
    TAKEN["edited"] = 0
    _edited_same_as_whole()
    # a third of the examples at least went through the region path (the rest declined:
    # Cilium profiles, new label keys), so the property is not only the fallback's
    assert TAKEN["edited"] >= 50


def test_region_diff_equals_the_whole_diff_for_redrawn_policies() -> None:
    TAKEN["redrawn"] = 0
    _redrawn_same_as_whole()
    assert TAKEN["redrawn"] >= 50


BASE = """
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: a}}
---
apiVersion: v1
kind: Namespace
metadata: {name: data, labels: {team: b}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web, tier: front}}
spec: {nodeName: n1, containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}
status: {podIP: 10.1.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: shop, labels: {app: api, tier: back}}
spec: {nodeName: n1, containers: [{name: c, ports: [{name: http, containerPort: 9090}]}]}
status: {podIP: 10.1.0.2}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: data, labels: {app: db, tier: back}}
spec: {nodeName: n2, containers: [{name: c}]}
status: {podIP: 10.1.0.3}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-in, namespace: shop}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress:
    - from: [{podSelector: {matchLabels: {tier: front}}}]
      ports: [{port: 9090}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-out, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
    - to: [{podSelector: {matchLabels: {tier: back}}}]
      ports: [{port: http}]
    - to: [{ipBlock: {cidr: 10.1.0.0/30}}]
"""

API_IN = "metadata: {name: api-in, namespace: shop}"
WEB_OUT = "metadata: {name: web-out, namespace: shop}"
EXTRA = """
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-in, namespace: data}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{from: [{namespaceSelector: {matchLabels: {team: a}}}]}]
"""
CNP = """
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: db, namespace: data}
spec:
  endpointSelector: {matchLabels: {app: db}}
  ingress: [{fromEndpoints: [{matchLabels: {app: api}}]}]
"""


def _removed(text: str, header: str) -> str:
    """``text`` without the document whose metadata line is ``header``."""
    kept = [d for d in text.split("\n---\n") if header not in d]
    return "\n---\n".join(kept)


# (case, new side's text, True when the region path must compute it)
CASES = [
    ("nothing changed", BASE, True),
    ("policy added", BASE + EXTRA, True),
    ("policy removed", _removed(BASE, API_IN), True),
    (
        "port added to an ingress rule",
        BASE.replace("[{port: 9090}]", "[{port: 9090}, {port: 1}]"),
        True,
    ),
    ("named port used elsewhere before", BASE.replace("[{port: 9090}]", "[{port: http}]"), True),
    (
        "podSelector changed to a key already used",
        BASE.replace(
            "podSelector: {matchLabels: {app: api}}", "podSelector: {matchLabels: {tier: back}}"
        ),
        True,
    ),
    (
        "egress peer changed",
        BASE.replace("{matchLabels: {tier: back}}}]\n", "{matchLabels: {app: db}}}]\n"),
        True,
    ),
    (
        "policyTypes changed",
        BASE.replace("policyTypes: [Egress]", "policyTypes: [Ingress, Egress]"),
        True,
    ),
    (
        "podSelector on a new label key",
        BASE.replace(
            "podSelector: {matchLabels: {app: api}}", "podSelector: {matchLabels: {role: x}}"
        ),
        False,
    ),
    ("named port not mentioned before", BASE.replace("[{port: 9090}]", "[{port: grpc}]"), False),
    ("new ipBlock", BASE.replace("10.1.0.0/30", "10.1.0.0/31"), False),
    ("namespace labels changed", BASE.replace("labels: {team: b}", "labels: {team: a}"), False),
    (
        "pod labels changed",
        BASE.replace("labels: {app: db, tier: back}", "labels: {app: db, tier: front}"),
        False,
    ),
    ("pod moved to another node", BASE.replace("nodeName: n2", "nodeName: n1"), False),
    ("Cilium policy present", BASE + CNP, False),
]


@pytest.mark.parametrize(
    ("new_text", "computed"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_region_path_is_taken_only_where_it_is_exact(new_text: str, computed: bool) -> None:
    old, new = (compile_cluster(cluster_from_yaml(t), Options()) for t in (BASE, new_text))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(diff_incremental, "LARGEST_REGION", 10.0**9)
        found = incremental_diff(old, new).found
        report = diff(old, new)
    assert (found is not None) is computed
    assert changes(report) == changes(whole(old, new))


def test_a_region_larger_than_the_matrix_is_left_to_the_whole_diff() -> None:
    """Every class in the region on both axes: two whole matrices are cheaper."""
    changed = BASE.replace("[{port: 9090}]", "[{port: 9090}, {port: 1}]")
    changed = changed.replace("podSelector: {matchLabels: {app: api}}", "podSelector: {}")
    changed = changed.replace("podSelector: {matchLabels: {app: web}}", "podSelector: {}")
    old, new = (compile_cluster(cluster_from_yaml(t), Options()) for t in (BASE, changed))
    assert incremental_diff(old, new).found is None
    assert changes(diff(old, new)) == changes(whole(old, new))


def test_a_declined_region_hands_its_partition_to_the_whole_diff(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The region is worked out on the old side's partition; when it is too large, the
    whole diff's old matrix is made on that partition, not on a second one."""
    changed = BASE.replace("[{port: 9090}]", "[{port: 9090}, {port: 1}]")
    old, new = (compile_cluster(cluster_from_yaml(t), Options()) for t in (BASE, changed))
    monkeypatch.setattr(diff_incremental, "LARGEST_REGION", 0.0)
    declined = incremental_diff(old, new)
    assert declined.found is None
    assert declined.old_partition is not None
    assert declined.old_partition.cc is old
    made: list[CompiledCluster] = []
    real = diff_module.class_matrix

    def counting(cc: CompiledCluster, **kwargs: object) -> object:
        if kwargs.get("partition") is None:
            made.append(cc)
        return real(cc, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(diff_module, "class_matrix", counting)
    report = diff(old, new)
    assert made == [new]  # only the new side partitioned again
    monkeypatch.setattr(diff_module, "class_matrix", real)
    assert changes(report) == changes(whole(old, new))


def test_port_added_lists_exactly_the_pairs_it_opens() -> None:
    changed = BASE.replace("[{port: 9090}]", "[{port: 9090}, {port: 1}]")
    old, new = (compile_cluster(cluster_from_yaml(t), Options()) for t in (BASE, changed))
    found = incremental_diff(old, new).found
    assert found is not None
    endpoints, listing = found
    assert [e.id for e in endpoints] == ["data/db", "shop/api", "shop/web"]
    rows = [(c.src.id, c.dst.id, c.before.text(), c.after.text()) for c in listing.rows()]
    assert rows == [("shop/web", "shop/api", "TCP 9090", "TCP 1,9090")]


def test_a_caller_that_may_need_the_whole_matrices_takes_only_small_regions() -> None:
    """A pod table past its row limit shows the workload view, read from the whole
    matrices: then a region of a third of the classes is left to the whole diff."""
    changed = BASE.replace("[{port: 9090}]", "[{port: 9090}, {port: 1}]")
    old, new = (compile_cluster(cluster_from_yaml(t), Options()) for t in (BASE, changed))
    assert incremental_diff(old, new).found is not None
    assert incremental_diff(old, new, may_fall_back=True).found is None
    shown = diff(old, new, coarser_past=0)
    assert shown.granularity == "workload"
    assert shown.pod_pairs_differing == 1


def _policies_cluster(ports: list[int]) -> str:
    """Pod a under one policy per port, each admitting that port from anywhere, and four
    pods no policy selects (so a region of a's class is a fifth of the classes)."""
    pods = "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n" + "".join(
        f"---\napiVersion: v1\nkind: Pod\nmetadata: {{name: {n}, namespace: x, labels: {{app: {n}}}}}\n"
        f"spec: {{containers: [{{name: c, image: i}}]}}\nstatus: {{podIP: 10.0.0.{i + 1}}}\n"
        for i, n in enumerate("abcde")
    )
    return pods + "".join(
        policy_text(
            f"p{i}",
            "  podSelector: {matchLabels: {app: a}}\n"
            f"  ingress: [{{ports: [{{port: {port}}}]}}]\n",
        )
        for i, port in enumerate(ports)
    )


@pytest.mark.parametrize(
    ("count", "changed", "worked_out"),
    [
        (100, 40, False),  # 80 versions: more than a quarter of the policies and than 64
        (100, 20, True),  # 40 versions: not more than a few
        (400, 40, True),  # 80 versions, but not a quarter of 400
    ],
)
def test_a_caller_that_may_fall_back_does_not_work_out_the_region_of_many_changes(
    monkeypatch: pytest.MonkeyPatch, count: int, changed: int, worked_out: bool
) -> None:
    ports = list(range(1000, 1000 + count))
    moved = [p + 5000 if i < changed else p for i, p in enumerate(ports)]
    old, new = (
        compile_cluster(cluster_from_yaml(_policies_cluster(p)), Options()) for p in (ports, moved)
    )
    made = []
    monkeypatch.setattr(diff_incremental, "Partition", lambda cc: made.append(cc) or Partition(cc))
    found = incremental_diff(old, new, may_fall_back=True).found
    assert bool(made) == worked_out
    assert (found is not None) == worked_out  # a region worked out is a's class: small
    assert incremental_diff(old, new).found is not None  # without a fallback: always worked out
