"""Spec section 5, rule by rule: error type, field path, message, value and line.

Each row is a NetworkPolicy spec body (it starts on line 7 of the document) and every
error the user must see for it, in order; ``[]`` means the spec is valid.
"""

from __future__ import annotations

import pytest

from . import messages as m
from .support import Found, policy_errors


def ports(*items: str, direction: str = "ingress") -> str:
    """``<direction>: [{ports: [...]}]`` with item i on line 9 + i."""
    return f"{direction}:\n  - ports:\n" + "".join(f"      - {item}\n" for item in items)


def peers(*items: str, direction: str = "ingress") -> str:
    """``ingress: [{from: [...]}]`` (``egress``/``to``) with peer i on line 9 + i."""
    key = "from" if direction == "ingress" else "to"
    return f"{direction}:\n  - {key}:\n" + "".join(f"      - {item}\n" for item in items)


P0 = "spec.ingress[0].ports[0]"
F0 = "spec.ingress[0].from[0]"
IPB = f"{F0}.ipBlock"

# fmt: off
PORT_RULES: list[tuple[str, str, list[Found]]] = [
    # V-P1
    ("V-P1 protocol tcp", ports("{protocol: tcp}"), [("NotSupported", f"{P0}.protocol", m.PROTOCOLS, "tcp", 9)]),
    ("V-P1 protocol ICMP", ports("{protocol: ICMP}"), [("NotSupported", f"{P0}.protocol", m.PROTOCOLS, "ICMP", 9)]),
    ("V-P1 protocol empty string is not defaulted", ports('{protocol: ""}'), [("NotSupported", f"{P0}.protocol", m.PROTOCOLS, "", 9)]),
    ("V-P1 null protocol is defaulted to TCP", ports("{protocol: null, port: 80}"), []),
    ("V-P1 TCP UDP SCTP", ports("{protocol: TCP}", "{protocol: UDP}", "{protocol: SCTP}"), []),
    # V-P2
    ("V-P2 port 0", ports("{port: 0}"), [("Invalid", f"{P0}.port", m.RANGE, 0, 9)]),
    ("V-P2 port -1", ports("{port: -1}"), [("Invalid", f"{P0}.port", m.RANGE, -1, 9)]),
    ("V-P2 port 65536", ports("{port: 65536}"), [("Invalid", f"{P0}.port", m.RANGE, 65536, 9)]),
    ("V-P2 ports 1 and 65535", ports("{port: 1}", "{port: 65535}"), []),
    # V-P3
    ("V-P3 endPort below port", ports("{port: 100, endPort: 90}"), [("Invalid", f"{P0}.endPort", m.END_LT_PORT, 90, 9)]),
    ("V-P3 endPort out of range", ports("{port: 100, endPort: 70000}"), [("Invalid", f"{P0}.endPort", m.RANGE, 70000, 9)]),
    (
        "V-P3 both endPort errors",
        ports("{port: 100, endPort: 0}"),
        [("Invalid", f"{P0}.endPort", m.END_LT_PORT, 0, 9), ("Invalid", f"{P0}.endPort", m.RANGE, 0, 9)],
    ),
    ("V-P3 endPort equal to port", ports("{port: 80, endPort: 80}", "{protocol: SCTP, port: 1, endPort: 65535}"), []),
    # V-P4
    ("V-P4 endPort with a named port", ports("{port: http, endPort: 90}"), [("Invalid", f"{P0}.endPort", m.END_NAMED, 90, 9)]),
    (
        "V-P4 and V-P5 together",
        ports("{port: HTTP, endPort: 90}"),
        [
            ("Invalid", f"{P0}.endPort", m.END_NAMED, 90, 9),
            ("Invalid", f"{P0}.port", m.PORT_CHARSET, "HTTP", 9),
            ("Invalid", f"{P0}.port", m.PORT_LETTER, "HTTP", 9),
        ],
    ),
    # V-P5
    ("V-P5 quoted number", ports('{port: "80"}'), [("Invalid", f"{P0}.port", m.PORT_LETTER, "80", 9)]),
    ("V-P5 consecutive hyphens", ports("{port: http--alt}"), [("Invalid", f"{P0}.port", m.PORT_HYPHENS, "http--alt", 9)]),
    ("V-P5 leading hyphen", ports("{port: -http}"), [("Invalid", f"{P0}.port", m.PORT_EDGE, "-http", 9)]),
    ("V-P5 trailing hyphen", ports("{port: http-}"), [("Invalid", f"{P0}.port", m.PORT_EDGE, "http-", 9)]),
    ("V-P5 longer than 15", ports("{port: a-very-long-name-x}"), [("Invalid", f"{P0}.port", m.PORT_LONG, "a-very-long-name-x", 9)]),
    (
        "V-P5 empty name",
        ports('{port: ""}'),
        [("Invalid", f"{P0}.port", m.PORT_CHARSET, "", 9), ("Invalid", f"{P0}.port", m.PORT_LETTER, "", 9)],
    ),
    (
        "V-P5 every check at once",
        ports('{port: "-HTTP--"}'),
        [
            ("Invalid", f"{P0}.port", m.PORT_CHARSET, "-HTTP--", 9),
            ("Invalid", f"{P0}.port", m.PORT_LETTER, "-HTTP--", 9),
            ("Invalid", f"{P0}.port", m.PORT_HYPHENS, "-HTTP--", 9),
            ("Invalid", f"{P0}.port", m.PORT_EDGE, "-HTTP--", 9),
        ],
    ),
    ("V-P5 trailing newline is not a name (fullmatch)", ports('{port: "http\\n"}'), [("Invalid", f"{P0}.port", m.PORT_CHARSET, "http\n", 9)]),
    ("V-P5 valid names", ports("{port: http-alt}", "{port: dns-tcp}", "{port: h2c}", "{port: abcdefghijklmno}"), []),
    # V-P6
    ("V-P6 endPort alone", ports("{endPort: 90}"), [("Invalid", f"{P0}.endPort", m.END_ALONE, 90, 9)]),
    ("empty port is all TCP", ports("{}"), []),
    (
        "egress ports are checked too",
        ports("{port: 80}", "{port: 0}", direction="egress"),
        [("Invalid", "spec.egress[0].ports[1].port", m.RANGE, 0, 10)],
    ),
]
# fmt: on

