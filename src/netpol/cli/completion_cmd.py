"""Shell completion: ``netpol completion bash|zsh|fish`` prints the script (click's own), and
``kubectl_complete-netpol`` answers kubectl, so ``kubectl netpol <TAB>`` completes too."""

from __future__ import annotations

import click
from click.shell_completion import ShellComplete, get_completion_class

SHELLS = ("bash", "zsh", "fish")
PROGRAM = "netpol"
COMPLETE_VAR = "_NETPOL_COMPLETE"  # what click derives from the program name

# cobra's ShellCompDirective values, which kubectl reads from a plugin's completer
DIRECTIVE_DEFAULT = 0  # no candidates of ours: let the shell complete file names
DIRECTIVE_NO_FILE_COMPLETION = 4
DIRECTIVE_FILTER_DIRS = 16


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS))
def command(shell: str) -> None:
    """Print the completion script for SHELL; load it once and TAB completes verbs, options
    and their values.

    kubectl netpol <TAB> needs no script: put kubectl_complete-netpol (installed with
    netpol) on PATH next to kubectl-netpol.

    \b
    Examples:
      eval "$(netpol completion bash)"                  # in ~/.bashrc
      netpol completion zsh > "${fpath[1]}/_netpol"     # then start a new zsh
      netpol completion fish > ~/.config/fish/completions/netpol.fish
    """
    from netpol.cli.main import cli

    completion_class = get_completion_class(shell)
    assert completion_class is not None  # every SHELLS entry is one of click's
    click.echo(completion_class(cli, {}, PROGRAM, COMPLETE_VAR).source())


def kubectl_candidates(words: list[str]) -> list[str]:
    """What kubectl expects from ``kubectl_complete-netpol WORD...`` (the words after
    ``kubectl netpol``, the last one being completed, maybe empty): one candidate per line
    (``value<TAB>help``), then ``:<directive>``, as cobra's ``__complete`` prints."""
    from netpol.cli.main import cli

    args, incomplete = (words[:-1], words[-1]) if words else ([], "")
    items = ShellComplete(cli, {}, PROGRAM, COMPLETE_VAR).get_completions(args, incomplete)
    kinds = {item.type for item in items}
    if "file" in kinds:
        return [f":{DIRECTIVE_DEFAULT}"]
    if "dir" in kinds:
        return [f":{DIRECTIVE_FILTER_DIRS}"]
    lines = [
        f"{item.value}\t{' '.join(item.help.split())}" if item.help else str(item.value)
        for item in items
    ]
    return [*lines, f":{DIRECTIVE_NO_FILE_COMPLETION}"]
