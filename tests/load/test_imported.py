"""``imported_on_use`` stands in for a function whose module is imported only when the
function is first called (validate's and the loader's checks and parsers of admin,
Calico and Cilium policies)."""

from __future__ import annotations

import sys

import pytest

from netpol.load.imported import imported_on_use


def test_the_module_is_imported_on_the_first_call_not_before() -> None:
    sys.modules.pop("colorsys", None)
    to_hsv = imported_on_use("colorsys", "rgb_to_hsv")
    assert "colorsys" not in sys.modules
    assert to_hsv(1.0, 0.0, 0.0) == (0.0, 1.0, 1.0)
    assert "colorsys" in sys.modules
    assert to_hsv(r=0.0, g=0.0, b=1.0) == sys.modules["colorsys"].rgb_to_hsv(0.0, 0.0, 1.0)


def test_a_name_the_module_lacks_fails_when_called() -> None:
    missing = imported_on_use("colorsys", "no_such_function")
    assert missing.__name__ == "no_such_function"
    with pytest.raises(AttributeError, match="no_such_function"):
        missing()
