"""safe_text: what came from input or a server prints as one visible, bounded line with
its secrets masked."""

from __future__ import annotations

import json
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netpol.model.diagnostics import Diagnostic, Severity
from netpol.model.safe_text import MASK, cut, mask_secrets, visible, visible_lines

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06YWRtaW4ifQ.c2lnbmF0dXJlLXZhbHVl"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\nq1w==\n-----END RSA PRIVATE KEY-----"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain-name", "plain-name"),
        ("x\x1b]0;PWNED\x07\nerror: all good", "x\\e]0;PWNED\\x07\\nerror: all good"),
        ("tab\there", "tab\\there"),
        ("carriage\rreturn", "carriage\\rreturn"),
        ("nul\x00", "nul\\x00"),
        ("del\x7f", "del\\x7f"),
        ("c1 csi \x9b2J", "c1 csi \\x9b2J"),  # 8-bit CSI: an escape to some terminals
        ("next line \x85", "next line \\x85"),
        ("bidi \u202eevil\u202c", "bidi \\u202eevil\\u202c"),
        ("isolate \u2066x\u2069", "isolate \\u2066x\\u2069"),
        ("zero\u200bwidth", "zero\\u200bwidth"),
        ("line\u2028separator", "line\\u2028separator"),
        ("lone \ud800 surrogate", "lone \\ud800 surrogate"),
        ("tag \U000e0041", "tag \\U000e0041"),
        ("not xml \ufffe", "not xml \\ufffe"),
        ("accents é and 中文 stay", "accents é and 中文 stay"),
        ("a regex \\. keeps its backslash", "a regex \\. keeps its backslash"),
    ],
    ids=lambda value: value if len(value) < 20 else value[:20],
)
def test_visible_escapes_what_a_terminal_would_act_on(raw: str, shown: str) -> None:
    assert visible(raw) == shown


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("Authorization: Bearer abcdefgh12345678", f"Authorization: Bearer {MASK}"),
        ("authorization: bearer abcdefgh12345678==", f"authorization: bearer {MASK}"),
        ("Basic dXNlcjpwYXNzd29yZA==", f"Basic {MASK}"),
        (f"token {JWT} echoed", f"token eyJ{MASK} echoed"),
        (
            f"key: {PEM} end",
            f"key: -----BEGIN RSA PRIVATE KEY-----{MASK}-----END RSA PRIVATE KEY----- end",
        ),
        (
            "-----BEGIN PRIVATE KEY-----\nMIIE cut here",
            f"-----BEGIN PRIVATE KEY-----{MASK}-----END PRIVATE KEY-----",
        ),
        ('{"token": "s3cr3t-t0ken-value"}', f'{{"token": "{MASK}"}}'),
        ("client-key-data: LS0tLS1CRUdJTiBSU0E=", f"client-key-data: {MASK}"),
        # words that only look alike stay
        ("Bearer token for the API server", "Bearer token for the API server"),
        ("Bearer authentication failed.", "Bearer authentication failed."),
        ("basic connectivity.", "basic connectivity."),
        ("continue token 'a' repeated", "continue token 'a' repeated"),
        ("eyJ alone", "eyJ alone"),
    ],
)
def test_secrets_are_masked_wherever_they_appear(raw: str, masked: str) -> None:
    assert mask_secrets(raw) == masked


def test_long_values_are_cut_with_their_size_in_bytes() -> None:
    assert cut("abc", 3) == "abc"
    assert cut("é" * 10, 4) == "éééé...(20 bytes)"
    five_mb = "m" * 5_000_000
    assert visible(five_mb, 100) == "m" * 100 + "...(5000000 bytes)"


def test_a_secret_is_masked_before_it_is_cut() -> None:
    """Cutting first could leave a token's head that no longer matches the pattern."""
    assert visible("x" * 20 + " Bearer " + "t0k3n" * 20, 40) == "x" * 20 + f" Bearer {MASK}"


