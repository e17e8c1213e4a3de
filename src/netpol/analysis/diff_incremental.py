"""A pod diff computed only where the changed NetworkPolicies reach.

When both sides hold the same pods, namespaces and nodes and differ in a few NetworkPolicies,
a changed policy (in its old or its new version) can alter only the pairs whose destination
its podSelector selects (when it isolates ingress) or whose source it selects (when it
isolates egress): every other pair keeps its old verdict on the new side. So one partition
(the old side's) serves both sides, and both are computed on that region only
(engine.partial_matrix) and compared there, instead of two whole class matrices compared
joint class by joint class (diff_joint).

The old partition serves the new side when the new versions mention no label key, named port
or ipBlock that the old policies do not: then no new selector tells apart two pods of one old
class. Anything else (other pods, namespace or node labels, tiered or Cilium policies, a new
key, or a region so large the whole matrices are cheaper) returns None and the caller
computes the whole diff.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from operator import attrgetter

import numpy as np

from netpol.analysis.built_on_read import BuiltOnRead
from netpol.analysis.diff_listing import ChangeListing, Delta, DiffEndpoint, JointBlocks, Targets
from netpol.engine.class_sets import ClassSets
from netpol.engine.classes import (
    Partition,
    policy_blocks,
    relevant_label_keys,
    relevant_port_names,
)
from netpol.engine.compile import CompiledCluster
from netpol.engine.endpoints import POD
from netpol.engine.matrix import overridden
from netpol.engine.partial_matrix import Region, RegionMatrices, region_matrices
from netpol.model.objects import Pod
from netpol.model.policy import NetworkPolicy
from netpol.model.progress import SILENT, Progress

# classes of the region (its columns, then its rows) per class of the partition past which
# the region holds more cells than a whole matrix
LARGEST_REGION = 1.0
# the same when a pod table past a number of rows shows the workload view instead (read
# from the whole matrices): a region this large changes that many pairs more often than not
LARGEST_REGION_BEFORE_A_FALLBACK = 0.25
# changed policies (both versions) past which that region is not worked out: more than this
# share of the policies, and more than a few
MANY_CHANGED_POLICIES = 0.25
FEW_CHANGED_POLICIES = 64


@dataclass(frozen=True)
class Incremental:
    """What the region diff found: the pod endpoints and the changed pod pairs, or None
    (the caller computes the whole diff) with the old side's partition when one was built,
    for the whole diff to reuse (at 100k pods a partition costs a second)."""

    found: tuple[PodEndpoints, ChangeListing] | None
    old_partition: Partition | None = None


def incremental_diff(
    old: CompiledCluster,
    new: CompiledCluster,
    admits: Callable[[Pod], bool] | None = None,
    progress: Progress = SILENT,
    may_fall_back: bool = False,
) -> Incremental:
    """The pod endpoints and the changed pod pairs of ``old`` -> ``new``, computed on the
    region the changed policies reach; none when that region cannot be trusted or is large
    (``may_fall_back``: smaller, as the caller may need the whole matrices anyway), with
    the partition it built, if it got that far."""
    if not _comparable(old, new):
        return Incremental(None)
    before, after = _changed_policies(old.cluster.policies, new.cluster.policies)
    if may_fall_back and _many(len(before) + len(after), len(old.cluster.policies)):
        return Incremental(None)
    if not _same_classes_suffice(old, after):
        return Incremental(None)
    progress.phase("building classes")
    partition = Partition(old)
    builder = ClassSets(old, partition)
    region = _region(builder, before, after)
    size = region.columns.bit_count() + region.rows.bit_count()
    largest = LARGEST_REGION_BEFORE_A_FALLBACK if may_fall_back else LARGEST_REGION
    if size > largest * len(partition):
        return Incremental(None, partition)
    progress.phase(f"computing {size:,} of {len(partition):,} classes on both sides")
    matrices = region_matrices((old, new), builder, region)
    endpoints = PodEndpoints(partition, new, admits)
    progress.phase(f"comparing {len(endpoints):,} pod endpoints")
    return Incremental((endpoints, _listing(partition, matrices, endpoints)))


def _many(changed: int, policies: int) -> bool:
    """So many policies changed (versions of both sides) that the region they reach is
    taken to be past the limit of a caller that may fall back, without working it out:
    that costs a partition of the old side (at 100k pods, some 3 s the whole diff then
    spends again). A few changed policies always have their region worked out."""
    return changed > max(FEW_CHANGED_POLICIES, MANY_CHANGED_POLICIES * policies)


def _comparable(old: CompiledCluster, new: CompiledCluster) -> bool:
    """NetworkPolicies only, one profile, and the same pods, namespaces and nodes."""
    if old.tiered is not None or new.tiered is not None or old.relabelled or new.relabelled:
        return False
    if old.profile != new.profile:
        return False
    a, b = old.cluster, new.cluster
    return _same(a.namespaces, b.namespaces) and _same(a.nodes, b.nodes) and _same(a.pods, b.pods)


def _same(xs: Sequence[object], ys: Sequence[object]) -> bool:
    """Equal in every field but where each was read from (``source``), in the same order.

    Texts compare in one pass in C; the structured fields (labels, containers, workload)
    are shared by the replicas of a workload on each side, so each pair of them is
    compared once."""
    if len(xs) != len(ys):
        return False
    if not xs:
        return True
    if len({type(x) for x in xs} | {type(y) for y in ys}) != 1:
        return False
    names = [f.name for f in fields(xs[0]) if f.name != "source"]  # type: ignore[arg-type]
    flat = [n for n in names if _flat(getattr(xs[0], n))]
    for name in flat:  # a field at a time: lists of what the objects hold, no tuple per object
        content = attrgetter(name)
        if list(map(content, xs)) != list(map(content, ys)):
            return False
    equal: set[tuple[int, int]] = set()  # both objects live as long as xs and ys
    for name in names:
        if name in flat:
            continue
        for a, b in zip(map(attrgetter(name), xs), map(attrgetter(name), ys), strict=True):
            if a is b or (id(a), id(b)) in equal:
                continue
            if a != b:
                return False
            equal.add((id(a), id(b)))
    return True


def _flat(value: object) -> bool:
    """A text, number or flag, or a tuple of texts: cheap to compare, nothing to share."""
    if isinstance(value, tuple):
        return all(isinstance(v, str) for v in value)
    return value is None or isinstance(value, (str, int, float))


def _content(policy: NetworkPolicy) -> tuple[object, ...]:
    """What a policy says, without where it was read from."""
    return (
        policy.pod_selector,
        policy.policy_types,
        policy.ingress,
        policy.egress,
    )


def _changed_policies(
    old: Sequence[NetworkPolicy], new: Sequence[NetworkPolicy]
) -> tuple[list[NetworkPolicy], list[NetworkPolicy]]:
    """The policies of each side that the other side does not hold: a policy of the old
    side is kept when a policy of the same namespace and name, not yet matched, says the
    same on the new side (compared, not hashed: hashing every rule of every policy costs
    more than comparing the few that share a name)."""
    unmatched: dict[tuple[str, str], list[NetworkPolicy]] = {}
    for policy in new:
        unmatched.setdefault((policy.namespace, policy.name), []).append(policy)
    only_old = []
    for policy in old:
        candidates = unmatched.get((policy.namespace, policy.name))
        content = _content(policy)
        for i, other in enumerate(candidates or ()):
            if _content(other) == content:
                del candidates[i]  # type: ignore[union-attr]
                break
        else:
            only_old.append(policy)
    kept = {id(p) for found in unmatched.values() for p in found}
    return only_old, [p for p in new if id(p) in kept]


def _same_classes_suffice(old: CompiledCluster, added: list[NetworkPolicy]) -> bool:
    """The new versions select by nothing the old partition does not already tell apart."""
    if not added:
        return True
    keys = relevant_label_keys(old.cluster.policies)
    names = relevant_port_names(old.cluster.policies)
    return (
        relevant_label_keys(added) <= keys
        and relevant_port_names(added) <= names
        and set(policy_blocks(added)) <= set(policy_blocks(old.cluster.policies))
    )


def _region(builder: ClassSets, before: list[NetworkPolicy], after: list[NetworkPolicy]) -> Region:
    """Destinations of the changed ingress, sources of the changed egress, in either version.
    A policy of both sides (same namespace and name) whose podSelector and whole ingress
    (whether it isolates, and its rules) are the same changed no destination, and likewise
    for egress: adding a port to an ingress rule touches no source's egress."""
    versions: dict[tuple[str, str], tuple[list[NetworkPolicy], list[NetworkPolicy]]] = {}
    for side, policies in enumerate((before, after)):
        for policy in policies:
            versions.setdefault((policy.namespace, policy.name), ([], []))[side].append(policy)
    columns = rows = 0
    for olds, news in versions.values():
        found = olds + news
        if len(olds) == len(news) == 1 and olds[0].pod_selector == news[0].pod_selector:
            first, second = olds[0], news[0]
            ingress = first.rules("Ingress") != second.rules("Ingress") or (
                first.isolates_ingress != second.isolates_ingress
            )
            egress = first.rules("Egress") != second.rules("Egress") or (
                first.isolates_egress != second.isolates_egress
            )
        else:  # added, removed, reselected, or a name written twice on a side
            ingress = egress = True
        for policy in found:
            subjects = builder.subjects(policy.namespace, policy.pod_selector)
            if ingress and policy.isolates_ingress:
                columns |= subjects
            if egress and policy.isolates_egress:
                rows |= subjects
    return Region(columns, rows)


