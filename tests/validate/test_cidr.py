"""Go's ParseCIDRSloppy, reproduced (spec 5.5 and 9), and the non-fatal CIDR warnings."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_network

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netpol.model.cidr import parse_cidr_sloppy, parse_ip_sloppy, strict_cidr_problems

from .support import Found, policy_errors, policy_warnings

# fmt: off
SLOPPY: list[tuple[str, str, IPv4Network | IPv6Network | None]] = [
    # one '/', decimal prefix
    ("plain", "10.0.0.0/8", IPv4Network("10.0.0.0/8")),
    ("no prefix", "10.0.0.0", None),
    ("two slashes", "10.0.0.0/8/8", None),
    ("empty prefix", "10.0.0.0/", None),
    ("empty text", "", None),
    ("prefix with leading zeros", "10.0.0.0/008", IPv4Network("10.0.0.0/8")),
    ("prefix with a sign", "10.0.0.0/+8", None),
    ("negative prefix", "10.0.0.0/-1", None),
    ("prefix with a space", "10.0.0.0/ 8", None),
    ("prefix with an underscore (Python's int accepts it)", "10.0.0.0/1_6", None),
    ("prefix in Arabic-Indic digits (Python's int accepts them)", "10.0.0.0/\u0668", None),
    ("prefix 0", "0.0.0.0/0", IPv4Network("0.0.0.0/0")),
    ("prefix 32", "1.2.3.4/32", IPv4Network("1.2.3.4/32")),
    ("prefix 33", "10.0.0.0/33", None),
    # IPv4: four decimal octets, leading zeros are decimal
    ("leading zeros are decimal, not octal", "010.001.000.000/8", IPv4Network("10.0.0.0/8")),
    ("octet 010 is ten", "192.168.010.0/24", IPv4Network("192.168.10.0/24")),
    ("hex octet", "0x0a.0.0.0/8", None),
    ("three octets", "10.0.0/8", None),
    ("five octets", "10.0.0.0.0/8", None),
    ("octet 256", "256.0.0.0/8", None),
    ("empty octet", "10..0.0/8", None),
    ("leading space", " 10.0.0.0/8", None),
    ("trailing newline", "10.0.0.0/8\n", None),
    ("full-width digits", "\uff11\uff10.0.0.0/8", None),
    # host bits are masked
    ("host bits", "10.0.0.1/8", IPv4Network("10.0.0.0/8")),
    ("host bits /24", "192.168.1.77/24", IPv4Network("192.168.1.0/24")),
    # no netmask or hostmask form, no zones
    ("netmask", "10.0.0.0/255.0.0.0", None),
    ("hostmask", "10.0.0.0/0.255.255.255", None),
    ("zone", "fe80::1%eth0/64", None),
    # IPv6
    ("IPv6 upper case", "2001:DB8::/32", IPv6Network("2001:db8::/32")),
    ("IPv6 non-canonical zeros", "2001:0db8:0000::/48", IPv6Network("2001:db8::/48")),
    ("IPv6 all", "::/0", IPv6Network("::/0")),
    ("IPv6 /128", "::1/128", IPv6Network("::1/128")),
    ("IPv6 /129", "::1/129", None),
    ("IPv6 host bits", "fd00::1/64", IPv6Network("fd00::/64")),
    ("IPv6 two ellipses", "1::2::3/64", None),
    ("IPv6 nine groups", "1:2:3:4:5:6:7:8:9/128", None),
    ("IPv6 ellipsis standing for no group", "1:2:3:4:5:6:7::8/128", None),
    ("IPv6 triple colon", ":::/0", None),
    ("IPv6 group of five digits with leading zeros (Go accepts)", "00001::/16", IPv6Network("1::/16")),
    ("IPv6 group above ffff", "10000::/16", None),
    ("IPv6 trailing IPv4", "::1.2.3.4/128", IPv6Network("::102:304/128")),
    ("IPv6 trailing IPv4 without ellipsis", "1:2:3:4:5:6:1.2.3.4/128", IPv6Network("1:2:3:4:5:6:102:304/128")),
    ("IPv6 trailing IPv4 too early", "1:2:3:4:5:1.2.3.4/128", None),
    # IPv4-mapped IPv6: IPv4 /n-96 when n >= 96
    ("mapped /104 is IPv4 /8", "::ffff:10.0.0.0/104", IPv4Network("10.0.0.0/8")),
    ("mapped /96 is IPv4 /0", "::ffff:10.0.0.0/96", IPv4Network("0.0.0.0/0")),
    ("mapped /128 is one IPv4 address", "::ffff:10.1.2.3/128", IPv4Network("10.1.2.3/32")),
    ("mapped in hex", "::ffff:a00:0/104", IPv4Network("10.0.0.0/8")),
    ("mapped below /96 is plain IPv6", "::ffff:10.0.0.0/80", IPv6Network("::/80")),
    ("mapped with three octets", "::ffff:1.2.3/104", None),
]
# fmt: on


@pytest.mark.parametrize(
    ("text", "network"), [pytest.param(t, n, id=name) for name, t, n in SLOPPY]
)
def test_parse_cidr_sloppy(text: str, network: IPv4Network | IPv6Network | None) -> None:
    assert parse_cidr_sloppy(text) == network


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("10.1.2.3", IPv4Address("10.1.2.3")),
        ("010.001.002.003", IPv4Address("10.1.2.3")),
        ("::ffff:10.1.2.3", IPv4Address("10.1.2.3")),
        ("2001:DB8::1", IPv6Address("2001:db8::1")),
        ("10.1.2.3/32", None),
        ("10.1.2", None),
        ("fe80::1%eth0", None),
        ("", None),
    ],
)
def test_parse_ip_sloppy(text: str, address: IPv4Address | IPv6Address | None) -> None:
    assert parse_ip_sloppy(text) == address


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        ("10.0.0.0/8", []),
        ("2001:db8::/32", []),
        ("010.0.0.0/8", ["must not have leading 0s in IP or prefix length"]),
        ("10.0.0.0/08", ["must not have leading 0s in IP or prefix length"]),
        ("10.0.0.1/8", ["must not have bits set beyond the prefix length"]),
        ("::ffff:10.0.0.0/104", ["must not have an IPv4-mapped IPv6 address"]),
        (
            "::ffff:10.0.0.1/104",
            [
                "must not have an IPv4-mapped IPv6 address",
                "must not have bits set beyond the prefix length",
            ],
        ),
        # strict parsing fails first on the zeros and says only that
        ("010.0.0.1/8", ["must not have leading 0s in IP or prefix length"]),
        ("10.0.0.0", ["must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"]),
    ],
)
def test_strict_cidr_problems(text: str, problems: list[str]) -> None:
    assert strict_cidr_problems(text) == problems


@given(st.ip_addresses(v=4), st.integers(0, 32))
def test_ipv4_agrees_with_ipaddress_on_standard_text(address: IPv4Address, prefix: int) -> None:
    expected = ip_network(f"{address}/{prefix}", strict=False)
    assert parse_cidr_sloppy(f"{address}/{prefix}") == expected


@given(st.ip_addresses(v=6), st.integers(0, 128))
def test_ipv6_agrees_with_ipaddress_on_standard_text(address: IPv6Address, prefix: int) -> None:
    if address.ipv4_mapped is not None and prefix >= 96:
        return  # Go-compatible IPv4 reading, tested above
    text = f"{address.exploded}/{prefix}"
    assert parse_cidr_sloppy(text) == ip_network(text, strict=False)
    compressed = f"{address.compressed}/{prefix}"
    assert parse_cidr_sloppy(compressed) == ip_network(compressed, strict=False)


@given(st.text(alphabet="0123456789abcdefABCDEF.:/%x -+", max_size=45))
def test_any_text_parses_or_is_refused_without_raising(text: str) -> None:
    network = parse_cidr_sloppy(text)
    assert network is None or "/" in text
    assert isinstance(strict_cidr_problems(text), list)


IPB = "spec.ingress[0].from[0].ipBlock"
STRICT = "rejected when the StrictIPCIDRValidation feature gate is on"


def block(cidr: str, *excepts: str) -> str:
    listed = ", ".join(f'"{e}"' for e in excepts)
    return f'ingress:\n  - from:\n      - ipBlock: {{cidr: "{cidr}", except: [{listed}]}}\n'


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(
            block("10.0.0.1/8"),
            [
                (
                    "Warning",
                    f"{IPB}.cidr",
                    f"must not have bits set beyond the prefix length ({STRICT}; read as 10.0.0.0/8)",
                    "10.0.0.1/8",
                    9,
                )
            ],
            id="host bits",
        ),
        pytest.param(
            block("010.0.0.0/8"),
            [
                (
                    "Warning",
                    f"{IPB}.cidr",
                    f"must not have leading 0s in IP or prefix length ({STRICT}; read as 10.0.0.0/8)",
                    "010.0.0.0/8",
                    9,
                )
            ],
            id="leading zeros",
        ),
        pytest.param(
            block("::ffff:10.0.0.0/104"),
            [
                (
                    "Warning",
                    f"{IPB}.cidr",
                    f"must not have an IPv4-mapped IPv6 address ({STRICT}; read as 10.0.0.0/8)",
                    "::ffff:10.0.0.0/104",
                    9,
                )
            ],
            id="IPv4-mapped",
        ),
        pytest.param(
            block("010.0.0.1/8"),
            [
                (
                    "Warning",
                    f"{IPB}.cidr",
                    f"must not have leading 0s in IP or prefix length ({STRICT}; read as 10.0.0.0/8)",
                    "010.0.0.1/8",
                    9,
                ),
                (
                    "Warning",
                    f"{IPB}.cidr",
                    f"must not have bits set beyond the prefix length ({STRICT}; read as 10.0.0.0/8)",
                    "010.0.0.1/8",
                    9,
                ),
            ],
            id="every non-standard part is named",
        ),
        pytest.param(
            block("2001:DB8::/32"),
            [
                (
                    "Warning",
                    f"{IPB}.cidr",
                    'IPv6 CIDR value is not in canonical form (RFC 5952): "2001:db8::/32"',
                    "2001:DB8::/32",
                    9,
                )
            ],
            id="non-canonical IPv6",
        ),
        pytest.param(
            block("10.0.0.0/8", "10.1.0.1/16"),
            [
                (
                    "Warning",
                    f"{IPB}.except[0]",
                    f"must not have bits set beyond the prefix length ({STRICT}; read as 10.1.0.0/16)",
                    "10.1.0.1/16",
                    9,
                )
            ],
            id="excepts too",
        ),
        pytest.param(block("10.0.0.0/8", "10.1.0.0/16"), [], id="standard values warn of nothing"),
    ],
)
def test_cidr_warnings_never_errors(spec: str, expected: list[Found]) -> None:
    assert policy_warnings(spec) == expected
    assert policy_errors(spec) == []
