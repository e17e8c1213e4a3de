"""``netpol get`` tables for Cilium's kinds: CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy
(one row per policy, its rules counted) and CiliumCIDRGroup."""

from __future__ import annotations

from netpol.engine.selectors import matches
from netpol.model.cilium import CIDRGroup, CiliumPolicy, CiliumRule
from netpol.model.cluster import Cluster
from netpol.model.source import GENERATED, Source
from netpol.model.wording import first_few

Table = tuple[list[str], list[list[object]]]


def cilium_policy_table(cluster: Cluster, items: list[CiliumPolicy], wide: bool) -> Table:
    """NAME, RULES (``spec`` and ``specs`` together), SELECTOR (each rule's subject), DENY
    (whether any entry denies); wide adds each direction's entries and the source."""
    headers = ["NAME", "RULES", "SELECTOR", "DENY"]
    if wide:
        headers += ["INGRESS", "EGRESS", "SOURCE"]
    rows: list[list[object]] = []
    for policy in items:
        subjects = dict.fromkeys(_subject(r) for r in policy.rules)
        deny = any(e.deny for r in policy.rules for e in r.entries)
        row: list[object] = [policy.name, len(policy.rules), "; ".join(subjects), _yes(deny)]
        if wide:
            row += [
                _direction(policy, "Ingress"),
                _direction(policy, "Egress"),
                _where(policy.source),
            ]
        rows.append(row)
    return headers, rows


def _subject(rule: CiliumRule) -> str:
    """What the rule applies to: its endpointSelector, or ``nodes ...`` for a host policy."""
    if rule.node_selector is not None:
        return f"nodes {rule.node_selector.text()}"
    if rule.endpoint_selector is None:
        return "<none>"
    return rule.endpoint_selector.text()


def _direction(policy: CiliumPolicy, direction: str) -> str:
    """``2 allow, 1 deny (default deny)``; ``-`` when no rule has an entry or default deny.
    Host policy rules (nodeSelector) are left out: they never apply to pods."""
    rules = [r for r in policy.rules if r.node_selector is None]
    entries = [e for r in rules for e in r.entries_of(direction)]
    default_deny = any(r.default_deny(direction) for r in rules)
    if not entries and not default_deny:
        return "-"
    denies = sum(e.deny for e in entries)
    text = f"{len(entries) - denies} allow, {denies} deny"
    return text + " (default deny)" * default_deny


def cidr_group_table(cluster: Cluster, items: list[CIDRGroup], wide: bool) -> Table:
    """NAME, CIDRS, POLICIES (the Cilium policies naming the group, by name or labels)."""
    headers = ["NAME", "CIDRS", "POLICIES"] + ["SOURCE"] * wide
    rows: list[list[object]] = []
    for group in items:
        users = [p for p in cluster.cilium_policies if _names_group(p, group)]
        row: list[object] = [
            group.name,
            first_few(tuple(map(str, group.cidrs)), 3) or "<none>",
            len(users),
        ]
        rows.append(row + [_where(group.source)] * wide)
    return headers, rows


def _names_group(policy: CiliumPolicy, group: CIDRGroup) -> bool:
    labels = dict(group.labels)
    return any(
        c.group_ref == group.name
        or (c.group_selector is not None and matches(c.group_selector, labels))
        for r in policy.rules
        for e in r.entries
        for c in e.cidrs or ()
    )


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _where(source: Source) -> str:
    return source.at() if source != GENERATED else "-"
