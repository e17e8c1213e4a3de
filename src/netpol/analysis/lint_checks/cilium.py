"""Cilium pitfalls: rules that read one way and mean another under Cilium (docs/cilium.md;
Cilium semantics §4.2, §4.5, §5.4, §6.2, §7.2, §8).

Each check reads the policies as written (``cluster.cilium_policies``, and the
NetworkPolicies when Cilium enforces them) and compares entries through
``cilium_grants`` (an entry only with those filed under its subject's own terms), then,
for covers only the pods show, reads the engine's fill per endpoint class
(``cilium_fill``): no pod pair is ever visited.
"""

from __future__ import annotations

from collections.abc import Iterator

from netpol.analysis.lint import Finding, LintContext, by_id, check
from netpol.analysis.lint_checks.cilium_addresses import in_cluster, networks_of
from netpol.analysis.lint_checks.cilium_fill import DeadAllow, dead_allows
from netpol.analysis.lint_checks.cilium_grants import (
    Grant,
    PortItem,
    Selector,
    SubjectIndex,
    cilium_grants,
    entry_path,
    knp_grants,
)
from netpol.analysis.lint_checks.common import (
    ERROR,
    INFO,
    WARNING,
    cilium_in_play,
    workloads_text,
)
from netpol.model.cilium import CCNP_KIND, CiliumEntry, CiliumPolicy, CiliumRule
from netpol.model.diagnostics import Severity
from netpol.model.objects import Pod
from netpol.model.wording import first_few

TRAP = "docs/cilium.md, trap"  # its section "The traps" explains each check


def _entries(ctx: LintContext) -> Iterator[tuple[CiliumPolicy, CiliumRule, CiliumEntry]]:
    """(policy, rule, entry) for every entry of every Cilium policy."""
    for policy in ctx.cluster.cilium_policies:
        for rule in policy.rules:
            for entry in rule.entries:
                yield policy, rule, entry


def _on(
    check_id: str,
    policy: CiliumPolicy,
    field: str,
    message: str,
    severity: Severity | None = None,
) -> Finding:
    return by_id(check_id).finding(
        message, policy.id, policy.source, field, policy=policy.id, severity=severity
    )


def _on_grant(check_id: str, grant: Grant, field: str, message: str) -> Finding:
    return by_id(check_id).finding(message, grant.obj, grant.source, field, "", grant.policy_id)


def _grants(ctx: LintContext) -> list[Grant]:
    """Every entry of every Cilium policy and, as Cilium reads them, every NetworkPolicy
    rule (computed once for the checks that compare them)."""
    cached = ctx.cache.get("cilium_grants")
    if cached is not None:
        return cached  # type: ignore[return-value]
    found: list[Grant] = []
    if ctx.cluster.cilium_policies:  # every comparison starts from a Cilium entry
        found += cilium_grants(ctx.cluster.cilium_policies)
        found += knp_grants(ctx.cluster.policies)
    ctx.cache["cilium_grants"] = found
    return found


Shape = tuple[object, ...]


def _distinct(grants: list[Grant], ports: str = "ports") -> dict[Shape, Grant]:
    """The first grant of each (direction, subject, peers, ports): copies of a policy, or
    of one entry in many policies, are compared once (lint stays linear in copies)."""
    found: dict[Shape, Grant] = {}
    for g in grants:
        found.setdefault((g.direction, g.subject, g.peers, getattr(g, ports)), g)
    return found


