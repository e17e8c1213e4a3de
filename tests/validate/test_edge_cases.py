"""Spec section 8, edge cases 48-60 (validation on create), one row per case, by name."""

from __future__ import annotations

import pytest

from . import messages as m
from .support import Found, errors, policy_errors

P0 = "spec.ingress[0].ports[0]"
F0 = "spec.ingress[0].from[0]"
IPB = f"{F0}.ipBlock"
EXPR = "spec.podSelector.matchExpressions[0]"


def port(item: str) -> str:
    return f"ingress:\n  - ports:\n      - {item}\n"  # the port is on line 9


def peer(item: str) -> str:
    return f"ingress:\n  - from:\n      - {item}\n"  # the peer is on line 9


def expression(item: str) -> str:
    return f"podSelector:\n  matchExpressions:\n    - {item}\n"  # line 9


def match_labels(item: str) -> str:
    return f"podSelector:\n  matchLabels:\n    {item}\n"  # line 9


# fmt: off
POLICY_CASES: list[tuple[str, str, list[Found]]] = [
    ("48 port 0", port("{port: 0}"), [("Invalid", f"{P0}.port", m.RANGE, 0, 9)]),
    ("49 port '80' as a string", port('{port: "80"}'), [("Invalid", f"{P0}.port", m.PORT_LETTER, "80", 9)]),
    (
        "50 port HTTP (charset)",
        port("{port: HTTP}"),
        [("Invalid", f"{P0}.port", m.PORT_CHARSET, "HTTP", 9), ("Invalid", f"{P0}.port", m.PORT_LETTER, "HTTP", 9)],
    ),
    ("50 port http--alt", port("{port: http--alt}"), [("Invalid", f"{P0}.port", m.PORT_HYPHENS, "http--alt", 9)]),
    ("50 port -http", port("{port: -http}"), [("Invalid", f"{P0}.port", m.PORT_EDGE, "-http", 9)]),
    ("50 port of 18 characters", port("{port: a-very-long-name-x}"), [("Invalid", f"{P0}.port", m.PORT_LONG, "a-very-long-name-x", 9)]),
    ("51 endPort without port", port("{endPort: 90}"), [("Invalid", f"{P0}.endPort", m.END_ALONE, 90, 9)]),
    ("51 endPort with a named port", port("{port: http, endPort: 90}"), [("Invalid", f"{P0}.endPort", m.END_NAMED, 90, 9)]),
    ("51 endPort below port", port("{port: 100, endPort: 90}"), [("Invalid", f"{P0}.endPort", m.END_LT_PORT, 90, 9)]),
    ("51 endPort beyond 65535", port("{port: 100, endPort: 70000}"), [("Invalid", f"{P0}.endPort", m.RANGE, 70000, 9)]),
    ("52 protocol tcp", port("{protocol: tcp}"), [("NotSupported", f"{P0}.protocol", m.PROTOCOLS, "tcp", 9)]),
    ("52 protocol ICMP", port("{protocol: ICMP}"), [("NotSupported", f"{P0}.protocol", m.PROTOCOLS, "ICMP", 9)]),
    ("52 protocol empty", port('{protocol: ""}'), [("NotSupported", f"{P0}.protocol", m.PROTOCOLS, "", 9)]),
    ("53 empty peer", peer("{}"), [("Required", F0, m.PEER, None, 9)]),
    ("53 ipBlock with podSelector", peer("{ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}"), [("Forbidden", F0, m.BOTH, None, 9)]),
    ("54 cidr empty", peer('{ipBlock: {cidr: ""}}'), [("Required", f"{IPB}.cidr", "Required value", None, 9)]),
    ("54 cidr without prefix", peer("{ipBlock: {cidr: 10.0.0.0}}"), [("Invalid", f"{IPB}.cidr", m.CIDR, "10.0.0.0", 9)]),
    ("54 cidr /33", peer("{ipBlock: {cidr: 10.0.0.0/33}}"), [("Invalid", f"{IPB}.cidr", m.CIDR, "10.0.0.0/33", 9)]),
    ("54 cidr 010.0.0.0/8 is valid by default", peer("{ipBlock: {cidr: 010.0.0.0/8}}"), []),
    ("55 except equal to cidr", peer("{ipBlock: {cidr: 10.0.0.0/8, except: [10.0.0.0/8]}}"), [("Invalid", f"{IPB}.except[0]", m.SUBSET, "10.0.0.0/8", 9)]),
    ("55 except outside cidr", peer("{ipBlock: {cidr: 10.0.0.0/8, except: [11.0.0.0/16]}}"), [("Invalid", f"{IPB}.except[0]", m.SUBSET, "11.0.0.0/16", 9)]),
    ("55 except IPv6 in IPv4 cidr", peer('{ipBlock: {cidr: 10.0.0.0/8, except: ["fd00::/64"]}}'), [("Invalid", f"{IPB}.except[0]", m.SUBSET, "fd00::/64", 9)]),
    ("55 duplicate excepts are valid", peer("{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16, 10.1.0.0/16]}}"), []),
    ("56 policyTypes Ingress twice is valid", "policyTypes: [Ingress, Ingress]", []),
    ("56 three policyTypes", "policyTypes: [Ingress, Egress, Ingress]", [("Invalid", "spec.policyTypes", m.TWO_TYPES, ["Ingress", "Egress", "Ingress"], 7)]),
    ("56 policyTypes ingress", "policyTypes: [ingress]", [("NotSupported", "spec.policyTypes[0]", m.POLICY_TYPES, "ingress", 7)]),
    ("57 In with no values", expression("{key: app, operator: In, values: []}"), [("Required", f"{EXPR}.values", m.IN_VALUES, None, 9)]),
    ("57 Exists with values", expression("{key: app, operator: Exists, values: [x]}"), [("Forbidden", f"{EXPR}.values", m.EXISTS_VALUES, None, 9)]),
    ("57 operator in", expression("{key: app, operator: in, values: [x]}"), [("Invalid", f"{EXPR}.operator", m.OPERATOR, "in", 9)]),
    ("58 key example.com/app is valid", expression("{key: example.com/app, operator: Exists}"), []),
    ("58 key /app", expression("{key: /app, operator: Exists}"), [("Invalid", f"{EXPR}.key", "prefix part must be non-empty", "/app", 9)]),
    ("58 key a/b/c", expression("{key: a/b/c, operator: Exists}"), [("Invalid", f"{EXPR}.key", m.QUALIFIED_SLASHES, "a/b/c", 9)]),
    ("58 key Example.com/app", expression("{key: Example.com/app, operator: Exists}"), [("Invalid", f"{EXPR}.key", "prefix part " + m.SUBDOMAIN, "Example.com/app", 9)]),
    ("58 key App_Name.v1 is valid", expression("{key: App_Name.v1, operator: Exists}"), []),
    ("58 key name part of 64", expression("{key: " + "a" * 64 + ", operator: Exists}"), [("Invalid", f"{EXPR}.key", "name part must be no more than 63 characters", "a" * 64, 9)]),
    ("58 key name part of 63 is valid", expression("{key: " + "a" * 63 + ", operator: Exists}"), []),
    ("59 matchLabels empty value is valid", match_labels('app: ""'), []),
    ("59 matchLabels value -web", match_labels('app: "-web"'), [("Invalid", "spec.podSelector.matchLabels", m.LABEL_VALUE, "-web", 9)]),
    ("59 matchLabels value of 64", match_labels("app: " + "v" * 64), [("Invalid", "spec.podSelector.matchLabels", "must be no more than 63 characters", "v" * 64, 9)]),
    ("59 In value with a space", expression('{key: app, operator: In, values: ["a b"]}'), [("Invalid", f"{EXPR}.values[0]", m.LABEL_VALUE, "a b", 9)]),
]
# fmt: on


@pytest.mark.parametrize(
    ("spec", "expected"),
    [pytest.param(spec, expected, id=name) for name, spec, expected in POLICY_CASES],
)
def test_edge_case(spec: str, expected: list[Found]) -> None:
    assert policy_errors(spec) == expected


def named(name: str) -> str:
    return f"""\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {name}
  namespace: ns
"""


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param(
            "My-Policy",
            [("Invalid", "metadata.name", m.SUBDOMAIN, "My-Policy", 4)],
            id="60 name My-Policy",
        ),
        pytest.param("allow.dns", [], id="60 name allow.dns is valid"),
        pytest.param(
            "a" * 254,
            [("Invalid", "metadata.name", "must be no more than 253 characters", "a" * 254, 4)],
            id="60 name of 254",
        ),
        pytest.param("a" * 253, [], id="60 name of 253 is valid"),
    ],
)
def test_edge_case_60_names(name: str, expected: list[Found]) -> None:
    assert errors(named(name)) == expected
