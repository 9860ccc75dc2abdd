"""The simulated plasma cleaner as a GEM equipment: `SimPlasmaCleaner`'s chamber behind E30.

The model drives the simulated chamber through its own PLC in process (`plc_batch.py`): every
remote command is the register write a Modbus host makes and every recipe constant the
setpoint registers of its steps, so the GEM chamber refuses what the Modbus chamber refuses,
with the same vacuum, RF and surface physics on the same twin. The status variables are the
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
from packline.drivers.families.plc_map import PlcSetpoint, field
from packline.drivers.gem.plasma_cleaner import RECIPE_CONSTANTS
from packline.drivers.roles.plasma_cleaner import ChamberState
from packline.drivers.specs.plasma_cleaner import SPEC

from ..plasma_cleaner import SimPlasmaCleaner
from ..twin import TwinStore
from .model import GemRefused
from .plc_batch import GemBatchPlcModel

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


class GemPlasmaCleanerModel(GemBatchPlcModel):
    """The GEM face of a `SimPlasmaCleaner` (built here on the line's twin and clock)."""

    tool: SimPlasmaCleaner
    spec = SPEC
    plc_commands = _PLC_COMMANDS

    def __init__(
        self, name: str, twin: TwinStore, clock: Clock | None = None, **options: Any
    ) -> None:
        super().__init__(SimPlasmaCleaner(name, twin, clock, **options))
        #: The recipe's constants, one element a step (none until the host sets them).
        self.recipe: dict[str, tuple[Any, ...]] = dict.fromkeys(RECIPE_FIELDS, ())

    # ----------------------------------------------------------------- values

    def tool_status(self, name: str) -> Any:
        tool = self.tool
        if name == "chamber_state":
            return tool.chamber.name.lower()
        if name == "last_result":
            return tool.last_result.name.lower()
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
                self.write(entry.address(index), [raw])
            self.recipe[name] = tuple(steps)

    # ----------------------------------------------------------------- commands

    async def run(self, name: str, parameters: Mapping[str, Any]) -> int:
        """A pump-down, a vent or a run: its PLC command, then its watcher (HCACK 4)."""
        plc_command, running, target = _FOLLOWED[name]
        if name == "start":
            self.write(field(SPEC, "steps").address(), [self._steps()])
        self.plc_command(plc_command, {})
        await self.stop()  # a vent that cuts a pump-down short is followed instead
        self.watch(lambda: self._follow(running, target))
        return 4

    def _steps(self) -> int:
        """The recipe's steps: as many as its durations; GemRefused (HCACK 2) for a recipe none
        set or whose constants differ in length."""
        lengths = {name: len(steps) for name, steps in self.recipe.items()}
        if len(set(lengths.values())) != 1 or not lengths["step_time_s"]:
            described = ", ".join(f"{name} {length}" for name, length in lengths.items())
            raise GemRefused(2, f"the recipe's constants differ in steps or have none: {described}")
        return lengths["step_time_s"]

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
