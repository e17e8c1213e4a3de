"""Helpers: YAML text in, what the user sees out (reason, field, message, value, line)."""

from __future__ import annotations

import textwrap

from netpol.load.yamldoc import parse_text
from netpol.model.diagnostics import Diagnostic, Severity
from netpol.validate import validate_document

# A NetworkPolicy whose spec body starts on line 7.
POLICY_HEAD = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: p
  namespace: ns
spec:
"""
SPEC_LINE = 7

Found = tuple[str, str, str, object, int]


def diagnostics(text: str, path: str = "t.yaml") -> list[Diagnostic]:
    """Every diagnostic of every document of ``text`` (which must parse)."""
    docs, problems = parse_text(textwrap.dedent(text), path)
    assert problems == [], [p.one_line() for p in problems]
    return [d for doc in docs for d in validate_document(doc)]


def found(diags: list[Diagnostic], severity: Severity = Severity.ERROR) -> list[Found]:
    return [
        (d.reason, d.field, d.message, d.value, d.line) for d in diags if d.severity is severity
    ]


def errors(text: str) -> list[Found]:
    return found(diagnostics(text))


def warnings(text: str) -> list[Found]:
    return found(diagnostics(text), Severity.WARNING)


def policy(spec: str) -> str:
    """A NetworkPolicy document with ``spec`` (dedented) as its spec body, from line 7."""
    return POLICY_HEAD + textwrap.indent(textwrap.dedent(spec).strip("\n") + "\n", "  ")


def policy_errors(spec: str) -> list[Found]:
    return errors(policy(spec))


def policy_warnings(spec: str) -> list[Found]:
    return warnings(policy(spec))
