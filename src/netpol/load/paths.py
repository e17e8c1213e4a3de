"""Read files, directories (recursively) and ``-`` (stdin) into raw documents."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import BinaryIO

from netpol.load.gcpause import gc_paused
from netpol.load.yamldoc import RawDocument, decode, parse_text
from netpol.model.diagnostics import Diagnostic, Severity
from netpol.model.progress import SILENT, Progress

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


def read_paths(
    paths: Iterable[str], stdin: BinaryIO | None = None, progress: Progress = SILENT
) -> tuple[list[RawDocument], list[Diagnostic]]:
    """Every document of every path, in a stable order (files sorted within directories)."""
    with gc_paused():
        return _read_all(paths, stdin, progress)


def _read_all(
    paths: Iterable[str], stdin: BinaryIO | None, progress: Progress
) -> tuple[list[RawDocument], list[Diagnostic]]:
    docs: list[RawDocument] = []
    diags: list[Diagnostic] = []
    progress.phase("reading files")
    for path in paths:
        if path == "-":
            data = (stdin or sys.stdin.buffer).read()
            _read_bytes(data, "-", docs, diags)
            continue
        if os.path.isdir(path):
            files = _manifest_files(path)
            if not files:
                diags.append(_error(path, "directory contains no .yaml, .yml or .json file"))
            progress.phase("reading files", len(files))
            for file in files:
                _read_file(file, docs, diags)
                progress.advance()
            continue
        if not os.path.exists(path):
            diags.append(_error(path, _missing(path)))
            continue
        _read_file(path, docs, diags)
    return docs, diags


def _manifest_files(directory: str) -> list[str]:
    found = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [os.path.join(root, f) for f in sorted(files) if f.endswith(MANIFEST_SUFFIXES)]
    return found


def read_text(path: str) -> str | Diagnostic:
    """One file as text (UTF-8, or UTF-16/32 with a BOM), or the Diagnostic saying why not.

    Also what the expectations and flows files are read with, so every input fails alike.
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        problem = _missing(path) if not os.path.exists(path) else exc.strerror or str(exc)
        return _error(path, f"cannot read: {problem}")
    return _decoded(data, path)


def _decoded(data: bytes, path: str) -> str | Diagnostic:
    text, problem = decode(data, path)
    if text is None:
        return problem or _error(path, "unreadable")
    return text


def _read_file(path: str, docs: list[RawDocument], diags: list[Diagnostic]) -> None:
    _read_text(read_text(path), path, docs, diags)


def _read_bytes(data: bytes, path: str, docs: list[RawDocument], diags: list[Diagnostic]) -> None:
    _read_text(_decoded(data, path), path, docs, diags)


def _read_text(
    text: str | Diagnostic, path: str, docs: list[RawDocument], diags: list[Diagnostic]
) -> None:
    if isinstance(text, Diagnostic):
        diags.append(text)
        return
    found, problems = parse_text(text, path)
    docs += found
    diags += problems


def _missing(path: str) -> str:
    if os.path.islink(path):
        return f"broken symbolic link (to {os.readlink(path)})"
    return "no such file or directory"


def _error(path: str, message: str) -> Diagnostic:
    return Diagnostic(Severity.ERROR, message, path=path, reason="ReadError")
