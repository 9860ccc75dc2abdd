"""A batch vacuum chamber on a PLC map: what the plasma cleaner and deposition drivers share.

Both tools present the same chamber block on their Modbus PLC map (their pages): a chamber
state code (`ChamberState`), a door (`DOOR_CLOSED`, commands `OPEN_DOOR`/`CLOSE_DOOR`), wafer
slots (`SLOT_CAPACITY`, `SLOTS_OCCUPIED`, `SLOT_WAFER_ID` i; commands `LOAD_WAFER slot
wafer_id`, `UNLOAD_WAFER slot`), `PUMP_DOWN`, `VENT`, `ABORT` as the safe state (confirmed
by the status: the chamber neither processing nor pumping, its power and gas flow read 0),
and a run started by `START_RECIPE` whose end shows as `RECIPES_COMPLETED` counting on with
`LAST_RESULT`. The block is declared once for each chamber's spec in `chamber_map.py`;
`PlcChamberDriver` drives it once; each tool's driver adds its recipe.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import ClassVar, Protocol, TypeVar

from ..errors import ToolAlarm
from ..roles.batch_chamber import (
    BatchChamber,
    ChamberState,
    ChamberStatus,
    LastResult,
    chamber_unsafe,
)
from .plc_batch import BatchPlcDriver
from .plc_map import field


class RunStatus(ChamberStatus, Protocol):
    """The chamber status fields the shared waits read."""

    @property
    def recipes_completed(self) -> int: ...


S = TypeVar("S", bound=RunStatus)


class PlcChamberDriver(BatchPlcDriver[S], BatchChamber):
    """The pump-down, vent, run wait and safe state of a PLC batch chamber (its door and
    slots are the family's `BatchPlcDriver`)."""

    #: Process-time allowances for the chamber cycle, beyond which a wait is a timeout.
    pump_down_timeout_s: ClassVar[float] = 600.0
    vent_timeout_s: ClassVar[float] = 300.0

    async def wait_chamber(self, action: str, target: ChamberState, timeout_s: float) -> S:
        """Poll until the chamber reaches `target` (polls held by the PLC, `wait_until_held`); an
        alarm or a timeout ends the wait.

        A pump that never gets there is stopped (`wait_until` aborts): the chamber vents.
        """
        status: S  # the latest, for the timeout message

        async def poll() -> S | None:
            nonlocal status
            status = await self.traced_status()
            if status.chamber is target:
                return status
            if status.chamber is ChamberState.FAULT:
                await self.refresh_alarms()
                raise self.alarm_error(action)
            return None

        return await self.wait_until_held(
            action,
            poll,
            timeout_s,
            lambda: f"chamber still {status.chamber.name.lower()}",
        )

    async def wait_run(
        self, action: str, before: int, timeout_s: float, still: Callable[[], str]
    ) -> S:
        """Poll a run started when RECIPES_COMPLETED read `before` to its end (polls held by
        the PLC, `wait_until_held`); a run that ends other than completed is a `ToolAlarm`, an
        overrunning one is aborted."""

        async def poll() -> S | None:
            status = await self.traced_status()
            if status.chamber is ChamberState.FAULT:
                await self.refresh_alarms()
                raise self.alarm_error(action)
            if status.recipes_completed != before and status.chamber is ChamberState.EVACUATED:
                result = int(await self.read_status_value("LAST_RESULT"))
                if result != LastResult.COMPLETED:
                    raise ToolAlarm(
                        self.name,
                        self.address,
                        action,
                        [f"recipe ended {LastResult(result).name.lower()}"],
                    )
                return status
            return None

        return await self.wait_until_held(action, poll, timeout_s, still)

    async def pump_down(self) -> None:
        async with self.operation("pump down"):
            await self.require_interlocks(
                "pump down", self.spec.command_by_name["PUMP_DOWN"].interlocks
            )
            await self.command("pump down", "PUMP_DOWN")
            await self.wait_chamber("pump down", ChamberState.EVACUATED, self.pump_down_timeout_s)

    async def vent(self) -> None:
        async with self.operation("vent"):
            await self.command("vent", "VENT")
            await self.wait_chamber("vent", ChamberState.VENTED, self.vent_timeout_s)

    def encode_steps(
        self, action: str, steps: Sequence[Mapping[str, float | str]], stride: int
    ) -> list[int]:
        """The registers of a recipe's steps, each checked against the limits (`<action> step
        <n>` names a refused one) and laid `stride` registers from the last, the unused ones
        0 and the last step's cut short; nothing is sent here."""
        registers: list[int] = []
        fields: list[int] = []
        for index, values in enumerate(steps):
            fields = self.encode_fields(f"{action} step {index + 1}", values)
            registers += fields + [0] * (stride - len(fields))
        return registers[: len(registers) - stride + len(fields)]

    def setpoint_address(self, name: str) -> int:
        """The register of setpoint or parameter `name` (its first repetition)."""
        return field(self.spec, name).address()

    async def _command_safe_state(self) -> None:
        """Energy off and gases closed (the ABORT command: a run ends aborted, a pump-down
        vents), confirmed by the status (`chamber_unsafe`) within `safe_state_timeout_s`."""
        await self.abort_confirmed(chamber_unsafe)
