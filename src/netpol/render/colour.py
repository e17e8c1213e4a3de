"""Colour for text a person reads: verdicts, severities, verify results, diff changes.

Renderers write plain text; ``highlight`` paints the words that carry the answer, so a
table or a report reads the same with or without colour, and a pipe never gets escapes
(the CLI calls this only for a terminal, or with ``--color always``). It runs after the
output was made safe (``model.safe_text``), so the only escapes on the line are its own.
"""

from __future__ import annotations

import re

RESET = "\x1b[0m"
GREEN, RED, YELLOW, CYAN = "\x1b[32m", "\x1b[31m", "\x1b[33m", "\x1b[36m"
BOLD_RED = "\x1b[1;31m"

# (pattern, colour of its "word" group); where spans overlap, the one starting first wins
_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    # verify: PASS/FAIL/ERROR first on a row, and the summary line
    (re.compile(r"^(?P<word>PASS)(?=[ :]|$)", re.M), GREEN),
    (re.compile(r"^(?P<word>FAIL|ERROR)(?=[ :]|$)", re.M), BOLD_RED),
    # severities: ``error: ...``, ``file:3: warning: ...``, lint's ``file:3: info [check]``
    (re.compile(r"(?:^|: )(?P<word>error)(?=:| \[)", re.M), BOLD_RED),
    (re.compile(r"(?:^|: )(?P<word>warning)(?=:| \[)", re.M), YELLOW),
    (re.compile(r"(?:^|: )(?P<word>info|note)(?=:| \[)", re.M), CYAN),
    # verdicts: explain's ``...: DENIED``, probe tables, ``: allowed`` at the end of a side
    (re.compile(r"\b(?P<word>ALLOWED)\b"), GREEN),
    (re.compile(r"\b(?P<word>DENIED)\b"), RED),
    (re.compile(r": (?P<word>allowed)$", re.M), GREEN),
    (re.compile(r": (?P<word>denied)$", re.M), RED),
    # diff: a row's change, and +/- lines
    (re.compile(r"^(?P<word>added|gained|opened)(?= )", re.M), GREEN),
    (re.compile(r"^(?P<word>removed|lost|closed)(?= )", re.M), RED),
    (re.compile(r"^(?P<word>changed)(?= )", re.M), YELLOW),
    (re.compile(r"^(?P<word>\+ .*)$", re.M), GREEN),
    (re.compile(r"^(?P<word>- .*)$", re.M), RED),
)


def highlight(text: str) -> str:
    """``text`` with its verdicts, severities and changes in ANSI colour."""
    spans = sorted(
        (match.start("word"), -match.end("word"), colour)
        for pattern, colour in _RULES
        for match in pattern.finditer(text)
        if match.end("word") > match.start("word")
    )
    pieces = []
    position = 0
    for start, negative_end, colour in spans:  # the longest of spans that start together
        if start < position:
            continue  # inside a span already painted
        pieces += [text[position:start], colour, text[start:-negative_end], RESET]
        position = -negative_end
    pieces.append(text[position:])
    return "".join(pieces)