# fmt: off
PEER_RULES: list[tuple[str, str, list[Found]]] = [
    ("V-N4 empty peer", peers("{}"), [("Required", F0, m.PEER, None, 9)]),
    ("V-N4 null peer", peers("null"), [("Required", F0, m.PEER, None, 9)]),
    ("V-N4 peer with null selectors", peers("{podSelector: null, ipBlock: null}"), [("Required", F0, m.PEER, None, 9)]),
    ("V-N4 egress", peers("{podSelector: {}}", "{}", direction="egress"), [("Required", "spec.egress[0].to[1]", m.PEER, None, 10)]),
    ("V-N5 ipBlock and podSelector", peers("{ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}"), [("Forbidden", F0, m.BOTH, None, 9)]),
    ("V-N5 ipBlock and namespaceSelector", peers("{ipBlock: {cidr: 10.0.0.0/8}, namespaceSelector: {}}"), [("Forbidden", F0, m.BOTH, None, 9)]),
    ("V-N5 pod and namespace selectors together", peers("{podSelector: {}, namespaceSelector: {}}"), []),
    (
        "V-N1 peer podSelector is a selector",
        peers('{podSelector: {matchLabels: {app: "-web"}}}'),
        [("Invalid", f"{F0}.podSelector.matchLabels", m.LABEL_VALUE, "-web", 9)],
    ),
    (
        "V-N2 peer namespaceSelector is a selector",
        peers("{namespaceSelector: {matchExpressions: [{key: team, operator: in, values: [a]}]}}"),
        [("Invalid", f"{F0}.namespaceSelector.matchExpressions[0].operator", m.OPERATOR, "in", 9)],
    ),
]
# fmt: on

