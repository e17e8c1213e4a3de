"""The wheel carries everything a user needs: built from this tree, installed into a fresh
virtual environment outside the clone, it runs the demo and every ``--help`` example from a
folder that is not the clone.

The examples are read from the installed commands themselves (every verb's and sub-verb's
"Examples:" section), so a new example is covered without touching this file. The few that
cannot run here are named below by an explicit rule, each with its reason.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUNDLED = REPO / "src" / "netpol" / "examples"

# --- rules for the help examples ------------------------------------------------------------

# Examples skipped, by pattern, with why. Nothing else is skipped.
SKIPPED = (
    # a live cluster: no kubeconfig on a test machine
    (re.compile(r"--kubeconfig|--context|--live\b|^netpol (probe|snapshot)\b"), "live cluster"),
    # the lab needs root and builds real network namespaces and nftables tables, which are
    # global to the machine; `netpol demo` without --engine-only runs it when it can
    (re.compile(r"^netpol lab\b|^netpol demo(?! --engine-only)"), "lab (root)"),
)

# Inputs the examples name as the user's own; the test makes them from a bundled example.
STAND_INS = {
    "policy.yaml": "examples/three-tier/06-frontend-netpol.yaml",
    "flows.yaml": "examples/three-tier/flows.yaml",
    "manifests": "examples/tutorial",
    "snapshot": "examples/three-tier",  # what `netpol snapshot -o snapshot/` writes
}

# A pipe from another program (helm, kustomize) reads the tutorial's files instead, as one
# multi-document stream, so the netpol half (reading `-`) still runs.
PRODUCERS = re.compile(r"^(helm template|kustomize build) \S+ \|")
STREAM = "sed -s '1i ---' examples/tutorial/*.yaml |"
# Completion examples install a script into the user's shell set-up (~/.bashrc, zsh's fpath,
# ~/.config/fish), which a test must not touch (zsh's ${fpath[1]} is empty under bash, so the
# line would write /_netpol): the script is printed instead, which is what each line runs.
COMPLETION = re.compile(r"^.*?\bnetpol completion (bash|zsh|fish)\b.*$")

# Examples that exit 1 by design: the verb reports a failed check (the tutorial as published
# fails its own Step 5; `diff --exit-code` reports the change between the two revisions).
# lint exits 0 on the tutorial: its findings are warnings, and it fails on errors by default.
EXIT_ONE = {
    "netpol verify examples/tutorial --expect examples/tutorial/expectations.yaml -o junit"
    " > verify.xml": "Step 5 fails as published",
    "netpol diff --git main..HEAD deploy/ -o md --exit-code": "the revisions differ",
}


@dataclass(frozen=True)
class Example:
    verb: str  # "netpol lab exec"
    line: str  # the shell line, continuation lines joined


def help_examples(installed: Installed) -> list[Example]:
    """Every example line of every (sub-)verb's --help, as the installed package has them."""
    walker = """
import json, click
from netpol.cli.main import cli
found = []
def walk(command, path):
    text = command.help or ""
    if "Examples:" in text:
        found.append((path, text.split("Examples:", 1)[1]))
    if isinstance(command, click.Group):
        for name in command.list_commands(None):
            walk(command.get_command(None, name), f"{path} {name}")
walk(cli, "netpol")
print(json.dumps(found))
"""
    done = run(["python", "-c", walker], cwd=Path("/"), env=installed.env)
    assert done.returncode == 0, done.stderr
    examples = []
    for verb, section in json.loads(done.stdout):
        lines = [line.strip() for line in section.splitlines() if line.strip()]
        joined: list[str] = []
        for line in lines:
            if joined and joined[-1].endswith("\\"):
                joined[-1] = joined[-1][:-1].rstrip() + " " + line
            else:
                joined.append(line)
        examples.extend(Example(verb, line) for line in joined)
    return examples


def skip_reason(example: Example) -> str | None:
    for pattern, reason in SKIPPED:
        if pattern.search(example.line):
            return reason
    return None


# --- the installed wheel --------------------------------------------------------------------


@dataclass(frozen=True)
class Installed:
    wheel: Path
    bin: Path
    env: dict[str, str]


