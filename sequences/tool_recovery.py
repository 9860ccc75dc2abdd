"""Bringing each tool back to a known, empty, safe state after an interrupted run.

The engine calls these before it resumes a run and after a terminate or a failed step (a
method names them in `@method(recover=...)`). Each commands the tool's safe state, clears its
alarms, and takes away any wafer still on it, so the next wafer meets an empty tool. A wafer
taken off this way is held by the engine if its step on the tool was irreversible.
"""

from __future__ import annotations

from packline.drivers.equipment import Equipment, ToolState
from packline.drivers.roles.dicing_saw import DicingSaw
from packline.drivers.roles.laminator import Laminator
from packline.drivers.roles.laser import Laser
from packline.drivers.roles.wire_bonder import WireBonder


async def make_safe(tool: Equipment) -> None:
    """Safe state, then a reset if the tool reports alarms or the driver is in fault."""
    await tool.abort()
    if await tool.refresh_alarms() or tool.state is ToolState.FAULT:
        await tool.reset()


async def recover_bonder(bonder: WireBonder) -> None:
    await make_safe(bonder)
    wafer_id = (await bonder.request_status()).wafer_id
    if wafer_id is not None:
        await bonder.unload(wafer_id)


async def recover_laminator(laminator: Laminator) -> None:
    await make_safe(laminator)
    if await laminator.request_wafer() is not None:
        await laminator.unload()


async def recover_laser(laser: Laser) -> None:
    await laser.disable_emission()
    await make_safe(laser)
    if await laser.request_wafer() is not None:
        await laser.open_enclosure()
        await laser.unload()


async def recover_saw(saw: DicingSaw) -> None:
    await make_safe(saw)
    await saw.stop_spindle()
    if await saw.request_workpiece() is not None:
        await saw.unmount()
