"""AdminNetworkPolicy, BaselineAdminNetworkPolicy and ClusterNetworkPolicy documents become
tiered policies (spec 6): tier, order, subject, rules in written order, each with its line;
what netpol cannot evaluate fails closed and is said, never dropped silently."""

from __future__ import annotations

import textwrap
from ipaddress import ip_network

import pytest

from netpol.load.yamldoc import parse_text
from netpol.model.diagnostics import Severity
from netpol.model.options import Options
from netpol.model.policy import PolicyPort
from netpol.model.selectors import EVERYTHING, LabelSelector
from netpol.model.source import Source
from netpol.model.tiers import (
    ADMIN_TIER,
    ALLOW,
    ANY,
    ANY_PROTOCOL,
    BASELINE_TIER,
    DENY,
    EVERY_ENDPOINT,
    NODES,
    PASS,
    PODS,
    EndpointMatch,
    TieredPolicy,
    TierRule,
)
from netpol.validate.pipeline import check_and_build

from .support import build, lines

ANP_HEAD = "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\n"
BANP_HEAD = "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\n"
CNP_HEAD = "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\n"


def only_policy(text: str) -> TieredPolicy:
    cluster = build(text)
    assert len(cluster.tiered_policies) == 1, lines(cluster)
    return cluster.tiered_policies[0]


def labels(**pairs: str) -> LabelSelector:
    return LabelSelector(tuple(sorted(pairs.items())))


def at(line: int) -> Source:
    return Source("test.yaml", line)


def anp_rule(rule: str, direction: str = "egress") -> str:
    """An ANP whose one ``direction`` rule (flow style) is on line 8."""
    return (
        ANP_HEAD
        + "metadata: {name: p}\nspec:\n  priority: 5\n  subject: {namespaces: {}}\n"
        + f"  {direction}:\n    - {rule}\n"
    )


def test_an_admin_network_policy_in_full() -> None:
    policy = only_policy(
        ANP_HEAD
        + textwrap.dedent("""\
        metadata:
          name: allow-dns
          annotations: {z: "1", a: "2"}
        spec:
          priority: 5
          subject:
            pods:
              namespaceSelector: {matchLabels: {team: a}}
              podSelector: {}
          ingress:
            - name: from-monitoring
              action: Allow
              from:
                - namespaces: {matchLabels: {kubernetes.io/metadata.name: monitoring}}
            - action: Deny
              from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: x}}}}]
          egress:
            - name: dns
              action: Pass
              to:
                - nodes: {matchLabels: {role: dns}}
                - networks: [10.0.0.1/8, "fd00::/64"]
              ports:
                - portNumber: {port: 53}
                - portNumber: {protocol: UDP, port: 53}
                - portRange: {protocol: SCTP, start: 100, end: 200}
                - namedPort: dns-tcp
        """)
    )
    assert policy == TieredPolicy(
        kind="AdminNetworkPolicy",
        api_version="policy.networking.k8s.io/v1alpha1",
        name="allow-dns",
        namespace=None,
        tier=ADMIN_TIER.name,
        order=5.0,
        subject=EndpointMatch(scope=PODS, namespaces=labels(team="a"), pods=EVERYTHING),
        types=("Ingress", "Egress"),
        ingress=(
            TierRule(
                index=0,
                action=ALLOW,
                name="from-monitoring",
                peers=(
                    EndpointMatch(
                        scope=PODS,
                        namespaces=labels(**{"kubernetes.io/metadata.name": "monitoring"}),
                    ),
                ),
                source=at(13),
            ),
            TierRule(
                index=1,
                action=DENY,
                peers=(EndpointMatch(scope=PODS, namespaces=EVERYTHING, pods=labels(app="x")),),
                source=at(17),
            ),
        ),
        egress=(
            TierRule(
                index=0,
                action=PASS,
                name="dns",
                peers=(
                    EndpointMatch(scope=NODES, nodes=labels(role="dns")),
                    EndpointMatch(
                        scope=ANY,
                        nets=(ip_network("10.0.0.0/8"), ip_network("fd00::/64")),
                    ),
                ),
                ports=(
                    PolicyPort("TCP", 53),
                    PolicyPort("UDP", 53),
                    PolicyPort("SCTP", 100, 200),
                    PolicyPort(ANY_PROTOCOL, "dns-tcp"),
                ),
                source=at(20),
            ),
        ),
        annotations=(("a", "2"), ("z", "1")),
        source=at(1),
    )
    assert policy.egress[0].peers[1].nets_text == ("10.0.0.1/8", "fd00::/64")  # as written
    assert policy.egress[0].ports[0].protocol_defaulted
    assert policy.id == "AdminNetworkPolicy/allow-dns"


