"""An address as written gives the version and integer ``ipaddress`` gives, without the
object; and an atom found from the text is the atom found from the object."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from netpol.engine.ipspace import IPAtoms, address_of_text
from netpol.model.policy import IPBlock

EXACT = settings(max_examples=300, deadline=None, derandomize=True)
addresses = st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6))


def block(cidr: str, *excepts: str) -> IPBlock:
    networks = tuple(ipaddress.ip_network(e) for e in excepts)
    return IPBlock(cidr, ipaddress.ip_network(cidr), excepts, networks)


BLOCKS = [
    block("10.0.0.0/8", "10.1.0.0/16"),
    block("192.168.1.0/24"),
    block("fd00::/8", "fd00:1::/32"),
]


@EXACT
@given(addresses)
def test_the_text_gives_what_the_object_gives(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    assert address_of_text(str(address)) == (address.version, int(address))


@EXACT
@given(addresses)
def test_an_atom_from_the_text_is_the_atom_of_the_object(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    for blocks in ([], BLOCKS):
        atoms = IPAtoms(blocks)
        assert atoms.atom_of_text(str(address)) == atoms.atom_of(address)
