"""Decode-level traps (spec 5, 9): values the API server cannot decode are BadRequest errors.

Python's bool is an int, YAML reads ``yes``/``on``/``1`` as non-strings, and a list where a
mapping belongs must still end in a diagnostic, never a traceback.
"""

from __future__ import annotations

import pytest

from .support import Found, errors, policy_errors

P0 = "spec.ingress[0].ports[0]"
BOOL_HINT = "; YAML reads unquoted true/false/yes/no/on/off/y/n as booleans"
PORT_TYPE = "must be an integer or a string (a port name)"


def port(item: str) -> str:
    return f"ingress:\n  - ports:\n      - {item}\n"  # line 9


# fmt: off
SPEC_TRAPS: list[tuple[str, str, list[Found]]] = [
    ("port true", port("{port: true}"), [("BadRequest", f"{P0}.port", f"{PORT_TYPE}, not a boolean", True, 9)]),
    ("port 80.5", port("{port: 80.5}"), [("BadRequest", f"{P0}.port", f"{PORT_TYPE}, not a number", 80.5, 9)]),
    ("port 80.0 reaches the API server as the JSON number 80", port("{port: 80.0}"), []),
    ("port 1e3 is the number 1000 to kubectl, not a port name", port("{port: 1e3}"), []),
    ("port 1:30 is a string to kubectl, not sexagesimal 90", port("{port: 1:30}"), [("Invalid", f"{P0}.port", "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)", "1:30", 9), ("Invalid", f"{P0}.port", "must contain at least one letter (a-z)", "1:30", 9)]),
    ("label value y is a boolean to kubectl", "podSelector: {matchLabels: {app: y}}\n", [("BadRequest", "spec.podSelector.matchLabels", f'label "app" must be a string, not a boolean: quote it (app: "true"){BOOL_HINT}', True, 7)]),
    ("port beyond int32", port("{port: 4294967296}"), [("BadRequest", f"{P0}.port", "does not fit in a 32-bit integer", 4294967296, 9)]),
    ("port as a list", port("{port: [80]}"), [("BadRequest", f"{P0}.port", f"{PORT_TYPE}, not a list", [80], 9)]),
    ("endPort x", port('{port: 80, endPort: "x"}'), [("BadRequest", f"{P0}.endPort", "must be an integer, not a string", "x", 9)]),
    ("endPort false", port("{port: 80, endPort: false}"), [("BadRequest", f"{P0}.endPort", "must be an integer, not a boolean", False, 9)]),
    ("protocol 6", port("{protocol: 6}"), [("BadRequest", f"{P0}.protocol", "must be a string, not an integer", 6, 9)]),
    ("port item is a number", port("80"), [("BadRequest", P0, "must be a mapping (an object), not an integer", 80, 9)]),
    ("spec is a list", "- podSelector: {}", [("BadRequest", "spec", "must be a mapping (an object), not a list", [{"podSelector": {}}], 6)]),
    ("ingress is a mapping", "ingress:\n  from: []", [("BadRequest", "spec.ingress", "must be a list, not a mapping", {"from": []}, 7)]),
    ("ingress rule is a string", "ingress: [allow]", [("BadRequest", "spec.ingress[0]", "must be a mapping (an object), not a string", "allow", 7)]),
    ("from is a string", "ingress: [{from: all}]", [("BadRequest", "spec.ingress[0].from", "must be a list, not a string", "all", 7)]),
    ("ports is a number", "egress: [{ports: 53}]", [("BadRequest", "spec.egress[0].ports", "must be a list, not an integer", 53, 7)]),
    ("podSelector is a string", "podSelector: app=web", [("BadRequest", "spec.podSelector", "must be a mapping (an object), not a string", "app=web", 7)]),
    ("matchLabels is a list", "podSelector: {matchLabels: [app]}", [("BadRequest", "spec.podSelector.matchLabels", "must be a mapping (an object), not a list", ["app"], 7)]),
    ("matchExpressions is a mapping", "podSelector: {matchExpressions: {key: a}}", [("BadRequest", "spec.podSelector.matchExpressions", "must be a list, not a mapping", {"key": "a"}, 7)]),
    ("values is a string", "podSelector: {matchExpressions: [{key: a, operator: In, values: b}]}", [
        ("BadRequest", "spec.podSelector.matchExpressions[0].values", "must be a list, not a string", "b", 7),
        ("Required", "spec.podSelector.matchExpressions[0].values", "must be specified when `operator` is 'In' or 'NotIn'", None, 7),
    ]),
    ("values holds a number", "podSelector: {matchExpressions: [{key: a, operator: In, values: [1]}]}", [("BadRequest", "spec.podSelector.matchExpressions[0].values[0]", "must be a string, not an integer", 1, 7)]),
    ("key is a number", "podSelector: {matchExpressions: [{key: 1, operator: Exists}]}", [("BadRequest", "spec.podSelector.matchExpressions[0].key", "must be a string, not an integer", 1, 7)]),
    ("ipBlock is a string", "ingress: [{from: [{ipBlock: 10.0.0.0/8}]}]", [("BadRequest", "spec.ingress[0].from[0].ipBlock", "must be a mapping (an object), not a string", "10.0.0.0/8", 7)]),
    ("cidr is a number", "ingress: [{from: [{ipBlock: {cidr: 10}}]}]", [("BadRequest", "spec.ingress[0].from[0].ipBlock.cidr", "must be a string, not an integer", 10, 7)]),
    ("except is a string", "ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: 10.1.0.0/16}}]}]", [("BadRequest", "spec.ingress[0].from[0].ipBlock.except", "must be a list, not a string", "10.1.0.0/16", 7)]),
    ("policyTypes is a string", "policyTypes: Ingress", [("BadRequest", "spec.policyTypes", "must be a list, not a string", "Ingress", 7)]),
    ("policyTypes holds a number", "policyTypes: [1]", [("BadRequest", "spec.policyTypes[0]", "must be a string, not an integer", 1, 7)]),
    ("podSelector is binary data", "podSelector: !!binary aGVsbG8=", [("BadRequest", "spec.podSelector", "must be a mapping (an object), not binary data", b"hello", 7)]),
    ("label value is binary data", "podSelector: {matchLabels: {a: !!binary aGVsbG8=}}", [("BadRequest", "spec.podSelector.matchLabels", 'label "a" must be a string, not binary data', b"hello", 7)]),
    ("null rule, peer list and selector are absent", "ingress: [null, {from: null, ports: null}]\negress: null\npodSelector: null", []),
    # strict field validation (kubectl's default): typos are errors, not silent allow-alls
    ("unknown field in a rule", "ingress:\n  - form: [{podSelector: {}}]", [("BadRequest", "spec.ingress[0].form", 'unknown field "form" (did you mean "from"?)', None, 8)]),
    ("unknown spec field, case", "podselector: {}", [("BadRequest", "spec.podselector", 'unknown field "podselector" (did you mean "podSelector"?)', None, 7)]),
    ("unknown ipBlock field", "ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, exception: []}}]}]", [("BadRequest", "spec.ingress[0].from[0].ipBlock.exception", 'unknown field "exception" (did you mean "except"?)', None, 7)]),
    ("unknown field with no near name", "ingress: [{ports: [{port: 80, comment: web}]}]", [("BadRequest", f"{P0}.comment", 'unknown field "comment"', None, 7)]),
    ("to in an ingress rule", "ingress: [{to: [{podSelector: {}}]}]", [("BadRequest", "spec.ingress[0].to", 'unknown field "to" (did you mean "from"?)', None, 7)]),
]
# fmt: on


