"""CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy in the tiered model (docs/cilium.md).

Cilium puts every policy kind in one tier where a matching deny beats every allow, the
allows are a union, and a direction is denied by default once an applicable rule turns
its default deny on (section 7.2 of the semantics). In the tiered model that is:

* a tier ``cilium-deny`` before the ``default`` tier, default action Pass, holding every
  deny entry as a Deny rule;
* the ``default`` tier (default action Deny, where Kubernetes NetworkPolicies already
  sit), holding every allow entry as an Allow rule, in a policy that isolates only the
  directions where its rule has default deny on (``TieredPolicy.isolates``);
* last in the ``default`` tier, allow-localhost: traffic from a pod's own node is allowed
  (lowest precedence, so a deny of ``host`` still blocks it).

Entities relative to the subject (``host``, ``remote-node``) are expanded per node: one
rule per node, whose subject side is the pods on that node. Pods are matched on their
Cilium identity labels (``identity_view``), so namespace, service account, cluster and
namespace labels are plain labels to every selector, NetworkPolicies' included.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from netpol.engine.selectors import matches
from netpol.engine.tiers import IMPLICIT_KIND
from netpol.model.cilium import (
    CIDRGroup,
    CIDRRule,
    CiliumEntry,
    CiliumPolicy,
    CiliumPort,
    CiliumRule,
    FQDNSelector,
    ServiceRef,
)
from netpol.model.cilium_ports import parse_port_number
from netpol.model.cluster import Cluster
from netpol.model.objects import Pod
from netpol.model.options import Options
from netpol.model.policy import IPNetwork, PolicyPort
from netpol.model.selectors import LabelSelector, Requirement
from netpol.model.tiers import (
    ALLOW,
    ANY,
    ANY_PROTOCOL,
    CLUSTER,
    DEFAULT_TIER,
    DENY,
    NODES,
    NOTHING,
    PASS,
    PODS,
    WORLD,
    EndpointMatch,
    Tier,
    TieredPolicy,
    TierRule,
)

DENY_TIER = Tier("cilium-deny", 999_000, PASS)  # after the admin tier, before default
# in the default tier, after the NetworkPolicies (order 1000): allows at L4, then allows
# with L7 parts, so a chain names an L7 rule only when nothing allows at L4
L4_ALLOW_ORDER, L7_ALLOW_ORDER = 2000.0, 3000.0
ALLOW_LOCALHOST = "allow-localhost"
CONTROL_PLANE_LABEL = "node-role.kubernetes.io/control-plane"

# identity labels Cilium derives for every pod (semantics section 2.2)
NAMESPACE_KEY = "io.kubernetes.pod.namespace"
ACCOUNT_KEY = "io.cilium.k8s.policy.serviceaccount"
CLUSTER_KEY = "io.cilium.k8s.policy.cluster"
NAMESPACE_LABELS_PREFIX = "io.cilium.k8s.namespace.labels."
CLUSTER_NAME = "default"  # the agent's cluster-name default
# the default identity-label filter: keys with these prefixes (or containing
# beta.kubernetes.io) and these exact keys never reach an identity
DROPPED_PREFIXES = (
    "io.cilium.k8s",
    "io.kubernetes",
    "kubernetes.io",
    "k8s.io",
    "topology.kubernetes.io",
    "statefulset.kubernetes.io/pod-name",
    "apps.kubernetes.io/pod-index",
    "batch.kubernetes.io/job-completion-index",
    "batch.kubernetes.io/controller-uid",
    "annotation",
)
DROPPED_KEYS = frozenset(
    {
        "pod-template-hash",
        "pod-template-generation",
        "controller-revision-hash",
        "controller-uid",
        "etcd_node",
    }
)
KEPT_PREFIXES = ("app.kubernetes.io/",)  # longer include beats the ignore of kubernetes.io

DEPENDS_ON_DNS = "depends on DNS"  # an unresolved toFQDNs peer says so when it misses
SUBJECT_NODE = "\0subject"  # stands for the subject's node until rules are expanded per node
NOT_MODELLED = {
    "health": "cilium-health endpoints",
    "init": "endpoints whose identity is not resolved yet",
    "ingress": "Cilium's Ingress/Gateway proxy",
    "unmanaged": "pods Cilium does not manage",
}
L4_PROTOCOLS = ("TCP", "UDP", "SCTP")
DIRECTIONS = ("Ingress", "Egress")


def identity_label_kept(key: str) -> bool:
    """Whether a pod label reaches the pod's identity under the default filter."""
    if key.startswith(KEPT_PREFIXES):
        return True
    if key in DROPPED_KEYS or "beta.kubernetes.io" in key:
        return False
    return not key.startswith(DROPPED_PREFIXES)


