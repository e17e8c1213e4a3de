"""Services and flows: one side of a connection opened, the other forgotten."""

from __future__ import annotations

from collections.abc import Iterator

from netpol.analysis.lint import Finding, LintContext, by_id, check
from netpol.analysis.lint_checks.common import (
    WARNING,
    bit_list,
    by_wanted,
    classes_workloads_text,
    counting_rules,
    is_explicit,
    is_isolated,
    peer_classes,
    peer_path,
    pod_partition,
    policies_applying,
    rule_connections,
    service_backends,
    subject_classes,
    subject_pods,
    workloads_text,
)
from netpol.analysis.lint_checks.flow_sides import flow_sides
from netpol.engine.compile import CompiledPolicy, CompiledRule
from netpol.engine.endpoints import POD
from netpol.engine.ports import ConnectionSet
from netpol.model.objects import Pod


def _explicit_clients(ctx: LintContext, server: Pod, protocol: str, port: int) -> list[Pod]:
    """Egress-isolated pods with an explicit egress rule (podSelector and ports) that allows
    ``server`` on protocol/port; found from the rules, so no pod pair is evaluated."""
    found: dict[str, Pod] = {}
    server_class = pod_partition(ctx).class_of_pod.get(server.id)
    if server_class is None:
        return []  # no IP, or node traffic: no selector matches it
    explicit = _explicit_egress(ctx)
    for position in _explicit_egress_towards(ctx, explicit).get(server_class, ()):
        compiled, rule, _ = explicit[position]
        if not rule_connections(ctx, rule, server).contains(protocol, port):
            continue
        for pod in subject_pods(ctx, compiled):
            found.setdefault(pod.id, pod)
    return list(found.values())


def _explicit_egress(ctx: LintContext) -> list[tuple[CompiledPolicy, CompiledRule, int]]:
    """The explicit egress rules, in policy order, with the classes their selector peers match."""
    found = ctx.cache.get("explicit_egress")
    if found is None:
        found = ctx.cache["explicit_egress"] = [
            (compiled, rule, _selector_peer_classes(ctx, rule))
            for compiled in ctx.cc.policies
            for rule in compiled.rules("Egress")
            if is_explicit(rule)
        ]
    return found  # type: ignore[return-value]


def _explicit_egress_towards(
    ctx: LintContext, explicit: list[tuple[CompiledPolicy, CompiledRule, int]]
) -> dict[int, list[int]]:
    """class -> positions in ``explicit`` of the rules whose selector peers match it."""
    cached = ctx.cache.get("explicit_egress_towards")
    if cached is not None:
        return cached  # type: ignore[return-value]
    found: dict[int, list[int]] = {}
    for position, (_, _, peers) in enumerate(explicit):
        for index in bit_list(peers):
            found.setdefault(index, []).append(position)
    ctx.cache["explicit_egress_towards"] = found
    return found


def _selector_peer_classes(ctx: LintContext, rule: CompiledRule) -> int:
    bits = 0
    for cp in rule.peers:
        bits |= peer_classes(ctx, cp)
    return bits


@check(
    "service-port-unreachable",
    WARNING,
    "a Service port whose targetPort no ingress rule admits, while clients' egress allows it",
    "The Service's backends are ingress-isolated and none of their ingress rules allows the "
    "targetPort, yet some pod has an explicit egress rule (a non-empty podSelector matching "
    "the backends, and that port listed): the client side was opened and the server side "
    "forgotten.",
    "Add an ingress rule for the targetPort to the backends' policy (from the clients).",
    pitfall="spec 3, 7.10",
    needs_pods=True,
)
def _service_unreachable(ctx: LintContext) -> Iterator[Finding]:
    me = by_id("service-port-unreachable")
    closed = _ClosedBackends(ctx)
    for service_id, backends in sorted(service_backends(ctx).items()):
        service = ctx.service(service_id)
        if service is None:
            continue
        for i, port in enumerate(service.ports):
            # every backend of the port isolated and closed to its targetPort (the first
            # that is not ends the question)
            first = None
            for b in backends:
                if b.service_port != port or b.target_port is None:
                    continue
                if not closed(b.pod, port.protocol, b.target_port):
                    first = None
                    break
                first = first or b
            if first is None:
                continue
            backend = first
            target = backend.target_port or 0
            clients = [
                p
                for p in _explicit_clients(ctx, backend.pod, port.protocol, target)
                if p.id != backend.pod.id
            ]
            if not clients:
                continue
            yield me.finding(
                f"port {port.port}/{port.protocol} -> targetPort {backend.target_port}: no ingress rule of "
                f"{', '.join(c.policy.id for c in policies_applying(ctx, backend.pod, 'Ingress'))} admits it, "
                f"yet the egress of {workloads_text(clients)} allows it",
                f"Service/{service_id}",
                service.source,
                f"spec.ports[{i}]",
            )


