"""CIDR and IP text as the API server reads it: Go's ``ParseCIDRSloppy`` (spec 5.5, 9).

Python's ``ipaddress`` is not that parser: it accepts bare addresses and netmasks, rejects
leading-zero octets and host bits. So the text is parsed here by a port of the Go 1.16
parser that Kubernetes keeps (k8s.io/utils/net), and only then turned into a network.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import NamedTuple

_BIG = 0xFFFFFF  # Go's dtoi/xtoi give up at this value
_DIGITS = "0123456789"
_HEX = {c: int(c, 16) for c in "0123456789abcdefABCDEF"}
_V4_IN_V6 = b"\x00" * 10 + b"\xff\xff"

INVALID_CIDR = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
LEADING_ZEROS = "must not have leading 0s in IP or prefix length"
IPV4_MAPPED = "must not have an IPv4-mapped IPv6 address"
HOST_BITS = "must not have bits set beyond the prefix length"


class SloppyCIDR(NamedTuple):
    """A CIDR as Go parses it: what it matches, and what it looked like."""

    network: IPv4Network | IPv6Network  # host bits masked; IPv4-mapped /n>=96 -> IPv4 /n-96
    prefix_length: int  # as written: Go's Mask.Size(), used by the except-subset check
    host_bits: bool  # bits set beyond the prefix (10.0.0.1/8)
    leading_zeros: bool  # 010.0.0.0/8, 10.0.0.0/08, or an IPv6 group of more than 4 digits
    ipv4_mapped: bool  # the address is ::ffff:a.b.c.d (whatever the prefix)


def parse_cidr_sloppy(text: str) -> IPv4Network | IPv6Network | None:
    """The network ``text`` means to the API server, or None if it rejects it (spec 5.5)."""
    parsed = parse_cidr(text)
    return parsed.network if parsed is not None else None


def parse_cidr(text: str) -> SloppyCIDR | None:
    """``text`` parsed as ParseCIDRSloppy does, with what strict validation would object to."""
    slash = text.find("/")
    if slash < 0:
        return None
    addr, mask = text[:slash], text[slash + 1 :]
    raw = _parse_ipv4(addr)
    bits = 32
    if raw is None:
        raw, bits = _parse_ipv6(addr), 128
        if raw is None:
            return None
    n, used, ok = _dtoi(mask)
    if not ok or used != len(mask) or n > bits:
        return None
    value = int.from_bytes(raw, "big")
    host = value & ((1 << (bits - n)) - 1)
    masked = value - host
    mapped = bits == 128 and raw[:12] == _V4_IN_V6
    network: IPv4Network | IPv6Network
    if bits == 32:
        network = IPv4Network((masked, n))
    elif mapped and n >= 96:
        # Go's IPNet.Contains sees a v4-mapped network as the IPv4 network /n-96.
        network = IPv4Network((masked & 0xFFFFFFFF, n - 96))
    else:
        network = IPv6Network((masked, n))
    zeros = (len(mask) > 1 and mask[0] == "0") or _has_leading_zeros(addr)
    return SloppyCIDR(network, n, host != 0, zeros, mapped)


def parse_prefix(text: str) -> IPv4Network | IPv6Network | None:
    """Go's ``netip.ParsePrefix`` (what Cilium's agent reads CIDRs with), or None.

    Stricter than ParseCIDRSloppy: no leading zero in an IPv4 octet or in the prefix length,
    at most four digits in an IPv6 group; an IPv4-mapped address stays IPv6. Host bits are
    allowed (and masked in the network returned).
    """
    parsed = parse_cidr(text)
    if parsed is None or parsed.leading_zeros:
        return None
    if parsed.ipv4_mapped and parsed.network.version == 4:
        masked = int(parsed.network.network_address) | 0xFFFF00000000
        return IPv6Network((masked, parsed.prefix_length))
    return parsed.network


def parse_ip_sloppy(text: str) -> IPv4Address | IPv6Address | None:
    """An IP address as Go's ParseIP (k8s sloppy) reads it; IPv4-mapped IPv6 comes back as IPv4."""
    raw = _parse_ipv4(text)
    if raw is not None:
        return IPv4Address(raw)
    raw = _parse_ipv6(text)
    if raw is None:
        return None
    if raw[:12] == _V4_IN_V6:
        return IPv4Address(raw[12:])
    return IPv6Address(raw)


