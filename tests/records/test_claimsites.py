"""Which sites of a wafer fail each claim condition: the engine's evaluation, on the wafer a
condition reads, or the other workpiece it names."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from packline.records.claimsites import UnfinishedWafer, condition_sites
from packline.sequences import conditions
from packline.sequences.engine import BadInput, Condition
from packline.sim_instruments.twin import TwinStore, Workpiece


def never_at_a_step(wafer_id: str, step: str) -> Workpiece:
    raise AssertionError(f"no condition here is judged at a step: {wafer_id} {step}")


def twins_of(**workpieces: Workpiece) -> Callable[[str], Workpiece]:
    """A run's twins by id, as `RunRecords.workpiece` gives them: BadInput for one it did
    not record."""

    def twin(workpiece_id: str) -> Workpiece:
        if workpiece_id not in workpieces:
            raise BadInput(f"no twin snapshot of wafer {workpiece_id!r}")
        return workpieces[workpiece_id]

    return twin


def test_a_condition_on_the_wafer_gives_its_sites_and_one_on_a_board_the_boards():
    twins = TwinStore()
    wafer = twins.get("W01")
    wafer.surface.oxide_nm[:] = 0.0
    wafer.surface.oxide_nm[:3] = 50.0  # three tips still oxidised
    board = twins.get("BW01")
    board.surface.oxide_nm[:] = 0.0
    board.surface.oxide_nm[5] = 50.0  # the board's own failing site
    on_wafer = Condition(
        "003:11",
        "no oxide on any site",
        lambda w: (np.ones(w.geometry.site_count, bool), w.surface.oxide_nm <= 1.0),
    )
    on_board = replace(on_wafer, on=lambda wafer_id: f"B{wafer_id}")

    tips, joined = condition_sites(
        [on_wafer, on_board], "W01", twins_of(W01=wafer, BW01=board), never_at_a_step
    )

    assert tips.checked.all()
    assert np.flatnonzero(tips.failing).tolist() == [0, 1, 2]
    assert tips.on is None
    assert tips.per_site(wafer.geometry.site_count)
    # judged on the board's twin, at its sites
    assert (joined.on, joined.unjudged) == ("BW01", None)
    assert np.flatnonzero(joined.failing).tolist() == [5]


def test_a_condition_on_a_board_the_run_did_not_record_names_it_unjudged():
    wafer = TwinStore().get("W01")
    on_board = replace(conditions.joint_at_every_terminal("003:24"), on=lambda w: f"B{w}")

    (joined,) = condition_sites([on_board], "W01", twins_of(W01=wafer), never_at_a_step)

    assert (joined.on, joined.unjudged, joined.checked.size) == (
        "BW01",
        "read on BW01, whose twin the run did not record",
        0,
    )


def test_a_wafer_that_did_not_complete_is_judged_by_the_claims_its_steps_carried_out():
    """A held wafer's condition of a claim whose steps it did not all complete is not judged
    (its product is unfinished: every site would count failing), one of a claim whose steps
    are behind it is."""
    wafer = TwinStore().get("W01")
    wafer.surface.oxide_nm[:] = 50.0
    ran, never_ran = (
        Condition(
            claim,
            "no oxide on any site",
            lambda w: (np.ones(w.geometry.site_count, bool), w.surface.oxide_nm <= 1.0),
        )
        for claim in ("003:11", "003:12")
    )
    held = UnfinishedWafer("held", frozenset({"003:11"}))

    judged, unjudged = condition_sites(
        [ran, never_ran], "W01", twins_of(W01=wafer), never_at_a_step, held
    )

    assert judged.unjudged is None
    assert judged.failing.all()
    assert (unjudged.unjudged, unjudged.checked.size) == (
        "W01 held before completing the steps of 003:12",
        0,
    )
