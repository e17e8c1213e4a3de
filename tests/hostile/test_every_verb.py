"""Every hostile input of ``generator.py`` through every verb that reads input: no traceback,
no run over 10 s, exit 0, 1 or 2 only, and nothing printed raw (no control character but
newline and tab, and no output line that an input forged).

Verbs run in-process through click's CliRunner (milliseconds each) under a SIGALRM hang
guard; inputs that reach the file system's odd corners (a FIFO, a link to a device) and a
sample of the others also run as a real ``python -m netpol`` with a timeout and a memory cap.
"""

from __future__ import annotations

import resource
import signal
import subprocess
import sys
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import pytest
from click.testing import CliRunner
from tests.hostile.generator import BASE, FORGED, HostileInput, all_inputs

from netpol.cli.main import cli

HANG_SECONDS = 10
SUBPROCESS_EVERY = 20  # every 20th input also runs one verb as a subprocess
SUBPROCESS_VERBS = ("validate", "matrix")  # all that runs for a FIFO or a device link
MEMORY_CAP = 2 * 1024**3  # bytes of address space for a subprocess run
ALLOWED_CONTROLS = {"\n", "\t"}

Verb = Callable[["Paths"], list[str]]


class Paths:
    """What one input gives the verbs: its directory and the files verify/generate read."""

    def __init__(self, case: HostileInput, root: Path) -> None:
        self.dir = str(case.materialise(root))
        self.expect = _extra(root, "expect.yaml", case.expectations, BASE / "expectations.yaml")
        self.flows = _extra(root, "flows.yaml", case.flows, BASE / "flows.yaml")
        self.matrix = _extra(root, "matrix.json", case.matrix, None)


def _extra(root: Path, name: str, content: bytes | None, default: Path | None) -> str | None:
    if content is None:
        return str(default) if default else None
    path = root / name
    path.write_bytes(content)
    return str(path)


# every verb that evaluates input without a live cluster or the lab
VERBS: dict[str, Verb] = {
    "validate": lambda p: ["validate", p.dir],
    "get pods": lambda p: ["get", "pods", p.dir],
    "get netpol": lambda p: ["get", "networkpolicies", p.dir, "-o", "json"],
    "explain": lambda p: [
        "explain",
        p.dir,
        "--from",
        "app1-ns/frontend-deploy",
        "--to",
        "app1-ns/backend-deploy:5678",
    ],
    "matrix": lambda p: ["matrix", p.dir],
    "lint": lambda p: ["lint", p.dir],
    "lint sarif": lambda p: ["lint", p.dir, "-o", "sarif"],
    "verify": lambda p: ["verify", p.dir, "--expect", str(p.expect)],
    "describe policy": lambda p: ["describe", "policy", "backend-policy", "-n", "app1-ns", p.dir],
    "describe pod": lambda p: ["describe", "pod", "app1-ns/db-sts-0", p.dir],
    "diff": lambda p: ["diff", str(BASE), p.dir],
    "graph": lambda p: ["graph", p.dir],
    "generate": lambda p: ["generate", p.dir, "--flows", str(p.flows)],
    "generate from matrix": lambda p: (
        ["generate", p.dir, "--from-matrix", p.matrix] if p.matrix else []
    ),
}


class Hang(BaseException):
    """A run over HANG_SECONDS (BaseException: no ``except Exception`` swallows it)."""


@contextmanager
def hang_guard(seconds: float) -> Iterator[None]:
    def alarm(signum: int, frame: FrameType | None) -> None:
        raise Hang

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def raw_output_problems(text: str, forged: str = FORGED) -> list[str]:
    """Control characters (but newline and tab) in ``text``, and lines that begin with
    ``forged``: what a terminal would obey, or a reader take for netpol's own line."""
    problems = [
        f"control character {ch!r}"
        for ch in sorted(set(text))
        if unicodedata.category(ch) == "Cc" and ch not in ALLOWED_CONTROLS
    ]
    problems += [
        f"forged line {line[:60]!r}" for line in text.splitlines() if line.startswith(forged)
    ]
    return problems