class _ClosedBackends:
    """Whether a pod is ingress-isolated and none of its ingress rules admits a port: the
    same for every pod of an endpoint class, so asked once per class and port."""

    def __init__(self, ctx: LintContext) -> None:
        self.ctx = ctx
        partition = pod_partition(ctx)
        self.class_of_pod = partition.class_of_pod
        self.classes = partition.classes
        self.found: dict[tuple[object, str, int], bool] = {}

    def __call__(self, pod: Pod, protocol: str, port: int) -> bool:
        index = self.class_of_pod.get(pod.id)
        # pods outside the pod classes (no IP, node traffic) are asked for themselves
        who: object = index if index is not None and self.classes[index].kind == POD else pod.id
        key = (who, protocol, port)
        found = self.found.get(key)
        if found is None:
            ctx = self.ctx
            found = self.found[key] = is_isolated(ctx, pod, "Ingress") and not any(
                rule_connections(ctx, r, pod).contains(protocol, port)
                for c in policies_applying(ctx, pod, "Ingress")
                for r in c.rules("Ingress")
            )
        return found


@check(
    "one-sided-flow",
    WARNING,
    "one side's policy names the other, but the other side's policy blocks the connection",
    "A connection needs the client's egress and the server's ingress. When an explicit egress "
    "rule (a non-empty podSelector and listed ports) names the server's pods and the server's "
    "ingress (isolated) admits none of those ports from the client - or an explicit ingress "
    "rule names the client while the client's isolated egress denies them - the written "
    "intent is half-implemented. This is how the tutorial's frontend -> backend flow breaks.",
    "Add the missing rule on the other side (the message names it), or drop the dead one.",
    pitfall="spec 4.2; tutorial Step 5",
    needs_pods=True,
)
def _one_sided(ctx: LintContext) -> Iterator[Finding]:
    me = by_id("one-sided-flow")
    for compiled in ctx.cc.policies:
        subjects = subject_classes(ctx, compiled)
        for rule in counting_rules(compiled):
            if not is_explicit(rule):
                continue
            for cp in rule.peers:
                selector = cp.peer.pod_selector
                if cp.peer.ip_block is not None or selector is None or selector.is_empty:
                    continue
                blocked = _blocked_pairs(ctx, rule, subjects, peer_classes(ctx, cp))
                if blocked is None:
                    continue
                blocked_mine, blocked_theirs, isolating, conns = blocked
                outbound = rule.direction == "Egress"
                other_side = "ingress" if outbound else "egress"
                policies = ", ".join(isolating)
                mine_text = classes_workloads_text(ctx, blocked_mine)
                theirs_text = classes_workloads_text(ctx, blocked_theirs)
                src, dst = (mine_text, theirs_text) if outbound else (theirs_text, mine_text)
                yield me.on_policy(
                    compiled.policy,
                    f"{rule.label} allows {src} -> {dst} on "
                    f"{conns.text()}, but the {other_side} of {theirs_text} "
                    f"(isolated by {policies}) denies all of it",
                    peer_path(rule, cp.index),
                    f"allow it in the {other_side} of {theirs_text} (in "
                    f"{'one of ' if len(isolating) > 1 else ''}{policies}), or remove this "
                    "rule; `netpol explain` on the pair shows the evidence",
                )


def _blocked_pairs(
    ctx: LintContext, rule: CompiledRule, subjects: int, peers: int
) -> tuple[int, int, list[str], ConnectionSet] | None:
    """The class pairs (mine: the rule's subjects, theirs: its peers) whose other side is
    isolated and denies all the rule wants: (mine bits, theirs bits, the isolating policies
    in the order a scan of the pairs by mine then theirs meets them, the wanted connections
    of those pairs); None when there is none."""
    classes = pod_partition(ctx).classes
    sides = flow_sides(ctx)
    other_side = "Ingress" if rule.direction == "Egress" else "Egress"
    candidates = peers & sides.isolated(other_side)
    if not candidates:
        return None
    # what the rule wants of a pair: its ports, or named ports resolved on the destination
    # (mine for an ingress rule; each of theirs for an egress rule)
    if rule.direction == "Egress" and rule.named:
        pairs = [
            (wanted, mine, bits)
            for wanted, bits in by_wanted(ctx, rule, candidates)
            for mine in bit_list(subjects)
        ]
    else:
        pairs = [
            (wanted, mine, candidates)
            for wanted, bits in by_wanted(ctx, rule, subjects)
            for mine in bit_list(bits)
        ]
    closed_by_mine: dict[int, int] = {}  # mine -> their classes that deny it
    wanted_sets: dict[int, ConnectionSet] = {}  # by identity: a few distinct sets
    for wanted, mine, theirs in pairs:
        closed = theirs & ~sides.open_towards(other_side, mine, wanted, sides.key(wanted))
        if len(classes[mine].pods) < 2:
            closed &= ~(1 << mine)  # the one pod of a class and itself is no flow
        if closed:
            closed_by_mine[mine] = closed_by_mine.get(mine, 0) | closed
            wanted_sets[id(wanted)] = wanted
    if not closed_by_mine:
        return None
    blocked_mine = theirs_bits = 0
    isolating: dict[str, None] = {}
    # a pair scan by mine then theirs: each mine adds the policies of the theirs it meets
    # first
    for mine in sorted(closed_by_mine):
        blocked_mine |= 1 << mine
        new = closed_by_mine[mine] & ~theirs_bits
        theirs_bits |= new
        for policy_id in sides.policies_of(other_side, new):
            isolating.setdefault(policy_id, None)
    return blocked_mine, theirs_bits, list(isolating), ConnectionSet.union_of(wanted_sets.values())