@pytest.mark.parametrize(
    ("rules", "types"),
    [
        ("  ingress: [{action: Deny, from: [{namespaces: {}}]}]\n", ("Ingress",)),
        ("  egress: [{action: Deny, to: [{namespaces: {}}]}]\n", ("Egress",)),
        ("  ingress: []\n", ()),
        ("", ()),
    ],
    ids=["ingress only", "egress only", "empty list", "no rules"],
)
def test_a_direction_without_rules_is_not_affected(rules: str, types: tuple[str, ...]) -> None:
    head = ANP_HEAD + "metadata: {name: p}\nspec:\n  priority: 1\n  subject: {namespaces: {}}\n"
    assert only_policy(head + rules).types == types


def test_the_baseline_admin_network_policy() -> None:
    policy = only_policy(
        BANP_HEAD + "metadata: {name: default}\nspec:\n  subject: {namespaces: {}}\n"
        "  ingress: [{action: Deny, from: [{namespaces: {}}]}]\n"
        "  egress: [{action: Allow, to: [{networks: [0.0.0.0/0]}]}]\n"
    )
    assert (policy.kind, policy.tier, policy.order, policy.namespace) == (
        "BaselineAdminNetworkPolicy",
        BASELINE_TIER.name,
        None,
        None,
    )
    assert [r.action for r in policy.ingress + policy.egress] == [DENY, ALLOW]
    assert policy.egress[0].peers[0].nets_text == ("0.0.0.0/0",)


@pytest.mark.parametrize(
    ("tier", "expected"), [("Admin", ADMIN_TIER.name), ("Baseline", BASELINE_TIER.name)]
)
def test_a_cluster_network_policy_in_either_tier(tier: str, expected: str) -> None:
    policy = only_policy(
        CNP_HEAD
        + textwrap.dedent(f"""\
        metadata: {{name: c}}
        spec:
          tier: {tier}
          priority: 7
          subject: {{namespaces: {{matchLabels: {{a: b}}}}}}
          egress:
            - action: Accept
              to: [{{pods: {{namespaceSelector: {{}}, podSelector: {{}}}}}}]
              protocols:
                - tcp: {{destinationPort: {{number: 80}}}}
                - udp: {{destinationPort: {{range: {{start: 53, end: 54}}}}}}
                - sctp: {{}}
                - tcp: {{}}
                - destinationNamedPort: http
            - {{action: Pass, to: [{{namespaces: {{}}}}]}}
            - {{action: Deny, to: [{{namespaces: {{}}}}]}}
        """)
    )
    assert (policy.kind, policy.api_version, policy.tier, policy.order, policy.types) == (
        "ClusterNetworkPolicy",
        "policy.networking.k8s.io/v1alpha2",
        expected,
        7.0,
        ("Egress",),
    )
    assert policy.subject == EndpointMatch(scope=PODS, namespaces=labels(a="b"))
    assert [r.action for r in policy.egress] == [ALLOW, PASS, DENY]
    assert policy.egress[0].ports == (
        PolicyPort("TCP", 80),
        PolicyPort("UDP", 53, 54),
        PolicyPort("SCTP", None),
        PolicyPort("TCP", None),
        PolicyPort(ANY_PROTOCOL, "http"),
    )
    assert [r.source.line for r in policy.egress] == [9, 17, 18]


