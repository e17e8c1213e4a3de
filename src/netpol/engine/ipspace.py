"""The IP space cut into atoms by every ipBlock boundary.

Every ipBlock (cidr minus excepts) is a union of atoms, so "external" becomes a finite
set of blocks and a pod IP's relation to every ipBlock is one atom index.
"""

from __future__ import annotations

import bisect
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass

from netpol.model.policy import IPAddress, IPBlock, IPNetwork

_SPAN = {4: 1 << 32, 6: 1 << 128}


@dataclass(frozen=True, slots=True)
class Atom:
    version: int
    start: int  # first address, as an integer
    end: int  # one past the last address

    def cidrs(self) -> list[str]:
        make = ipaddress.IPv4Address if self.version == 4 else ipaddress.IPv6Address
        first, last = make(self.start), make(self.end - 1)
        return [str(n) for n in ipaddress.summarize_address_range(first, last)]


def address_of_text(ip: str) -> tuple[int, int]:
    """(IP version, integer) of an address as written (validated): an IPv4 one without
    building an ``ipaddress`` object, which costs ten times more (a large cluster asks this
    of every pod)."""
    if ":" in ip:
        return 6, int(ipaddress.IPv6Address(ip))
    return 4, int.from_bytes(socket.inet_aton(ip), "big")


class IPAtoms:
    """Atoms of both families; atom ids are IPv4 atoms first, then IPv6 atoms."""

    def __init__(self, blocks: Iterable[IPBlock]) -> None:
        cuts: dict[int, set[int]] = {4: {0, _SPAN[4]}, 6: {0, _SPAN[6]}}
        for block in blocks:
            for net in (block.network, *block.except_networks):
                cuts[net.version].update(_bounds(net))
        self._bounds = {v: sorted(c) for v, c in cuts.items()}
        self._offset = {4: 0, 6: len(self._bounds[4]) - 1}
        self.atoms: list[Atom] = [
            Atom(v, bounds[i], bounds[i + 1])
            for v in (4, 6)
            for bounds in (self._bounds[v],)
            for i in range(len(bounds) - 1)
        ]
        self._block_masks: dict[IPBlock, int] = {}

    def atom_of(self, ip: IPAddress) -> int:
        bounds = self._bounds[ip.version]
        return self._offset[ip.version] + bisect.bisect_right(bounds, int(ip)) - 1

    def atom_of_text(self, ip: str) -> int:
        """``atom_of`` for an address as written (validated), without building an object."""
        if ":" not in ip and len(self._bounds[4]) == 2:
            return 0  # no IPv4 boundary at all: every IPv4 address is atom 0
        version, value = address_of_text(ip)
        return self._offset[version] + bisect.bisect_right(self._bounds[version], value) - 1

    def _range_mask(self, net: IPNetwork) -> int:
        bounds = self._bounds[net.version]
        start, end = _bounds(net)
        first = self._offset[net.version] + bisect.bisect_left(bounds, start)
        last = self._offset[net.version] + bisect.bisect_left(bounds, end)
        return ((1 << last) - 1) ^ ((1 << first) - 1)

    def block_mask(self, block: IPBlock) -> int:
        """Bitmask of the atoms inside ``block`` (cidr minus excepts)."""
        mask = self._block_masks.get(block)
        if mask is None:
            mask = self._range_mask(block.network)
            for excluded in block.except_networks:
                if excluded.version == block.network.version:
                    mask &= ~self._range_mask(excluded)
            self._block_masks[block] = mask
        return mask


def _bounds(net: IPNetwork) -> tuple[int, int]:
    start = int(net.network_address)
    return start, start + net.num_addresses
