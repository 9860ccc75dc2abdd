"""A short dry job per tool kind: what an equipment engineer runs to see a tool work, moving
no product.

Each kind's job is declared once, here (`DRY_JOBS`, by the registry's kind name), and run
through the tool's role interface, so it drives a tool on its native link and on GEM alike:
by packline's hardware-in-the-loop set (`station_checks`) on the tools of a station file or
the simulated line, and by the conformance suite on every simulated tool, which also proves
that no job processes a workpiece. A job starts from a tool that is idle, without an alarm
and holding nothing, and leaves it so, its door or enclosure as it found it.

Where a tool needs no workpiece to move (a chamber's pump and vent, an oven's nitrogen, a
saw's spindle, a laser's emission behind its closed shutter, a bath's heater, a plating
supply's output), its job uses none. Where moving at all means taking a workpiece (a
handler's transfer), the job takes a dummy wafer in and out again, processing nothing: on a
real line a dummy (test) wafer placed where the tool loads from, its id given with
`--dummy-wafer` (`DUMMY_WAFER_ID` by default). docs/hardware-in-the-loop.md lists every job
(`python -m packline.testing.dry_jobs docs/hardware-in-the-loop.md` renders the list).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from packline.drivers.electroplater import ModbusScpiElectroplater
from packline.drivers.roles.batch_chamber import BatchChamber
from packline.drivers.roles.dicing_saw import DicingSaw
from packline.drivers.roles.grinder import Grinder, GrindSide
from packline.drivers.roles.laser import Laser
from packline.drivers.roles.oven import Oven
from packline.drivers.roles.single_wafer import SingleWaferTool
from packline.drivers.roles.wet_bench import Tank, WetBench
from packline.drivers.specs.pages import page_command, table

#: The dummy wafer a transfer job takes in and out when none is named (`--dummy-wafer`).
DUMMY_WAFER_ID = "DUMMY01"

#: The plating supply's dry output: a few milliamperes at a low compliance voltage, into the
#: open circuit of an empty holder out of the bath (no current flows; the voltage rises to
#: the compliance), with the over-voltage protection just above it.
SUPPLY_CURRENT_A = 0.005
SUPPLY_VOLTAGE_V = 1.0
SUPPLY_OVER_VOLTAGE_V = 2.0


@dataclass(frozen=True)
class DryJob:
    """One tool kind's dry job: what it does and why it harms nothing (`does`, for the docs
    and a failing test), and the coroutine that runs it on the connected driver with the
    dummy wafer's id."""

    does: str
    run: Callable[[Any, str], Awaitable[None]]
    #: It takes the dummy wafer in and out (the tool moves nothing without one).
    dummy_wafer: bool = False


class _Door(Protocol):
    """A tool with a door whose status says whether it is closed (a chamber, an oven)."""

    async def request_status(self) -> Any: ...

    async def open_door(self) -> None: ...

    async def close_door(self) -> None: ...


@asynccontextmanager
async def _door_closed(tool: _Door) -> AsyncIterator[None]:
    """The door closed for the job and opened again after it, if it was open. A job that
    fails leaves the door closed: a failed pump-down or purge is looked at before it opens."""
    was_open = not (await tool.request_status()).door_closed
    if was_open:
        await tool.close_door()
    yield
    if was_open:
        await tool.open_door()


async def _pump_down_and_vent(chamber: BatchChamber, _dummy_wafer_id: str) -> None:
    async with _door_closed(chamber):
        await chamber.pump_down()
        await chamber.vent()


async def _purge_and_back_to_air(oven: Oven, _dummy_wafer_id: str) -> None:
    async with _door_closed(oven):
        await oven.purge(oven.limits["n2_flow_slm"].maximum, oven.limits["o2_limit_ppm"].maximum)
        await oven.stop_purge()


async def _spin_up_and_stop(saw: DicingSaw, _dummy_wafer_id: str) -> None:
    await saw.start_spindle(saw.limits["spindle_krpm"].minimum)
    await saw.stop_spindle()


async def _emission_behind_the_shutter(laser: Laser, _dummy_wafer_id: str) -> None:
    was_open = (await laser.request_status()).door_open
    await laser.close_shutter()
    if was_open:
        await laser.close_enclosure()
    await laser.enable_emission()
    await laser.disable_emission()
    if was_open:
        await laser.open_enclosure()


class _LoadsById(Protocol):
    """A tool that unloads a wafer by its id (a track, a bench, a bonder)."""

    async def load(self, wafer_id: str) -> None: ...

    async def unload(self, wafer_id: str) -> None: ...


async def _transfer_by_id(tool: _LoadsById, dummy_wafer_id: str) -> None:
    await tool.load(dummy_wafer_id)
    await tool.unload(dummy_wafer_id)


