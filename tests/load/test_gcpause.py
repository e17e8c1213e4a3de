"""gc_paused: no collection inside, the collector's state restored, and what was built frozen
when asked (or when a batch is large)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from netpol.load.gcpause import FREEZE_ABOVE, gc_paused


@pytest.fixture(autouse=True)
def _thawed() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_the_collector_is_off_inside_and_restored_after() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # a caller that had it off keeps it off
    finally:
        gc.enable()


def test_a_small_block_is_frozen_only_when_asked() -> None:
    with gc_paused():
        kept = [[i] for i in range(1000)]
    assert gc.get_freeze_count() == 0
    with gc_paused(freeze=True):
        kept += [[i] for i in range(1000)]
    assert gc.get_freeze_count() >= 1000


def test_a_large_block_is_frozen_unasked_and_a_small_one_is_not() -> None:
    with gc_paused():
        kept = [[i] for i in range(FREEZE_ABOVE // 2)]
    assert gc.get_freeze_count() == 0
    with gc_paused():
        # twice the threshold: the collector's count also drops for every container freed
        # meanwhile, so one more than the threshold froze or not by the tests run before
        kept += [[i] for i in range(2 * FREEZE_ABOVE)]
    assert gc.get_freeze_count() >= 2 * FREEZE_ABOVE
    del kept
