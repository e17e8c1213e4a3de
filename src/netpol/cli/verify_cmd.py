"""``netpol verify``: check an expectations file (allow / deny assertions) against the policies."""

from __future__ import annotations

from typing import Any

import click

from netpol.analysis.expectations import ExpectationsError, read_expectations
from netpol.analysis.scope import verify_in_scope
from netpol.analysis.verify import ERROR, VerifyReport, verify
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
from netpol.render.junit import verify_junit
from netpol.render.verify import verify_json, verify_text

FORMATS = ("table", "json", "yaml", "junit")


@click.command("verify")
@input_options
@click.option(
    "--expect",
    "expect_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="Expectations file (YAML; docs/verify.md, docs/schemas/expectations.schema.json).",
)
@scope_options
@output_option(*FORMATS, default="table")
def command(
    paths: tuple[str, ...], expect_path: str, output: str, verbose: bool, **params: Any
) -> None:
    """Check what must and must not connect. Each expectation prints PASS or FAIL; a FAIL
    shows the actual verdict and the explain evidence (with -v, the pairs behind passing
    ones too). Exit 0 when all pass, 1 otherwise (an expectation that matches no endpoint
    is bad input: exit 2, one line).

    Every expectation is evaluated; -n and -l report those with a source or destination
    pod in scope, each with only its pairs that touch the scope (and only such violations
    of the default). The default, like -A, reports everything.

    \b
    Examples:
      netpol verify examples/three-tier --expect examples/three-tier/expectations.yaml
      netpol verify examples/tutorial --expect examples/tutorial/expectations.yaml -o junit > verify.xml
    """
    options = options_from(params)
    try:
        expectations = read_expectations(expect_path, options.input_limits)
    except ExpectationsError as exc:
        fail(str(exc))
        return
    cluster = load_or_exit(paths, options)
    scope = scope_from(params, cluster)
    progress = progress_for_command()
    # a hundred thousand pairs and their texts, none in a cycle: no collector pass walks
    # them, neither while they are built nor on the way out (frozen)
    with gc_paused(freeze=True):
        report = verify(compile_cluster(cluster, options), expectations, progress)
        unmatched = _unmatched(report)
        if unmatched:
            fail(unmatched)
        report = verify_in_scope(report, scope)
        progress.phase("writing")
        if output in ("json", "yaml"):
            text = verify_json(report)
        elif output == "junit":
            text = verify_junit(report)
        else:
            text = verify_text(report, verbose)
    if output in ("json", "yaml"):
        echo_json_text(text, output)
    else:
        click.echo(text)
    if not report.passed:
        raise SystemExit(EXIT_CHECK_FAILED)


def _unmatched(report: VerifyReport) -> str:
    """The first expectation that names no endpoint, as one line (``""`` when none does).

    Such an expectation proves nothing either way (a typo, a renamed workload, the wrong
    input): it is a bad expectations file, not a failed check.
    """
    errors = [r for r in report.results if r.status == ERROR]
    if not errors:
        default = report.default
        if default is None or default.status != ERROR:
            return ""
        where = f"{report.path}:{default.line}" if default.line else report.path
        return f"{where}: {default.error}"
    first = errors[0].expectation
    more = f" (and {len(errors) - 1} more expectations)" if len(errors) > 1 else ""
    where = f"{report.path}:{first.line}" if first.line else report.path
    return f"{where}: expectations[{first.index}] ({first.name}): {errors[0].error}{more}"
