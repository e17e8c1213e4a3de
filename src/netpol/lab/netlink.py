"""Just enough rtnetlink to set up a pod's side of its veth from this process.

A pod needs six small changes (loopback up, its /32, eth0 up, the gateway route, the default
route, the gateway's static neighbour entry). Sending them as netlink messages after entering
the pod's namespace costs microseconds; an ``ip`` process per pod costs milliseconds, which
for a few hundred pods is most of ``lab up``.
"""

from __future__ import annotations

import errno
import os
import socket
import struct

from netpol.lab.system import LabError

NETLINK_ROUTE = 0
RTM_NEWLINK, RTM_NEWADDR, RTM_NEWROUTE, RTM_NEWNEIGH = 16, 20, 24, 28
NLMSG_ERROR = 2
NLM_F_REQUEST, NLM_F_ACK, NLM_F_REPLACE, NLM_F_EXCL, NLM_F_CREATE = 0x1, 0x4, 0x100, 0x200, 0x400
IFF_UP = 0x1
IFA_ADDRESS, IFA_LOCAL = 1, 2
RTA_DST, RTA_OIF, RTA_GATEWAY = 1, 4, 5
RT_TABLE_MAIN, RTPROT_BOOT, RTN_UNICAST = 254, 3, 1
RT_SCOPE_UNIVERSE, RT_SCOPE_LINK = 0, 253
NDA_DST, NDA_LLADDR = 1, 2
NUD_PERMANENT = 0x80


def _attr(kind: int, data: bytes) -> bytes:
    length = 4 + len(data)
    return struct.pack("=HH", length, kind) + data + b"\0" * ((4 - length % 4) % 4)


class Netlink:
    """An rtnetlink socket in the namespace the calling thread is in when it is made."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
        self.sock.settimeout(5.0)
        self.seq = 0

    def close(self) -> None:
        self.sock.close()

    def request(self, kind: int, flags: int, body: bytes, what: str) -> None:
        self.seq += 1
        header = struct.pack(
            "=IHHII", 16 + len(body), kind, NLM_F_REQUEST | NLM_F_ACK | flags, self.seq, 0
        )
        self.sock.send(header + body)
        while True:
            reply = self.sock.recv(65536)
            offset = 0
            while offset + 16 <= len(reply):
                length, rtype, _flags, seq, _pid = struct.unpack_from("=IHHII", reply, offset)
                if rtype == NLMSG_ERROR and seq == self.seq:
                    (code,) = struct.unpack_from("=i", reply, offset + 16)
                    if code not in (0, -errno.EEXIST):
                        raise LabError(f"netlink: {what}: {os.strerror(-code)}")
                    return
                offset += max(length, 16)

    def link_up(self, index: int) -> None:
        body = struct.pack("=BxHiII", socket.AF_UNSPEC, 0, index, IFF_UP, IFF_UP)
        self.request(RTM_NEWLINK, 0, body, f"set link {index} up")

    def add_address(self, index: int, ip: str, prefix: int) -> None:
        packed = socket.inet_aton(ip)
        body = struct.pack("=BBBBI", socket.AF_INET, prefix, 0, RT_SCOPE_UNIVERSE, index)
        body += _attr(IFA_LOCAL, packed) + _attr(IFA_ADDRESS, packed)
        self.request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, body, f"add address {ip}")

    def add_route(self, index: int, dst: str | None, prefix: int, gateway: str | None) -> None:
        scope = RT_SCOPE_LINK if gateway is None else RT_SCOPE_UNIVERSE
        body = struct.pack(
            "=BBBBBBBBI",
            socket.AF_INET,
            prefix,
            0,
            0,
            RT_TABLE_MAIN,
            RTPROT_BOOT,
            scope,
            RTN_UNICAST,
            0,
        )
        if dst is not None:
            body += _attr(RTA_DST, socket.inet_aton(dst))
        if gateway is not None:
            body += _attr(RTA_GATEWAY, socket.inet_aton(gateway))
        body += _attr(RTA_OIF, struct.pack("=i", index))
        self.request(
            RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, body, f"add route to {dst or 'default'}"
        )

    def add_neighbour(self, index: int, ip: str, mac: str) -> None:
        body = struct.pack("=BxxxiHBB", socket.AF_INET, index, NUD_PERMANENT, 0, 0)
        body += _attr(NDA_DST, socket.inet_aton(ip))
        body += _attr(NDA_LLADDR, bytes(int(x, 16) for x in mac.split(":")))
        self.request(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, body, f"add neighbour {ip}")


def configure_pod(link: str, ip: str, gateway: str, gateway_mac: str) -> None:
    """In the current thread's namespace: lo and ``link`` up, ``ip``/32, routes via ``gateway``."""
    nl = Netlink()
    try:
        lo, index = socket.if_nametoindex("lo"), socket.if_nametoindex(link)
        nl.link_up(lo)
        nl.add_address(index, ip, 32)
        nl.link_up(index)
        nl.add_route(index, gateway, 32, None)
        nl.add_route(index, None, 0, gateway)
        nl.add_neighbour(index, gateway, gateway_mac)
    finally:
        nl.close()
