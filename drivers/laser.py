"""Laser (via drilling and bump cleaning) over a SCPI-like command set: `docs/protocols/laser.md`.

Wire format, in short (the page is the contract; byte-level tests pin this driver to it):

* ASCII lines terminated by LF, one command or query per line, over a raw TCP socket (VISA
  `TCPIP0::HOST::PORT::SOCKET`) or a serial line. Headers follow SCPI: case-insensitive, long
  or short form (`:SOURce:FLUence` or `:SOUR:FLU`), optional nodes in brackets; the driver
  sends the short forms. Numbers are plain decimals in the units of the page (Hz, J/cm², W,
  µm, s); strings are double-quoted.
* Settings answer nothing: after each one the driver reads `:SYST:ERR?`, which answers
  `0,"No error"` or the refusal, e.g. `-222,"Data out of range;..."`, `-221,"Settings
  conflict;enclosure open"`. A refusal becomes `CommandRefused` carrying the tool's code.
* Identity `*IDN?` (`vendor,model,serial,firmware`) and the source `:SOUR:WAV?` (nm); alarms
  `:SYST:ALAR?` (`NONE` or codes), interlocks `:SYST:INT?` (`enclosure,emission,shutter` as 0/1).
* A job scans the selected sites of the loaded wafer (`:JOB:STAR DRIL|CLE`); `:JOB:PROG?`
  answers `state,done,total,elapsed_s,remaining_s`, `:JOB:RES?` the outcome. `:ABOR` is the
  safe state: job stopped, shutter closed, emission off.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import TypeVar

from .equipment import Identity, Limit, ToolState
from .errors import ProtocolError, ToolAlarm, ToolError, ToolStateError
from .families.scpi import check_error_queue
from .links.base import TextLink
from .roles.laser import (
    Atmosphere,
    CleanRecipe,
    CleanResult,
    DrillMode,
    DrillRecipe,
    DrillResult,
    JobKind,
    JobProgress,
    JobState,
    Laser,
    LaserSource,
    LaserStatus,
)

T = TypeVar("T")


class Header(StrEnum):
    """Every command header of the page, in long form (optional nodes in brackets)."""

    IDENTITY = "*IDN"
    RESET = "*RST"
    CLEAR_STATUS = "*CLS"
    OPERATION_COMPLETE = "*OPC"
    ERROR = ":SYSTem:ERRor[:NEXT]"
    ALARMS = ":SYSTem:ALARm"
    ALARMS_CLEAR = ":SYSTem:ALARm:CLEar"
    INTERLOCKS = ":SYSTem:INTerlock"
    ABORT = ":ABORt"
    WAVELENGTH = ":SOURce:WAVelength"
    SPOT = ":SOURce:SPOT[:DIAMeter]"
    FREQUENCY = ":SOURce:FREQuency"
    FLUENCE = ":SOURce:FLUence"
    POWER = ":SOURce:POWer"
    POWER_MAXIMUM = ":SOURce:POWer:MAXimum"
    MEASURED_POWER = ":MEASure:POWer"
    EMISSION = ":OUTPut[:STATe]"
    SHUTTER = ":OUTPut:SHUTter"
    DOOR = ":ENCLosure:DOOR"
    WAFER = ":WAFer[:ID]"
    WAFER_LOAD = ":WAFer:LOAD"
    WAFER_UNLOAD = ":WAFer:UNLoad"
    ATMOSPHERE = ":PROCess:ATMosphere"
    ATMOSPHERE_READY = ":PROCess:ATMosphere:READy"
    JET = ":PROCess:JET"
    SUCTION = ":PROCess:SUCTion"
    SITES = ":JOB:SITes"
    SITES_CLEAR = ":JOB:SITes:CLEar"
    SITES_ADD = ":JOB:SITes:ADD"
    SITES_COUNT = ":JOB:SITes:COUNt"
    DRILL_MODE = ":DRILl:MODE"
    DRILL_DEPTH = ":DRILl:DEPTh"
    DRILL_DIAMETER = ":DRILl:DIAMeter"
    CLEAN_PULSES = ":CLEan:PULSes"
    JOB_START = ":JOB:STARt"
    JOB_PROGRESS = ":JOB:PROGress"
    JOB_RESULT = ":JOB:RESult"

    @property
    def short(self) -> str:
        return short_form(self.value)

    @property
    def query(self) -> str:
        return self.short + "?"


def short_form(template: str) -> str:
    """The SCPI short form of a header or mnemonic: optional nodes dropped, capitals kept."""
    required = re.sub(r"\[[^\]]*\]", "", template)
    return ":".join("".join(c for c in node if not c.islower()) for node in required.split(":"))


def _node_pattern(node: str) -> str:
    short = "".join(c for c in node if not c.islower())
    if short == node.upper():
        return re.escape(short)
    return f"(?:{re.escape(short)}|{re.escape(node.upper())})"


def header_pattern(template: str) -> re.Pattern[str]:
    """A regex that accepts a header (or mnemonic) in short or long form, any case.

    SCPI accepts exactly the short form (the capitals) or the whole long form of each node,
    nothing in between; a bracketed node may be left out; a leading colon is optional.
    """
    parts: list[str] = []
    root = ":?" if template.startswith(":") else ""
    for match in re.finditer(r"\[:([^\]]*)\]|:?([^:\[]+)", template):
        optional, node = match.groups()
        if optional is not None:
            parts.append(f"(?::{_node_pattern(optional)})?")
        elif node.startswith("*"):
            parts.append(re.escape(node.upper()))
        else:
            parts.append((":" if parts else root) + _node_pattern(node))
    return re.compile("^" + "".join(parts) + "$", re.IGNORECASE)


def matches(template: str, text: str) -> bool:
    """Whether `text` is `template` in its short or long form (case-insensitive)."""
    return header_pattern(template).match(text) is not None


def quote(text: str) -> str:
    """A SCPI string parameter: double-quoted, inner quotes doubled."""
    return '"' + text.replace('"', '""') + '"'


def unquote(text: str) -> str:
    """The value of a SCPI string; ValueError if it is not one."""
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise ValueError(f"{text!r} is not a double-quoted string")
    return text[1:-1].replace('""', '"')


#: Mnemonics on the wire (long forms; the tool answers the short forms).
ATMOSPHERE_MNEMONICS = {
    Atmosphere.AIR: "AIR",
    Atmosphere.REDUCED_PRESSURE: "VACuum",
    Atmosphere.NITROGEN: "NITRogen",
    Atmosphere.ARGON: "ARGon",
    Atmosphere.FORMING_GAS: "FGAS",
}
DRILL_MODE_MNEMONICS = {DrillMode.TO_METAL: "METal", DrillMode.TO_DEPTH: "DEPTh"}
JOB_KIND_MNEMONICS = {JobKind.DRILL: "DRILl", JobKind.CLEAN: "CLEan"}
JOB_STATE_MNEMONICS = {
    JobState.IDLE: "IDLE",
    JobState.RUNNING: "RUNNing",
    JobState.DONE: "DONE",
    JobState.ABORTED: "ABORted",
    JobState.FAULTED: "FAULted",
}
NO_JOB = "NONE"
SWITCH_ON, SWITCH_OFF = "ON", "OFF"
OPEN, CLOSED = "OPEN", "CLOSe"

ALARM_TEXT = {
    "INTERLOCK_OPEN": "enclosure opened while emitting; emission switched off",
    "POWER_TOLERANCE": "measured power outside ±5 % of its setpoint; emission switched off",
}
NO_ALARM = "NONE"
#: `:SYST:INT?` answers these three, in this order, 1 = the condition holds.
INTERLOCK_NAMES = ("enclosure_closed", "emission_enabled", "shutter_open")

#: How many errors the tool's queue holds (`:SYST:ERR?` answers them oldest first).
ERROR_QUEUE_DEPTH = 10

#: Site indices in one `:JOB:SIT:ADD` line; the tool accepts up to this many.
SITES_PER_COMMAND = 100

#: Tool states in which door, load, emission and shutter commands are accepted.
READY_STATES = (ToolState.IDLE, ToolState.ENGINEERING)

#: Process-time allowances beyond which a wait is a timeout.
ATMOSPHERE_TIMEOUT_S = 300.0
JOB_TIMEOUT_FACTOR = 1.5
JOB_TIMEOUT_MARGIN_S = 60.0


class ScpiLaser(Laser):
    """Drives a laser that implements the packline SCPI laser command set."""

    link_type = TextLink
    limits = {
        "rep_rate_khz": Limit(20, 200, "kHz"),
        # resin ablation window; the polymer threshold is about 0.76 J/cm2
        "drill_fluence_j_cm2": Limit(1.0, 10.0, "J/cm2"),
        # cleaning stays below the metal's ablation threshold (0.1-0.35 J/cm2)
        "clean_fluence_j_cm2": Limit(0.05, 0.30, "J/cm2"),
        # the whole range, for cleaning with allow_metal_damage=True
        "fluence_j_cm2": Limit(0.05, 10.0, "J/cm2"),
        "uv_via_diameter_um": Limit(10, 50, "um"),
        "co2_via_diameter_um": Limit(50, 150, "um"),
        "via_depth_um": Limit(1, 200, "um"),
        "clean_pulses": Limit(1, 1000, "pulses"),
    }
    link: TextLink

    def __init__(
        self,
        link: TextLink,
        *,
        name: str | None = None,
        limits: Mapping[str, tuple[float, float]] | None = None,
        poll_interval_s: float = 1.0,
    ) -> None:
        super().__init__(link, name=name, limits=limits, poll_interval_s=poll_interval_s)
        #: The source read at connect; via diameters are limited per source.
        self.source: LaserSource | None = None

    # ----------------------------------------------------------------- wire helpers

    async def _set(self, action: str, command: str) -> None:
        """Send a setting, then read the error queue; a refusal becomes `CommandRefused`."""
        await self.link.write(command)
        await check_error_queue(self, action, Header.ERROR.query, ERROR_QUEUE_DEPTH)

    def _garbled(self, action: str, reply: str, expected: str) -> ProtocolError:
        return ProtocolError(self.name, self.address, action, f"reply {reply!r} is not {expected}")

    async def _number(self, action: str, command: str) -> float:
        reply = await self.link.query(command)
        try:
            return float(reply)
        except ValueError:
            raise self._garbled(action, reply, "a number") from None

    async def _flag(self, action: str, command: str) -> bool:
        reply = await self.link.query(command)
        if reply not in ("0", "1"):
            raise self._garbled(action, reply, "0 or 1")
        return reply == "1"

    def _mnemonic(self, action: str, reply: str, choices: Mapping[T, str]) -> T:
        for value, mnemonic in choices.items():
            if matches(mnemonic, reply):
                return value
        expected = " or ".join(short_form(m) for m in choices.values())
        raise self._garbled(action, reply, expected)

    # ----------------------------------------------------------------- queries

    async def request_identity(self) -> Identity:
        """Clear the error queue (every error read later answers this driver), read who the
        tool is and its source."""
        await self.link.write(Header.CLEAR_STATUS.short)
        reply = await self.link.query(Header.IDENTITY.query)
        fields = [field.strip() for field in reply.split(",")]
        if len(fields) != 4 or not all(fields):
            raise self._garbled("read identity", reply, "vendor,model,serial,firmware")
        self.source = await self.request_source()
        vendor, model, serial_number, firmware = fields
        return Identity(vendor, model, serial_number, firmware)

    async def request_source(self) -> LaserSource:
        wavelength = await self._number("read wavelength", Header.WAVELENGTH.query)
        try:
            return LaserSource(round(wavelength))
        except ValueError:
            known = ", ".join(str(s.wavelength_nm) for s in LaserSource)
            raise self._garbled(
                "read wavelength", f"{wavelength:g}", f"one of {known} nm"
            ) from None

    async def request_alarms(self) -> dict[str, str]:
        reply = await self.link.query(Header.ALARMS.query)
        if reply == NO_ALARM:
            return {}
        codes = [code.strip() for code in reply.split(",")]
        if not all(re.fullmatch(r"[A-Z0-9_]+", code) for code in codes):
            raise self._garbled("read alarms", reply, "NONE or comma-separated alarm codes")
        return {code: ALARM_TEXT.get(code, "alarm code not on the protocol page") for code in codes}

    async def request_interlocks(self) -> dict[str, bool]:
        reply = await self.link.query(Header.INTERLOCKS.query)
        bits = reply.split(",")
        if len(bits) != len(INTERLOCK_NAMES) or any(b not in ("0", "1") for b in bits):
            raise self._garbled("read interlocks", reply, "three 0/1 flags")
        return {name: bit == "1" for name, bit in zip(INTERLOCK_NAMES, bits, strict=True)}

    async def request_wafer(self) -> str | None:
        reply = await self.link.query(Header.WAFER.query)
        try:
            wafer_id = unquote(reply)
        except ValueError:
            raise self._garbled("read wafer", reply, "a quoted wafer id") from None
        return wafer_id or None

    async def request_progress(self) -> JobProgress:
        reply = await self.link.query(Header.JOB_PROGRESS.query)
        fields = reply.split(",")
        expected = "state,done,total,elapsed_s,remaining_s"
        if len(fields) != 5:
            raise self._garbled("read progress", reply, expected)
        state = self._mnemonic("read progress", fields[0], JOB_STATE_MNEMONICS)
        try:
            done, total = int(fields[1]), int(fields[2])
            elapsed_s, remaining_s = float(fields[3]), float(fields[4])
        except ValueError:
            raise self._garbled("read progress", reply, expected) from None
        return JobProgress(state, done, total, elapsed_s, remaining_s)

    async def request_status(self) -> LaserStatus:
        action = "read status"
        door = await self.link.query(Header.DOOR.query)
        shutter = await self.link.query(Header.SHUTTER.query)
        atmosphere = await self.link.query(Header.ATMOSPHERE.query)
        return LaserStatus(
            wafer_id=await self.request_wafer(),
            door_open=self._mnemonic(action, door, {True: OPEN, False: CLOSED}),
            emission_enabled=await self._flag(action, Header.EMISSION.query),
            shutter_open=self._mnemonic(action, shutter, {True: OPEN, False: CLOSED}),
            atmosphere=self._mnemonic(action, atmosphere, ATMOSPHERE_MNEMONICS),
            atmosphere_ready=await self._flag(action, Header.ATMOSPHERE_READY.query),
            gas_jet=await self._flag(action, Header.JET.query),
            suction=await self._flag(action, Header.SUCTION.query),
            rep_rate_khz=await self._number(action, Header.FREQUENCY.query) / 1000,
            fluence_j_cm2=await self._number(action, Header.FLUENCE.query),
            power_setpoint_w=await self._number(action, Header.POWER.query),
            power_measured_w=await self._number(action, Header.MEASURED_POWER.query),
            job=await self.request_progress(),
        )

    # ----------------------------------------------------------------- enclosure, wafer, beam

    async def open_enclosure(self) -> None:
        self.require_state("open enclosure", *READY_STATES)
        await self._set("open enclosure", f"{Header.DOOR.short} {OPEN}")

    async def close_enclosure(self) -> None:
        self.require_state("close enclosure", *READY_STATES)
        await self._set("close enclosure", f"{Header.DOOR.short} {short_form(CLOSED)}")

    async def load(self, wafer_id: str) -> None:
        action = f"load wafer {wafer_id}"
        self.check_wafer_id(wafer_id)
        self.require_state(action, *READY_STATES)
        await self._set(action, f"{Header.WAFER_LOAD.short} {quote(wafer_id)}")

    async def unload(self) -> str:
        action = "unload wafer"
        self.require_state(action, *READY_STATES)
        wafer_id = await self.request_wafer()
        if wafer_id is None:
            raise ToolStateError(self.name, self.address, action, "no wafer on the chuck")
        await self._set(f"unload wafer {wafer_id}", Header.WAFER_UNLOAD.short)
        return wafer_id

    async def enable_emission(self) -> None:
        action = "enable emission"
        self.require_state(action, *READY_STATES)
        await self.require_interlocks(action, ["enclosure_closed"])
        await self._set(action, f"{Header.EMISSION.short} {SWITCH_ON}")

    async def disable_emission(self) -> None:
        """Allowed in every state: switching energy off is always safe."""
        await self._set("disable emission", f"{Header.EMISSION.short} {SWITCH_OFF}")

    async def open_shutter(self) -> None:
        action = "open shutter"
        self.require_state(action, *READY_STATES)
        await self.require_interlocks(action, ["enclosure_closed"])
        await self._set(action, f"{Header.SHUTTER.short} {OPEN}")

    async def close_shutter(self) -> None:
        """Allowed in every state: closing the beam path is always safe."""
        await self._set("close shutter", f"{Header.SHUTTER.short} {short_form(CLOSED)}")

    # ----------------------------------------------------------------- jobs

    async def drill_vias(
        self, recipe: DrillRecipe, sites: Sequence[int] | None = None
    ) -> DrillResult:
        """Drill a via at each site: to the metal (the tool detects breakthrough) or to a depth.

        Every setpoint is checked against the limits before anything is sent; then the
        atmosphere is set up, emission switched on and the shutter opened, the scan polled to
        its end on the clock, and the shutter closed (emission stays on for the next job).
        """
        action = "drill vias"
        self.require_state(action, *READY_STATES)
        assert self.source is not None  # read at connect
        diameter_limit = "co2_via_diameter_um" if self.source.is_co2 else "uv_via_diameter_um"
        mode = DrillMode(recipe.mode)
        commands = [
            self._frequency_command(action, recipe.rep_rate_khz),
            self._fluence_command(action, "drill_fluence_j_cm2", recipe.fluence_j_cm2),
            f"{Header.DRILL_MODE.short} {short_form(DRILL_MODE_MNEMONICS[mode])}",
        ]
        if mode is DrillMode.TO_DEPTH:
            assert recipe.depth_um is not None  # DrillRecipe guarantees it
            depth_um = self.check_limit(action, "via_depth_um", recipe.depth_um)
            commands.append(f"{Header.DRILL_DEPTH.short} {depth_um:g}")
        diameter_um = self.check_limit(action, diameter_limit, recipe.diameter_um)
        commands.append(f"{Header.DRILL_DIAMETER.short} {diameter_um:g}")
        commands += self._site_commands(sites)
        wafer_id, sites_done, at_metal, time_s = await self._run_job(
            action, JobKind.DRILL, Atmosphere(recipe.atmosphere), recipe.gas_jet, recipe.suction,
            commands,
        )  # fmt: skip
        return DrillResult(wafer_id, sites_done, at_metal, time_s)

    async def clean_surfaces(
        self,
        recipe: CleanRecipe,
        sites: Sequence[int] | None = None,
        *,
        allow_metal_damage: bool = False,
    ) -> CleanResult:
        """Clean the exposed metal at each site with `pulses_per_site` pulses.

        The fluence is held to `clean_fluence_j_cm2`, below the metal's ablation threshold;
        with `allow_metal_damage=True` only the tool's whole range (`fluence_j_cm2`) applies,
        and bump height is lost where the fluence exceeds the threshold.
        """
        action = "clean surfaces"
        self.require_state(action, *READY_STATES)
        fluence_limit = "fluence_j_cm2" if allow_metal_damage else "clean_fluence_j_cm2"
        pulses = self.check_limit(action, "clean_pulses", recipe.pulses_per_site)
        commands = [
            self._frequency_command(action, recipe.rep_rate_khz),
            self._fluence_command(action, fluence_limit, recipe.fluence_j_cm2),
            f"{Header.CLEAN_PULSES.short} {round(pulses)}",
            *self._site_commands(sites),
        ]
        wafer_id, sites_done, at_metal, time_s = await self._run_job(
            action, JobKind.CLEAN, Atmosphere(recipe.atmosphere), recipe.gas_jet, recipe.suction,
            commands,
        )  # fmt: skip
        return CleanResult(wafer_id, sites_done, at_metal, time_s)

    def _frequency_command(self, action: str, rep_rate_khz: float) -> str:
        hz = round(self.check_limit(action, "rep_rate_khz", rep_rate_khz) * 1000)
        return f"{Header.FREQUENCY.short} {hz}"

    def _fluence_command(self, action: str, limit: str, fluence_j_cm2: float) -> str:
        return f"{Header.FLUENCE.short} {self.check_limit(action, limit, fluence_j_cm2):g}"

    def _site_commands(self, sites: Sequence[int] | None) -> list[str]:
        """`ALL`, or the list of site indices in lines the tool accepts; nothing is sent here."""
        if sites is None:
            return [f"{Header.SITES.short} ALL"]
        indices = [int(site) for site in sites]
        if not indices:
            raise ValueError(f"{self.name}: no sites selected (None selects every site)")
        if min(indices) < 0:
            raise ValueError(f"{self.name}: site indices must be >= 0, got {min(indices)}")
        if len(set(indices)) != len(indices):
            raise ValueError(f"{self.name}: site indices must not repeat")
        commands = [Header.SITES_CLEAR.short]
        for start in range(0, len(indices), SITES_PER_COMMAND):
            chunk = indices[start : start + SITES_PER_COMMAND]
            commands.append(f"{Header.SITES_ADD.short} {','.join(map(str, chunk))}")
        return commands

    async def _run_job(
        self,
        action: str,
        kind: JobKind,
        atmosphere: Atmosphere,
        gas_jet: bool,
        suction: bool,
        commands: list[str],
    ) -> tuple[str, int, int, float]:
        """Set up, start and watch one scan job; returns (wafer, sites done, at metal, time)."""
        async with self.operation(action):
            await self.require_interlocks(action, ["enclosure_closed"])
            wafer_id = await self.request_wafer()
            if wafer_id is None:
                raise ToolStateError(self.name, self.address, action, "no wafer on the chuck")
            try:
                await self._prepare_atmosphere(action, atmosphere, gas_jet, suction)
                for command in commands:
                    await self._set(action, command)
                await self._set(action, f"{Header.EMISSION.short} {SWITCH_ON}")
                await self._set(action, f"{Header.SHUTTER.short} {OPEN}")
                await self._set(
                    action, f"{Header.JOB_START.short} {short_form(JOB_KIND_MNEMONICS[kind])}"
                )
                await self._wait_job(action)
                await self._set(action, f"{Header.SHUTTER.short} {short_form(CLOSED)}")
            except ToolError:
                # Leave no beam behind: stop, shutter closed, emission off, before any error
                # (a timeout, an alarm, a refusal) reaches the caller. Best effort: the tool may
                # be gone, and the original error is the one to report; a safe state that could
                # not be confirmed leaves the driver in fault (see `Equipment.abort`).
                with contextlib.suppress(ToolError):
                    await self.abort()
                raise
            return await self._job_result(action, kind, wafer_id)

    async def _prepare_atmosphere(
        self, action: str, atmosphere: Atmosphere, gas_jet: bool, suction: bool
    ) -> None:
        """Set atmosphere, jet and suction, then wait on the clock until purged or pumped."""
        mnemonic = short_form(ATMOSPHERE_MNEMONICS[atmosphere])
        await self._set(action, f"{Header.ATMOSPHERE.short} {mnemonic}")
        await self._set(action, f"{Header.JET.short} {SWITCH_ON if gas_jet else SWITCH_OFF}")
        await self._set(action, f"{Header.SUCTION.short} {SWITCH_ON if suction else SWITCH_OFF}")

        async def ready() -> bool | None:
            return await self._flag(action, Header.ATMOSPHERE_READY.query) or None

        # _run_job commands the safe state (abort) before a timeout reaches the caller
        await self.wait_until(
            action,
            ready,
            ATMOSPHERE_TIMEOUT_S,
            lambda: f"atmosphere {atmosphere.value} not ready",
            abort_on_timeout=False,
        )

    async def _wait_job(self, action: str) -> JobProgress:
        """Poll the job to its end on the clock, recording progress and measured power.

        The allowance is set from the job's first progress report, which is the first poll's.
        """
        progress = await self.request_progress()
        timeout_s = JOB_TIMEOUT_MARGIN_S + JOB_TIMEOUT_FACTOR * (
            progress.elapsed_s + progress.remaining_s
        )
        first = True

        async def poll() -> JobProgress | None:
            nonlocal progress, first
            if not first:
                progress = await self.request_progress()
            first = False
            self.record_reading("progress", progress.percent, "%")
            self.record_reading("sites_done", progress.sites_done, "sites")
            power_w = await self._number(action, Header.MEASURED_POWER.query)
            self.record_reading("power", power_w, "W")
            if progress.state is JobState.DONE:
                return progress
            if progress.state is JobState.FAULTED:
                await self.refresh_alarms()
                if self.active_alarms:
                    raise self.alarm_error(action)
                raise ToolAlarm(self.name, self.address, action, ["job faulted without an alarm"])
            if progress.state is not JobState.RUNNING:
                # ended at the tool by someone else (an abort, a closed shutter)
                raise ToolAlarm(
                    self.name, self.address, action,
                    [f"job ended {progress.state.value} after {progress.sites_done} "
                     f"of {progress.sites_total} sites"],
                )  # fmt: skip
            return None

        # _run_job commands the safe state (abort) before a timeout reaches the caller
        return await self.wait_until(
            action,
            poll,
            timeout_s,
            lambda: f"job at {progress.sites_done} of {progress.sites_total} sites",
            abort_on_timeout=False,
        )

    async def _job_result(
        self, action: str, kind: JobKind, wafer_id: str
    ) -> tuple[str, int, int, float]:
        reply = await self.link.query(Header.JOB_RESULT.query)
        fields = reply.split(",")
        expected = "kind,state,sites,sites_at_metal,time_s"
        if len(fields) != 5:
            raise self._garbled(action, reply, expected)
        got_kind = self._mnemonic(action, fields[0], JOB_KIND_MNEMONICS)
        state = self._mnemonic(action, fields[1], JOB_STATE_MNEMONICS)
        if got_kind is not kind or state is not JobState.DONE:
            raise self._garbled(action, reply, f"a finished {kind.value} job")
        try:
            return wafer_id, int(fields[2]), int(fields[3]), float(fields[4])
        except ValueError:
            raise self._garbled(action, reply, expected) from None

    # ----------------------------------------------------------------- alarms and safety

    async def _clear_alarms(self) -> None:
        await self._set("reset alarms", Header.ALARMS_CLEAR.short)

    async def _command_safe_state(self) -> None:
        """`:ABOR` (job stopped, shutter closed, emission off), confirmed by `*OPC?`."""
        await self.link.write(Header.ABORT.short)
        reply = await self.link.query(Header.OPERATION_COMPLETE.query)
        if reply != "1":
            raise self._garbled("abort", reply, "1")
