"""Spec section 6 and edge case 70: the CRDs of AdminNetworkPolicy, BaselineAdminNetworkPolicy
and ClusterNetworkPolicy, rule by rule: error type, field path, message, value and line.

Each row is a spec body (it starts on line 6 of the document) and every error the user must
see for it, in order; ``[]`` means the object is valid.
"""

from __future__ import annotations

import textwrap

import pytest

from . import messages as m
from .support import Found, errors

GROUP = "policy.networking.k8s.io"
SPEC_LINE = 6


def document(kind: str, body: str, name: str = "p", version: str = "v1alpha1") -> str:
    """``kind`` with ``body`` (dedented) as its spec, from line 6."""
    head = f"apiVersion: {GROUP}/{version}\nkind: {kind}\nmetadata:\n  name: {name}\nspec:\n"
    return head + textwrap.indent(textwrap.dedent(body).strip("\n") + "\n", "  ")


def anp(body: str, name: str = "p") -> str:
    return document("AdminNetworkPolicy", body, name)


def banp(body: str, name: str = "default") -> str:
    return document("BaselineAdminNetworkPolicy", body, name)


def cnp(body: str) -> str:
    return document("ClusterNetworkPolicy", body, version="v1alpha2")


HEAD = "priority: 10\nsubject: {namespaces: {}}\n"  # lines 6 and 7


def ingress(*rules: str, head: str = HEAD) -> str:
    """``ingress: [...]`` with rule i on line 9 + i."""
    return head + "ingress:\n" + "".join(f"  - {rule}\n" for rule in rules)


def egress(*rules: str, head: str = HEAD) -> str:
    return head + "egress:\n" + "".join(f"  - {rule}\n" for rule in rules)


BANP_HEAD = "subject: {namespaces: {}}\n"  # line 6: rules start on line 8
CNP_HEAD = "tier: Admin\npriority: 10\nsubject: {namespaces: {}}\n"  # rules start on line 10

MIN_ITEMS = "should have at least 1 items"
MIN_PROPS = "should have at least 1 properties"
MAX_PROPS = "should have at most 1 properties"
CIDR = "Invalid CIDR format provided"
ANP_NAMED = (
    "networks/nodes/domainNames peer cannot be set with namedPorts since there are no "
    "namedPorts for networks/nodes/domainNames"
)
BANP_NAMED = (
    "networks/nodes peer cannot be set with namedPorts since there are no namedPorts for "
    "networks/nodes"
)
BANP_NAME = 'Only one baseline admin network policy with metadata.name="default" can be created'
ANP_ACTIONS = 'supported values: "Allow", "Deny", "Pass"'
DOMAIN = (
    r"should match '^(\*\.)?([a-zA-z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?\.)+"
    r"[a-zA-z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?\.?$'"
)
I0, E0 = "spec.ingress[0]", "spec.egress[0]"
F0, T0 = f"{I0}.from[0]", f"{E0}.to[0]"
P0 = f"{E0}.ports[0]"
LONG_NAME = "n" * 101
PODS = "{pods: {namespaceSelector: {}, podSelector: {}}}"

# fmt: off
EDGE_CASE_70: list[tuple[str, str, list[Found]]] = [
    ("70 BANP named baseline", banp(BANP_HEAD, name="baseline"), [("Invalid", "metadata.name", BANP_NAME, "baseline", 4)]),
    ("70 BANP named default", banp(BANP_HEAD), []),
    ("70 ANP priority 1001", anp("priority: 1001\nsubject: {namespaces: {}}"), [("Invalid", "spec.priority", "should be less than or equal to 1000", 1001, 6)]),
    ("70 ANP priority 1000", anp("priority: 1000\nsubject: {namespaces: {}}"), []),
    ("70 ANP ingress from []", anp(ingress("{action: Allow, from: []}")), [("Invalid", f"{I0}.from", MIN_ITEMS, 0, 9)]),
    (
        "70 ANP egress namedPort with a networks peer",
        anp(egress("{action: Allow, to: [{networks: [10.0.0.0/8]}], ports: [{namedPort: http}]}")),
        [("Invalid", E0, ANP_NAMED, None, 9)],
    ),
    ("70 ANP portRange 90-80 is accepted", anp(egress(f"{{action: Allow, to: [{PODS}], ports: [{{portRange: {{start: 90, end: 80}}}}]}}")), []),
]

