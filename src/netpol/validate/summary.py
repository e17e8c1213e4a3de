"""What a validation run found, counted: objects by kind, files, errors and warnings."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from netpol.load.yamldoc import RawDocument
from netpol.model.diagnostics import Diagnostic, Severity
from netpol.validate.collisions import validate_collisions
from netpol.validate.documents import KINDS, object_kinds, validate_document

READ_REASONS = ("ReadError", "ParseError")


@dataclass(frozen=True)
class ValidationResult:
    """Every problem of the input, and the counts the summary line reports."""

    diagnostics: tuple[Diagnostic, ...]
    objects: int
    files: int
    kinds: Counter[str] = field(default_factory=Counter)  # checked kinds, first seen first
    unchecked: Counter[str] = field(default_factory=Counter)  # kinds netpol does not read

    @property
    def errors(self) -> int:
        return sum(d.severity is Severity.ERROR for d in self.diagnostics)

    @property
    def warnings(self) -> int:
        return sum(d.severity is Severity.WARNING for d in self.diagnostics)

    @property
    def unreadable(self) -> bool:
        """A file could not be read or parsed (bad input, not an invalid object)."""
        return any(d.reason in READ_REASONS for d in self.diagnostics)

    @property
    def invalid_objects(self) -> int:
        return len(
            {
                (d.path, d.obj)
                for d in self.diagnostics
                if d.severity is Severity.ERROR and d.reason not in READ_REASONS
            }
        )

    @property
    def valid(self) -> bool:
        return self.errors == 0


def validate_all(
    docs: Sequence[RawDocument], read_problems: Sequence[Diagnostic]
) -> ValidationResult:
    """Validate every document; read problems come first, then each document's in order."""
    diagnostics = list(read_problems)
    kinds: Counter[str] = Counter()
    unchecked: Counter[str] = Counter()
    objects = 0
    clean: list[RawDocument] = []
    for doc in docs:
        problems = validate_document(doc)
        diagnostics += problems
        if not any(p.severity is Severity.ERROR for p in problems):
            clean.append(doc)
        for found in object_kinds(doc):
            objects += 1
            if found.checked:
                kinds[found.kind] += 1
            elif found.kind in KINDS:  # another group's kind of the same name
                unchecked[f"{found.kind} ({found.api_version})"] += 1
            elif found.kind:  # an object without a kind is an error, reported as such
                unchecked[found.kind] += 1
    diagnostics += [diagnostic for _, diagnostic in validate_collisions(clean)]
    files = {doc.path for doc in docs} | {d.path for d in read_problems if d.path}
    return ValidationResult(tuple(diagnostics), objects, len(files), kinds, unchecked)


def plural(count: int, noun: str) -> str:
    """``1 Service``, ``3 NetworkPolicies``, ``2 Ingresses``, ``2 Endpoints``, ``2 Services (x.io/v1)``."""
    noun, paren, rest = noun.partition(" (")
    suffix = paren + rest
    if count == 1:
        return f"{count} {noun}{suffix}"
    if noun.endswith("y") and noun[-2:-1] not in ("a", "e", "o", "u"):
        return f"{count} {noun[:-1]}ies{suffix}"
    if noun.endswith(("ss", "x", "ch", "sh")):
        return f"{count} {noun}es{suffix}"
    if noun.endswith("s"):  # already plural: Endpoints, netpol's own Expectations and Flows
        return f"{count} {noun}{suffix}"
    return f"{count} {noun}s{suffix}"
