"""The counts of the summary line, in words."""

from __future__ import annotations

import pytest

from netpol.validate.summary import plural


@pytest.mark.parametrize(
    ("count", "noun", "text"),
    [
        (1, "Service", "1 Service"),
        (4, "Service", "4 Services"),
        (3, "NetworkPolicy", "3 NetworkPolicies"),
        (2, "Gateway", "2 Gateways"),
        (2, "Ingress", "2 Ingresses"),
        (2, "Endpoints", "2 Endpoints"),
        (2, "Expectations", "2 Expectations"),
        (0, "object", "0 objects"),
        (3, "Service (serving.knative.dev/v1)", "3 Services (serving.knative.dev/v1)"),
    ],
)
def test_plural(count: int, noun: str, text: str) -> None:
    assert plural(count, noun) == text
