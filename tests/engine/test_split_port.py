"""How `--to NAME[:PORT[/PROTO]]` splits, IPv6 addresses included."""

from __future__ import annotations

import pytest

from netpol.engine.resolve import ResolveError, split_port


@pytest.mark.parametrize(
    ("text", "split"),
    [
        ("backend-svc:5678", ("backend-svc", 5678, "TCP")),
        ("kube-dns.kube-system:53/udp", ("kube-dns.kube-system", 53, "UDP")),
        ("10.0.0.1:80/SCTP", ("10.0.0.1", 80, "SCTP")),
        ("backend-svc", ("backend-svc", None, "TCP")),
        ("fd00::1:80", ("fd00::1:80", None, "TCP")),  # a whole IPv6 address, no port
        ("[fd00::1]:80", ("fd00::1", 80, "TCP")),
        ("2001:db8::5678", ("2001:db8::5678", None, "TCP")),
        ("backend-svc:http", ("backend-svc", "http", "")),  # a named port: its own protocol
        ("kube-dns.kube-system:dns/udp", ("kube-dns.kube-system", "dns", "UDP")),
    ],
)
def test_split(text: str, split: tuple[str, int | str | None, str]) -> None:
    assert split_port(text) == split


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "10.0.0.1:80/icmp",
            """'10.0.0.1:80/icmp': unknown protocol "icmp": one of TCP, UDP, SCTP""",
        ),
        (
            "backend-svc:http/TPC",
            """'backend-svc:http/TPC': unknown protocol "TPC": one of TCP, UDP, SCTP""",
        ),
        ("backend-svc:", "'backend-svc:': no port after the colon (write NAME:PORT[/PROTO])"),
        (
            "backend-svc:web_port",
            """'backend-svc:web_port': port "web_port" is neither a number (1-65535) nor a port name""",
        ),
        (
            "backend-svc:Http",
            """'backend-svc:Http': port "Http" is neither a number (1-65535) nor a port name""",
        ),
        ("backend-svc:0", "port 0 in 'backend-svc:0' is outside 1-65535"),
        ("backend-svc:65536", "port 65536 in 'backend-svc:65536' is outside 1-65535"),
    ],
)
def test_bad_ports_say_why(text: str, message: str) -> None:
    with pytest.raises(ResolveError) as error:
        split_port(text)
    assert str(error.value) == message
