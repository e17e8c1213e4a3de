"""``netpol diff``: the three ways to name the sides, --exit-code, outputs, usage errors."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from netpol.cli.diff_cmd import command

REPO = Path(__file__).resolve().parents[2]
TUTORIAL = REPO / "examples" / "tutorial"


def run(*args: str) -> Result:
    return CliRunner().invoke(command, list(args), catch_exceptions=False)


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


def shared() -> list[str]:
    return [
        f"examples/tutorial/{p.name}"
        for p in sorted(TUTORIAL.glob("*.yaml"))
        if not p.name.startswith("06-")
    ]


def test_old_and_new_paths() -> None:
    result = run("examples/tutorial", "examples/three-tier", "--by", "workload", "--exit-code")
    assert result.exit_code == 1
    assert "added    app1-ns/frontend-deploy   app1-ns/backend-deploy" in result.output
    same = run("examples/three-tier", "examples/three-tier", "--exit-code")
    assert same.exit_code == 0 and same.output.startswith("no connectivity change")


def test_shared_paths_with_new() -> None:
    result = run(
        *shared(),
        "--new",
        "examples/tutorial/06-frontend-netpol.yaml",
        "--by",
        "workload",
        "-o",
        "json",
    )
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert {(c["src"], c["dst"]) for c in document["changes"]} == {
        ("app1-ns/frontend-deploy", "kube-system/coredns"),
        ("kube-system/coredns", "app1-ns/frontend-deploy"),
    }


def test_md_and_csv() -> None:
    md = run(
        *shared(), "--new", "examples/tutorial/06-frontend-netpol.yaml", "-o", "md", "--explain"
    )
    assert md.stdout.startswith("**netpol diff**") and "<details>" in md.stdout
    csv = run(*shared(), "--new", "examples/tutorial/06-frontend-netpol.yaml", "-o", "csv")
    assert csv.stdout.splitlines()[0] == "change,src,dst,before,after,lost,kept,gained,mixed"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["examples/tutorial"], "give two paths (OLD NEW)"),
        (["--git", "main..HEAD"], "--git needs the PATHs"),
        (["--git", "main", "deploy"], "expected REV1..REV2"),
        (["--git", "a..b", "--old", "x", "p"], "--old/--new do not apply"),
    ],
)
def test_usage_errors(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.stderr


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_git_range(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
            cwd=tmp_path,
            check=True,
            capture_output=True,
        )

    for path in shared():
        shutil.copy(REPO / path, tmp_path)
    git("init", "-q")
    git("add", ".")
    git("commit", "-q", "-m", "before")
    shutil.copy(TUTORIAL / "06-frontend-netpol.yaml", tmp_path)
    git("add", ".")
    git("commit", "-q", "-m", "after")
    monkeypatch.chdir(tmp_path)
    result = run("--git", "HEAD~1..HEAD", ".", "--by", "workload", "--exit-code")
    assert result.exit_code == 1, result.stderr
    assert "kube-system/coredns" in result.output and "(HEAD~1 -> HEAD)" in result.output
    (tmp_path / "06-frontend-netpol.yaml").unlink()
    worktree = run("--git", "HEAD..", ".", "--by", "workload")
    assert "(HEAD -> working tree)" in worktree.output
    bad = run("--git", "nope..HEAD", ".")
    assert bad.exit_code == 2
    assert bad.stderr == f"error: --git: 'nope' is not a commit of {tmp_path.resolve()}\n"
    # The new side is checked before the old side is loaded: one line, no load warnings.
    bad_new = run("--git", "HEAD..nope", ".")
    assert bad_new.exit_code == 2
    assert bad_new.stderr == f"error: --git: 'nope' is not a commit of {tmp_path.resolve()}\n"


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_git_range_outside_a_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("--git", "HEAD~1..HEAD", ".")
    assert result.exit_code == 2
    assert result.stderr == f"error: --git: {tmp_path} is not inside a git repository\n"


FIRST_COMMIT = "52bbbff"  # the skeleton, with the tutorial examples as published


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_git_range_on_this_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    known = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{FIRST_COMMIT}^{{commit}}"],
        capture_output=True,
        check=False,
    )
    if known.returncode != 0:
        pytest.skip("shallow clone: the first commit is not here")
    result = run("--git", f"{FIRST_COMMIT}..HEAD", "examples/tutorial", "--exit-code")
    assert result.exit_code == 0, result.stderr
    # the first commit's tutorial carried CoreDNS in a file; today's is modelled as KIND runs it
    assert result.stdout == "no connectivity change (25 pod pairs compared)\n"


FRONTEND = "examples/tutorial/06-frontend-netpol.yaml"


def test_a_pod_table_past_the_row_limit_shows_workloads_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """4 pod pairs differ (two CoreDNS pods and the frontend, both ways): over a limit of 3 the
    table and the Markdown table show the 2 workload pairs after a note; CSV and JSON, read by
    tools, still list every pod pair; at the limit the pod table stays."""
    monkeypatch.setattr("netpol.cli.diff_cmd.TABLE_ROW_LIMIT", 3)
    by_workload = run(*shared(), "--new", FRONTEND, "--by", "workload")
    table = run(*shared(), "--new", FRONTEND)
    note = (
        "note: 4 pod pairs differ, too many to read as a table; showing the 2 workload pairs "
        "they belong to instead (try --by namespace, or -o csv / -o json for every pod pair)"
    )
    assert table.stderr.splitlines()[-1] == note
    assert table.stdout == by_workload.stdout
    assert table.stdout.rstrip().endswith(
        "2 workload pairs differ: 0 added, 0 removed, 2 changed (old -> new)"
    )
    md = run(*shared(), "--new", FRONTEND, "-o", "md")
    assert md.stderr.splitlines()[-1] == note.replace("as a table", "as a Markdown table")
    assert md.stdout.startswith("**netpol diff**: 2 workload pairs differ")
    csv = run(*shared(), "--new", FRONTEND, "-o", "csv")
    assert len(csv.stdout.splitlines()) == 1 + 4 and "note:" not in csv.stderr
    document = json.loads(run(*shared(), "--new", FRONTEND, "-o", "json").stdout)
    assert document["granularity"] == "pod" and len(document["changes"]) == 4
    monkeypatch.setattr("netpol.cli.diff_cmd.TABLE_ROW_LIMIT", 4)
    at_limit = run(*shared(), "--new", FRONTEND)
    assert "note:" not in at_limit.stderr
    assert at_limit.stdout.rstrip().endswith(
        "4 pod pairs differ: 0 added, 0 removed, 4 changed (old -> new)"
    )