@check(
    "cilium-empty-rule",
    WARNING,
    "a Cilium allow entry `{}` matches nothing: it denies the direction instead of allowing it",
    "In a NetworkPolicy, `ingress: [{}]` allows everything. In a CiliumNetworkPolicy or "
    "CiliumClusterwideNetworkPolicy an entry with no peer field and no `toPorts`/`icmps` "
    "matches nothing, while its presence switches the direction to default deny: "
    "`ingress: [{}]` denies all ingress of the pods it selects (the connectivity suite's "
    "all-ingress-deny). Written as allow-all, it cuts the pods off.",
    "To allow everything write `fromEntities: [all]` (`toEntities: [all]`), or an L4-only "
    "entry (`toPorts` with no peer field); to leave the direction alone remove the section; "
    "if deny-all is the intent, say it with a comment and disable this check.",
    pitfall=f"{TRAP} '`[{{}}]` denies'",
)
def _empty_rule(ctx: LintContext) -> Iterator[Finding]:
    for policy, rule, entry in _entries(ctx):
        if entry.deny or entry.has_peer_field or entry.has_ports:
            continue
        direction = entry.direction.lower()
        if rule.default_deny(entry.direction):
            effect = (
                f"the rule's {direction} is default-deny, so all {direction} of the pods it "
                "selects is denied"
            )
        else:
            effect = f"with enableDefaultDeny.{direction} false it changes nothing"
        yield _on(
            "cilium-empty-rule",
            policy,
            entry_path(rule, entry),
            f"{entry.section}[{entry.index}] is `{{}}`: under Cilium it matches no peer, and "
            f"{effect} (a NetworkPolicy's `{{}}` would allow it all)",
        )


def _cidr_message(what: str, covered: str, deny: bool) -> str:
    effect = "deny" if deny else "allow"
    return (
        f"{what} covers {covered}, but Cilium matches CIDRs only against addresses outside "
        f"the cluster (world): it does not {effect} them"
    )


@check(
    "cilium-cidr-selects-pods",
    WARNING,
    "a CIDR rule or ipBlock aimed at pod or node IPs: under Cilium it matches only the world",
    "Cilium matches pods by their identity (labels), never by their IP: `toCIDR`, "
    "`fromCIDRSet`, a CiliumCIDRGroup, and a NetworkPolicy `ipBlock` enforced by Cilium "
    "match only addresses outside the cluster. A prefix covering the pod CIDR, a pod or a "
    "node neither allows nor denies them (`toCIDR: 10.0.0.0/8` does not reach pods in "
    "10.244.0.0/16), deny rules included. A prefix of every address (`0.0.0.0/0`) is a "
    "note: it is usually meant as the world.",
    "Select pods with `toEndpoints`/`fromEndpoints` (or namespaceSelector/podSelector), "
    "nodes with `toEntities: [host, remote-node]` (or `cluster` for both); `except` the "
    "pod CIDR from prefixes meant for the outside.",
    pitfall=f"{TRAP} 'CIDR never reaches pods'",
)
def _cidr_pods(ctx: LintContext) -> Iterator[Finding]:
    for policy, _, entry in _entries(ctx):
        for rule in entry.cidrs or ():
            for network in networks_of(ctx, rule):
                covered = in_cluster(ctx, network, rule.excepts)
                if not covered:
                    continue
                yield by_id("cilium-cidr-selects-pods").finding(
                    _cidr_message(
                        f"{entry.section}[{entry.index}] {rule.text()}", covered, entry.deny
                    ),
                    policy.id,
                    policy.source,
                    rule.path,
                    policy=policy.id,
                    severity=INFO if network.prefixlen == 0 else None,
                )
                break  # one finding per CIDR rule, even for a group of several prefixes
    if cilium_in_play(ctx):
        yield from _ip_blocks_pods(ctx)


def _ip_blocks_pods(ctx: LintContext) -> Iterator[Finding]:
    """The NetworkPolicy half: every rule counts, policyTypes or not (Cilium <= 1.20.1,
    Cilium semantics §8)."""
    for policy in ctx.cluster.policies:
        for direction, rules in (("ingress", policy.ingress), ("egress", policy.egress)):
            word = "from" if direction == "ingress" else "to"
            for i, rule in enumerate(rules):
                for j, peer in enumerate(rule.peers):
                    block = peer.ip_block
                    if block is None:
                        continue
                    covered = in_cluster(ctx, block.network, block.except_networks)
                    if not covered:
                        continue
                    yield by_id("cilium-cidr-selects-pods").on_policy(
                        policy,
                        _cidr_message(f"{word}[{j}] ipBlock {block.text()}", covered, False),
                        f"spec.{direction}[{i}].{word}[{j}]",
                        severity=INFO if block.network.prefixlen == 0 else None,
                    )


