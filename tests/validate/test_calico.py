"""Calico NetworkPolicy, GlobalNetworkPolicy, Tier and ServiceAccount validation: every
bad input with its message, field and line."""

from __future__ import annotations

import pytest
from tests.load.test_calico import GNP_HEAD, NP_HEAD, doc
from tests.validate.support import Found, diagnostics, errors, warnings


# the heads of tests.load.test_calico: a NetworkPolicy's spec starts on line 7, a
# GlobalNetworkPolicy's on line 6
def np(spec: str, head: str = NP_HEAD) -> str:
    return doc(head, spec)


def test_a_valid_policy_of_every_feature_has_no_problems() -> None:
    text = np(
        """
        tier: security
        order: 10.5
        selector: role == 'db' && has(app)
        serviceAccountSelector: trusted == 'yes'
        types: [Ingress, Egress]
        ingress:
        - action: Allow
          protocol: TCP
          source:
            namespaceSelector: team in {'a', "b"}
            notSelector: "!has(x)"
            serviceAccounts: {names: [api], selector: all()}
            nets: [10.0.0.0/8, 10.0.0.1]
          destination: {ports: [80, "8080", "1000:2000", http], notPorts: [0]}
        - {action: Allow, protocol: ICMP, icmp: {type: 8, code: 0}, ipVersion: 4}
        - {action: Pass, notProtocol: 47}
        egress:
        - {action: Log}
        - {action: Deny, protocol: 17, destination: {nets: ["fd00::/64"]}, ipVersion: 6}
        """
    )
    assert [d.one_line() for d in diagnostics(text)] == []


