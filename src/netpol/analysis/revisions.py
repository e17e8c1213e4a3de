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


def read_revision(
    revision: str, paths: Sequence[str], cwd: str | None = None
) -> tuple[list[RawDocument], list[Diagnostic]]:
    """Every manifest under ``paths`` (relative to ``cwd``) as it is at ``revision``."""
    here = cwd or os.getcwd()
    top = check_revision(revision, here)
    in_tree = [_follow_links(revision, _from_top(path, here, top), top) for path in paths]
    listing = _git(["ls-tree", "-r", "-z", "--name-only", revision, "--", *in_tree], top)
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


def _from_top(path: str, here: str, top: str) -> str:
    """``path`` (relative to ``here``) relative to the top of the repository."""
    return os.path.relpath(os.path.join(os.path.realpath(here), path), os.path.realpath(top))


def _follow_links(revision: str, path: str, top: str) -> str:
    """``path`` with the symbolic links the tree at ``revision`` has along it followed, as a
    checkout would (a clone's ``examples`` is a link into the package); links that leave
    the repository are kept as written."""
    parts = [p for p in os.path.normpath(path).split(os.sep) if p not in ("", ".")]
    done: list[str] = []
    hops = 0
    while parts:
        candidate = "/".join([*done, parts.pop(0)])
        entry = _git(["ls-tree", "-z", revision, "--", candidate], top).split(b"\0")[0]
        if not entry.startswith(b"120000 ") or hops >= 40:
            done = candidate.split("/")
            continue
        hops += 1
        target = _git(["show", f"{revision}:{candidate}"], top).decode("utf-8", "replace")
        resolved = os.path.normpath(os.path.join(os.path.dirname(candidate), target))
        if resolved.startswith("..") or os.path.isabs(target):
            return path
        parts = [p for p in resolved.split(os.sep) if p not in ("", ".")] + parts
        done = []
    return "/".join(done) or "."


def load_revision(
    revision: str | None, paths: Sequence[str], options: Options, cwd: str | None = None
) -> LoadResult:
    """The cluster at ``revision`` (None: the working tree), checked like any input."""
    if revision is None:
        return load_cluster(list(paths), options)
    docs, problems = read_revision(revision, paths, cwd)
    return check_and_build(docs, problems, options)