# fmt: off
IPBLOCK_RULES: list[tuple[str, str, list[Found]]] = [
    ("V-I1 empty cidr", peers('{ipBlock: {cidr: ""}}'), [("Required", f"{IPB}.cidr", "Required value", None, 9)]),
    ("V-I1 missing cidr", peers("{ipBlock: {except: [10.0.0.0/8]}}"), [("Required", f"{IPB}.cidr", "Required value", None, 9)]),
    ("V-I2 no prefix", peers("{ipBlock: {cidr: 10.0.0.0}}"), [("Invalid", f"{IPB}.cidr", m.CIDR, "10.0.0.0", 9)]),
    ("V-I2 prefix 33", peers("{ipBlock: {cidr: 10.0.0.0/33}}"), [("Invalid", f"{IPB}.cidr", m.CIDR, "10.0.0.0/33", 9)]),
    ("V-I2 IPv6 prefix 129", peers('{ipBlock: {cidr: "fd00::/129"}}'), [("Invalid", f"{IPB}.cidr", m.CIDR, "fd00::/129", 9)]),
    ("V-I2 netmask", peers("{ipBlock: {cidr: 10.0.0.0/255.0.0.0}}"), [("Invalid", f"{IPB}.cidr", m.CIDR, "10.0.0.0/255.0.0.0", 9)]),
    ("V-I2 zone", peers('{ipBlock: {cidr: "fe80::1%eth0/64"}}'), [("Invalid", f"{IPB}.cidr", m.CIDR, "fe80::1%eth0/64", 9)]),
    ("V-I2 three octets", peers("{ipBlock: {cidr: 10.0.0/8}}"), [("Invalid", f"{IPB}.cidr", m.CIDR, "10.0.0/8", 9)]),
    ("V-I2 octet 256", peers("{ipBlock: {cidr: 256.0.0.0/8}}"), [("Invalid", f"{IPB}.cidr", m.CIDR, "256.0.0.0/8", 9)]),
    (
        "V-I2 an invalid cidr stops the except checks",
        peers("{ipBlock: {cidr: 10.0.0.0, except: [nonsense, 11.0.0.0/8]}}"),
        [("Invalid", f"{IPB}.cidr", m.CIDR, "10.0.0.0", 9)],
    ),
    ("V-I2 leading zeros are decimal and valid", peers("{ipBlock: {cidr: 010.0.0.0/08}}"), []),
    ("V-I2 host bits are valid", peers("{ipBlock: {cidr: 10.0.0.1/8}}"), []),
    ("V-I2 IPv6 upper case is valid", peers('{ipBlock: {cidr: "2001:DB8::/32"}}'), []),
    ("V-I3 except unparseable", peers("{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0]}}"), [("Invalid", f"{IPB}.except[0]", m.CIDR, "10.1.0.0", 9)]),
    ("V-I3 except empty string", peers('{ipBlock: {cidr: 10.0.0.0/8, except: [""]}}'), [("Invalid", f"{IPB}.except[0]", m.CIDR, "", 9)]),
    ("V-I3 except equal to cidr", peers("{ipBlock: {cidr: 10.0.0.0/8, except: [10.0.0.0/8]}}"), [("Invalid", f"{IPB}.except[0]", m.SUBSET, "10.0.0.0/8", 9)]),
    ("V-I3 except larger than cidr", peers("{ipBlock: {cidr: 10.1.0.0/16, except: [10.0.0.0/8]}}"), [("Invalid", f"{IPB}.except[0]", m.SUBSET, "10.0.0.0/8", 9)]),
    ("V-I3 except disjoint", peers("{ipBlock: {cidr: 10.0.0.0/8, except: [11.0.0.0/16]}}"), [("Invalid", f"{IPB}.except[0]", m.SUBSET, "11.0.0.0/16", 9)]),
    ("V-I3 except of the other family", peers('{ipBlock: {cidr: 10.0.0.0/8, except: ["fd00::/64"]}}'), [("Invalid", f"{IPB}.except[0]", m.SUBSET, "fd00::/64", 9)]),
    ("V-I3 duplicate excepts are valid", peers("{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16, 10.1.0.0/16]}}"), []),
    ("V-I3 except with host bits inside cidr", peers("{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.2.3/16]}}"), []),
    (
        "V-I3 IPv4-mapped cidr compares the written prefix lengths (104 >= 16)",
        peers('{ipBlock: {cidr: "::ffff:10.0.0.0/104", except: [10.1.0.0/16]}}'),
        [("Invalid", f"{IPB}.except[0]", m.SUBSET, "10.1.0.0/16", 9)],
    ),
    ("V-I3 IPv4-mapped except inside an IPv4 cidr", peers('{ipBlock: {cidr: 10.0.0.0/8, except: ["::ffff:10.1.0.0/112"]}}'), []),
    (
        "V-I3 every except is checked, on its own line",
        """
        egress:
          - to:
              - ipBlock:
                  cidr: 10.0.0.0/8
                  except:
                    - 10.1.0.0/16
                    - 192.168.0.0/16
                    - 10.2.0.0
        """,
        [
            ("Invalid", "spec.egress[0].to[0].ipBlock.except[1]", m.SUBSET, "192.168.0.0/16", 13),
            ("Invalid", "spec.egress[0].to[0].ipBlock.except[2]", m.CIDR, "10.2.0.0", 14),
        ],
    ),
]
# fmt: on