ANP_RULES: list[tuple[str, str, list[Found]]] = [
    ("priority 0", anp("priority: 0\nsubject: {namespaces: {}}"), []),
    ("priority -1", anp("priority: -1\nsubject: {namespaces: {}}"), [("Invalid", "spec.priority", "should be greater than or equal to 0", -1, 6)]),
    ("priority missing", anp("subject: {namespaces: {}}"), [("Required", "spec.priority", "Required value", None, 5)]),
    ("priority a string", anp('priority: "10"\nsubject: {namespaces: {}}'), [("BadRequest", "spec.priority", "must be an integer, not a string", "10", 6)]),
    ("priority beyond int32", anp("priority: 2147483648\nsubject: {namespaces: {}}"), [("BadRequest", "spec.priority", "does not fit in a 32-bit integer", 2**31, 6)]),
    ("spec missing", "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: p}\n", [("Required", "spec", "Required value", None, 1)]),
    ("unknown spec field", anp(HEAD + "priorty: 3"), [("BadRequest", "spec.priorty", 'unknown field "priorty" (did you mean "priority"?)', None, 8)]),
    ("name is a DNS subdomain", anp(HEAD, name="Web_1"), [("Invalid", "metadata.name", m.SUBDOMAIN, "Web_1", 4)]),
    # subject
    ("subject missing", anp("priority: 1"), [("Required", "spec.subject", "Required value", None, 5)]),
    ("subject empty", anp("priority: 1\nsubject: {}"), [("Invalid", "spec.subject", MIN_PROPS, 0, 7)]),
    ("subject both", anp("priority: 1\nsubject: {namespaces: {}, pods: {namespaceSelector: {}, podSelector: {}}}"), [("Invalid", "spec.subject", MAX_PROPS, 2, 7)]),
    ("subject pods needs podSelector", anp("priority: 1\nsubject: {pods: {namespaceSelector: {}}}"), [("Required", "spec.subject.pods.podSelector", "Required value", None, 7)]),
    (
        "subject selectors are label selectors",
        anp("priority: 1\nsubject: {namespaces: {matchExpressions: [{key: team, operator: in, values: [a]}]}}"),
        [("Invalid", "spec.subject.namespaces.matchExpressions[0].operator", m.OPERATOR, "in", 7)],
    ),
    # rules
    ("ingress rule without from", anp(ingress("{action: Allow}")), [("Required", f"{I0}.from", "Required value", None, 9)]),
    ("rule without action", anp(ingress(f"{{from: [{PODS}]}}")), [("Required", f"{I0}.action", "Required value", None, 9)]),
    ("action is case-sensitive", anp(ingress("{action: allow, from: [{namespaces: {}}]}")), [("NotSupported", f"{I0}.action", ANP_ACTIONS, "allow", 9)]),
    ("rule name of 101 characters", anp(ingress(f"{{name: {LONG_NAME}, action: Deny, from: [{{namespaces: {{}}}}]}}")), [("TooLong", f"{I0}.name", "may not be longer than 100", LONG_NAME, 9)]),
    ("rule name of 100 characters", anp(ingress(f"{{name: {'n' * 100}, action: Pass, from: [{{namespaces: {{}}}}]}}")), []),
    ("null rule", anp(ingress("null")), [("BadRequest", I0, "must be a mapping (an object), not null", None, 9)]),
    (
        "to in an ingress rule",
        anp(ingress("{action: Deny, to: [{namespaces: {}}]}")),
        [("BadRequest", f"{I0}.to", 'unknown field "to" (did you mean "from"?)', None, 9), ("Required", f"{I0}.from", "Required value", None, 9)],
    ),
    (
        "101 ingress rules",
        anp(ingress(*["{action: Deny, from: [{namespaces: {}}]}"] * 101)),
        [("TooMany", "spec.ingress", "must have at most 100 items", 101, 8)],
    ),
    ("100 egress rules", anp(egress(*["{action: Deny, to: [{namespaces: {}}]}"] * 100)), []),
    (
        "101 peers",
        anp(ingress("{action: Deny, from: [" + ", ".join(["{namespaces: {}}"] * 101) + "]}")),
        [("TooMany", f"{I0}.from", "must have at most 100 items", 101, 9)],
    ),
    # peers
    ("empty ingress peer", anp(ingress("{action: Deny, from: [{}]}")), [("Invalid", F0, MIN_PROPS, 0, 9)]),
    (
        "nodes is no ingress peer",
        anp(ingress("{action: Deny, from: [{nodes: {}}]}")),
        [("BadRequest", f"{F0}.nodes", 'unknown field "nodes"', None, 9), ("Invalid", F0, MIN_PROPS, 0, 9)],
    ),
    ("egress peer with two kinds", anp(egress("{action: Deny, to: [{namespaces: {}, networks: [10.0.0.0/8]}]}")), [("Invalid", T0, MAX_PROPS, 2, 9)]),
    ("egress peers of every kind", anp(egress(f"{{action: Allow, to: [{{namespaces: {{}}}}, {PODS}, {{nodes: {{}}}}, {{networks: [10.0.0.0/8]}}, {{domainNames: [example.com]}}]}}")), []),
    ("pods peer needs namespaceSelector", anp(egress("{action: Deny, to: [{pods: {podSelector: {}}}]}")), [("Required", f"{T0}.pods.namespaceSelector", "Required value", None, 9)]),
    # networks
    ("networks without a prefix", anp(egress("{action: Deny, to: [{networks: [10.0.0.0]}]}")), [("Invalid", f"{T0}.networks[0]", CIDR, "10.0.0.0", 9)]),
    ("networks with leading zeros (isCIDR is strict)", anp(egress("{action: Deny, to: [{networks: [010.0.0.0/8]}]}")), [("Invalid", f"{T0}.networks[0]", CIDR, "010.0.0.0/8", 9)]),
    ("networks host bits and IPv6 are CIDRs", anp(egress('{action: Deny, to: [{networks: [10.0.0.1/8, "fd00::/64"]}]}')), []),
    ("networks duplicate", anp(egress("{action: Deny, to: [{networks: [10.0.0.0/8, 10.0.0.0/8]}]}")), [("Duplicate", f"{T0}.networks[1]", "Duplicate value", "10.0.0.0/8", 9)]),
    ("networks empty", anp(egress("{action: Deny, to: [{networks: []}]}")), [("Invalid", f"{T0}.networks", MIN_ITEMS, 0, 9)]),
    (
        "networks of 26 CIDRs",
        anp(egress("{action: Deny, to: [{networks: [" + ", ".join(f"10.{i}.0.0/16" for i in range(26)) + "]}]}")),
        [("TooMany", f"{T0}.networks", "must have at most 25 items", 26, 9)],
    ),
    (
        "network longer than 43 characters",
        anp(egress('{action: Deny, to: [{networks: ["0000:0000:0000:0000:0000:ffff:100.100.100.100/128"]}]}')),
        [("TooLong", f"{T0}.networks[0]", "may not be longer than 43", "0000:0000:0000:0000:0000:ffff:100.100.100.100/128", 9)],
    ),
    ("network null", anp(egress("{action: Deny, to: [{networks: [null]}]}")), [("BadRequest", f"{T0}.networks[0]", "must be a string, not null", None, 9)]),
    ("network not a string", anp(egress("{action: Deny, to: [{networks: [8]}]}")), [("BadRequest", f"{T0}.networks[0]", "must be a string, not an integer", 8, 9)]),
    # domainNames
    ("domainNames wildcard and trailing dot", anp(egress('{action: Allow, to: [{domainNames: ["*.example.com", "kubernetes.io."]}]}')), []),
    ("domainNames single label", anp(egress("{action: Allow, to: [{domainNames: [localhost]}]}")), [("Invalid", f"{T0}.domainNames[0]", DOMAIN, "localhost", 9)]),
    ("domainNames underscore", anp(egress("{action: Allow, to: [{domainNames: [my_host.example.com]}]}")), [("Invalid", f"{T0}.domainNames[0]", DOMAIN, "my_host.example.com", 9)]),
    ("domainNames duplicate", anp(egress("{action: Allow, to: [{domainNames: [a.io, a.io]}]}")), [("Duplicate", f"{T0}.domainNames[1]", "Duplicate value", "a.io", 9)]),
    # ports
    ("ports empty", anp(egress(f"{{action: Deny, to: [{PODS}], ports: []}}")), [("Invalid", f"{E0}.ports", MIN_ITEMS, 0, 9)]),
    ("port entry empty", anp(egress(f"{{action: Deny, to: [{PODS}], ports: [{{}}]}}")), [("Invalid", P0, MIN_PROPS, 0, 9)]),
    (
        "port entry of two kinds",
        anp(egress(f"{{action: Deny, to: [{PODS}], ports: [{{namedPort: http, portNumber: {{port: 80}}}}]}}")),
        [("Invalid", P0, MAX_PROPS, 2, 9)],
    ),
    ("port 0", anp(egress(f"{{action: Deny, to: [{PODS}], ports: [{{portNumber: {{port: 0}}}}]}}")), [("Invalid", f"{P0}.portNumber.port", "should be greater than or equal to 1", 0, 9)]),
    ("port 65536", anp(egress(f"{{action: Deny, to: [{PODS}], ports: [{{portNumber: {{port: 65536}}}}]}}")), [("Invalid", f"{P0}.portNumber.port", "should be less than or equal to 65535", 65536, 9)]),
    ("portNumber without port", anp(egress(f"{{action: Deny, to: [{PODS}], ports: [{{portNumber: {{protocol: UDP}}}}]}}")), [("Required", f"{P0}.portNumber.port", "Required value", None, 9)]),
    ("port protocol is not an enum in the CRD", anp(egress(f"{{action: Deny, to: [{PODS}], ports: [{{portNumber: {{protocol: ICMP, port: 1}}}}]}}")), []),
    ("port protocol not a string", anp(egress(f"{{action: Deny, to: [{PODS}], ports: [{{portNumber: {{protocol: 6, port: 1}}}}]}}")), [("BadRequest", f"{P0}.portNumber.protocol", "must be a string, not an integer", 6, 9)]),
    ("portRange without end", anp(egress(f"{{action: Deny, to: [{PODS}], ports: [{{portRange: {{start: 1}}}}]}}")), [("Required", f"{P0}.portRange.end", "Required value", None, 9)]),
    ("portRange end 0", anp(egress(f"{{action: Deny, to: [{PODS}], ports: [{{portRange: {{start: 1, end: 0}}}}]}}")), [("Invalid", f"{P0}.portRange.end", "should be greater than or equal to 1", 0, 9)]),
    ("namedPort with a pods peer", anp(egress(f"{{action: Allow, to: [{PODS}], ports: [{{namedPort: http}}]}}")), []),
    ("namedPort in an ingress rule", anp(ingress("{action: Allow, from: [{namespaces: {}}], ports: [{namedPort: http}]}")), []),
    (
        "namedPort with a domainNames peer",
        anp(egress("{action: Allow, to: [{namespaces: {}}, {domainNames: [a.io]}], ports: [{portNumber: {port: 80}}, {namedPort: http}]}")),
        [("Invalid", E0, ANP_NAMED, None, 9)],
    ),
    (
        "unknown field in a port",
        anp(egress(f"{{action: Deny, to: [{PODS}], ports: [{{portNumber: {{port: 80, endPort: 90}}}}]}}")),
        [("BadRequest", f"{P0}.portNumber.endPort", 'unknown field "endPort"', None, 9)],
    ),
]