def identity_labels(pod: Pod, namespace_labels: Mapping[str, str]) -> dict[str, str]:
    """Pod ``pod``'s Cilium identity, as ``k8s:`` labels without their source."""
    found = {k: v for k, v in pod.labels.items() if identity_label_kept(k)}
    found.update({NAMESPACE_LABELS_PREFIX + k: v for k, v in namespace_labels.items()})
    found[NAMESPACE_KEY] = pod.namespace
    found[ACCOUNT_KEY] = pod.service_account or "default"
    found[CLUSTER_KEY] = CLUSTER_NAME
    return found


def identity_view(cluster: Cluster) -> Cluster:
    """The cluster with every pod's labels replaced by its Cilium identity labels (pods
    with the same labels in one namespace and account share one dict)."""
    shared: dict[tuple[int, str, str], dict[str, str]] = {}
    pods = []
    for pod in cluster.pods:
        key = (id(pod.labels), pod.namespace, pod.service_account)
        labels = shared.get(key)
        if labels is None:
            labels = shared[key] = identity_labels(pod, cluster.namespace_labels(pod.namespace))
        pods.append(replace(pod, labels=labels))
    return replace(cluster, pods=tuple(pods))


def with_policy_types_ignored(cluster: Cluster) -> Cluster:
    """Cilium <= 1.20.1 enforces a NetworkPolicy's rules of a direction its explicit
    ``policyTypes`` leaves out (cilium/cilium#48703): the direction isolates too."""
    policies = []
    for policy in cluster.policies:
        types = list(policy.policy_types)
        if policy.ingress and "Ingress" not in types:
            types.append("Ingress")
        if policy.egress and "Egress" not in types:
            types.append("Egress")
        changed = len(types) != len(policy.policy_types)
        policies.append(replace(policy, policy_types=tuple(types)) if changed else policy)
    return replace(cluster, policies=tuple(policies))


@dataclass(frozen=True)
class _Context:
    cluster: Cluster
    fqdn_map: tuple[tuple[str, tuple[str, ...]], ...]
    nodes: tuple[str, ...]
    l7: bool  # False: allows with L7 parts match nothing (what only they allow shows)
    fqdn_as_world: bool  # an unresolved toFQDNs peer matches every world address


def cilium_tiered(cluster: Cluster, options: Options) -> tuple[TieredPolicy, ...]:
    """Every CNP and CCNP rule as tiered policies, plus allow-localhost."""
    names = {n.name for n in cluster.nodes} | {p.node for p in cluster.pods if p.node}
    ctx = _Context(
        cluster, options.fqdn_map, tuple(sorted(names)), options.cilium_l7, options.fqdn_as_world
    )
    found: list[TieredPolicy] = []
    for policy in cluster.cilium_policies:
        for rule in policy.rules:
            if rule.endpoint_selector is None:
                continue  # a nodeSelector rule is host firewall: never a pod (section 1.3)
            found += _rule_policies(policy, rule, ctx)
    found.append(_allow_localhost(ctx))
    return tuple(found)