BAD = [
    (
        "action missing",
        "ingress: [{protocol: TCP}]",
        [("Required", "spec.ingress[0].action", "Required value", None, 7)],
    ),
    (
        "action unknown",
        "ingress: [{action: Accept}]",
        [
            (
                "NotSupported",
                "spec.ingress[0].action",
                'supported values: "Allow", "Deny", "Pass", "Log"',
                "Accept",
                7,
            )
        ],
    ),
    (
        "protocol unknown",
        "ingress:\n- action: Allow\n  protocol: TCPX",
        [
            (
                "Invalid",
                "spec.ingress[0].protocol",
                "must be TCP, UDP, SCTP, ICMP, ICMPv6, UDPLite or a number from 1 to 255",
                "TCPX",
                9,
            )
        ],
    ),
    (
        "protocol number out of range",
        "egress: [{action: Allow, notProtocol: 256}]",
        [
            (
                "Invalid",
                "spec.egress[0].notProtocol",
                "must be TCP, UDP, SCTP, ICMP, ICMPv6, UDPLite or a number from 1 to 255",
                256,
                7,
            )
        ],
    ),
    (
        "ports without protocol",
        "ingress:\n- action: Allow\n  destination: {ports: [80]}",
        [
            (
                "Invalid",
                "spec.ingress[0].destination.ports",
                "rules that specify ports must set protocol to TCP or UDP or SCTP",
                None,
                9,
            )
        ],
    ),
    (
        "ports with ICMP",
        "ingress:\n- action: Allow\n  protocol: ICMP\n  source: {ports: [80]}",
        [
            (
                "Invalid",
                "spec.ingress[0].source.ports",
                "rules that specify ports must set protocol to TCP or UDP or SCTP",
                None,
                10,
            )
        ],
    ),
    (
        "port range backwards",
        "ingress:\n- action: Allow\n  protocol: TCP\n"
        "  destination:\n    ports:\n    - 80\n    - '90:80'",
        [
            (
                "Invalid",
                "spec.ingress[0].destination.ports[1]",
                "port range invalid: the first port is above the last",
                "90:80",
                13,
            )
        ],
    ),
    (
        "port too large",
        "ingress: [{action: Allow, protocol: UDP, destination: {ports: [65536]}}]",
        [
            (
                "Invalid",
                "spec.ingress[0].destination.ports[0]",
                "must be between 0 and 65535, inclusive",
                65536,
                7,
            )
        ],
    ),
    (
        "port of a superscript digit",
        "ingress: [{action: Allow, protocol: UDP, destination: {ports: ['\u00b2']}}]",
        [
            (
                "Invalid",
                "spec.ingress[0].destination.ports[0]",
                "must be a port number, a range first:last, or a port name of letters, digits, '_', "
                "'.' or '-' (at most 128)",
                "\u00b2",
                7,
            )
        ],
    ),
    (
        "port name with a space",
        "ingress: [{action: Allow, protocol: UDP, destination: {ports: ['my port']}}]",
        [
            (
                "Invalid",
                "spec.ingress[0].destination.ports[0]",
                "must be a port number, a range first:last, or a port name of letters, digits, '_', "
                "'.' or '-' (at most 128)",
                "my port",
                7,
            )
        ],
    ),
    (
        "bad net",
        "egress:\n- action: Deny\n  destination:\n    nets: [10.0.0.0/33]",
        [
            (
                "Invalid",
                "spec.egress[0].destination.nets[0]",
                "must be a valid CIDR or IP address (e.g. 10.0.0.0/8 or fd00::1)",
                "10.0.0.0/33",
                10,
            )
        ],
    ),
    (
        "net of the other family",
        "egress: [{action: Deny, ipVersion: 4, destination: {notNets: ['fd00::/8']}}]",
        [
            (
                "Invalid",
                "spec.egress[0].destination.notNets[0]",
                "an IPv6 network in a rule with ipVersion 4",
                "fd00::/8",
                7,
            )
        ],
    ),
    (
        "ipVersion 5",
        "egress: [{action: Deny, ipVersion: 5}]",
        [("NotSupported", "spec.egress[0].ipVersion", 'supported values: "4", "6"', 5, 7)],
    ),
    (
        "ICMP with ipVersion 6",
        "egress: [{action: Deny, protocol: ICMP, ipVersion: 6}]",
        [("Invalid", "spec.egress[0].ipVersion", "must be 4 with protocol ICMP", 6, 7)],
    ),
    (
        "icmp without ICMP protocol",
        "ingress:\n- action: Deny\n  protocol: TCP\n  icmp: {type: 8}",
        [
            (
                "Invalid",
                "spec.ingress[0].icmp",
                "rules that specify ICMP fields must set protocol to ICMP or ICMPv6",
                None,
                10,
            )
        ],
    ),
    (
        "icmp type too large",
        "ingress: [{action: Deny, protocol: ICMP, icmp: {type: 255}}]",
        [("Invalid", "spec.ingress[0].icmp.type", "must be between 0 and 254, inclusive", 255, 7)],
    ),
    (
        "icmp code too large",
        "ingress: [{action: Deny, protocol: ICMP, notICMP: {type: 3, code: 256}}]",
        [
            (
                "Invalid",
                "spec.ingress[0].notICMP.code",
                "must be between 0 and 255, inclusive",
                256,
                7,
            )
        ],
    ),
    (
        "icmp code without type",
        "ingress: [{action: Deny, protocol: ICMPv6, icmp: {code: 1}}]",
        [
            (
                "Invalid",
                "spec.ingress[0].icmp.code",
                "ICMP code specified without an ICMP type",
                1,
                7,
            )
        ],
    ),
    (
        "order not a number",
        "order: first",
        [("BadRequest", "spec.order", "must be a number, not a string", "first", 7)],
    ),
    (
        "protocol neither a name nor a number",
        "ingress: [{action: Allow, protocol: [TCP]}]",
        [
            (
                "BadRequest",
                "spec.ingress[0].protocol",
                "must be a string or an integer, not a list",
                ["TCP"],
                7,
            )
        ],
    ),
    (
        "rules not a list are reported once, types or not",
        "types: [Ingress]\negress: allow",
        [("BadRequest", "spec.egress", "must be a list, not a string", "allow", 8)],
    ),
    (
        "ICMPv6 with ipVersion 4",
        "egress: [{action: Deny, protocol: ICMPv6, ipVersion: 4}]",
        [("Invalid", "spec.egress[0].ipVersion", "must be 6 with protocol ICMPv6", 4, 7)],
    ),
    (
        "types unknown and duplicate",
        "types: [Ingress, Forward, Ingress]",
        [
            (
                "NotSupported",
                "spec.types[1]",
                'supported values: "Ingress", "Egress"',
                "Forward",
                7,
            ),
            ("Duplicate", "spec.types[2]", "Duplicate value", "Ingress", 7),
        ],
    ),
    (
        "namespaceSelector on a namespaced policy",
        "namespaceSelector: all()",
        [
            (
                "Forbidden",
                "spec.namespaceSelector",
                "only a GlobalNetworkPolicy selects namespaces; "
                "a NetworkPolicy applies in its own namespace",
                None,
                7,
            )
        ],
    ),
    (
        "GNP-only field",
        "doNotTrack: true",
        [("BadRequest", "spec.doNotTrack", 'unknown field "doNotTrack"', None, 7)],
    ),
    (
        "unknown rule field",
        "ingress: [{action: Allow, ports: [80]}]",
        [("BadRequest", "spec.ingress[0].ports", 'unknown field "ports"', None, 7)],
    ),
    (
        "tier name with a dot",
        "tier: a.b",
        [("Invalid", "spec.tier", "must not contain dots", "a.b", 7)],
    ),
]


