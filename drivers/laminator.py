"""Vacuum laminator over Modbus TCP (or RTU): the PLC register map of `docs/protocols/laminator.md`.

The map (the status block, the serial number and wafer id blocks, the job block, the command
register and its parameters) is declared once in `packline.drivers.specs.laminator`; the
family's single-wafer driver base (`SingleWaferPlcDriver`) reads, encodes and explains from it,
and loads and unloads the platen. This file keeps the laminator's process: the job, cooling and
peeling, the waits and the safe state (heater off, press released, chamber vented). Byte-level
tests pin it to the page.
"""

from __future__ import annotations

from collections.abc import Mapping

from .errors import ToolAlarm, ToolStateError
from .families.plc_map import PlcStatus, command_enum, decoded, reason_enum
from .families.plc_stage import SingleWaferPlcDriver
from .roles.laminator import (
    JobResult,
    LaminationJob,
    LaminationResult,
    Laminator,
    LaminatorPhase,
    LaminatorStatus,
    SupportKind,
)
from .specs.laminator import JOB_EXTREMES, SPEC

#: The map's command codes and "why refused" codes, named as the spec names them.
Command = command_enum(SPEC)
CommandError = reason_enum(SPEC)

#: Process-time allowances beyond which a wait is a timeout. A job's allowance is its hold and
#: press times plus this, which covers evacuation, heating, venting and cooling.
JOB_ALLOWANCE_S = 900.0
COOL_TIMEOUT_S = 900.0
PEEL_TIMEOUT_S = 120.0
VENT_TIMEOUT_S = 120.0

#: The status entries of the job's extremes, in their registers' order (one read).
_JOB_EXTREMES = tuple(
    entry for entry in SPEC.status if isinstance(entry, PlcStatus) and entry.name in JOB_EXTREMES
)


class ModbusLaminator(SingleWaferPlcDriver[LaminatorStatus], Laminator):
    """Drives a vacuum laminator PLC that implements the packline laminator register map."""

    spec = SPEC
    holder = "on the platen"
    limits = SPEC.limits()
    #: The chamber vented after ABORT: what a vent takes, with its allowance.
    safe_state_timeout_s = VENT_TIMEOUT_S

    # ----------------------------------------------------------------- queries

    def status_from(self, values: Mapping[str, float]) -> LaminatorStatus:
        support = self.coded(values, "SUPPORT_ON_WAFER")
        return LaminatorStatus(
            phase=self.member(values, "PHASE", LaminatorPhase),
            platen_temperature_c=values["PLATEN_TEMPERATURE"],
            chamber_pressure_pa=float(values["CHAMBER_PRESSURE"]),
            press_pressure_mpa=values["PRESS_PRESSURE"],
            step_remaining_s=values["STEP_REMAINING"],
            progress_pct=float(values["PROGRESS"]),
            job_time_s=values["ELAPSED"],
            jobs_completed=int(values["JOBS_COMPLETED"]),
            last_result=self.member(values, "LAST_RESULT", JobResult),
            wafer_loaded=bool(values["WAFER_LOADED"]),
            support_on_wafer=None if support == "none" else SupportKind(support),
            peel_below_c=values["PEEL_BELOW"],
        )

    # ----------------------------------------------------------------- commands

    async def laminate(self, job: LaminationJob) -> LaminationResult:
        action = "laminate"
        sheet, recipe = job.sheet, job.recipe
        registers = self.encode_fields(
            action,
            {
                "resin_thickness_um": sheet.resin_thickness_um,
                "support_kind": SupportKind(sheet.support).value,
                "vacuum_pa": recipe.vacuum_pa,
                "vacuum_hold_s": recipe.vacuum_hold_s,
                "temperature_c": recipe.temperature_c,
                "press_pressure_mpa": recipe.press_pressure_mpa,
                "press_time_s": recipe.press_time_s,
                "cool_to_c": recipe.cool_to_c,
                "foil_thickness_um": sheet.foil_thickness_um,
            },
        )
        timeout_s = recipe.vacuum_hold_s + recipe.press_time_s + JOB_ALLOWANCE_S
        async with self.operation(action):
            start = SPEC.command_by_name["START_JOB"]
            await self.require_interlocks(action, start.interlocks)
            wafer_id = await self.request_wafer() or ""
            before = (await self._settled_status(action)).jobs_completed
            await self.write_fields("write job", self.map.setpoint_extent(SPEC)[0], registers)
            await self.command(action, "START_JOB")
            seen = await self.wait_status(
                action,
                lambda s: s.jobs_completed != before and s.phase is LaminatorPhase.READY,
                timeout_s,
            )
            end = seen[-1]
            if end.last_result is not JobResult.COMPLETED:
                raise ToolAlarm(
                    self.name, self.address, action, [f"job ended {end.last_result.name.lower()}"]
                )
            extremes = await self._job_extremes()
        return LaminationResult(
            wafer_id=wafer_id,
            sheet=job.sheet,
            process_time_s=end.job_time_s,
            peak_temperature_c=extremes["JOB_PEAK_TEMPERATURE"],
            best_vacuum_pa=extremes["JOB_BEST_VACUUM"],
            peak_press_pressure_mpa=extremes["JOB_PEAK_PRESS"],
        )

    async def _job_extremes(self) -> dict[str, float]:
        """The extremes the PLC kept of the last job on every scan (`JOB_EXTREMES`), in one
        read: the host's reads of a job are too far apart to catch an overshoot or a spike."""
        first = _JOB_EXTREMES[0].address()
        count = _JOB_EXTREMES[-1].extent - first
        registers = await self.link.read_holding_registers(first, count)
        return {
            entry.name: decoded(entry, registers[entry.address() - first : entry.extent - first])
            for entry in _JOB_EXTREMES
        }

    async def cool(self, to_c: float) -> float:
        action = f"cool to {to_c:g} degC"
        self.encode(action, "cool_to_c", to_c)  # refuses a target outside the limits
        async with self.operation(action):
            await self.command(action, "COOL", cool_to_c=to_c)
            seen = await self.wait_status(
                action, lambda s: s.phase is LaminatorPhase.READY, COOL_TIMEOUT_S
            )
        return seen[-1].platen_temperature_c

    async def peel_support(self) -> None:
        action = "peel support"
        async with self.operation(action):
            status = await self._settled_status(action)
            reason = status.why_not_peelable()
            if reason is not None:
                raise ToolStateError(self.name, self.address, action, reason)
            await self.require_interlocks(action, SPEC.command_by_name["PEEL_SUPPORT"].interlocks)
            await self.command(action, "PEEL_SUPPORT")
            seen = await self.wait_status(
                action, lambda s: s.phase is LaminatorPhase.READY, PEEL_TIMEOUT_S
            )
            if seen[-1].support_on_wafer is not None:
                raise ToolAlarm(
                    self.name, self.address, action, ["peel ended with the film still on"]
                )

    async def _settled_status(self, action: str) -> LaminatorStatus:
        """The status once the tool has finished venting (after an abort or a reset)."""
        seen = await self.wait_status(
            action, lambda s: s.phase is not LaminatorPhase.VENTING, VENT_TIMEOUT_S
        )
        return seen[-1]

    # ----------------------------------------------------------------- alarms and safety

    async def _clear_alarms(self) -> None:
        """Clear the latched alarms; a faulted tool vents its chamber before it is ready."""
        await super()._clear_alarms()
        await self._settled_status("reset alarms")
