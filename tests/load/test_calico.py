"""Calico policies, tiers and ServiceAccounts as the model holds them (Calico's defaults)."""

from __future__ import annotations

import ipaddress
import textwrap

import pytest
from tests.load.support import build, lines

from netpol.load.calico_selector import parse_selector
from netpol.model.diagnostics import Severity
from netpol.model.expressions import ALL
from netpol.model.policy import PolicyPort
from netpol.model.tiers import ANY, PODS, EndpointMatch, Tier, TieredPolicy, TierRule

NP_HEAD = """\
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata:
  name: p
  namespace: app
spec:
"""
GNP_HEAD = """\
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: g
spec:
"""


def doc(head: str, spec: str) -> str:
    return head + textwrap.indent(textwrap.dedent(spec).strip("\n") + "\n", "  ")


def only_policy(text: str) -> TieredPolicy:
    cluster = build(text)
    assert lines(cluster, Severity.ERROR) == []
    (policy,) = cluster.tiered_policies
    return policy


def np(spec: str) -> TieredPolicy:
    return only_policy(doc(NP_HEAD, spec))


def gnp(spec: str) -> TieredPolicy:
    return only_policy(doc(GNP_HEAD, spec))


def sel(text: str) -> object:
    return parse_selector(text)


def net(text: str) -> object:
    return ipaddress.ip_network(text, strict=False)


def test_namespaced_policy_defaults() -> None:
    policy = np("ingress: [{action: Allow}]")
    assert (policy.kind, policy.api_version, policy.namespace, policy.name) == (
        "NetworkPolicy",
        "projectcalico.org/v3",
        "app",
        "p",
    )
    assert (policy.tier, policy.order, policy.types) == ("default", None, ("Ingress",))
    assert policy.subject == EndpointMatch(scope=PODS, namespace="app", pods=ALL)
    assert policy.ingress == (TierRule(0, "Allow", source=policy.ingress[0].source),)
    assert policy.ingress[0].source.line == 7
    assert policy.id == "NetworkPolicy.projectcalico.org/app/p"


def test_global_policy_subject_and_order() -> None:
    policy = gnp(
        """
        tier: security
        order: 10
        selector: role == 'db'
        namespaceSelector: has(team)
        serviceAccountSelector: trusted == 'yes'
        egress: [{action: Deny}]
        """
    )
    assert (policy.kind, policy.namespace, policy.tier, policy.order) == (
        "GlobalNetworkPolicy",
        None,
        "security",
        10.0,
    )
    assert policy.subject == EndpointMatch(
        scope=PODS,
        namespaces=sel("has(team)"),
        pods=sel("role == 'db'"),
        service_accounts=sel("trusted == 'yes'"),
    )
    assert policy.types == ("Egress",)


@pytest.mark.parametrize(
    ("spec", "types"),
    [
        ("{}", ("Ingress",)),
        ("ingress: [{action: Allow}]", ("Ingress",)),
        ("egress: [{action: Allow}]", ("Egress",)),
        ("{ingress: [{action: Allow}], egress: [{action: Allow}]}", ("Ingress", "Egress")),
        ("types: [Egress, Egress]", ("Egress",)),
        ("{types: [Ingress], egress: [{action: Allow}]}", ("Ingress",)),
    ],
    ids=["nothing", "ingress", "egress only", "both", "written, duplicate", "written wins"],
)
def test_types(spec: str, types: tuple[str, ...]) -> None:
    assert np(spec).types == types


def rule(rule_yaml: str, direction: str = "ingress", head: str = NP_HEAD) -> TierRule:
    policy = only_policy(doc(head, f"{direction}:\n- {rule_yaml}"))
    (found,) = policy.ingress if direction == "ingress" else policy.egress
    return found


