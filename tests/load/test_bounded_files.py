"""Only regular files, only so much of them: devices, FIFOs, sockets and links leaving the
input directory are refused with one line, without being read (so without blocking); every
file and the whole input are capped by --max-input-size. Run through the real CLI in a
subprocess, so that a regression hangs a child with a timeout, not the test run."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from netpol.load.paths import format_size, parse_size, read_paths, read_text
from netpol.model.options import InputLimits

HANG_GUARD = 20.0  # seconds for a whole CLI run; a hang check, not a timing target
NS = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"
READ_VERBS = (("validate",), ("lint",))


def _netpol(*args: str, stdin: bytes = b"") -> tuple[int, str, float]:
    """Exit code, stdout and stderr (validate reports on stdout), seconds taken."""
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "netpol", *args],
        input=stdin,
        capture_output=True,
        timeout=HANG_GUARD,
        check=False,
    )
    output = done.stdout.decode() + done.stderr.decode()
    return done.returncode, output, time.monotonic() - start


def _errors(stderr: str, root: Path) -> list[str]:
    """The per-file error lines, file names relative to ``root``."""
    return [
        line.replace(f"{root}{os.sep}", "")
        for line in stderr.splitlines()
        if ": error: " in line and not line.startswith("error:")
    ]


def _fifo(root: Path) -> str:
    os.mkfifo(root / "x.yaml")
    return "x.yaml: error: a FIFO (named pipe), not a regular file: not read"


def _device_link(root: Path) -> str:
    (root / "zero.yaml").symlink_to("/dev/zero")
    return (
        "zero.yaml: error: symbolic link to /dev/zero, outside the input directory "
        "in: not followed (pass --follow-symlinks to read it)"
    )


def _link_outside(root: Path) -> str:
    (root.parent / "secret.yaml").write_text(NS)
    (root / "s.yaml").symlink_to(root.parent / "secret.yaml")
    return (
        f"s.yaml: error: symbolic link to {root.parent / 'secret.yaml'}, outside the input "
        "directory in: not followed (pass --follow-symlinks to read it)"
    )


def _socket(root: Path) -> str:
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(root / "sock.yaml"))
    _SOCKETS.append(server)
    return "sock.yaml: error: cannot read: a socket, not a regular file"


_SOCKETS: list[socket.socket] = []


@pytest.fixture(autouse=True)
def _close_sockets() -> Iterator[None]:
    yield
    while _SOCKETS:
        _SOCKETS.pop().close()


@pytest.mark.parametrize(
    "setup",
    [_fifo, _device_link, _link_outside, _socket],
    ids=["fifo", "link-to-dev-zero", "link-outside-dir", "socket"],
)
def test_special_files_in_a_directory_are_refused_unread(
    tmp_path: Path, setup: Callable[[Path], str]
) -> None:
    root = tmp_path / "in"
    root.mkdir()
    (root / "ok.yaml").write_text(NS)
    expected = setup(root)
    for verb in READ_VERBS:
        code, stderr, seconds = _netpol(*verb, str(root))
        assert code == 2, (verb, stderr)
        assert _errors(stderr, root) == [expected.replace("directory in", f"directory {root}")]
        assert "Traceback" not in stderr
        assert seconds < HANG_GUARD


def test_a_link_to_dev_zero_is_refused_unread_even_when_links_are_followed(
    tmp_path: Path,
) -> None:
    (tmp_path / "zero.yaml").symlink_to("/dev/zero")
    code, stderr, _ = _netpol("validate", "--follow-symlinks", str(tmp_path))
    assert code == 2
    assert _errors(stderr, tmp_path) == [
        "zero.yaml: error: a character device, not a regular file: not read"
    ]


def test_a_link_leaving_the_directory_is_read_with_follow_symlinks(tmp_path: Path) -> None:
    root = tmp_path / "in"
    root.mkdir()
    _link_outside(root)
    code, output, _ = _netpol("get", "ns", "--follow-symlinks", "--no-implicit-dns", str(root))
    assert (code, output.split()) == (
        0,
        ["NAME", "STATUS", "PODS", "POLICIES", "a", "Active", "0", "0"],
    )


def test_links_inside_the_directory_are_followed(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "ns.yaml").write_text(NS)
    (tmp_path / "alias.yaml").symlink_to(tmp_path / "real" / "ns.yaml")
    docs, problems = read_paths([str(tmp_path)])
    assert problems == []
    assert [Path(d.path).name for d in docs] == ["alias.yaml", "ns.yaml"]


def test_a_fifo_named_on_the_command_line_does_not_block(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "x.yaml")
    code, stderr, _ = _netpol("validate", str(tmp_path / "x.yaml"))
    assert code == 2
    assert _errors(stderr, tmp_path) == [
        "x.yaml: error: a FIFO (named pipe), not a regular file: not read"
    ]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--max-input-size", "1K", "big.yaml"],
            "big.yaml: error: larger than 1KiB (--max-input-size 1KiB): not read",
        ),
        (
            ["--max-input-size", "1K", "small.yaml", "small2.yaml", "small3.yaml"],
            "small3.yaml: error: the input exceeds 1KiB in total (--max-input-size 1KiB): not read",
        ),
    ],
    ids=["one-file", "all-files-together"],
)
def test_the_input_size_cap(tmp_path: Path, args: list[str], expected: str) -> None:
    (tmp_path / "big.yaml").write_text(NS + "# " + "x" * 2000 + "\n")
    for name in ("small.yaml", "small2.yaml", "small3.yaml"):
        (tmp_path / name).write_text(NS.replace("name: a", f"name: {name[:-5]}") + "#" * 400)
    files = [str(tmp_path / a) if a.endswith(".yaml") else a for a in args]
    code, stderr, _ = _netpol("validate", *files)
    assert code == 2
    assert _errors(stderr, tmp_path) == [expected]
    code, _, _ = _netpol("validate", *[f for f in files if not f.endswith("3.yaml")])
    assert code == 0 or "small" not in args[2]


def test_stdin_is_capped_too() -> None:
    code, stderr, _ = _netpol("validate", "--max-input-size", "100", "-", stdin=NS.encode() * 10)
    assert code == 2
    assert stderr.splitlines()[0] == (
        "-: error: larger than 100 bytes (--max-input-size 100 bytes): not read"
    )


def test_a_bad_size_is_a_usage_error() -> None:
    code, stderr, _ = _netpol("get", "ns", "--max-input-size", "lots", "x.yaml")
    assert code == 2
    assert "'lots' is not a size (bytes, or with K, M, G: 512M, 1G)" in stderr


@pytest.mark.parametrize(
    "option",
    [
        ["verify", "--expect"],
        ["generate", "--flows"],
        ["generate", "--from-matrix"],
    ],
    ids=["expect", "flows", "from-matrix"],
)
def test_the_other_files_a_verb_reads_are_bounded_alike(tmp_path: Path, option: list[str]) -> None:
    (tmp_path / "ns.yaml").write_text(NS)
    os.mkfifo(tmp_path / "side.yaml")
    verb, flag = option
    code, stderr, _ = _netpol(verb, str(tmp_path / "ns.yaml"), flag, str(tmp_path / "side.yaml"))
    assert code == 2
    assert stderr == (
        f"error: {tmp_path / 'side.yaml'}: a FIFO (named pipe), not a regular file: not read\n"
    )


def test_from_matrix_nested_too_deep_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "ns.yaml").write_text(NS)
    (tmp_path / "m.json").write_text("[" * 100_000 + "]" * 100_000)
    code, stderr, _ = _netpol(
        "generate", str(tmp_path / "ns.yaml"), "--from-matrix", str(tmp_path / "m.json")
    )
    assert (code, stderr) == (2, f"error: {tmp_path / 'm.json'}:1: nested deeper than 200 levels\n")
    code, stderr, _ = _netpol(
        "generate", str(tmp_path / "ns.yaml"), "--from-matrix", "-", stdin=b"\n[" * 300 + b"]" * 300
    )
    assert (code, stderr) == (2, "error: -:202: nested deeper than 200 levels\n")


def test_read_text_is_bounded_in_process(tmp_path: Path) -> None:
    (tmp_path / "f.yaml").write_text("x" * 10)
    assert read_text(str(tmp_path / "f.yaml"), InputLimits(max_bytes=10)) == "x" * 10
    too_big = read_text(str(tmp_path / "f.yaml"), InputLimits(max_bytes=9))
    assert not isinstance(too_big, str)
    assert too_big.one_line() == (
        f"{tmp_path / 'f.yaml'}: error: larger than 9 bytes (--max-input-size 9 bytes): not read"
    )


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("1", 1),
        ("512", 512),
        ("1K", 1024),
        ("256M", 256 << 20),
        ("2GiB", 2 << 30),
        ("3mb", 3 << 20),
    ],
)
def test_sizes(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "M", "1.5G", "-1", "1X", "lots"])
def test_not_sizes(text: str) -> None:
    assert parse_size(text) is None


@pytest.mark.parametrize(
    ("size", "text"),
    [(256 << 20, "256MiB"), (1 << 30, "1GiB"), (3072, "3KiB"), (1000, "1000 bytes")],
)
def test_format_size(size: int, text: str) -> None:
    assert format_size(size) == text
