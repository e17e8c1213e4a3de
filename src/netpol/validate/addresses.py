"""Pod IPs and cluster IPs: addresses a pod or a Service VIP can really have.

A pod IP is read by every verb with Python's strict parser, so it must be written as the
API server's strict IP validation wants it (no leading zeros, no IPv4-mapped IPv6). And it
must be an address a packet can be routed to: not unspecified, loopback, link-local,
multicast or broadcast (the API server's ``ValidateNonSpecialIP`` words, which it applies to
Endpoints, plus the two it has no need for). The lab's probes reach such an address on the
prober's own host, or nowhere, while the engine would answer for a pod there.
"""

from __future__ import annotations

import ipaddress

from netpol.model.cidr import parse_ip_sloppy

INVALID_IP = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
LEADING_ZEROS = "must not have leading 0s"
IPV4_MAPPED = "must not be an IPv4-mapped IPv6 address"
LOOPBACK = "may not be in the loopback range (127.0.0.0/8, ::1/128)"
LINK_LOCAL = "may not be in the link-local range (169.254.0.0/16, fe80::/10)"
LINK_LOCAL_MULTICAST = "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"
MULTICAST = "may not be a multicast address (224.0.0.0/4, ff00::/8)"
BROADCAST = "may not be the broadcast address (255.255.255.255)"

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def pod_ip_problems(text: str) -> list[str]:
    """What is wrong with ``text`` as a pod IP ([] when it is a routable, canonical address)."""
    if parse_ip_sloppy(text) is None:
        return [INVALID_IP]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:  # the API server's sloppy parser reads it, the strict one does not
        return [LEADING_ZEROS]
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return [IPV4_MAPPED]
    return special_ip_problems(address, text)


def special_ip_problems(address: Address, text: str) -> list[str]:
    """Why no pod and no Service VIP can have ``address`` ([] for an ordinary unicast one)."""
    if address.is_unspecified:
        return [f"may not be unspecified ({text})"]
    if address.is_loopback:
        return [LOOPBACK]
    if address.is_link_local:
        return [LINK_LOCAL]
    if _link_local_multicast(address):
        return [LINK_LOCAL_MULTICAST]
    if address.is_multicast:
        return [MULTICAST]
    if address == ipaddress.IPv4Address("255.255.255.255"):
        return [BROADCAST]
    return []


def _link_local_multicast(address: Address) -> bool:
    """Go's ``IP.IsLinkLocalMulticast``: 224.0.0.0/24, and ff02::/16 with any flags (ffX2)."""
    packed = address.packed
    if address.version == 4:
        return packed[:3] == b"\xe0\x00\x00"
    return packed[0] == 0xFF and packed[1] & 0x0F == 0x02
