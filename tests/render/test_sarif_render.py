"""lint -o sarif validates against (a trimmed) SARIF 2.1.0 schema and points at YAML lines."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from netpol.analysis.checks import CHECKS
from netpol.analysis.lint import run_checks
from netpol.engine.compile import compile_cluster
from netpol.model.options import Options
from netpol.render.sarif import lint_sarif
from netpol.validate.pipeline import load_cluster

REPO = Path(__file__).resolve().parents[2]

# The parts of the SARIF 2.1.0 schema (sarif-schema-2.1.0.json) that code-scanning tools
# read, with their required properties and enums kept as the standard states them.
_MESSAGE = {
    "type": "object",
    "properties": {"text": {"type": "string"}, "markdown": {"type": "string"}},
    "anyOf": [{"required": ["text"]}, {"required": ["id"]}],
}
SARIF_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "$schema": {"type": "string", "format": "uri"},
        "version": {"enum": ["2.1.0"]},
        "runs": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["tool"],
                "properties": {
                    "tool": {
                        "type": "object",
                        "required": ["driver"],
                        "properties": {
                            "driver": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {
                                    "name": {"type": "string"},
                                    "version": {"type": "string"},
                                    "rules": {
                                        "type": "array",
                                        "uniqueItems": True,
                                        "items": {
                                            "type": "object",
                                            "required": ["id"],
                                            "properties": {
                                                "id": {"type": "string"},
                                                "name": {"type": "string"},
                                                "shortDescription": _MESSAGE,
                                                "fullDescription": _MESSAGE,
                                                "help": _MESSAGE,
                                                "defaultConfiguration": {
                                                    "type": "object",
                                                    "properties": {
                                                        "level": {
                                                            "enum": [
                                                                "none",
                                                                "note",
                                                                "warning",
                                                                "error",
                                                            ]
                                                        }
                                                    },
                                                },
                                            },
                                        },
                                    },
                                },
                            }
                        },
                    },
                    "results": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["message"],
                            "properties": {
                                "ruleId": {"type": "string"},
                                "ruleIndex": {"type": "integer", "minimum": -1},
                                "level": {"enum": ["none", "note", "warning", "error"]},
                                "message": _MESSAGE,
                                "locations": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "physicalLocation": {
                                                "type": "object",
                                                "properties": {
                                                    "artifactLocation": {
                                                        "type": "object",
                                                        "properties": {
                                                            "uri": {
                                                                "type": "string",
                                                                "format": "uri-reference",
                                                            }
                                                        },
                                                    },
                                                    "region": {
                                                        "type": "object",
                                                        "properties": {
                                                            "startLine": {
                                                                "type": "integer",
                                                                "minimum": 1,
                                                            }
                                                        },
                                                    },
                                                },
                                            }
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


def sarif(example: str) -> dict[str, object]:
    options = Options()
    result = load_cluster([f"examples/{example}"], options)
    report = run_checks(compile_cluster(result.cluster, options), CHECKS)
    document = json.loads(lint_sarif(report, CHECKS))
    assert isinstance(document, dict)
    return document


@pytest.mark.parametrize("example", ["tutorial", "three-tier"])
def test_sarif_validates(example: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    jsonschema.validate(sarif(example), SARIF_SCHEMA)


def test_sarif_results_point_at_the_yaml_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    document = sarif("tutorial")
    (run,) = document["runs"]  # type: ignore[misc]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [c.id for c in CHECKS]
    for rule in rules:
        assert rule["shortDescription"]["text"] and rule["help"]["text"]
    result = next(r for r in run["results"] if r["ruleId"] == "peer-selects-nothing")
    assert result["level"] == "warning"
    assert rules[result["ruleIndex"]]["id"] == "peer-selects-nothing"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "examples/tutorial/05-revised-backend-netpol.yaml"
    assert location["region"]["startLine"] == 17
    notes = [r for r in run["results"] if r["level"] == "note"]
    assert {r["ruleId"] for r in notes} >= {"egress-deny-all"}


def test_sarif_uris_are_relative_to_the_repository_root(monkeypatch: pytest.MonkeyPatch) -> None:
    # from a sub-folder that is not a link (the clone's examples/ is one: the process's
    # working directory would be the package folder it points to)
    monkeypatch.chdir(REPO / "benchmarks")
    options = Options()
    paths = ["../examples/tutorial/05-revised-backend-netpol.yaml", "../examples/tutorial"]
    result = load_cluster(paths, options)
    report = run_checks(compile_cluster(result.cluster, options), CHECKS)
    (run,) = json.loads(lint_sarif(report, CHECKS))["runs"]
    locations = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in run["results"]]
    assert {
        "uri": "examples/tutorial/05-revised-backend-netpol.yaml",
        "uriBaseId": "%SRCROOT%",
    } in locations
    assert all(loc["uri"].startswith("examples/tutorial/") for loc in locations)


def test_sarif_uri_outside_any_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    manifest = tmp_path / "policy.yaml"
    manifest.write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: p, namespace: x}\n"
        "spec: {podSelector: {}, policyTypes: [Egress]}\n"
    )
    options = Options()
    for cwd, expected in ((tmp_path, "policy.yaml"), (REPO, manifest.as_uri())):
        monkeypatch.chdir(cwd)
        result = load_cluster([str(manifest)], options)
        report = run_checks(compile_cluster(result.cluster, options), CHECKS)
        (run,) = json.loads(lint_sarif(report, CHECKS))["runs"]
        uris = {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]
        }
        assert uris == {expected}
