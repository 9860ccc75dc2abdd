"""The simulated deposition chamber as a GEM equipment: `SimDepositionTool`'s PLC behind E30.

The model drives the simulated chamber through its own PLC in process (`plc_chamber.py`):
every remote command is the register write a Modbus host makes and every recipe constant the
setpoint registers of its steps (the base pressure its register), so the GEM chamber refuses
what the Modbus chamber refuses, with the same vacuum, sources, crystal monitor and film physics
on the same twin. The status variables are the chamber's own status values.

A pump-down, a vent and a run answer HCACK 4, as does the wait for the base pressure (which
only watches the evacuated chamber, as a Modbus host's polls do), and a watcher follows them on
the line's clock: it looks at the chamber when its model says it changes next
(`SimDepositionTool.next_change_s`: the crossover, the base pressure, a vent's or a step's end)
and at once when a fault or a command comes (`SimulatedTool.hold`), so an alarm is pushed
(S5F1) the moment the chamber latches it; then it reports `step_started` and `step_ended` at
each step, and `pumped_down`, `base_pressure_reached`, `vented` or `run_ended` at the end.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from packline.clock import Clock
from packline.drivers.families.plc_map import field
from packline.drivers.gem.deposition import RECIPE_CONSTANTS
from packline.drivers.roles.deposition import ChamberState
from packline.drivers.specs.deposition import SPEC

from ..deposition import SimDepositionTool
from ..twin import TwinStore
from .model import GemRefused
from .plc_chamber import ENDS, GemChamberPlcModel

#: The step field each of the recipe's equipment constants (one element a step) sets.
RECIPE_FIELDS = {constant: name for name, constant in RECIPE_CONSTANTS.items()}
#: The status variables that are the chamber's status values, by the map's names.
_STATUS_VALUES = {
    "pressure_mtorr": "PRESSURE",
    "high_vacuum_utorr": "HIGH_VACUUM",
    "source_power_w": "SOURCE_POWER",
    "gas_flow_sccm": "GAS_FLOW",
    "step": "STEP_INDEX",
    "step_remaining_s": "STEP_REMAINING",
    "film_thickness_nm": "FILM_THICKNESS",
    "rate_nm_s": "DEPOSITION_RATE",
    "crystal_life_pct": "CRYSTAL_LIFE",
    "recipes_completed": "RECIPES_COMPLETED",
    "elapsed_s": "ELAPSED",
}
#: The coded status variables that are the chamber's status values, by the map's names (the
#: map's field that codes them).
_CODED_VALUES = {"method": ("METHOD_ACTUAL", "method"), "material": ("MATERIAL_ACTUAL", "material")}


class GemDepositionModel(GemChamberPlcModel):
    """The GEM face of a `SimDepositionTool` (built here on the line's twin and clock)."""

    tool: SimDepositionTool
    spec = SPEC
    recipe_fields = RECIPE_FIELDS

    def __init__(
        self, name: str, twin: TwinStore, clock: Clock | None = None, **options: Any
    ) -> None:
        super().__init__(SimDepositionTool(name, twin, clock, **options))

    # ----------------------------------------------------------------- values

    def tool_status(self, name: str) -> Any:
        tool = self.tool
        if name == "step_films_nm":
            return list(tool.last_thickness_nm)
        if name == "source_method":
            return [method.value for method, _ in tool.sources]
        if name == "source_material":
            return [material.value for _, material in tool.sources]
        values = self.per_sample("status", tool.status_values)
        if name in _CODED_VALUES:
            status, coded = _CODED_VALUES[name]
            code = int(values[status])  # type: ignore[call-overload]
            return field(SPEC, coded).text_of(code) or "none"
        return float(values[_STATUS_VALUES[name]])  # type: ignore[arg-type]

    # ----------------------------------------------------------------- commands

    async def run(self, name: str, parameters: Mapping[str, Any]) -> int:
        """A pump-down, a vent or a run: its PLC command, then its watcher (HCACK 4); the wait
        for the base pressure: its watcher (HCACK 4), or 0 when it is reached already."""
        if name == "pump_to_base":
            return await self._pump_to_base()
        return await super().run(name, parameters)

    async def _pump_to_base(self) -> int:
        """HCACK 0 at the base pressure written, 4 (followed to it) below it; refused (HCACK
        2) unless the chamber is evacuated with a base pressure written."""
        tool = self.tool
        tool.advance()
        if tool.chamber is not ChamberState.EVACUATED:
            raise GemRefused(2, f"chamber {tool.state_name()}, not evacuated")
        if tool.base_pressure_utorr <= 0:
            raise GemRefused(2, "no base pressure set (base_pressure_utorr)")
        if self._at_base():
            return 0
        await self.stop()
        self.watch(self._follow_base)
        return 4

    def _at_base(self) -> bool:
        """The ion gauge reads the base pressure written or below (the PLC's interlock)."""
        return self.tool.interlocks()["base_pressure"]

    # ----------------------------------------------------------------- the watchers

    async def _follow_base(self) -> None:
        """Follow the evacuated chamber to its base pressure, then report
        `base_pressure_reached`; the alarms alone if it leaves evacuated first."""
        tool = self.tool

        def pumping_on() -> bool:
            return tool.chamber is ChamberState.EVACUATED and not self._at_base()

        await tool.hold(pumping_on, given_up_by_next_line=False)
        if tool.chamber is ChamberState.EVACUATED:
            await self.report("base_pressure_reached")
        else:
            await self.report()

    async def _follow(self, running: ChamberState, target: ChamberState | None) -> None:
        """Follow the chamber while it is `running`: each step of a run reported as it starts
        and as it ends, the alarms at once; then the end's event, if it reached `target`
        (None: any end)."""
        tool = self.tool
        started = ended = 0
        while True:
            tool.advance()
            events = []
            run = tool.run if running is ChamberState.PROCESSING else None
            if run is not None:
                # steps begun and ended so far, told in the order they came
                begun, laid = run.index + 1, len(run.thickness_nm)
                while started < begun or ended < laid:
                    if started <= ended and started < begun:
                        started += 1
                        events.append("step_started")
                    else:
                        ended += 1
                        events.append("step_ended")
            if events and not await self.report(*events):
                return
            if tool.chamber is not running:
                break
            await tool.hold(
                lambda run=run, laid=ended: (  # type: ignore[misc]
                    tool.chamber is running and (run is None or len(run.thickness_nm) == laid)
                ),
                given_up_by_next_line=False,
            )
        if target is None or tool.chamber is target:
            await self.report(ENDS[running])
        else:
            await self.report()
