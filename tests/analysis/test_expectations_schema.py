"""docs/schemas/expectations.schema.json documents what the parser accepts: the shipped
examples validate, and schema and parser agree on good and bad files."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from netpol.analysis.expectations import ExpectationsError, parse_expectations

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "docs" / "schemas" / "expectations.schema.json").read_text())

GOOD = [
    "expectations:\n  - {from: a/b, to: c, expect: allow}\n",
    "namespace: x\ndefault: deny\ndefaultScope: [x]\nexpectations:\n  - {from: {namespace: x, labels: {a: b}}, to: {cidr: 10.0.0.0/8}, ports: [80, 53/UDP, {port: 9000-9100, protocol: TCP}], expect: deny}\n",
    "expectations:\n  - {from: {workload: x/w}, to: {service: x/s}, port: 443, protocol: tcp, expect: allow, name: n1}\n",
    "expectations:\n  - {from: {ip: 1.2.3.4}, to: {dns: api.x.svc.cluster.local}, port: '8080/TCP', expect: allow}\n",
]
BAD = [
    "expectations:\n  - {from: a, to: b}\n",
    "expectations:\n  - {from: a, to: b, expect: sometimes}\n",
    "expectations:\n  - {from: a, to: b, expect: allow, port: http}\n",
    "expectations:\n  - {from: a, to: b, expect: allow, ports: [80], port: 80}\n",
    "expectations:\n  - {from: {pod: a, ip: 1.2.3.4}, to: b, expect: allow}\n",
    "expectations:\n  - {from: a, to: b, expect: allow, colour: red}\n",
    "default: maybe\nexpectations: []\n",
    "kind: Other\nexpectations: []\n",
]


@pytest.mark.parametrize(
    "example",
    [
        "tutorial",
        "three-tier",
        "three-tier-db-ns",
        "three-tier-cilium",
        "three-tier-cilium-pitfalls",
    ],
)
def test_examples_validate(example: str) -> None:
    path = REPO / "examples" / example / "expectations.yaml"
    jsonschema.validate(yaml.safe_load(path.read_text()), SCHEMA)
    parse_expectations(path.read_text(), str(path))


def test_schema_is_a_valid_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("text", GOOD)
def test_schema_and_parser_accept(text: str) -> None:
    jsonschema.validate(yaml.safe_load(text), SCHEMA)
    parse_expectations(text)


@pytest.mark.parametrize("text", BAD)
def test_schema_and_parser_reject(text: str) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(yaml.safe_load(text), SCHEMA)
    with pytest.raises(ExpectationsError):
        parse_expectations(text)
