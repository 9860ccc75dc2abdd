"""A simulated PLC tool that takes a batch in slots behind a door (decisions 0008, 0010).

The plasma chamber and the oven present their door and slots in their status and load and
unload wafers slot by slot; the map's part is `drivers/families/batch_map.py`, the driver's
`drivers/families/plc_batch.py`.
"""

from __future__ import annotations

from collections.abc import Mapping

from packline.clock import Clock
from packline.drivers.equipment import validate_wafer_id
from packline.drivers.families.plc_map import PlcStatus, Reason

from ..servers import ModbusTransport
from ..twin import TwinStore, WaferAlreadyProcessed
from .modbus_plc import ModbusPlcSimulator, Refused


class BatchPlcSimulator(ModbusPlcSimulator):
    """A PLC tool that takes a batch in `capacity` slots behind a door (the plasma chamber,
    the oven): the slot status registers and the load and unload commands of a map with
    `SLOT_CAPACITY`, `SLOTS_OCCUPIED`, `SLOT_WAFER_ID`, `DOOR_CLOSED`, `LOAD_WAFER`,
    `RELOAD_WAFER` and `UNLOAD_WAFER`, and the refusals `SLOT_OCCUPIED`, `SLOT_EMPTY`,
    `BAD_WAFER_ID` and `PROCESSED_HERE`."""

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
            serial_number=serial_number,
            device_id=device_id,
            transport=transport,
        )
        slots = self.spec.status_by_name["SLOT_WAFER_ID"]
        assert isinstance(slots, PlcStatus)
        if not 1 <= capacity <= slots.repeat:
            raise ValueError(f"simulated {name}: capacity {capacity} outside 1-{slots.repeat}")
        self.capacity = capacity
        self.door_closed = False
        self.slots: list[str | None] = [None] * capacity

    def batch_status(self) -> dict[str, object]:
        """The door and slot registers as the tool presents them now."""
        return {
            "DOOR_CLOSED": int(self.door_closed),
            "SLOT_CAPACITY": self.capacity,
            "SLOTS_OCCUPIED": sum(1 << i for i, w in enumerate(self.slots) if w is not None),
            "SLOT_WAFER_ID": [wafer_id or "" for wafer_id in self.slots],
        }

    def loaded(self) -> list[str]:
        """The ids of the wafers in the slots, in slot order."""
        return [wafer_id for wafer_id in self.slots if wafer_id is not None]

    def transfer(self, command: str, parameters: Mapping[str, float | list[int]]) -> Refused | None:
        """LOAD_WAFER (RELOAD_WAFER, as a rework) or UNLOAD_WAFER through the open door; a
        loaded wafer is taken from the twin (a plain load of a wafer this tool processed last
        is refused `PROCESSED_HERE`)."""
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
            self.twin.load(wafer_id, self.name, rework=command == "RELOAD_WAFER")
        except WaferAlreadyProcessed:
            return self.refused(self.reasons["PROCESSED_HERE"])
        self.slots[slot] = wafer_id
        return None