RULES = [
    (
        "source selector stays in the namespace",
        "{action: Allow, source: {selector: app == 'web'}}",
        {"peers": (EndpointMatch(scope=PODS, namespace="app", pods=sel("app == 'web'")),)},
    ),
    (
        "namespaceSelector lifts the namespace",
        "{action: Allow, source: {namespaceSelector: all(), selector: has(x)}}",
        {"peers": (EndpointMatch(scope=PODS, namespaces=ALL, pods=sel("has(x)")),)},
    ),
    (
        "nets are any endpoint",
        "{action: Deny, source: {nets: [10.0.0.0/8], notNets: [10.1.0.0/16]}}",
        {
            "peers": (
                EndpointMatch(
                    scope=ANY,
                    nets=(net("10.0.0.0/8"),),
                    not_nets=(net("10.1.0.0/16"),),
                    nets_text=("10.0.0.0/8",),
                    not_nets_text=("10.1.0.0/16",),
                ),
            )
        },
    ),
    (
        "a single address is a /32",
        "{action: Deny, source: {nets: [10.0.0.1]}}",
        {"peers": (EndpointMatch(scope=ANY, nets=(net("10.0.0.1/32"),), nets_text=("10.0.0.1",)),)},
    ),
    (
        "notSelector of a namespaced policy stays in the namespace",
        "{action: Allow, source: {notSelector: has(x)}}",
        {"peers": (EndpointMatch(scope=PODS, namespace="app", not_pods=sel("has(x)")),)},
    ),
    (
        "service accounts",
        "{action: Allow, source: {serviceAccounts: {names: [api], selector: has(a)}}}",
        {
            "peers": (
                EndpointMatch(
                    scope=PODS,
                    namespace="app",
                    service_account_names=("api",),
                    service_accounts=sel("has(a)"),
                ),
            )
        },
    ),
    (
        "destination of an ingress rule narrows the subject, its ports are the rule's",
        "{action: Allow, protocol: TCP, destination: {selector: has(db), ports: [80, '8080', "
        "'1000:2000', http], notPorts: [81]}}",
        {
            "peers": (),
            "local": EndpointMatch(scope=PODS, namespace="app", pods=sel("has(db)")),
            "protocols": ("TCP",),
            "ports": (
                PolicyPort("TCP", 80),
                PolicyPort("TCP", 8080),
                PolicyPort("TCP", 1000, 2000),
                PolicyPort("TCP", "http"),
            ),
            "not_ports": (PolicyPort("TCP", 81),),
        },
    ),
    (
        "protocol numbers Calico names",
        "{action: Allow, protocol: 17, destination: {ports: [53]}}",
        {"protocols": ("UDP",), "ports": (PolicyPort("UDP", 53),)},
    ),
    (
        "lowercase protocol",
        "{action: Allow, protocol: sctp}",
        {"protocols": ("SCTP",)},
    ),
    (
        "notProtocol",
        "{action: Deny, notProtocol: UDP}",
        {"protocols": ("TCP", "SCTP")},
    ),
    (
        "ICMP is not modelled",
        "{action: Allow, protocol: ICMP, icmp: {type: 8}}",
        {"protocols": (), "unmatchable": "ICMP is not modelled (only TCP, UDP and SCTP are)"},
    ),
    (
        "an icmp match without protocol ICMP",
        "{action: Allow, protocol: TCP, icmp: {type: 8}}",
        {
            "protocols": (),
            "unmatchable": "an icmp match makes the rule ICMP-only, which is not modelled",
        },
    ),
    (
        "another protocol number",
        "{action: Allow, protocol: 47}",
        {
            "protocols": (),
            "unmatchable": "protocol 47 is not modelled (only TCP, UDP and SCTP are)",
        },
    ),
    (
        "notProtocol ICMP leaves every modelled protocol",
        "{action: Allow, notProtocol: ICMP}",
        {"protocols": ("TCP", "UDP", "SCTP")},
    ),
    (
        "ipVersion without a peer",
        "{action: Deny, ipVersion: 6}",
        {"peers": (EndpointMatch(scope=ANY, ip_version=6),)},
    ),
    (
        "Pass and Log",
        "{action: Log}",
        {"action": "Log"},
    ),
]


@pytest.mark.parametrize(("text", "expected"), [r[1:] for r in RULES], ids=[r[0] for r in RULES])
def test_ingress_rules(text: str, expected: dict[str, object]) -> None:
    found = rule(text)
    assert {k: getattr(found, k) for k in expected} == expected


def test_egress_rule_peer_is_the_destination() -> None:
    found = rule(
        "{action: Allow, protocol: UDP, source: {selector: has(a)}, "
        "destination: {namespaceSelector: name == 'kube-system', ports: [53]}}",
        "egress",
    )
    assert found.peers == (EndpointMatch(scope=PODS, namespaces=sel("name == 'kube-system'")),)
    assert found.local == EndpointMatch(scope=PODS, namespace="app", pods=sel("has(a)"))
    assert found.ports == (PolicyPort("UDP", 53),)


def test_global_selectors_span_namespaces_and_a_lone_not_selector_matches_anything() -> None:
    found = rule("{action: Deny, source: {selector: has(a)}}", head=GNP_HEAD)
    assert found.peers == (EndpointMatch(scope=PODS, pods=sel("has(a)")),)
    found = rule("{action: Deny, source: {notSelector: has(a)}}", head=GNP_HEAD)
    assert found.peers == (EndpointMatch(scope=ANY, not_pods=sel("has(a)")),)


