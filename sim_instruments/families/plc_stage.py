"""A simulated PLC tool that takes one wafer (or panel) at a time on its stage (decision 0017).

The ball mounter, the stencil printer, the laminator and the plating cell present the wafer
they hold in their status and transfer it with `LOAD_WAFER` (its id) and `UNLOAD_WAFER`; the
map's part is `drivers/families/stage_map.py`, the driver's `drivers/families/plc_stage.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum

from packline.drivers.equipment import validate_wafer_id

from ..twin import WaferAlreadyProcessed
from .modbus_plc import ModbusPlcSimulator, Refused


class SingleWaferPlcSimulator(ModbusPlcSimulator):
    """A PLC tool that takes one wafer (or panel) at a time on its stage, platen or holder
    (the ball mounter, the stencil printer, the laminator, the plating cell;
    `SingleWaferPlcDriver` drives it): `WAFER_LOADED` and `WAFER_ID` in its status, the
    commands `LOAD_WAFER` (wafer id), `RELOAD_WAFER` (a rework) and `UNLOAD_WAFER`, and the
    refusals `WAFER_PRESENT`, `NO_WAFER`, `BAD_WAFER_ID` and `PROCESSED_HERE`; its `PHASE`
    register is where it is in its cycle."""

    #: Where the tool is in its cycle (its role's phases, READY ... FAULT).
    phase: IntEnum
    #: The id of the wafer the tool holds, or None.
    wafer_id: str | None = None

    def state_name(self) -> str:
        return self.phase.name.lower()

    def loaded(self) -> list[str]:
        """The wafer on the stage, by id, if any: as a batch tool's slots' (a job's end
        names the workpieces it ran on, `job_ended`)."""
        return [] if self.wafer_id is None else [self.wafer_id]

    def stage_status(self) -> dict[str, object]:
        """The phase and the wafer registers as the tool presents them now."""
        return {
            "PHASE": int(self.phase),
            "WAFER_LOADED": int(self.wafer_id is not None),
            "WAFER_ID": self.wafer_id or "",
        }

    def transfer(self, command: str, parameters: Mapping[str, float | list[int]]) -> Refused | None:
        """UNLOAD_WAFER, or LOAD_WAFER (RELOAD_WAFER, as a rework) onto the empty stage: the
        wafer is taken from the twin; an id that is not printable ASCII without spaces is
        refused `BAD_WAFER_ID`, and a plain load of a wafer this tool processed last
        `PROCESSED_HERE`, at the parameter register."""
        if command == "UNLOAD_WAFER":
            if self.wafer_id is None:
                return self.refused(self.reasons["NO_WAFER"])
            self.wafer_id = None
            return None
        if self.wafer_id is not None:
            return self.refused(self.reasons["WAFER_PRESENT"])
        try:
            wafer_id = self.text_parameter(parameters, "wafer_id")
            validate_wafer_id(wafer_id)
        except ValueError:
            return self.refused(self.reasons["BAD_WAFER_ID"], self.map.parameter_register)
        try:
            self.twin.load(wafer_id, self.name, rework=command == "RELOAD_WAFER")
        except WaferAlreadyProcessed:
            return self.refused(self.reasons["PROCESSED_HERE"], self.map.parameter_register)
        self.wafer_id = wafer_id
        return None
