"""Read, validate and build: the one way every verb gets a Cluster from paths."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import BinaryIO

from netpol.load.build import build_cluster
from netpol.load.gcpause import gc_paused
from netpol.load.paths import read_paths
from netpol.load.yamldoc import RawDocument
from netpol.model.cluster import Cluster
from netpol.model.diagnostics import Diagnostic, Severity
from netpol.model.options import Options
from netpol.model.progress import SILENT, Progress
from netpol.validate.collisions import validate_collisions
from netpol.validate.documents import validate_document


@dataclass(frozen=True)
class LoadResult:
    """The cluster built from the valid documents, and every problem found on the way.

    ``ok`` is False when a file could not be read or parsed, or when an object is invalid
    and the caller did not ask to skip invalid objects.
    """

    cluster: Cluster
    diagnostics: tuple[Diagnostic, ...]
    ok: bool

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity is not Severity.ERROR)


def load_cluster(
    paths: Sequence[str],
    options: Options,
    stdin: BinaryIO | None = None,
    progress: Progress = SILENT,
) -> LoadResult:
    """Every object of ``paths`` checked as the API server would, then built into a Cluster."""
    docs, read_problems = read_paths(paths, stdin, options.input_limits, progress)
    return check_and_build(docs, read_problems, options, progress)


def check_and_build(
    docs: list[RawDocument],
    read_problems: list[Diagnostic],
    options: Options,
    progress: Progress = SILENT,
) -> LoadResult:
    """Validate ``docs``; build from the valid ones (all problems are reported at once)."""
    diagnostics = list(read_problems)
    valid: list[RawDocument] = []
    invalid = 0
    progress.phase("checking objects", len(docs))
    with gc_paused():  # validation builds no cycles; a collection would walk every document
        for doc in docs:
            progress.advance()
            problems = validate_document(doc)
            diagnostics += problems
            if any(p.severity is Severity.ERROR for p in problems):
                invalid += 1
            else:
                valid.append(doc)
    # What two objects claim (a pod IP, a NodePort, a cluster IP): the later one is invalid
    collisions = validate_collisions(valid, options.default_namespace)
    diagnostics += [diagnostic for _, diagnostic in collisions]
    colliding = {id(doc) for doc, _ in collisions}
    invalid += len(colliding)
    valid = [doc for doc in valid if id(doc) not in colliding]
    if invalid and options.skip_invalid:
        diagnostics = [
            replace(d, severity=Severity.WARNING, message=f"{d.message} (object skipped)")
            if d.severity is Severity.ERROR and d.reason != "ReadError" and d.reason != "ParseError"
            else d
            for d in diagnostics
        ]
    progress.phase("building the cluster")
    cluster = build_cluster(valid, options)
    diagnostics += cluster.diagnostics
    ok = not any(d.severity is Severity.ERROR for d in diagnostics)
    return LoadResult(replace(cluster, diagnostics=tuple(diagnostics)), tuple(diagnostics), ok)
