"""Deterministic addresses for pods, Services and nodes that the input gives none.

An address is derived from the object's id (a hash into the range, then the next free
one), and objects are served in sorted order, so the result depends neither on the order
of the documents nor, mostly, on which other objects exist: adding a Deployment does not
renumber every pod, which would make ``diff`` report ipBlock changes nobody made.
"""

from __future__ import annotations

import hashlib
import ipaddress
import socket
from collections.abc import Iterable

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

SERVICE_CIDR = "10.96.0.0/12"
KUBERNETES_SERVICE_IP = "10.96.0.1"  # the `kubernetes` Service of every cluster
KUBE_DNS_SERVICE_IP = "10.96.0.10"  # kube-dns, as kubeadm and KIND configure it
# KIND puts its nodes on the docker network 172.18.0.0/16 (gateway .1, nodes from .2);
# the next /16s stand in when the pod CIDR would overlap it.
NODE_NETWORKS = (
    *(f"172.{n}.0.0/16" for n in range(18, 32)),
    "192.168.0.0/16",
    "100.64.0.0/16",
    "198.18.0.0/16",
)


def parse_network(text: str) -> IPNetwork | None:
    """``text`` as a network (host bits allowed), or None when it is not one."""
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def address_int(text: str) -> int | None:
    """The integer form of an IPv4/IPv6 address, or None for anything else."""
    try:
        return int(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


class Allocator:
    """Hands out addresses of ``network`` by hash of a key, probing to the next free one.

    Network and broadcast addresses (IPv4) and the ``reserved`` ones are never handed out.
    Probing follows "next free" links with path compression, so a crowded range costs
    amortised O(1) per address, not a scan.
    """

    def __init__(self, network: IPNetwork, reserved: Iterable[str] = ()) -> None:
        self.network = network
        self._base = int(network.network_address)
        size = network.num_addresses
        if network.version == 4 and size > 2:
            self._lo, self._hi = 1, size - 1  # not the network nor the broadcast address
        elif network.version == 6 and size > 1:
            self._lo, self._hi = 1, size  # not the subnet-router anycast address
        else:
            self._lo, self._hi = 0, size
        self._next: dict[int, int] = {}  # taken offset -> a candidate for the next free one
        for text in reserved:
            value = address_int(text)
            if value is not None:
                self.reserve(value)
        self._text = _ipv4_text if network.version == 4 else _ip_text
        self._digest_size = 8 if self._hi - self._lo < 1 << 48 else 16

    @property
    def capacity(self) -> int:
        return self._hi - self._lo

    @property
    def free(self) -> int:
        return self.capacity - len(self._next)

    def reserve(self, address: int) -> None:
        offset = address - self._base
        if self._lo <= offset < self._hi and offset not in self._next:
            self._next[offset] = offset + 1

    def allocate(self, key: str) -> str | None:
        """A free address for ``key`` (the same one for the same key and history), or None."""
        links = self._next
        capacity = self._hi - self._lo
        if len(links) >= capacity:
            return None
        digest = _blake2b(key.encode(), digest_size=self._digest_size).digest()
        offset = self._lo + int.from_bytes(digest, "big") % capacity
        if offset in links:  # taken: probe (rare where the range is much larger than the pods)
            offset = self._find(offset)
        links[offset] = offset + 1
        return self._text(self._base + offset)

    def allocate_many(self, keys: Iterable[str]) -> list[str | None]:
        """``[self.allocate(key) for key in keys]``, in one pass: the hashes of all keys
        first, then the probing in the same order (100,000 pods' addresses at once)."""
        capacity = self._hi - self._lo
        lo, base, size, text = self._lo, self._base, self._digest_size, self._text
        blake2b, from_bytes = _blake2b, int.from_bytes
        hashed = [
            lo + from_bytes(blake2b(key.encode(), digest_size=size).digest(), "big") % capacity
            for key in keys
        ]
        links = self._next
        out: list[str | None] = []
        for offset in hashed:
            if len(links) >= capacity:
                out.append(None)
                continue
            if offset in links:
                offset = self._find(offset)
            links[offset] = offset + 1
            out.append(text(base + offset))
        return out

    def next_free(self) -> str | None:
        """The lowest free address, for sequential numbering (nodes)."""
        if len(self._next) >= self.capacity:
            return None
        offset = self._find(self._lo)
        self._next[offset] = offset + 1
        return self._text(self._base + offset)

    def _find(self, offset: int) -> int:
        path = []
        links = self._next
        while offset in links:
            path.append(offset)
            offset = links[offset]
            if offset >= self._hi:
                offset = self._lo
        for taken in path:
            links[taken] = offset
        return offset


_blake2b = hashlib.blake2b


def _ipv4_text(value: int) -> str:
    return socket.inet_ntoa(value.to_bytes(4, "big"))


def _ip_text(value: int) -> str:
    return str(ipaddress.ip_address(value))


def node_network(avoid: Iterable[IPNetwork]) -> IPNetwork:
    """KIND's node network, or the next /16 that overlaps none of ``avoid``."""
    avoid = list(avoid)
    for text in NODE_NETWORKS:
        candidate = ipaddress.ip_network(text)
        if not any(candidate.version == a.version and candidate.overlaps(a) for a in avoid):
            return candidate
    return ipaddress.ip_network(NODE_NETWORKS[0])


def node_allocator(pod_network: IPNetwork | None, reserved: Iterable[str]) -> Allocator:
    """Sequential node IPs from .2 of the node network (.1 is the docker gateway)."""
    avoid = [ipaddress.ip_network(SERVICE_CIDR)]
    if pod_network is not None:
        avoid.append(pod_network)
    network = node_network(avoid)
    gateway = str(network.network_address + 1)
    return Allocator(network, [gateway, *reserved])


def service_allocator(reserved: Iterable[str]) -> Allocator:
    """ClusterIPs from 10.96.0.0/12, never the kubernetes or kube-dns addresses."""
    network = ipaddress.ip_network(SERVICE_CIDR)
    return Allocator(network, [KUBERNETES_SERVICE_IP, KUBE_DNS_SERVICE_IP, *reserved])