# fmt: off
SELECTOR_RULES: list[tuple[str, str, list[Found]]] = [
    ("5.2 absent podSelector selects all", "policyTypes: [Ingress]", []),
    ("5.2 empty podSelector", "podSelector: {}", []),
    (
        "V-L1 matchLabels keys and values, each on its key's line",
        """
        podSelector:
          matchLabels:
            app: web
            "-tier": x
            role: "-db"
        """,
        [
            ("Invalid", "spec.podSelector.matchLabels", m.NAME_PART, "-tier", 10),
            ("Invalid", "spec.podSelector.matchLabels", m.LABEL_VALUE, "-db", 11),
        ],
    ),
    (
        "V-L2 V-L3 V-L4 matchExpressions",
        """
        podSelector:
          matchExpressions:
            - key: app
              operator: In
              values: []
            - key: app
              operator: Exists
              values: [x]
            - key: app
              operator: in
            - key: a/b/c
              operator: In
              values: ["a b", ok]
            - key: app
              operator: NotIn
              values: [web]
            - key: app
              operator: DoesNotExist
        """,
        [
            ("Required", "spec.podSelector.matchExpressions[0].values", m.IN_VALUES, None, 11),
            ("Forbidden", "spec.podSelector.matchExpressions[1].values", m.EXISTS_VALUES, None, 14),
            ("Invalid", "spec.podSelector.matchExpressions[2].operator", m.OPERATOR, "in", 16),
            ("Invalid", "spec.podSelector.matchExpressions[3].key", m.QUALIFIED_SLASHES, "a/b/c", 17),
            ("Invalid", "spec.podSelector.matchExpressions[3].values[0]", m.LABEL_VALUE, "a b", 19),
        ],
    ),
    (
        "V-L2 In without values at all",
        "podSelector: {matchExpressions: [{key: app, operator: In}]}",
        [("Required", "spec.podSelector.matchExpressions[0].values", m.IN_VALUES, None, 7)],
    ),
    (
        "V-L2 operators are case-sensitive",
        "podSelector: {matchExpressions: [{key: a, operator: Equals}, {key: a, operator: Gt, values: ['1']}]}",
        [
            ("Invalid", "spec.podSelector.matchExpressions[0].operator", m.OPERATOR, "Equals", 7),
            ("Invalid", "spec.podSelector.matchExpressions[1].operator", m.OPERATOR, "Gt", 7),
        ],
    ),
    (
        "V-L2 missing operator is the empty operator",
        "podSelector: {matchExpressions: [{key: app}]}",
        [("Invalid", "spec.podSelector.matchExpressions[0].operator", m.OPERATOR, "", 7)],
    ),
    (
        "V-L3 missing key is the empty key",
        "podSelector: {matchExpressions: [{operator: Exists}]}",
        [
            ("Invalid", "spec.podSelector.matchExpressions[0].key", "name part must be non-empty", "", 7),
            ("Invalid", "spec.podSelector.matchExpressions[0].key", m.NAME_PART, "", 7),
        ],
    ),
    ("duplicate and contradictory expressions are valid", "podSelector: {matchExpressions: [{key: a, operator: Exists}, {key: a, operator: DoesNotExist}]}", []),
]
# fmt: on

