"""The lint checks ask their questions per endpoint class, through indexes; each answer must
equal the straightforward one asked pod by pod (or, for redundancy, class pair by class
pair against every other rule), on random small clusters under every profile.

The references below are the code the checks had before they worked on classes: slow
(quadratic in pods or policies) and plain, which is what makes them a reference.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.engine.builders import cluster
from tests.engine.test_cilium_properties import cilium_clusters
from tests.engine.test_properties import NODES, clusters
from tests.engine.test_tier_properties import tiered_clusters

from netpol.analysis.lint import LintContext
from netpol.analysis.lint_checks import (
    common,
    dns,
    flow_sides,
    ipblocks,
    ports,
    redundancy,
    selection,
)
from netpol.engine.classes import Partition
from netpol.engine.compile import CompiledCluster, CompiledPolicy, CompiledRule, compile_cluster
from netpol.engine.endpoints import EXTERNAL, POD
from netpol.engine.ports import ConnectionSet
from netpol.engine.verdict import evaluate, side_verdict
from netpol.model.cluster import Cluster
from netpol.model.objects import Pod
from netpol.model.options import PROFILES, Options
from netpol.model.policy import IPBlock

# Derandomized: CI sees the same examples every run. Clusters of 2-6 pods and 0-8
# policies keep each example to milliseconds.
AGREEMENT = settings(max_examples=100, deadline=None, derandomize=True)
CILIUM_AGREEMENT = settings(max_examples=60, deadline=None, derandomize=True)


@st.composite
def crowded_clusters(draw: st.DrawFn) -> Cluster:
    """A random cluster plus copies of some of its policies (renamed), so that rules and
    whole policies are redundant often enough to test the greedy order."""
    c = draw(clusters())
    copies = []
    if c.policies:
        for i, original in enumerate(draw(st.lists(st.sampled_from(c.policies), max_size=4))):
            copies.append(replace(original, name=f"{original.name}-copy{i}"))
    mixed = draw(st.permutations([*c.policies, *copies]))
    return cluster(c.namespaces, c.pods, mixed, NODES)


def contexts(c: Cluster) -> list[LintContext]:
    return [LintContext(compile_cluster(c, Options(profile=p))) for p in PROFILES.values()]


def ids(pods: list[Pod]) -> list[str]:
    return [p.id for p in pods]


# --- references ----------------------------------------------------------------------


def reference_subjects(ctx: LintContext, compiled: CompiledPolicy) -> list[Pod]:
    return [
        p for p in ctx.pods_by_namespace.get(compiled.policy.namespace, []) if compiled.selects(p)
    ]


def reference_destinations(
    ctx: LintContext, compiled: CompiledPolicy, rule: CompiledRule
) -> list[Pod]:
    if rule.direction == "Ingress":
        return reference_subjects(ctx, compiled)
    if rule.any_peer:
        return list(ctx.pods)
    pod_ids = frozenset().union(*(p.pod_ids for p in rule.peers))
    return [p for p in ctx.pods if p.id in pod_ids]


def reference_first_of_each_workload(pods: list[Pod]) -> list[tuple[str, Pod]]:
    """(workload id, first pod) of ``pods`` (in input order), workloads in the order of
    their first pod."""
    found: dict[str, Pod] = {}
    for pod in pods:
        found.setdefault(pod.workload_id, pod)
    return list(found.items())


def referencepods_in_block(ctx: LintContext, block: IPBlock) -> list[Pod]:
    found = set()
    for pod in ctx.pods:
        for ip in pod.ips:
            address = ipaddress.ip_address(ip)
            if address.version == block.network.version and block.contains(address):
                found.add(pod.id)
    return [ctx.cluster.pod_by_id[i] for i in sorted(found)]


def reference_dns_reach(ctx: LintContext, pod: Pod) -> tuple[bool, bool, list[str]]:
    udp = tcp = False
    sides = []
    for server in dns.dns_pods(ctx):
        if server.id == pod.id:
            return True, True, []
        verdict = evaluate(ctx.cc, ctx.cc.endpoint(pod), ctx.cc.endpoint(server))
        udp = udp or verdict.allows("UDP", 53)
        tcp = tcp or verdict.allows("TCP", 53)
        sides.append(verdict.egress)
    return udp, tcp, [o.rule.label for s in sides for o in s.allowing()]


def reference_intended_peers(
    ctx: LintContext, compiled: CompiledPolicy, rule: CompiledRule
) -> list[Pod]:
    subjects = reference_subjects(ctx, compiled)
    found = []
    for other in ctx.pods:
        if other.namespace == compiled.policy.namespace and compiled.selects(other):
            continue
        direction = "Egress" if rule.direction == "Ingress" else "Ingress"
        if not ctx.cc.isolated(other, direction):
            continue
        for subject in subjects:
            if rule.direction == "Ingress":
                side = evaluate(ctx.cc, ctx.cc.endpoint(other), ctx.cc.endpoint(subject)).egress
                ports = rule.connections_to(subject)
            else:
                side = evaluate(ctx.cc, ctx.cc.endpoint(subject), ctx.cc.endpoint(other)).ingress
                ports = rule.connections_to(other)
            if not (side.allowed & ports).is_empty:
                found.append(other)
                break
    return found


def reference_redundancy(
    cc: CompiledCluster,
) -> tuple[list[CompiledRule], list[CompiledPolicy]]:
    """Per class pair, each rule against the union of every other rule still kept."""
    partition = Partition(cc, include_external=True)
    classes = [c for c in partition.classes if c.kind in (POD, EXTERNAL)]
    pod_classes = [c for c in classes if c.kind == POD]
    subjects_of = {
        id(compiled): [
            c.index
            for c in pod_classes
            if c.representative.pod is not None and compiled.selects(c.representative.pod)
        ]
        for compiled in cc.policies
    }
    by_index = {c.index: c for c in classes}

    def side(direction: str, subject: int, peer: int) -> dict[int, ConnectionSet]:
        s, p = by_index[subject].representative, by_index[peer].representative
        return {id(o.rule): o.allowed for o in side_verdict(cc, s, p, direction).outcomes}

    removed: set[int] = set()
    rules: list[CompiledRule] = []
    for compiled in reversed(cc.policies):
        for rule in reversed(list(common.counting_rules(compiled))):
            useful, covered = False, True
            for s in subjects_of[id(compiled)]:
                for peer in classes:
                    if peer.index == s and len(by_index[s].pods) < 2:
                        continue
                    outcomes = side(rule.direction, s, peer.index)
                    mine = outcomes.get(id(rule), ConnectionSet.none())
                    if mine.is_empty:
                        continue
                    useful = True
                    rest = ConnectionSet.union_of(
                        a for r, a in outcomes.items() if r != id(rule) and r not in removed
                    )
                    covered = covered and mine <= rest
            if useful and covered:
                removed.add(id(rule))
                rules.append(rule)
    policies: list[CompiledPolicy] = []
    gone: set[int] = set()
    for compiled in reversed(cc.policies):
        subjects = subjects_of[id(compiled)]
        own = list(common.counting_rules(compiled))
        if not subjects or any(id(r) not in removed for r in own):
            continue
        others_needed_ruleless = not own
        if all(
            any(
                o is not compiled
                and id(o) not in gone
                and direction in o.policy.policy_types
                and s in subjects_of[id(o)]
                and not (others_needed_ruleless and any(common.counting_rules(o)))
                for o in cc.policies
            )
            for direction in compiled.policy.policy_types
            for s in subjects
        ):
            gone.add(id(compiled))
            policies.append(compiled)
    return rules, policies


# --- properties ------------------------------------------------------------------------


@AGREEMENT
@given(crowded_clusters())
def test_redundancy_equals_the_pairwise_reference(c: Cluster) -> None:
    for ctx in contexts(c):
        found = redundancy._redundancy(ctx)
        assert found is not None
        want_rules, want_policies = reference_redundancy(ctx.cc)
        assert [r.label for r in found[0]] == [r.label for r in want_rules]
        assert [p.policy.id for p in found[1]] == [p.policy.id for p in want_policies]


@AGREEMENT
@given(clusters())
def test_selections_per_class_equal_the_pod_scans(c: Cluster) -> None:
    for ctx in contexts(c):
        for pod in ctx.pods:
            for direction in ("Ingress", "Egress"):
                assert common.policies_applying(ctx, pod, direction) == ctx.cc.applying(
                    pod, direction
                )
        for compiled in ctx.cc.policies:
            assert ids(common.subject_pods(ctx, compiled)) == ids(reference_subjects(ctx, compiled))
            for rule in common.all_rules(compiled):
                want = reference_destinations(ctx, compiled, rule)
                assert ids(common.destination_pods(ctx, compiled, rule)) == ids(want)
                declared = {(cp.port, cp.protocol) for p in want for cp in p.container_ports}
                got = ports._declared(ctx, common.destination_classes(ctx, compiled, rule))
                assert got == declared
                for cp in rule.peers:
                    want_peers = [p for p in ctx.pods if p.id in cp.pod_ids]
                    classes = common.peer_classes(ctx, cp)
                    assert ids(common.pods_of(ctx, classes)) == ids(want_peers)
                    assert common.classes_workloads_text(ctx, classes) == (
                        common.workloads_text(want_peers)
                    )
                    firsts = selection._first_of_each_workload(ctx, classes)
                    assert firsts == reference_first_of_each_workload(want_peers)
                    if cp.peer.ip_block is not None:
                        block = cp.peer.ip_block
                        assert ids(ipblocks.pods_in_block(ctx, block)) == ids(
                            referencepods_in_block(ctx, block)
                        )


@AGREEMENT
@given(clusters())
def test_dns_reach_per_class_equals_each_pods_own(c: Cluster) -> None:
    for ctx in contexts(c):
        for pod in ctx.pods:
            udp, tcp, sides = dns.dns_reach(ctx, pod)
            labels = [o.rule.label for s in sides for o in s.allowing()]
            assert (udp, tcp, labels) == reference_dns_reach(ctx, pod)


@AGREEMENT
@given(clusters())
def test_intended_peers_per_class_equal_the_pod_scan(c: Cluster) -> None:
    for ctx in contexts(c):
        for compiled in ctx.cc.policies:
            for rule in common.counting_rules(compiled):
                got = common.pods_of(ctx, selection._intended_peers(ctx, compiled, rule))
                assert ids(got) == ids(reference_intended_peers(ctx, compiled, rule))


@AGREEMENT
@given(clusters())
def test_one_sided_closed_sides_equal_the_side_verdicts(c: Cluster) -> None:
    """FlowSides.closed(side, theirs, mine, wanted): their side denies all of ``wanted``."""
    check_closed_sides(contexts(c))


@AGREEMENT
@given(tiered_clusters())
def test_one_sided_closed_sides_under_admin_tiers_equal_the_side_verdicts(c: Cluster) -> None:
    """With tiers every side is read from the tiered side matrices, not the rules."""
    check_closed_sides(contexts(c))


@CILIUM_AGREEMENT
@given(cilium_clusters())
def test_one_sided_closed_sides_under_cilium_equal_the_side_verdicts(c: Cluster) -> None:
    check_closed_sides(contexts(c))


def check_closed_sides(found: list[LintContext]) -> None:
    for ctx in found:
        sides = flow_sides.FlowSides(ctx)
        classes = common.pod_partition(ctx).classes
        wanted_sets = [ConnectionSet.all()]
        wanted_sets += [r.numeric for p in ctx.cc.policies for r in common.all_rules(p)]
        for theirs, their_class in enumerate(classes):
            for mine, mine_class in enumerate(classes):
                if their_class.kind != POD or mine_class.kind != POD:
                    continue  # hostNetwork pods: node traffic, never a flow's side
                if mine == theirs and len(mine_class.pods) < 2:
                    continue
                their_pod = their_class.pods[0]
                mine_pod = mine_class.pods[1 if mine == theirs else 0]
                for direction in ("Ingress", "Egress"):
                    verdict = side_verdict(
                        ctx.cc, ctx.cc.endpoint(their_pod), ctx.cc.endpoint(mine_pod), direction
                    )
                    for wanted in wanted_sets:
                        got = sides.closed(direction, theirs, mine, wanted)
                        if verdict.isolated and (wanted & verdict.allowed).is_empty:
                            assert got == tuple(p.id for p in verdict.policies)
                        else:
                            assert got is None


def test_select_all_duplicates_keep_only_the_first_policy() -> None:
    """The case that was quadratic: N identical select-all policies; every one but the
    first is redundant, and the verdicts without them are the same."""
    c = cluster_with_select_all(40)
    for ctx in contexts(c):
        found = redundancy._redundancy(ctx)
        assert found is not None
        assert [p.policy.name for p in found[1]] == [f"all-{i}" for i in range(39, 0, -1)]
        want_rules, want_policies = reference_redundancy(ctx.cc)
        assert [p.policy.name for p in want_policies] == [p.policy.name for p in found[1]]
        assert [r.label for r in want_rules] == [r.label for r in found[0]]


def cluster_with_select_all(count: int) -> Cluster:
    from tests.engine.builders import namespace, pod, policy

    from netpol.model.policy import Rule
    from netpol.model.selectors import LabelSelector

    pods = [pod(f"app/p{i}", f"10.1.0.{i + 1}", {"app": f"a{i}"}, "n1") for i in range(4)]
    policies = [
        policy("app", f"all-{i}", LabelSelector(), ingress=[Rule((), ())]) for i in range(count)
    ]
    return cluster([namespace("app")], pods, policies, NODES)


@pytest.mark.parametrize(
    ("spans", "cut", "left"),
    [
        ([(0, 5)], (1, 3), [(0, 1), (3, 5)]),  # a hole in the middle
        ([(0, 1), (3, 5)], (0, 5), []),  # everything cut
        ([(2, 4)], (4, 6), [(2, 4)]),  # touching, not overlapping
        ([(2, 4)], (0, 3), [(3, 4)]),  # the start cut
        ([(2, 4)], (3, 3), [(2, 4)]),  # an except holding no pod
    ],
)
def test_address_slices_without_an_except(
    spans: list[tuple[int, int]], cut: tuple[int, int], left: list[tuple[int, int]]
) -> None:
    assert ipblocks._without(spans, cut) == left
