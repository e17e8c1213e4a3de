"""API-server-equivalent checks: every problem of a document as a Diagnostic (spec section 5)."""

from __future__ import annotations

from netpol.validate.documents import (
    KINDS,
    Kind,
    known_kind,
    object_kinds,
    validate_document,
    validate_documents,
)

__all__ = [
    "KINDS",
    "Kind",
    "known_kind",
    "object_kinds",
    "validate_document",
    "validate_documents",
]
