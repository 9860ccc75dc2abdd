"""The GEM flip-chip bonder driver against the simulated GEM bonder: the role over E30."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator

import pytest

from packline.drivers.equipment import ToolState
from packline.drivers.errors import (
    CommandRefused,
    InterlockOpen,
    LimitViolation,
    ProtocolError,
    ToolAlarm,
)
from packline.drivers.roles.flip_chip_bonder import (
    BondRecipe,
    FlipChipState,
    FrameRecipe,
    SolderTransfer,
    TransferAlloy,
)
from packline.sim_instruments.twin import PanelSpec, TwinStore
from packline.testing.twin import bumped_dies, filled_panel

from .conftest import GemBench

RECIPE = BondRecipe(head_temperature_c=250, stage_temperature_c=150, bond_force_n=20, bond_time_s=5)


@pytest.fixture
async def fc_bench() -> AsyncIterator[GemBench]:
    """The simulated GEM flip-chip bonder, a filled panel P1 and a diced wafer W1 in its twin."""
    twin = TwinStore()
    filled_panel(twin, "P1")
    bumped_dies(twin, "W1")
    bench = GemBench("flip_chip_bonder", twin=twin)
    yield bench
    await bench.close()


async def test_connect_reads_identity_and_sets_up_the_run_events(fc_bench) -> None:
    bonder = await fc_bench.driver()
    assert str(bonder.identity) == "packline FC-1 s/n FC-1-0001 fw 1.0"
    assert bonder.state is ToolState.IDLE
    assert fc_bench.equipment.enabled_events == {3001, 3002, 3003}
    assert fc_bench.equipment.enabled_alarms == {4001, 4002, 4003}
    assert await bonder.request_last_bond() is None


async def test_dies_are_bonded_and_the_run_ends_on_its_event(fc_bench) -> None:
    bonder = await fc_bench.driver()
    await bonder.load("P1")
    assert await bonder.load_die_source("W1") == 88
    result = await bonder.bond_dies(RECIPE)
    assert (result.substrate_id, result.source_id) == ("P1", "W1")
    assert (result.dies_placed, result.dies_bonded, result.terminals_seated) == (6, 6, 144)
    assert result.fill_level_min_percent == result.fill_level_max_percent == 100.0
    assert result.holes_spilled == 0
    assert result == await bonder.request_last_bond()
    status = await bonder.request_status()
    assert (status.state, status.dies_left, status.runs_completed) == (FlipChipState.IDLE, 82, 1)
    assert status.stage_temperature_c == 150.0
    # no polling: after BOND only the two queries above (last bond, status) crossed the wire
    received = fc_bench.equipment.received
    assert received[received.index("S2F41 BOND") :] == ["S2F41 BOND", "S1F3", "S1F3"]
    assert (
        fc_bench.model.recipe
        | {
            "head_temperature_c": 250.0,
            "stage_temperature_c": 150.0,
            "bond_force_n": 20.0,
            "bond_time_s": 5.0,
        }
        == fc_bench.model.recipe
    )
    panel = fc_bench.twin.get("P1")
    assert panel.dies.bonded.all()
    assert panel.dies.count == 6
    await bonder.unload("P1")
    await bonder.unload_die_source("W1")
    assert (await bonder.request_status()).source_id is None


async def test_a_report_of_another_substrate_after_a_run_is_a_protocol_error(
    fc_bench, monkeypatch
) -> None:
    """The run's end event reports a bond on another substrate than the one the run was on
    (the tool's result variable names P9): the report does not follow the run (a
    ProtocolError, as on the host link), nothing of it is recorded."""
    bonder = await fc_bench.driver()
    told = fc_bench.model.status
    monkeypatch.setattr(
        fc_bench.model,
        "status",
        lambda name: "P9" if name == "result_substrate_id" else told(name),
    )
    await bonder.load("P1")
    await bonder.load_die_source("W1")
    with pytest.raises(ProtocolError, match=r"bond dies: .*bonder reports .*P9"):
        await bonder.bond_dies(RECIPE)
    assert not [r for r in bonder.readings if r.name == "terminals_seated"]


async def test_limits_interlocks_and_refusals(fc_bench) -> None:
    bonder = await fc_bench.driver()
    await bonder.load("P1")
    with pytest.raises(LimitViolation, match="bond_force_n"):
        await bonder.bond_dies(BondRecipe(250, 150, 400, 5))
    with pytest.raises(CommandRefused, match="HCACK 2"):
        await bonder.bond_dies(RECIPE)  # no die source
    await bonder.load_die_source("W1")
    fc_bench.model.tool.inject_fault("air_loss")
    with pytest.raises(InterlockOpen, match="head_air"):
        await bonder.bond_dies(RECIPE)
    assert "S2F41 BOND" not in fc_bench.equipment.received
    fc_bench.model.tool.clear_fault("air_loss")
    await bonder.bond_dies(RECIPE, first_unit=4)
    with pytest.raises(CommandRefused, match="HCACK 2"):
        await bonder.bond_dies(RECIPE, first_unit=5, unit_count=1)  # unit 5 carries a die


async def test_an_alarm_ends_the_run_and_the_dies_bonded_stay(fc_bench) -> None:
    bonder = await fc_bench.driver()
    await bonder.load("P1")
    await bonder.load_die_source("W1")
    tool = fc_bench.model.tool

    async def open_the_door_after_two_dies() -> None:
        while True:
            tool.advance()  # the model is brought to the present only when looked at
            if tool.run is not None and tool.run.done >= 2:
                break
            await fc_bench.clock.sleep(1.0)
        tool.inject_fault("door_open")

    opener = asyncio.create_task(open_the_door_after_two_dies())
    with pytest.raises(ToolAlarm, match="DOOR_OPENED"):
        await bonder.bond_dies(RECIPE)
    await opener
    assert bonder.state is ToolState.FAULT
    assert fc_bench.twin.get("P1").dies.count == 2


async def test_a_solder_transfer_ends_on_its_own_event(fc_bench) -> None:
    wafer = bumped_dies(fc_bench.twin, "W2", material="Pb95Sn5")
    bonder = await fc_bench.driver()
    await bonder.load("W2")
    transfer = SolderTransfer(TransferAlloy.SN63PB37, 20, BondRecipe(230, 100, 10, 3))
    result = await bonder.transfer_solder_layer(transfer, unit_count=4)
    assert (result.wafer_id, result.dies, result.bumps, result.bumps_coated) == ("W2", 4, 96, 96)
    assert result == await bonder.request_last_transfer()
    assert await bonder.request_last_bond() is None
    assert fc_bench.model.recipe["transfer_alloy"] == "Sn63Pb37"
    assert int((wafer.bumps.layer_um > 0).sum()) == 96


async def test_an_overfilled_panel_s_spilled_holes_come_with_the_run_s_event(fc_bench) -> None:
    """Filler and terminal 10 % over each hole: every level reads at its meniscus (105 %,
    in a 5 % tolerance) and `result_holes_spilled` counts the 144 holes that spilled."""
    filled_panel(fc_bench.twin, "P3", fill_ratio=1.10)
    bonder = await fc_bench.driver()
    await bonder.load("P3")
    await bonder.load_die_source("W1")
    result = await bonder.bond_dies(RECIPE)
    assert result.fill_level_max_percent == pytest.approx(105.0, abs=0.05)
    assert result.holes_spilled == 144
    assert result == await bonder.request_last_bond()


async def test_a_frame_run_ends_on_its_own_event(fc_bench) -> None:
    """000:x2 over E30: the frame's sizes as constants, `frame`, `frame_ended`; the column
    holes of an overfilled panel spill, and the event counts them."""
    panel = filled_panel(
        fc_bench.twin,
        "P2",
        spec=PanelSpec(rows=2, columns=3, columns_per_side=4),
        fill_ratio=1.10,
    )
    bonder = await fc_bench.driver()
    await bonder.load("P2")
    assert await bonder.request_last_frame() is None
    result = await bonder.mount_frames(FrameRecipe(400, 100, 36, RECIPE), unit_count=4)
    assert (result.substrate_id, result.frames, result.columns) == ("P2", 4, 64)
    assert (result.columns_seated, result.columns_joined, result.frames_bonded) == (64, 64, 4)
    assert result.holes_spilled == 64
    assert result == await bonder.request_last_frame()
    assert fc_bench.model.recipe["column_protrusion_um"] == 36
    assert int((panel.frame.height_um == 400).sum()) == 4
    with pytest.raises(LimitViolation, match="frame_um"):
        await bonder.mount_frames(FrameRecipe(3000, 100, 36, RECIPE))


async def test_values_past_a_bound_by_rounding_reach_the_bonder_as_the_bound(fc_bench) -> None:
    """A value a unit conversion left an ulp past a bound is taken, and the bonder is sent the
    bound itself (`Limit.held`), never the value past it: a transfer's film and recipe, a
    frame's sizes."""
    bumped_dies(fc_bench.twin, "W2", material="Pb95Sn5")
    filled_panel(fc_bench.twin, "P2", spec=PanelSpec(rows=2, columns=3, columns_per_side=4))
    bonder = await fc_bench.driver()
    received = fc_bench.values_received()
    await bonder.load("W2")
    recipe = BondRecipe(230, 100, math.nextafter(1, -math.inf), 3)
    film_um = math.nextafter(50, math.inf)
    await bonder.transfer_solder_layer(
        SolderTransfer(TransferAlloy.SN63PB37, film_um, recipe), unit_count=1
    )
    assert (received["film_um"], received["bond_force_n"]) == (50, 1)
    await bonder.unload("W2")
    await bonder.load("P2")
    frame = FrameRecipe(math.nextafter(1500, math.inf), 100, 36, RECIPE)
    await bonder.mount_frames(frame, unit_count=1)
    assert received["frame_um"] == 1500
