"""The laminator role on a GEM tool: the same `Laminator` the sequences drive, over E30.

Which SVIDs, ECIDs, CEIDs, ALIDs and RCMDs carry what is the tool's dictionary
(`drivers/specs/gem/laminator.yaml` for the simulated laminator; docs/protocols/
gem-laminator.md). The load and unload are remote commands answered at once. A job, a cool-down
and a peel are remote commands answered HCACK 4 whose end is a collection event (`run_ended`,
`cooled`, `peeled`; a job tells each stage too): no polling, and a pushed alarm ends the wait at
once. The job (the sheet and the press recipe) is nine equipment constants (S2F15, refused out
of the tool's range). An abort is confirmed as the Modbus driver's, by the status read until
the phase is back at rest (the venting over), and a reset that vents the chamber is waited out
on `vented`, so the next command meets a ready or faulted tool.

While the laminator runs a job, cools or peels, it traces the platen's temperature, the
chamber's pressure, the press's pressure and the job's progress every `poll_interval_s` of its
time (the station's poll interval, the Modbus driver's poll and trace rate), `TRACE_GROUP`
samples a report (S2F23, S6F1); each sample is recorded as the Modbus driver records its polls,
under the same names and units, at its time. A job's extremes (hottest platen, best vacuum, most
press pressure) are the tool's, kept on every scan and reported with `run_ended`, as the Modbus
driver reads them from the PLC at a job's end. The limits and the wait allowances are the Modbus
driver's (`drivers/laminator.py`).
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any

from ..equipment import READY_STATES
from ..errors import ToolAlarm, ToolStateError
from ..laminator import (
    COOL_TIMEOUT_S,
    JOB_ALLOWANCE_S,
    PEEL_TIMEOUT_S,
    VENT_TIMEOUT_S,
    ModbusLaminator,
)
from ..roles.laminator import (
    JobResult,
    LaminationJob,
    LaminationResult,
    Laminator,
    LaminatorPhase,
    LaminatorStatus,
    SupportKind,
)
from ..specs.laminator import SPEC
from .dictionary import GemNeeds
from .equipment import SAFE_STATE_COMMANDS
from .plc import GemPlcTool, traced_as

#: The status variables of `LaminatorStatus`, in its order.
STATUS = (
    "phase",
    "platen_temperature_c",
    "chamber_pressure_pa",
    "press_pressure_mpa",
    "step_remaining_s",
    "progress_pct",
    "job_time_s",
    "jobs_completed",
    "last_result",
    "wafer_loaded",
    "support_on_wafer",
    "peel_below_c",
)
#: The status variables of a job's extremes, which `run_ended` reports.
JOB_EXTREMES = ("job_peak_temperature_c", "job_best_vacuum_pa", "job_peak_press_pressure_mpa")
#: The job's equipment constants: the Modbus map's job block, by the same names.
JOB_CONSTANTS = (
    "resin_thickness_um",
    "support_kind",
    "vacuum_pa",
    "vacuum_hold_s",
    "temperature_c",
    "press_pressure_mpa",
    "press_time_s",
    "cool_to_c",
    "foil_thickness_um",
)
#: The traced status variables, each recorded as the Modbus map's status of that name (its
#: `trace` name and unit).
TRACED = traced_as(
    SPEC,
    {
        "platen_temperature_c": "PLATEN_TEMPERATURE",
        "chamber_pressure_pa": "CHAMBER_PRESSURE",
        "press_pressure_mpa": "PRESS_PRESSURE",
        "progress_pct": "PROGRESS",
    },
)
#: Samples a trace report carries (REPGSZ): a minute of a job at the line's 1 s a report; the
#: stages, the end and the alarms are pushed at once whatever the group.
TRACE_GROUP = 60


class GemLaminator(GemPlcTool, Laminator):
    """Drives a vacuum laminator that speaks GEM, by its dictionary."""

    spec = SPEC
    holder = ModbusLaminator.holder
    limits = ModbusLaminator.limits
    safe_state_timeout_s = ModbusLaminator.safe_state_timeout_s
    needs = GemNeeds(
        status_variables=(
            "serial_number",
            *STATUS,
            *JOB_EXTREMES,
            "wafer_id",
            *SPEC.interlock_names,
        ),
        equipment_constants=JOB_CONSTANTS,
        collection_events=("vented", "run_ended", "cooled", "peeled"),
        remote_commands={
            **SAFE_STATE_COMMANDS,
            "load": ("wafer_id", "rework"),
            "unload": (),
            "start": (),
            "cool": ("cool_to_c",),
            "peel": (),
        },
    )

    # ----------------------------------------------------------------- queries

    async def request_status(self) -> LaminatorStatus:
        values = dict(zip(STATUS, await self.request_values("read status", *STATUS), strict=True))
        support = values["support_on_wafer"]
        return LaminatorStatus(
            phase=LaminatorPhase[str(values["phase"]).upper()],
            platen_temperature_c=float(values["platen_temperature_c"]),
            chamber_pressure_pa=float(values["chamber_pressure_pa"]),
            press_pressure_mpa=float(values["press_pressure_mpa"]),
            step_remaining_s=float(values["step_remaining_s"]),
            progress_pct=float(values["progress_pct"]),
            job_time_s=float(values["job_time_s"]),
            jobs_completed=int(values["jobs_completed"]),
            last_result=JobResult[str(values["last_result"]).upper()],
            wafer_loaded=bool(values["wafer_loaded"]),
            support_on_wafer=None if support == "none" else SupportKind(support),
            peel_below_c=float(values["peel_below_c"]),
        )

    async def request_wafer(self) -> str | None:
        loaded, wafer_id = await self.request_values("read wafer", "wafer_loaded", "wafer_id")
        return str(wafer_id) if loaded else None

    # ----------------------------------------------------------------- the platen

    async def load(self, wafer_id: str) -> None:
        """Place a wafer; refused with nothing sent while another one is there."""
        action = f"load wafer {wafer_id}"
        self.check_wafer_id(wafer_id)
        self.require_state(action, *READY_STATES)
        await self.require_empty(action)
        await self.load_workpiece("load", "wafer_id", wafer_id)

    async def unload(self) -> str:
        """Take the wafer off; returns its id."""
        action = "unload wafer"
        self.require_state(action, *READY_STATES)
        wafer_id = await self.require_wafer(action)
        await self.command("unload")
        return wafer_id

    # ----------------------------------------------------------------- the process

    async def laminate(self, job: LaminationJob) -> LaminationResult:
        action = "laminate"
        sheet, recipe = job.sheet, job.recipe
        constants: dict[str, Any] = {
            name: self.check_limit(action, name, value)
            for name, value in (
                ("resin_thickness_um", sheet.resin_thickness_um),
                ("vacuum_pa", recipe.vacuum_pa),
                ("vacuum_hold_s", recipe.vacuum_hold_s),
                ("temperature_c", recipe.temperature_c),
                ("press_pressure_mpa", recipe.press_pressure_mpa),
                ("press_time_s", recipe.press_time_s),
                ("cool_to_c", recipe.cool_to_c),
                ("foil_thickness_um", sheet.foil_thickness_um),
            )
        }
        constants["support_kind"] = SupportKind(sheet.support).value
        timeout_s = recipe.vacuum_hold_s + recipe.press_time_s + JOB_ALLOWANCE_S
        async with self.operation(action):
            await self.require_interlocks(action, SPEC.command_by_name["START_JOB"].interlocks)
            wafer_id = await self.request_wafer() or ""
            await self.set_constants(f"{action}: set the job", constants)
            async with self._traced():
                with self.expect_event(action, "run_ended") as ended:
                    await self.command("start")
                    event = await self.wait_event(action, ended, timeout_s, lambda: "job not ended")
            values = await self.run_ended(action, event, "phase", "job")
        return LaminationResult(
            wafer_id=wafer_id,
            sheet=job.sheet,
            process_time_s=float(values["job_time_s"]),
            peak_temperature_c=float(values["job_peak_temperature_c"]),
            best_vacuum_pa=float(values["job_best_vacuum_pa"]),
            peak_press_pressure_mpa=float(values["job_peak_press_pressure_mpa"]),
        )

    async def cool(self, to_c: float) -> float:
        action = f"cool to {to_c:g} degC"
        to_c = self.check_limit(action, "cool_to_c", to_c)
        async with self.operation(action), self._traced():
            with self.expect_event(action, "cooled") as cooled:
                await self.command("cool", cool_to_c=to_c)
                event = await self.wait_event(
                    action, cooled, COOL_TIMEOUT_S, lambda: f"platen not at {to_c:g} degC"
                )
        return float(self.event_values("cooled", event)["platen_temperature_c"])

    async def peel_support(self) -> None:
        action = "peel support"
        async with self.operation(action):
            status = await self.request_status()
            reason = status.why_not_peelable()
            if reason is not None:
                raise ToolStateError(self.name, self.address, action, reason)
            await self.require_interlocks(action, SPEC.command_by_name["PEEL_SUPPORT"].interlocks)
            async with self._traced():
                with self.expect_event(action, "peeled") as peeled:
                    await self.command("peel")
                    event = await self.wait_event(
                        action, peeled, PEEL_TIMEOUT_S, lambda: "peel not ended"
                    )
            if self.event_values("peeled", event)["support_on_wafer"] != "none":
                raise ToolAlarm(
                    self.name, self.address, action, ["peel ended with the film still on"]
                )

    def _traced(self) -> AbstractAsyncContextManager[None]:
        """For the block, `TRACED` every `poll_interval_s`, `TRACE_GROUP` samples a report."""
        return self.recorded_trace(TRACED, self.poll_interval_s, TRACE_GROUP)

    # ----------------------------------------------------------------- alarms and safety

    async def _clear_alarms(self) -> None:
        """Clear the latched alarms; a faulted laminator vents its chamber before it is ready
        (HCACK 4), waited out on `vented`."""
        action = "reset alarms"
        with self.expect_event(action, "vented") as vented:
            if await self.command("clear_alarms", accept_already=True) != 4:
                return
            await self.wait_event(
                action,
                vented,
                VENT_TIMEOUT_S,
                lambda: "chamber still venting",
                abort_on_timeout=False,
            )
