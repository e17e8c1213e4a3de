"""docs/cilium.md stays true: every ``$ netpol ...`` console example in it, run from the
repository root, prints what the page shows (a block that ends in ``...`` shows the
start of the output) and exits 0, unless ``$ echo $?`` after it shows another code."""

from __future__ import annotations

import re
import shlex

import pytest
from click.testing import CliRunner
from tests.conftest import REPO

from netpol.cli.main import cli

GUIDE = REPO / "docs" / "cilium.md"
CONSOLE = re.compile(r"```console\n(.*?)```", re.S)


def examples() -> list[tuple[str, str, int]]:
    """(command line, output shown, exit code) for every command."""
    found: list[tuple[str, str, int]] = []
    for block in CONSOLE.findall(GUIDE.read_text()):
        lines = block.splitlines()
        starts = [i for i, line in enumerate(lines) if line.startswith("$ ")]
        for n, start in enumerate(starts):
            end = starts[n + 1] if n + 1 < len(starts) else len(lines)
            command = lines[start][2:]
            if command == "echo $?":
                continue
            code = 0
            if end < len(lines) and lines[end] == "$ echo $?":
                code = int(lines[end + 1])
            found.append((command, "\n".join(lines[start + 1 : end]), code))
    return found


EXAMPLES = examples()


def test_the_guide_has_its_examples() -> None:
    verbs = {shlex.split(command)[1] for command, _, _ in EXAMPLES}
    assert verbs == {"matrix", "diff", "explain", "verify"}


@pytest.mark.parametrize(("command", "shown", "code"), EXAMPLES, ids=[c for c, _, _ in EXAMPLES])
def test_every_console_example_prints_what_the_guide_shows(
    command: str, shown: str, code: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    argv = shlex.split(command)
    assert argv[0] == "netpol"
    result = CliRunner().invoke(cli, argv[1:], catch_exceptions=False)
    printed = result.output.rstrip("\n")
    if shown.endswith("\n..."):
        assert printed.startswith(shown.removesuffix("\n..."))
    else:
        assert printed == shown
    assert result.exit_code == code
