"""``describe pod`` evaluates only the pods its isolating policies could let through
(``could_pass``): the set is exact where it is given, and None (every pod) where the
NetworkPolicy rules alone cannot bound it. test_view_properties holds the lists equal to
``explain`` on random clusters; these cases pin down which pods are looked at."""

from __future__ import annotations

import pytest

from netpol.engine.compile import compile_cluster
from netpol.engine.describe import could_pass, describe_pod
from netpol.model.cluster import Cluster
from netpol.model.objects import Node
from netpol.model.options import PROFILES, Options
from netpol.model.policy import NetworkPolicy, Peer, Rule
from netpol.model.selectors import LabelSelector

from .builders import cluster, ip_block, namespace, pod, policy

WEB = LabelSelector((("app", "web"),))
DB = LabelSelector((("app", "db"),))
EVERYONE = LabelSelector()


def _cluster(*policies: NetworkPolicy) -> Cluster:
    return cluster(
        [namespace("a"), namespace("b")],
        [
            pod("a/db", "10.1.0.1", {"app": "db"}, "n1"),
            pod("a/web", "10.1.0.2", {"app": "web"}, "n1"),
            pod("b/web", "10.1.0.3", {"app": "web"}, "n2"),
            pod("b/other", "10.2.0.4", {"app": "other"}, "n2"),
            pod("b/agent", "172.18.0.2", {"app": "agent"}, "n2", host_network=True),
        ],
        policies,
        [Node("n1"), Node("n2")],
    )


def _ingress(*peers: Peer) -> NetworkPolicy:
    return policy("a", "db-in", DB, ingress=[Rule(tuple(peers))], types=["Ingress"])


@pytest.mark.parametrize(
    ("policies", "expected"),
    [
        # not isolated: anyone may get through
        ((), None),
        # a rule for any peer: anyone
        ((_ingress(),), None),
        # a podSelector alone: pods of the policy's namespace; the hostNetwork pod always
        ((_ingress(Peer(pod_selector=WEB)),), {"a/web", "b/agent"}),
        # a namespaceSelector for every namespace and a podSelector
        (
            (_ingress(Peer(pod_selector=WEB, namespace_selector=EVERYONE)),),
            {"a/web", "b/web", "b/agent"},
        ),
        # an ipBlock: the pods whose addresses it holds, its except range left out
        (
            (_ingress(Peer(ip_block=ip_block("10.1.0.0/24", "10.1.0.2/32"))),),
            {"a/db", "b/web", "b/agent"},
        ),
        ((_ingress(Peer(ip_block=ip_block("10.2.0.0/16"))),), {"b/other", "b/agent"}),
        ((_ingress(Peer(ip_block=ip_block("2001:db8::/64"))),), {"b/agent"}),
        # isolated with no rule: only the node's traffic can get through
        ((policy("a", "deny", EVERYONE, types=["Ingress"]),), {"b/agent"}),
    ],
    ids=[
        "not isolated",
        "any peer",
        "podSelector",
        "namespaceSelector",
        "ipBlock except",
        "ipBlock",
        "IPv6 ipBlock",
        "deny",
    ],
)
def test_describe_pod_looks_at_the_pods_the_rules_can_let_in(
    policies: tuple[NetworkPolicy, ...], expected: set[str] | None
) -> None:
    c = _cluster(*policies)
    cc = compile_cluster(c, Options())
    assert could_pass(cc, c.pod_by_id["a/db"], "Ingress") == expected


def test_under_cilium_identities_every_pod_is_looked_at() -> None:
    # Cilium relabels the pods and brings its own tiers: the NetworkPolicy peers alone do
    # not bound who gets through
    c = _cluster(_ingress(Peer(pod_selector=WEB)))
    cc = compile_cluster(c, Options(profile=PROFILES["cilium"]))
    assert could_pass(cc, c.pod_by_id["a/db"], "Ingress") is None


def test_egress_is_bounded_alike_and_the_lists_stay_explains() -> None:
    c = _cluster(
        policy("a", "db-out", DB, egress=[Rule((Peer(pod_selector=WEB),))], types=["Egress"])
    )
    cc = compile_cluster(c, Options())
    db = c.pod_by_id["a/db"]
    assert could_pass(cc, db, "Egress") == {"a/web", "b/agent"}
    # the hostNetwork pod runs on another node: no exception lets db reach it
    assert [other for other, _ in describe_pod(cc, db).reaches] == ["a/web"]
