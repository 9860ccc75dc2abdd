"""The simulated side of a batch vacuum chamber on a PLC map (plasma cleaner, deposition).

What both chambers present alike (`drivers/families/plc_chamber.py` drives it): the chamber
state, the door, the wafer slots with their ids, the run counter and the last run's result,
and the LOAD_WAFER / UNLOAD_WAFER / OPEN_DOOR / CLOSE_DOOR commands. Each tool adds its vacuum
model, its recipe and its physics.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import ClassVar

from packline.clock import Clock
from packline.drivers.roles.batch_chamber import ChamberState, LastResult

from ..servers import ModbusTransport
from ..twin import JobEnd, TwinStore
from .modbus_plc import Refused
from .plc_batch import BatchPlcSimulator


class PlcChamberSimulator(BatchPlcSimulator):
    """A simulated batch chamber: its state and run, on the family's batch base (door and
    slots)."""

    #: What a run does to its wafers, in the words of their twin events (`plasma clean`):
    #: the operation of each run the chamber ends (`finish_run`).
    job_operation: ClassVar[str]

    def __init__(
        self,
        name: str,
        twin: TwinStore,
        clock: Clock | None = None,
        *,
        capacity: int,
        serial_number: str,
        device_id: int = 1,
        transport: ModbusTransport = "tcp",
    ) -> None:
        super().__init__(
            name,
            twin,
            clock,
            capacity=capacity,
            serial_number=serial_number,
            device_id=device_id,
            transport=transport,
        )
        self.chamber = ChamberState.VENTED
        self.recipes_completed = 0
        self.last_result = LastResult.NONE
        self.phase_started_s = self.clock.now()

    def state_name(self) -> str:
        return self.chamber.name.lower()

    def takes_setpoints(self) -> bool:
        return self.chamber is not ChamberState.PROCESSING

    def chamber_values(self) -> dict[str, object]:
        """The shared part of the status: the run counter and result, door and slots."""
        return {
            "CHAMBER_STATE": int(self.chamber),
            "RECIPES_COMPLETED": self.recipes_completed % 65536,
            "LAST_RESULT": int(self.last_result),
            **self.batch_status(),
        }

    def execute(
        self,
        command: str,
        parameters: Mapping[str, float | list[int]],
        registers: list[int],
        start: int,
    ) -> Refused | None:
        """The chamber's commands; START_RECIPE is the tool's own (`start_recipe`)."""
        now = self.clock.now()
        if command == "RESET_ALARMS":
            # A cause that persists (a leak, a detuned match) shows again in the interlocks or
            # faults the next run.
            if self.chamber is ChamberState.FAULT:
                self.enter(ChamberState.EVACUATED if self.evacuated() else ChamberState.VENTING)
        elif command == "ABORT":
            if self.chamber is ChamberState.PROCESSING:
                self.finish_run(LastResult.ABORTED)
            elif self.chamber is ChamberState.PUMPING:
                self.enter(ChamberState.VENTING)
        elif command in ("CLOSE_DOOR", "OPEN_DOOR"):
            self.door_closed = command == "CLOSE_DOOR"
        elif command in ("LOAD_WAFER", "RELOAD_WAFER", "UNLOAD_WAFER"):
            return self.transfer(command, parameters)
        elif command == "PUMP_DOWN":
            self.enter(ChamberState.PUMPING)
        elif command == "VENT":
            self.enter(ChamberState.VENTING)
        elif command == "START_RECIPE":
            return self.start_recipe(registers, start, now)
        return None

    def enter(self, chamber: ChamberState) -> None:
        """Move the chamber to `chamber` now (a tool adds what its vacuum does then)."""
        self.chamber = chamber
        self.phase_started_s = self.clock.now()

    def finish_run(self, result: LastResult) -> None:
        """End the run in progress with `result`, told to the job listeners with every wafer
        in the chamber; the chamber stays evacuated."""
        self.last_result = result
        self.recipes_completed += 1
        self.enter(ChamberState.EVACUATED)
        self.job_ended(self.job_operation, self.loaded(), self.clock.now(), JobEnd[result.name])

    def fault(self, alarm: str) -> None:
        """Latch `alarm`: a run in progress ends faulted, the chamber goes to FAULT."""
        self.latch(alarm)
        if self.chamber is ChamberState.PROCESSING:
            self.finish_run(LastResult.FAULTED)
        self.enter(ChamberState.FAULT)

    @abstractmethod
    def evacuated(self) -> bool:
        """The chamber is at or below the pressure where it counts as evacuated."""

    @abstractmethod
    def start_recipe(self, registers: list[int], start: int, now: float) -> Refused | None:
        """START_RECIPE (the family has checked state and interlocks): check the recipe in the
        command block from `start`, begin the run or refuse."""
