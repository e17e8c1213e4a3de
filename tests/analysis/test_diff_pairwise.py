"""Every view of diff (pod, workload, namespace) equals comparing the verdicts of ``explain``
(engine.verdict.evaluate) pod pair by pod pair on both sides, on random small clusters: the
pod view is kept per pair of joint classes (analysis.diff_joint), so this is its reference."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.analysis.test_diff_candidates import cluster_pairs
from tests.conftest import cluster_from_yaml

from netpol.analysis.diff import DiffReport, diff
from netpol.analysis.lint_examples import policy
from netpol.engine.compile import CompiledCluster, compile_cluster
from netpol.engine.ports import ConnectionSet
from netpol.engine.verdict import evaluate
from netpol.model.cluster import Cluster
from netpol.model.objects import Pod
from netpol.model.options import PROFILES, Options

# derandomized: the same clusters every run, so the test cannot fail one run in fifty
SAME_AS_EXPLAIN = settings(max_examples=150, deadline=None, derandomize=True)

Side = dict[tuple[str, str], tuple[ConnectionSet, bool]]  # pair -> (union, members disagree)


def group_of(pod: Pod, granularity: str) -> str:
    return {"pod": pod.id, "workload": pod.workload_id}.get(granularity, pod.namespace)


def pairwise(cc: CompiledCluster, granularity: str) -> Side:
    """Per endpoint pair: the union of what explain allows its member pod pairs, and whether
    they disagree; pairs that allow nothing are left out."""
    union: dict[tuple[str, str], ConnectionSet] = {}
    common: dict[tuple[str, str], ConnectionSet] = {}
    pods = cc.cluster.pods
    for p in pods:
        for q in pods:
            if p.id == q.id:
                continue
            key = (group_of(p, granularity), group_of(q, granularity))
            allowed = evaluate(cc, cc.endpoint(p), cc.endpoint(q)).allowed
            union[key] = union.get(key, ConnectionSet.none()) | allowed
            common[key] = common[key] & allowed if key in common else allowed
    return {k: (v, v != common[k]) for k, v in union.items() if not v.is_empty}


def reference(old: CompiledCluster, new: CompiledCluster, granularity: str) -> list[object]:
    before, after = pairwise(old, granularity), pairwise(new, granularity)
    none = (ConnectionSet.none(), False)
    found = []
    for key in sorted(before.keys() | after.keys()):
        (b, mixed_b), (a, mixed_a) = before.get(key, none), after.get(key, none)
        if a != b:
            found.append((*key, b, a, mixed_b, mixed_a))
    return found


def listed(report: DiffReport) -> list[object]:
    return [
        (c.src.id, c.dst.id, c.before, c.after, c.mixed_before, c.mixed_after)
        for c in report.changes
    ]


@st.composite
def with_pods_replaced(draw: st.DrawFn) -> tuple[Cluster, Cluster]:
    """A cluster pair where the new side may also lose a pod (it exists only in the old)."""
    old, new = draw(cluster_pairs())
    if draw(st.booleans()):
        new = replace(new, pods=new.pods[1:])
    return old, new


@SAME_AS_EXPLAIN
@given(
    with_pods_replaced(),
    st.sampled_from(sorted(PROFILES)),
    st.sampled_from(["pod", "workload", "namespace"]),
)
def test_every_view_equals_pairwise_explain_on_both_sides(
    pair: tuple[Cluster, Cluster], profile: str, granularity: str
) -> None:
    options = Options(profile=PROFILES[profile])
    old, new = (compile_cluster(c, options) for c in pair)
    report = diff(old, new, granularity)
    expected = reference(old, new, granularity)
    assert listed(report) == expected
    assert len(report.listing) == len(expected)
    assert report.changed == bool(expected)


def test_a_large_pod_diff_is_reported_by_workload_past_the_limit() -> None:
    """coarser_past: a pod diff of more pairs than the limit comes back by workload, saying
    how many pod pairs differ; at or under the limit it stays by pod."""
    old, new = (compile_cluster(c, Options()) for c in _one_namespace_isolated())
    by_pod = diff(old, new, "pod")
    pod_pairs = len(by_pod.listing)
    assert pod_pairs == 3 * 2  # a, b and c each lose the two others
    same = diff(old, new, "pod", coarser_past=pod_pairs)
    assert same.granularity == "pod" and same.pod_pairs_differing == 0
    assert listed(same) == listed(by_pod)
    coarser = diff(old, new, "pod", coarser_past=pod_pairs - 1)
    assert coarser.granularity == "workload" and coarser.pod_pairs_differing == pod_pairs
    assert listed(coarser) == listed(diff(old, new, "workload"))


def _one_namespace_isolated() -> tuple[Cluster, Cluster]:
    pods = "".join(
        f"---\napiVersion: v1\nkind: Pod\nmetadata: {{name: {n}, namespace: x, labels: {{app: {n}}}}}\n"
        f"spec: {{containers: [{{name: c, image: i}}]}}\nstatus: {{podIP: 10.0.0.{i + 1}}}\n"
        for i, n in enumerate("abc")
    )
    shared = "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n" + pods
    deny = policy("deny", "  podSelector: {}\n  policyTypes: [Ingress]\n", "x")
    options = Options(implicit_dns=False)
    return cluster_from_yaml(shared, options), cluster_from_yaml(shared + deny, options)
