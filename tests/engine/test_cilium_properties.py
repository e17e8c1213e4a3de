"""The Cilium engine agrees with the independent reference (``cilium_reference``, Cilium
semantics §10), and its class matrix with pairwise verdicts, on random small clusters.

The clusters are those of ``test_properties`` (2-3 namespaces with labels, pods with
labels from a small vocabulary and named ports, all in 10.1.0.0/24 so that CIDR rules
cover pods, nodes and outside addresses alike) with service accounts, an extra hostNetwork
pod, two nodes of which one may be the control plane (the kube-apiserver), two
CiliumCIDRGroups, a Service, sometimes one NetworkPolicy, and 1-3 CNPs/CCNPs: random
endpoint selectors (source prefixes ``k8s:``/``any:``/none, namespace, namespace-label,
service-account, cluster and filtered keys, every operator), sometimes a host policy
(nodeSelector), ``spec`` and ``specs``, ingress/egress/ingressDeny/egressDeny entries with
fromEndpoints (reserved selectors too), fromEntities, fromCIDR/fromCIDRSet (excepts, group
references and selectors), toServices, toFQDNs, L4-only and ``{}`` entries, present-but-empty
peer lists, ports of every form (``"0"``, ranges, backwards ranges, names, ANY, L7 rules,
ICMP only, a port rule without ports) and every enableDefaultDeny. Every ordered pair of
endpoints (pods, hostNetwork pods, nodes, outside IPs) is compared over the whole port space.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from netpol.engine.compile import compile_cluster
from netpol.model.cilium import (
    CCNP_KIND,
    CNP_KIND,
    INGRESS,
    SECTIONS,
    CIDRGroup,
    CIDRRule,
    CiliumEntry,
    CiliumPolicy,
    CiliumPort,
    CiliumPortRule,
    CiliumRule,
    FQDNSelector,
    ServiceRef,
)
from netpol.model.cluster import Cluster
from netpol.model.objects import Node, Service, ServicePort
from netpol.model.options import PROFILES, Options
from netpol.model.selectors import EVERYTHING, LabelSelector, Requirement

from .builders import pod
from .cilium_reference import CONTROL_PLANE_LABEL, CiliumReference
from .reach import unreached
from .test_properties import (
    NAMESPACES,
    NS_VALUES,
    POD_KEYS,
    POD_VALUES,
    PORT_NAMES,
    PORT_NUMBERS,
    Pair,
    check_engine_against_reference,
    check_matrix_against_verdicts,
    clusters,
    describe,
    ip_blocks,
)
from .test_tier_properties import ACCOUNTS, endpoints

CILIUM = PROFILES["cilium"]
AGREEMENT = settings(max_examples=60, deadline=None, derandomize=True)

WORKER_LABELS = {"kubernetes.io/hostname": "n2"}
ENTITY_NAMES = (  # the ones that match something modelled twice as often
    "all", "world", "cluster", "host", "remote-node", "kube-apiserver", "world-ipv4",
    "world-ipv6", "all", "world", "cluster", "host", "remote-node", "kube-apiserver",
    "health", "init", "ingress", "unmanaged", "none",
)  # fmt: skip
GROUPS = (
    CIDRGroup("g-low", (("range", "low"),), (ipaddress.ip_network("10.1.0.0/25"),)),
    CIDRGroup(
        "g-out",
        (("range", "out"),),
        (ipaddress.ip_network("8.8.0.0/16"), ipaddress.ip_network("2001:db8::/64")),
    ),
)

# --- selectors: key families, each with its values -------------------------------------------

FAMILIES: dict[str, tuple[str, ...]] = {
    **{key: POD_VALUES for key in POD_KEYS},
    "io.kubernetes.pod.namespace": NAMESPACES,
    "io.cilium.k8s.namespace.labels.team": NS_VALUES,
    "io.cilium.k8s.policy.serviceaccount": ACCOUNTS,
    "io.cilium.k8s.policy.cluster": ("default", "other"),
    "pod-template-hash": ("a",),  # filtered out of identities: matches nothing
}
RESERVED = ("host", "remote-node", "world", "kube-apiserver")


@st.composite
def keyed(draw: st.DrawFn, reserved: bool) -> tuple[str, tuple[str, ...]]:
    """A selector key as written (with or without a source prefix) and its values."""
    if reserved and draw(st.integers(0, 3)) == 0:
        return "reserved:" + draw(st.sampled_from(RESERVED)), ("",)
    family = draw(st.sampled_from(sorted(FAMILIES)))
    weights = (*POD_KEYS, *POD_KEYS)  # pod labels most often
    if draw(st.booleans()):
        family = draw(st.sampled_from(weights))
    prefix = draw(st.sampled_from(("", "", "k8s:", "any:")))
    return prefix + family, FAMILIES[family]


@st.composite
def requirement(draw: st.DrawFn, reserved: bool) -> Requirement:
    key, values = draw(keyed(reserved))
    operator = draw(st.sampled_from(("In", "NotIn", "Exists", "DoesNotExist")))
    if operator in ("Exists", "DoesNotExist"):
        return Requirement(key, operator)
    chosen = draw(st.sets(st.sampled_from(values), min_size=1, max_size=2))
    return Requirement(key, operator, tuple(sorted(chosen)))


@st.composite
def cilium_selectors(draw: st.DrawFn, reserved: bool = False) -> LabelSelector:
    if draw(st.integers(0, 3)) == 0:
        return EVERYTHING
    labels = {}
    for _ in range(draw(st.integers(0, 2))):
        key, values = draw(keyed(reserved))
        labels[key] = draw(st.sampled_from(values))
    expressions = draw(st.lists(requirement(reserved), max_size=2 - len(labels) // 2))
    return LabelSelector(tuple(sorted(labels.items())), tuple(expressions))


# --- peers, ports, entries -------------------------------------------------------------------


def networks() -> st.SearchStrategy[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return st.builds(lambda peer: peer.ip_block.network, ip_blocks())


@st.composite
def cidr_rules(draw: st.DrawFn) -> CIDRRule:
    form = draw(st.sampled_from(("cidr", "cidr", "cidr", "ref", "selector")))
    if form == "cidr":
        block = draw(ip_blocks()).ip_block
        assert block is not None
        return CIDRRule(
            cidr=block.network,
            cidr_text=block.cidr,
            excepts=block.except_networks,
            except_text=block.except_,
        )
    excepts = draw(st.sampled_from(((), (ipaddress.ip_network("10.1.0.64/26"),))))
    if form == "ref":
        return CIDRRule(
            group_ref=draw(st.sampled_from(("g-low", "g-out", "g-none"))), excepts=excepts
        )
    value = draw(st.sampled_from(("low", "out", "none")))
    return CIDRRule(group_selector=LabelSelector((("range", value),)), excepts=excepts)


@st.composite
def cilium_ports(draw: st.DrawFn) -> CiliumPort:
    protocol = draw(st.sampled_from(("TCP", "UDP", "SCTP", "ANY")))
    form = draw(st.sampled_from(("number", "number", "zero", "range", "named")))
    if form == "zero":
        return CiliumPort("0", protocol, draw(st.sampled_from((None, 100))))
    if form == "named":
        return CiliumPort(draw(st.sampled_from((*PORT_NAMES, "nope", "HTTP"))), protocol)
    number = draw(st.one_of(st.sampled_from(PORT_NUMBERS), st.integers(1, 65535)))
    if form == "number":
        return CiliumPort(str(number), protocol)
    end = draw(
        st.one_of(st.integers(max(number - 50, 0), min(number + 100, 65535)), st.just(65535))
    )
    return CiliumPort(str(number), protocol, end)


@st.composite
def port_rules(draw: st.DrawFn, allow: bool) -> CiliumPortRule:
    ports = tuple(
        draw(
            st.lists(cilium_ports(), min_size=0 if draw(st.integers(0, 9)) == 0 else 1, max_size=2)
        )
    )
    l7: tuple[str, ...] = ()
    if allow and ports and draw(st.integers(0, 3)) == 0:
        l7 = ("http",)  # filtered by a proxy, allowed at L4
    return CiliumPortRule(ports, l7)


FIELDS = {  # peer kind -> (CiliumEntry field, the field as written after from/to)
    "endpoints": ("endpoints", "Endpoints"),
    "entities": ("entities", "Entities"),
    "cidr": ("cidrs", "CIDR"),
    "services": ("services", "Services"),
    "fqdns": ("fqdns", "FQDNs"),
}


@st.composite
def entries(draw: st.DrawFn, section: str, index: int, namespaces: list[str]) -> CiliumEntry:
    """One entry with at most one peer kind (the agent rejects mixing them) and ports or
    ICMP types (not both), as valid policies have."""
    allow = not section.endswith("Deny")
    egress_allow = section == "egress"
    kinds = ["none", "endpoints", "endpoints", "entities", "entities", "cidr"]
    kinds += ["services", "fqdns"] if egress_allow else []
    kind = draw(st.sampled_from(kinds))
    peers: dict[str, object] = {}
    empty = None
    if kind != "none":
        attribute, written = FIELDS[kind]
        strategy: st.SearchStrategy[object] = {
            "endpoints": cilium_selectors(reserved=True),
            "entities": st.sampled_from(ENTITY_NAMES),
            "cidr": cidr_rules(),
            "services": st.builds(
                ServiceRef,
                name=st.sampled_from(("web", "missing")),
                namespace=st.sampled_from((None, namespaces[0], "ns3")),
            ),
            "fqdns": st.just(FQDNSelector(match_name="api.example.com")),
        }[kind]
        # present and empty (matches nothing) only where the spec says what it means (§3.3)
        minimum = (
            0 if kind in ("endpoints", "entities", "cidr") and draw(st.integers(0, 5)) == 0 else 1
        )
        items = tuple(draw(st.lists(strategy, min_size=minimum, max_size=2)))
        peers[attribute] = items
        if not items:
            side = "from" if section.startswith(INGRESS) else "to"
            empty = side + written
    ports = draw(st.sampled_from(("none", "none", "ports", "ports", "icmp")))
    return CiliumEntry(
        section=section,
        index=index,
        empty_peer_field=empty,
        port_rules=tuple(draw(st.lists(port_rules(allow), min_size=1, max_size=2)))
        if ports == "ports"
        else None,
        icmp_types=("8",) if ports == "icmp" else None,
        **peers,
    )


@st.composite
def rules(draw: st.DrawFn, path: str, clusterwide: bool, namespaces: list[str]) -> CiliumRule:
    found = []
    for section in SECTIONS:
        count = draw(st.sampled_from((0, 0, 1, 1, 2)))
        found += [draw(entries(section, i, namespaces)) for i in range(count)]
    if not found:
        found = [draw(entries(draw(st.sampled_from(SECTIONS)), 0, namespaces))]
    flags = st.sampled_from((None, None, None, True, False))
    if clusterwide and draw(st.integers(0, 9)) == 0:
        return CiliumRule(path, node_selector=EVERYTHING, entries=tuple(found))
    return CiliumRule(
        path,
        # every pod (of the namespace) half the time: random selectors rarely select
        endpoint_selector=draw(st.one_of(st.just(EVERYTHING), cilium_selectors())),
        entries=tuple(found),
        default_deny_ingress=draw(flags),
        default_deny_egress=draw(flags),
    )


@st.composite
def cilium_policies(draw: st.DrawFn, index: int, namespaces: list[str]) -> CiliumPolicy:
    clusterwide = draw(st.booleans())
    paths = draw(st.sampled_from((("spec",), ("spec",), ("specs[0]", "specs[1]"))))
    return CiliumPolicy(
        kind=CCNP_KIND if clusterwide else CNP_KIND,
        name=f"c{index}",
        namespace=None if clusterwide else draw(st.sampled_from(namespaces)),
        rules=tuple(draw(rules(p, clusterwide, namespaces)) for p in paths),
    )


@st.composite
def cilium_clusters(draw: st.DrawFn) -> Cluster:
    base = draw(clusters())
    names = [n.name for n in base.namespaces]
    control_plane = draw(st.booleans())
    nodes = (
        Node("n1", ("10.1.0.201",), {CONTROL_PLANE_LABEL: ""} if control_plane else {}),
        Node("n2", ("10.1.0.202",), WORKER_LABELS),
    )
    pods = [replace(p, service_account=draw(st.sampled_from(ACCOUNTS))) for p in base.pods]
    host_pod_labels = draw(st.dictionaries(st.sampled_from(POD_KEYS), st.sampled_from(POD_VALUES)))
    pods.append(pod(f"{names[0]}/hostpod", "10.1.0.202", host_pod_labels, "n2", host_network=True))
    return replace(
        base,
        nodes=nodes,
        pods=tuple(pods),
        services=(Service(names[0], "web", selector={"app": "a"}, ports=(ServicePort(80),)),),
        policies=base.policies[: draw(st.sampled_from((0, 0, 1)))],
        cidr_groups=GROUPS,
        cilium_policies=tuple(
            draw(cilium_policies(i, names)) for i in range(draw(st.sampled_from((1, 2, 3))))
        ),
    )


def show(c: Cluster) -> str:
    lines = [describe(c), *(repr(p) for p in c.cilium_policies)]
    lines += [f"{n.name} {n.ips} {dict(n.labels)}" for n in c.nodes]
    return "\n".join(lines)


# --- the properties ---------------------------------------------------------------------------


def known_engine_gaps(c: Cluster) -> set[str]:
    """The shapes the engine decides against the spec today, each asserted by a review case
    of ``test_cilium_edge_cases`` (a strict xfail there): the agreement property covers
    everything else, and an entry goes when its review case passes."""
    found = set()
    for np in c.policies:
        for rule in np.ingress + np.egress:
            for peer in rule.peers:
                if peer.namespace_selector is None or peer.namespace_selector.is_empty:
                    continue
                if _all_negative([peer.namespace_selector, peer.pod_selector]):
                    found.add("review-negative-namespace-terms-match-non-pods-knp")
    return found


def _all_negative(selectors: list[LabelSelector | None]) -> bool:
    """Every term holds where its key is absent: the selector also matches identities
    without pod labels (world, nodes)."""
    present = [s for s in selectors if s is not None]
    return not any(s.match_labels for s in present) and all(
        r.operator in ("NotIn", "DoesNotExist") for s in present for r in s.match_expressions
    )


@AGREEMENT
@given(cilium_clusters().filter(lambda c: not known_engine_gaps(c)))
def test_cilium_engine_agrees_with_reference(c: Cluster) -> None:
    cc = compile_cluster(c, Options(profile=CILIUM))
    ref = CiliumReference(c)
    check_engine_against_reference(
        cc,
        endpoints(c, CILIUM),
        lambda src, dst: ref.allowed_intervals(src.ref, dst.ref),
        show(c),
    )


@AGREEMENT
@given(cilium_clusters())
def test_cilium_matrix_equals_pairwise_verdicts(c: Cluster) -> None:
    check_matrix_against_verdicts(compile_cluster(c, Options(profile=CILIUM)), show(c))


# --- the strategy reaches what matters ---------------------------------------------------------

REQUIRED_SHAPES = {
    "CNP", "CCNP", "NetworkPolicy", "host policy", "nil peer", "L4-only", "{}", "named port",
    "range", "L7", "ICMP", "default deny off", "all", "none", "partial", "deny and allow",
    "allow-localhost", "entity world", "entity host", "entity cluster", "cidr", "selector",
    "service",
}  # fmt: skip


def shapes(c: Cluster) -> set[str]:
    """The policy forms one cluster uses, and the answer shapes the reference gives it
    (the engine is not asked: a strategy is judged on what it feeds both)."""
    seen = {p.kind.replace(CNP_KIND, "CNP").replace(CCNP_KIND, "CCNP") for p in c.cilium_policies}
    seen |= {"NetworkPolicy"} if c.policies else set()
    for p in c.cilium_policies:
        for r in p.rules:
            seen |= {"host policy"} if r.node_selector is not None else set()
            seen |= (
                {"default deny off"}
                if False in (r.default_deny_ingress, r.default_deny_egress)
                else set()
            )
            for e in r.entries:
                seen |= {"nil peer"} if e.empty_peer_field else set()
                seen |= {"L4-only"} if e.port_rules and not e.has_peer_field else set()
                seen |= {"{}"} if not e.has_peer_field and not e.has_ports else set()
                seen |= {"L7"} if e.l7 else set()
                seen |= {"ICMP"} if e.icmp_types else set()
                seen |= {"named port" for p in e.ports if p.is_named}
                seen |= {"range" for p in e.ports if p.end_port}
                seen |= {"service"} if e.services else set()
    ref = CiliumReference(c)
    eps = endpoints(c, CILIUM)
    for src in eps:
        for dst in eps:
            got = ref.allowed_intervals(src.ref, dst.ref)
            spans = [s for runs in got.values() for s in runs]
            seen.add("all" if spans == [(1, 65535)] * 3 else "none" if not spans else "partial")
    seen |= reasons(ref, eps)
    return seen


def reasons(ref: CiliumReference, eps: list[Pair]) -> set[str]:
    """Which parts of §7.2 take part in a pod's side of some connection: a deny and an
    allow matching the same peer, allow-localhost, and the kinds of matching peers."""
    found: set[str] = set()
    for a in eps:
        subject = a.ref.pod
        if a.ref.kind != "pod" or subject is None:
            continue
        for b in eps:
            if a.ref.is_same_pod(b.ref):
                continue
            for d in ("Ingress", "Egress"):
                es = ref.applying(subject, d)
                hits = [
                    e for e in es if e.peers is not None and ref.l3_matches(e, b.ref, subject.node)
                ]
                if any(e.deny for e in hits) and any(not e.deny for e in hits):
                    found.add("deny and allow")
                local = d == "Ingress" and b.ref.kind == "node" and b.ref.node == subject.node
                if local and not hits and any(e.default_deny for e in es):
                    found.add("allow-localhost")
                found |= {
                    f"entity {p.entity}" if p.entity else p.kind
                    for e in hits
                    for p in e.peers or ()
                }
    return found


def test_generated_cilium_clusters_exercise_the_spec() -> None:
    missing = unreached(cilium_clusters(), shapes, REQUIRED_SHAPES, 60, budget=300)
    assert not missing, f"never generated: {sorted(missing)}"
