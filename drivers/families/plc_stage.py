"""The driver of a PLC tool that takes one wafer (or panel) at a time on its stage (decision
0017): the ball mounter, the stencil printer, the laminator, the plating cell.

`SingleWaferPlcDriver` reads the stage block (`stage_map.py`) and loads and unloads the wafer;
`run_cycle` is the counted cycle of such a tool (send the command, wait until the cycle count
moves and the tool is READY again, a cycle not COMPLETED is an alarm). Their simulated side is
`sim_instruments/families/plc_stage.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from typing import ClassVar, Protocol, TypeVar

from ..equipment import READY_STATES
from ..errors import ToolAlarm
from ..roles.single_wafer import SingleWaferTool
from .modbus_plc import ModbusPlcDriver


class PhasedStatus(Protocol):
    """A status whose `phase` says where the tool is in its cycle; the phases name a `FAULT`."""

    @property
    def phase(self) -> IntEnum: ...


Phased = TypeVar("Phased", bound=PhasedStatus)


class SingleWaferPlcDriver(ModbusPlcDriver[Phased], SingleWaferTool):
    """A PLC tool that takes one wafer (or panel) at a time (the ball-mount cell's stage).

    Its map has the stage block (`drivers/families/stage_map.py`): `WAFER_LOADED` (0 or 1) and
    the text block `WAFER_ID` in its status, and the commands `LOAD_WAFER` (wafer id; as a
    rework `RELOAD_WAFER`, for the wafers `reloading` names) and `UNLOAD_WAFER`; `holder`
    words where the wafer lies. Its status has a `phase`, which the waits watch for the
    fault phase.
    """

    holder: ClassVar[str] = "on the stage"

    async def _command_safe_state(self) -> None:
        """The ABORT command (the tool stops at once: heads raised, heater off, press released
        and vented, the squeegee raised, as the kind has it), confirmed by the phase back at one
        of the role's states at rest (`not_at_rest`, its `AT_REST`) within
        `safe_state_timeout_s`, so the next command meets a ready or faulted tool."""
        await self.abort_confirmed(self.not_at_rest)

    async def wait_status(
        self, action: str, done: Callable[[Phased], bool], timeout_s: float
    ) -> list[Phased]:
        """Poll the status, recording traces, until `done`; returns every status seen, the
        last one satisfying `done`. The polls are held by the PLC until its counted status
        changes (`wait_until_held`), so `done` must turn on a counted value. The fault phase ends
        the wait (`check_fault`); past `timeout_s` the tool is aborted (`wait_until`), so it
        is never left running."""
        seen: list[Phased] = []

        async def poll() -> list[Phased] | None:
            status = await self.traced_status()
            seen.append(status)
            await self.check_fault(action, status)
            return seen if done(status) else None

        return await self.wait_until_held(
            action,
            poll,
            timeout_s,
            lambda: f"still {seen[-1].phase.name.lower()}",
        )

    async def check_fault(self, action: str, status: Phased) -> None:
        """In the fault phase, raise the tool's alarms (`ToolAlarm`; a fault phase without an
        alarm bit is one too)."""
        if status.phase.name == "FAULT":
            if not await self.refresh_alarms():
                raise ToolAlarm(
                    self.name, self.address, action, ["fault phase without an alarm bit"]
                )
            raise self.alarm_error(action)

    async def request_wafer(self) -> str | None:
        """The id of the loaded wafer, or None."""
        if not await self.read_status_value("WAFER_LOADED"):
            return None
        return await self.read_text("read wafer id", "WAFER_ID")

    async def load(self, wafer_id: str) -> None:
        """Place a wafer; refused with nothing sent while another one is there."""
        action = f"load wafer {wafer_id}"
        self.check_wafer_id(wafer_id)
        self.require_state(action, *READY_STATES)
        self.encode(action, "wafer_id", wafer_id)  # refuses an id that does not fit
        await self.require_empty(action)
        command = "RELOAD_WAFER" if wafer_id in self.reworks else "LOAD_WAFER"  # `reloading`
        await self.command(action, command, wafer_id=wafer_id)

    async def unload(self) -> str:
        """Take the wafer off; returns its id."""
        action = "unload wafer"
        self.require_state(action, *READY_STATES)
        wafer_id = await self.require_wafer(action)
        await self.command(f"unload wafer {wafer_id}", "UNLOAD_WAFER")
        return wafer_id


class CountedCycleStatus(PhasedStatus, Protocol):
    """The status of a tool that counts its cycles and says how the last one ended."""

    @property
    def cycles_completed(self) -> int: ...

    @property
    def last_result(self) -> IntEnum: ...


Counted = TypeVar("Counted", bound=CountedCycleStatus)


async def run_cycle(
    tool: SingleWaferPlcDriver[Counted], action: str, command: str, timeout_s: float
) -> Counted:
    """Send a cycle's `command` and wait until `tool` counts the cycle ended, back in its
    `READY` phase; returns the status then. A cycle whose `last_result` is not `COMPLETED` is a
    `ToolAlarm`; past `timeout_s` the tool is aborted (`wait_status`)."""
    before = (await tool.request_status()).cycles_completed
    await tool.command(action, command)
    seen = await tool.wait_status(
        action,
        lambda status: status.cycles_completed != before and status.phase.name == "READY",
        timeout_s,
    )
    end = seen[-1]
    if end.last_result.name != "COMPLETED":
        raise ToolAlarm(
            tool.name, tool.address, action, [f"cycle ended {end.last_result.name.lower()}"]
        )
    return end
