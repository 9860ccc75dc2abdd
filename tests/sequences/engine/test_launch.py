"""Opening a dry run: the garbage collector while it runs (`launch._collections_spared`)."""

from __future__ import annotations

import gc

from packline.sequences.engine import RunRequest, RunStore, open_run, prepare
from packline.sequences.engine.launch import DRY_RUN_COLLECTION_THRESHOLD, _collections_spared


async def test_a_dry_run_leaves_what_came_before_it_out_of_the_collectors_scans(store: RunStore):
    """While a dry run is open, what the process made before it is frozen out of the
    collector's scans and its youngest generation is collected less often; both as they were
    once it closes."""
    before = gc.get_threshold()
    async with open_run(store, prepare(RunRequest("plasma-clean", lot=1))) as engine:
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (DRY_RUN_COLLECTION_THRESHOLD, *before[1:])
        assert await engine.run() == "completed"
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_the_collector_is_as_it_was_once_the_last_of_two_dry_runs_ends():
    """Two dry runs open at once in one process (their ends in either order): the collector
    stays spared until the second ends, then is as it was before the first."""
    before = gc.get_threshold()
    first, second = _collections_spared(), _collections_spared()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert gc.get_threshold() == (DRY_RUN_COLLECTION_THRESHOLD, *before[1:])
    assert gc.get_freeze_count() > 0
    second.__exit__(None, None, None)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_a_process_that_froze_objects_of_its_own_keeps_them_frozen_after_a_dry_run():
    """What a process froze before a dry run (a server that forks) stays frozen once the run
    ends; the run freezes nothing of its own then."""
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with _collections_spared():
            assert gc.get_freeze_count() == frozen
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
