"""The simulated laminator as a GEM equipment: `SimLaminator`'s PLC behind E30.

The model drives the simulated laminator through its own PLC in process (`plc.py`): every
remote command is the register write a Modbus host makes and every constant of the job its
register of the job block, so the GEM laminator refuses what the Modbus laminator refuses, with
the same platen, chamber and sheet physics on the same twin. The status variables are the
laminator's own status values, unrounded by registers.

A job, a cool-down and a peel answer HCACK 4, as do an abort and a reset that vent the chamber,
and a watcher follows them on the line's clock: it looks at the laminator when its present
phase ends (`SimLaminator.next_change_s`: a trip or a vacuum not reached ends it too) and at
once when a fault or a command comes (`SimulatedTool.hold`), at nothing in between, so an
alarm is pushed (S5F1) the moment the laminator latches it; then it reports each stage of a
job reached (`vacuum_reached`, `vacuum_held`, `press_reached`, `pressed`, `vented`) and its
end (`run_ended`, however it ends), the end of a vent (`vented`), a cool-down (`cooled`) or a
peel (`peeled`).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from typing import Any, ClassVar

from packline.clock import Clock
from packline.drivers.families.plc_map import field
from packline.drivers.roles.laminator import JobResult, LaminatorPhase
from packline.drivers.specs.laminator import SPEC

from ..laminator import JOB_PHASES, SimLaminator
from ..twin import TwinStore
from .plc import GemPlcModel

#: The status variables that are the laminator's status values, by the map's names.
_STATUS_VALUES = {
    "platen_temperature_c": "PLATEN_TEMPERATURE",
    "chamber_pressure_pa": "CHAMBER_PRESSURE",
    "press_pressure_mpa": "PRESS_PRESSURE",
    "step_remaining_s": "STEP_REMAINING",
    "progress_pct": "PROGRESS",
    "job_time_s": "ELAPSED",
    "jobs_completed": "JOBS_COMPLETED",
    "peel_below_c": "PEEL_BELOW",
    "job_peak_temperature_c": "JOB_PEAK_TEMPERATURE",
    "job_best_vacuum_pa": "JOB_BEST_VACUUM",
    "job_peak_press_pressure_mpa": "JOB_PEAK_PRESS",
}
#: The remote commands a watcher may follow, by the PLC's command each one is.
_FOLLOWED = {
    "start": "START_JOB",
    "cool": "COOL",
    "peel": "PEEL_SUPPORT",
    "abort": "ABORT",
    "clear_alarms": "RESET_ALARMS",
}
#: The event that tells a job's phase reached (the stage before it ended).
_REACHED: dict[IntEnum, str] = {
    LaminatorPhase.VACUUM_HOLD: "vacuum_reached",
    LaminatorPhase.HEATING: "vacuum_held",
    LaminatorPhase.PRESSING: "press_reached",
    LaminatorPhase.VENTING: "pressed",
    LaminatorPhase.COOLING: "vented",
}
#: The event that tells the end of a phase outside a job.
_ENDS: dict[IntEnum, str] = {
    LaminatorPhase.VENTING: "vented",
    LaminatorPhase.COOLING: "cooled",
    LaminatorPhase.PEELING: "peeled",
}
#: The phases the laminator rests in (nothing to follow).
_RESTING = (LaminatorPhase.READY, LaminatorPhase.FAULT)


class GemLaminatorModel(GemPlcModel):
    """The GEM face of a `SimLaminator` (built here on the line's twin and clock)."""

    tool: SimLaminator
    spec = SPEC
    plc_commands: ClassVar[Mapping[str, str]] = {}

    def __init__(
        self, name: str, twin: TwinStore, clock: Clock | None = None, **options: Any
    ) -> None:
        super().__init__(SimLaminator(name, twin, clock, **options))

    # ----------------------------------------------------------------- values

    def tool_status(self, name: str) -> Any:
        tool = self.tool
        if name == "phase":
            return tool.phase.name.lower()
        if name == "last_result":
            return tool.last_result.name.lower()
        if name == "wafer_loaded":
            return tool.wafer_id is not None
        if name == "wafer_id":
            return tool.wafer_id or ""
        values = self.per_sample("status", tool.status_values)
        if name == "support_on_wafer":
            code = int(values["SUPPORT_ON_WAFER"])  # type: ignore[call-overload]
            return field(SPEC, "support_kind").text_of(code) or "none"
        return float(values[_STATUS_VALUES[name]])  # type: ignore[arg-type]

    def constant(self, name: str) -> Any:
        return self.written(name)

    def accepts_constant(self, name: str, value: Any) -> bool:
        """A setpoint within its machine range, a support that is the map's (not none)."""
        if name == "support_kind":
            return any(text == value for _, text in field(SPEC, name).codes)
        return super().accepts_constant(name, value)

    def set_constants(self, values: Mapping[str, Any]) -> None:
        """The job block's registers of the constants given, one write each (refused while a
        job runs: EAC 2)."""
        for name, value in values.items():
            self.write_field(name, value)

    # ----------------------------------------------------------------- commands

    async def run(self, name: str, parameters: Mapping[str, Any]) -> int:
        """The PLC's command, then a watcher that follows what it started or a job it ended:
        HCACK 4 while the laminator goes on (a job, a cool-down, a peel, a vent), else 0 (an
        abort or a reset that leaves it ready or faulted)."""
        tool = self.tool
        tool.advance()
        ran = tool.job is not None
        self.plc_command(_FOLLOWED[name], parameters)
        await self.stop()  # an abort cuts the job's watcher short: this one tells its end
        in_job = ran or tool.job is not None
        if in_job or tool.phase not in _RESTING:
            self.watch(lambda: self._follow(in_job))
        return 0 if tool.phase in _RESTING else 4

    # ----------------------------------------------------------------- the watcher

    async def _follow(self, in_job: bool) -> None:
        """Follow the laminator until it rests (see the module's docstring); `in_job`: a job
        runs, or ran when the command that started this watcher came."""
        tool = self.tool
        phase = tool.phase
        while True:
            tool.advance()
            events = []
            if in_job:
                ended = tool.job is None
                reached = len(JOB_PHASES) if ended else JOB_PHASES.index(tool.phase)
                if ended and tool.last_result is not JobResult.COMPLETED:
                    reached = -1  # an aborted or faulted job tells no more stages
                start = JOB_PHASES.index(phase) + 1 if phase in JOB_PHASES else len(JOB_PHASES)
                events += [_REACHED[p] for p in JOB_PHASES[start : reached + 1] if p in _REACHED]
                if ended:
                    events.append("run_ended")
                    in_job = False
            elif tool.phase is not phase and phase in _ENDS:
                events.append(_ENDS[phase])
            phase = tool.phase
            if events and not await self.report(*events):
                return
            if phase in _RESTING and not in_job:
                return
            await tool.hold(
                lambda phase=phase, in_job=in_job: (  # type: ignore[misc]
                    tool.phase is phase and (tool.job is not None) == in_job
                ),
                given_up_by_next_line=False,
            )