BANP_RULES: list[tuple[str, str, list[Found]]] = [
    ("BANP generated name", banp(BANP_HEAD).replace("  name: default", "  generateName: base-"), [("Invalid", "metadata.generateName", BANP_NAME, "base-", 4)]),
    ("BANP no Pass", banp(ingress("{action: Pass, from: [{namespaces: {}}]}", head=BANP_HEAD)), [("NotSupported", "spec.ingress[0].action", 'supported values: "Allow", "Deny"', "Pass", 8)]),
    ("BANP has no priority", banp("priority: 3\n" + BANP_HEAD), [("BadRequest", "spec.priority", 'unknown field "priority"', None, 6)]),
    (
        "BANP has no domainNames",
        banp(egress("{action: Allow, to: [{domainNames: [a.io]}]}", head=BANP_HEAD)),
        [("BadRequest", "spec.egress[0].to[0].domainNames", 'unknown field "domainNames"', None, 8), ("Invalid", "spec.egress[0].to[0]", MIN_PROPS, 0, 8)],
    ),
    (
        "BANP namedPort with a nodes peer",
        banp(egress("{action: Deny, to: [{nodes: {}}], ports: [{namedPort: http}]}", head=BANP_HEAD)),
        [("Invalid", "spec.egress[0]", BANP_NAMED, None, 8)],
    ),
]

