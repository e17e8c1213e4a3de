"""``python3 -m http.server [PORT] [--bind ADDR] [--directory DIR]``, read as Python reads it.

The lab runs this one container command itself (it is harmless), and ``validate`` warns
when Python would refuse its port; both read the command here, so what ``validate`` passes
the lab can plan. The port is parsed as argparse's ``type=int`` does (``int()``: spaces,
``+``, ``_`` and non-ASCII decimal digits included), so ``"²"`` (a digit to ``str.isdigit``,
not to ``int``) is a port Python refuses, not a crash.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_PORT = 8000
PYTHONS = ("python", "python3")
_VALUE_OPTIONS = ("-b", "--bind", "-d", "--directory")  # the lab binds and serves its own


@dataclass(frozen=True, slots=True)
class HttpServerCommand:
    """The plain file server: the port it serves, or why Python would not start it.

    ``port`` is None when no fixed port is known: Python refuses the argument (``problem``
    says why, ``port_index`` is its position in the argv) or asks for any free port (0).
    """

    port: int | None
    problem: str = ""
    port_index: int | None = None


def read_http_server(argv: Sequence[str]) -> HttpServerCommand | None:
    """The command ``argv`` as the plain file server; None when it is anything else
    (another program, ``--cgi``, an option the lab does not know)."""
    if len(argv) < 3 or not is_python(argv[0]) or list(argv[1:3]) != ["-m", "http.server"]:
        return None
    port, index = DEFAULT_PORT, None
    i = 3
    while i < len(argv):
        arg = argv[i]
        if arg in _VALUE_OPTIONS and i + 1 < len(argv):
            i += 2
            continue
        try:
            number = int(arg)
        except ValueError:
            if arg.startswith("-"):
                return None  # an option of another kind of server
            return HttpServerCommand(None, f"argument port: invalid int value: {arg!r}", i)
        if index is not None:
            return HttpServerCommand(None, f"unrecognized arguments: {arg}", i)
        if not 0 <= number <= 65535:
            return HttpServerCommand(None, f"port must be 0-65535, not {number}", i)
        port, index = number, i
        i += 1
    return HttpServerCommand(port or None, "", index)


def is_python(program: str) -> bool:
    """``python``, ``python3`` or ``python3.N``, under any directory."""
    name = os.path.basename(program)
    if name in PYTHONS:
        return True
    version = name[len("python3.") :]
    return name.startswith("python3.") and version.isascii() and version.isdigit()
