"""``netpol examples``: the example manifests that ship in the package: list, locate, copy.

Every ``--help`` example names ``examples/NAME``; after a ``pip install`` those folders exist
only inside the installed package, so ``--copy examples`` puts them where the examples look.
"""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import click

from netpol.cli.common import fail
from netpol.load.bundled import DESCRIPTIONS, example_files, example_names, examples_root


@click.command("examples")
@click.argument("name", required=False)
@click.option("--path", "show_path", is_flag=True, help="Print the folder of NAME (or of all).")
@click.option(
    "--copy",
    "copy_to",
    metavar="DIR",
    type=click.Path(),
    help="Copy NAME (or every example) into DIR/NAME; refuses to overwrite a file.",
)
def command(name: str | None, show_path: bool, copy_to: str | None) -> None:
    """List the example manifests that ship with netpol, print where one lives, or copy
    them into a folder so every --help example runs there.

    The --help examples of every verb name examples/NAME: copy the examples into a folder
    called examples, and run them from the folder that holds it.

    Exit status: 0 done, 2 unknown NAME, a file in the way, or --path with --copy.

    \b
    Examples:
      netpol examples
      netpol examples tutorial --path
      netpol examples --copy examples
      netpol examples three-tier --copy my-examples
    """
    if show_path and copy_to is not None:
        fail("give --path or --copy, not both")
    names = [_known(name)] if name is not None else example_names()
    if show_path:
        click.echo(examples_root() / name if name is not None else examples_root())
    elif copy_to is not None:
        _copy(names, Path(copy_to))
    else:
        width = max(map(len, names))
        for each in names:
            click.echo(f"{each:<{width}}  {DESCRIPTIONS.get(each, '')}".rstrip())


def _known(name: str) -> str:
    """``name`` if an example has it; else exit 2 with the nearest names."""
    names = example_names()
    if name in names:
        return name
    near = difflib.get_close_matches(name, names, n=2, cutoff=0.6)
    hint = f" (did you mean {' or '.join(near)}?)" if near else ""
    fail(f"no example {name!r}{hint}; the examples are {', '.join(names)}")


def _copy(names: list[str], target: Path) -> None:
    """Copy every file of ``names`` under ``target``, or nothing if any file is in the way."""
    plan = [
        (examples_root() / each / relative, target / each / relative)
        for each in names
        for relative in example_files(each)
    ]
    if target.exists() and not target.is_dir():
        fail(f"--copy {target}: not a folder")
    in_the_way = [dest for _, dest in plan if dest.exists() or dest.is_symlink()]
    if in_the_way:
        more = f" and {len(in_the_way) - 1} more" if len(in_the_way) > 1 else ""
        fail(f"{in_the_way[0]} exists{more}; nothing copied (remove it or choose another DIR)")
    try:
        for source, dest in plan:
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dest)
    except OSError as exc:
        fail(f"cannot copy into {target}: {exc.strerror or exc}")
    click.echo(f"copied {', '.join(names)} ({len(plan)} files) into {target}")
    if target.name == "examples":
        click.echo(f"the --help examples run from {target.parent.resolve()}")