def test_items_of_a_typed_list_may_leave_out_kind_and_api_version() -> None:
    cluster = build(
        "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicyList\nitems:\n"
        "  - metadata: {name: a}\n    spec: {priority: 1, subject: {namespaces: {}}}\n"
    )
    [policy] = cluster.tiered_policies
    assert (policy.kind, policy.api_version) == (
        "AdminNetworkPolicy",
        "policy.networking.k8s.io/v1alpha1",
    )


# -- what netpol cannot evaluate ---------------------------------------------------------

DOMAINS = (
    "domainNames cannot be evaluated offline (netpol resolves no DNS names): this peer "
    "matches nothing, so traffic it allows is reported as denied"
)
UNKNOWN_PEER_ALLOW = (
    "a peer of a kind netpol does not know matches nothing in this Allow rule "
    "(fails closed, spec 6.2)"
)
UNKNOWN_PEER_DENY = (
    "a peer of a kind netpol does not know makes this rule deny every peer (fails closed, spec 6.2)"
)
UNKNOWN_PORT_DENY = (
    "a port of a kind netpol does not know makes this rule deny every port (fails closed, spec 6.2)"
)
EMPTY_RANGE = "port range 90-80 starts after it ends (the CRD accepts it): it matches no port"
ICMP = "protocol ICMP is not TCP, UDP or SCTP (the CRD does not check it): this port entry matches nothing"
W = "test.yaml:8: warning: AdminNetworkPolicy/p:"
NS = EndpointMatch(scope=PODS, namespaces=EVERYTHING)

# fmt: off
NOT_EVALUATED: list[tuple[str, str, str, TierRule, list[str]]] = [
    (
        "edge case 70: portRange 90-80 matches nothing",
        "egress", "{action: Deny, to: [{namespaces: {}}], ports: [{portRange: {start: 90, end: 80}}]}",
        TierRule(0, DENY, peers=(NS,), unmatchable="port range 90-80 is empty"),
        [f"{W} spec.egress[0].ports[0].portRange: {EMPTY_RANGE}"],
    ),
    (
        "an empty range next to a port leaves the port",
        "egress", "{action: Deny, to: [{namespaces: {}}], ports: [{portRange: {start: 90, end: 80}}, {portNumber: {port: 80}}]}",
        TierRule(0, DENY, peers=(NS,), ports=(PolicyPort("TCP", 80),)),
        [f"{W} spec.egress[0].ports[0].portRange: {EMPTY_RANGE}"],
    ),
    (
        "only domainNames: the rule matches nothing",
        "egress", '{action: Allow, to: [{domainNames: ["*.example.com", a.io]}]}',
        TierRule(0, ALLOW, unmatchable="its domainNames peers cannot be evaluated offline"),
        [f"{W} spec.egress[0].to[0].domainNames: {DOMAINS} (value: \"*.example.com, a.io\")"],
    ),
    (
        "domainNames next to another peer",
        "egress", "{action: Allow, to: [{domainNames: [a.io]}, {namespaces: {}}]}",
        TierRule(0, ALLOW, peers=(NS,)),
        [f"{W} spec.egress[0].to[0].domainNames: {DOMAINS} (value: \"a.io\")"],
    ),
    (
        "unknown peer in an Allow rule matches nothing",
        "ingress", "{action: Allow, from: [{}]}",
        TierRule(0, ALLOW, unmatchable="a peer of a kind netpol does not know"),
        [f"{W} spec.ingress[0].from[0]: {UNKNOWN_PEER_ALLOW}"],
    ),
    (
        "unknown peer in a Deny rule matches everything",
        "ingress", "{action: Deny, from: [{namespaces: {matchLabels: {a: b}}}, {newPeer: {}}], ports: [{portNumber: {port: 80}}]}",
        TierRule(0, DENY, peers=(EVERY_ENDPOINT,), ports=(PolicyPort("TCP", 80),)),
        [f"{W} spec.ingress[0].from[1]: {UNKNOWN_PEER_DENY}"],
    ),
    (
        "unknown peer in a Pass rule denies everything",
        "egress", "{action: Pass, to: [{}]}",
        TierRule(0, DENY, peers=(EVERY_ENDPOINT,)),
        [f"{W} spec.egress[0].to[0]: {UNKNOWN_PEER_DENY}"],
    ),
    (
        "unknown port in a Pass rule denies every port",
        "egress", "{action: Pass, to: [{namespaces: {}}], ports: [{portNumber: {port: 80}}, {}]}",
        TierRule(0, DENY, peers=(NS,)),
        [f"{W} spec.egress[0].ports[1]: {UNKNOWN_PORT_DENY}"],
    ),
    (
        "unknown port in an Allow rule matches nothing",
        "egress", "{action: Allow, to: [{namespaces: {}}], ports: [{}]}",
        TierRule(0, ALLOW, peers=(NS,), unmatchable="a port of a kind netpol does not know"),
        [
            f"{W} spec.egress[0].ports[0]: a port of a kind netpol does not know matches nothing "
            "in this Allow rule (fails closed, spec 6.2)"
        ],
    ),
    (
        "a protocol outside TCP, UDP and SCTP matches nothing",
        "egress", "{action: Allow, to: [{namespaces: {}}], ports: [{portNumber: {protocol: ICMP, port: 8}}]}",
        TierRule(0, ALLOW, peers=(NS,), unmatchable="protocol ICMP is not TCP, UDP or SCTP"),
        [f"{W} spec.egress[0].ports[0].portNumber.protocol: {ICMP} (value: \"ICMP\")"],
    ),
]
# fmt: on


