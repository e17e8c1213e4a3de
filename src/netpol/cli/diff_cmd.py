"""``netpol diff``: the connections two policy sets allow differently."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import Any

import click

from netpol.analysis.diff import DiffReport, diff
from netpol.analysis.revisions import RevisionError, check_revision, load_revision, split_range
from netpol.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_CHECK_FAILED,
    echo_diagnostics,
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
from netpol.engine.views import GRANULARITIES
from netpol.load.gcpause import gc_paused
from netpol.model.cluster import Cluster
from netpol.model.options import PROFILES, Options
from netpol.render.diff import (
    diff_csv_pieces,
    diff_json,
    diff_json_pieces,
    diff_markdown_pieces,
    diff_text_pieces,
)

FORMATS = ("table", "json", "yaml", "md", "csv")
# changed pod pairs past which a table (or Markdown table) is not read but scrolled: about
# 20 MB of text; the pod pairs then show by workload, and -o csv/json still list each one
TABLE_ROW_LIMIT = 100_000


def _load_git(
    revision: str | None, paths: tuple[str, ...], options: Options, label: str
) -> Cluster:
    try:
        result = load_revision(revision, paths, options)
    except RevisionError as exc:
        fail(str(exc))
    echo_diagnostics(result)
    if not result.ok:
        click.echo(f"error: the {label} side has invalid input; nothing compared", err=True)
        sys.exit(EXIT_BAD_INPUT)
    return result.cluster


def _both_sides(old: Cluster, new: Cluster) -> Cluster:
    """The namespaces and pods of either side: what ``-n`` may name."""
    return Cluster(namespaces=old.namespaces + new.namespaces, pods=old.pods + new.pods)


@click.command("diff")
@input_options
@click.option("--old", "old_paths", multiple=True, help="A path of the old side only (repeatable).")
@click.option("--new", "new_paths", multiple=True, help="A path of the new side only (repeatable).")
@click.option(
    "--git",
    "git_range",
    metavar="REV1..REV2",
    help="Compare PATHs at two git revisions (REV1.. compares with the working tree).",
)
@click.option(
    "--by", "granularity", type=click.Choice(GRANULARITIES), default="pod", show_default=True
)
@click.option(
    "--include-external",
    is_flag=True,
    help="Also compare flows to and from external IP blocks (cut by both sides' ipBlocks).",
)
@click.option(
    "--explain", "evidence", is_flag=True, help="Show the explain evidence of each change."
)
@click.option("--exit-code", is_flag=True, help="Exit 1 when anything changed.")
@scope_options
@output_option(*FORMATS, default="table")
def command(
    paths: tuple[str, ...],
    old_paths: tuple[str, ...],
    new_paths: tuple[str, ...],
    git_range: str | None,
    granularity: str,
    include_external: bool,
    evidence: bool,
    exit_code: bool,
    output: str,
    **params: Any,
) -> None:
    """Show the connections added, removed and changed between two policy sets, per pair,
    with both connection sets.

    -n and -l compare only the pods they admit, on both sides, as sources and
    destinations (the namespace must exist on one side). The default, like -A, is every
    namespace.

    \b
    Three ways to name the sides:
      netpol diff OLD_PATH NEW_PATH
      netpol diff SHARED... [--old PATH]... [--new PATH]...   (shared paths are on both sides)
      netpol diff --git REV1..REV2 PATH...                     (git show, no checkout)

    \b
    Examples:
      netpol diff examples/tutorial examples/three-tier --by workload
      netpol diff examples/tutorial/0[0-5]*.yaml --new examples/tutorial/06-frontend-netpol.yaml
      netpol diff --git main..HEAD deploy/ -o md --exit-code
    """
    options = options_from(params)
    if git_range is not None:
        if old_paths or new_paths:
            fail("--git compares the same PATHs at two revisions; --old/--new do not apply")
        if not paths:
            fail("--git needs the PATHs to compare, e.g. netpol diff --git main..HEAD deploy/")
        try:
            old_rev, new_rev = split_range(git_range)
            for revision in (old_rev, new_rev):
                if revision is not None:
                    check_revision(revision)  # both, before either side is loaded
        except RevisionError as exc:
            fail(str(exc))
        old = _load_git(old_rev, paths, options, "old")
        new = _load_git(new_rev, paths, options, "new")
        old_label, new_label = old_rev, new_rev or "working tree"
    elif old_paths or new_paths:
        old = load_or_exit(paths + old_paths, options)
        new = load_or_exit(paths + new_paths, options)
        old_label, new_label = "old", "new"
    else:
        if len(paths) != 2:
            fail(
                "give two paths (OLD NEW), or shared paths with --old/--new, or --git REV1..REV2 PATH"
            )
        old = load_or_exit(paths[:1], options)
        new = load_or_exit(paths[1:], options)
        old_label, new_label = paths[0], paths[1]
    scope = scope_from(params, _both_sides(old, new))
    if (old.cilium_policies or new.cilium_policies) and not options.profile.cilium_identity:
        # both sides under Cilium, or adding a CNP would also read every NetworkPolicy anew
        options = replace(options, profile=PROFILES["cilium"])
    progress = progress_for_command()
    human = output in ("table", "md") and not evidence
    # the classes, matrices and views hold no cycles: no collector pass walks them, neither
    # while they are built (at 100k pods a pass walks millions of objects) nor on the way out
    with gc_paused(freeze=True):
        report = diff(
            compile_cluster(old, options),
            compile_cluster(new, options),
            granularity,
            include_external,
            evidence,
            old_label,
            new_label,
            None if scope.everything else scope.admits,
            progress,
            coarser_past=TABLE_ROW_LIMIT if human else None,
        )
    if report.pod_pairs_differing:
        click.echo(
            f"note: {report.pod_pairs_differing:,} pod pairs differ, too many to read as a "
            f"{'table' if output == 'table' else 'Markdown table'}; showing the "
            f"{len(report.listing):,} workload pairs they belong to instead (try --by "
            "namespace, or -o csv / -o json for every pod pair)",
            err=True,
        )
    progress.phase(f"writing {len(report.listing):,} {report.granularity} pairs")
    if output == "yaml":
        echo_json_text(diff_json(report), output)
    else:
        write_pieces(PIECES[output](report))
    if exit_code and report.changed:
        raise SystemExit(EXIT_CHECK_FAILED)


PIECES: dict[str, Callable[[DiffReport], Iterator[str]]] = {
    "json": diff_json_pieces,
    "md": diff_markdown_pieces,
    "csv": diff_csv_pieces,
    "table": diff_text_pieces,
}


def write_pieces(pieces: Iterable[str]) -> None:
    """The output piece by piece, then a newline (as click.echo of the whole text would):
    a diff of millions of pairs is written as it is made, never held whole."""
    out = sys.stdout
    for piece in pieces:
        out.write(piece)
    out.write("\n")
    out.flush()
