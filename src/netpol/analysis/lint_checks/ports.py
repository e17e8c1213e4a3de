"""Ports: named ports nobody defines, Service ports, protocols, `ports: [{}]`."""

from __future__ import annotations

from collections.abc import Iterator

from netpol.analysis.lint import Finding, LintContext, by_id, check
from netpol.analysis.lint_checks.common import (
    INFO,
    WARNING,
    bit_list,
    counting_rules,
    destination_classes,
    destination_pods,
    pod_partition,
    rule_path,
    service_backends,
    workloads_text,
)


@check(
    "named-port-undefined",
    WARNING,
    "a named port that the destination pods do not define (or define with another protocol)",
    "A named port matches only a container port of the destination pod with that name AND "
    "that protocol (TCP when the rule omits it). Ingress: the selected pods; egress: the "
    "peer pods. A name no destination defines allows nothing.",
    "Use a name the pods' containers declare, with its protocol (UDP named ports need "
    "`protocol: UDP`), or the port number.",
    pitfall="spec 3, 7.9, 7.14; edge cases 28-29",
    needs_pods=True,
)
def _named_port(ctx: LintContext) -> Iterator[Finding]:
    me = by_id("named-port-undefined")
    for compiled in ctx.cc.policies:
        for rule in counting_rules(compiled):
            if not rule.named:
                continue
            pods = destination_pods(ctx, compiled, rule)
            if not pods:
                continue
            for j, entry in enumerate(rule.rule.ports):
                if not entry.is_named:
                    continue
                name = str(entry.port)
                if any(p.named_port(name, entry.protocol) for p in pods):
                    continue
                other = sorted(
                    {
                        f"{cp.port}/{cp.protocol}"
                        for p in pods
                        for cp in p.container_ports
                        if cp.name == name
                    }
                )
                who = "selected" if rule.direction == "Ingress" else "destination"
                if other:
                    message = (
                        f"port {name!r} is {', '.join(other)} on the {who} pods, but the rule's "
                        f"protocol is {entry.protocol}: it matches nothing"
                    )
                    hint = f"add `protocol: {other[0].split('/')[1]}` to this port entry"
                else:
                    message = f"no {who} pod ({workloads_text(pods)}) defines a port named {name!r}"
                    hint = ""
                yield me.on_policy(compiled.policy, message, f"{rule_path(rule)}.ports[{j}]", hint)


ServicePort = tuple[str, int, int | None, str]  # service id, port, pod target port, protocol


def _services_of(ctx: LintContext, classes: int) -> list[ServicePort]:
    """The Service ports backed by pods of these endpoint classes, sorted."""
    cache: dict[int, list[ServicePort]] = ctx.cache.setdefault("services_of", {})  # type: ignore[assignment]
    found = cache.get(classes)
    if found is None:
        per_class = _per_class(ctx)[1]
        ports = {s for i in bit_list(classes) for s in per_class.get(i, ())}
        found = cache[classes] = sorted(ports, key=lambda t: (t[0], t[1], t[3], t[2] or 0))
    return found


def _declared(ctx: LintContext, classes: int) -> set[tuple[int, str]]:
    """(port, protocol) of the container ports the pods of these classes declare (ports
    that no policy names are not part of a class, so each pod of it is read once)."""
    cache: dict[int, set[tuple[int, str]]] = ctx.cache.setdefault("declared", {})  # type: ignore[assignment]
    found = cache.get(classes)
    if found is None:
        per_class = _per_class(ctx)[0]
        found = cache[classes] = {d for i in bit_list(classes) for d in per_class[i]}
    return found


def _per_class(
    ctx: LintContext,
) -> tuple[list[set[tuple[int, str]]], dict[int, set[ServicePort]]]:
    """Per endpoint class: the container ports its pods declare, the Service ports they back."""
    found = ctx.cache.get("ports_per_class")
    if found is None:
        partition = pod_partition(ctx)
        declared = [
            {(cp.port, cp.protocol) for p in c.pods for cp in p.container_ports}
            for c in partition.classes
        ]
        services: dict[int, set[ServicePort]] = {}
        for service_id, backends in service_backends(ctx).items():
            for b in backends:
                index = partition.class_of_pod.get(b.pod.id)
                if index is not None:
                    services.setdefault(index, set()).add(
                        (service_id, b.service_port.port, b.target_port, b.service_port.protocol)
                    )
        found = ctx.cache["ports_per_class"] = (declared, services)
    return found  # type: ignore[return-value]


