"""Read files, directories (recursively) and ``-`` (stdin) into raw documents.

Only regular files are read, and only so much of them (``InputLimits``): a device, a FIFO
or a socket named ``x.yaml`` is refused without being read (a FIFO is opened non-blocking,
so it cannot stall the run), a symbolic link in a directory is followed only to a file
inside that directory unless asked, and what is read is what was checked (the descriptor
is checked with fstat after it is opened, never the name before).
"""

from __future__ import annotations

import errno
import os
import re
import stat
import sys
from collections.abc import Iterable
from typing import BinaryIO

from netpol.load.gcpause import gc_paused
from netpol.load.yamldoc import RawDocument, decode, parse_text
from netpol.model.diagnostics import Diagnostic, Severity
from netpol.model.options import InputLimits
from netpol.model.progress import SILENT, Progress

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
DEFAULT_LIMITS = InputLimits()
_OPEN_FLAGS = (
    os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)
)
_CHUNK = 1 << 20


class _Budget:
    """The bytes one command may still read (``InputLimits.max_bytes`` for all its input)."""

    def __init__(self, limits: InputLimits) -> None:
        self.limits = limits
        self.left = limits.max_bytes


def read_paths(
    paths: Iterable[str],
    stdin: BinaryIO | None = None,
    limits: InputLimits = DEFAULT_LIMITS,
    progress: Progress = SILENT,
) -> tuple[list[RawDocument], list[Diagnostic]]:
    """Every document of every path, in a stable order (files sorted within directories)."""
    with gc_paused():
        return _read_all(paths, stdin, _Budget(limits), progress)


def _read_all(
    paths: Iterable[str], stdin: BinaryIO | None, budget: _Budget, progress: Progress
) -> tuple[list[RawDocument], list[Diagnostic]]:
    docs: list[RawDocument] = []
    diags: list[Diagnostic] = []
    progress.phase("reading files")
    for path in paths:
        if path == "-":
            _read_text(read_stream(stdin or sys.stdin.buffer, "-", budget), "-", docs, diags)
            continue
        if os.path.isdir(path):
            files = _manifest_files(path)
            if not files:
                diags.append(_error(path, "directory contains no .yaml, .yml or .json file"))
            progress.phase("reading files", len(files))
            for file in files:
                _read_text(_bounded_text(file, budget, inside=path), file, docs, diags)
                progress.advance()
            continue
        if not os.path.exists(path):
            diags.append(_error(path, _missing(path)))
            continue
        _read_text(_bounded_text(path, budget, inside=None), path, docs, diags)
    return docs, diags


def _manifest_files(directory: str) -> list[str]:
    found = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [os.path.join(root, f) for f in sorted(files) if f.endswith(MANIFEST_SUFFIXES)]
    return found


def read_text(path: str, limits: InputLimits = DEFAULT_LIMITS) -> str | Diagnostic:
    """One file as text (UTF-8, or UTF-16/32 with a BOM), or the Diagnostic saying why not.

    Also what the expectations, flows and matrix files are read with, so every input fails
    alike: a regular file of at most ``limits.max_bytes``, else a one-line Diagnostic.
    """
    return _bounded_text(path, _Budget(limits), inside=None)


def read_input(path: str, limits: InputLimits = DEFAULT_LIMITS) -> str | Diagnostic:
    """``read_text``, or stdin (bounded alike) when ``path`` is ``-``."""
    if path == "-":
        return read_stream(sys.stdin.buffer, "-", _Budget(limits))
    return read_text(path, limits)


def check_regular(path: str, limits: InputLimits = DEFAULT_LIMITS) -> Diagnostic | None:
    """Why ``path`` may not be read (not a regular file, too large), or None: for a file a
    library opens itself (a kubeconfig), checked the same way first."""
    found = read_bytes(path, limits)
    return found if isinstance(found, Diagnostic) else None


def read_bytes(path: str, limits: InputLimits = DEFAULT_LIMITS) -> bytes | Diagnostic:
    """The bytes of the regular file ``path`` (at most ``limits.max_bytes``), or why not."""
    return _bounded_bytes(path, _Budget(limits), inside=None)


