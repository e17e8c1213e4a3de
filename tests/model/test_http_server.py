"""The plain file server's command line, read as Python's argparse reads it."""

from __future__ import annotations

import pytest

from netpol.model.http_server import HttpServerCommand, read_http_server


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        pytest.param(("python3", "-m", "http.server"), HttpServerCommand(8000), id="default-port"),
        pytest.param(
            ("python3", "-m", "http.server", "5678"), HttpServerCommand(5678, "", 3), id="port"
        ),
        pytest.param(
            ("/usr/bin/python3.12", "-m", "http.server", "-b", "0.0.0.0", "80"),
            HttpServerCommand(80, "", 5),
            id="versioned-python-and-bind",
        ),
        # int() reads these, so Python serves on them: the lab must read them alike
        pytest.param(
            ("python3", "-m", "http.server", "٨٠"), HttpServerCommand(80, "", 3), id="arabic-digits"
        ),
        pytest.param(
            ("python3", "-m", "http.server", "8_0"), HttpServerCommand(80, "", 3), id="underscore"
        ),
        pytest.param(
            ("python3", "-m", "http.server", " 80 "), HttpServerCommand(80, "", 3), id="spaces"
        ),
        # what Python refuses: the argument, not a crash of the reader
        pytest.param(
            ("python3", "-m", "http.server", "²"),
            HttpServerCommand(None, "argument port: invalid int value: '²'", 3),
            id="superscript-two",
        ),
        pytest.param(
            ("python3", "-m", "http.server", "eighty"),
            HttpServerCommand(None, "argument port: invalid int value: 'eighty'", 3),
            id="word",
        ),
        pytest.param(
            ("python3", "-m", "http.server", "70000"),
            HttpServerCommand(None, "port must be 0-65535, not 70000", 3),
            id="too-large",
        ),
        pytest.param(
            ("python3", "-m", "http.server", "-80"),
            HttpServerCommand(None, "port must be 0-65535, not -80", 3),
            id="negative",
        ),
        pytest.param(
            ("python3", "-m", "http.server", "80", "81"),
            HttpServerCommand(None, "unrecognized arguments: 81", 4),
            id="two-ports",
        ),
        pytest.param(
            ("python3", "-m", "http.server", "0"), HttpServerCommand(None, "", 3), id="any-port"
        ),
        # not the plain file server
        pytest.param(("python3", "-m", "http.server", "--cgi", "80"), None, id="cgi"),
        pytest.param(("python3.²", "-m", "http.server"), None, id="not-a-python"),
        pytest.param(("sh", "-c", "python3 -m http.server 80"), None, id="shell"),
        pytest.param(("python3",), None, id="too-short"),
    ],
)
def test_read_http_server(argv: tuple[str, ...], expected: HttpServerCommand | None) -> None:
    assert read_http_server(argv) == expected
