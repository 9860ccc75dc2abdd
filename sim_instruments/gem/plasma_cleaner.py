"""The simulated plasma cleaner as a GEM equipment: `SimPlasmaCleaner`'s chamber behind E30.

The model drives the simulated chamber through its own PLC in process: every remote command is
the register write a Modbus host makes (the command's parameters, then its code) and every
recipe constant the setpoint registers of its steps, judged by the tool's `access` as a write on
the wire is; so the GEM chamber refuses what the Modbus chamber refuses, with the same vacuum,
RF and surface physics on the same twin. A refusal that blames a register a remote command
parameter carried (the slot, the wafer's id) becomes HCACK 3 with CPACK 2 on that parameter, any
other (the door, the state, an interlock, an alarm) HCACK 2. The status variables are the
chamber's own status values (`status_values`, its interlocks), unrounded by registers.

A pump-down, a vent and a run answer HCACK 4 and a watcher follows them on the line's clock:
it looks at the chamber at each step's end, at most `HOLD_SCAN_S` apart otherwise, and at once
when a fault comes (`SimulatedTool.hold`), so an alarm is pushed (S5F1) the moment the chamber
latches it; then it reports `step_started` at each step, and `pumped_down`, `vented` or
`run_ended` at the end.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from packline.clock import Clock
from packline.drivers.families.chamber_map import MAX_STEPS
from packline.drivers.families.plc_map import PlcCommand, PlcSetpoint, field
from packline.drivers.gem.plasma_cleaner import RECIPE_CONSTANTS
from packline.drivers.links.registers import ascii_to_registers
from packline.drivers.roles.plasma_cleaner import ChamberState
from packline.drivers.specs.plasma_cleaner import SPEC

from ..plasma_cleaner import SimPlasmaCleaner
from ..twin import TwinStore
from .model import ILLEGAL_VALUE, GemRefused, SimulatedToolModel, WorkpieceProcessed

#: The step field each of the recipe's equipment constants (one element a step) sets.
RECIPE_FIELDS = {constant: name for name, constant in RECIPE_CONSTANTS.items()}
#: The status variables that are the chamber's status values, by the map's names.
_STATUS_VALUES = {
    "pressure_mtorr": "PRESSURE",
    "rf_forward_w": "RF_FORWARD",
    "rf_reflected_w": "RF_REFLECTED",
    "gas_flow_sccm": "GAS_FLOW",
    "step": "STEP_INDEX",
    "step_remaining_s": "STEP_REMAINING",
    "elapsed_s": "ELAPSED",
    "recipes_completed": "RECIPES_COMPLETED",
    "base_pressure_mtorr": "BASE_PRESSURE",
}
#: The remote commands that are one command of the chamber's PLC, by the map's names.
_PLC_COMMANDS = {
    "open_door": "OPEN_DOOR",
    "close_door": "CLOSE_DOOR",
    "abort": "ABORT",
    "clear_alarms": "RESET_ALARMS",
}
#: The load and unload as PLC commands, by (remote command, rework).
_TRANSFERS = {
    ("load", False): "LOAD_WAFER",
    ("load", True): "RELOAD_WAFER",
    ("unload", False): "UNLOAD_WAFER",
}
#: The remote commands a watcher follows to their end: the PLC's command, the chamber's state
#: while it goes on, and the state whose reaching its event tells (None: any end).
_FOLLOWED = {
    "pump_down": ("PUMP_DOWN", ChamberState.PUMPING, ChamberState.EVACUATED),
    "vent": ("VENT", ChamberState.VENTING, ChamberState.VENTED),
    "start": ("START_RECIPE", ChamberState.PROCESSING, None),
}
#: The event that tells the end of each state a watcher follows.
_ENDS = {
    ChamberState.PUMPING: "pumped_down",
    ChamberState.VENTING: "vented",
    ChamberState.PROCESSING: "run_ended",
}
#: The refusals of a load or unload that blame a parameter's value, and which parameter.
_PARAMETER_REASONS = {
    "OUT_OF_RANGE": "slot",
    "SLOT_OCCUPIED": "slot",
    "SLOT_EMPTY": "slot",
    "BAD_WAFER_ID": "wafer_id",
}


class GemPlasmaCleanerModel(SimulatedToolModel):
    """The GEM face of a `SimPlasmaCleaner` (built here on the line's twin and clock)."""

    tool: SimPlasmaCleaner
    spec = SPEC

    def __init__(
        self, name: str, twin: TwinStore, clock: Clock | None = None, **options: Any
    ) -> None:
        super().__init__(SimPlasmaCleaner(name, twin, clock, **options))
        wire = self.tool.map
        #: The PLC's registers as a Modbus host would have written them (the recipe's steps,
        #: the last command and its parameters); the status registers are never read here.
        self._registers = [0] * (wire.command_register + 1 + wire.parameter_registers(SPEC))
        #: The recipe's constants, one element a step (none until the host sets them).
        self.recipe: dict[str, tuple[Any, ...]] = dict.fromkeys(RECIPE_FIELDS, ())

    # ----------------------------------------------------------------- values

    def status(self, name: str) -> Any:
        tool = self.tool
        tool.advance()
        if name == "serial_number":
            return tool.serial_number
        if name == "chamber_state":
            return tool.chamber.name.lower()
        if name == "last_result":
            return tool.last_result.name.lower()
        if name == "door_closed":
            return tool.door_closed
        if name == "slot_capacity":
            return tool.capacity
        if name.startswith("slot_"):
            slot = int(name.removeprefix("slot_"))
            return (tool.slots[slot] or "") if slot < tool.capacity else ""
        if name in tool.spec.interlock_by_name:
            return tool.interlocks()[name]
        values = tool.status_values()
        if name == "gas":
            code = int(values["GAS_ACTUAL"])  # type: ignore[call-overload]
            return field(SPEC, "gas").text_of(code) or "none"
        return float(values[_STATUS_VALUES[name]])  # type: ignore[arg-type]

    def constant(self, name: str) -> Any:
        return self.recipe[name]

    def constant_range(self, name: str) -> tuple[float, float] | None:
        """None: a constant of the recipe is an array, each element judged by its step's
        register (`accepts_constant`; the page's table gives the ranges)."""
        return None

    def accepts_constant(self, name: str, value: Any) -> bool:
        """Every element in what its step's register takes, at most `MAX_STEPS` of them."""
        entry = field(SPEC, RECIPE_FIELDS[name])
        if len(value) > MAX_STEPS:
            return False
        if isinstance(entry, PlcSetpoint):
            return all(entry.register_range.contains(round(v * entry.scale)) for v in value)
        return all(entry.code_of(str(v)) is not None for v in value)

    def set_constants(self, values: Mapping[str, Any]) -> None:
        """Write the steps' registers of the constants given, as one write each (refused
        while the chamber runs: EAC 2)."""
        for name, steps in values.items():
            entry = field(SPEC, RECIPE_FIELDS[name])
            for index, value in enumerate(steps):
                raw = (
                    round(value * entry.scale)
                    if isinstance(entry, PlcSetpoint)
                    else entry.code_of(str(value))
                )
                self._write(entry.address(index), [raw])
            self.recipe[name] = tuple(steps)

    # ----------------------------------------------------------------- commands

    async def command(self, name: str, parameters: Mapping[str, Any]) -> int:
        if name in _FOLLOWED:
            plc_command, running, target = _FOLLOWED[name]
            if name == "start":
                self._write(field(SPEC, "steps").address(), [self._steps()])
            self._command(plc_command, {})
            await self.stop()  # a vent that cuts a pump-down short is followed instead
            self.watch(lambda: self._follow(running, target))
            return 4
        if name in ("load", "unload"):
            keys = ("slot", "wafer_id") if name == "load" else ("slot",)
            missing = {key: ILLEGAL_VALUE for key in keys if key not in parameters}
            if missing:
                raise GemRefused(3, f"{name} without {' and '.join(missing)}", missing)
            rework = name == "load" and parameters.get("rework")
            self._command(_TRANSFERS[name, bool(rework)], parameters)
        else:
            self._command(_PLC_COMMANDS[name], {})
        await self.equipment.report_alarms()
        return 0

    def _steps(self) -> int:
        """The recipe's steps: as many as its durations; GemRefused (HCACK 2) for a recipe none
        set or whose constants differ in length."""
        lengths = {name: len(steps) for name, steps in self.recipe.items()}
        if len(set(lengths.values())) != 1 or not lengths["step_time_s"]:
            described = ", ".join(f"{name} {length}" for name, length in lengths.items())
            raise GemRefused(2, f"the recipe's constants differ in steps or have none: {described}")
        return lengths["step_time_s"]

    def _command(self, name: str, parameters: Mapping[str, Any]) -> None:
        """The PLC command `name` with its parameters by the role's names (`slot`,
        `wafer_id`), written as a Modbus host writes it: the parameters, then the code. A
        refusal of a parameter's value (`_PARAMETER_REASONS`) is HCACK 3 with CPACK 2 on it."""
        command = SPEC.command_by_name[name]
        assert isinstance(command, PlcCommand)
        wire = self.tool.map
        registers = [
            register
            for entry, _ in wire.carried(SPEC, command)
            for register in (
                ascii_to_registers(str(parameters[entry.name]), entry.words)
                if entry.text
                else [int(parameters[entry.name])]
            )
        ]
        if registers:
            self._write(wire.parameter_register, registers)
        try:
            self._write(wire.command_register, [command.code])
            self.tool.changed()  # a watcher looks at the chamber again now
        except GemRefused as refused:
            key = _PARAMETER_REASONS.get(self.tool.command_error.name)
            if key is None or key not in command.parameters:
                raise
            raise GemRefused(3, refused.text, {key: ILLEGAL_VALUE}) from None

    def _write(self, address: int, values: list[int]) -> None:
        """One register write, judged by the tool; taken, it is stored. Refused, it is
        `GemRefused` (HCACK 2) naming the tool's reason, or `WorkpieceProcessed`."""
        tool = self.tool
        if tool.access(16, 0, address, len(values), self._registers, values) is None:
            self._registers[address : address + len(values)] = values
            return
        reason = tool.command_error
        texts = {refusal.code: refusal.text for refusal in SPEC.refusals}
        text = f"write {values} at {address}: {reason.name}: {texts[reason]}"
        if reason.name == "PROCESSED_HERE":
            raise WorkpieceProcessed(text)
        raise GemRefused(2, text)

    # ----------------------------------------------------------------- the watcher

    async def _follow(self, running: ChamberState, target: ChamberState | None) -> None:
        """Follow the chamber while it is `running`: each step of a run reported as it starts,
        the alarms at once; then the end's event, if it reached `target` (None: any end)."""
        tool = self.tool
        reported = 0
        while True:
            tool.advance()
            if tool.chamber is not running:
                break
            step, left_s = self._step()
            if step != reported:
                reported = step
                if not await self.report("step_started"):
                    return
            await tool.hold(
                lambda step=step: tool.chamber is running and self._step()[0] == step,  # type: ignore[misc]
                None if left_s is None else max(left_s, 1e-6),
                given_up_by_next_line=False,
            )
        if target is None or tool.chamber is target:
            await self.report(_ENDS[running])
        else:
            await self.report()

    def _step(self) -> tuple[int, float | None]:
        """The 1-based step the chamber runs and the seconds left in it (0, None: no run)."""
        run = self.tool.run
        if self.tool.chamber is not ChamberState.PROCESSING or run is None:
            return 0, None
        index, left_s = run.position(run.done_s)
        return index + 1, left_s