CNP_RULES: list[tuple[str, str, list[Found]]] = [
    (
        "CNP with every kind of protocol",
        cnp(egress(f"{{action: Accept, to: [{PODS}], protocols: [{{tcp: {{destinationPort: {{number: 80}}}}}}, {{udp: {{destinationPort: {{range: {{start: 53, end: 54}}}}}}}}, {{sctp: {{}}}}, {{destinationNamedPort: http}}]}}", head=CNP_HEAD)),
        [],
    ),
    ("CNP tier missing", cnp("priority: 1\nsubject: {namespaces: {}}"), [("Required", "spec.tier", "Required value", None, 5)]),
    ("CNP tier is case-sensitive", cnp("tier: admin\npriority: 1\nsubject: {namespaces: {}}"), [("NotSupported", "spec.tier", 'supported values: "Admin", "Baseline"', "admin", 6)]),
    ("CNP priority 1001", cnp("tier: Baseline\npriority: 1001\nsubject: {namespaces: {}}"), [("Invalid", "spec.priority", "should be less than or equal to 1000", 1001, 7)]),
    ("CNP accepts, never allows", cnp(ingress("{action: Allow, from: [{namespaces: {}}]}", head=CNP_HEAD)), [("NotSupported", "spec.ingress[0].action", 'supported values: "Accept", "Deny", "Pass"', "Allow", 10)]),
    (
        "CNP 26 rules",
        cnp(egress(*["{action: Deny, to: [{namespaces: {}}]}"] * 26, head=CNP_HEAD)),
        [("TooMany", "spec.egress", "must have at most 25 items", 26, 9)],
    ),
    (
        "CNP 26 peers",
        cnp(ingress("{action: Deny, from: [" + ", ".join(["{namespaces: {}}"] * 26) + "]}", head=CNP_HEAD)),
        [("TooMany", "spec.ingress[0].from", "must have at most 25 items", 26, 10)],
    ),
    ("CNP has protocols, not ports", cnp(egress("{action: Deny, to: [{namespaces: {}}], ports: [{namedPort: a}]}", head=CNP_HEAD)), [("BadRequest", "spec.egress[0].ports", 'unknown field "ports" (did you mean "protocols"?)', None, 10)]),
    ("CNP protocol of two kinds", cnp(egress("{action: Deny, to: [{namespaces: {}}], protocols: [{tcp: {}, udp: {}}]}", head=CNP_HEAD)), [("Invalid", "spec.egress[0].protocols[0]", MAX_PROPS, 2, 10)]),
    ("CNP port number 0", cnp(egress("{action: Deny, to: [{namespaces: {}}], protocols: [{tcp: {destinationPort: {number: 0}}}]}", head=CNP_HEAD)), [("Invalid", "spec.egress[0].protocols[0].tcp.destinationPort.number", "should be greater than or equal to 1", 0, 10)]),
    ("CNP empty destinationPort", cnp(egress("{action: Deny, to: [{namespaces: {}}], protocols: [{udp: {destinationPort: {}}}]}", head=CNP_HEAD)), [("Invalid", "spec.egress[0].protocols[0].udp.destinationPort", MIN_PROPS, 0, 10)]),
    ("CNP range without start", cnp(egress("{action: Deny, to: [{namespaces: {}}], protocols: [{tcp: {destinationPort: {range: {end: 9}}}}]}", head=CNP_HEAD)), [("Required", "spec.egress[0].protocols[0].tcp.destinationPort.range.start", "Required value", None, 10)]),
    (
        "CNP destinationNamedPort with networks",
        cnp(egress("{action: Deny, to: [{networks: [10.0.0.0/8]}], protocols: [{destinationNamedPort: http}]}", head=CNP_HEAD)),
        [("Invalid", "spec.egress[0]", ANP_NAMED, None, 10)],
    ),
    (
        "CNP under v1alpha1",
        cnp(CNP_HEAD).replace("v1alpha2", "v1alpha1"),
        [("BadRequest", "apiVersion", 'no matches for kind "ClusterNetworkPolicy" in version "policy.networking.k8s.io/v1alpha1": use apiVersion: policy.networking.k8s.io/v1alpha2', "policy.networking.k8s.io/v1alpha1", 1)],
    ),
]
# fmt: on

