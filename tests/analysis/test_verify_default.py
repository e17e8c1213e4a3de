"""``default: deny`` / ``allow`` worked out per class pair (analysis.verify_default) finds exactly
the pod pairs that evaluating every pair finds: the same violations in the same order, the
same count, the same extra and allowed connections, under a defaultScope and a -n/-l scope,
with hostNetwork pods whose node exceptions override their class pair."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.engine.builders import cluster, namespace, pod
from tests.engine.test_properties import NODES, NS_KEYS, NS_VALUES, POD_KEYS, POD_VALUES, policies

from netpol.analysis.expectations import parse_expectations
from netpol.analysis.verify import FAIL, PASS, VerifyReport, verify
from netpol.analysis.verify_default import DefaultViolations
from netpol.engine.compile import CompiledCluster, compile_cluster
from netpol.engine.ports import ConnectionSet
from netpol.engine.verdict import allowed
from netpol.model.cluster import Cluster
from netpol.model.objects import Pod
from netpol.model.options import PROFILES, Options

# derandomized: the same clusters every run, so the test cannot fail one run in fifty
SAME_AS_PAIRWISE = settings(max_examples=150, deadline=None, derandomize=True)
PORTS = (53, 80, 443, 8080)


@st.composite
def replicated_clusters(draw: st.DrawFn) -> Cluster:
    """Namespaces of a few workloads of 1-4 replicas (alike pods: classes of several
    members), spread over two nodes, some on the host network."""
    names = draw(
        st.lists(st.sampled_from(("ns1", "ns2", "ns3")), min_size=1, max_size=3, unique=True)
    )
    ns_objects = [
        namespace(n, draw(st.dictionaries(st.sampled_from(NS_KEYS), st.sampled_from(NS_VALUES))))
        for n in names
    ]
    pods = []
    for w in range(draw(st.integers(1, 4))):
        ns = draw(st.sampled_from(names))
        labels = draw(st.dictionaries(st.sampled_from(POD_KEYS), st.sampled_from(POD_VALUES)))
        host_network = draw(st.integers(0, 4)) == 0
        port = draw(st.sampled_from(PORTS))
        for r in range(draw(st.integers(1, 4))):
            node = draw(st.sampled_from(NODES))
            ip = node.ips[0] if host_network else f"10.1.0.{len(pods) + 1}"
            pods.append(
                pod(
                    f"{ns}/w{w}-{r}",
                    ip,
                    labels,
                    node.name,
                    [("http", port, "TCP")],
                    host_network=host_network,
                )
            )
    policy_objects = [draw(policies(names, i)) for i in range(draw(st.integers(0, 4)))]
    return cluster(ns_objects, pods, policy_objects, NODES)


@st.composite
def expectation_texts(draw: st.DrawFn, c: Cluster) -> str:
    """A default over all or some namespaces, and a few pods-to-pod expectations."""
    lines = [f"default: {draw(st.sampled_from(['deny', 'allow']))}"]
    names = sorted(n.name for n in c.namespaces)
    scope = draw(st.lists(st.sampled_from(names), max_size=2, unique=True))
    if scope:
        lines.append(f"defaultScope: [{', '.join(scope)}]")
    lines.append("expectations:")
    ids = sorted(p.id for p in c.pods)
    for _ in range(draw(st.integers(0, 4))):
        src, dst = draw(st.sampled_from(ids)), draw(st.sampled_from(ids))
        if src == dst:
            continue
        port = draw(st.sampled_from((None, *PORTS)))
        expect = draw(st.sampled_from(["allow", "deny"]))
        ports = f", port: {port}" if port else ""
        lines.append(f"  - {{from: {src}, to: {dst}{ports}, expect: {expect}}}")
    if lines[-1] == "expectations:":
        lines[-1] = "expectations: []"
    return "\n".join(lines) + "\n"


Row = tuple[str, str, ConnectionSet, ConnectionSet]


def pairwise(cc: CompiledCluster, report: VerifyReport, scope: set[str]) -> list[Row]:
    """Every pod pair evaluated on its own, against what the listed expectations cover."""
    default = report.default
    assert default is not None
    listed = "allow" if default.default == "deny" else "deny"
    covered: dict[tuple[str, str], ConnectionSet] = {}
    for result in report.results:
        if result.expectation.expect == listed:
            for p in result.pairs:
                key = (p.src.id, p.dst.id)
                covered[key] = covered.get(key, ConnectionSet.none()) | p.required
    pods = [p for p in cc.cluster.pods if p.ips]
    rows = []
    for src in pods:
        for dst in pods:
            if src.id == dst.id or (
                scope and src.namespace not in scope and dst.namespace not in scope
            ):
                continue
            have = allowed(cc, cc.endpoint(src), cc.endpoint(dst))
            mine = covered.get((src.id, dst.id), ConnectionSet.none())
            extra = have - mine if default.default == "deny" else ~mine - have
            if not extra.is_empty:
                rows.append((src.id, dst.id, extra, have))
    return sorted(rows, key=lambda r: (r[0], r[1]))


def rows(violations: object) -> list[Row]:
    return [(v.src.id, v.dst.id, v.extra, v.allowed) for v in violations]  # type: ignore[attr-defined]


@SAME_AS_PAIRWISE
@given(st.data(), replicated_clusters(), st.sampled_from(sorted(PROFILES)))
def test_the_default_per_class_pair_equals_every_pair_evaluated(
    data: st.DataObject, c: Cluster, profile: str
) -> None:
    cc = compile_cluster(c, Options(profile=PROFILES[profile]))
    text = data.draw(expectation_texts(c))
    report = verify(cc, parse_expectations(text, "inline.yaml"))
    default = report.default
    assert default is not None and isinstance(default.violations, DefaultViolations)
    violations = default.violations
    expected = pairwise(cc, report, set(default.scope))
    assert rows(violations) == expected
    assert len(violations) == len(expected) and bool(violations) == bool(expected)
    assert default.status == (FAIL if expected else PASS)
    assert rows(violations[:3]) == expected[:3]
    if expected:
        assert rows([violations[-1]]) == expected[-1:]
    # evidence for the first few found, each pair's own
    explained = [v for v in violations if v.evidence is not None]
    assert len(explained) == min(20, len(expected))
    assert rows(default.explained) == rows(explained)
    for v in explained:
        assert v.evidence is not None
        assert v.evidence.allowed == (default.default == "deny")  # the first port of the extra
        assert v.evidence.port == next(iter(v.extra))[1]
    # a -n/-l scope on top: the violations with an end it admits, counted the same way
    names = sorted(n.name for n in c.namespaces)
    kept = data.draw(st.sampled_from(names))

    def admits(p: Pod) -> bool:
        return p.namespace == kept

    narrowed = violations.touching(admits)
    ends = {p.id: p for p in c.pods}
    touching = [r for r in expected if admits(ends[r[0]]) or admits(ends[r[1]])]
    assert rows(narrowed) == touching
    assert len(narrowed) == len(touching)
    assert len(violations) == len(expected)  # the original is left as it was
