"""What the GEM role drivers of batch vacuum chambers share: the pump-down and the vent.

A chamber's GEM face (the plasma cleaner's, the deposition chamber's) is a batch tool's
(`batch.py`) that pumps down and vents by remote commands answered HCACK 4 whose end is a
collection event (`pumped_down`, `vented`): no polling, and a pushed alarm ends the wait at
once. While the chamber pumps or vents it traces the kind's signals (`traced`, the Modbus
driver's names and units) every `poll_interval_s` of its time, `trace_group` samples a report,
within the Modbus driver's allowances (`PlcChamberDriver`). Its abort is confirmed as the
Modbus driver's: power and gas off, neither a run nor a pump-down going on (`chamber_unsafe`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import ClassVar

from ..families.plc_chamber import PlcChamberDriver
from ..roles.batch_chamber import ChamberStatus, chamber_unsafe
from .batch import BATCH_COMMANDS, GemBatchTool

#: The remote commands every chamber's face has, with their parameters (a `GemNeeds`'s).
CHAMBER_COMMANDS = {**BATCH_COMMANDS, "pump_down": (), "vent": (), "start": ()}


class GemChamberTool(GemBatchTool):
    """Base of the GEM role drivers of batch vacuum chambers (pump-down, vent, traces)."""

    #: The traced status variables, each with the reading name and unit it is recorded as
    #: (`plc.traced_as`).
    traced: ClassVar[Mapping[str, tuple[str, str]]]
    #: Samples a trace report carries (REPGSZ).
    trace_group: ClassVar[int]

    def unsafe(self, status: ChamberStatus) -> str | None:
        return chamber_unsafe(status)

    async def pump_down(self) -> None:
        action = "pump down"
        async with self.operation(action):
            await self.require_interlocks(action, self.spec.command_by_name["PUMP_DOWN"].interlocks)
            await self._cycle(
                action, "pump_down", "pumped_down", PlcChamberDriver.pump_down_timeout_s
            )

    async def vent(self) -> None:
        async with self.operation("vent"):
            await self._cycle("vent", "vent", "vented", PlcChamberDriver.vent_timeout_s)

    async def _cycle(self, action: str, command: str, event: str, timeout_s: float) -> None:
        """Remote command `command` (HCACK 4), traced, waited out on `event`."""
        async with self.traced_every(self.poll_interval_s):
            with self.expect_event(action, event) as ended:
                await self.command(command)
                await self.wait_event(action, ended, timeout_s, lambda: f"no {event} event")

    def traced_every(
        self,
        period_s: float,
        sampled: Callable[[float, Mapping[str, float]], None] | None = None,
        *,
        group_size: int | None = None,
    ) -> AbstractAsyncContextManager[None]:
        """For the block, `traced` every `period_s`, `trace_group` samples a report (or
        `group_size`; `sampled` hears each sample)."""
        group = self.trace_group if group_size is None else group_size
        return self.recorded_trace(self.traced, period_s, group, sampled)
