"""Root's files without following planted links: modes whatever the umask, links refused
among directories, replaced (never written through) as files, and removed only as links."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from netpol.lab import private
from netpol.lab.system import LabError


@pytest.fixture
def no_umask() -> Iterator[None]:
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def refused(path: Path) -> str:
    return (
        f"{path} is a symbolic link: the lab never follows one there "
        "(remove it if you did not make it)"
    )


@pytest.mark.usefixtures("no_umask")
def test_files_are_0600_in_0700_directories_whatever_the_umask(tmp_path: Path) -> None:
    path = tmp_path / "state" / "lab" / "state.json"
    private.write_file(path, b"{}")
    assert path.read_bytes() == b"{}"
    assert mode(path) == 0o600
    assert mode(path.parent) == mode(path.parent.parent) == 0o700
    fd = private.open_append(path.parent / "daemon.log")
    os.close(fd)
    assert mode(path.parent / "daemon.log") == 0o600
    private.write_file(path, b"[]", mode=0o644, dir_mode=0o755)  # an existing dir keeps its mode
    assert (mode(path), mode(path.parent)) == (0o644, 0o700)
    assert sorted(os.listdir(path.parent)) == ["daemon.log", "state.json"]  # no temporary left


def test_a_link_among_the_directories_is_refused(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    link = tmp_path / "netpol-lab-p0"
    link.symlink_to(elsewhere)
    with pytest.raises(LabError) as caught:
        private.write_file(link / "resolv.conf", b"nameserver 10.96.0.10\n")
    assert str(caught.value) == refused(link)
    with pytest.raises(LabError, match="is a symbolic link"):
        private.make_dir(link / "pods")
    assert os.listdir(elsewhere) == []


def test_a_link_as_the_file_is_replaced_never_written_through(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    path = tmp_path / "d" / "documents.json"
    path.parent.mkdir()
    path.symlink_to(victim)
    with pytest.raises(LabError) as caught:
        private.read_file(path)
    assert str(caught.value) == refused(path)
    with pytest.raises(LabError):
        os.close(private.open_append(path))
    private.write_file(path, b"[]")
    assert not path.is_symlink() and path.read_bytes() == b"[]"
    assert victim.read_text() == "keep me"


def test_removing_takes_a_link_itself_or_leaves_it(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.mkdir()
    (target / "resolv.conf").write_text("precious")
    link = tmp_path / "netpol-lab-p0"
    link.symlink_to(target)
    assert private.remove_file(link / "resolv.conf") is False
    assert private.remove_entry(link, links=False) is False
    assert link.is_symlink()
    assert private.remove_entry(link) is True
    assert not os.path.lexists(link)
    assert (target / "resolv.conf").read_text() == "precious"
    tree = tmp_path / "tree"
    (tree / "pods" / "p0").mkdir(parents=True)
    (tree / "pods" / "p0" / "out").symlink_to(target)
    assert private.remove_entry(tree) is True
    assert not tree.exists() and (target / "resolv.conf").read_text() == "precious"
    assert private.remove_entry(tree) is False


def test_a_path_below_no_top_level_directory_is_refused() -> None:
    with pytest.raises(LabError, match="only below a top-level directory"):
        private.write_file(Path("/x"), b"")


def test_own_directories_get_the_mode_even_when_they_were_there(tmp_path: Path) -> None:
    (tmp_path / "netpol" / "lab").mkdir(parents=True)
    (tmp_path / "netpol" / "lab").chmod(0o755)
    private.make_dir(tmp_path / "netpol" / "lab")
    assert mode(tmp_path / "netpol" / "lab") == 0o755  # not taken over unless told
    private.make_dir(tmp_path / "netpol" / "lab", own=True)
    assert mode(tmp_path / "netpol") == mode(tmp_path / "netpol" / "lab") == 0o700
