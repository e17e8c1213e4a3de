"""The pods a Cilium rule selects (docs/cilium.md "Subject"), and what CIDR group references
resolve to: table-driven over the selector forms Cilium reads."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from netpol.engine.cilium_describe import describe_cilium, find_cilium
from netpol.engine.compile import compile_cluster
from netpol.engine.names import ResolveError
from netpol.model.cilium import (
    CCNP_KIND,
    CNP_KIND,
    CIDRGroup,
    CIDRRule,
    CiliumEntry,
    CiliumPolicy,
    CiliumRule,
)
from netpol.model.cilium import EGRESS_DENY as DENY_SECTION
from netpol.model.cluster import Cluster
from netpol.model.objects import Namespace, Pod
from netpol.model.options import Options
from netpol.model.policy import IPNetwork
from netpol.model.selectors import LabelSelector, Requirement
from netpol.validate.pipeline import load_cluster

PODS = (
    Pod("shop", "web", {"app": "web"}, ("10.244.1.2",), service_account="front"),
    Pod("shop", "db", {"app": "db"}, ("10.244.1.3",)),
    Pod("other", "web", {"app": "web"}, ("10.244.2.2",)),
    Pod("other", "agent", {"app": "web"}, ("172.18.0.2",), host_network=True),
)
CLUSTER = Cluster(
    namespaces=(
        Namespace("shop", {"kubernetes.io/metadata.name": "shop", "tier": "prod"}),
        Namespace("other", {"kubernetes.io/metadata.name": "other"}),
    ),
    pods=PODS,
)


def selected(kind: str, namespace: str | None, selector: LabelSelector) -> list[str]:
    policy = CiliumPolicy(kind, "p", namespace, (CiliumRule("spec", endpoint_selector=selector),))
    return list(describe_cilium(CLUSTER, policy).selected)


WEB = LabelSelector((("app", "web"),))


@pytest.mark.parametrize(
    ("kind", "namespace", "selector", "expected"),
    [
        # a CNP selects its own namespace only; hostNetwork pods never
        (CNP_KIND, "shop", WEB, ["shop/web"]),
        (CCNP_KIND, None, WEB, ["shop/web", "other/web"]),
        (CCNP_KIND, None, LabelSelector(), ["shop/web", "shop/db", "other/web"]),
        # source prefixes: k8s: and any: are the pod's labels, reserved: is no pod's
        (CNP_KIND, "shop", LabelSelector((("k8s:app", "web"),)), ["shop/web"]),
        (CNP_KIND, "shop", LabelSelector((("any:app", "db"),)), ["shop/db"]),
        (CCNP_KIND, None, LabelSelector((("reserved:host", ""),)), []),
        (CCNP_KIND, None, LabelSelector((("$host", ""),)), []),
        (
            CCNP_KIND,
            None,
            LabelSelector((), (Requirement("reserved:host", "DoesNotExist"),)),
            ["shop/web", "shop/db", "other/web"],
        ),
        # identity labels: namespace, service account, namespace labels
        (
            CCNP_KIND,
            None,
            LabelSelector((("k8s:io.kubernetes.pod.namespace", "other"),)),
            ["other/web"],
        ),
        (
            CCNP_KIND,
            None,
            LabelSelector((("io.cilium.k8s.policy.serviceaccount", "front"),)),
            ["shop/web"],
        ),
        (
            CCNP_KIND,
            None,
            LabelSelector((("io.cilium.k8s.namespace.labels.tier", "prod"),)),
            ["shop/web", "shop/db"],
        ),
        # in a CNP the agent overwrites a k8s: namespace label with the policy's (§3.1);
        # written with another source it is ANDed, and selects nothing elsewhere
        (
            CNP_KIND,
            "shop",
            LabelSelector((("k8s:io.kubernetes.pod.namespace", "other"),)),
            ["shop/web", "shop/db"],
        ),
        (CNP_KIND, "shop", LabelSelector((("io.kubernetes.pod.namespace", "other"),)), []),
    ],
)
def test_the_pods_a_rule_selects(
    kind: str, namespace: str | None, selector: LabelSelector, expected: list[str]
) -> None:
    assert selected(kind, namespace, selector) == expected


def test_a_host_policy_rule_selects_no_pod() -> None:
    rule = CiliumRule("specs[0]", node_selector=LabelSelector())
    described = describe_cilium(CLUSTER, CiliumPolicy(CCNP_KIND, "h", None, (rule,)))
    assert described.rules[0].host_policy
    assert described.selected == ()


def net(text: str) -> IPNetwork:
    return ipaddress.ip_network(text)


def test_cidr_group_references_resolve_by_name_and_by_labels() -> None:
    groups = (
        CIDRGroup("a", (("team", "x"),), (net("192.0.2.0/24"),)),
        CIDRGroup("b", (("team", "x"),), (net("198.51.100.0/24"), net("203.0.113.0/24"))),
    )
    by_name, by_labels, missing, plain = (
        CIDRRule(group_ref="b"),
        CIDRRule(group_selector=LabelSelector((("team", "x"),))),
        CIDRRule(group_ref="nope"),
        CIDRRule(cidr=net("10.0.0.0/8")),
    )
    entry = CiliumEntry(DENY_SECTION, 0, cidrs=(by_name, by_labels, missing, plain))
    policy = CiliumPolicy(
        CCNP_KIND, "p", None, (CiliumRule("spec", LabelSelector(), entries=(entry,)),)
    )
    described = describe_cilium(Cluster(cidr_groups=groups), policy)
    assert described.group_cidrs(by_name) == ("198.51.100.0/24", "203.0.113.0/24")
    assert described.group_cidrs(by_labels) == ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
    assert described.group_cidrs(missing) == ()
    assert described.group_cidrs(plain) is None


@pytest.mark.parametrize(
    ("kind", "namespace", "name", "message"),
    [
        (CNP_KIND, "shop", "p", None),
        (CCNP_KIND, "ignored", "g", None),  # cluster-wide: the namespace does not count
        (
            CNP_KIND,
            "other",
            "p",
            "no CiliumNetworkPolicy 'p' in namespace other (there is one in namespace shop)",
        ),
        (CNP_KIND, "shop", "pp", "no CiliumNetworkPolicy 'pp' in namespace shop (did you mean p?)"),
        (CCNP_KIND, None, "zzz", "no CiliumClusterwideNetworkPolicy 'zzz' (existing: g)"),
    ],
)
def test_find(kind: str, namespace: str | None, name: str, message: str | None) -> None:
    cluster = Cluster(
        cilium_policies=(CiliumPolicy(CNP_KIND, "p", "shop"), CiliumPolicy(CCNP_KIND, "g", None))
    )
    if message is None:
        assert find_cilium(cluster, kind, namespace, name).name == name
        return
    with pytest.raises(ResolveError) as caught:
        find_cilium(cluster, kind, namespace, name)
    assert str(caught.value) == message


def test_the_pods_described_are_those_the_engine_applies_each_policy_to() -> None:
    """describe and the verdicts agree: on the tutorial with tests/fixtures/cilium (and
    a pod whose only matching label is one Cilium's identity filter drops), the pods a
    policy's rules select are the pods its translated tiered policies select."""
    repo = Path(__file__).resolve().parents[2]
    loaded = load_cluster(
        [str(repo / "examples/tutorial"), str(repo / "tests/fixtures/cilium")], Options()
    )
    assert loaded.ok
    cc = compile_cluster(loaded.cluster, Options())
    assert cc.tiered is not None
    for policy in loaded.cluster.cilium_policies:
        members = [
            m
            for m in cc.tiered.policies
            if (m.policy.kind, m.policy.name, m.policy.namespace)
            == (policy.kind, policy.name, policy.namespace)
        ]
        engine = {
            p.id for p in loaded.cluster.pods if any(cc.tiered.selects(m, p) for m in members)
        }
        assert set(describe_cilium(loaded.cluster, policy).selected) == engine, policy.id
        assert engine, policy.id  # every fixture policy selects some pod


def test_a_label_the_identity_filter_drops_selects_no_pod() -> None:
    """``pod-template-hash`` never reaches a Cilium identity (docs/cilium.md "Pod identity
    labels"): a rule selecting on it selects nothing, as the agent would."""
    pod = Pod("shop", "api", {"app": "api", "pod-template-hash": "5c694bf5fc"}, ("10.244.1.9",))
    cluster = Cluster(namespaces=CLUSTER.namespaces, pods=(pod,))
    for selector, expected in (
        (LabelSelector((("pod-template-hash", "5c694bf5fc"),)), ()),
        (LabelSelector((("app", "api"),)), ("shop/api",)),
    ):
        rule = CiliumRule("spec", endpoint_selector=selector)
        policy = CiliumPolicy(CNP_KIND, "p", "shop", (rule,))
        assert describe_cilium(cluster, policy).selected == expected