@pytest.mark.parametrize(
    ("spec", "expected"), [pytest.param(s, e, id=name) for name, s, e in SPEC_TRAPS]
)
def test_spec_traps(spec: str, expected: list[Found]) -> None:
    assert policy_errors(spec) == expected


HEAD = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: p\n"


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        pytest.param(
            "version: 1",
            [
                (
                    "BadRequest",
                    "metadata.labels",
                    'label "version" must be a string, not an integer: quote it (version: "1")',
                    1,
                    6,
                )
            ],
            id="version: 1",
        ),
        pytest.param(
            "enabled: true",
            [
                (
                    "BadRequest",
                    "metadata.labels",
                    'label "enabled" must be a string, not a boolean: quote it (enabled: "true")'
                    + BOOL_HINT,
                    True,
                    6,
                )
            ],
            id="enabled: true",
        ),
        pytest.param(
            "canary: yes",
            [
                (
                    "BadRequest",
                    "metadata.labels",
                    'label "canary" must be a string, not a boolean: quote it (canary: "true")'
                    + BOOL_HINT,
                    True,
                    6,
                )
            ],
            id="canary: yes (YAML 1.1)",
        ),
        pytest.param(
            "ratio: 1.5",
            [
                (
                    "BadRequest",
                    "metadata.labels",
                    'label "ratio" must be a string, not a number: quote it (ratio: "1.5")',
                    1.5,
                    6,
                )
            ],
            id="ratio: 1.5",
        ),
        pytest.param("app: web\nempty:", [], id="a null value is the empty string"),
        pytest.param('version: "1"', [], id="quoted is fine"),
    ],
)
def test_label_values_must_be_strings(labels: str, expected: list[Found]) -> None:
    text = HEAD + "  labels:\n" + "".join(f"    {line}\n" for line in labels.splitlines())
    assert errors(text) == expected


def test_selector_label_values_must_be_strings_too() -> None:
    text = HEAD + "spec:\n  podSelector:\n    matchLabels:\n      tier: 2\n"
    assert errors(text) == [
        (
            "BadRequest",
            "spec.podSelector.matchLabels",
            'label "tier" must be a string, not an integer: quote it (tier: "2")',
            2,
            8,
        )
    ]


def test_annotation_values_must_be_strings() -> None:
    text = HEAD + "  annotations:\n    replicas: 3\n"
    assert errors(text) == [
        (
            "BadRequest",
            "metadata.annotations",
            'annotation "replicas" must be a string, not an integer: quote it (replicas: "3")',
            3,
            6,
        )
    ]


def test_name_of_the_wrong_type() -> None:
    text = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: 123\n"
    assert errors(text) == [
        ("BadRequest", "metadata.name", "must be a string, not an integer", 123, 4)
    ]


def test_unknown_top_level_field_and_status() -> None:
    text = HEAD + "specs: {}\nstatus: {}\n"
    assert errors(text) == [
        ("BadRequest", "specs", 'unknown field "specs" (did you mean "spec"?)', None, 5)
    ]
