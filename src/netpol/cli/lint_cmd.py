"""``netpol lint``: the catalogue of NetworkPolicy pitfalls, with file:line and a fix hint."""

from __future__ import annotations

from typing import Any

import click

from netpol.analysis.checks import CHECKS
from netpol.analysis.lint import run_checks
from netpol.analysis.scope import lint_in_scope
from netpol.cli.common import (
    EXIT_CHECK_FAILED,
    echo_json_text,
    fail,
    input_options,
    load_or_exit,
    options_from,
    output_option,
    scope_from,
    scope_options,
)
from netpol.cli.progress import progress_for_command
from netpol.engine.compile import compile_cluster
from netpol.load.gcpause import gc_paused
from netpol.render.lint import lint_json, lint_table, lint_text
from netpol.render.sarif import lint_sarif
from netpol.render.table import render_table

FORMATS = ("text", "table", "json", "yaml", "sarif")


def _ids(values: tuple[str, ...]) -> list[str]:
    ids = [v.strip() for value in values for v in value.split(",") if v.strip()]
    known = {c.id for c in CHECKS}
    unknown = [i for i in ids if i not in known]
    if unknown:
        fail(f"unknown check {unknown[0]!r} (see `netpol lint --list`)")
    return ids


@click.command("lint")
@input_options
@click.option(
    "--disable",
    multiple=True,
    metavar="ID[,ID]",
    help="Skip these checks (repeatable). A policy can skip checks for itself with the "
    'annotation lint.netpol.io/disable: "ID,ID".',
)
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning"]),
    default="error",
    show_default=True,
    help="Exit 1 when a finding is at least this severe.",
)
@click.option("--list", "list_checks", is_flag=True, help="List the checks and exit.")
@scope_options
@output_option(*FORMATS, default="text")
def command(
    paths: tuple[str, ...],
    disable: tuple[str, ...],
    fail_on: str,
    list_checks: bool,
    output: str,
    **params: Any,
) -> None:
    """Find the NetworkPolicy pitfalls: AND-vs-OR peers, missing DNS egress, selectors that
    match nothing, ports written against the Service, ignored rules, redundant policies, ...
    Each finding has an id, a severity, the file and line, and a hint (docs/lint.md).

    The checks always read the whole input; -n reports the findings about objects of
    that namespace, -l those about objects that concern a matching pod (the pods a policy
    selects, a namespace's or Service's pods). The default, like -A, reports everything.

    \b
    Examples:
      netpol lint examples/tutorial
      netpol lint examples/three-tier --fail-on warning
      netpol lint examples/tutorial -n app1-ns -l role=frontend
      netpol lint manifests/ -o sarif > netpol.sarif
      netpol lint manifests/ --disable namespace-without-default-deny,egress-deny-all
    """
    if list_checks:
        rows = [(c.id, c.severity.value, c.title) for c in CHECKS]
        click.echo(render_table(("id", "severity", "title"), rows))
        return
    disabled = _ids(disable)
    options = options_from(params)
    cluster = load_or_exit(paths, options)
    scope = scope_from(params, cluster)
    cc = compile_cluster(cluster, options)
    progress = progress_for_command()
    # the checks' classes, sets and findings hold no cycles: no collector pass walks them,
    # neither while they are built (at 100k pods, millions of objects) nor on the way out
    with gc_paused(freeze=True):
        report = lint_in_scope(cc, run_checks(cc, CHECKS, disabled, progress), scope)
        progress.phase("writing")
        if output in ("json", "yaml"):
            text = lint_json(report)
        elif output == "sarif":
            text = lint_sarif(report, CHECKS)
        elif output == "table":
            text = lint_table(report)
        else:
            text = lint_text(report)
    if output in ("json", "yaml"):
        echo_json_text(text, output)
    else:
        click.echo(text)
    if report.fails(fail_on):
        raise SystemExit(EXIT_CHECK_FAILED)
