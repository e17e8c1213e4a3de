"""diff output: table (golden), Markdown for a pull-request comment, CSV and JSON."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from netpol.analysis.diff import DiffReport, diff
from netpol.engine.compile import compile_cluster
from netpol.model.options import Options
from netpol.render.diff import diff_csv, diff_json, diff_markdown, diff_text
from netpol.validate.pipeline import load_cluster

REPO = Path(__file__).resolve().parents[2]
TUTORIAL = REPO / "examples" / "tutorial"


def report(granularity: str = "workload", evidence: bool = False) -> DiffReport:
    options = Options()
    files = sorted(str(p.relative_to(REPO)) for p in TUTORIAL.glob("*.yaml"))
    old = load_cluster([f for f in files if "/06-" not in f], options).cluster
    new = load_cluster(files, options).cluster
    return diff(
        compile_cluster(old, options),
        compile_cluster(new, options),
        granularity,
        include_external=True,
        evidence=evidence,
        old_label="before 06",
        new_label="after 06",
    )


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


def test_diff_table(golden: Callable[[str, str], None]) -> None:
    golden("diff_tutorial_06_workload.txt", diff_text(report()))


def test_diff_table_with_evidence(golden: Callable[[str, str], None]) -> None:
    golden("diff_tutorial_06_workload_explain.txt", diff_text(report(evidence=True)))


def test_diff_markdown(golden: Callable[[str, str], None]) -> None:
    text = diff_markdown(report(evidence=True))
    assert text.startswith("**netpol diff**: ")
    assert "| Change | Source | Destination | Before | After | Lost | Kept | Gained |" in text
    assert "<details><summary>Evidence</summary>" in text
    golden("diff_tutorial_06_workload.md", text)


def test_diff_csv() -> None:
    rows = list(csv.DictReader(io.StringIO(diff_csv(report()))))
    assert rows[0].keys() == {
        "change",
        "src",
        "dst",
        "before",
        "after",
        "lost",
        "kept",
        "gained",
        "mixed",
    }
    row = next(r for r in rows if r["dst"] == "kube-system/coredns")
    assert (row["before"], row["after"], row["kept"]) == (
        "All Connections",
        "TCP 53,UDP 53",
        "TCP 53,UDP 53",
    )


def test_diff_json_contract() -> None:
    document = json.loads(diff_json(report(evidence=True)))
    assert document["kind"] == "ConnectivityDiff" and document["changed"] is True
    assert document["granularity"] == "workload"
    change = next(c for c in document["changes"] if c["src"] == "kube-system/coredns")
    assert change["after"] == {"TCP": [[80, 80]]} and change["keptText"] == "TCP 80"
    assert change["evidenceAfter"]["allowed"] is False


def test_no_change_text() -> None:
    options = Options()
    cc = compile_cluster(load_cluster(["examples/three-tier"], options).cluster, options)
    text = diff_text(diff(cc, cc, "workload"))
    assert text.startswith("no connectivity change (")


@pytest.mark.parametrize("granularity", ["pod", "workload", "namespace"])
@pytest.mark.parametrize("evidence", [False, True])
def test_streamed_json_is_the_document_json_dumps_gives(granularity: str, evidence: bool) -> None:
    """diff_json writes change by change, each delta formatted once: the text must be what
    ``json.dumps(document, indent=2)`` gives, with and without evidence."""
    text = diff_json(report(granularity, evidence))
    assert text == json.dumps(json.loads(text), indent=2)


def test_streamed_json_of_no_change_is_the_document_json_dumps_gives() -> None:
    options = Options()
    cc = compile_cluster(load_cluster(["examples/three-tier"], options).cluster, options)
    text = diff_json(diff(cc, cc, "pod"))
    assert text == json.dumps(json.loads(text), indent=2)
    assert json.loads(text)["changes"] == [] and json.loads(text)["changed"] is False


def test_a_table_of_many_rows_is_written_in_pieces_that_join_line_by_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rows are joined a batch at a time: with batches of 2, every row is still its own line,
    the same text as one batch."""
    whole = {name: render(report("pod")) for name, render in RENDERERS.items()}
    monkeypatch.setattr("netpol.render.diff.ROWS_PER_PIECE", 2)
    assert {name: render(report("pod")) for name, render in RENDERERS.items()} == whole
    assert len(whole["csv"].splitlines()) == 1 + len(report("pod").listing)


RENDERERS: dict[str, Callable[[DiffReport], str]] = {
    "table": diff_text,
    "md": diff_markdown,
    "csv": diff_csv,
    "json": diff_json,
}