def _rule_policies(policy: CiliumPolicy, rule: CiliumRule, ctx: _Context) -> list[TieredPolicy]:
    """A rule's deny entries as a policy of the deny tier; its allow entries as policies
    of the default tier, isolating the directions whose default deny is on: those without
    L7 parts first, so an allow at L4 decides before an L7-filtered one ("L4 wins")."""
    prefix = "" if rule.path == "spec" else f"{rule.path}."
    rules: dict[tuple[str, str], list[TierRule]] = {}
    for entry in rule.entries:
        for made in _tier_rules(policy, entry, f"{prefix}{entry.section}", ctx):
            kind = "deny" if entry.deny else ("l7" if made.note.startswith("L7") else "l4")
            rules.setdefault((kind, entry.direction), []).append(made)
    # a direction without entries is not enforced, whatever enableDefaultDeny says (7.2)
    isolates = tuple(d for d in DIRECTIONS if rule.default_deny(d) and rule.entries_of(d))
    base = TieredPolicy(
        kind=policy.kind,
        api_version=policy.api_version,
        name=policy.name,
        namespace=policy.namespace,
        tier=DEFAULT_TIER.name,
        order=None,
        subject=_subject(policy, rule),
        types=(),
        source=rule.source,
    )
    found = []
    for kind, tier, order in (
        ("deny", DENY_TIER.name, None),
        ("l4", DEFAULT_TIER.name, L4_ALLOW_ORDER),
        ("l7", DEFAULT_TIER.name, L7_ALLOW_ORDER),
    ):
        types = tuple(d for d in DIRECTIONS if (kind, d) in rules)
        if kind == "l4":  # the policy that isolates, rules or not
            types = tuple(d for d in DIRECTIONS if d in types or d in isolates)
        if not types:
            continue
        found.append(
            replace(
                base,
                tier=tier,
                order=order,
                types=types,
                isolates=None if kind == "deny" else isolates,
                ingress=tuple(rules.get((kind, "Ingress"), ())),
                egress=tuple(rules.get((kind, "Egress"), ())),
            )
        )
    return found


def _allow_localhost(ctx: _Context) -> TieredPolicy:
    """Ingress from the pod's own node: allowed when nothing else decided (section 7.2)."""
    rules = tuple(
        TierRule(
            index=i,
            action=ALLOW,
            name="the pod's own node",
            peers=(EndpointMatch(scope=NODES, node_name=node, shown=f"host (node {node})"),),
            local=EndpointMatch(scope=PODS, node_name=node),
            section="ingress",
        )
        for i, node in enumerate(ctx.nodes)
    )
    return TieredPolicy(
        kind=IMPLICIT_KIND,
        api_version="",
        name=ALLOW_LOCALHOST,
        namespace=None,
        tier=DEFAULT_TIER.name,
        order=None,
        subject=EndpointMatch(scope=PODS),
        types=("Ingress",),
        ingress=rules,
        isolates=(),
    )


# -- selectors -------------------------------------------------------------------------


def _source_and_key(key: str) -> tuple[str, str]:
    """``k8s:app`` -> (k8s, app); ``app`` -> (any, app); ``$host`` -> (reserved, host)."""
    if key.startswith("$"):
        return "reserved", key[1:]
    source, colon, rest = key.partition(":")
    return (source, rest) if colon else ("any", key)


def _normalised(selector: LabelSelector, drop: str = "") -> LabelSelector:
    """The selector over identity labels: ``k8s:`` and ``any:`` keys lose their source (a
    pod's identity labels all come from k8s); other sources keep theirs, so no pod label
    can match them. ``drop`` removes one matchLabels key as written."""

    def key_of(key: str) -> str:
        source, rest = _source_and_key(key)
        return rest if source in ("k8s", "any") else f"{source}:{rest}"

    labels = tuple((key_of(k), v) for k, v in selector.match_labels if k != drop)
    expressions = tuple(
        Requirement(key_of(r.key), r.operator, r.values) for r in selector.match_expressions
    )
    return LabelSelector(tuple(sorted(labels)), expressions)


