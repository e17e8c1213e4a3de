"""The door every printed character goes through: escapes shown, secrets masked, colour
only for a person (a terminal, --color always) and never with NO_COLOR or in a pipe."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from netpol.cli.terminal import SafeStream, program_name, wants_colour

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src"
TUTORIAL = SRC / "netpol" / "examples" / "tutorial"
EXPECTATIONS = TUTORIAL / "expectations.yaml"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_stream_escapes_what_it_is_given_and_keeps_the_layout() -> None:
    screen = Terminal()
    stream = SafeStream(screen)
    stream.write("NAME\tAGE\nx\x1b]0;PWNED\x07\n")
    stream.write("Authorization: Bearer abcdefgh12345678\n")
    stream.write("\ud800\n")
    assert screen.getvalue() == (
        "NAME\tAGE\nx\\e]0;PWNED\\x07\nAuthorization: Bearer ***\n\\ud800\n"
    )
    assert stream.isatty()
    with pytest.raises(TypeError):
        stream.write(b"bytes go to .buffer, as on a real text stream")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("choice", "tty", "environ", "expected"),
    [
        ("auto", True, {}, True),
        ("auto", False, {}, False),
        ("auto", True, {"NO_COLOR": "1"}, False),
        ("auto", True, {"NO_COLOR": ""}, True),  # no-color.org: only a non-empty value counts
        ("auto", True, {"TERM": "dumb"}, False),
        ("always", False, {"NO_COLOR": "1"}, True),
        ("never", True, {}, False),
    ],
)
def test_when_colour_is_on(choice: str, tty: bool, environ: dict[str, str], expected: bool) -> None:
    stream = Terminal() if tty else io.StringIO()
    assert wants_colour(choice, stream, environ) is expected


@pytest.mark.parametrize(
    ("argv0", "name"),
    [
        ("/usr/local/bin/netpol", "netpol"),
        ("/home/u/.krew/bin/kubectl-netpol", "kubectl netpol"),
        ("kubectl-netpol", "kubectl netpol"),
        ("/x/__main__.py", "netpol"),
    ],
)
def test_the_program_calls_itself_as_it_was_called(argv0: str, name: str) -> None:
    assert program_name(argv0) == name


def _run(args: list[str], tty: bool, environ: dict[str, str] | None = None) -> str:
    """stdout of ``netpol ARGS``, on a pseudo-terminal or a pipe."""
    env = {**os.environ, "PYTHONPATH": str(SRC), "TERM": "xterm"}
    env.pop("NO_COLOR", None)  # the caller's own setting must not decide the test
    env.update(environ or {})
    command = [sys.executable, "-m", "netpol", *args]
    if not tty:
        return subprocess.run(command, capture_output=True, text=True, env=env).stdout
    primary, secondary = pty.openpty()
    process = subprocess.Popen(command, stdout=secondary, stderr=subprocess.DEVNULL, env=env)
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=60)
    os.close(primary)
    return b"".join(chunks).decode().replace("\r\n", "\n")


VERIFY = ["verify", str(TUTORIAL), "--expect", str(EXPECTATIONS)]


def test_a_terminal_gets_colour_a_pipe_none() -> None:
    on_terminal = _run(VERIFY, tty=True)
    assert "\x1b[32mPASS\x1b[0m" in on_terminal and "\x1b[1;31mFAIL\x1b[0m" in on_terminal
    assert "\x1b" not in _run(VERIFY, tty=False)


def test_no_color_and_color_never_turn_it_off_and_always_turns_it_on() -> None:
    assert "\x1b" not in _run(VERIFY, tty=True, environ={"NO_COLOR": "1"})
    assert "\x1b" not in _run(["--color", "never", *VERIFY], tty=True)
    assert "\x1b[1;31mFAIL\x1b[0m" in _run(["--color", "always", *VERIFY], tty=False)


def test_data_formats_are_never_painted() -> None:
    """``-o json`` on a terminal with --color always is still JSON."""
    out = _run(["--color", "always", *VERIFY, "-o", "json"], tty=False)
    assert "\x1b" not in out and out.lstrip().startswith("{")
