"""Text that came from input or from a server, made safe to print.

A name, label, message or expectation name can carry a terminal escape (``\\x1b]0;...``),
a newline that forges an ``error:`` line, a bidi override that reorders what the reader sees,
a lone surrogate that no encoder accepts, five megabytes on one line, or a token a server
echoed back. ``visible`` turns such a value into one printable line; ``visible_lines`` does
the same for a whole block of output, keeping its own line breaks. Formats with their own
escaping (JSON, XML, HTML) escape after this, for their syntax.
"""

from __future__ import annotations

import re

# Characters that move the cursor, change the terminal's state, reorder or hide text, or
# cannot be encoded: C0 and C1 controls, DEL, the Unicode format characters that act on
# display (bidi embeddings, overrides and isolates, zero-width marks, BOM, interlinear
# annotation, tags), line and paragraph separators, lone surrogates, and U+FFFE/U+FFFF
# (not characters: XML 1.0 forbids them).
_HIDDEN_ABOVE_C0 = (
    "\x7f-\x9f\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f"
    "\ufeff\ufff9-\ufffb\ufffe\uffff\ud800-\udfff\U000e0000-\U000e007f"
)
_HIDDEN_CHAR = re.compile(f"[\x00-\x1f{_HIDDEN_ABOVE_C0}]")
# in a block of output, newlines and tabs are the renderer's own layout
_HIDDEN_IN_BLOCK = re.compile(f"[\x00-\x08\x0b-\x1f{_HIDDEN_ABOVE_C0}]")

_ASCII_HIDDEN_IN_BLOCK = bytes([*range(0x09), *range(0x0B, 0x20), 0x7F])  # the same, in ASCII

_NAMED = {"\x1b": "\\e", "\n": "\\n", "\r": "\\r", "\t": "\\t"}

MASK = "***"
# Secrets a server may echo back or an input may carry: bearer/basic credentials, JWTs
# (``eyJ`` is ``{"`` in base64url), PEM private keys (cut or whole), and the kubeconfig
# fields that hold them.
_SECRETS = (
    # a credential has a digit or a symbol somewhere: "basic connectivity" is prose
    (
        re.compile(r"(?i)\b(bearer|basic)(\s+)(?=[A-Za-z.]*[0-9_~+/=-])[A-Za-z0-9._~+/-]{8,}=*"),
        rf"\1\2{MASK}",
    ),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), f"eyJ{MASK}"),
    (
        re.compile(
            r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----.*?(?:-----END \1PRIVATE KEY-----|\Z)", re.S
        ),
        rf"-----BEGIN \1PRIVATE KEY-----{MASK}-----END \1PRIVATE KEY-----",
    ),
    (
        re.compile(
            r"(?i)\b(client-key-data|client-key|token|password)"
            r"([\"']?\s*[:=]\s*[\"']?)(?!\*\*\*)([^\s\"',;}]{8,})"
        ),
        rf"\1\2{MASK}",
    ),
)

NAME_LIMIT = 256  # characters of one name, label or expectation name shown
MESSAGE_LIMIT = 2048  # characters of one message (a server's, a diagnostic's)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


# A word each pattern of _SECRETS needs (lower case where the pattern ignores case): a
# pattern runs only where its word occurs, since scanning is the cost of the output door
# (129 MiB of `matrix --by pod -o json` at 10k pods: ~3 s of regex for nothing to mask).
_TRIGGERS: tuple[tuple[bool, tuple[str, ...]], ...] = (
    (True, ("bearer", "basic")),
    (False, ("eyJ",)),
    (False, ("PRIVATE KEY",)),
    (True, ("client-key", "token", "password")),
)


# The same words in two plain tuples: most texts hold none (a pod's name, an IP), and
# looking for each with ``in`` answers that at a quarter of the cost of the generators
# below (the 400,000 cells of `get pods -A` at 100k pods: 1.1 -> 0.27 s), a fifth of one
# case-insensitive regex's.
_FOLDED_WORDS = tuple(word for folded, words in _TRIGGERS if folded for word in words)
_EXACT_WORDS = tuple(word for folded, words in _TRIGGERS if not folded for word in words)


def _holds_a_trigger(text: str) -> bool:
    lowered = text.lower()
    for word in _FOLDED_WORDS:
        if word in lowered:
            return True
    for word in _EXACT_WORDS:  # noqa: SIM110 (any()'s generator is the cost this avoids)
        if word in text:
            return True
    return False


def mask_secrets(text: str) -> str:
    """``text`` with every bearer token, JWT, private key and key/token field replaced by ***."""
    if not _holds_a_trigger(text):
        return text
    lowered: str | None = None
    for (pattern, replacement), (folded, words) in zip(_SECRETS, _TRIGGERS, strict=True):
        if folded:
            lowered = text.lower() if lowered is None else lowered
            present = any(word in lowered for word in words)
        else:
            present = any(word in text for word in words)
        if present:
            text = pattern.sub(replacement, text)
            lowered = None  # the text changed
    return text


def cut(text: str, limit: int) -> str:
    """``text`` itself when it has at most ``limit`` characters, else its start and
    ``...(N bytes)``, N the size of the whole value in UTF-8."""
    if len(text) <= limit:
        return text
    size = len(text.encode("utf-8", "surrogatepass"))
    return f"{text[:limit]}...({size} bytes)"


def visible(value: object, limit: int = NAME_LIMIT) -> str:
    """One printable line: secrets masked, then cut to ``limit`` characters, then every
    control, format and separator character written as an escape (``\\e``, ``\\n``,
    ``\\x00``, ``\\u202e``)."""
    text = mask_secrets(str(value))
    return _HIDDEN_CHAR.sub(_escape, cut(text, limit))


def visible_lines(text: str) -> str:
    """A block of output with its newlines and tabs kept and everything else ``visible``
    escapes escaped, secrets masked; nothing is cut (the block is the renderer's)."""
    text = mask_secrets(text)
    if text.isascii():
        # nearly every block (77 MiB of `matrix --by workload -o json` at 100k pods): its
        # only hidden characters can be ASCII controls, which deleting them as bytes finds
        # five times faster than the regex's scan
        raw = text.encode("ascii")
        if len(raw.translate(None, _ASCII_HIDDEN_IN_BLOCK)) == len(raw):
            return text
    return _HIDDEN_IN_BLOCK.sub(_escape, text)