def strict_cidr_problems(text: str) -> list[str]:
    """What the StrictIPCIDRValidation feature gate (off by default) would reject, worded as it does."""
    parsed = parse_cidr(text)
    if parsed is None:
        return [INVALID_CIDR]
    if parsed.leading_zeros:
        return [LEADING_ZEROS]
    problems = []
    if parsed.ipv4_mapped:
        problems.append(IPV4_MAPPED)
    if parsed.host_bits:
        problems.append(HOST_BITS)
    return problems


def _dtoi(s: str, start: int = 0) -> tuple[int, int, bool]:
    """Go's dtoi: (number, characters consumed, ok); ASCII digits only."""
    n = 0
    i = start
    while i < len(s) and s[i] in _DIGITS:
        n = n * 10 + ord(s[i]) - 48
        if n >= _BIG:
            return _BIG, i - start, False
        i += 1
    if i == start:
        return 0, 0, False
    return n, i - start, True


def _xtoi(s: str, start: int) -> tuple[int, int, bool]:
    """Go's xtoi: hexadecimal, any number of digits while below 0xFFFFFF."""
    n = 0
    i = start
    while i < len(s) and s[i] in _HEX:
        n = n * 16 + _HEX[s[i]]
        if n >= _BIG:
            return 0, i - start, False
        i += 1
    if i == start:
        return 0, 0, False
    return n, i - start, True


def _parse_ipv4(s: str) -> bytes | None:
    """Exactly four decimal octets; leading zeros allowed and decimal (Go 1.16)."""
    octets = bytearray()
    i = 0
    for k in range(4):
        if i >= len(s):
            return None
        if k > 0:
            if s[i] != ".":
                return None
            i += 1
        n, used, ok = _dtoi(s, i)
        if not ok or n > 0xFF:
            return None
        i += used
        octets.append(n)
    if i != len(s):
        return None
    return bytes(octets)


def _parse_ipv6(s: str) -> bytes | None:
    """Go 1.16 parseIPv6: one ``::`` at most, optional trailing dotted IPv4, no zone."""
    ip = bytearray(16)
    ellipsis = -1
    pos = 0
    if s.startswith("::"):
        ellipsis = 0
        pos = 2
        if pos == len(s):
            return bytes(ip)
    i = 0
    while i < 16:
        n, used, ok = _xtoi(s, pos)
        if not ok or n > 0xFFFF:
            return None
        if pos + used < len(s) and s[pos + used] == ".":
            if (ellipsis < 0 and i != 12) or i + 4 > 16:
                return None
            v4 = _parse_ipv4(s[pos:])
            if v4 is None:
                return None
            ip[i : i + 4] = v4
            pos = len(s)
            i += 4
            break
        ip[i] = n >> 8
        ip[i + 1] = n & 0xFF
        i += 2
        pos += used
        if pos == len(s):
            break
        if s[pos] != ":" or pos + 1 == len(s):
            return None
        pos += 1
        if s[pos] == ":":
            if ellipsis >= 0:
                return None
            ellipsis = i
            pos += 1
            if pos == len(s):
                break
    if pos != len(s):
        return None
    if i < 16:
        if ellipsis < 0:
            return None
        gap = 16 - i
        ip[ellipsis + gap : 16] = ip[ellipsis:i]
        ip[ellipsis : ellipsis + gap] = bytes(gap)
    elif ellipsis >= 0:
        return None  # "::" must stand for at least one zero group
    return bytes(ip)


def _has_leading_zeros(addr: str) -> bool:
    """A decimal octet written with a leading 0, or a hex group of more than four digits."""
    head, _, tail = addr.rpartition(":")
    if "." in tail:
        if any(len(octet) > 1 and octet[0] == "0" for octet in tail.split(".")):
            return True
        hex_part = head
    else:
        hex_part = addr if ":" in addr else ""
    return any(len(group) > 4 for group in hex_part.split(":"))
