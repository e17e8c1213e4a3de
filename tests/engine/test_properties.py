"""The engine agrees with the naive reference evaluator on random small clusters.

Random clusters: 2-3 namespaces with random labels, 2-6 pods (sometimes hostNetwork)
with labels from a small vocabulary and named container ports, all IPs inside
10.1.0.0/24 so that ipBlocks with excepts hit pods, nodes and external addresses alike
(plus an IPv6 address and IPv6 blocks, which must never match across families);
0-4 valid policies using every selector operator, AND/OR peers, ipBlocks with excepts,
numeric, ranged, named and port-less ports over TCP/UDP/SCTP, given or defaulted
policyTypes. For every ordered pair of endpoints (pods, nodes, a few external IPs) and
under every profile, the engine's connection set must equal the reference's, over the
whole port space.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netpol.engine import matrix as matrix_module
from netpol.engine.compile import CompiledCluster, compile_cluster
from netpol.engine.endpoints import Endpoint, ip_endpoint, node_endpoint, pod_endpoint
from netpol.engine.matrix import class_matrix
from netpol.engine.ports import PROTOCOLS, ConnectionSet
from netpol.engine.verdict import allowed, peer_miss
from netpol.model.cluster import Cluster
from netpol.model.objects import Node, Pod
from netpol.model.options import PROFILES, Options
from netpol.model.policy import NetworkPolicy, Peer, PolicyPort, Rule
from netpol.model.selectors import LabelSelector, Requirement

from . import reference
from .builders import cluster, ip_block, namespace, pod, policy
from .reach import unreached

# Derandomized so CI sees the same examples every run (the example database is not kept).
AGREEMENT = settings(max_examples=300, deadline=None, derandomize=True)

NAMESPACES = ("ns1", "ns2", "ns3")
POD_KEYS = ("app", "tier", "env")
POD_VALUES = ("a", "b", "")
NS_KEYS = ("team", "env")
NS_VALUES = ("x", "y")
PORT_NAMES = ("http", "dns", "metrics")
PORT_NUMBERS = (53, 80, 443, 5353, 8080)
NODES = (Node("n1", ("10.1.0.201",)), Node("n2", ("10.1.0.202",)))
EXTERNAL_IPS = ("10.1.0.99", "10.1.0.128", "8.8.8.8", "2001:db8::1")

# --- strategies ----------------------------------------------------------------------

protocols = st.sampled_from(PROTOCOLS)


def requirements(keys: tuple[str, ...], values: tuple[str, ...]) -> st.SearchStrategy[Requirement]:
    valued = st.builds(
        lambda key, op, vals: Requirement(key, op, tuple(sorted(vals))),
        st.sampled_from(keys),
        st.sampled_from(("In", "NotIn")),
        st.sets(st.sampled_from(values), min_size=1, max_size=2),
    )
    bare = st.builds(
        lambda key, op: Requirement(key, op),
        st.sampled_from(keys),
        st.sampled_from(("Exists", "DoesNotExist")),
    )
    return st.one_of(valued, bare)


def selectors(keys: tuple[str, ...], values: tuple[str, ...]) -> st.SearchStrategy[LabelSelector]:
    return st.builds(
        lambda labels, exprs: LabelSelector(tuple(sorted(labels.items())), tuple(exprs)),
        st.dictionaries(st.sampled_from(keys), st.sampled_from(values), max_size=2),
        st.lists(requirements(keys, values), max_size=2),
    )


pod_selectors = selectors(POD_KEYS, POD_VALUES)
ns_selectors = st.one_of(
    selectors(NS_KEYS, NS_VALUES),
    selectors(("kubernetes.io/metadata.name",), NAMESPACES),
)


@st.composite
def ip_blocks(draw: st.DrawFn) -> Peer:
    """A CIDR inside or around 10.1.0.0/24, with 0-2 excepts strictly inside it (valid)."""
    wide = ("0.0.0.0/0", "10.0.0.0/8", "10.1.0.0/24", "192.168.0.0/16", "::/0", "2001:db8::/64")
    if draw(st.booleans()):
        network = ipaddress.ip_network(draw(st.sampled_from(wide)))
    else:
        host, prefix = draw(st.integers(0, 255)), draw(st.integers(24, 32))
        network = ipaddress.ip_network(f"10.1.0.{host}/{prefix}", strict=False)
    excepts: list[str] = []
    for _ in range(draw(st.integers(0, 2))):
        host, prefix = draw(st.integers(0, 255)), draw(st.integers(25, 32))
        inner = ipaddress.ip_network(f"10.1.0.{host}/{prefix}", strict=False)
        if (
            network.version == 4
            and inner.prefixlen > network.prefixlen
            and inner.subnet_of(network)
        ):  # type: ignore[arg-type]
            excepts.append(str(inner))
    return Peer(ip_block=ip_block(str(network), *dict.fromkeys(excepts)))


peers = st.one_of(
    st.builds(lambda p: Peer(pod_selector=p), pod_selectors),
    st.builds(lambda n: Peer(namespace_selector=n), ns_selectors),
    st.builds(lambda p, n: Peer(pod_selector=p, namespace_selector=n), pod_selectors, ns_selectors),
    ip_blocks(),
)


@st.composite
def policy_ports(draw: st.DrawFn) -> PolicyPort:
    protocol = draw(protocols)
    form = draw(st.sampled_from(("none", "number", "range", "named")))
    if form == "none":
        return PolicyPort(protocol)
    if form == "named":
        return PolicyPort(protocol, draw(st.sampled_from((*PORT_NAMES, "nope"))))
    number = draw(st.one_of(st.sampled_from(PORT_NUMBERS), st.integers(1, 65535)))
    if form == "number":
        return PolicyPort(protocol, number)
    end = draw(st.one_of(st.integers(number, min(number + 100, 65535)), st.just(65535)))
    return PolicyPort(protocol, number, end)


rules = st.builds(
    lambda ps, ports: Rule(tuple(ps), tuple(ports)),
    st.lists(peers, max_size=3),
    st.lists(policy_ports(), max_size=3),
)


@st.composite
def policies(draw: st.DrawFn, names: list[str], index: int) -> NetworkPolicy:
    types = draw(
        st.one_of(
            st.none(),
            st.sampled_from(
                (("Ingress",), ("Egress",), ("Ingress", "Egress"), ("Egress", "Ingress"))
            ),
        )
    )
    return policy(
        draw(st.sampled_from(names)),
        f"p{index}",
        select=draw(pod_selectors),
        ingress=draw(st.lists(rules, max_size=2)),
        egress=draw(st.lists(rules, max_size=2)),
        types=types,
    )


@st.composite
def clusters(draw: st.DrawFn) -> Cluster:
    names = draw(st.lists(st.sampled_from(NAMESPACES), min_size=2, max_size=3, unique=True))
    ns_objects = [
        namespace(n, draw(st.dictionaries(st.sampled_from(NS_KEYS), st.sampled_from(NS_VALUES))))
        for n in names
    ]
    count = draw(st.integers(2, 6))
    hosts = draw(st.lists(st.integers(1, 130), min_size=count, max_size=count, unique=True))
    pod_objects = []
    for i, host in enumerate(hosts):
        node = draw(st.sampled_from(NODES))
        host_network = draw(st.integers(0, 5)) == 0
        ip = node.ips[0] if host_network else f"10.1.0.{host}"
        declared = draw(
            st.dictionaries(
                st.sampled_from(PORT_NAMES), st.tuples(st.sampled_from(PORT_NUMBERS), protocols)
            )
        )
        pod_objects.append(
            pod(
                f"{draw(st.sampled_from(names))}/pod{i}",
                ip,
                draw(st.dictionaries(st.sampled_from(POD_KEYS), st.sampled_from(POD_VALUES))),
                node.name,
                [(name, number, protocol) for name, (number, protocol) in sorted(declared.items())],
                host_network=host_network,
            )
        )
    policy_objects = [draw(policies(names, i)) for i in range(draw(st.integers(0, 4)))]
    return cluster(ns_objects, pod_objects, policy_objects, NODES)


# --- the endpoints of one cluster, as the engine and the reference see them -----------


@dataclass(frozen=True)
class Pair:
    name: str
    engine: Endpoint
    ref: reference.Ep


def endpoints(cc: CompiledCluster) -> list[Pair]:
    nodes = cc.cluster.node_by_name
    found = [
        Pair(p.id, pod_endpoint(p, cc.profile, nodes.get(p.node)), reference.pod_ep(p, cc.profile))
        for p in cc.cluster.pods
    ]
    found += [Pair(f"node:{n.name}", node_endpoint(n), reference.node_ep(n)) for n in NODES]
    found += [Pair(f"ip:{ip}", ip_endpoint(ip), reference.external_ep(ip)) for ip in EXTERNAL_IPS]
    return found


def describe(c: Cluster) -> str:
    lines = [
        f"{p.id} {p.ips[0]} {dict(p.labels)} node={p.node} hostNetwork={p.host_network}"
        for p in c.pods
    ]
    lines += [f"{n.name} {dict(n.labels)}" for n in c.namespaces]
    lines += [repr(p) for p in c.policies]
    return "\n".join(lines)


# --- the checks, shared with test_tier_properties --------------------------------------


def check_engine_against_reference(
    cc: CompiledCluster,
    eps: list[Pair],
    reference_intervals: Callable[[Pair, Pair], dict[str, list[tuple[int, int]]]],
    show: str,
) -> None:
    """Every ordered pair of ``eps``: the engine's connections equal the reference's."""
    for src in eps:
        for dst in eps:
            got = allowed(cc, src.engine, dst.engine)
            want = reference_intervals(src, dst)
            got_intervals = {p: list(got.intervals(p)) for p in PROTOCOLS}
            assert got_intervals == want, (
                f"{src.name} -> {dst.name} under {cc.profile.name}: engine {got.text()}, "
                f"reference {want}\n{show}"
            )


def check_matrix_against_verdicts(cc: CompiledCluster, show: str) -> None:
    """The class matrix, pod by pod and class by class, equals the pairwise verdicts."""
    matrix = class_matrix(cc, include_external=True, include_nodes=True)
    pods = cc.cluster.pods
    for a in pods:
        for b in pods:
            want = allowed(cc, *_pod_endpoints(cc, a, b))
            got = matrix.pod_connections(a.id, b.id)
            assert got == want, (
                f"{a.id} -> {b.id} under {cc.profile.name}: matrix {got.text()}, "
                f"verdict {want.text()}\n{show}"
            )
    for i, ci in enumerate(matrix.classes):
        for j, cj in enumerate(matrix.classes):
            if i == j and len(ci.pods) == 1:
                continue  # the one pod reaching itself: pod_connections covers it
            src = ci.representative
            other = cj.pods[1] if i == j and len(cj.pods) > 1 else None
            dst = cc.endpoint(other) if other else cj.representative
            want = allowed(cc, src, dst)
            # class values come before the node exceptions, which depend on where each
            # member runs: apply them for these two representatives
            if matrix.overridden(i, src.node_name, j, dst.node_name):
                got = ConnectionSet.all()
            else:
                got = matrix.connections(i, j)
            assert got == want, (
                f"class {ci.id} -> {cj.id} under {cc.profile.name}: matrix {got.text()}, "
                f"verdict {want.text()}\n{show}"
            )


def _pod_endpoints(cc: CompiledCluster, a: Pod, b: Pod) -> tuple[Endpoint, Endpoint]:
    return cc.endpoint(a), cc.endpoint(b)


# --- properties ------------------------------------------------------------------------


@AGREEMENT
@given(clusters())
def test_engine_agrees_with_reference(c: Cluster) -> None:
    for profile in PROFILES.values():
        cc = compile_cluster(c, Options(profile=profile))
        check_engine_against_reference(
            cc,
            endpoints(cc),
            lambda src, dst, profile=profile: reference.allowed_intervals(
                c, profile, src.ref, dst.ref
            ),
            describe(c),
        )


# the two sides of the class matrix meet band by band, or only where the sparser side
# allows something: each way is taken here whatever the density of the cluster drawn
MEETINGS = {"sparse": 1.0, "dense": -1.0}


@pytest.mark.parametrize("meeting", list(MEETINGS))
@AGREEMENT
@given(clusters())
def test_matrix_equals_pairwise_verdicts(meeting: str, c: Cluster) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(matrix_module, "SPARSE_SHARE", MEETINGS[meeting])
        for profile in PROFILES.values():
            cc = compile_cluster(c, Options(profile=profile))
            check_matrix_against_verdicts(cc, describe(c))


SPEC_SHAPES = {
    "defaulted", "given", "except", "and-peer", "In", "NotIn", "Exists", "DoesNotExist",
    "named", "range", "port", "all", "none", "partial", "hostNetwork",
}  # fmt: skip


def spec_shapes(c: Cluster) -> set[str]:
    """The policy forms one cluster uses and the answer shapes its pod pairs get."""
    seen: set[str] = set()
    for p in c.policies:
        seen.add("defaulted" if p.policy_types_defaulted else "given")
        for r in p.ingress + p.egress:
            for peer in r.peers:
                if peer.ip_block is not None and peer.ip_block.except_:
                    seen.add("except")
                if peer.pod_selector is not None and peer.namespace_selector is not None:
                    seen.add("and-peer")
                for s in (peer.pod_selector, peer.namespace_selector):
                    for req in s.match_expressions if s else ():
                        seen.add(req.operator)
            for e in r.ports:
                seen.add("named" if e.is_named else "range" if e.end_port else "port")
    for profile in PROFILES.values():
        cc = compile_cluster(c, Options(profile=profile))
        for a in c.pods:
            for b in c.pods:
                conns = allowed(cc, *_pod_endpoints(cc, a, b))
                seen.add("all" if conns.is_all else "none" if conns.is_empty else "partial")
    if any(p.host_network for p in c.pods):
        seen.add("hostNetwork")
    return seen


def test_generated_clusters_exercise_the_spec() -> None:
    """Guard against a vacuous property: the strategy must produce the cases that matter."""
    missing = unreached(clusters(), spec_shapes, SPEC_SHAPES, 150)
    assert not missing, f"never generated: {sorted(missing)}"


@AGREEMENT
@given(clusters())
def test_compiled_peer_pod_sets_agree_with_verdict_peer_matching(c: Cluster) -> None:
    """``CompiledPeer.pod_ids`` (what the lab's nftables sets are built from) is exactly the
    set of pods the verdict's own peer matching accepts, so the lab and explain cannot drift.
    """
    for profile in PROFILES.values():
        cc = compile_cluster(c, Options(profile=profile))
        for compiled in cc.policies:
            for rule in compiled.ingress + compiled.egress:
                for peer in rule.peers:
                    if peer.peer.ip_block is not None:
                        continue  # IP-only peers: the lab matches them by address
                    by_verdict = {
                        p.id
                        for p in c.pods
                        if peer_miss(
                            cc, peer, pod_endpoint(p, profile, cc.cluster.node_by_name.get(p.node))
                        )
                        is None
                    }
                    assert peer.pod_ids == by_verdict, (
                        f"{rule.label} peer {peer.index}\n{describe(c)}"
                    )
