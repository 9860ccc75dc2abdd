"""A refusal's least value is found by bisection where what it judges grows with it
(`least_whole`), not by counting up second by second: the same answers. The plasma's least
last step for the oxide and for the residue is the least that passes (one second less is
refused), over powers and oxides. tape-substrate's ball pitch, which does not fall steadily
with the holes a side (so the most holes at which balls stay apart is still counted down), is
worked out on one unit and the units beside it, not on a twin of the whole panel with every
pair of its first units' sites: the same pitch."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest
from scipy.spatial import cKDTree

from packline.drivers.roles.plasma_cleaner import Gas
from packline.sequences.engine import least_whole
from packline.sequences.plasma_clean import PlasmaCleanRecipe
from packline.sequences.tape_substrate import TapeSubstrateRecipe
from packline.sequences.tape_substrate.recipe import nearest_site_pitch_um
from packline.sim_instruments.physics.ball_mounter import site_positions
from packline.sim_instruments.twin.incoming import new_panel

from .helpers import reference_recipe


@pytest.mark.parametrize("low", [0, 3, 17])
@pytest.mark.parametrize("threshold", [1, 18, 40, 1000])
def test_least_whole_is_the_least_number_counting_up_finds(low: int, threshold: int):
    if threshold <= low:
        return
    counted = next(n for n in range(low + 1, 2000) if n >= threshold)
    assert least_whole(low, 1500, lambda n: n >= threshold) == counted


def _steps(*steps: tuple[Gas, float, float], last_s: float) -> PlasmaCleanRecipe:
    """Plasma steps of (gas, power, time), the last one's time then set to `last_s` (outside
    the chamber's range too: what a refusal works with)."""
    recipe = PlasmaCleanRecipe.model_validate(
        {
            "steps": [
                {
                    "gas": gas.value,
                    "flow_sccm": "100 sccm",
                    "pressure_mtorr": "100 mTorr",
                    "rf_power_w": f"{power:g} W",
                    "time_s": f"{time_s:g} s",
                }
                for gas, power, time_s in steps
            ]
        }
    )
    last = recipe.steps[-1].model_copy(update={"time_s": last_s})
    return recipe.model_copy(update={"steps": [*recipe.steps[:-1], last]})


def _refused(check) -> int | None:
    try:
        check()
    except ValueError as error:
        (least,) = re.findall(r"give at least (\d+) s", str(error))
        return int(least)
    return None


@pytest.mark.parametrize("power_w", [100.0, 300.0, 800.0])
@pytest.mark.parametrize("oxide_nm", [2.0, 5.0, 30.0])
@pytest.mark.parametrize("o2_first", [False, True])
def test_the_least_ar_step_for_the_oxide_passes_and_one_second_less_is_refused(
    power_w: float, oxide_nm: float, o2_first: bool
):
    o2 = [(Gas.O2, 300.0, 120.0)] if o2_first else []

    def judged(ar_s: float) -> int | None:
        recipe = _steps(*o2, (Gas.AR, power_w, 60.0), last_s=ar_s)
        return _refused(
            lambda: recipe.require_oxide_removed(
                oxide_nm, oxidises=True, claim="003:11", steps_path="steps", metal="tips"
            )
        )

    least = judged(1.0)
    assert least is not None
    assert judged(least) is None
    assert judged(least - 1) == least


@pytest.mark.parametrize("power_w", [100.0, 300.0, 800.0])
@pytest.mark.parametrize("residue_nm", [100.0, 500.0, 5000.0])
@pytest.mark.parametrize("gas", [Gas.O2, Gas.AR])
def test_the_least_last_step_for_the_residue_passes_and_one_second_less_is_refused(
    power_w: float, residue_nm: float, gas: Gas
):
    def judged(last_s: float) -> int | None:
        recipe = _steps((gas, power_w, 60.0), last_s=last_s)
        return _refused(
            lambda: recipe.require_residue_removed(
                residue_nm, claim="003:10", steps_path="steps", metal="tips"
            )
        )

    least = judged(1.0)
    assert least is not None
    assert judged(least) is None
    assert judged(least - 1) == least


@pytest.mark.parametrize("shape", [(5, 20), (1, 20), (5, 1), (1, 1)])
def test_a_tape_panels_ball_pitch_is_the_whole_panels_and_does_not_fall_steadily(shape):
    """The pitch worked out on one unit and the units beside it (none where the panel has a
    single row or column) is the closest two balls' of the whole panel (to the twin's single
    precision), on tape-substrate-balls.yaml's dies with 1-40 holes a side: and it rises again
    past some counts, so the most holes that fit is counted down, not bisected."""
    recipe = TapeSubstrateRecipe.model_validate(reference_recipe("tape-substrate-balls.yaml"))
    balls = recipe.balls
    assert balls is not None
    rows, columns = shape
    spec = replace(recipe.panel.spec(), rows=rows, columns=columns)
    pitches = []
    for count in range(1, 41):
        panel = replace(spec, holes_per_die_side=count)
        pitch = nearest_site_pitch_um(panel, balls.sites())
        geometry = new_panel("whole", panel).geometry
        position = site_positions(geometry) - balls.first
        sites = (position >= 0) & (position < balls.balls_per_unit)
        points = np.c_[geometry.site_x_mm[sites], geometry.site_y_mm[sites]] * 1000.0
        whole = cKDTree(points).query(points, k=2)[0][:, 1].min() if len(points) > 1 else np.inf
        assert pitch == pytest.approx(whole, rel=1e-9)
        pitches.append(pitch)
    assert pitches != sorted(pitches, reverse=True)