# fmt: off
POLICY_TYPE_RULES: list[tuple[str, str, list[Found]]] = [
    ("V-T2 duplicates pass", "policyTypes: [Ingress, Ingress]", []),
    ("V-T1 three entries", "policyTypes: [Ingress, Egress, Ingress]", [("Invalid", "spec.policyTypes", m.TWO_TYPES, ["Ingress", "Egress", "Ingress"], 7)]),
    ("V-T1 stops before V-T2", "policyTypes: [ingress, egress, x]", [("Invalid", "spec.policyTypes", m.TWO_TYPES, ["ingress", "egress", "x"], 7)]),
    ("V-T2 lower case", "policyTypes: [ingress]", [("NotSupported", "spec.policyTypes[0]", m.POLICY_TYPES, "ingress", 7)]),
    ("V-T2 each entry on its line", "policyTypes:\n  - Ingress\n  - egress\n", [("NotSupported", "spec.policyTypes[1]", m.POLICY_TYPES, "egress", 9)]),
    ("empty policyTypes is defaulted", "policyTypes: []", []),
    ("Egress alone", "policyTypes: [Egress]", []),
]
# fmt: on


@pytest.mark.parametrize(
    ("spec", "expected"),
    [pytest.param(spec, expected, id=name) for name, spec, expected in PORT_RULES],
)
def test_ports(spec: str, expected: list[Found]) -> None:
    assert policy_errors(spec) == expected


@pytest.mark.parametrize(
    ("spec", "expected"),
    [pytest.param(spec, expected, id=name) for name, spec, expected in PEER_RULES],
)
def test_peers(spec: str, expected: list[Found]) -> None:
    assert policy_errors(spec) == expected


@pytest.mark.parametrize(
    ("spec", "expected"),
    [pytest.param(spec, expected, id=name) for name, spec, expected in IPBLOCK_RULES],
)
def test_ip_blocks(spec: str, expected: list[Found]) -> None:
    assert policy_errors(spec) == expected


@pytest.mark.parametrize(
    ("spec", "expected"),
    [pytest.param(spec, expected, id=name) for name, spec, expected in SELECTOR_RULES],
)
def test_selectors(spec: str, expected: list[Found]) -> None:
    assert policy_errors(spec) == expected


@pytest.mark.parametrize(
    ("spec", "expected"),
    [pytest.param(spec, expected, id=name) for name, spec, expected in POLICY_TYPE_RULES],
)
def test_policy_types(spec: str, expected: list[Found]) -> None:
    assert policy_errors(spec) == expected


def test_every_problem_is_reported_at_once_in_api_order() -> None:
    spec = """
    podSelector: {matchLabels: {app: "-x"}}
    ingress:
      - ports: [{port: 0}]
        from: [{}]
    egress:
      - to: [{ipBlock: {cidr: 10.0.0.0}}]
    policyTypes: [ingress]
    """
    assert [f[1] for f in policy_errors(spec)] == [
        "spec.podSelector.matchLabels",
        "spec.ingress[0].ports[0].port",
        "spec.ingress[0].from[0]",
        "spec.egress[0].to[0].ipBlock.cidr",
        "spec.policyTypes[0]",
    ]