NOT_MODELLED = [
    (
        "source ports",
        "{action: Allow, protocol: TCP, source: {ports: [1024]}}",
        "spec.ingress[0].source.ports",
        "matching the client's source ports is not modelled",
    ),
    (
        "http",
        "{action: Allow, http: {methods: [GET]}}",
        "spec.ingress[0].http",
        "HTTP matches (Calico application layer policy) are not modelled",
    ),
    (
        "services",
        "{action: Allow, destination: {services: {name: s, namespace: x}}}",
        "spec.ingress[0].destination.services",
        "matching Services by name is not modelled",
    ),
]


@pytest.mark.parametrize(
    ("text", "field", "reason"), [r[1:] for r in NOT_MODELLED], ids=[r[0] for r in NOT_MODELLED]
)
def test_what_is_not_modelled_is_unmatchable_and_warned(text: str, field: str, reason: str) -> None:
    cluster = build(doc(NP_HEAD, f"ingress:\n- {text}"))
    (policy,) = cluster.tiered_policies
    assert policy.ingress[0].unmatchable == reason
    assert lines(cluster, Severity.WARNING) == [
        f"test.yaml:8: warning: NetworkPolicy/app/p: {field}: {reason}: netpol takes the rule "
        "to match nothing, so an Allow allows less and a Deny denies less than on a real cluster"
    ]


def test_crd_group_is_read_too_and_is_the_same_object() -> None:
    v3 = doc(NP_HEAD, "order: 1")
    crd = doc(NP_HEAD.replace("projectcalico.org/v3", "crd.projectcalico.org/v1"), "order: 2")
    cluster = build(v3 + "---\n" + crd)
    assert [(p.api_version, p.order) for p in cluster.tiered_policies] == [
        ("crd.projectcalico.org/v1", 2.0)
    ]
    assert [d.reason for d in cluster.diagnostics if d.severity is Severity.WARNING] == [
        "Duplicate"
    ]


def test_calico_and_kubernetes_policies_of_one_name_are_not_duplicates() -> None:
    k8s = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: app}\n"
    cluster = build(doc(NP_HEAD, "{}") + "---\n" + k8s)
    assert [p.id for p in cluster.policies] == ["app/p"]
    assert [p.id for p in cluster.tiered_policies] == ["NetworkPolicy.projectcalico.org/app/p"]
    assert not [d for d in cluster.diagnostics if d.reason == "Duplicate"]


def test_tiers_and_service_accounts() -> None:
    cluster = build(
        """\
        apiVersion: projectcalico.org/v3
        kind: Tier
        metadata: {name: security}
        spec: {order: 100, defaultAction: Pass}
        ---
        apiVersion: projectcalico.org/v3
        kind: Tier
        metadata: {name: late}
        ---
        apiVersion: v1
        kind: ServiceAccount
        metadata: {name: api, namespace: app, labels: {trusted: "yes"}}
        """
    )
    assert [(t.name, t.order, t.default_action) for t in cluster.tiers] == [
        ("late", None, "Deny"),
        ("security", 100.0, "Pass"),
    ]
    assert cluster.tiers[1] == Tier("security", 100.0, "Pass", cluster.tiers[1].source)
    assert [(s.id, dict(s.labels)) for s in cluster.service_accounts] == [
        ("app/api", {"trusted": "yes"})
    ]


def test_pods_carry_their_service_account() -> None:
    cluster = build(
        """\
        apiVersion: v1
        kind: Pod
        metadata: {name: a, namespace: app}
        spec: {serviceAccountName: api, containers: [{name: c}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: b, namespace: app}
        spec: {serviceAccount: old, containers: [{name: c}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: c, namespace: app}
        spec: {containers: [{name: c}]}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: d, namespace: app}
        spec:
          selector: {matchLabels: {a: b}}
          template:
            metadata: {labels: {a: b}}
            spec: {serviceAccountName: web, containers: [{name: c}]}
        """
    )
    assert {p.name: p.service_account for p in cluster.pods} == {
        "a": "api",
        "b": "old",
        "c": "default",
        next(p.name for p in cluster.pods if p.name.startswith("d-")): "web",
    }