@check(
    "port-is-service-port",
    WARNING,
    "a numeric port matches a Service port but no container port: written against the Service",
    "NetworkPolicy sees the packet after Service DNAT, on the pod's port (the Service's "
    "targetPort). A rule naming the Service port (80) when the pods listen on the targetPort "
    "(8080) does not match the traffic. The classic case is DNS on OpenShift: Service 53, "
    "pods 5353.",
    "Use the targetPort (the container port) in the rule.",
    pitfall="spec 3, 7.10; edge case 30",
    needs_pods=True,
)
def _service_port(ctx: LintContext) -> Iterator[Finding]:
    me = by_id("port-is-service-port")
    for compiled in ctx.cc.policies:
        for rule in counting_rules(compiled):
            numeric = [
                (j, e)
                for j, e in enumerate(rule.rule.ports)
                if isinstance(e.port, int) and e.end_port is None
            ]
            if not numeric:
                continue
            destinations = destination_classes(ctx, compiled, rule)
            declared = _declared(ctx, destinations)
            for j, entry in numeric:
                if (entry.port, entry.protocol) in declared:
                    continue
                hits = [
                    (sid, target)
                    for sid, port, target, proto in _services_of(ctx, destinations)
                    if port == entry.port
                    and proto == entry.protocol
                    and target is not None
                    and target != port
                ]
                if not hits:
                    continue
                sid, target = hits[0]
                yield me.on_policy(
                    compiled.policy,
                    f"port {entry.port}/{entry.protocol} is the port of Service {sid}, whose pods "
                    f"receive the traffic on {target}/{entry.protocol} (after DNAT): the rule does not match it",
                    f"{rule_path(rule)}.ports[{j}]",
                    f"write `port: {target}` (the targetPort)",
                )


@check(
    "port-protocol-mismatch",
    WARNING,
    "a numeric port the destination pods declare only with another protocol",
    "A port entry without `protocol` means TCP. When the destination pods declare that port "
    "number only as UDP (syslog 514, NTP 123, a UDP-only DNS), the rule allows a TCP port "
    "nobody listens on and silently excludes the UDP traffic.",
    "Add `protocol: UDP` (or list both protocols).",
    pitfall="spec 3, 7.13-7.14",
    needs_pods=True,
)
def _port_protocol(ctx: LintContext) -> Iterator[Finding]:
    me = by_id("port-protocol-mismatch")
    for compiled in ctx.cc.policies:
        for rule in counting_rules(compiled):
            declared = _declared(ctx, destination_classes(ctx, compiled, rule))
            for j, entry in enumerate(rule.rule.ports):
                if not isinstance(entry.port, int) or entry.end_port is not None:
                    continue
                if (entry.port, entry.protocol) in declared:
                    continue
                others = sorted(proto for port, proto in declared if port == entry.port)
                if not others:
                    continue
                covered = any(
                    e.port == entry.port and e.protocol in others for e in rule.rule.ports
                )
                if covered:
                    continue
                yield me.on_policy(
                    compiled.policy,
                    f"port {entry.port}/{entry.protocol}: the destination pods declare {entry.port} only as "
                    f"{', '.join(others)}",
                    f"{rule_path(rule)}.ports[{j}]",
                    f"add `protocol: {others[0]}` to this entry (or a second entry for it)",
                )


@check(
    "port-all-tcp",
    INFO,
    "a port entry without a port (`{}` or `{protocol: TCP}`) allows all TCP and no UDP",
    "`ports: [{}]` is defaulted to `[{protocol: TCP}]`: every TCP port, and nothing of UDP or "
    "SCTP. It reads like 'any port' but silently excludes UDP (DNS, QUIC, syslog).",
    "If any port of any protocol was meant, drop `ports` entirely; otherwise add the UDP "
    "entries you need.",
    pitfall="spec 3, 7.13; edge case 20",
)
def _all_tcp(ctx: LintContext) -> Iterator[Finding]:
    me = by_id("port-all-tcp")
    for compiled in ctx.cc.policies:
        for rule in counting_rules(compiled):
            ports = rule.rule.ports
            if any(e.protocol == "UDP" for e in ports):
                continue
            for j, entry in enumerate(ports):
                if entry.port is None and entry.protocol == "TCP":
                    written = (
                        "`{}`: the protocol defaults to TCP, so"
                        if entry.protocol_defaulted
                        else "has no port:"
                    )
                    yield me.on_policy(
                        compiled.policy,
                        f"ports[{j}] {written} every TCP port, and no UDP or SCTP port",
                        f"{rule_path(rule)}.ports[{j}]",
                    )
