"""The simulated plasma cleaner as a GEM equipment: `SimPlasmaCleaner`'s chamber behind E30.

The model drives the simulated chamber through its own PLC in process (`plc_chamber.py`): every
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

from typing import Any

from packline.clock import Clock
from packline.drivers.families.plc_map import field
from packline.drivers.gem.plasma_cleaner import RECIPE_CONSTANTS
from packline.drivers.roles.plasma_cleaner import ChamberState
from packline.drivers.specs.plasma_cleaner import SPEC

from ..plasma_cleaner import SimPlasmaCleaner
from ..twin import TwinStore
from .plc_chamber import ENDS, GemChamberPlcModel

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


class GemPlasmaCleanerModel(GemChamberPlcModel):
    """The GEM face of a `SimPlasmaCleaner` (built here on the line's twin and clock)."""

    tool: SimPlasmaCleaner
    spec = SPEC
    recipe_fields = RECIPE_FIELDS

    def __init__(
        self, name: str, twin: TwinStore, clock: Clock | None = None, **options: Any
    ) -> None:
        super().__init__(SimPlasmaCleaner(name, twin, clock, **options))

    # ----------------------------------------------------------------- values

    def tool_status(self, name: str) -> Any:
        values = self.per_sample("status", self.tool.status_values)
        if name == "gas":
            code = int(values["GAS_ACTUAL"])  # type: ignore[call-overload]
            return field(SPEC, "gas").text_of(code) or "none"
        return float(values[_STATUS_VALUES[name]])  # type: ignore[arg-type]

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
            await self.report(ENDS[running])
        else:
            await self.report()

    def _step(self) -> tuple[int, float | None]:
        """The 1-based step the chamber runs and the seconds left in it (0, None: no run)."""
        run = self.tool.run
        if self.tool.chamber is not ChamberState.PROCESSING or run is None:
            return 0, None
        index, left_s = run.position(run.done_s)
        return index + 1, left_s
