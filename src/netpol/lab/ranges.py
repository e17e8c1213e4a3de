"""IPv4 address ranges as sorted integer intervals: what nftables interval sets hold."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from netpol.engine.ports import merge_intervals
from netpol.model.policy import IPNetwork

Ranges = tuple[tuple[int, int], ...]  # sorted, disjoint, non-adjacent IPv4 ranges (ints)
ALL_V4: Ranges = ((0, (1 << 32) - 1),)


def subtract(ranges: Ranges, holes: Ranges) -> Ranges:
    """``ranges`` minus ``holes`` (both merged)."""
    out: list[tuple[int, int]] = []
    j = 0
    for lo, hi in ranges:
        while j < len(holes) and holes[j][1] < lo:
            j += 1
        k = j
        cur = lo
        while k < len(holes) and holes[k][0] <= hi:
            if holes[k][0] > cur:
                out.append((cur, holes[k][0] - 1))
            cur = max(cur, holes[k][1] + 1)
            k += 1
        if cur <= hi:
            out.append((cur, hi))
    return tuple(out)


def network_range(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> tuple[int, int]:
    return int(network.network_address), int(network.broadcast_address)


def ip_text(value: int) -> str:
    return str(ipaddress.IPv4Address(value))


def range_text(lo: int, hi: int) -> str:
    return ip_text(lo) if lo == hi else f"{ip_text(lo)}-{ip_text(hi)}"


def network_ranges(networks: Iterable[IPNetwork]) -> Ranges:
    """The IPv4 networks among ``networks``, merged (the lab is IPv4 only)."""
    return merge_intervals(network_range(n) for n in networks if n.version == 4)
