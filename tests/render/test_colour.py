"""Colour paints the words that carry the answer, and nothing else."""

from __future__ import annotations

import re

import pytest

from netpol.render.colour import BOLD_RED, CYAN, GREEN, RED, RESET, YELLOW, highlight

ANSI = re.compile("\x1b\\[[0-9;]*m")


@pytest.mark.parametrize(
    ("line", "painted"),
    [
        ("PASS     db cannot reach frontend", f"{GREEN}PASS{RESET}     db cannot reach frontend"),
        ("FAIL: 8 passed, 1 failed", f"{BOLD_RED}FAIL{RESET}: 8 passed, 1 failed"),
        ("ERROR    ghost", f"{BOLD_RED}ERROR{RESET}    ghost"),
        ("a -> b port 5678/TCP: DENIED", f"a -> b port 5678/TCP: {RED}DENIED{RESET}"),
        ("a -> b port 80/TCP: ALLOWED", f"a -> b port 80/TCP: {GREEN}ALLOWED{RESET}"),
        (
            "  Egress from a (10.0.0.1): allowed",
            f"  Egress from a (10.0.0.1): {GREEN}allowed{RESET}",
        ),
        ("  Ingress to b: denied", f"  Ingress to b: {RED}denied{RESET}"),
        ("error: no input", f"{BOLD_RED}error{RESET}: no input"),
        ("f.yaml:3: error: Pod/x: bad", f"f.yaml:3: {BOLD_RED}error{RESET}: Pod/x: bad"),
        (
            "f.yaml:3: warning [one-sided-flow] x",
            f"f.yaml:3: {YELLOW}warning{RESET} [one-sided-flow] x",
        ),
        ("f.yaml:1: info [egress-deny-all] x", f"f.yaml:1: {CYAN}info{RESET} [egress-deny-all] x"),
        ("note: 12 classes", f"{CYAN}note{RESET}: 12 classes"),
        ("added    a   b   -   TCP 80", f"{GREEN}added{RESET}    a   b   -   TCP 80"),
        ("removed  a   b", f"{RED}removed{RESET}  a   b"),
        ("changed  a   b", f"{YELLOW}changed{RESET}  a   b"),
        ("+ a -> b TCP 80", f"{GREEN}+ a -> b TCP 80{RESET}"),
        ("- a -> b TCP 80 DENIED", f"{RED}- a -> b TCP 80 DENIED{RESET}"),
    ],
)
def test_verdicts_severities_and_changes_are_painted(line: str, painted: str) -> None:
    assert highlight(line) == painted


@pytest.mark.parametrize(
    "line",
    [
        "app1-ns/error-pages   10.0.0.1",  # a name that holds a severity word
        "the rule allowed nothing",  # prose, not a verdict at the end of a side
        "PASSWORD is not a verdict",
        "-rw-r--r-- a file listing",
        "info about nothing",
    ],
)
def test_words_that_only_look_alike_stay_plain(line: str) -> None:
    assert highlight(line) == line


def test_painting_changes_nothing_but_the_colour() -> None:
    text = "PASS a\nFAIL b: DENIED\nerror: x\n+ y\n"
    assert ANSI.sub("", highlight(text)) == text
