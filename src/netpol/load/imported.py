"""Functions imported on their first call: a verb whose input lacks a kind of object never
loads the modules that read or check it (admin, Calico and Cilium policies)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def imported_on_use(module: str, name: str) -> Callable[..., Any]:
    """A stand-in for the function ``module.name``: each call imports the module (once:
    Python keeps it) and passes its arguments on."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    call.__qualname__ = call.__name__ = name
    return call
