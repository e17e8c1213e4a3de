"""The progress line: after DELAY seconds of work, on a terminal only, erased at the end
and before anything else is printed."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from netpol.cli.progress import TerminalProgress, counted, per_resource, progress_for_command
from netpol.cli.terminal import SafeStream

SRC = Path(__file__).resolve().parents[2] / "src"
TUTORIAL = SRC / "netpol" / "examples" / "tutorial"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_nothing_is_drawn_before_the_delay_then_each_phase_and_its_count() -> None:
    screen, clock = io.StringIO(), Clock()
    progress = TerminalProgress(screen, delay=2.0, clock=clock)
    progress.phase("reading files", 3)
    progress.advance()
    assert screen.getvalue() == ""  # short work leaves no trace
    clock.now = 2.5
    progress.advance()
    clock.now = 2.55
    progress.advance()  # the last step is drawn even inside the redraw interval
    clock.now = 3.0
    progress.phase("building classes")
    progress.clear()
    progress.clear()  # erasing twice writes once
    assert screen.getvalue() == (
        "\r\x1b[Knetpol: reading files 2/3"
        "\r\x1b[Knetpol: reading files 3/3"
        "\r\x1b[Knetpol: building classes"
        "\r\x1b[K"
    )


def test_redraws_are_throttled() -> None:
    screen, clock = io.StringIO(), Clock()
    progress = TerminalProgress(screen, delay=0.0, clock=clock)
    progress.phase("checking objects", 10_000)
    for _ in range(5_000):
        progress.advance()
    assert screen.getvalue().count("\r\x1b[K") == 1  # the phase; the steps came too fast


def test_other_output_erases_the_line_first() -> None:
    screen, clock = io.StringIO(), Clock()
    progress = TerminalProgress(screen, delay=0.0, clock=clock)
    stream = SafeStream(screen)
    stream.before_write = progress.clear
    progress.phase("computing")
    stream.write("warning: x\n")
    assert screen.getvalue() == "\r\x1b[Knetpol: computing\r\x1b[Kwarning: x\n"


def test_counts_reported_as_totals_and_per_resource() -> None:
    screen, clock = io.StringIO(), Clock()
    progress = TerminalProgress(screen, delay=0.0, clock=clock)
    show = counted(progress, "probing", 4)
    show(4)
    assert progress.text() == "netpol: probing 4/4"
    live = per_resource(progress)
    live("pods", 500, False)
    clock.now = 1.0
    live("pods", 1200, True)
    assert progress.text() == "netpol: reading pods 1,200"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("stderr", "root_quiet", "verb_quiet", "drawn"),
    [
        (Terminal, False, False, True),
        (Terminal, True, False, False),  # netpol -q VERB
        (Terminal, False, True, False),  # a verb's own -q
        (io.StringIO, False, False, False),  # a pipe
    ],
)
def test_a_verb_gets_a_drawn_progress_only_on_a_terminal_without_quiet(
    monkeypatch: pytest.MonkeyPatch,
    stderr: type[io.StringIO],
    root_quiet: bool,
    verb_quiet: bool,
    drawn: bool,
) -> None:
    monkeypatch.setattr(sys, "stderr", stderr())
    root = click.Context(click.Group("netpol"), info_name="netpol")
    root.params = {"quiet": root_quiet}
    verb = click.Context(click.Command("matrix"), parent=root, info_name="matrix")
    verb.params = {"quiet": verb_quiet}
    with root, verb:
        progress = progress_for_command()
        assert isinstance(progress, TerminalProgress) is drawn
        assert progress_for_command() is progress  # one per run


def test_a_short_run_in_a_pipe_prints_nothing_on_stderr() -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    # without the add-on's info line, which is not progress
    command = [sys.executable, "-m", "netpol", "matrix", str(TUTORIAL), "--no-implicit-dns"]
    piped = subprocess.run(command, capture_output=True, text=True, env=env)
    assert piped.returncode == 0 and piped.stderr == ""


THREE_TIER = SRC / "netpol" / "examples" / "three-tier"
# verbs whose work may run long, and a phase each must show (without the add-on's info
# line, which is not progress)
QUIET_DNS = "--no-implicit-dns"
LONG_VERBS = [
    (["lint", str(TUTORIAL), QUIET_DNS], "netpol: linting "),
    (
        ["verify", str(THREE_TIER), "--expect", str(THREE_TIER / "expectations.yaml"), QUIET_DNS],
        "netpol: checking default: deny over ",
    ),
    (
        ["diff", str(TUTORIAL), str(THREE_TIER), "--explain", QUIET_DNS],
        "netpol: explaining the changes",
    ),
    (["graph", str(THREE_TIER), "-o", "html", QUIET_DNS], "netpol: explaining the edges"),
]


def _on_a_terminal(args: list[str]) -> tuple[int, str]:
    """netpol ARGS with stderr on a pseudo-terminal and no delay before the line is drawn."""
    master, replica = os.openpty()
    code = (
        "import sys, netpol.cli.progress as p; p.DELAY = 0.0; "
        "from netpol.cli.entry import run; run(sys.argv[1:])"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    child = subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.DEVNULL, stderr=replica, env=env
    )
    os.close(replica)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    return child.wait(timeout=120), seen.decode()


@pytest.mark.parametrize(("args", "phase"), LONG_VERBS, ids=["lint", "verify", "diff", "graph"])
def test_long_verbs_show_their_phases_on_a_terminal_only(args: list[str], phase: str) -> None:
    code, screen = _on_a_terminal(args)
    assert code in (0, 1), screen
    assert "\r\x1b[K" + phase in screen
    assert "\r\x1b[Knetpol: writing" in screen
    assert screen.endswith("\r\x1b[K")  # erased at the end
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    piped = subprocess.run(
        [sys.executable, "-m", "netpol", *args], capture_output=True, text=True, env=env
    )
    assert piped.returncode == code and piped.stderr == ""


def test_generate_shows_its_phases_on_a_terminal() -> None:
    # not among LONG_VERBS: generate says what it wrote on stderr, in a pipe too
    args = ["generate", str(THREE_TIER), "--flows", str(THREE_TIER / "flows.yaml"), QUIET_DNS]
    code, screen = _on_a_terminal(args)
    assert code == 0, screen
    for phase in ("planning the policies of ", "checking the flows against the matrix of "):
        assert "\r\x1b[Knetpol: " + phase in screen
    assert "\r\x1b[Knetpol: writing" in screen
    assert "checked by the engine" in screen
