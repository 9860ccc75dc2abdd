"""The grid of a drawn per-site map (decision 0055): values a whole number of `MAP_STEP`s,
exact in float32, within half a step of what was drawn; the maps the tools draw are on it."""

from __future__ import annotations

import numpy as np

from packline.drivers.roles.wire_bonder import BondProgram, WireMaterial
from packline.sim_instruments.physics.wire_bonder import form_studs
from packline.sim_instruments.twin import WaferSpec, new_wafer
from packline.sim_instruments.twin.resolution import MAP_STEP, on_map_grid


def on_grid(values: np.ndarray) -> bool:
    steps = values.astype(np.float64) / MAP_STEP
    return bool(np.array_equal(steps, np.round(steps)))


def test_a_map_is_rounded_to_the_nearest_step_exactly():
    drawn = np.random.default_rng(7).normal(60.0, 1.2, 10_000)
    gridded = on_map_grid(drawn)
    assert gridded.dtype == np.float32
    assert on_grid(gridded)
    assert np.abs(gridded - drawn).max() <= MAP_STEP / 2
    assert np.array_equal(on_map_grid(gridded), gridded)  # already on it: unchanged


def test_the_incoming_residue_and_a_stud_runs_maps_are_on_the_grid():
    wafer = new_wafer("W01", WaferSpec(diameter_mm=100, pads_per_die_side=4))
    assert on_grid(wafer.surface.residue_nm)
    bare = np.zeros(500, np.float32)
    program = BondProgram(WireMaterial.AU, 25, 150, 35, 60, 12)
    height, base = form_studs(bare, bare, program, 2, np.random.default_rng(0))
    assert on_grid(height)
    assert on_grid(base)
    assert np.unique(height).size > 100  # still a spread, not a handful of values