# entities that cover the nodes and the hostNetwork pods an `{}` endpoint peer misses
NODE_ENTITIES = ({"all"}, {"cluster"}, {"host", "remote-node"})


@check(
    "cilium-endpoints-not-nodes",
    INFO,
    "an endpoint peer `{}` never matches nodes or hostNetwork pods",
    "`fromEndpoints: [{}]` in a CiliumClusterwideNetworkPolicy selects every pod of every "
    "namespace, and in a CiliumNetworkPolicy every pod of its namespace, but never a node, "
    "nor a hostNetwork pod (they carry the node's identity, host or remote-node): traffic "
    "from kubelets, node-local agents and hostNetwork pods is not matched. A warning when "
    "the input has hostNetwork pods it would seem to cover, a note otherwise.",
    "Add `fromEntities: [cluster]` (every pod, node and hostNetwork pod), or "
    "`[host, remote-node]` for the nodes only, in an entry beside it.",
    pitfall=f"{TRAP} '`fromEndpoints: [{{}}]` is the namespace only (and never a node)'",
)
def _endpoints_not_nodes(ctx: LintContext) -> Iterator[Finding]:
    host_pods = [p for p in ctx.cluster.pods if p.host_network]
    for policy in ctx.cluster.cilium_policies:
        if policy.kind == CCNP_KIND:
            missed = host_pods
            if not missed and not ctx.cluster.nodes:
                continue
        else:
            missed = [p for p in host_pods if p.namespace == policy.namespace]
            if not missed:
                continue
        for rule in policy.rules:
            for entry in rule.entries:
                if _entities_cover_nodes(rule.entries, entry):
                    continue
                for j, selector in enumerate(entry.endpoints or ()):
                    if not selector.is_empty:
                        continue
                    yield _on(
                        "cilium-endpoints-not-nodes",
                        policy,
                        f"{entry_path(rule, entry)}.{entry.prefix}Endpoints[{j}]",
                        _not_nodes_message(ctx, policy, entry, j, missed),
                        severity=WARNING if missed else None,
                    )


def _entities_cover_nodes(entries: tuple[CiliumEntry, ...], entry: CiliumEntry) -> bool:
    """Whether the rule already names the nodes for this entry's section."""
    named = {e for other in entries if other.section == entry.section for e in other.entities or ()}
    return any(needed <= named for needed in NODE_ENTITIES)


def _not_nodes_message(
    ctx: LintContext, policy: CiliumPolicy, entry: CiliumEntry, index: int, missed: list[Pod]
) -> str:
    scope = "every namespace" if policy.namespace is None else f"namespace {policy.namespace}"
    if missed:
        whom = f"the hostNetwork pods {workloads_text(missed)}"
    else:
        whom = f"the nodes ({first_few([n.name for n in ctx.cluster.nodes], 3)})"
    verb = "denies" if entry.deny else "allows"
    return (
        f"{entry.section}[{entry.index}] {entry.prefix}Endpoints[{index}] `{{}}` {verb} every "
        f"pod of {scope} but not {whom}: nodes and hostNetwork pods are host/remote-node, "
        "never endpoints"
    )


