"""The started heap is left out of the collector's passes while a line runs (packline.heap)."""

from __future__ import annotations

import gc
import weakref

import pytest

from packline.heap import frozen_heap


class _Node:
    """An object that can refer to itself: garbage only the collector frees."""

    def __init__(self) -> None:
        self.itself: _Node | None = self


def _cycle() -> weakref.ref[_Node]:
    """A reference cycle nothing else holds, seen through a weak reference."""
    return weakref.ref(_Node())


def test_objects_of_the_started_heap_are_left_out_until_the_block_ends() -> None:
    gc.disable()  # no automatic pass frees the cycle before the block freezes it
    try:
        started = _cycle()
        with frozen_heap():
            assert gc.get_freeze_count() > 0
            gc.collect()
            assert started() is not None
            made_meanwhile = _cycle()
            gc.collect()
            assert made_meanwhile() is None
        assert gc.get_freeze_count() == 0
        gc.collect()
        assert started() is None
    finally:
        gc.enable()


def test_the_heap_is_unfrozen_when_the_block_raises() -> None:
    with pytest.raises(KeyError), frozen_heap():
        raise KeyError("a run that fails")
    assert gc.get_freeze_count() == 0
