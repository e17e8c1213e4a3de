"""Manifests as they were at a git revision, read with ``git ls-tree`` / ``git show``
(no checkout, the working tree is never touched), then validated and built like files."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence

from netpol.load.paths import MANIFEST_SUFFIXES
from netpol.load.yamldoc import RawDocument, decode, parse_text
from netpol.model.diagnostics import Diagnostic
from netpol.model.options import Options
from netpol.validate.pipeline import LoadResult, check_and_build, load_cluster


class RevisionError(ValueError):
    """git could not answer (not a repository, unknown revision, ...): one line for the user."""


def split_range(text: str) -> tuple[str, str | None]:
    """``A..B`` -> (A, B); ``A..`` -> (A, None), None meaning the working tree."""
    if ".." not in text or "..." in text:
        raise RevisionError(f"--git {text!r}: expected REV1..REV2 (or REV1.. for the working tree)")
    old, new = text.split("..", 1)
    if not old:
        raise RevisionError(f"--git {text!r}: the old revision is missing")
    return old, new or None


def _git(args: Sequence[str], cwd: str) -> bytes:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False, timeout=60)
    except FileNotFoundError:
        raise RevisionError("git is not installed") from None
    except subprocess.TimeoutExpired:
        raise RevisionError(f"git {' '.join(args)} took more than 60 s") from None
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RevisionError(f"git {' '.join(args[:2])}: {reason[-1] if reason else 'failed'}")
    return done.stdout


def check_revision(revision: str, cwd: str | None = None) -> str:
    """The top of the repository ``cwd`` is in, once ``revision`` is known to be one of its
    commits; RevisionError (one line) otherwise."""
    here = cwd or os.getcwd()
    try:
        top = _git(["rev-parse", "--show-toplevel"], here).decode().strip()
    except RevisionError:
        raise RevisionError(f"--git: {here} is not inside a git repository") from None
    try:
        _git(["rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"], here)
    except RevisionError:
        raise RevisionError(f"--git: {revision!r} is not a commit of {top}") from None
    return top


def _repository_path(path: str, cwd: str, top: str) -> str:
    """``path`` (relative to ``cwd``) relative to the repository's top, links left as written."""
    return os.path.relpath(os.path.abspath(os.path.join(cwd, path)), top)


# a symbolic link in a tree, as ``git ls-tree`` shows its mode
_LINK_MODE = "120000"


def _through_links(revision: str, path: str, top: str) -> str:
    """``path`` with every symbolic link that the tree at ``revision`` has on its way followed.

    ``git ls-tree`` lists nothing under a link, so ``examples/tutorial`` where ``examples`` is a
    link (as in this repository) would read as empty; the working tree's links are not those of
    the revision, so they are read from the revision itself. Links leaving the repository are kept
    as written, and so read nothing.
    """
    parts = [] if path == "." else path.split("/")
    done: list[str] = []
    for _ in range(40):  # as many links as a path may cross before the kernel gives up (ELOOP)
        while parts:
            prefix = "/".join([*done, parts[0]])
            entry = _git(["ls-tree", "-z", revision, "--", prefix], top).decode("utf-8", "replace")
            if not entry.startswith(_LINK_MODE + " "):
                done.append(parts.pop(0))
                continue
            target = _git(["show", f"{revision}:{prefix}"], top).decode("utf-8", "replace")
            joined = os.path.normpath(os.path.join("/".join(done), target, *parts[1:]))
            if joined.startswith("../") or os.path.isabs(joined):
                return path
            parts, done = ([] if joined == "." else joined.split("/")), []
            break
        else:
            return "/".join(done) or "."
    return path


def read_revision(
    revision: str, paths: Sequence[str], cwd: str | None = None
) -> tuple[list[RawDocument], list[Diagnostic]]:
    """Every manifest under ``paths`` (relative to ``cwd``) as it is at ``revision``."""
    here = cwd or os.getcwd()
    top = check_revision(revision, here)
    in_tree = [_through_links(revision, _repository_path(path, here, top), top) for path in paths]
    listing = _git(
        ["ls-tree", "-r", "-z", "--full-name", "--name-only", revision, "--", *in_tree], top
    )
    files = sorted(
        name
        for name in listing.decode("utf-8", "replace").split("\0")
        if name.endswith(MANIFEST_SUFFIXES)
    )
    if not files:
        raise RevisionError(f"no .yaml, .yml or .json file under {', '.join(paths)} at {revision}")
    docs: list[RawDocument] = []
    problems: list[Diagnostic] = []
    for name in files:
        data = _git(["show", f"{revision}:{name}"], top)
        label = f"{revision}:{name}"
        text, problem = decode(data, label)
        if problem is not None or text is None:
            if problem is not None:
                problems.append(problem)
            continue
        found, parse_problems = parse_text(text, label)
        docs += found
        problems += parse_problems
    return docs, problems


def load_revision(
    revision: str | None, paths: Sequence[str], options: Options, cwd: str | None = None
) -> LoadResult:
    """The cluster at ``revision`` (None: the working tree), checked like any input."""
    if revision is None:
        return load_cluster(list(paths), options)
    docs, problems = read_revision(revision, paths, cwd)
    return check_and_build(docs, problems, options)
