"""``netpol validate``: API-server-equivalent validation of every object, all problems at once."""

from __future__ import annotations

import sys

import click

from netpol.cli.common import (
    EXIT_CHECK_FAILED,
    EXIT_OK,
    echo_document,
    fail,
    limits_from,
    output_option,
    read_options,
    require_paths,
)
from netpol.load.paths import read_paths
from netpol.validate.summary import READ_REASONS, ValidationResult, plural, validate_all


@click.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(allow_dash=True))
@output_option("text", "json", "yaml", default="text")
@read_options
def command(paths: tuple[str, ...], output: str, **limits: object) -> None:
    """Check every object in PATH... as the API server would on create, and report every
    problem at once: file:line, object, field path, message and offending value.

    PATH is a file, a directory (read recursively) or - for stdin. NetworkPolicies get
    every rule of the API server; Namespaces, Pods, workloads and Services the rules that
    matter to netpol; other kinds are counted and not checked.

    Exit status: 0 all valid (warnings allowed), 1 some object is invalid, 2 a file could
    not be read or parsed, or no PATH was given.

    \b
    Examples:
      netpol validate examples/tutorial
      netpol validate policy.yaml -o json
      helm template ./chart | netpol validate -
    """
    require_paths(paths)
    docs, read_problems = read_paths(paths, limits=limits_from(limits))
    result = validate_all(docs, read_problems)
    if output in ("json", "yaml"):
        echo_document(_report(result), output)
    else:
        for diagnostic in result.diagnostics:
            click.echo(diagnostic.text())
        click.echo(_summary(paths, result))
    if result.unreadable:
        unread = len({d.path for d in result.diagnostics if d.reason in READ_REASONS})
        fail(f"{plural(unread, 'file')} could not be read or parsed")
    sys.exit(EXIT_OK if result.valid else EXIT_CHECK_FAILED)


def _report(result: ValidationResult) -> dict[str, object]:
    return {
        "kind": "ValidationReport",
        "valid": result.valid,
        "objects": result.objects,
        "files": result.files,
        "kinds": dict(result.kinds),
        "unchecked": dict(result.unchecked),
        "errors": result.errors,
        "warnings": result.warnings,
        "diagnostics": [d.to_json() for d in result.diagnostics],
    }


def _summary(paths: tuple[str, ...], result: ValidationResult) -> str:
    """``examples/tutorial: 13 objects in 8 files (2 Namespaces, ...), all valid``."""
    where = ", ".join("stdin" if p == "-" else p for p in paths)
    counts = [plural(n, kind) for kind, n in result.kinds.items()]
    counts += [f"{plural(n, kind)} not checked" for kind, n in result.unchecked.items()]
    detail = f" ({', '.join(counts)})" if counts else ""
    text = f"{where}: {plural(result.objects, 'object')} in {plural(result.files, 'file')}{detail}"
    warnings = f", {plural(result.warnings, 'warning')}" if result.warnings else ""
    if result.valid:
        return f"{text}, all valid{warnings}"
    invalid = result.invalid_objects
    where_errors = f" in {plural(invalid, 'object')}" if invalid else ""
    return f"{text}: {plural(result.errors, 'error')}{where_errors}{warnings}"