@check(
    "cilium-allow-denied",
    WARNING,
    "an allow that a Cilium deny entry overrides entirely",
    "In Cilium a matching `ingressDeny`/`egressDeny` entry beats every allow, of a "
    "CiliumNetworkPolicy, a CiliumClusterwideNetworkPolicy or a NetworkPolicy alike. An "
    "allow whose every peer and port is denied by a deny entry applying to the same pods "
    "allows nothing: it is dead, or the deny is broader than meant. Read off the "
    "manifests (the deny names the same or fewer pod labels, the same or more peers, or "
    "none, or `all`, and the same or more ports), and, for covers only the input's pods "
    "show, off the engine's evaluation per endpoint class.",
    "Narrow the deny (peers or ports) so the allow can act, or delete the allow.",
    pitfall=f"{TRAP} 'An allow shadowed by a deny'",
)
def _allow_denied(ctx: LintContext) -> Iterator[Finding]:
    grants = _grants(ctx)
    denies = SubjectIndex(_distinct([g for g in grants if g.deny and not g.nothing]).values())
    if not denies.grants:
        return  # no deny at all: nothing is denied first either
    known: dict[Shape, Grant | None] = {}
    reported: set[tuple[str, str]] = set()
    for allow in grants:
        if allow.deny or allow.nothing:
            continue
        shape = (allow.direction, allow.subject, allow.peers, allow.ports)
        if shape not in known:
            known[shape] = next(
                (
                    d
                    for d in denies.covering(allow)
                    if allow.peers.within(d.peers) and allow.ports.within(d.ports)
                ),
                None,
            )
        deny = known[shape]
        if deny is not None:
            reported.add((allow.obj, allow.field))
            yield _on_grant(
                "cilium-allow-denied",
                allow,
                allow.field,
                f"{allow.label} allows nothing: {deny.label} denies every peer and port "
                "it allows, for the same pods (a deny wins over any allow)",
            )
    for dead in dead_allows(ctx, "cilium-allow-denied"):
        if dead.allowed_by or not dead.denied_by or (dead.policy.id, dead.field) in reported:
            continue
        yield _on_dead(
            "cilium-allow-denied",
            dead,
            f"{dead.label} allows nothing to the input's pods ({dead.workloads}): all it "
            f"matches is denied first by {first_few(list(dead.denied_by), 3)} (a deny wins "
            "over any allow)",
        )


def _on_dead(check_id: str, dead: DeadAllow, message: str) -> Finding:
    policy = dead.policy
    return by_id(check_id).finding(message, policy.id, policy.source, dead.field, "", policy.id)


@check(
    "cilium-l7-void",
    WARNING,
    "L7 rules on a port another allow already opens at L4: the L7 filter never applies",
    "When another allow entry (of any policy, NetworkPolicies included) lets the same peers "
    "reach the same pods on the same port without L7 rules, Cilium allows the connection at "
    "L4 and the proxy never filters it: 'the layer 7 portions of the latter rule will have "
    "no effect'. The HTTP paths or DNS names the L7 rule lists look enforced and are not. "
    "Read off the manifests, and off the engine's evaluation per endpoint class.",
    "Narrow the L4 allow (other ports, or other peers), or move the L7 rules onto it.",
    pitfall=f"{TRAP} 'An L7 rule on a port open at L4'",
)
def _l7_void(ctx: LintContext) -> Iterator[Finding]:
    grants = _grants(ctx)
    opening = [g for g in grants if not g.deny and not g.l4_ports.nothing and not g.peers.nothing]
    distinct = SubjectIndex(_distinct(opening, "l4_ports").values())
    known: dict[Shape, Grant | None] = {}
    reported: set[tuple[str, str]] = set()
    for grant in grants:
        if grant.deny or grant.peers.nothing or grant.entry is None:
            continue
        for index, kinds, ports in grant.l7:
            if ports.nothing:
                continue
            shape = (grant.direction, grant.subject, grant.peers, ports)
            if shape not in known:
                known[shape] = next(
                    (
                        g
                        for g in distinct.covering(grant)
                        if grant.peers.within(g.peers) and ports.within(g.l4_ports)
                    ),
                    None,
                )
            wider = known[shape]
            if wider is None:
                continue
            reported.add((grant.obj, grant.field))
            yield _on_grant(
                "cilium-l7-void",
                grant,
                f"{grant.field}.toPorts[{index}]",
                f"{grant.label} toPorts[{index}]: its {kinds} rules never apply: "
                f"{wider.label} already allows the same peers on {ports.text()} at L4",
            )
    for dead in dead_allows(ctx, "cilium-l7-void"):
        if not dead.l7 or not dead.allowed_by or (dead.policy.id, dead.field) in reported:
            continue
        yield _on_dead(
            "cilium-l7-void",
            dead,
            f"{dead.label}: its L7 rules never apply to the input's pods ({dead.workloads}): "
            f"all it matches is allowed at L4 first by {first_few(list(dead.allowed_by), 3)}",
        )


