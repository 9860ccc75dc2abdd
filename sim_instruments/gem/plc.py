"""The GEM faces of the simulated tools on a Modbus PLC: the tool driven through its PLC.

A face drives its simulated tool through the tool's own PLC in process: every remote command is
the register write a Modbus host makes (the command's parameters, then its code) and every
constant that is a setpoint of the map its register, judged by the tool's `access` as a write
on the wire is; so the GEM tool refuses what the Modbus tool refuses, with the same physics on
the same twin. A refusal that blames a register a remote command parameter carried (the slot,
the wafer's id) becomes HCACK 3 with CPACK 2 on that parameter, any other (the door, the state,
an interlock, an alarm) HCACK 2.

What every PLC tool's face shares is here: the serial number and the interlocks as status
variables (the tool's own values, unrounded by registers), the load and unload (`LOAD_WAFER`,
`RELOAD_WAFER` as a rework, `UNLOAD_WAFER`, with the parameters their registers carry) and
the remote commands that are one PLC command each; a batch tool's face adds its door and slots
(`plc_batch.py`), the face of a kind its process (`run`) and its status values
(`tool_status`).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from packline.drivers.families.plc_map import PlcCommand, PlcSetpoint, field, registers_of

from ..families.modbus_plc import ModbusPlcSimulator
from .model import ILLEGAL_VALUE, GemRefused, SimulatedToolModel, WorkpieceProcessed

#: The load and unload as PLC commands, by (remote command, rework).
_TRANSFERS = {
    ("load", False): "LOAD_WAFER",
    ("load", True): "RELOAD_WAFER",
    ("unload", False): "UNLOAD_WAFER",
}
#: The refusals of a load or unload that blame a parameter's value, and which parameter.
_PARAMETER_REASONS = {
    "OUT_OF_RANGE": "slot",
    "SLOT_OCCUPIED": "slot",
    "SLOT_EMPTY": "slot",
    "BAD_WAFER_ID": "wafer_id",
}


class GemPlcModel(SimulatedToolModel):
    """The GEM face of a simulated tool on a Modbus PLC, driven through the PLC."""

    tool: ModbusPlcSimulator
    #: The remote commands that are one command of the PLC, by the map's names.
    plc_commands: ClassVar[Mapping[str, str]]

    def __init__(self, tool: ModbusPlcSimulator) -> None:
        super().__init__(tool)
        wire = tool.map
        #: The PLC's registers as a Modbus host would have written them (the setpoints, the
        #: last command and its parameters); the status registers are never read here.
        self._registers = [0] * (wire.command_register + 1 + wire.parameter_registers(tool.spec))

    def status(self, name: str) -> Any:
        tool = self.tool
        tool.advance()
        if name == "serial_number":
            return tool.serial_number
        if name in tool.spec.interlock_by_name:
            return tool.interlocks()[name]
        return self.tool_status(name)

    @abstractmethod
    def tool_status(self, name: str) -> Any:
        """The value of the kind's own status variable `name` (the tool is at the present)."""

    async def command(self, name: str, parameters: Mapping[str, Any]) -> int:
        if name in ("load", "unload"):
            rework = name == "load" and parameters.get("rework")
            self.plc_command(_TRANSFERS[name, bool(rework)], parameters)
        elif name in self.plc_commands:
            self.plc_command(self.plc_commands[name], {})
        else:
            hcack = await self.run(name, parameters)
            if hcack:
                return hcack
        await self.equipment.report_alarms()
        return 0

    @abstractmethod
    async def run(self, name: str, parameters: Mapping[str, Any]) -> int:
        """Run the kind's own remote command `name`: HCACK 0 (done; the alarms are reported
        after it) or 4 (a watcher follows it and reports its end), or `GemRefused`."""

    def plc_command(self, name: str, parameters: Mapping[str, Any]) -> None:
        """The PLC command `name` with its parameters by the role's names (`slot`,
        `wafer_id`, a setpoint's), written as a Modbus host writes it: the parameters, then the
        code. A refusal of a parameter's value (`_PARAMETER_REASONS`, a text that does not fit
        its registers, a register the PLC refuses as out of range) is HCACK 3 with CPACK 2 on
        it."""
        tool = self.tool
        command = tool.spec.command_by_name[name]
        assert isinstance(command, PlcCommand)
        wire = tool.map
        carried = list(wire.carried(tool.spec, command))
        registers = []
        for entry, _ in carried:
            try:
                registers += registers_of(entry, parameters[entry.name])
            except ValueError as error:
                raise GemRefused(3, f"{entry.name}: {error}", {entry.name: ILLEGAL_VALUE}) from None
        if registers:
            self.write(wire.parameter_register, registers)
        try:
            self.write(wire.command_register, [command.code])
            tool.changed()  # a watcher looks at the tool again now
        except GemRefused as refused:
            at = tool.refused_register
            blamed = (e.name for e, address in carried if address <= at < address + e.words)
            key = next(blamed, _PARAMETER_REASONS.get(tool.command_error.name))
            if key is None or key not in command.parameters:
                raise
            raise GemRefused(3, refused.text, {key: ILLEGAL_VALUE}) from None

    def write(self, address: int, values: list[int]) -> None:
        """One register write, judged by the tool; taken, it is stored. Refused, it is
        `GemRefused` (HCACK 2) naming the tool's reason, or `WorkpieceProcessed`."""
        tool = self.tool
        if tool.access(16, 0, address, len(values), self._registers, values) is None:
            self._registers[address : address + len(values)] = values
            return
        reason = tool.command_error
        texts = {refusal.code: refusal.text for refusal in tool.spec.refusals}
        text = f"write {values} at {address}: {reason.name}: {texts[reason]}"
        if reason.name == "PROCESSED_HERE":
            raise WorkpieceProcessed(text)
        raise GemRefused(2, text)

    def written(self, name: str) -> Any:
        """The role's value of setpoint block field `name` as last written (a coded one's
        text, "none" for a code of none)."""
        entry = field(self.tool.spec, name)
        raw = self._registers[entry.address()]
        if isinstance(entry, PlcSetpoint):
            return raw / entry.scale
        return (entry.text_of(raw) or "none") if entry.codes else raw

    def write_field(self, name: str, value: Any) -> None:
        """Setpoint block field `name` written as a Modbus host writes it (refused while the
        tool takes no setpoints: `GemRefused`, EAC 2 of an S2F15)."""
        entry = field(self.tool.spec, name)
        self.write(entry.address(), registers_of(entry, value))