def test_visible_lines_keeps_the_layout_and_escapes_the_rest() -> None:
    block = "NAME\tAGE\nx\x1b[2Jy\r\n\u202e"
    assert visible_lines(block) == "NAME\tAGE\nx\\e[2Jy\\r\n\\u202e"


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(alphabet=st.characters(max_codepoint=0x7F)), st.text(max_size=3))
def test_an_ascii_block_is_checked_as_bytes_with_the_same_answer(ascii: str, other: str) -> None:
    """The ASCII shortcut (controls found by deleting them as bytes) answers as the regex
    does, whether the block is ASCII or not."""
    from netpol.model.safe_text import _HIDDEN_IN_BLOCK, _escape

    for block in (ascii, ascii + other, "NAME\tAGE\n" + ascii):
        assert visible_lines(block) == _HIDDEN_IN_BLOCK.sub(_escape, mask_secrets(block))


def _masked_word_by_word(text: str) -> str:
    """mask_secrets as it was before its one-scan filter: each pattern where its word is."""
    from netpol.model.safe_text import _SECRETS, _TRIGGERS

    for (pattern, replacement), (folded, words) in zip(_SECRETS, _TRIGGERS, strict=True):
        if any(word in (text.lower() if folded else text) for word in words):
            text = pattern.sub(replacement, text)
    return text


_SECRET_PIECES = st.sampled_from(
    [
        "bearer ",
        "Basic ",
        "TOKEN",
        "token: ",
        "password=",
        "client-key-data: ",
        "eyJ",
        ".",
        "PRIVATE KEY",
        "-----BEGIN ",
        "-----END ",
        "abc123_~+/",
        "\u212a",
        "\u0130",
        "K",
        "s",
        "\u017f",
        " ",
        "\n",
        "x",
    ]
)


@settings(max_examples=500, deadline=None, derandomize=True)
@given(st.lists(st.one_of(_SECRET_PIECES, st.text(max_size=4)), max_size=12).map("".join))
def test_the_one_scan_filter_masks_what_looking_for_each_word_masks(text: str) -> None:
    assert mask_secrets(text) == _masked_word_by_word(text)


# Never printed as they are: controls, surrogates, separators, and the format characters
# that reorder or hide text (bidi embeddings, overrides, isolates, marks; zero-width ones).
_NEVER_CATEGORIES = {"Cc", "Cs", "Zl", "Zp"}
_NEVER_FORMAT = set("\u061c\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e")
_NEVER_FORMAT |= set("\u2060\u2066\u2067\u2068\u2069\ufeff")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec=None), max_size=300))
def test_visible_is_always_one_encodable_line_without_controls(raw: str) -> None:
    shown = visible(raw, limit=200)
    shown.encode("utf-8")  # no lone surrogate survives
    assert not any(unicodedata.category(c) in _NEVER_CATEGORIES for c in shown)
    assert not _NEVER_FORMAT & set(shown)
    # at most 200 characters of the value, each at most a 10-character escape, and the size
    assert len(shown) <= 200 * 10 + len("...(1200 bytes)")


def test_a_diagnostic_is_one_line_whatever_its_object_message_and_excerpt_hold() -> None:
    name = "x\x1b]0;PWNED\x07\nerror: all good"
    diagnostic = Diagnostic(
        Severity.ERROR,
        f"server said: Bearer abcdefgh12345678\n{name}",
        path="f.yaml",
        line=3,
        obj=f"Pod/ns/{name}",
        field="metadata.name",
        value=name + "\u202e",
        excerpt=(f"  {name}",),
    )
    lines = diagnostic.text().splitlines()
    assert len(lines) == 2 and not any(line.startswith("error:") for line in lines)
    assert "\x1b" not in diagnostic.text() and "\u202e" not in diagnostic.text()
    assert lines[0] == (
        "f.yaml:3: error: Pod/ns/x\\e]0;PWNED\\x07\\nerror: all good: metadata.name: "
        f"server said: Bearer {MASK}\\nx\\e]0;PWNED\\x07\\nerror: all good "
        '(value: "x\\u001b]0;PWNED\\u0007\\nerror: all good\\u202e")'
    )
    assert json.loads(json.dumps(diagnostic.to_json()))["message"].startswith(
        f"server said: Bearer {MASK}\n"
    )