async def _baths_at_temperature_and_a_transfer(bench: WetBench, dummy_wafer_id: str) -> None:
    for tank in Tank:
        await bench.heat_bath(tank, (await bench.request_tank(tank)).set_temperature_c)
    await _transfer_by_id(bench, dummy_wafer_id)


async def _supply_into_the_empty_holder(
    cell: ModbusScpiElectroplater, _dummy_wafer_id: str
) -> None:
    action = "dry job"
    await cell.supply.set_output_levels(
        action, SUPPLY_CURRENT_A, SUPPLY_VOLTAGE_V, SUPPLY_OVER_VOLTAGE_V
    )
    await cell.supply.switch_output(action, True)
    try:
        await cell.supply.measure_watched(action)  # recorded as the cell's traces
    finally:
        await cell.supply.switch_output(action, False)


async def _vacuum_on_the_dummy_wafer(grinder: Grinder, dummy_wafer_id: str) -> None:
    await grinder.load(dummy_wafer_id, GrindSide.BACK)
    await grinder.apply_chuck_vacuum()
    await grinder.release_chuck_vacuum()
    await grinder.unload()


async def _transfer_in_and_out(tool: SingleWaferTool, dummy_wafer_id: str) -> None:
    await tool.load(dummy_wafer_id)
    await tool.unload()


#: A pump-down and vent of the empty chamber, the same for every batch vacuum chamber.
_CHAMBER = DryJob(
    "pump the empty chamber down to its base pressure and vent it, door closed for it and "
    "as found after; no gas, no RF or source power",
    _pump_down_and_vent,
)
#: A handler's transfer of the dummy wafer, the same for every tool that moves nothing else.
_TRANSFER = DryJob(
    "take the dummy wafer in and give it back; nothing is processed",
    _transfer_in_and_out,
    dummy_wafer=True,
)
_TRANSFER_BY_ID = DryJob(_TRANSFER.does, _transfer_by_id, dummy_wafer=True)

#: Every registered tool kind's dry job, by kind (a test holds this in step with the registry).
DRY_JOBS: dict[str, DryJob] = {
    "plasma_cleaner": _CHAMBER,
    "deposition": _CHAMBER,
    "oven": DryJob(
        "purge the empty oven with nitrogen at the highest flow its limits allow down to the "
        "loosest O2 limit, then stop the nitrogen (air again), door closed for it and as found "
        "after; the heaters stay off (the oven runs a profile only on a load)",
        _purge_and_back_to_air,
    ),
    "dicing_saw": DryJob(
        "run the spindle up to its lowest allowed speed with nothing on the chuck (the blade "
        "in air) and stop it",
        _spin_up_and_stop,
    ),
    "laser": DryJob(
        "switch the emission on and off with the shutter closed (the beam stays in the "
        "source), the enclosure closed for it and as found after",
        _emission_behind_the_shutter,
    ),
    "wet_bench": DryJob(
        "confirm every bath at its own set temperature (nothing is changed), then take the "
        "dummy wafer into the robot and back to its carrier; nothing is dipped",
        _baths_at_temperature_and_a_transfer,
        dummy_wafer=True,
    ),
    "electroplater": DryJob(
        f"switch the supply's output on at {SUPPLY_CURRENT_A * 1000:g} mA with a "
        f"{SUPPLY_VOLTAGE_V:g} V compliance into the empty holder out of the bath (no current "
        "flows), read it, and switch it off",
        _supply_into_the_empty_holder,
    ),
    "grinder": DryJob(
        "put the dummy wafer on the chuck, hold it by vacuum, release it and take it off; "
        "the wheels do not turn",
        _vacuum_on_the_dummy_wafer,
        dummy_wafer=True,
    ),
    "wire_bonder": _TRANSFER_BY_ID,
    "laminator": _TRANSFER,
    "ball_mounter": _TRANSFER,
    "lithography": _TRANSFER_BY_ID,
    "resin_coater": _TRANSFER_BY_ID,
    "dispenser": _TRANSFER_BY_ID,
    "flip_chip_bonder": _TRANSFER_BY_ID,
    "stencil_printer": _TRANSFER,
}


def page_tables() -> dict[str, str]:
    """The page's table of jobs, one row per kind, by its marker name."""
    rows = [
        (f"`{kind}`", job.does, "yes" if job.dummy_wafer else "no")
        for kind, job in sorted(DRY_JOBS.items())
    ]
    return {"dry-jobs": table(("tool kind", "dry job", "dummy wafer"), rows)}


def main(argv: Sequence[str] | None = None) -> int:
    """Rewrite the dry-job table of the page given (docs/hardware-in-the-loop.md)."""
    return page_command(argv, "packline.testing.dry_jobs", page_tables)


if __name__ == "__main__":
    raise SystemExit(main())