def _subject(policy: CiliumPolicy, rule: CiliumRule) -> EndpointMatch:
    """CNP: pods of its namespace (a ``k8s:io.kubernetes.pod.namespace`` in matchLabels is
    overwritten; any other namespace term is ANDed, section 3.1); CCNP: every namespace."""
    assert rule.endpoint_selector is not None
    if policy.namespace is None:
        return EndpointMatch(scope=PODS, pods=_normalised(rule.endpoint_selector))
    selector = _normalised(rule.endpoint_selector, drop=f"k8s:{NAMESPACE_KEY}")
    return EndpointMatch(scope=PODS, namespace=policy.namespace, pods=selector)


def _endpoint_peers(policy: CiliumPolicy, written: LabelSelector) -> list[EndpointMatch]:
    """A ``fromEndpoints``/``toEndpoints`` item after Cilium's rewriting (section 3.2).

    A selector is matched against identities, not only pods: unless the rewriting adds a
    namespace term (a CNP's own namespace, a CCNP's ``Exists``), the selector also selects
    every non-pod identity whose labels it matches, a node (``reserved:host`` or
    ``reserved:remote-node``, plus ``reserved:kube-apiserver`` on the control plane) or a
    world address (``reserved:world``): ``{reserved:host: ""}``, or a selector made only of
    NotIn/DoesNotExist terms, which no k8s label of those identities can fail.
    """
    selector = _normalised(written)
    shown = f"endpoints {{{written.text()}}}" if not written.is_empty else "endpoints {}"
    keys = selector.keys()
    reserved = {k for k in keys if k.startswith("reserved:")}
    names_namespace = NAMESPACE_KEY in keys or (
        policy.namespace is not None and any(k.startswith(NAMESPACE_LABELS_PREFIX) for k in keys)
    )
    found = []
    # pods carry no reserved label: the reserved terms are read on none, the rest on the pod
    pod_terms = _without_keys(selector, reserved)
    if matches(_only_keys(selector, reserved), {}):
        if reserved or names_namespace:
            found.append(EndpointMatch(scope=PODS, pods=pod_terms, shown=shown))
        elif policy.namespace is not None:
            where = f"{shown} in namespace {policy.namespace}"
            found.append(
                EndpointMatch(scope=PODS, namespace=policy.namespace, pods=pod_terms, shown=where)
            )
        else:
            found.append(
                EndpointMatch(scope=PODS, pods=pod_terms, shown=f"{shown} in every namespace")
            )
    if reserved or names_namespace:
        found += [m for labels, m in _non_pod_identities(shown) if matches(selector, labels)]
    if not found:
        found.append(
            EndpointMatch(
                scope=NOTHING,
                shown=shown,
                why_nothing=f"{shown} matches no identity (pod, node or world)",
            )
        )
    return found


def _only_keys(selector: LabelSelector, keys: set[str]) -> LabelSelector:
    return LabelSelector(
        tuple(kv for kv in selector.match_labels if kv[0] in keys),
        tuple(r for r in selector.match_expressions if r.key in keys),
    )


def _without_keys(selector: LabelSelector, keys: set[str]) -> LabelSelector:
    return LabelSelector(
        tuple(kv for kv in selector.match_labels if kv[0] not in keys),
        tuple(r for r in selector.match_expressions if r.key not in keys),
    )


CONTROL_PLANE = LabelSelector(match_expressions=(Requirement(CONTROL_PLANE_LABEL, "Exists"),))
NOT_CONTROL_PLANE = LabelSelector(
    match_expressions=(Requirement(CONTROL_PLANE_LABEL, "DoesNotExist"),)
)


def _non_pod_identities(shown: str) -> list[tuple[dict[str, str], EndpointMatch]]:
    """Every identity that is not a pod, as (its labels, the endpoints that carry it):
    the subject's node and the other nodes (the control plane also serving the API),
    and world addresses of each family."""
    found: list[tuple[dict[str, str], EndpointMatch]] = []
    for name, relative in (("host", "node_name"), ("remote-node", "not_node_name")):
        for apiserver, nodes in ((False, NOT_CONTROL_PLANE), (True, CONTROL_PLANE)):
            labels = {f"reserved:{name}": ""}
            if apiserver:
                labels["reserved:kube-apiserver"] = ""
            what = f"{shown} ({name}{', kube-apiserver' if apiserver else ''})"
            on = SUBJECT_NODE if relative == "node_name" else None
            off = SUBJECT_NODE if relative == "not_node_name" else None
            match = EndpointMatch(
                scope=NODES, nodes=nodes, node_name=on, not_node_name=off, shown=what
            )
            found.append((labels, match))
    for version in (4, 6):
        labels = {"reserved:world": "", f"reserved:world-ipv{version}": ""}
        match = EndpointMatch(scope=WORLD, ip_version=version, shown=f"{shown} (world)")
        found.append((labels, match))
    return found


