"""How tiered policies show their orders and networks."""

import ipaddress

import pytest

from netpol.model.tiers import ANY, EndpointMatch, order_number


@pytest.mark.parametrize(
    ("order", "shown"), [(1000.0, "1000"), (1e6, "1000000"), (100.5, "100.5"), (0.0, "0")]
)
def test_an_order_is_shown_as_written(order: float, shown: str) -> None:
    assert str(order_number(order)) == shown


def test_networks_are_shown_as_written_or_as_parsed() -> None:
    net = ipaddress.ip_network("10.0.0.0/8")
    written = EndpointMatch(ANY, nets=(net,), nets_text=("10.0.0.1/8",), not_nets=(net,))
    assert (written.nets_shown, written.not_nets_shown) == (("10.0.0.1/8",), ("10.0.0.0/8",))
    assert written.text() == "networks 10.0.0.1/8 AND not networks 10.0.0.0/8"
