"""``describe cnp|ccnp`` in plain words: each rule's subject and the pods it selects, its
default deny per direction (docs/cilium.md "Default deny"), and each entry: allow or
deny, its peers, ports and L7 parts."""

from __future__ import annotations

from netpol.engine.cilium import NAMESPACE_KEY, NAMESPACE_LABELS_PREFIX
from netpol.engine.cilium_describe import CiliumPolicyDescription, CiliumRuleDescription
from netpol.model.cilium import ANY_PROTOCOL_NAME, CIDRRule, CiliumEntry, CiliumPolicy, CiliumRule
from netpol.model.selectors import LabelSelector
from netpol.model.wording import first_few

DIRECTIONS = ("Ingress", "Egress")


def _pods(ids: tuple[str, ...]) -> str:
    return f"{len(ids)} pod(s): {first_few(ids, 8) if ids else 'none'}"


def cilium_text(d: CiliumPolicyDescription) -> str:
    policy = d.policy
    lines = [f"Name:         {policy.name}", f"Kind:         {policy.kind} ({policy.api_version})"]
    if policy.namespace is not None:
        lines.append(f"Namespace:    {policy.namespace}")
    lines += [
        f"Source:       {policy.source}",
        f"Rules:        {len(policy.rules)}",
        f"Selects:      {_pods(d.selected)}",
    ]
    for rule in d.rules:
        lines += _rule_lines(d, rule)
    return "\n".join(lines)


def _rule_lines(d: CiliumPolicyDescription, described: CiliumRuleDescription) -> list[str]:
    rule = described.rule
    lines = [f"Rule {rule.path}:"]
    if described.host_policy:
        assert rule.node_selector is not None
        lines += [
            f"  Subject:    nodes {rule.node_selector.text()} (a host policy)",
            "  Selects:    no pod: host policies apply to nodes, which netpol does not "
            "isolate; this rule neither isolates nor allows pods",
        ]
    else:
        subject = rule.endpoint_selector.text() if rule.endpoint_selector else "<none>"
        where = (
            f"pods of {d.policy.namespace}"
            if d.policy.namespace is not None
            else "pods of every namespace"
        )
        lines += [
            f"  Subject:    {subject} ({where})",
            f"  Selects:    {_pods(described.selected)}",
        ]
        lines += [
            f"  {direction + ':':<11} {_default_deny(rule, direction)}" for direction in DIRECTIONS
        ]
    for entry in rule.entries:
        lines += ["  " + line for line in _entry_lines(d, entry)]
    return lines


def _default_deny(rule: CiliumRule, direction: str) -> str:
    """The rule's default deny for ``direction``, defaulted as Cilium v1.20 does (§1.4)."""
    written = rule.default_deny_ingress if direction == "Ingress" else rule.default_deny_egress
    field = f"enableDefaultDeny.{direction.lower()}"
    if rule.default_deny(direction):
        why = f"{field}: true" if written else f"it has {direction.lower()} entries"
        return f"default deny ({why}): what no allow entry matches is dropped"
    if written is False:
        return (
            f"no default deny ({field}: false): its entries allow or deny, what they do "
            "not match is left to other policies"
        )
    return f"not enforced by this rule (no {direction.lower()} entry)"


def _entry_lines(d: CiliumPolicyDescription, entry: CiliumEntry) -> list[str]:
    action = "deny" if entry.deny else "allow"
    lines = [f"{entry.section}[{entry.index}]: {action}"]
    word = entry.prefix + ":"
    if entry.empty_peer_field is not None:
        lines.append(
            f"  {word:<7} nothing ({entry.empty_peer_field} is an empty list: the entry "
            "matches nothing)"
        )
        return lines
    peers = _peers(d, entry)
    if peers:
        lines += [f"  {word:<7} {peer}" for peer in peers]
    elif entry.has_ports:
        lines.append(f"  {word:<7} every peer (no peer field: world, host and all pods)")
    else:
        lines.append(f"  {word:<7} nothing (an empty entry matches no traffic)")
        return lines
    lines.append(f"  {'ports:':<7} {_ports(entry)}")
    if entry.l7:
        lines.append(
            f"  {'L7:':<7} {', '.join(entry.l7)} (Cilium's proxy filters the requests; "
            "the connection is allowed at L4)"
        )
    if entry.authentication is not None:
        lines.append(
            f"  {'auth:':<7} {entry.authentication} (dropped until mutual authentication succeeds)"
        )
    return lines


