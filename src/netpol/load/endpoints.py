"""Endpoints and EndpointSlices: the addresses behind a Service without a selector.

Only Cilium's ``toServices`` reads them (docs/cilium.md): for a Service without selector
the agent allows the addresses its Endpoints list, as CIDRs that match the world only.
A Service with a selector gets its pods from the selector, so its Endpoints add nothing.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from netpol.load.fields import FieldError, mapping, sequence, string, string_map

SERVICE_NAME_LABEL = "kubernetes.io/service-name"  # an EndpointSlice's Service


def endpoints_addresses(data: Any) -> tuple[str, ...]:
    """Every ``subsets[].addresses[].ip`` of a core Endpoints object."""
    found = []
    for i, subset in enumerate(sequence(data.get("subsets"), "subsets")):
        at = f"subsets[{i}]"
        addresses = sequence(mapping(subset, at).get("addresses"), f"{at}.addresses")
        for j, address in enumerate(addresses):
            field = f"{at}.addresses[{j}].ip"
            found.append(_ip(mapping(address, f"{at}.addresses[{j}]").get("ip"), field))
    return tuple(found)


def slice_service_and_addresses(data: Any) -> tuple[str | None, tuple[str, ...]]:
    """An EndpointSlice's Service (its ``kubernetes.io/service-name`` label) and every
    ``endpoints[].addresses[]``."""
    labels = string_map(mapping(data.get("metadata"), "metadata").get("labels"), "metadata.labels")
    found = []
    for i, endpoint in enumerate(sequence(data.get("endpoints"), "endpoints")):
        at = f"endpoints[{i}].addresses"
        for j, address in enumerate(
            sequence(mapping(endpoint, f"endpoints[{i}]").get("addresses"), at)
        ):
            found.append(_ip(address, f"{at}[{j}]"))
    return labels.get(SERVICE_NAME_LABEL), tuple(found)


def _ip(value: Any, field: str) -> str:
    text = string(value, field) or ""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise FieldError(field, f"{text[:80]!r} is not an IP address", text) from None
