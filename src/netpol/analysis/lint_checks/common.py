"""What several lint families share: rule paths and wording, the pods a policy selects,
what is asked once per endpoint class, destinations and Service backends."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from netpol.analysis.lint import LintContext
from netpol.engine.class_sets import ClassSets
from netpol.engine.classes import Partition
from netpol.engine.compile import CompiledPeer, CompiledPolicy, CompiledRule
from netpol.engine.endpoints import POD, Endpoint
from netpol.engine.ports import ConnectionSet
from netpol.load.services import Backend, all_backends
from netpol.model.cilium import CILIUM_KINDS
from netpol.model.diagnostics import Severity
from netpol.model.objects import Pod
from netpol.model.selectors import LabelSelector
from netpol.model.wording import first_few

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
DNS_LABEL = ("k8s-app", "kube-dns")
DNS_NAMESPACE = "kube-system"
SYSTEM_NAMESPACE_PREFIX = "kube-"


def cilium_in_play(ctx: LintContext) -> bool:
    """Whether Cilium enforces the input: it holds Cilium policies, or asks for the profile
    (NetworkPolicy checks that depend on the CNI then speak for Cilium)."""
    return ctx.cc.profile.cilium_identity or bool(ctx.cluster.cilium_policies)


def peer_word(direction: str) -> str:
    return "from" if direction == "Ingress" else "to"


def rules_path(direction: str) -> str:
    return f"spec.{direction.lower()}"


def peer_path(rule: CompiledRule, peer_index: int) -> str:
    return f"{rules_path(rule.direction)}[{rule.index}].{peer_word(rule.direction)}[{peer_index}]"


def rule_path(rule: CompiledRule) -> str:
    return f"{rules_path(rule.direction)}[{rule.index}]"


def all_rules(compiled: CompiledPolicy) -> Iterator[CompiledRule]:
    """Rules of both directions, whether or not policyTypes lets them count."""
    yield from compiled.ingress
    yield from compiled.egress


def counting_rules(compiled: CompiledPolicy) -> Iterator[CompiledRule]:
    yield from compiled.rules("Ingress")
    yield from compiled.rules("Egress")


def subject_pods(ctx: LintContext, compiled: CompiledPolicy) -> list[Pod]:
    """The pods ``compiled`` selects, in input order (cached per policy: several checks ask)."""
    cache: dict[int, list[Pod]] = ctx.cache.setdefault("subjects", {})  # type: ignore[assignment]
    found = cache.get(id(compiled))
    if found is None:
        found = cache[id(compiled)] = pods_of(ctx, subject_classes(ctx, compiled))
    return found


def subject_classes(ctx: LintContext, compiled: CompiledPolicy) -> int:
    """The endpoint classes ``compiled`` selects, as bits."""
    return pod_sets(ctx).subjects(compiled.policy.namespace, compiled.policy.pod_selector)


def peer_classes(ctx: LintContext, cp: CompiledPeer) -> int:
    """The endpoint classes a selector peer matches, as bits (none for an ipBlock: selector
    peers are what lint asks about; ipBlocks cover addresses, see ipblocks.py)."""
    if cp.peer.ip_block is not None:
        return 0
    return pod_sets(ctx).peer_bits(cp)


def pod_sets(ctx: LintContext) -> ClassSets:
    """Who a selector or a peer covers, asked once per endpoint class instead of per pod."""
    found = ctx.cache.get("pod_sets")
    if found is None:
        found = ctx.cache["pod_sets"] = ClassSets(ctx.cc, pod_partition(ctx))
    return found  # type: ignore[return-value]


def classes_matching(ctx: LintContext, selector: LabelSelector) -> int:
    """The pod classes whose labels ``selector`` matches, in any namespace, as bits."""
    return pod_sets(ctx).selected(selector)


def namespace_classes(ctx: LintContext) -> dict[str, int]:
    """namespace -> its pod classes, as bits."""
    cached = ctx.cache.get("namespace_classes")
    if cached is not None:
        return cached  # type: ignore[return-value]
    found: dict[str, int] = {}
    for c in pod_partition(ctx).classes:
        if c.kind == POD:
            found[c.namespace] = found.get(c.namespace, 0) | 1 << c.index
    ctx.cache["namespace_classes"] = found
    return found


def representative_pods(ctx: LintContext, classes: int) -> dict[int, Pod]:
    """class index -> one pod of the class, for questions every pod of it answers alike."""
    partition = pod_partition(ctx)
    return {i: partition.classes[i].pods[0] for i in bit_list(classes)}


def namespaces_of(ctx: LintContext, classes: int) -> set[str]:
    partition = pod_partition(ctx)
    return {partition.classes[i].namespace for i in bit_list(classes)}


def pods_of(ctx: LintContext, classes: int) -> list[Pod]:
    """The pods of these endpoint classes, in input order (the order checks report in)."""
    position = pod_positions(ctx)
    partition = pod_partition(ctx)
    found = [pod for i in bit_list(classes) for pod in partition.classes[i].pods]
    if len(found) == len(position):
        return list(ctx.pods)
    found.sort(key=lambda pod: position[pod.id])
    return found


def pod_positions(ctx: LintContext) -> dict[str, int]:
    """pod id -> its position in ``ctx.pods`` (input order, the order checks report in)."""
    position: dict[str, int] | None = ctx.cache.get("pod_position")  # type: ignore[assignment]
    if position is None:
        position = ctx.cache["pod_position"] = {p.id: i for i, p in enumerate(ctx.pods)}
    return position


def class_pods(ctx: LintContext) -> list[list[Pod]]:
    """The pods of each pod class (pods every policy treats alike), classes in input order."""
    return [c.pods for c in pod_partition(ctx).classes if c.kind == POD]


def workloads_text(pods: Iterable[Pod]) -> str:
    return first_few(sorted({p.workload_id for p in pods}), 4)


def classes_workloads_text(ctx: LintContext, classes: int) -> str:
    """``workloads_text`` of the pods of these endpoint classes, without visiting a pod:
    each class's workloads are bits of one number (workloads numbered in sorted order), so
    the union is a few ORs and the first names are its lowest bits. Kept per set of
    classes (many rules name the same peers)."""
    cache: dict[int, str] = ctx.cache.setdefault("classes_workloads_text", {})  # type: ignore[assignment]
    found = cache.get(classes)
    if found is None:
        names, of_class = _class_workloads(ctx)
        union = 0
        for index in bit_list(classes):
            union |= of_class[index]
        first: list[str] = []
        rest = union
        while rest and len(first) < 4:
            low = rest & -rest
            first.append(names[low.bit_length() - 1])
            rest ^= low
        more = union.bit_count() - len(first)
        found = cache[classes] = ", ".join(first) + (f" and {more} more" if more > 0 else "")
    return found


def _class_workloads(ctx: LintContext) -> tuple[list[str], list[int]]:
    """Every workload id of the partition's pods, sorted, and each class's as bits of
    that list (computed once)."""
    cached = ctx.cache.get("class_workloads")
    if cached is None:
        per_class = [{p.workload_id for p in c.pods} for c in pod_partition(ctx).classes]
        names = sorted(set().union(*per_class))
        number = {name: i for i, name in enumerate(names)}
        masks = []
        for found in per_class:
            bits = 0
            for name in found:
                bits |= 1 << number[name]
            masks.append(bits)
        cached = ctx.cache["class_workloads"] = (names, masks)
    return cached  # type: ignore[return-value]


def bit_list(bits: int) -> list[int]:
    """``ClassSets.bit_indexes`` as a list of ints."""
    found: list[int] = ClassSets.bit_indexes(bits).tolist()
    return found


def rule_connections(ctx: LintContext, rule: CompiledRule, destination: Pod) -> ConnectionSet:
    """``rule.connections_to(destination)``; named ports resolve alike on a class's pods,
    so once per class."""
    if not rule.named:
        return rule.numeric
    cache: dict[tuple[int, int], ConnectionSet] = ctx.cache.setdefault("rule_connections", {})  # type: ignore[assignment]
    key = (id(rule), pod_partition(ctx).class_of_pod[destination.id])
    found = cache.get(key)
    if found is None:
        found = cache[key] = rule.connections_to(destination)
    return found


def by_wanted(
    ctx: LintContext, rule: CompiledRule, destinations: int
) -> list[tuple[ConnectionSet, int]]:
    """What ``rule`` covers towards each of these destination classes, gathered: (the
    connections, the classes they resolve to), the empty ones left out. Without named
    ports that is one group; with them, one per distinct resolution."""
    found: dict[object, tuple[ConnectionSet, int]] = {}
    classes = pod_partition(ctx).classes
    for index in bit_list(destinations):
        wanted = rule_connections(ctx, rule, classes[index].pods[0])
        if not wanted.is_empty:
            bits = found.get(wanted.parts, (wanted, 0))[1]
            found[wanted.parts] = (wanted, bits | 1 << index)
    return list(found.values())


def endpoint_of(ctx: LintContext, pod: Pod) -> Endpoint:
    return ctx.cc.endpoint(pod)


def pod_partition(ctx: LintContext) -> Partition:
    found = ctx.cache.get("partition")
    if found is None:
        # with the external blocks (after the pod classes, so pod class indexes are those
        # of the plain partition): redundancy needs them, and one partition serves all
        found = Partition(ctx.cc, include_external=True)
        ctx.cache["partition"] = found
    return found  # type: ignore[return-value]


def policies_applying(ctx: LintContext, pod: Pod, direction: str) -> tuple[CompiledPolicy, ...]:
    """``cc.applying``, asked once per endpoint class (selection is the same for its pods)."""
    partition = pod_partition(ctx)
    index = partition.class_of_pod.get(pod.id)
    if index is None or partition.classes[index].kind != POD:
        return ctx.cc.applying(pod, direction)  # not selectable: no policy applies
    cache: dict[tuple[int, str], tuple[CompiledPolicy, ...]] = ctx.cache.setdefault("applying", {})  # type: ignore[assignment]
    key = (index, direction)
    found = cache.get(key)
    if found is None:
        found = cache[key] = ctx.cc.applying(partition.classes[index].pods[0], direction)
    return found


def is_isolated(ctx: LintContext, pod: Pod, direction: str) -> bool:
    return bool(policies_applying(ctx, pod, direction))


def cilium_isolates(ctx: LintContext, pod: Pod, direction: str) -> bool:
    """Whether a Cilium rule with default deny on for ``direction`` selects ``pod`` (it
    isolates the pod as a NetworkPolicy would), asked once per endpoint class."""
    tiered = ctx.cc.tiered
    if tiered is None or not ctx.cluster.cilium_policies:
        return False
    index = pod_partition(ctx).class_of_pod.get(pod.id)
    cache: dict[tuple[int | None, str], bool] = ctx.cache.setdefault("cilium_isolates", {})  # type: ignore[assignment]
    key = (index, direction)
    found = cache.get(key)
    if found is None or index is None:
        found = cache[key] = any(
            c.policy.kind in CILIUM_KINDS
            and c.policy.isolating(direction)
            and tiered.selects(c, pod)
            for c in tiered.policies
        )
    return found


def is_explicit(rule: CompiledRule) -> bool:
    """The rule names both its peers (a non-empty podSelector) and its ports."""
    return bool(rule.rule.ports) and any(
        cp.peer.pod_selector is not None and not cp.peer.pod_selector.is_empty for cp in rule.peers
    )


def destination_pods(ctx: LintContext, compiled: CompiledPolicy, rule: CompiledRule) -> list[Pod]:
    """Pods the rule's ports are resolved on: ingress - the subjects; egress - the peers."""
    if rule.direction == "Ingress":
        return subject_pods(ctx, compiled)
    return pods_of(ctx, destination_classes(ctx, compiled, rule))


def destination_classes(ctx: LintContext, compiled: CompiledPolicy, rule: CompiledRule) -> int:
    """The endpoint classes of ``destination_pods``, as bits."""
    if rule.direction == "Ingress":
        return subject_classes(ctx, compiled)
    if rule.any_peer:
        return pod_sets(ctx).pod_classes
    bits = 0
    for cp in rule.peers:
        bits |= peer_classes(ctx, cp)
    return bits


def service_backends(ctx: LintContext) -> dict[str, list[Backend]]:
    found = ctx.cache.get("backends")
    if found is None:
        found = all_backends(ctx.cluster)
        ctx.cache["backends"] = found
    return found  # type: ignore[return-value]
