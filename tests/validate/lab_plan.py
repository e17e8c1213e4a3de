"""The lab's plan for an input, computed as ``lab up`` computes it, without a kernel.

``lab up`` reads and validates the input, adds cluster DNS, builds its view (pods, Service
routes, what listens on each port) and compiles one nftables table; only then does it touch
the host. Everything before that point is pure and runs here. ``nft`` itself is not run: what
it would refuse in a table the lab compiles is a key twice in one map or set ("File exists").
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from netpol.lab.nftables import Ruleset, compile_ruleset
from netpol.lab.view import LabView, build_view, read_input
from netpol.model.options import Options

_BLOCK = re.compile(r"^  (set|map) (\S+) \{$")


def lab_plan(paths: Sequence[str], options: Options | None = None) -> tuple[LabView, Ruleset]:
    """What ``lab up PATHS`` would build (LabInputError when it refuses the input)."""
    options = options or Options()
    store, _ = read_input(paths, options)
    view = build_view(store, options, run_commands=False, lab="check")
    return view, compile_ruleset(view.cc, view.pods, view.routes)


def keys_nft_refuses(ruleset: str) -> list[str]:
    """``map/set NAME: KEY`` for every key written twice in one map or set of ``ruleset``."""
    refused: list[str] = []
    name, seen, interval = "", set[str](), False
    for line in ruleset.splitlines():
        block = _BLOCK.match(line)
        if block:
            name, seen, interval = f"{block[1]} {block[2]}", set(), False
            continue
        text = line.strip()
        if line == "  }":
            name = ""
        if text == "flags interval":
            interval = True  # built from merged ranges: no two elements overlap
        if not name or interval or not text.endswith(",") or text.startswith("elements"):
            continue
        for element in text.rstrip(",").split(", "):
            key = element.split(" : ")[0]
            if key in seen:
                refused.append(f"{name}: {key}")
            seen.add(key)
    return refused
