"""Cyclic garbage collection paused while the loader builds large acyclic structures."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Above this many new container objects, what was built is frozen rather than handed to
# the collector's youngest generation, whose next passes would walk all of it again: a
# 10,000-pod cluster makes ~70,000 of them as a JSON List (one per mapping and list),
# ~120,000 as YAML, and ``validate`` of it took 0.6 CPU s unfrozen against 0.3 frozen.
# Small inputs (a test's) are left to the collector.
FREEZE_ABOVE = 50_000


@contextmanager
def gc_paused(freeze: bool = False) -> Iterator[None]:
    """No cyclic collection inside the block; the previous state comes back after it.

    Parsed documents and model objects hold no reference cycles, so the collector frees
    nothing while they are built, yet each of its full passes walks every object loaded
    so far: at 100,000 pods that was half of the parse time and a third of the build.
    After a large batch the objects are frozen (``gc.freeze``), so later passes skip them
    too; reference counting still frees them as usual. ``freeze`` freezes whatever the
    block built, however little: a command's last structures, so that no pass walks them
    on the way out.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze or (enabled and gc.get_count()[0] > FREEZE_ABOVE):
            gc.freeze()
        if enabled:
            gc.enable()