@check(
    "cilium-policy-types-enforced",
    ERROR,
    "a NetworkPolicy with rules for a direction its policyTypes leaves out: Cilium enforces them",
    "Upstream, rules of a direction missing from an explicit `policyTypes` are ignored. "
    "Cilium up to 1.20.1 translates them anyway (cilium/cilium#48703): `policyTypes: "
    "[Egress]` with an `ingress:` list makes its pods ingress-isolated, allowing only those "
    "rules. The same manifest isolates on one Cilium version and not on the next.",
    "Add the direction to policyTypes if the rules are meant, or delete them.",
    pitfall=f"{TRAP} 'A NetworkPolicy whose `policyTypes` Cilium ignores'",
)
def _policy_types(ctx: LintContext) -> Iterator[Finding]:
    if ctx.cc.profile.honours_policy_types:
        return
    # as written: the compiled cluster reads them as this Cilium does (types added)
    for policy in ctx.cc.input_cluster.policies:
        for direction, rules in (("Ingress", policy.ingress), ("Egress", policy.egress)):
            if not rules or direction in policy.policy_types:
                continue
            yield by_id("cilium-policy-types-enforced").on_policy(
                policy,
                f"policyTypes [{', '.join(policy.policy_types)}] leaves out {direction}, but "
                f"the policy has {len(rules)} {direction.lower()} rule(s): Cilium up to 1.20.1 "
                f"enforces them (its pods become {direction.lower()}-isolated), upstream "
                "ignores them",
                f"spec.{direction.lower()}",
            )


def _dns_proxied(grant: Grant) -> bool:
    """Whether an egress allow sends DNS (port 53) through the proxy with L7 DNS rules."""
    port = PortItem("UDP", 53, 53)
    tcp = PortItem("TCP", 53, 53)
    return any(
        "dns" in kinds.split(",") and any(port.within(i) or tcp.within(i) for i in ports.items)
        for _, kinds, ports in grant.l7
    )


@check(
    "cilium-fqdn-without-dns-proxy",
    WARNING,
    "toFQDNs without an L7 DNS rule for the same pods: the FQDN rule allows nothing",
    "Cilium learns the addresses of `toFQDNs` names from the DNS answers its proxy sees. "
    "The proxy sees them only for pods with an egress allow on port 53 carrying "
    "`rules: {dns: [...]}`. Without one, no name is ever resolved and the FQDN rule "
    "allows nothing (while its egress entry still turns egress default deny on).",
    "Add an egress entry to kube-dns on port 53 (UDP and TCP) with "
    '`rules: {dns: [{matchPattern: "*"}]}` for the same pods (the same rule is simplest).',
    pitfall=f"{TRAP} '`toFQDNs` without DNS visibility'",
)
def _fqdn_without_dns(ctx: LintContext) -> Iterator[Finding]:
    grants = _grants(ctx)
    dns = SubjectIndex(
        {
            g.subject: g
            for g in grants
            if not g.deny and g.direction == "Egress" and _dns_proxied(g)
        }.values()
    )
    seen: dict[Selector, bool] = {}
    for grant in grants:
        entry = grant.entry
        if entry is None or not entry.fqdns or grant.deny or grant.nothing:
            continue
        if grant.subject not in seen:
            seen[grant.subject] = next(dns.covering(grant), None) is not None
        if seen[grant.subject]:
            continue
        names = first_few([f.text() for f in entry.fqdns], 3)
        yield _on_grant(
            "cilium-fqdn-without-dns-proxy",
            grant,
            f"{grant.field}.toFQDNs",
            f"{grant.label} toFQDNs ({names}) allows nothing: no egress rule of the same "
            "pods sends DNS on port 53 through Cilium's proxy (`rules: {dns: ...}`), so the "
            "names are never resolved",
        )