# -- entities, CIDRs, services, FQDNs ---------------------------------------------------


def _entity(name: str) -> EndpointMatch:
    shown = f"entity {name}"
    if name == "all":
        return EndpointMatch(scope=ANY, shown=shown)
    if name in ("world", "world-ipv4", "world-ipv6"):
        version = {"world-ipv4": 4, "world-ipv6": 6}.get(name)
        return EndpointMatch(scope=WORLD, ip_version=version, shown=shown)
    if name in ("cluster", "cluster-mesh"):
        return EndpointMatch(scope=CLUSTER, shown=shown)
    if name == "host":
        return EndpointMatch(scope=NODES, node_name=SUBJECT_NODE, shown=shown)
    if name == "remote-node":
        return EndpointMatch(scope=NODES, not_node_name=SUBJECT_NODE, shown=shown)
    if name == "none":
        return EndpointMatch(scope=NOTHING, shown=shown, why_nothing="entity none matches nothing")
    if name in NOT_MODELLED:
        return EndpointMatch(
            scope=NOTHING,
            shown=shown,
            why_nothing=f"entity {name} ({NOT_MODELLED[name]}) is not modelled",
        )
    return EndpointMatch(scope=NOTHING, shown=shown, why_nothing=f"unknown entity {name!r}")


def _apiserver(ctx: _Context) -> EndpointMatch:
    """kube-apiserver: the control-plane nodes' addresses (KIND runs it there)."""
    nets: list[IPNetwork] = []
    names = []
    for node in ctx.cluster.nodes:
        if CONTROL_PLANE_LABEL in node.labels and node.ips:
            names.append(node.name)
            nets += [ipaddress.ip_network(ip) for ip in node.ips]
    if not nets:
        return EndpointMatch(
            scope=NOTHING,
            shown="entity kube-apiserver",
            why_nothing="entity kube-apiserver: no control-plane node in the model",
        )
    return EndpointMatch(
        scope=ANY, nets=tuple(nets), shown=f"entity kube-apiserver ({', '.join(names)})"
    )


def _cidr_matches(rule: CIDRRule, groups: Iterable[CIDRGroup]) -> list[EndpointMatch]:
    """World addresses inside the prefix (or the group's prefixes) and outside ``except``."""
    if rule.cidr is not None:
        prefixes: list[IPNetwork] = [rule.cidr]
    else:
        chosen = [
            g
            for g in groups
            if (rule.group_ref is not None and g.name == rule.group_ref)
            or (rule.group_selector is not None and matches(rule.group_selector, dict(g.labels)))
        ]
        prefixes = [c for g in chosen for c in g.cidrs]
        if not prefixes:
            return [
                EndpointMatch(
                    scope=NOTHING,
                    shown=rule.text(),
                    why_nothing=f"{rule.text()}: no CiliumCIDRGroup with prefixes matches",
                )
            ]
    shown = f"CIDR {rule.text()}"
    return [
        EndpointMatch(
            scope=WORLD,
            nets=(prefix,),
            not_nets=tuple(e for e in rule.excepts if e.version == prefix.version),
            shown=shown,
        )
        for prefix in prefixes
    ]