@pytest.mark.parametrize(("spec", "expected"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_policies(spec: str, expected: list[Found]) -> None:
    assert errors(np(spec)) == expected


SELECTOR_ERROR = (
    "invalid selector: expected a label key, '(', '!', has(), all() or global(), found the end "
    "of the selector at position 15"
)


@pytest.mark.parametrize(
    ("spec", "field", "line"),
    [
        ("selector: \"role == 'db' &&\"", "spec.selector", 7),
        ("serviceAccountSelector: \"role == 'db' &&\"", "spec.serviceAccountSelector", 7),
        (
            "ingress:\n- action: Allow\n  source: {notSelector: \"role == 'db' &&\"}",
            "spec.ingress[0].source.notSelector",
            9,
        ),
        (
            "egress:\n- action: Allow\n  destination:\n    serviceAccounts:\n"
            "      selector: \"role == 'db' &&\"",
            "spec.egress[0].destination.serviceAccounts.selector",
            11,
        ),
    ],
    ids=["selector", "serviceAccountSelector", "notSelector", "serviceAccounts.selector"],
)
def test_selector_errors_point_at_the_position(spec: str, field: str, line: int) -> None:
    (found,) = diagnostics(np(spec))
    assert (found.field, found.message, found.value, found.line) == (
        field,
        SELECTOR_ERROR,
        "role == 'db' &&",
        line,
    )
    assert found.text().splitlines()[1:] == ["    role == 'db' &&", "                   ^"]


def test_a_multi_line_selector_shows_the_line_with_the_error() -> None:
    (found,) = diagnostics(np("selector: |-\n  has(a) &&\n  b = 'x'"))
    assert found.excerpt == ("    b = 'x'", "      ^")


def test_global_policy_namespace_selector_is_checked() -> None:
    assert errors(np('namespaceSelector: "has("', GNP_HEAD)) == [
        (
            "Invalid",
            "spec.namespaceSelector",
            "invalid selector: expected a label key, found the end of the selector at position 4",
            "has(",
            6,
        )
    ]


def test_rules_in_a_direction_types_leave_out_are_a_warning() -> None:
    assert warnings(np("types: [Egress]\ningress: [{action: Deny}]")) == [
        (
            "Warning",
            "spec.ingress",
            "these rules never apply: spec.types does not include Ingress",
            None,
            8,
        )
    ]


def test_a_port_name_no_container_can_have_is_a_warning() -> None:
    spec = "ingress: [{action: Allow, protocol: TCP, destination: {ports: [Web_Port]}}]"
    assert errors(np(spec)) == []
    assert [w[1:3] for w in warnings(np(spec))] == [
        (
            "spec.ingress[0].destination.ports[0]",
            "no container port can have this name (a Kubernetes port name is at most 15 lowercase "
            "letters, digits and '-'), so this entry matches nothing",
        )
    ]


def test_crd_group_is_validated_and_other_versions_are_not_served() -> None:
    crd = np("order: x").replace("projectcalico.org/v3", "crd.projectcalico.org/v1")
    assert errors(crd) == [("BadRequest", "spec.order", "must be a number, not a string", "x", 7)]
    old = np("{}").replace("projectcalico.org/v3", "projectcalico.org/v2")
    assert errors(old) == [
        (
            "BadRequest",
            "apiVersion",
            'no matches for kind "NetworkPolicy" in version '
            '"projectcalico.org/v2": use apiVersion: projectcalico.org/v3',
            "projectcalico.org/v2",
            1,
        )
    ]


TIER = "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata:\n  name: {name}\nspec:\n{spec}"

TIERS = [
    ("valid", "security", "  order: 100\n  defaultAction: Pass", []),
    (
        "reserved admin",
        "kube-admin",
        "  order: 1000",
        [
            (
                "Forbidden",
                "metadata.name",
                "tier 'kube-admin' is reserved: Calico creates it for AdminNetworkPolicy objects",
                "kube-admin",
                4,
            )
        ],
    ),
    (
        "reserved baseline",
        "kube-baseline",
        "  {}",
        [
            (
                "Forbidden",
                "metadata.name",
                "tier 'kube-baseline' is reserved: Calico creates it for "
                "BaselineAdminNetworkPolicy objects",
                "kube-baseline",
                4,
            )
        ],
    ),
    (
        "bad default action",
        "t",
        "  defaultAction: Allow",
        [("NotSupported", "spec.defaultAction", 'supported values: "Deny", "Pass"', "Allow", 6)],
    ),
    ("default at its own order", "default", "  order: 1000000", []),
    (
        "default at another order",
        "default",
        "  order: 50",
        [
            (
                "Invalid",
                "spec.order",
                "the default tier's order is fixed at 1000000: it holds the Kubernetes "
                "NetworkPolicies, between the admin and the baseline tiers",
                50,
                6,
            )
        ],
    ),
    (
        "default at an order that is no number",
        "default",
        "  order: first",
        [("BadRequest", "spec.order", "must be a number, not a string", "first", 6)],
    ),
    (
        "order a string",
        "t",
        "  order: '1'",
        [("BadRequest", "spec.order", "must be a number, not a string", "1", 6)],
    ),
]


@pytest.mark.parametrize(
    ("name", "spec", "expected"), [t[1:] for t in TIERS], ids=[t[0] for t in TIERS]
)
def test_tiers(name: str, spec: str, expected: list[Found]) -> None:
    assert errors(TIER.format(name=name, spec=spec)) == expected


def test_service_accounts() -> None:
    good = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: api, namespace: app}\n"
    assert errors(good) == []
    bad = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: API, namespace: app}\n"
    assert [e[:2] for e in errors(bad)] == [("Invalid", "metadata.name")]