class PodEndpoints(BuiltOnRead[DiffEndpoint]):
    """The pod endpoints of the pod view (pods with an address, admitted), by id, each
    holding its pod as each side read it; made when read, as a diff reads only the few it
    lists (100k endpoints made up front cost more than the rest of a one-policy diff)."""

    def __init__(
        self, partition: Partition, new: CompiledCluster, admits: Callable[[Pod], bool] | None
    ) -> None:
        self._old = partition.cc.cluster.pod_by_id
        self._new = new.cluster.pod_by_id
        ids = sorted(partition.class_of_pod)
        if admits is not None:
            ids = [i for i in ids if admits(self._old[i])]
        self.ids = ids
        self._made: dict[int, DiffEndpoint] = {}

    def __len__(self) -> int:
        return len(self.ids)

    def _item(self, index: int) -> DiffEndpoint:
        found = self._made.get(index)
        if found is None:
            pod_id = self.ids[index]
            pod = self._old[pod_id]
            found = DiffEndpoint(pod_id, "Pod", pod.namespace, (), (pod,), (self._new[pod_id],))
            self._made[index] = found
        return found


def _listing(
    partition: Partition, matrices: RegionMatrices, endpoints: PodEndpoints
) -> ChangeListing:
    """The changed class pairs as joint class blocks (pod classes: every member pair changes
    alike) and, for classes of node traffic, pod pair by pod pair (the node exceptions depend
    on where each pod runs, and hold alike on both sides)."""
    classes = partition.classes
    k = len(classes)
    class_of = partition.class_of_pod
    joint_of = np.array([class_of[i] for i in endpoints.ids], dtype=np.intp)
    order = np.argsort(joint_of, kind="stable")
    starts = np.searchsorted(joint_of[order], np.arange(k + 1))
    members = [order[starts[c] : starts[c + 1]] for c in range(k)]
    is_pod = np.array([c.kind == POD for c in classes], dtype=bool)
    table, atoms = matrices.table, matrices.atoms
    deltas: dict[tuple[int, int], Delta] = {}

    def delta(before: int, after: int) -> Delta:
        found = deltas.get((before, after))
        if found is None:
            masks = table.masks
            found = Delta(atoms.connections(masks[before]), atoms.connections(masks[after]))
            deltas[(before, after)] = found
        return found

    old, new = matrices.sides
    changed_pairs: dict[tuple[int, int], Delta] = {}
    xs, js = np.nonzero(old.columns != new.columns)
    for x, j, p, q in zip(
        xs.tolist(),
        matrices.column_classes[js].tolist(),
        old.columns[xs, js].tolist(),
        new.columns[xs, js].tolist(),
        strict=True,
    ):
        changed_pairs[(x, j)] = delta(p, q)
    is_, ys = np.nonzero(old.rows != new.rows)
    for i, y, p, q in zip(
        matrices.row_classes[is_].tolist(),
        ys.tolist(),
        old.rows[is_, ys].tolist(),
        new.rows[is_, ys].tolist(),
        strict=True,
    ):
        changed_pairs[(i, y)] = delta(p, q)
    blocks: dict[int, list[tuple[int, Delta]]] = {}
    singles: dict[int, Targets] = {}
    for (x, y), change in changed_pairs.items():
        if is_pod[x] and is_pod[y]:
            blocks.setdefault(x, []).append((y, change))
            continue
        for s in members[x].tolist():
            node_s = endpoints[s].pods_old[0].node
            for d in members[y].tolist():
                if s != d and not overridden(
                    partition, x, node_s, y, endpoints[d].pods_old[0].node
                ):
                    singles.setdefault(s, []).append((d, change))
    for targets in singles.values():
        targets.sort(key=lambda item: item[0])
    joint_of[~is_pod[joint_of]] = -1
    return ChangeListing(endpoints, JointBlocks(joint_of, members, blocks), singles)


__all__ = ["Incremental", "PodEndpoints", "incremental_diff"]
