"""Which sites of a wafer fail each claim condition: the engine's evaluation, on the wafer a
condition reads, or the other workpiece it names."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from packline.records.claimsites import condition_sites
from packline.sequences import conditions
from packline.sequences.engine import Condition
from packline.sim_instruments.twin import TwinStore, Workpiece


def never_at_a_step(wafer_id: str, step: str) -> Workpiece:
    raise AssertionError(f"no condition here is judged at a step: {wafer_id} {step}")


def test_a_condition_on_the_wafer_gives_its_sites_and_one_on_a_board_names_the_board():
    wafer = TwinStore().get("W01")
    wafer.surface.oxide_nm[:] = 0.0
    wafer.surface.oxide_nm[:3] = 50.0  # three tips still oxidised
    on_wafer = Condition(
        "003:11",
        "no oxide on any site",
        lambda w: (np.ones(w.geometry.site_count, bool), w.surface.oxide_nm <= 1.0),
    )
    joints = conditions.joint_at_every_terminal("003:24")
    on_board = replace(joints, on=lambda wafer_id: f"B{wafer_id}")

    tips, board = condition_sites([on_wafer, on_board], "W01", wafer, never_at_a_step)

    assert tips.checked.all()
    assert np.flatnonzero(tips.failing).tolist() == [0, 1, 2]
    assert tips.on is None
    assert tips.per_site(wafer.geometry.site_count)
    # the board's twin is not the wafer's: the condition is not evaluated on the wafer
    assert board.on == "BW01"
    assert board.checked.size == 0
    assert not board.per_site(wafer.geometry.site_count)
