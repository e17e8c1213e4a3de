"""Explanation renderers: the verdict's evidence as text and JSON, against golden files."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from netpol.engine.compile import CompiledCluster
from netpol.engine.explain import explain
from netpol.render.explain import explanation_json, explanation_text

Compile = Callable[..., CompiledCluster]
Golden = Callable[[str, str], None]

CASES = [
    pytest.param(
        "tutorial",
        "upstream",
        "app1-ns/frontend-deploy",
        "backend-svc:5678",
        id="tutorial-frontend-backend",
    ),
    pytest.param(
        "three-tier",
        "upstream",
        "app1-ns/frontend-deploy",
        "backend-svc:5678",
        id="three-tier-frontend-backend",
    ),
    pytest.param(
        "three-tier",
        "upstream",
        "app1-ns/frontend-deploy",
        "db-svc:3306",
        id="three-tier-frontend-db",
    ),
    pytest.param(
        "three-tier",
        "upstream",
        "app1-ns/backend-deploy",
        "db-sts-0.db-svc.app1-ns.svc.cluster.local:3306",
        id="three-tier-backend-db-dns",
    ),
    pytest.param(
        "three-tier",
        "cilium",
        "203.0.113.7",
        "app1-ns/frontend-deploy:80",
        id="cilium-external-frontend",
    ),
    pytest.param(
        "three-tier",
        "cilium",
        "kube-system/coredns",
        "app1-ns/frontend-deploy:80",
        id="cilium-pods-frontend",
    ),
    pytest.param(
        "three-tier",
        "upstream",
        "app1-ns/frontend-deploy",
        "app1-ns/backend-deploy",
        id="three-tier-all-ports",
    ),
    pytest.param(
        "three-tier", "upstream", "app1-ns/db-sts-0", "app1-ns/db-sts-0:3306", id="pod-to-itself"
    ),
]


@pytest.mark.parametrize(("example", "profile", "source", "destination"), CASES)
def test_explanation_text(
    example: str,
    profile: str,
    source: str,
    destination: str,
    compile_example: Compile,
    golden: Golden,
    request: pytest.FixtureRequest,
) -> None:
    explanations = explain(compile_example(example, profile), source, destination)
    case = request.node.callspec.id
    golden(f"explain-{case}.txt", explanation_text(explanations))


def test_explanation_json(compile_example: Compile, golden: Golden) -> None:
    explanations = explain(
        compile_example("tutorial"), "app1-ns/frontend-deploy", "backend-svc:5678"
    )
    golden(
        "explain-tutorial-frontend-backend.json",
        json.dumps(explanation_json(explanations), indent=2),
    )


def test_text_lists_rules_that_allowed_and_rules_that_missed_in_policy_order(
    compile_example: Compile,
) -> None:
    text = explanation_text(
        explain(compile_example("three-tier"), "app1-ns/frontend-deploy", "db-svc:3306")
    )
    lines = [line.strip() for line in text.splitlines()]

    egress = lines.index(next(line for line in lines if line.startswith("Egress from")))
    assert lines[egress + 1 : egress + 3] == [
        "isolated by: app1-ns/frontend-policy",
        "no rule matched:",
    ]
    assert lines[egress + 3].startswith("app1-ns/frontend-policy egress[0]:")
    assert lines[egress + 4].startswith("app1-ns/frontend-policy egress[1]:")


def test_flows_are_separated_by_a_blank_line(compile_example: Compile) -> None:
    text = explanation_text(
        explain(compile_example("three-tier"), "kube-system/coredns", "app1-ns/frontend-deploy:80")
    )
    blocks = text.split("\n\n")

    assert len(blocks) == 2
    assert all(b.startswith("kube-system/coredns-") for b in blocks)
