"""Files the lab writes as root, without following a symbolic link anyone planted.

The lab's state directory (``/run/netpol/lab/LAB``) holds what a lab was made from, so it is
``0700`` and its files ``0600`` whatever the umask; a pod's ``resolv.conf`` lives under
``/etc/netns``, which outlives a reboot. Every directory below a fixed anchor (``/run``,
``/etc``) is opened with ``O_NOFOLLOW`` one component at a time and every file relative to
its directory's descriptor, so a symlink at ``/etc/netns/netpol-LAB-p0`` (or anywhere below
the anchor) is refused with one line instead of being written through or deleted through.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from netpol.lab.system import LabError

PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def refusal(path: Path | str) -> LabError:
    return LabError(
        f"{path} is a symbolic link: the lab never follows one there "
        "(remove it if you did not make it)"
    )


def _anchor(path: Path) -> tuple[Path, list[str]]:
    """The top directory taken as the system made it (``/run``, ``/etc``), and the rest."""
    parts = path.parts
    if len(parts) < 3 or parts[0] != "/":
        raise LabError(f"{path}: the lab writes only below a top-level directory")
    return Path(parts[0], parts[1]), list(parts[2:])


@contextmanager
def opened_dir(
    path: Path, create: bool = False, mode: int = PRIVATE_DIR, own: bool = False
) -> Iterator[int]:
    """A descriptor of directory ``path``, each component below the anchor opened without
    following links (and made with ``mode``, umask or not, when ``create``; given ``mode``
    even when it was there already when ``own``)."""
    anchor, rest = _anchor(path)
    fd = os.open(anchor, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        walked = anchor
        for part in rest:
            walked = walked / part
            child = _open_child_dir(fd, part, walked, create, mode)
            os.close(fd)
            fd = child
            if own:
                os.fchmod(fd, mode)
        yield fd
    finally:
        os.close(fd)


def _open_child_dir(parent: int, name: str, path: Path, create: bool, mode: int) -> int:
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=parent)
    except FileNotFoundError:
        if not create:
            raise
    except OSError as exc:
        raise _not_a_dir(parent, name, path, exc) from None
    with contextlib.suppress(FileExistsError):  # made by a concurrent run: opened below
        os.mkdir(name, mode, dir_fd=parent)
    try:
        fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
    except OSError as exc:
        raise _not_a_dir(parent, name, path, exc) from None
    os.fchmod(fd, mode)  # mkdir's mode went through the umask
    return fd


def _not_a_dir(parent: int, name: str, path: Path, exc: OSError) -> LabError:
    with contextlib.suppress(OSError):
        if stat.S_ISLNK(os.lstat(name, dir_fd=parent).st_mode):
            return refusal(path)
    if exc.errno in (errno.ELOOP, errno.ENOTDIR):
        return LabError(f"{path} is not a directory: the lab leaves it alone (remove it)")
    return LabError(f"cannot open {path}: {exc.strerror or exc}")


def make_dir(path: Path, mode: int = PRIVATE_DIR, own: bool = False) -> None:
    """``path`` and its missing parents below the anchor, ``mode`` each (no link followed;
    ``own``: the ones that were there get ``mode`` too)."""
    with opened_dir(path, create=True, mode=mode, own=own):
        pass


def write_file(
    path: Path, data: bytes, mode: int = PRIVATE_FILE, dir_mode: int = PRIVATE_DIR
) -> None:
    """Replace ``path`` atomically by ``data`` with ``mode`` (a link at ``path`` is replaced,
    never written through; a link among its directories is refused)."""
    tmp = f".{path.name}.tmp"
    with opened_dir(path.parent, create=True, mode=dir_mode) as dir_fd:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp, dir_fd=dir_fd)
        fd = os.open(
            tmp,
            os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
            mode,
            dir_fd=dir_fd,
        )
        try:
            os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path.name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)


def read_file(path: Path) -> bytes:
    """The content of ``path``; FileNotFoundError when it is missing, LabError for a link."""
    with opened_dir(path.parent) as dir_fd:
        try:
            fd = os.open(path.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise refusal(path) from None
            raise
        with os.fdopen(fd, "rb") as handle:
            return handle.read()


def open_append(path: Path, mode: int = PRIVATE_FILE) -> int:
    """A descriptor appending to ``path`` (made with ``mode``), for logs and lock files."""
    with opened_dir(path.parent, create=True) as dir_fd:
        try:
            fd = os.open(
                path.name,
                os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC,
                mode,
                dir_fd=dir_fd,
            )
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise refusal(path) from None
            raise
    os.fchmod(fd, mode)
    return fd


def remove_file(path: Path) -> bool:
    """Unlink ``path`` (a link itself, never what it points at); False when it was not there.
    A link among its directories is left alone (nothing is removed through it)."""
    try:
        with opened_dir(path.parent) as dir_fd:
            os.unlink(path.name, dir_fd=dir_fd)
    except (FileNotFoundError, LabError):
        return False
    return True


def remove_entry(path: Path, links: bool = True) -> bool:
    """Remove ``path`` without following links: a directory with everything in it, a file,
    and a link itself (only when ``links``: a link someone else planted stays otherwise).
    False when nothing was removed."""
    try:
        with opened_dir(path.parent) as dir_fd:
            return _remove_at(dir_fd, path.name, links)
    except (FileNotFoundError, LabError):
        return False


def _remove_at(dir_fd: int, name: str, links: bool) -> bool:
    info = os.lstat(name, dir_fd=dir_fd)
    if stat.S_ISLNK(info.st_mode) and not links:
        return False
    if stat.S_ISDIR(info.st_mode):
        shutil.rmtree(name, dir_fd=dir_fd)  # fd-based: it follows no link inside either
    else:
        os.unlink(name, dir_fd=dir_fd)
    return True