LOADER_ERRORS = [
    (
        "bad selector",
        "selector: \"a == 'b' &&\"",
        "spec.selector",
        "invalid selector: expected a label key, '(', '!', has(), all() or global(), found the end "
        "of the selector at position 11",
    ),
    (
        "bad action",
        "ingress: [{action: Accept}]",
        "spec.ingress[0].action",
        "must be Allow, Deny, Pass or Log",
    ),
    ("order not a number", "order: high", "spec.order", "must be a number"),
    (
        "ports without protocol",
        "ingress: [{action: Allow, destination: {ports: [80]}}]",
        "spec.ingress[0].destination.ports",
        "ports may only be specified with protocol TCP, UDP or SCTP",
    ),
    ("types in lowercase", "types: [ingress]", "spec.types[0]", "must be Ingress or Egress"),
    (
        "protocol number out of range",
        "ingress: [{action: Allow, protocol: 256}]",
        "spec.ingress[0].protocol",
        "must be between 1 and 255",
    ),
    (
        "protocol unknown",
        "ingress: [{action: Allow, protocol: TCPX}]",
        "spec.ingress[0].protocol",
        "must be TCP, UDP, SCTP, ICMP, ICMPv6, UDPLite or 1..255",
    ),
    (
        "protocol of a superscript digit",
        "ingress: [{action: Allow, protocol: '\u00b2'}]",
        "spec.ingress[0].protocol",
        "must be TCP, UDP, SCTP, ICMP, ICMPv6, UDPLite or 1..255",
    ),
    (
        "port with a colon but no range",
        "ingress: [{action: Allow, protocol: TCP, destination: {ports: ['80:']}}]",
        "spec.ingress[0].destination.ports[0]",
        "must be a port number, a range first:last, or a port name of letters, digits, '_', "
        "'.' or '-' (at most 128)",
    ),
    (
        "port range out of order",
        "ingress: [{action: Allow, protocol: TCP, destination: {ports: ['90:80']}}]",
        "spec.ingress[0].destination.ports[0]",
        "port range invalid: the first port is above the last",
    ),
    (
        "port beyond 65535",
        "ingress: [{action: Allow, protocol: TCP, destination: {ports: [65536]}}]",
        "spec.ingress[0].destination.ports[0]",
        "must be between 0 and 65535, inclusive",
    ),
    (
        "range beyond 65535",
        "ingress: [{action: Allow, protocol: TCP, destination: {ports: ['80:70000']}}]",
        "spec.ingress[0].destination.ports[0]",
        "must be between 0 and 65535, inclusive",
    ),
    (
        "port name with a space",
        "ingress: [{action: Allow, protocol: TCP, destination: {ports: ['my port']}}]",
        "spec.ingress[0].destination.ports[0]",
        "must be a port number, a range first:last, or a port name of letters, digits, '_', "
        "'.' or '-' (at most 128)",
    ),
    (
        "port of non-ASCII digits (Go's ParseUint and regexp \\d read ASCII only)",
        "ingress: [{action: Allow, protocol: TCP, destination: {ports: ['\u0663']}}]",
        "spec.ingress[0].destination.ports[0]",
        "must be a port number, a range first:last, or a port name of letters, digits, '_', "
        "'.' or '-' (at most 128)",
    ),
    (
        "port of a superscript digit",
        "ingress: [{action: Allow, protocol: TCP, destination: {ports: ['\u00b2']}}]",
        "spec.ingress[0].destination.ports[0]",
        "must be a port number, a range first:last, or a port name of letters, digits, '_', "
        "'.' or '-' (at most 128)",
    ),
    (
        "range of non-ASCII digits",
        "ingress: [{action: Allow, protocol: TCP, destination: {ports: ['1:\u0663']}}]",
        "spec.ingress[0].destination.ports[0]",
        "must be a port number, a range first:last, or a port name of letters, digits, '_', "
        "'.' or '-' (at most 128)",
    ),
    (
        "net not a CIDR",
        "ingress: [{action: Allow, source: {nets: [10.0.0.0/33]}}]",
        "spec.ingress[0].source.nets[0]",
        "must be a CIDR or an IP address (e.g. 10.0.0.0/8)",
    ),
]


@pytest.mark.parametrize(
    ("spec", "field", "message"), [e[1:] for e in LOADER_ERRORS], ids=[e[0] for e in LOADER_ERRORS]
)
def test_unvalidated_input_is_an_error_not_a_crash(spec: str, field: str, message: str) -> None:
    cluster = build(doc(NP_HEAD, spec))
    assert cluster.tiered_policies == ()
    (error,) = [d for d in cluster.diagnostics if d.severity is Severity.ERROR]
    assert (error.field, error.message, error.line) == (field, message, 7)


def test_a_tier_with_an_unknown_default_action_is_an_error() -> None:
    cluster = build(
        "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: t}\n"
        "spec: {defaultAction: Allow}\n"
    )
    assert cluster.tiers == ()
    assert lines(cluster) == [
        'test.yaml:4: error: Tier/t: spec.defaultAction: must be Deny or Pass (value: "Allow")'
    ]


@pytest.mark.parametrize("flag", ["doNotTrack", "preDNAT"])
def test_host_endpoint_only_policies_select_no_pod_and_say_so(flag: str) -> None:
    cluster = build(doc(GNP_HEAD, f"{flag}: true\nselector: all()\ningress: [{{action: Deny}}]"))
    (policy,) = cluster.tiered_policies
    assert policy.subject.pods is not None and policy.subject.pods.text() == "global()"
    [warning] = lines(cluster, Severity.WARNING)
    assert f"spec.{flag}: applies to host endpoints only" in warning
    assert "the policy selects no pod" in warning
