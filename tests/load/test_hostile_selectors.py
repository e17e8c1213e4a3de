"""Hostile Calico selectors through every verb that reads them: nesting beyond the cap is
one line naming the file, the policy and the cap (never a RecursionError), and a long
chain that validate accepts is evaluated by every other verb too."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from netpol.cli.main import cli

CLUSTER = """\
apiVersion: v1
kind: Namespace
metadata: {name: app}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: app, labels: {x: "1"}}
spec: {containers: [{name: c, image: nginx, ports: [{containerPort: 80}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: app, labels: {y: "1"}}
spec: {containers: [{name: c, image: mysql, ports: [{containerPort: 3306}]}]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: g}
spec:
  selector: {selector}
  types: [Ingress]
  ingress: [{action: Allow, source: {selector: has(x)}}]
"""
VERBS = [
    ["validate"],
    ["get", "pods"],
    ["matrix"],
    ["lint"],
    ["graph"],
    ["describe", "pod", "app/db"],
]
DEEP = "(" * 500 + "has(y)" + ")" * 500
CHAIN = "has(a) || " * 1000 + "has(y)"


def _write(tmp_path: Path, selector: str) -> str:
    path = tmp_path / "c.yaml"
    path.write_text(CLUSTER.replace("{selector}", f'"{selector}"'))
    return str(path)


def _run(verb: list[str], path: str) -> tuple[int, str]:
    """Exit code and everything printed; an exception other than exit fails the test."""
    result = CliRunner().invoke(cli, [*verb, path])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout + result.stderr


@pytest.mark.parametrize("verb", VERBS, ids=[v[0] for v in VERBS])
def test_a_selector_nested_500_deep_is_one_line_on_every_verb(
    tmp_path: Path, verb: list[str]
) -> None:
    path = _write(tmp_path, DEEP)
    code, output = _run(verb, path)
    expected = (
        f"{path}:19: error: GlobalNetworkPolicy/g: spec.selector: invalid selector: "
        'selector nested deeper than 100 levels at position 100 (value: "((((('
    )
    deep = [line for line in output.splitlines() if "nested deeper" in line]
    assert len(deep) == 1
    assert deep[0].startswith(expected)
    assert "Traceback" not in output
    assert code == (1 if verb == ["validate"] else 2)


@pytest.mark.parametrize("verb", VERBS, ids=[v[0] for v in VERBS])
def test_a_1000_term_chain_that_validate_accepts_every_verb_evaluates(
    tmp_path: Path, verb: list[str]
) -> None:
    code, output = _run(verb, _write(tmp_path, CHAIN))
    assert code == 0, output


def test_the_chain_is_evaluated_exactly(tmp_path: Path) -> None:
    path = _write(tmp_path, CHAIN)
    result = CliRunner().invoke(cli, ["explain", path, "--from", "app/web", "--to", "app/db:3306"])
    assert result.exit_code == 0
    assert "allowed" in result.stdout.lower()
    result = CliRunner().invoke(cli, ["explain", path, "--from", "app/db", "--to", "app/web:80"])
    assert result.exit_code == 0