@pytest.mark.parametrize(
    ("name", "direction", "rule", "expected", "warnings"),
    NOT_EVALUATED,
    ids=[row[0] for row in NOT_EVALUATED],
)
def test_what_netpol_cannot_evaluate_fails_closed_and_is_said(
    name: str, direction: str, rule: str, expected: TierRule, warnings: list[str]
) -> None:
    cluster = build(anp_rule(rule, direction))
    [policy] = cluster.tiered_policies
    assert policy.rules(direction.capitalize()) == (
        TierRule(
            expected.index,
            expected.action,
            peers=expected.peers,
            ports=expected.ports,
            unmatchable=expected.unmatchable,
            source=at(8),
        ),
    )
    assert lines(cluster) == warnings
    assert all(d.severity is Severity.WARNING for d in cluster.diagnostics)
    assert {d.reason for d in cluster.diagnostics} <= {"NotModelled"}


# -- objects that cannot be built ------------------------------------------------------

E = "test.yaml:{}: error: AdminNetworkPolicy/p:"

# fmt: off
UNBUILDABLE: list[tuple[str, str, str]] = [
    ("no priority", ANP_HEAD + "metadata: {name: p}\nspec:\n  subject: {namespaces: {}}\n", f"{E.format(4)} spec.priority: is required"),
    ("no subject", ANP_HEAD + "metadata: {name: p}\nspec:\n  priority: 1\n", f"{E.format(4)} spec.subject: is required"),
    ("subject of neither kind", ANP_HEAD + "metadata: {name: p}\nspec:\n  priority: 1\n  subject: {}\n", f"{E.format(6)} spec.subject: must set exactly one of namespaces or pods"),
    ("unknown action", anp_rule("{action: Drop, to: [{namespaces: {}}]}"), f'{E.format(8)} spec.egress[0].action: must be one of Allow, Deny, Pass (value: "Drop")'),
    ("no peers", anp_rule("{action: Deny, to: []}"), f"{E.format(8)} spec.egress[0].to: must list at least one peer"),
    ("peer of two kinds", anp_rule("{action: Deny, to: [{namespaces: {}, nodes: {}}]}"), f"{E.format(8)} spec.egress[0].to[0]: must set exactly one of namespaces, pods, nodes, networks, domainNames"),
    ("not a CIDR", anp_rule("{action: Deny, to: [{networks: [10.0.0.0]}]}"), f'{E.format(8)} spec.egress[0].to[0].networks[0]: must be a CIDR (e.g. 10.0.0.0/8 or fd00::/64) (value: "10.0.0.0")'),
    ("port without a number", anp_rule("{action: Deny, to: [{namespaces: {}}], ports: [{portNumber: {}}]}"), f"{E.format(8)} spec.egress[0].ports[0].portNumber.port: is required"),
    ("port a string", anp_rule("{action: Deny, to: [{namespaces: {}}], ports: [{portNumber: {port: http}}]}"), f'{E.format(8)} spec.egress[0].ports[0].portNumber.port: must be an integer, not a string (value: "http")'),
    ("subject of both kinds", ANP_HEAD + "metadata: {name: p}\nspec:\n  priority: 1\n  subject: {namespaces: {}, pods: {namespaceSelector: {}, podSelector: {}}}\n", f"{E.format(6)} spec.subject: must set exactly one of namespaces or pods"),
    ("pods subject without podSelector", ANP_HEAD + "metadata: {name: p}\nspec:\n  priority: 1\n  subject: {pods: {namespaceSelector: {}}}\n", f"{E.format(6)} spec.subject.pods.podSelector: is required"),
    ("networks empty", anp_rule("{action: Deny, to: [{networks: []}]}"), f"{E.format(8)} spec.egress[0].to[0].networks: must list at least one CIDR"),
    ("portRange without start", anp_rule("{action: Deny, to: [{namespaces: {}}], ports: [{portRange: {end: 9}}]}"), f"{E.format(8)} spec.egress[0].ports[0].portRange.start: is required"),
    ("BANP has no Pass", BANP_HEAD + "metadata: {name: default}\nspec:\n  subject: {namespaces: {}}\n  ingress:\n    - {action: Pass, from: [{namespaces: {}}]}\n", 'test.yaml:7: error: BaselineAdminNetworkPolicy/default: spec.ingress[0].action: must be one of Allow, Deny (value: "Pass")'),
    ("CNP tier of neither name", CNP_HEAD + "metadata: {name: c}\nspec:\n  tier: admin\n  priority: 1\n  subject: {namespaces: {}}\n", 'test.yaml:5: error: ClusterNetworkPolicy/c: spec.tier: must be Admin or Baseline (value: "admin")'),
    ("CNP without a tier", CNP_HEAD + "metadata: {name: c}\nspec:\n  priority: 1\n  subject: {namespaces: {}}\n", "test.yaml:4: error: ClusterNetworkPolicy/c: spec.tier: is required"),
    ("CNP says Accept, not Allow", CNP_HEAD + "metadata: {name: c}\nspec:\n  tier: Admin\n  priority: 1\n  subject: {namespaces: {}}\n  egress:\n    - {action: Allow, to: [{namespaces: {}}]}\n", 'test.yaml:9: error: ClusterNetworkPolicy/c: spec.egress[0].action: must be one of Accept, Deny, Pass (value: "Allow")'),
    ("CNP destinationPort without a number", CNP_HEAD + "metadata: {name: c}\nspec:\n  tier: Admin\n  priority: 1\n  subject: {namespaces: {}}\n  egress:\n    - {action: Deny, to: [{namespaces: {}}], protocols: [{tcp: {destinationPort: {range: {start: 1}}}}]}\n", "test.yaml:9: error: ClusterNetworkPolicy/c: spec.egress[0].protocols[0].tcp.destinationPort.range.end: is required"),
]
# fmt: on


@pytest.mark.parametrize(("name", "text", "error"), UNBUILDABLE, ids=[r[0] for r in UNBUILDABLE])
def test_an_object_that_cannot_be_built_is_an_error(name: str, text: str, error: str) -> None:
    cluster = build(text)
    assert cluster.tiered_policies == ()
    assert lines(cluster) == [error]


def test_validated_input_warns_once_and_builds() -> None:
    docs, problems = parse_text(
        anp_rule("{action: Allow, to: [{domainNames: [a.io]}, {namespaces: {}}]}"), "test.yaml"
    )
    result = check_and_build(docs, problems, Options(implicit_dns=False))
    assert result.ok
    assert [d.one_line() for d in result.diagnostics] == [
        f'{W} spec.egress[0].to[0].domainNames: {DOMAINS} (value: "a.io")'
    ]
    assert len(result.cluster.tiered_policies) == 1
