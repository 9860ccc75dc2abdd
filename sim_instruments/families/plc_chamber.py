"""The simulated side of a batch vacuum chamber on a PLC map (plasma cleaner, deposition).

What both chambers present alike (`drivers/families/plc_chamber.py` drives it): the chamber
state, the door, the wafer slots with their ids, the run counter and the last run's result,
and the LOAD_WAFER / UNLOAD_WAFER / OPEN_DOOR / CLOSE_DOOR commands. Each tool adds its vacuum
model, its recipe and its physics.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping

from packline.clock import Clock
from packline.drivers.equipment import validate_wafer_id
from packline.drivers.families.modbus_plc import Reason
from packline.drivers.roles.batch_chamber import ChamberState, LastResult

from ..servers import ModbusTransport
from ..twin import TwinStore, WaferAlreadyProcessed
from .modbus_plc import ModbusPlcSimulator, Refused


class PlcChamberSimulator(ModbusPlcSimulator):
    """A simulated batch chamber: state, door and slots, on the family's wire side."""

    def __init__(
        self,
        name: str,
        twin: TwinStore,
        clock: Clock | None = None,
        *,
        capacity: int,
        max_slots: int,
        serial_number: str,
        device_id: int = 1,
        transport: ModbusTransport = "tcp",
    ) -> None:
        super().__init__(
            name,
            twin,
            clock,
            serial_number=serial_number,
            device_id=device_id,
            transport=transport,
        )
        if not 1 <= capacity <= max_slots:
            raise ValueError(f"simulated {name}: capacity {capacity} outside 1-{max_slots}")
        self.capacity = capacity
        self.chamber = ChamberState.VENTED
        self.door_closed = False
        self.slots: list[str | None] = [None] * capacity
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
            "DOOR_CLOSED": int(self.door_closed),
            "SLOT_CAPACITY": self.capacity,
            "SLOTS_OCCUPIED": sum(1 << i for i, w in enumerate(self.slots) if w is not None),
            "SLOT_WAFER_ID": [wafer_id or "" for wafer_id in self.slots],
        }

    def loaded(self) -> list[str]:
        """The ids of the wafers in the chamber, by slot."""
        return [wafer_id for wafer_id in self.slots if wafer_id is not None]

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
        elif command in ("LOAD_WAFER", "UNLOAD_WAFER"):
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
        """End the run in progress with `result`; the chamber stays evacuated."""
        self.last_result = result
        self.recipes_completed += 1
        self.enter(ChamberState.EVACUATED)

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

    def transfer(self, command: str, parameters: Mapping[str, float | list[int]]) -> Refused | None:
        """LOAD_WAFER or UNLOAD_WAFER, by the map's reasons: the door open (2), the slot
        existing (4), occupied (SLOT_OCCUPIED) or empty (SLOT_EMPTY), and a printable id
        neither loaded nor processed here before (BAD_WAFER_ID)."""
        if self.door_closed:
            return self.refused(Reason.WRONG_STATE)
        slot = int(parameters["slot"])  # type: ignore[arg-type]
        if not 0 <= slot < self.capacity:
            return self.refused(Reason.OUT_OF_RANGE)
        if command == "UNLOAD_WAFER":
            if self.slots[slot] is None:
                return self.refused(self.reasons["SLOT_EMPTY"])
            self.slots[slot] = None
            return None
        if self.slots[slot] is not None:
            return self.refused(self.reasons["SLOT_OCCUPIED"])
        try:
            wafer_id = self.text_parameter(parameters, "wafer_id")
            validate_wafer_id(wafer_id)
        except ValueError:
            return self.refused(self.reasons["BAD_WAFER_ID"])
        if wafer_id in self.slots:
            return self.refused(self.reasons["BAD_WAFER_ID"])
        try:
            self.twin.load(wafer_id, self.name)
        except WaferAlreadyProcessed:
            return self.refused(self.reasons["BAD_WAFER_ID"])
        self.slots[slot] = wafer_id
        return None
