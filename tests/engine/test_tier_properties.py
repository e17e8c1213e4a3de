"""The tiered engine agrees with the naive tiered reference, and the class matrix with
pairwise verdicts, on random small clusters.

The clusters are those of ``test_properties`` (random namespaces, pods, hostNetwork
pods, named ports, 0-4 NetworkPolicies) with labelled nodes, service accounts, and 0-4
tiered policies: AdminNetworkPolicies (priorities 1-3, so ties happen), baseline
policies, and Calico GlobalNetworkPolicies in tier default, in a declared tier ``custom``
(before or after default, default action Pass or Deny) or in an undeclared one, with
every action, Kubernetes or Calico selectors (synthetic labels included), service
accounts, node and network peers (notNets, ipVersion), ports, notPorts, protocols,
named ports of one or any protocol, and the odd unmatchable rule. One profile per
example. Every ordered pair of endpoints (pods, nodes, external IPs) is compared over
the whole port space.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from netpol.engine.compile import compile_cluster
from netpol.engine.endpoints import ip_endpoint, node_endpoint, pod_endpoint
from netpol.engine.verdict import evaluate
from netpol.model.cluster import Cluster
from netpol.model.expressions import (
    COMPARISONS,
    AllOf,
    And,
    CalicoSelector,
    Compare,
    Expression,
    HasLabel,
    InSet,
    Not,
    Or,
)
from netpol.model.objects import Node, ServiceAccount
from netpol.model.options import PROFILES, Options, Profile
from netpol.model.policy import PolicyPort
from netpol.model.tiers import (
    ACTIONS,
    ALLOW,
    ANP_KIND,
    ANY,
    ANY_PROTOCOL,
    BANP_KIND,
    CALICO_GNP_KIND,
    DENY,
    NODES,
    PASS,
    PODS,
    EndpointMatch,
    Tier,
    TieredPolicy,
    TierRule,
)

from . import reference, tier_reference
from .reach import unreached
from .test_properties import (
    EXTERNAL_IPS,
    NAMESPACES,
    NS_KEYS,
    NS_VALUES,
    POD_KEYS,
    POD_VALUES,
    PORT_NAMES,
    Pair,
    check_engine_against_reference,
    check_matrix_against_verdicts,
    clusters,
    describe,
    ip_blocks,
    ns_selectors,
    pod_selectors,
    policy_ports,
    protocols,
    selectors,
)

AGREEMENT = settings(max_examples=200, deadline=None, derandomize=True)

LABELLED_NODES = (
    Node("n1", ("10.1.0.201",), {"role": "infra"}),
    Node("n2", ("10.1.0.202",), {"role": "worker"}),
)
ACCOUNTS = ("default", "builder")
CALICO_POD_KEYS = (
    *POD_KEYS,
    "projectcalico.org/namespace",
    "projectcalico.org/serviceaccount",
    "pcns.team",
    "pcsa.trust",
)
CALICO_NS_KEYS = (*NS_KEYS, "projectcalico.org/name")
CALICO_VALUES = (*POD_VALUES, *NS_VALUES, *NAMESPACES, *ACCOUNTS, "low", "n")

# --- strategies ----------------------------------------------------------------------------


def expressions(keys: tuple[str, ...]) -> st.SearchStrategy[Expression]:
    key, value = st.sampled_from(keys), st.sampled_from(CALICO_VALUES)
    leaves = st.one_of(
        st.just(AllOf()),
        st.builds(HasLabel, key),
        st.builds(Compare, key, st.sampled_from(COMPARISONS), value),
        st.builds(InSet, key, st.frozensets(value, min_size=1, max_size=2), st.booleans()),
    )
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.builds(Not, inner), st.builds(And, inner, inner), st.builds(Or, inner, inner)
        ),
        max_leaves=3,
    )


def calico_selectors(keys: tuple[str, ...]) -> st.SearchStrategy[CalicoSelector]:
    return st.builds(lambda e: CalicoSelector(e, repr(e)), expressions(keys))


any_pod_selectors = st.one_of(pod_selectors, calico_selectors(CALICO_POD_KEYS))
any_ns_selectors = st.one_of(ns_selectors, calico_selectors(CALICO_NS_KEYS))
node_selectors = selectors(("role",), ("infra", "worker"))
networks = st.builds(lambda peer: peer.ip_block.network, ip_blocks())


def maybe(strategy: st.SearchStrategy) -> st.SearchStrategy:  # type: ignore[type-arg]
    return st.one_of(st.none(), strategy)


POD_FIELDS = {
    "namespace": st.sampled_from(NAMESPACES),
    "namespaces": any_ns_selectors,
    "pods": any_pod_selectors,
    "not_pods": calico_selectors(CALICO_POD_KEYS),
    "service_account_names": st.sets(st.sampled_from(ACCOUNTS), min_size=1).map(sorted).map(tuple),
    "service_accounts": calico_selectors(("trust",)),
}


@st.composite
def pod_matches(draw: st.DrawFn) -> EndpointMatch:
    """Pods, with one or two conditions (more would rarely match anything)."""
    chosen = draw(st.lists(st.sampled_from(sorted(POD_FIELDS)), max_size=2, unique=True))
    return EndpointMatch(PODS, **{name: draw(POD_FIELDS[name]) for name in chosen})


node_matches = st.builds(lambda s: EndpointMatch(NODES, nodes=s), maybe(node_selectors))
net_matches = st.builds(
    lambda nets, not_nets, version, not_pods: EndpointMatch(
        ANY, nets=tuple(nets), not_nets=tuple(not_nets), ip_version=version, not_pods=not_pods
    ),
    st.lists(networks, max_size=2),
    st.lists(networks, max_size=1),
    maybe(st.sampled_from((4, 6))),
    maybe(calico_selectors(CALICO_POD_KEYS)),
)
matches = st.one_of(pod_matches(), node_matches, net_matches)
subjects = st.one_of(
    st.just(EndpointMatch(PODS)),  # every pod: policies of a tier then compete for them
    st.builds(
        lambda namespaces, pods: EndpointMatch(PODS, namespaces=namespaces, pods=pods),
        maybe(any_ns_selectors),
        maybe(any_pod_selectors),
    ),
)
ports = st.one_of(
    policy_ports(), st.builds(lambda n: PolicyPort(ANY_PROTOCOL, n), st.sampled_from(PORT_NAMES))
)


def tier_rules(actions: tuple[str, ...]) -> st.SearchStrategy[TierRule]:
    return st.builds(
        lambda action, peers, entries, not_entries, protos, local, odd: TierRule(
            0,
            action,
            peers=tuple(peers),
            ports=tuple(entries),
            not_ports=tuple(not_entries),
            protocols=protos,
            local=local,
            unmatchable="ICMP only" if odd else "",
        ),
        st.sampled_from(actions),
        st.one_of(st.just([]), st.lists(matches, min_size=1, max_size=2)),
        st.one_of(st.just([]), st.lists(ports, min_size=1, max_size=2)),  # [] every port
        st.one_of(st.just([]), st.lists(ports, min_size=1, max_size=1)),
        st.one_of(st.none(), st.none(), st.lists(protocols, max_size=2, unique=True).map(tuple)),
        maybe(pod_matches()) if actions != (ALLOW, DENY) else st.none(),
        st.integers(0, 12).map(lambda n: n == 0),
    )


KINDS = {  # kind -> (tiers, orders, actions)
    ANP_KIND: (("kube-admin",), (1, 2, 3), (ALLOW, DENY, PASS)),
    BANP_KIND: (("kube-baseline",), (None,), (ALLOW, DENY)),
    CALICO_GNP_KIND: (("custom", "default", "custom", "other"), (None, 100, 1000, 2000), ACTIONS),
}


@st.composite
def tiered_policies(draw: st.DrawFn, index: int) -> TieredPolicy:
    kind = draw(st.sampled_from((CALICO_GNP_KIND, ANP_KIND, BANP_KIND, CALICO_GNP_KIND)))
    tiers, orders, actions = KINDS[kind]
    ingress = draw(st.lists(tier_rules(actions), max_size=3))
    egress = draw(st.lists(tier_rules(actions), max_size=3))
    # usually the directions with rules (as the admin loaders write them); sometimes any
    # (a Calico policy with a type and no rules for it is a default deny in its tier)
    types = [d for d, rules in (("Ingress", ingress), ("Egress", egress)) if rules]
    if draw(st.integers(0, 3)) == 0:
        types = draw(st.lists(st.sampled_from(("Ingress", "Egress")), max_size=2, unique=True))
    return TieredPolicy(
        kind=kind,
        api_version="test/v1",
        name=f"t{index}",
        namespace=None,
        tier=draw(st.sampled_from(tiers)),
        order=draw(st.sampled_from(orders)),
        subject=draw(subjects),
        types=tuple(types),
        ingress=tuple(replace(r, index=i) for i, r in enumerate(ingress)),
        egress=tuple(replace(r, index=i) for i, r in enumerate(egress)),
    )


@st.composite
def tiered_clusters(draw: st.DrawFn) -> Cluster:
    base = draw(clusters())
    pods = tuple(replace(p, service_account=draw(st.sampled_from(ACCOUNTS))) for p in base.pods)
    accounts = tuple(
        ServiceAccount(ns.name, name, draw(st.dictionaries(st.just("trust"), st.just("low"))))
        for ns in base.namespaces
        for name in ACCOUNTS
    )
    custom = Tier("custom", draw(st.sampled_from((50.0, 5e6))), draw(st.sampled_from((DENY, PASS))))
    return replace(
        base,
        nodes=LABELLED_NODES,
        pods=pods,
        service_accounts=accounts,
        tiers=(custom,),
        tiered_policies=tuple(
            draw(tiered_policies(i)) for i in range(draw(st.sampled_from((3, 4, 2, 1, 0))))
        ),
    )


profiles = st.sampled_from(list(PROFILES.values()))


# --- the endpoints and the checks ------------------------------------------------------------


def endpoints(c: Cluster, profile: Profile) -> list[Pair]:
    nodes = c.node_by_name
    found = [
        Pair(p.id, pod_endpoint(p, profile, nodes.get(p.node)), reference.pod_ep(p, profile))
        for p in c.pods
    ]
    found += [Pair(f"node:{n.name}", node_endpoint(n), reference.node_ep(n)) for n in c.nodes]
    found += [Pair(f"ip:{ip}", ip_endpoint(ip), reference.external_ep(ip)) for ip in EXTERNAL_IPS]
    return found


def show(c: Cluster) -> str:
    return "\n".join([describe(c), *(repr(p) for p in c.tiered_policies), repr(c.tiers)])


@AGREEMENT
@given(tiered_clusters(), profiles)
def test_tiered_engine_agrees_with_reference(c: Cluster, profile: Profile) -> None:
    check_engine_against_reference(
        compile_cluster(c, Options(profile=profile)),
        endpoints(c, profile),
        lambda src, dst: tier_reference.allowed_intervals(c, profile, src.ref, dst.ref),
        show(c),
    )


@AGREEMENT
@given(tiered_clusters(), profiles)
def test_tiered_matrix_equals_pairwise_verdicts(c: Cluster, profile: Profile) -> None:
    check_matrix_against_verdicts(compile_cluster(c, Options(profile=profile)), show(c))


REQUIRED_SHAPES = {
    "all", "none", "part", ALLOW, DENY, PASS, "Log", "default:Deny", "custom:Deny",
    ":Allow", "pass-then-networkpolicy",
}  # fmt: skip


def shapes(c: Cluster, profile: Profile) -> set[str]:
    """What the pairwise verdicts of one cluster exercise: answer shapes, deciding
    actions, tier defaults, and a Pass that lands on the NetworkPolicies."""
    found: set[str] = set()
    cc = compile_cluster(c, Options(profile=profile))
    eps = endpoints(c, profile)
    for src in eps:
        for dst in eps:
            v = evaluate(cc, src.engine, dst.engine)
            found.add("all" if v.allowed.is_all else "none" if v.allowed.is_empty else "part")
            for side in (v.egress, v.ingress):
                for d in side.decisions:
                    found.add(f"{d.tier}:{d.action}" if d.reason else d.action)
                if side.isolated and any(d.action == PASS for d in side.decisions):
                    found.add("pass-then-networkpolicy")
    return found


def test_generated_tiered_clusters_exercise_the_tiers() -> None:
    """The rarest shape, a Pass landing on the NetworkPolicies, comes about once in
    thirty clusters."""
    missing = unreached(
        st.tuples(tiered_clusters(), profiles), lambda cp: shapes(*cp), REQUIRED_SHAPES, 120
    )
    assert not missing, f"never generated: {sorted(missing)}"
