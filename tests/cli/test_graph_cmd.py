"""`netpol graph`: formats, writing a file, and bad options as one-line errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from netpol.cli.main import cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
THREE_TIER = str(EXAMPLES / "three-tier")
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_dot_is_the_default_format() -> None:
    result = invoke("graph", THREE_TIER)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("digraph netpol {")
    assert 'label="TCP 5678"' in result.stdout


def test_mermaid_focus_and_no_external() -> None:
    result = invoke(
        "graph", THREE_TIER, "-o", "mermaid", "--focus", "app1-ns/db-sts", "--no-external"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "flowchart LR"
    assert '-->|"TCP 3306"|' in result.stdout
    assert "external" not in result.stdout.replace("classDef external", "")


def test_unknown_focus_is_bad_input() -> None:
    result = invoke("graph", THREE_TIER, "--focus", "app1-ns/nope")
    assert result.exit_code == 2
    assert "error: --focus 'app1-ns/nope' matches no endpoint" in result.stderr


def test_aggregation_note_goes_to_stderr() -> None:
    result = invoke("graph", THREE_TIER, "--by", "pod", "--max-nodes", "4")
    assert result.exit_code == 0
    assert result.stderr == (
        "note: by pod: 7 nodes, more than --max-nodes 4; drawn by namespace (4 nodes, 9 edges; "
        "a merged edge is the union of its members', * where they differ); detail with -n NS "
        "or --focus NS/NAME\n"
    )
    assert 'label="namespace app1-ns"' not in result.stdout  # namespaces are nodes now


def test_merged_blocks_are_in_the_json_graph() -> None:
    result = invoke("graph", THREE_TIER, "--max-edges", "10", "-o", "json")
    assert result.exit_code == 0, result.output
    graph = json.loads(result.stdout)
    assert (graph["aggregated"], graph["external_merged"]) == (False, True)
    world = [n for n in graph["nodes"] if n["kind"] == "External"]
    assert [(n["id"], n["detail"]) for n in world] == [("external", "0.0.0.0/0, ::/0")]
    into_frontend = next(
        e for e in graph["edges"] if (e["src"], e["dst"]) == ("external", "app1-ns/frontend-deploy")
    )
    assert (into_frontend["text"], into_frontend["mixed"]) == ("TCP 80", True)
    assert "11 edges, more than --max-edges 10" in result.stderr


def test_svg_past_the_budget_is_refused_before_graphviz_runs() -> None:
    result = invoke("graph", THREE_TIER, "--max-nodes", "2", "-o", "svg")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: too large to lay out in seconds even by namespace, the external blocks as one "
        "node (3 nodes, more than --max-nodes 2); draw part of it with -n NS or --focus "
        "NS/NAME, or see all of it with -o html (a table)\n"
    )
    assert result.stdout == ""


def test_dot_past_the_budget_is_written_with_a_note() -> None:
    result = invoke("graph", THREE_TIER, "--max-nodes", "2")
    assert result.exit_code == 0
    assert result.stdout.startswith("digraph netpol {")
    assert result.stdout.count(" -> ") == 7
    assert result.stderr.startswith("note: too large to lay out even by namespace")


@needs_dot
@pytest.mark.parametrize("fmt", ["svg", "html"])
def test_svg_and_html_are_written(tmp_path: Path, fmt: str) -> None:
    target = tmp_path / f"graph.{fmt}"
    result = invoke("graph", THREE_TIER, "-o", fmt, "-w", str(target))
    assert result.exit_code == 0, result.output
    assert "6 nodes, 11 edges; written to" in result.stderr
    text = target.read_text()
    assert ("<svg" in text) and (fmt == "svg" or text.startswith("<!DOCTYPE html>"))


def test_expected_but_denied_flows_are_red_on_the_published_tutorial() -> None:
    """The tutorial's published backend policy admits role: web, so frontend -> backend is red."""
    tutorial = EXAMPLES / "tutorial"
    result = invoke(
        "graph", str(tutorial), "--expect", str(tutorial / "expectations.yaml"), "--no-external"
    )
    assert result.exit_code == 0, result.output
    red = [line for line in result.stdout.splitlines() if "class=denied" in line]
    assert len(red) == 1
    assert "n2 -> n0" in red[0] and "expected, denied: TCP 5678" in red[0]
    assert 'color="#d32f2f"' in red[0]