def _service_matches(refs: tuple[ServiceRef, ...], ctx: _Context) -> list[EndpointMatch]:
    """The pods behind each selected Service (section 4.4); a Service without selector
    would give its Endpoints' addresses, which netpol does not model."""
    found = []
    for ref in refs:
        for service in ctx.cluster.services:
            if ref.namespace is not None and service.namespace != ref.namespace:
                continue
            if ref.name is not None and service.name != ref.name:
                continue
            # Service labels are not modelled: only a selector that asks nothing matches
            if ref.selector is not None and not ref.selector.is_empty:
                continue
            shown = f"pods of service {service.id}"
            if service.selector is None:
                found.append(_endpoints_match(service.namespace, service.name, ctx))
                continue
            found.append(
                EndpointMatch(
                    scope=PODS,
                    namespace=service.namespace,
                    pods=LabelSelector.of(dict(service.selector)),
                    shown=shown,
                )
            )
    return found


def _endpoints_match(namespace: str, name: str, ctx: _Context) -> EndpointMatch:
    """A Service without selector: the addresses of its Endpoints, as CIDRs, so the world
    only (section 4.4): an Endpoints address that is a pod's never allows that pod."""
    ips = [
        ip
        for ns, service, addresses in ctx.cluster.service_endpoints
        if (ns, service) == (namespace, name)
        for ip in addresses
    ]
    shown = f"endpoints of service {namespace}/{name}"
    if not ips:
        return EndpointMatch(
            scope=NOTHING,
            shown=shown,
            why_nothing=f"service {namespace}/{name} has no selector and no Endpoints in the input",
        )
    nets = tuple(ipaddress.ip_network(ip) for ip in ips)
    return EndpointMatch(scope=WORLD, nets=nets, shown=f"{shown} ({', '.join(ips)})")


def _fqdn_pattern(selector: FQDNSelector) -> re.Pattern[str]:
    if selector.match_name is not None:
        return re.compile(re.escape(selector.match_name.rstrip(".").lower()))
    pattern = str(selector.match_pattern).rstrip(".").lower()
    return re.compile(
        ".".join(re.escape(p).replace(r"\*", "[-a-z0-9_]*") for p in pattern.split("."))
    )


def _fqdn_matches(selectors: tuple[FQDNSelector, ...], ctx: _Context) -> list[EndpointMatch]:
    """With ``--fqdn-map``, the world addresses the names resolve to; without a map entry,
    nothing, with the reason (the verdict depends on DNS)."""
    found = []
    for selector in selectors:
        pattern = _fqdn_pattern(selector)
        ips = [
            ip
            for name, addresses in ctx.fqdn_map
            if pattern.fullmatch(name.rstrip(".").lower())
            for ip in addresses
        ]
        shown = f"toFQDNs {selector.text()}"
        if not ips and ctx.fqdn_as_world:
            found.append(EndpointMatch(scope=WORLD, shown=f"{shown} (any world address)"))
            continue
        if not ips:
            found.append(
                EndpointMatch(
                    scope=NOTHING,
                    shown=shown,
                    why_nothing=f"{shown} {DEPENDS_ON_DNS}: netpol cannot resolve it offline "
                    "(give --fqdn-map)",
                )
            )
            continue
        nets = tuple(ipaddress.ip_network(ip) for ip in ips)
        found.append(EndpointMatch(scope=WORLD, nets=nets, shown=f"{shown} ({', '.join(ips)})"))
    return found


# -- entries -----------------------------------------------------------------------------


def _peers(policy: CiliumPolicy, entry: CiliumEntry, ctx: _Context) -> list[EndpointMatch]:
    peers: list[EndpointMatch] = []
    for written in entry.endpoints or ():
        peers += _endpoint_peers(policy, written)
    for name in entry.entities or ():
        peers.append(_apiserver(ctx) if name == "kube-apiserver" else _entity(name))
    for rule in entry.cidrs or ():
        peers += _cidr_matches(rule, ctx.cluster.cidr_groups)
    peers += _service_matches(entry.services or (), ctx)
    peers += _fqdn_matches(entry.fqdns or (), ctx)
    if entry.groups:
        peers.append(
            EndpointMatch(
                scope=NOTHING,
                shown=f"{entry.prefix}Groups",
                why_nothing=f"{entry.prefix}Groups needs Cilium's cloud integration",
            )
        )
    for written in entry.nodes or ():
        peers.append(
            EndpointMatch(
                scope=NOTHING,
                shown=f"{entry.prefix}Nodes {{{written.text()}}}",
                why_nothing=f"{entry.prefix}Nodes needs enable-node-selector-labels (off by "
                "default): Cilium refuses the policy",
            )
        )
    return peers


