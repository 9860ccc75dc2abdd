"""Vacuum laminator over Modbus TCP (or RTU): the PLC register map of `docs/protocols/laminator.md`.

Wire format, in short (the page is the contract; byte-level tests pin this driver to it):

* One Modbus device (unit id 1 by default). Every value is a 16-bit holding register, read
  with FC3 and written with FC6 (one register) or FC16 (several). Identity is FC43/MEI 14.
* Status, read-only, registers 0-19: phase, alarm bits, interlock bits, platen temperature
  (0.1 degC), chamber pressure (Pa, 32-bit high word first), press pressure (kPa), remaining
  time of the phase (0.1 s), elapsed job time (0.1 s, 32-bit), progress (%), completed-job
  counter, last result, wafer loaded, support on the wafer, the peel temperature limit
  (0.1 degC), and at 18-19 the register and the reason of the last refusal. The serial number
  at 20-27 and the loaded wafer's id at 30-37 (ASCII, 8 registers each).
* Job, 200-207: resin thickness (0.1 um), support kind, vacuum (Pa), vacuum hold (s),
  temperature (0.1 degC), press pressure (kPa), press time (s), cool-to temperature (0.1 degC).
  Written only while no job runs.
* Command, 300-308: parameters first (wafer id at 301-308 for LOAD, target temperature at 301
  for COOL), then the command code at 300. A refused command or setpoint answers Modbus
  exception 3 (illegal data value) and leaves the register and the reason in 18-19.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum

from .equipment import Identity, Limit, ToolState
from .errors import CommandRefused, ProtocolError, ToolAlarm, ToolStateError
from .families.modbus_plc import (
    explain_refusal,
    open_interlocks,
    reason_text,
    request_plc_identity,
    send_command,
)
from .links.modbus import ModbusLink
from .links.registers import ascii_to_registers, bits_set, registers_to_ascii, registers_to_u32
from .roles.laminator import (
    JobResult,
    LaminationJob,
    LaminationResult,
    Laminator,
    LaminatorPhase,
    LaminatorStatus,
    SupportKind,
)


class Reg(IntEnum):
    """Register addresses (0-based) of the laminator map."""

    PHASE = 0
    ALARMS = 1
    INTERLOCKS = 2
    PLATEN_TEMPERATURE_DC = 3
    CHAMBER_PRESSURE_PA_HI = 4
    CHAMBER_PRESSURE_PA_LO = 5
    PRESS_PRESSURE_KPA = 6
    STEP_REMAINING_DS = 7
    ELAPSED_DS_HI = 8
    ELAPSED_DS_LO = 9
    PROGRESS_PCT = 10
    JOBS_COMPLETED = 11
    LAST_RESULT = 12
    WAFER_LOADED = 13
    SUPPORT_ON_WAFER = 14
    PEEL_BELOW_DC = 15
    REFUSED_REGISTER = 18
    COMMAND_ERROR = 19
    SERIAL_NUMBER = 20
    WAFER_ID = 30
    JOB_RESIN_THICKNESS_DUM = 200
    JOB_SUPPORT_KIND = 201
    JOB_VACUUM_PA = 202
    JOB_VACUUM_HOLD_S = 203
    JOB_TEMPERATURE_DC = 204
    JOB_PRESS_PRESSURE_KPA = 205
    JOB_PRESS_TIME_S = 206
    JOB_COOL_TO_DC = 207
    COMMAND = 300
    COMMAND_PARAMETERS = 301


STATUS_REGISTERS = 20
WAFER_ID_REGISTERS = 8
JOB_REGISTERS = 8


class Command(IntEnum):
    """Codes written to the command register."""

    LOAD_WAFER = 1
    UNLOAD_WAFER = 2
    START_JOB = 3
    ABORT = 4
    COOL = 5
    PEEL_SUPPORT = 6
    RESET_ALARMS = 7


class CommandError(IntEnum):
    """Why the tool refused the last command or setpoint (register 19)."""

    NONE = 0
    UNKNOWN_COMMAND = 1
    WRONG_STATE = 2
    INTERLOCK_OPEN = 3
    OUT_OF_RANGE = 4
    WAFER_PRESENT = 5
    NO_WAFER = 6
    BAD_WAFER_ID = 7
    ALARM_ACTIVE = 8
    SUPPORT_STAYS = 9
    NO_SUPPORT = 10


COMMAND_ERROR_TEXT = {
    CommandError.NONE: "no reason given",
    CommandError.UNKNOWN_COMMAND: "unknown command code",
    CommandError.WRONG_STATE: "not allowed in the laminator's present phase",
    CommandError.INTERLOCK_OPEN: "an interlock is open",
    CommandError.OUT_OF_RANGE: "value out of range",
    CommandError.WAFER_PRESENT: "a wafer is already on the platen",
    CommandError.NO_WAFER: "no wafer on the platen",
    CommandError.BAD_WAFER_ID: "wafer id is not printable ASCII",
    CommandError.ALARM_ACTIVE: "an alarm is active; reset first",
    CommandError.SUPPORT_STAYS: "the support is a metal film, which stays on the wafer",
    CommandError.NO_SUPPORT: "no film support on the wafer to peel",
}


SUPPORT_CODES = {SupportKind.FILM: 1, SupportKind.METAL_FILM: 2}
SUPPORT_OF_CODE = {code: kind for kind, code in SUPPORT_CODES.items()}

#: Job registers by address: the setpoint each carries (a key of `limits`) and its scale.
JOB_FIELDS: dict[int, tuple[str, float]] = {
    Reg.JOB_RESIN_THICKNESS_DUM: ("resin_thickness_um", 10),
    Reg.JOB_SUPPORT_KIND: ("support_kind", 1),
    Reg.JOB_VACUUM_PA: ("vacuum_pa", 1),
    Reg.JOB_VACUUM_HOLD_S: ("vacuum_hold_s", 1),
    Reg.JOB_TEMPERATURE_DC: ("temperature_c", 10),
    Reg.JOB_PRESS_PRESSURE_KPA: ("press_pressure_mpa", 1000),
    Reg.JOB_PRESS_TIME_S: ("press_time_s", 1),
    Reg.JOB_COOL_TO_DC: ("cool_to_c", 10),
}

ALARM_BITS = {0: "VACUUM_NOT_REACHED", 1: "OVER_TEMPERATURE"}
ALARM_TEXT = {
    "VACUUM_NOT_REACHED": "chamber vacuum not reached within the evacuation time",
    "OVER_TEMPERATURE": "platen above its over-temperature trip; heater off",
}
INTERLOCK_BITS = {0: "lid_closed", 1: "wafer_present", 2: "peel_temperature"}

#: Tool states in which load, unload and other non-process commands are accepted.
READY_STATES = (ToolState.IDLE, ToolState.ENGINEERING)

#: Process-time allowances beyond which a wait is a timeout. A job's allowance is its hold and
#: press times plus this, which covers evacuation, heating, venting and cooling.
JOB_ALLOWANCE_S = 900.0
COOL_TIMEOUT_S = 900.0
PEEL_TIMEOUT_S = 120.0
VENT_TIMEOUT_S = 120.0


class ModbusLaminator(Laminator):
    """Drives a vacuum laminator PLC that implements the packline laminator register map."""

    link_type = ModbusLink
    limits = {
        "resin_thickness_um": Limit(20, 100, "um"),
        "vacuum_pa": Limit(50, 500, "Pa"),
        "vacuum_hold_s": Limit(10, 60, "s"),
        "temperature_c": Limit(60, 130, "degC"),
        "press_pressure_mpa": Limit(0.2, 1.0, "MPa"),
        "press_time_s": Limit(20, 180, "s"),
        "cool_to_c": Limit(30, 60, "degC"),
    }
    link: ModbusLink

    # ----------------------------------------------------------------- queries

    async def request_identity(self) -> Identity:
        return await request_plc_identity(self, Reg.SERIAL_NUMBER)

    async def request_status(self) -> LaminatorStatus:
        regs = await self.link.read_holding_registers(Reg.PHASE, STATUS_REGISTERS)
        return self._status_from(regs)

    def _status_from(self, regs: list[int]) -> LaminatorStatus:
        try:
            phase = LaminatorPhase(regs[Reg.PHASE])
        except ValueError:
            raise ProtocolError(
                self.name,
                self.address,
                "read status",
                f"phase {regs[Reg.PHASE]} is not in the register map",
            ) from None
        support_code = regs[Reg.SUPPORT_ON_WAFER]
        if support_code and support_code not in SUPPORT_OF_CODE:
            raise ProtocolError(
                self.name,
                self.address,
                "read status",
                f"support code {support_code} is not in the register map",
            )
        try:
            last_result = JobResult(regs[Reg.LAST_RESULT])
        except ValueError:
            raise ProtocolError(
                self.name,
                self.address,
                "read status",
                f"last result {regs[Reg.LAST_RESULT]} is not in the register map",
            ) from None
        return LaminatorStatus(
            phase=phase,
            platen_temperature_c=regs[Reg.PLATEN_TEMPERATURE_DC] / 10,
            chamber_pressure_pa=float(
                registers_to_u32(regs[Reg.CHAMBER_PRESSURE_PA_HI], regs[Reg.CHAMBER_PRESSURE_PA_LO])
            ),
            press_pressure_mpa=regs[Reg.PRESS_PRESSURE_KPA] / 1000,
            step_remaining_s=regs[Reg.STEP_REMAINING_DS] / 10,
            progress_pct=float(regs[Reg.PROGRESS_PCT]),
            job_time_s=registers_to_u32(regs[Reg.ELAPSED_DS_HI], regs[Reg.ELAPSED_DS_LO]) / 10,
            jobs_completed=regs[Reg.JOBS_COMPLETED],
            last_result=last_result,
            wafer_loaded=bool(regs[Reg.WAFER_LOADED]),
            support_on_wafer=SUPPORT_OF_CODE.get(support_code),
            peel_below_c=regs[Reg.PEEL_BELOW_DC] / 10,
        )

    async def request_alarms(self) -> dict[str, str]:
        (word,) = await self.link.read_holding_registers(Reg.ALARMS, 1)
        return {code: ALARM_TEXT[code] for code in bits_set(word, ALARM_BITS)}

    async def request_interlocks(self) -> dict[str, bool]:
        (word,) = await self.link.read_holding_registers(Reg.INTERLOCKS, 1)
        return {name: bool(word >> bit & 1) for bit, name in INTERLOCK_BITS.items()}

    async def request_wafer(self) -> str | None:
        (loaded,) = await self.link.read_holding_registers(Reg.WAFER_LOADED, 1)
        if not loaded:
            return None
        block = await self.link.read_holding_registers(Reg.WAFER_ID, WAFER_ID_REGISTERS)
        try:
            return registers_to_ascii(block)
        except ValueError as error:
            raise ProtocolError(self.name, self.address, "read wafer id", str(error)) from None

    # ----------------------------------------------------------------- commands

    async def _command(
        self, action: str, command: Command, parameters: tuple[int, ...] = ()
    ) -> None:
        """Write parameters then the command code; a refusal is explained from registers 18-19."""
        await send_command(
            self,
            action,
            Reg.COMMAND,
            command,
            self._refusal_reason,
            Reg.COMMAND_PARAMETERS,
            parameters,
        )

    async def _refusal_reason(self) -> str:
        """Why the tool refused (registers 18-19): the job field at fault, or the open
        interlocks, when one was the cause."""
        register, code = await self.link.read_holding_registers(Reg.REFUSED_REGISTER, 2)
        reason = reason_text(code, COMMAND_ERROR_TEXT)
        if code == CommandError.OUT_OF_RANGE and register in JOB_FIELDS:
            reason += f": {JOB_FIELDS[register][0]} (register {register})"
        if code == CommandError.INTERLOCK_OPEN:
            reason += ": " + await open_interlocks(self)
        return reason

    async def load(self, wafer_id: str) -> None:
        action = f"load wafer {wafer_id}"
        self.check_wafer_id(wafer_id)
        self.require_state(action, *READY_STATES)
        id_registers = ascii_to_registers(wafer_id, WAFER_ID_REGISTERS)
        present = await self.request_wafer()
        if present is not None:
            raise ToolStateError(
                self.name, self.address, action, f"wafer {present} is already on the platen"
            )
        await self._command(action, Command.LOAD_WAFER, tuple(id_registers))

    async def unload(self) -> str:
        action = "unload wafer"
        self.require_state(action, *READY_STATES)
        wafer_id = await self.request_wafer()
        if wafer_id is None:
            raise ToolStateError(self.name, self.address, action, "no wafer on the platen")
        await self._command(f"unload wafer {wafer_id}", Command.UNLOAD_WAFER)
        return wafer_id

    async def laminate(self, job: LaminationJob) -> LaminationResult:
        action = "laminate"
        registers = self._job_registers(job)
        timeout_s = job.recipe.vacuum_hold_s + job.recipe.press_time_s + JOB_ALLOWANCE_S
        async with self.operation(action):
            await self.require_interlocks(action, ["lid_closed", "wafer_present"])
            wafer_id = await self.request_wafer() or ""
            before = (await self._settled_status(action)).jobs_completed
            try:
                await self.link.write_registers(Reg.JOB_RESIN_THICKNESS_DUM, registers)
            except CommandRefused as refused:
                raise await explain_refusal(
                    self, "write job", refused, self._refusal_reason
                ) from None
            await self._command(action, Command.START_JOB)
            seen = await self._wait(
                action,
                lambda s: s.jobs_completed != before and s.phase is LaminatorPhase.READY,
                timeout_s,
            )
            end = seen[-1]
            if end.last_result is not JobResult.COMPLETED:
                raise ToolAlarm(
                    self.name, self.address, action, [f"job ended {end.last_result.name.lower()}"]
                )
        return LaminationResult(
            wafer_id=wafer_id,
            sheet=job.sheet,
            process_time_s=end.job_time_s,
            peak_temperature_c=max(s.platen_temperature_c for s in seen),
            best_vacuum_pa=min(s.chamber_pressure_pa for s in seen),
            peak_press_pressure_mpa=max(s.press_pressure_mpa for s in seen),
        )

    def _job_registers(self, job: LaminationJob) -> list[int]:
        """Check every setpoint against the limits and encode the job; nothing is sent here."""
        sheet, recipe = job.sheet, job.recipe
        values = {
            "resin_thickness_um": sheet.resin_thickness_um,
            "vacuum_pa": recipe.vacuum_pa,
            "vacuum_hold_s": recipe.vacuum_hold_s,
            "temperature_c": recipe.temperature_c,
            "press_pressure_mpa": recipe.press_pressure_mpa,
            "press_time_s": recipe.press_time_s,
            "cool_to_c": recipe.cool_to_c,
        }
        registers = []
        for setpoint, scale in JOB_FIELDS.values():
            if setpoint == "support_kind":
                registers.append(SUPPORT_CODES[SupportKind(sheet.support)])
            else:
                registers.append(
                    round(self.check_limit("laminate", setpoint, values[setpoint]) * scale)
                )
        return registers

    async def cool(self, to_c: float) -> float:
        action = f"cool to {to_c:g} degC"
        target_dc = round(self.check_limit(action, "cool_to_c", to_c) * 10)
        async with self.operation(action):
            await self._command(action, Command.COOL, (target_dc,))
            seen = await self._wait(
                action, lambda s: s.phase is LaminatorPhase.READY, COOL_TIMEOUT_S
            )
        return seen[-1].platen_temperature_c

    async def peel_support(self) -> None:
        action = "peel support"
        async with self.operation(action):
            status = await self._settled_status(action)
            if not status.wafer_loaded:
                raise ToolStateError(self.name, self.address, action, "no wafer on the platen")
            if status.support_on_wafer is SupportKind.METAL_FILM:
                raise ToolStateError(
                    self.name,
                    self.address,
                    action,
                    "the support is a metal film, which stays on the wafer (claim 001:10)",
                )
            if status.support_on_wafer is None:
                raise ToolStateError(
                    self.name, self.address, action, "no film support on the wafer to peel"
                )
            await self.require_interlocks(action, ["peel_temperature"])
            await self._command(action, Command.PEEL_SUPPORT)
            seen = await self._wait(
                action, lambda s: s.phase is LaminatorPhase.READY, PEEL_TIMEOUT_S
            )
            if seen[-1].support_on_wafer is not None:
                raise ToolAlarm(
                    self.name, self.address, action, ["peel ended with the film still on"]
                )

    async def _settled_status(self, action: str) -> LaminatorStatus:
        """The status once the tool has finished venting (after an abort or a reset)."""
        seen = await self._wait(
            action, lambda s: s.phase is not LaminatorPhase.VENTING, VENT_TIMEOUT_S
        )
        return seen[-1]

    async def _wait(
        self, action: str, done: Callable[[LaminatorStatus], bool], timeout_s: float
    ) -> list[LaminatorStatus]:
        """Poll the status, recording traces, until `done`; an alarm or a timeout ends the wait.

        Returns every status seen, the last one satisfying `done`. Past `timeout_s` the tool is
        aborted (`wait_until`): heater off, press released, vented, never left energised.
        """
        seen: list[LaminatorStatus] = []

        async def poll() -> list[LaminatorStatus] | None:
            status = await self.request_status()
            seen.append(status)
            self._record_status(status)
            if status.phase is LaminatorPhase.FAULT:
                if not await self.refresh_alarms():
                    raise ToolAlarm(
                        self.name, self.address, action, ["fault phase without an alarm bit"]
                    )
                raise self.alarm_error(action)
            return seen if done(status) else None

        return await self.wait_until(
            action, poll, timeout_s, lambda: f"still {seen[-1].phase.name.lower()}"
        )

    def _record_status(self, status: LaminatorStatus) -> None:
        self.record_reading("temperature", status.platen_temperature_c, "degC")
        self.record_reading("vacuum", status.chamber_pressure_pa, "Pa")
        self.record_reading("press_pressure", status.press_pressure_mpa, "MPa")
        self.record_reading("progress", status.progress_pct, "%")

    # ----------------------------------------------------------------- alarms and safety

    async def _clear_alarms(self) -> None:
        """Clear the latched alarms; a faulted tool vents its chamber before it is ready."""
        action = "reset alarms"
        await self._command(action, Command.RESET_ALARMS)
        await self._settled_status(action)

    async def _command_safe_state(self) -> None:
        """Heater off, press released, chamber vented (the ABORT command), then wait until the
        venting is over, so the next command (an unload, a reset) meets a ready or faulted tool.

        The wait does not treat the fault phase as an error (a faulted tool is safe: heater off,
        press released); it is bounded by `VENT_TIMEOUT_S` of process time.
        """
        await self.link.write_register(Reg.COMMAND, Command.ABORT)

        async def poll() -> LaminatorStatus | None:
            status = await self.request_status()
            self._record_status(status)
            return None if status.phase is LaminatorPhase.VENTING else status

        # this is the abort: past the allowance it raises without aborting again
        await self.wait_until(
            "abort", poll, VENT_TIMEOUT_S, lambda: "chamber still venting", abort_on_timeout=False
        )
