"""Deterministic pod names shaped like the ones controllers generate.

Real controllers draw suffixes at random; netpol derives them from the workload's identity
so the same input always yields the same names, whatever the order of its documents.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

# The alphabet of k8s.io/apimachinery/pkg/util/rand (no vowels, no confusable digits),
# used by kubectl and the controllers for generated names and pod-template-hash.
ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"
SUFFIX_LENGTH = 5
# names.SimpleNameGenerator: a generated name has at most 63 characters, so the base (the
# owner's name and a dash) is cut to 58 before the suffix is added.
MAX_GENERATED_BASE = 63 - SUFFIX_LENGTH


def safe_encode(text: str) -> str:
    """``rand.SafeEncodeString``: each character mapped into ALPHANUMS by its code."""
    return "".join(ALPHANUMS[ord(ch) % len(ALPHANUMS)] for ch in text)


def canonical(value: Any) -> str:
    """A stable text form of a YAML value; aliases can make it cyclic, and that is fine too."""
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    except (ValueError, TypeError, RecursionError):  # a cycle, or keys of mixed types
        return repr(value)


def template_hash(template: Any) -> str:
    """A pod-template-hash look-alike: a 32-bit hash of the template's canonical JSON.

    Like Kubernetes, the decimal form of the hash is mapped into ALPHANUMS (up to 10
    characters), so it changes exactly when the template does. Kubernetes hashes Go's
    printed form of the object with FNV-1a, which cannot be reproduced from YAML; blake2b
    keeps this cheap (a pure-Python FNV would cost 50 us per template).
    """
    digest = hashlib.blake2b(canonical(template).encode(), digest_size=4).digest()
    return safe_encode(str(int.from_bytes(digest, "big")))


def scheduled_suffix(name: str) -> str:
    """The Job-name number a CronJob adds (minutes since the epoch of a run), fixed per name."""
    digest = hashlib.blake2b(name.encode(), digest_size=4).digest()
    return str(27_000_000 + int.from_bytes(digest, "big") % 3_000_000)


def suffixes(seed: str, count: int) -> list[str]:
    """``count`` distinct 5-character suffixes, the same list for the same ``seed``.

    Suffix i comes from blake2b(seed#i) read in base 27; a repeat (27^5 = 14M, so rare,
    but a name must not repeat) is skipped. Other engineers' golden files hold these
    names: changing the derivation renames every pod.
    """
    out: list[str] = []
    seen: set[str] = set()
    blake2b = hashlib.blake2b
    from_bytes = int.from_bytes
    counter = 0
    while len(out) < count:
        digest = blake2b(f"{seed}#{counter}".encode(), digest_size=8).digest()
        counter += 1
        # the five lowest base-27 digits of the digest, two at a time from a table (one
        # suffix per pod: 100,000 of them for a large cluster)
        low = from_bytes(digest, "big") % _SUFFIX_SPACE
        suffix = _TWO_DIGITS[low % 729] + _TWO_DIGITS[low // 729 % 729] + ALPHANUMS[low // 531441]
        if suffix not in seen:
            seen.add(suffix)
            out.append(suffix)
    return out


_SUFFIX_SPACE = len(ALPHANUMS) ** SUFFIX_LENGTH
# base-27 numbers below 27^2 as their two digits, the lowest first
_TWO_DIGITS = [a + b for b in ALPHANUMS for a in ALPHANUMS]


def pod_names(kind: str, name: str, count: int, template: Any) -> list[str]:
    """Names of the ``count`` pods a ``kind`` controller called ``name`` would create.

    StatefulSet ``web-0..N-1``; Deployment ``web-<template hash>-<suffix>``; CronJob
    ``job-<run number>-<suffix>``; ReplicaSet, DaemonSet, Job ``web-<suffix>``. A prefix
    longer than 58 characters is cut as the API server cuts it (the seed keeps it whole).
    """
    if kind == "StatefulSet":
        return [f"{name}-{i}" for i in range(count)]
    if kind == "Deployment":
        prefix = f"{name}-{template_hash(template)}-"
    elif kind == "CronJob":
        prefix = f"{name}-{scheduled_suffix(name)}-"
    else:
        prefix = f"{name}-"
    base = prefix[:MAX_GENERATED_BASE]
    return [base + suffix for suffix in suffixes(f"{kind}/{prefix}", count)]


def generated_name(prefix: str, seed: str) -> str:
    """``metadata.generateName`` (cut to 58 characters) completed with a suffix from ``seed``."""
    return prefix[:MAX_GENERATED_BASE] + suffixes(seed, 1)[0]