def read_stream(stream: BinaryIO, name: str, budget: _Budget | None = None) -> str | Diagnostic:
    """A stream (stdin) as text, reading at most the budget and one byte more."""
    budget = budget or _Budget(DEFAULT_LIMITS)
    data = stream.read(budget.left + 1)
    if len(data) > budget.left:
        return _too_large(name, budget)
    budget.left -= len(data)
    return _decoded(data, name)


def _bounded_text(path: str, budget: _Budget, inside: str | None) -> str | Diagnostic:
    data = _bounded_bytes(path, budget, inside)
    return data if isinstance(data, Diagnostic) else _decoded(data, path)


def _bounded_bytes(path: str, budget: _Budget, inside: str | None) -> bytes | Diagnostic:
    """The file's bytes if it is a regular file within the budget; ``inside``: the input
    directory a symbolic link must stay in (None: the user named this file)."""
    opened = _open_regular(path, budget.limits, inside)
    if isinstance(opened, Diagnostic):
        return opened
    fd, size = opened
    try:
        if size > budget.left:
            return _too_large(path, budget)
        chunks: list[bytes] = []
        total = 0
        while total <= budget.left:  # the size may have grown, or lie (/proc): read bounded
            chunk = os.read(fd, min(_CHUNK, budget.left + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        return _error(path, f"cannot read: {exc.strerror or exc}")
    finally:
        os.close(fd)
    if total > budget.left:
        return _too_large(path, budget)
    budget.left -= total
    return b"".join(chunks)


def _open_regular(
    path: str, limits: InputLimits, inside: str | None
) -> tuple[int, int] | Diagnostic:
    """An open descriptor on ``path`` and its size, if it is a regular file; else why not."""
    target = path
    try:
        if stat.S_ISLNK(os.lstat(path).st_mode):
            target = os.path.realpath(path)
            leaves = inside is not None and not _within(target, inside)
            if leaves and not limits.follow_symlinks and os.path.exists(target):
                return _error(
                    path,
                    f"symbolic link to {target}, outside the input directory {inside}: not "
                    "followed (pass --follow-symlinks to read it)",
                )
        fd = os.open(target, _OPEN_FLAGS)
    except OSError as exc:
        return _error(path, f"cannot read: {_open_problem(path, exc)}")
    try:
        info = os.fstat(fd)
    except OSError as exc:
        os.close(fd)
        return _error(path, f"cannot read: {exc.strerror or exc}")
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        return _error(path, f"{_file_type(info.st_mode)}, not a regular file: not read")
    return fd, info.st_size


def _within(target: str, directory: str) -> bool:
    root = os.path.realpath(directory)
    return os.path.commonpath([root, target]) == root


def _open_problem(path: str, exc: OSError) -> str:
    if exc.errno == errno.ENOENT:
        return _missing(path)
    if exc.errno == errno.ELOOP:
        return "a symbolic link appeared while it was read"
    if exc.errno == errno.ENXIO:
        return "a socket, not a regular file"
    return exc.strerror or str(exc)


def _file_type(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "a special file"


def _too_large(path: str, budget: _Budget) -> Diagnostic:
    cap = format_size(budget.limits.max_bytes)
    if budget.left < budget.limits.max_bytes:
        return _error(path, f"the input exceeds {cap} in total (--max-input-size {cap}): not read")
    return _error(path, f"larger than {cap} (--max-input-size {cap}): not read")


_SIZE = re.compile(r"(\d+)\s*([kmgt]?)(i?b?)", re.IGNORECASE)


def parse_size(text: str) -> int | None:
    """``268435456``, ``256M``, ``256MiB``, ``1G`` -> bytes (binary units); None if not a size."""
    found = _SIZE.fullmatch(text.strip())
    if found is None:
        return None
    power = "kmgt".find(found.group(2).lower()) + 1 if found.group(2) else 0
    return int(found.group(1)) * 1024**power


def format_size(count: int) -> str:
    """Bytes as the largest binary unit that divides them (``256MiB``), else bytes."""
    for power, unit in ((3, "GiB"), (2, "MiB"), (1, "KiB")):
        if count and count % 1024**power == 0:
            return f"{count // 1024**power}{unit}"
    return f"{count} bytes"


def _decoded(data: bytes, path: str) -> str | Diagnostic:
    text, problem = decode(data, path)
    if text is None:
        return problem or _error(path, "unreadable")
    return text


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