def run(argv: list[str], cwd: Path, env: dict[str, str] | None = None, **kw: object):  # type: ignore[no-untyped-def]
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False, **kw
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    """The wheel of this tree, built from a copy (nothing written into the clone) and
    installed with its dependencies into a new virtual environment."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    source.mkdir()
    shutil.copy(REPO / "pyproject.toml", source)
    shutil.copy(REPO / "README.md", source)
    shutil.copytree(
        REPO / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    built = run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(root / "dist"), str(source)],
        cwd=root,
    )
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    (wheel,) = (root / "dist").glob("netpol-*.whl")
    venv = root / "venv"
    made = run([sys.executable, "-m", "venv", str(venv)], cwd=root)
    assert made.returncode == 0, made.stderr
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["NO_COLOR"] = "1"
    done = run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)], cwd=root, env=env
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    yield Installed(wheel, venv / "bin", env)


@pytest.fixture()
def outside(tmp_path: Path) -> Path:
    """A working folder that is not inside the clone."""
    assert REPO not in tmp_path.resolve().parents
    return tmp_path


def test_the_wheel_carries_every_example_file_and_no_docs(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    bundled = {
        "netpol/examples/" + p.relative_to(BUNDLED).as_posix()
        for p in BUNDLED.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert len(bundled) > 30  # four examples
    assert bundled - names == set()
    assert [n for n in names if n.startswith(("docs/", "examples/", "benchmarks/"))] == []


def test_the_installed_package_is_the_one_that_runs(installed: Installed, outside: Path) -> None:
    done = run(
        ["python", "-c", "import netpol; print(netpol.__file__)"], cwd=outside, env=installed.env
    )
    assert done.returncode == 0, done.stderr
    location = Path(done.stdout.strip()).resolve()
    assert installed.bin.parent in location.parents
    assert REPO not in location.parents


def test_demo_on_the_engine_runs_outside_the_clone(installed: Installed, outside: Path) -> None:
    done = run(["netpol", "demo", "--engine-only"], cwd=outside, env=installed.env)
    assert done.returncode == 0, done.stdout[-1500:] + done.stderr[-1500:]
    assert "role: web" in done.stdout  # the story reached the published label mismatch


def test_every_help_example_runs_after_copying_the_examples(
    installed: Installed, outside: Path
) -> None:
    examples = help_examples(installed)
    assert len(examples) > 40

    own = outside / "examples-verb"
    own.mkdir()
    work = outside / "work"
    work.mkdir()
    copied = run(["netpol", "examples", "--copy", "examples"], cwd=work, env=installed.env)
    assert copied.returncode == 0, copied.stderr
    assert (work / "examples" / "three-tier" / "flows.yaml").is_file()
    make_stand_ins(work, installed.env)

    # a home of the test's own: no example may write into the user's
    user = {**installed.env, "HOME": str(outside / "home")}
    (outside / "home").mkdir()
    ran, skipped, failures = 0, 0, []
    for example in examples:
        if skip_reason(example):
            skipped += 1
            continue
        line = COMPLETION.sub(r"netpol completion \1 > /dev/null", example.line)
        line = PRODUCERS.sub(STREAM, line)
        cwd = work
        if example.line.startswith("netpol examples"):
            # its own examples make examples/ and the like: each runs in an empty folder
            cwd = own / str(ran)
            cwd.mkdir()
        done = run(["bash", "-c", line], cwd=cwd, env=user)
        expected = 1 if example.line in EXIT_ONE else 0
        ran += 1
        if done.returncode != expected:
            failures.append(
                f"{example.verb}: {example.line}\n  exit {done.returncode}, expected {expected}:"
                f" {(done.stderr or done.stdout).strip()[-400:]}"
            )
    assert not failures, "\n".join(failures)
    assert ran > 30 and skipped < ran
    # every rule still names a real example, so none lingers after its example is gone
    lines = {e.line for e in examples}
    assert set(EXIT_ONE) <= lines
    assert all(any(p.search(e.line) for e in examples) for p, _ in SKIPPED)


def make_stand_ins(work: Path, env: dict[str, str]) -> None:
    """The user's own inputs the examples name, and a git history for `diff --git`."""
    for name, source in STAND_INS.items():
        if (work / source).is_dir():
            shutil.copytree(work / source, work / name)
        else:
            shutil.copy(work / source, work / name)
    git_env = dict(
        env,
        GIT_AUTHOR_NAME="t",
        GIT_AUTHOR_EMAIL="t@example.com",
        GIT_COMMITTER_NAME="t",
        GIT_COMMITTER_EMAIL="t@example.com",
    )
    steps = [
        "git init -q -b main .",
        "cp -r examples/tutorial deploy && git add deploy && git commit -qm tutorial",
        "git checkout -qb fix && cp examples/three-tier/0*.yaml deploy/",
        "git commit -qam fixed",
    ]
    for step in steps:
        done = run(["bash", "-c", step], cwd=work, env=git_env)
        assert done.returncode == 0, f"{step}: {done.stderr}"
