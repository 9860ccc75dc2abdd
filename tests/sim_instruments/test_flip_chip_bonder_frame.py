"""The flip-chip bonder's frames and stacks (000:x2) on the wire, with the physics in numbers.

A frame with copper conductor columns pressed on every unit of a panel with column holes: the
columns seated in the filled holes, the filler raised by their volume to the holes' tops, joined
where the filler wets; a frame misaligned past (hole - column) / 2 held off its holes; a panel
without column holes refused. Packages of a diced, balled panel stacked on the column tops as
they lie: their balls joined above the balls' liquidus, none below it, none on column tops left
under resin; a second level stacked on the first's column tops.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from packline.drivers.errors import CommandRefused
from packline.drivers.roles.flip_chip_bonder import BondRecipe, FrameRecipe, column_volume_nl
from packline.sequences.conditions import column_tops_flush, columns_joined
from packline.sim_instruments.twin import PanelSpec, ResinKind, TwinStore, Workpiece
from packline.sim_instruments.twin.parts import Face
from packline.testing.twin import STUD_BASE_UM, STUD_HEIGHT_UM, filled_panel

from .test_flip_chip_bonder import SOLDER, bonder_on_line, holds

#: The small panel with four column holes a side around each die.
FRAMED = PanelSpec(rows=2, columns=3, columns_per_side=4)
#: 100 um columns whose lower ends take what a 60 um stud of 100 um base takes of a hole:
#: pi/4 100^2 p = 0.6 pi/4 100^2 60, p = 36 um.
FRAME = FrameRecipe(frame_um=400, column_diameter_um=100, column_protrusion_um=36, recipe=SOLDER)
#: SAC305 balls (220 degC) wet at a joint of 150 + 0.9 * 150 = 285 degC, not at 195 degC.
HOT = BondRecipe(head_temperature_c=300, stage_temperature_c=150, bond_force_n=10, bond_time_s=5)
COOL = BondRecipe(head_temperature_c=200, stage_temperature_c=150, bond_force_n=10, bond_time_s=5)


def framed_panel(twin: TwinStore, panel_id: str, fill_ratio: float = 1.0) -> Workpiece:
    panel = filled_panel(twin, panel_id, spec=FRAMED, fill_ratio=fill_ratio)
    assert int(panel.geometry.column.sum()) == 6 * 16
    return panel


async def test_columns_pushing_filler_past_the_holes_tops_are_counted_as_spilled():
    """Filler and column 10 % over each column hole: its level reads at its meniscus, within
    the fill's tolerance, and `FRAME?`'s `SPILLED` counts the 96 holes the filler overflowed."""
    twin = TwinStore()
    panel = framed_panel(twin, "P1", fill_ratio=1.10)
    async with bonder_on_line(twin) as (_, bonder):
        await bonder.load("P1")
        result = await bonder.mount_frames(FRAME)
    assert result.fill_level_max_percent == pytest.approx(105.0, abs=0.05)
    assert result.holes_spilled == 96
    assert (panel.fill.overflow_nl[panel.geometry.column] > 0).all()


async def test_a_frame_s_columns_go_into_the_filled_holes_and_join():
    twin = TwinStore()
    panel = framed_panel(twin, "P1")
    assert column_volume_nl(100, 36, 75) == pytest.approx(
        0.6 * math.pi / 4 * STUD_BASE_UM**2 * STUD_HEIGHT_UM * 1e-6, rel=1e-6
    )
    async with bonder_on_line(twin) as (_, bonder):
        await bonder.load("P1")
        result = await bonder.mount_frames(FRAME)
        assert await bonder.request_last_frame() == result
    assert (result.frames, result.frames_bonded, result.columns) == (6, 6, 96)
    assert (result.columns_seated, result.columns_joined) == (96, 96)
    assert result.fill_level_min_percent == result.fill_level_max_percent == 100.0
    assert result.holes_spilled == 0
    columns = panel.geometry.column
    assert panel.fill.level_um[columns] == pytest.approx(np.full(96, 75.0), abs=0.01)
    assert (panel.frame.column_top_um[columns] == 400).all()
    assert (panel.frame.height_um == 400).all()
    assert holds(columns_joined("000:x2"), panel)
    assert not holds(column_tops_flush("000:x2", 2.0), panel)  # no package around them yet
    assert panel.operations() == ["frame mount"] * len(panel.history)


async def test_a_misaligned_frame_is_held_off_its_holes():
    twin = TwinStore()
    panel = framed_panel(twin, "P1")
    async with bonder_on_line(twin) as (sim, bonder):
        sim.inject_fault("vision_drift")  # 40 um off: more than (150 - 100) / 2
        await bonder.load("P1")
        result = await bonder.mount_frames(FRAME)
    assert (result.columns_seated, result.columns_joined, result.frames_bonded) == (0, 0, 0)
    assert not holds(columns_joined("000:x2"), panel)


async def test_a_panel_without_column_holes_takes_no_frame():
    twin = TwinStore()
    filled_panel(twin, "P1")
    async with bonder_on_line(twin) as (_, bonder):
        await bonder.load("P1")
        with pytest.raises(CommandRefused, match="no column sites") as refused:
            await bonder.mount_frames(FRAME)
    assert refused.value.code == "11"  # MISFIT


def ground(panel: Workpiece, resin_over_um: float = 0.0) -> Workpiece:
    """`panel` framed and ground as 000:f leaves it: frame and columns 300 um tall, the
    sealing resin `resin_over_um` above them."""
    panel.frame.height_um[:] = 300
    panel.frame.column_top_um[panel.geometry.column] = 300
    panel.frame.column_diameter_um[panel.geometry.column] = 100
    panel.add_resin(ResinKind.SEALING, 300 + resin_over_um, cure=1.0)
    return panel


def packages(twin: TwinStore, panel_id: str) -> Workpiece:
    """A framed panel, ground, SAC305 balls joined under its columns, diced: a source of
    packages to stack."""
    panel = ground(framed_panel(twin, panel_id))
    balls, columns = panel.balls, panel.geometry.column
    balls.face, balls.alloy = Face.BACK, "SAC305"
    balls.present[columns] = balls.joined[columns] = True
    balls.diameter_um[columns] = 250
    panel.singulation.units = panel.geometry.unit_count
    return panel


@pytest.mark.parametrize(
    ("recipe", "resin_over_um", "seated", "joined"),
    [
        (HOT, 0.0, 96, 96),  # above the liquidus, on exposed tops: every ball joined
        (COOL, 0.0, 96, 0),  # below it: seated, none wets
        (HOT, 5.0, 0, 0),  # the tops left under 5 um of resin: nothing to land on
    ],
)
async def test_packages_stack_on_the_column_tops(recipe, resin_over_um, seated, joined):
    twin = TwinStore()
    base = ground(framed_panel(twin, "P1"), resin_over_um)
    packages(twin, "P2")
    async with bonder_on_line(twin) as (_, bonder):
        await bonder.load("P1")
        assert await bonder.load_die_source("P2") == 6
        result = await bonder.bond_dies(recipe)
    assert (result.dies_placed, result.terminals) == (6, 96)
    assert (result.terminals_seated, result.terminals_joined) == (seated, joined)
    assert result.dies_bonded == (6 if joined else 0)
    assert result.fill_level_max_percent == result.holes_spilled == 0  # the balls go into no hole
    (level,) = base.stack.levels
    assert level.source == "P2"
    assert list(level.unit) == list(range(6))
    assert level.error_um[base.geometry.column].max() < 4 * 2.0 * math.sqrt(2)
    assert base.dies.count == 0  # packages are a level of the stack, not dies


async def test_a_second_level_stacks_on_the_first_level_s_column_tops():
    twin = TwinStore()
    base = ground(framed_panel(twin, "P1"))
    packages(twin, "P2")
    packages(twin, "P3")
    async with bonder_on_line(twin) as (_, bonder):
        await bonder.load("P1")
        for source in ("P2", "P3"):
            await bonder.load_die_source(source)
            result = await bonder.bond_dies(HOT)
            assert result.terminals_joined == 96
            await bonder.unload_die_source(source)
    assert [level.source for level in base.stack.levels] == ["P2", "P3"]
    assert (base.stack.height(6) == 2).all()