def _peers(d: CiliumPolicyDescription, entry: CiliumEntry) -> list[str]:
    out = [f"endpoints {s.text()} ({_endpoint_scope(d.policy, s)})" for s in entry.endpoints or ()]
    if entry.entities:
        out.append(f"entities {', '.join(entry.entities)}")
    out += [_cidr(d, c) for c in entry.cidrs or ()]
    out += [s.text() for s in entry.services or ()]
    out += [f"FQDN {f.text()} (depends on DNS)" for f in entry.fqdns or ()]
    if entry.groups:
        out.append(f"{entry.groups} cloud group(s) (resolved by a cloud integration, not offline)")
    out += [f"nodes {s.text()}" for s in entry.nodes or ()]
    return out


def _endpoint_scope(policy: CiliumPolicy, selector: LabelSelector) -> str:
    """Where an endpoints selector looks (Cilium semantics §3.2)."""
    keys = selector.keys()
    if any(k.startswith(("reserved:", "$")) for k in keys):
        return "reserved identities"
    plain = {k.partition(":")[2] if k.startswith(("k8s:", "any:")) else k for k in keys}
    if NAMESPACE_KEY in plain:
        return "the namespaces it names"
    if policy.namespace is None:
        return "pods of every namespace"
    if any(k.startswith(NAMESPACE_LABELS_PREFIX) for k in plain):
        return "pods of the namespaces whose labels match"
    return f"pods of {policy.namespace}"


def _cidr(d: CiliumPolicyDescription, rule: CIDRRule) -> str:
    prefixes = d.group_cidrs(rule)
    if prefixes is None:
        return f"CIDR {rule.text()} (addresses outside the cluster)"
    named = (
        f"cidrGroupRef {rule.group_ref}"
        if rule.group_ref is not None
        else f"cidrGroupSelector {rule.group_selector.text() if rule.group_selector else ''}"
    )
    if not prefixes:
        return f"{named}: no such CIDR group, matches no address"
    shown = rule.except_text or tuple(map(str, rule.excepts))
    excepts = f" except {', '.join(shown)}" if shown else ""
    return f"{named} ({first_few(prefixes, 4)}){excepts} (addresses outside the cluster)"


def _ports(entry: CiliumEntry) -> str:
    if not entry.has_ports:
        return "any port, any protocol"
    parts = [
        p.text() + " (TCP, UDP, SCTP)" * (p.protocol == ANY_PROTOCOL_NAME and p.port != "0")
        for p in entry.ports
    ]
    if entry.icmp_types is not None:
        parts.append(f"ICMP type {', '.join(entry.icmp_types)}")
    return ", ".join(parts) or "no port (its toPorts lists none)"


def cilium_json(d: CiliumPolicyDescription) -> dict[str, object]:
    policy = d.policy
    return {
        "kind": "CiliumPolicyDescription",
        "policy": policy.id,
        "policyKind": policy.kind,
        "apiVersion": policy.api_version,
        "source": policy.source.at(),
        "selects": list(d.selected),
        "rules": [_rule_json(d, r) for r in d.rules],
    }


def _rule_json(d: CiliumPolicyDescription, described: CiliumRuleDescription) -> dict[str, object]:
    rule = described.rule
    return {
        "path": rule.path,
        "endpointSelector": rule.endpoint_selector.text() if rule.endpoint_selector else None,
        "nodeSelector": rule.node_selector.text() if rule.node_selector else None,
        "selects": list(described.selected),
        "defaultDeny": (
            None
            if described.host_policy
            else {direction.lower(): rule.default_deny(direction) for direction in DIRECTIONS}
        ),
        "entries": [
            {
                "section": e.section,
                "index": e.index,
                "action": "Deny" if e.deny else "Allow",
                "peers": [] if e.empty_peer_field else _peers(d, e),
                "emptyPeerField": e.empty_peer_field,
                "anyPeer": not e.has_peer_field and e.has_ports,
                "ports": _ports(e),
                "l7": list(e.l7),
                "authentication": e.authentication,
            }
            for e in rule.entries
        ],
    }