def check(
    verb: str, argv: list[str], exit_code: int, out: str, err: str, seconds: float
) -> list[str]:
    """Everything wrong with one run, as lines naming the verb."""
    failures = []
    if "Traceback (most recent call last)" in out + err:
        failures.append(f"traceback: {(out + err)[-300:]!r}")
    if exit_code not in (0, 1, 2):
        failures.append(f"exit {exit_code}")
    if seconds > HANG_SECONDS:
        failures.append(f"{seconds:.1f} s")
    failures += raw_output_problems(out) + raw_output_problems(err)
    return [f"{verb} ({' '.join(argv[:1])}): {f}" for f in failures]


def run_in_process(argv: list[str]) -> tuple[int, str, str, float, BaseException | None]:
    start = time.perf_counter()
    try:
        with hang_guard(HANG_SECONDS):
            result = CliRunner().invoke(cli, argv)
    except Hang:
        return -1, "", "", time.perf_counter() - start, Hang()
    seconds = time.perf_counter() - start
    error = result.exception if not isinstance(result.exception, SystemExit) else None
    return result.exit_code, result.stdout, result.stderr, seconds, error


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def run_subprocess(argv: list[str]) -> tuple[int, str, str, float]:
    start = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "netpol", *argv],
            capture_output=True,
            timeout=HANG_SECONDS,
            preexec_fn=_cap_memory,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as expired:
        out = (expired.stdout or b"").decode(errors="replace")
        return -1, out, "", time.perf_counter() - start
    seconds = time.perf_counter() - start
    return (
        done.returncode,
        done.stdout.decode(errors="replace"),
        done.stderr.decode(errors="replace"),
        seconds,
    )


INPUTS = all_inputs()


@pytest.mark.parametrize("case", INPUTS, ids=[c.id for c in INPUTS])
def test_every_verb_survives_the_input(tmp_path: Path, case: HostileInput) -> None:
    paths = Paths(case, tmp_path)
    index = INPUTS.index(case)
    # what only a real process can survive (a FIFO, /dev/zero) runs as one, for two verbs
    in_process = case.special is None
    sampled = (
        SUBPROCESS_VERBS[index // SUBPROCESS_EVERY % 2] if index % SUBPROCESS_EVERY == 0 else ""
    )
    failures: list[str] = []
    for verb, make in VERBS.items():
        argv = make(paths)
        if not argv:
            continue
        if in_process:
            exit_code, out, err, seconds, error = run_in_process(argv)
            if isinstance(error, Hang):
                failures.append(f"{verb}: no answer within {HANG_SECONDS} s")
                continue
            if error is not None:
                failures.append(f"{verb}: {type(error).__name__}: {str(error)[:200]}")
            failures += check(verb, argv, exit_code, out, err, seconds)
        if verb == sampled or (not in_process and verb in SUBPROCESS_VERBS):
            exit_code, out, err, seconds = run_subprocess(argv)
            if exit_code == -1:
                failures.append(f"{verb} (subprocess): no answer within {HANG_SECONDS} s")
                break  # the next verb reads the same input the same way
            failures += check(f"{verb} (subprocess)", argv, exit_code, out, err, seconds)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain\ttext\n", []),
        ("x\x1b]0;PWNED\x07", ["control character '\\x07'", "control character '\\x1b'"]),
        (f"a\n{FORGED}\n", [f"forged line {FORGED!r}"]),
        (f"shown as a\\n{FORGED}", []),
        ("\x85 is C1", ["control character '\\x85'"]),
    ],
    ids=["plain", "escape", "forged", "escaped-newline", "c1-control"],
)
def test_the_raw_output_check_itself(text: str, expected: list[str]) -> None:
    assert raw_output_problems(text) == expected


def test_the_suite_covers_every_family_and_enough_inputs() -> None:
    categories = {c.category for c in INPUTS}
    assert categories == {"file", "mutation", "issue14", "random"}
    assert 250 <= len(INPUTS) <= 500
    assert len({c.id for c in INPUTS}) == len(INPUTS)