ALL = EDGE_CASE_70 + ANP_RULES + BANP_RULES + CNP_RULES


@pytest.mark.parametrize(("name", "text", "expected"), ALL, ids=[row[0] for row in ALL])
def test_crd_rules(name: str, text: str, expected: list[Found]) -> None:
    assert errors(text) == expected


def test_every_problem_is_reported_at_once() -> None:
    text = anp(
        "priority: 2000\n"
        "subject: {}\n"
        "ingress:\n"
        "  - {action: Drop, from: []}\n"
        "egress:\n"
        "  - {action: Deny, to: [{networks: [nonsense]}], ports: [{namedPort: http}]}\n",
        name="x_y",
    )
    assert errors(text) == [
        ("Invalid", "metadata.name", m.SUBDOMAIN, "x_y", 4),
        ("Invalid", "spec.priority", "should be less than or equal to 1000", 2000, 6),
        ("Invalid", "spec.subject", MIN_PROPS, 0, 7),
        ("NotSupported", "spec.ingress[0].action", ANP_ACTIONS, "Drop", 9),
        ("Invalid", "spec.ingress[0].from", MIN_ITEMS, 0, 9),
        ("Invalid", "spec.egress[0].to[0].networks[0]", CIDR, "nonsense", 11),
        ("Invalid", "spec.egress[0]", ANP_NAMED, None, 11),
    ]
