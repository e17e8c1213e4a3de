"""``netpol`` entry point: the verb group and the one place that turns failures into exit codes."""

from __future__ import annotations

import importlib
import sys

import click

from netpol import __version__
from netpol.cli.terminal import COLOR_CHOICES, program_name, set_colour

# One module per verb (or verb group); each defines ``command``.
VERB_MODULES = (
    "netpol.cli.validate_cmd",
    "netpol.cli.lab_cmd",
    "netpol.cli.demo_cmd",
    "netpol.cli.get_cmd",
    "netpol.cli.explain_cmd",
    "netpol.cli.matrix_cmd",
    "netpol.cli.describe_cmd",
    "netpol.cli.profiles_cmd",
    "netpol.cli.generate_cmd",
    "netpol.cli.graph_cmd",
    "netpol.cli.verify_cmd",
    "netpol.cli.lint_cmd",
    "netpol.cli.diff_cmd",
    "netpol.cli.snapshot_cmd",
    "netpol.cli.doctor_cmd",
    "netpol.cli.probe_cmd",
    "netpol.cli.completion_cmd",
)


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, "--version", prog_name="netpol")
@click.option(
    "--color",
    type=click.Choice(COLOR_CHOICES),
    default="auto",
    show_default=True,
    help="Colour verdicts and severities: auto = on a terminal, unless NO_COLOR is set.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress line on stderr.")
def cli(color: str, quiet: bool) -> None:
    """Kubernetes NetworkPolicy, end to end: validate, explain, matrix, verify, lint, diff,
    generate, graph, and a lab that enforces the same policies on real packets.

    \b
    Examples:
      netpol validate examples/tutorial
      netpol explain examples/three-tier --from app1-ns/frontend-deploy --to backend-svc:5678
      netpol matrix examples/three-tier
      netpol demo
    """
    set_colour(color)


for _name in VERB_MODULES:
    cli.add_command(importlib.import_module(_name).command)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; a broken pipe (``| head``) ends quietly, as Unix tools do."""
    try:
        cli.main(args=argv, prog_name=program_name(), standalone_mode=True)
    except BrokenPipeError:
        sys.stderr.close()
        sys.exit(0)


if __name__ == "__main__":  # pragma: no cover
    main()
