"""A Calico port written as a string is bounded at 65535, inclusive.

Mutation-checked: ``int(text) > 65535`` made ``>=`` in ``validate/calico.py`` passed every
validate test (only 65536 written as a number had a row).
"""

from __future__ import annotations

import pytest
from tests.load.test_calico import NP_HEAD, doc
from tests.validate.support import Found, errors

RANGE = "must be between 0 and 65535, inclusive"


@pytest.mark.parametrize(
    ("port", "expected"),
    [
        ("'65535'", []),
        ("'1:65535'", []),
        ("'65536'", [("Invalid", "spec.ingress[0].destination.ports[0]", RANGE, "65536", 7)]),
        ("'1:65536'", [("Invalid", "spec.ingress[0].destination.ports[0]", RANGE, "1:65536", 7)]),
    ],
)
def test_a_port_written_as_a_string_is_bounded_at_65535(port: str, expected: list[Found]) -> None:
    spec = f"ingress: [{{action: Allow, protocol: UDP, destination: {{ports: [{port}]}}}}]"
    assert errors(doc(NP_HEAD, spec)) == expected