def _policy_ports(port: CiliumPort) -> list[PolicyPort]:
    """One port item as tiered ports (``ANY`` is every protocol a container port can have:
    TCP, UDP and SCTP); a protocol netpol does not model gives none."""
    protocol = port.protocol.upper()
    if protocol == "ANY":
        protocol = ANY_PROTOCOL
    elif protocol not in L4_PROTOCOLS:
        return []
    if port.is_named:
        return [PolicyPort(protocol, port.port.lower())]
    number = parse_port_number(port.port).value
    if number is None:
        return []
    if number == 0:
        return [PolicyPort(protocol, None)]
    end = port.end_port if port.end_port is not None and port.end_port > number else None
    return [PolicyPort(protocol, number, end)]


def _tier_rules(
    policy: CiliumPolicy, entry: CiliumEntry, section: str, ctx: _Context
) -> list[TierRule]:
    """One entry as a tiered rule (one per node when it names host or remote-node)."""
    action = DENY if entry.deny else ALLOW
    unmatchable = ""
    ports: list[PolicyPort] = []
    protocols: tuple[str, ...] | None = None
    if entry.port_rules is not None:
        for item in entry.ports:
            ports += _policy_ports(item)
        if not ports:
            unmatchable = "its toPorts name no TCP, UDP or SCTP port, so it matches nothing"
    elif entry.icmp_types is not None:
        unmatchable = "it matches ICMP only, which netpol does not model"
    peers = _peers(policy, entry, ctx)
    if entry.empty_peer_field is not None:
        unmatchable = f"{entry.empty_peer_field}: [] (present and empty) selects nothing"
    elif not entry.has_peer_field and not entry.has_ports:
        unmatchable = "an empty rule {} matches nothing under Cilium (unlike a NetworkPolicy's)"
    elif entry.has_peer_field and not peers:
        if entry.services is not None and entry.port_rules is not None:
            peers = []  # no Service matched: an L4-only rule, to every peer (section 4.4)
        else:
            unmatchable = f"its {entry.prefix}Services select no Service in the model"
    notes = []
    if not entry.deny and entry.l7:
        notes.append(f"L7-filtered ({', '.join(entry.l7)})")
        if not ctx.l7:
            unmatchable = unmatchable or "its L7 parts are left out here"
    if not entry.deny and entry.authentication == "required":
        notes.append("needs mutual authentication")
    rule = TierRule(
        index=entry.index,
        action=action,
        peers=tuple(peers),
        ports=tuple(ports),
        protocols=protocols,
        unmatchable=unmatchable,
        source=entry.source,
        section=section,
        note="; ".join(notes),
    )
    if not any(_relative(p) for p in peers):
        return [rule]
    return [
        replace(
            rule,
            peers=tuple(_on_node(p, node) for p in peers),
            local=EndpointMatch(scope=PODS, node_name=node),
        )
        for node in ctx.nodes
    ]


def _relative(match: EndpointMatch) -> bool:
    return SUBJECT_NODE in (match.node_name, match.not_node_name)


def _on_node(match: EndpointMatch, node: str) -> EndpointMatch:
    if match.node_name == SUBJECT_NODE:
        return replace(match, node_name=node, shown=f"{match.shown} (node {node})")
    if match.not_node_name == SUBJECT_NODE:
        return replace(match, not_node_name=node, shown=f"{match.shown} (not node {node})")
    return match


__all__ = [
    "ALLOW_LOCALHOST",
    "DENY_TIER",
    "DEPENDS_ON_DNS",
    "cilium_tiered",
    "identity_labels",
    "identity_view",
    "with_policy_types_ignored",
]
