"""Laser (via drilling and bump cleaning) over a SCPI command set: `docs/protocols/laser.md`.

Wire format, in short (the page is the contract; byte-level tests pin this driver to it):

* ASCII lines terminated by LF, one command or query per line, over a raw TCP socket (VISA
  `TCPIP0::HOST::PORT::SOCKET`) or a serial line; what a read watches is asked in one line,
  an IEEE 488.2 compound query (units joined by `;`, the replies joined by `;`): the status
  (`:ENCL:DOOR?;:OUTP:SHUT?;...;:JOB:PROG?`, the spec's `STATUS_QUERIES`) and each poll of a
  job (`:JOB:PROG?;:MEAS:POW?`). Headers follow SCPI: case-insensitive, long
  or short form (`:SOURce:FLUence` or `:SOUR:FLU`), optional nodes in brackets; the driver
  sends the short forms. Numbers are plain decimals in the units of the page (Hz, J/cm², W,
  µm, s); strings are double-quoted.
* Settings answer nothing: after each group of them (the atmosphere's; a job's settings and
  sites; emission on; the shutter opened and the job's start; the shutter closed) the driver
  reads `:SYST:ERR?`, which answers `0,"No error"` or each refusal, naming the setting, e.g.
  `-222,"Data out of range;:SOUR:FLU 25 outside..."`, `-221,"Settings conflict;enclosure
  open"`. A refusal becomes `CommandRefused` carrying the tool's code. A job's settings are
  checked before the beam is switched on, so a refused one never starts a job on the setting
  before it, and emission is checked before the shutter opens (`_start_beam`): a device that
  follows IEEE 488.2 runs the units after one refused with an execution error.
* Identity `*IDN?` (`vendor,model,serial,firmware`) and the source `:SOUR:WAV?` (nm); alarms
  `:SYST:ALAR?` (`NONE` or codes), interlocks `:SYST:INT?` (`enclosure,emission,shutter` as 0/1).
* A change of atmosphere (`:PROC:ATM`) and a job, which scans the selected sites of the
  loaded wafer (`:JOB:STAR DRIL|CLE`), are overlapped commands: `*OPC?` answers when the
  atmosphere has settled, or the job ended; `:JOB:PROG?` answers the job's progress,
  `:JOB:RES?` its outcome, each a comma-separated reply the spec declares field by field
  (`JOB_PROGRESS_REPLY`, `LAST_JOB_REPLY`). `:ABOR` is the safe state: job stopped, shutter
  closed, emission off.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .equipment import READY_STATES, Limit
from .errors import ToolAlarm, ToolStateError
from .families.scpi import ScpiDriver
from .families.scpi_wire import ScpiReply, quote, setpoint, short_form, unquote
from .families.scpi_wire import command as _command
from .links import TextLink
from .roles.laser import (
    Atmosphere,
    CleanRecipe,
    CleanResult,
    DrillMode,
    DrillRecipe,
    DrillResult,
    FaceUp,
    JobKind,
    JobProgress,
    JobState,
    Laser,
    LaserSource,
    LaserStatus,
)
from .specs.core import R
from .specs.laser import (
    ATMOSPHERE_MNEMONICS,
    CLOSED,
    DRILL_MODE_MNEMONICS,
    FACE_MNEMONICS,
    JOB_KIND_MNEMONICS,
    JOB_POLL_QUERIES,
    JOB_PROGRESS_REPLY,
    LAST_JOB_REPLY,
    NO_WAFER,
    OPEN,
    SITES_PER_COMMAND,
    SOURCES,
    SPEC,
    STATUS_QUERIES,
)

SWITCH_ON, SWITCH_OFF = "ON", "OFF"


#: Process-time allowances beyond which a wait is a timeout.
ATMOSPHERE_TIMEOUT_S = 300.0
JOB_TIMEOUT_FACTOR = 1.5
JOB_TIMEOUT_MARGIN_S = 60.0


def _short(name: str) -> str:
    """The short form of the header of the spec's command `name`."""
    return _command(SPEC, name).short


def _query(name: str) -> str:
    return _command(SPEC, name).query


class ScpiLaser(ScpiDriver, Laser):
    """Drives a laser that implements the packline SCPI laser command set."""

    spec = SPEC
    limits = SPEC.limits()

    def __init__(self, link: TextLink, **options: Any) -> None:
        super().__init__(link, **options)
        #: The source read at connect; via diameters are limited per source.
        self.source: LaserSource | None = None

    # ----------------------------------------------------------------- queries

    async def _read_setup(self) -> None:
        """The source: via diameters are limited per source."""
        self.source = await self.request_source()

    async def request_source(self) -> LaserSource:
        wavelength = await self.query_number("read wavelength", _query("wavelength"))
        try:
            return LaserSource(round(wavelength))
        except ValueError:
            known = ", ".join(str(s.wavelength_nm) for s in LaserSource)
            raise self.garbled("read wavelength", f"{wavelength:g}", f"one of {known} nm") from None

    def via_diameters(self, source: LaserSource) -> Limit:
        """The limit of the source's via diameter setpoint (`SOURCES`), which `drill_vias`
        checks a diameter against on the tool's own source."""
        return self.limits[SOURCES[source].via_diameter]

    async def request_wafer(self) -> str | None:
        action = "read wafer"
        return self._wafer_id(action, await self.link.query(_query("wafer"), idempotent=True))

    def _wafer_id(self, action: str, reply: str) -> str | None:
        """The reply to `:WAF?`: the quoted id, None for `""` (no wafer)."""
        try:
            wafer_id = unquote(reply)
        except ValueError:
            raise self.garbled(action, reply, "a quoted wafer id") from None
        return wafer_id or None

    def _loaded(self, action: str, wafer_id: str | None) -> str:
        """`wafer_id`, the wafer on the chuck as the tool reported it; with none,
        `ToolStateError` in the words the tool would refuse `action`'s commands with
        (`NO_WAFER`), before any is sent."""
        if wafer_id is None:
            raise ToolStateError(self.name, self.address, action, NO_WAFER.words())
        return wafer_id

    async def request_face_up(self) -> FaceUp:
        reply = await self.link.query(_query("wafer_face"), idempotent=True)
        return self.mnemonic("read face up", reply, FACE_MNEMONICS)

    async def request_progress(self) -> JobProgress:
        action = "read progress"
        reply = await self.link.query(_query("job_progress"), idempotent=True)
        return self._progress(action, reply)

    def _progress(self, action: str, reply: str) -> JobProgress:
        """The reply to `:JOB:PROG?`, as the spec declares it (`JOB_PROGRESS_REPLY`)."""
        return self._declared(action, JOB_PROGRESS_REPLY, reply)

    def _declared(self, action: str, declared: ScpiReply[R], reply: str) -> R:
        """`reply` read as the spec's `declared` reply; a `ProtocolError` naming the field
        that is wrong and why, or how many fields it has."""
        try:
            return declared.read(reply)
        except ValueError as error:
            raise self.garbled(action, reply, f"{declared.syntax} ({error})") from None

    async def request_status(self) -> LaserStatus:
        """Every field in one exchange: the spec's `STATUS_QUERIES` as one compound query."""
        action = "read status"
        reply = await self.query_named(action, STATUS_QUERIES)
        return LaserStatus(
            wafer_id=self._wafer_id(action, reply["wafer"]),
            door_open=self.mnemonic(action, reply["door"], {True: OPEN, False: CLOSED}),
            emission_enabled=self.flag_reply(action, reply["emission"]),
            shutter_open=self.mnemonic(action, reply["shutter"], {True: OPEN, False: CLOSED}),
            atmosphere=self.mnemonic(action, reply["atmosphere"], ATMOSPHERE_MNEMONICS),
            atmosphere_ready=self.flag_reply(action, reply["atmosphere_ready"]),
            gas_jet=self.flag_reply(action, reply["jet"]),
            suction=self.flag_reply(action, reply["suction"]),
            rep_rate_khz=self.number_reply(action, reply["frequency"]) / 1000,
            fluence_j_cm2=self.number_reply(action, reply["fluence"]),
            power_setpoint_w=self.number_reply(action, reply["power"]),
            power_measured_w=self.number_reply(action, reply["measured_power"]),
            job=self._progress(action, reply["job_progress"]),
        )

    async def _read_job(self, action: str) -> tuple[JobProgress, float]:
        """A running job's progress and the measured power (W), in one exchange: the spec's
        `JOB_POLL_QUERIES` as one compound query."""
        reply = await self.query_named(action, JOB_POLL_QUERIES)
        progress = self._progress(action, reply["job_progress"])
        return progress, self.number_reply(action, reply["measured_power"])

    # ----------------------------------------------------------------- enclosure, wafer, beam

    async def open_enclosure(self) -> None:
        self.require_state("open enclosure", *READY_STATES)
        await self.send("open enclosure", f"{_short('door')} {OPEN}")

    async def close_enclosure(self) -> None:
        self.require_state("close enclosure", *READY_STATES)
        await self.send("close enclosure", f"{_short('door')} {short_form(CLOSED)}")

    async def load(self, wafer_id: str, face_up: FaceUp = FaceUp.FRONT) -> None:
        """The face is sent only when it is not the tool's default, the front."""
        action = f"load wafer {wafer_id}"
        self.check_wafer_id(wafer_id)
        self.require_state(action, *READY_STATES)
        face = FaceUp(face_up)
        argument = "" if face is FaceUp.FRONT else f",{short_form(FACE_MNEMONICS[face])}"
        load = "wafer_reload" if wafer_id in self.reworks else "wafer_load"  # `reloading`
        async with self.loading(action):
            await self.send(action, f"{_short(load)} {quote(wafer_id)}{argument}")

    async def flip(self) -> None:
        action = "flip wafer"
        self.require_state(action, *READY_STATES)
        await self.send(action, _short("wafer_flip"))

    async def unload(self) -> str:
        action = "unload wafer"
        self.require_state(action, *READY_STATES)
        wafer_id = self._loaded(action, await self.request_wafer())
        await self.send(f"unload wafer {wafer_id}", _short("wafer_unload"))
        return wafer_id

    async def enable_emission(self) -> None:
        action = "enable emission"
        self.require_state(action, *READY_STATES)
        await self.require_interlocks(action, _command(SPEC, "emission").interlocks)
        await self.send(action, f"{_short('emission')} {SWITCH_ON}")

    async def disable_emission(self) -> None:
        """Allowed in every state: switching energy off is always safe."""
        await self.send("disable emission", f"{_short('emission')} {SWITCH_OFF}")

    async def open_shutter(self) -> None:
        action = "open shutter"
        self.require_state(action, *READY_STATES)
        await self.require_interlocks(action, _command(SPEC, "shutter").interlocks)
        await self.send(action, f"{_short('shutter')} {OPEN}")

    async def close_shutter(self) -> None:
        """Allowed in every state: closing the beam path is always safe."""
        await self.send("close shutter", f"{_short('shutter')} {short_form(CLOSED)}")

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
        diameter_limit = SOURCES[self.source].via_diameter
        mode = DrillMode(recipe.mode)
        commands = [
            self._frequency_command(action, recipe.rep_rate_khz),
            self._encode(action, "drill_fluence_j_cm2", recipe.fluence_j_cm2),
            f"{_short('drill_mode')} {short_form(DRILL_MODE_MNEMONICS[mode])}",
        ]
        if mode is DrillMode.TO_DEPTH:
            assert recipe.depth_um is not None  # DrillRecipe guarantees it
            commands.append(self._encode(action, "via_depth_um", recipe.depth_um))
        commands.append(self._encode(action, diameter_limit, recipe.diameter_um))
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
        commands = [
            self._frequency_command(action, recipe.rep_rate_khz),
            self._encode(action, fluence_limit, recipe.fluence_j_cm2),
            self._encode(action, "clean_pulses", recipe.pulses_per_site),
            *self._site_commands(sites),
        ]
        wafer_id, sites_done, at_metal, time_s = await self._run_job(
            action, JobKind.CLEAN, Atmosphere(recipe.atmosphere), recipe.gas_jet, recipe.suction,
            commands,
        )  # fmt: skip
        return CleanResult(wafer_id, sites_done, at_metal, time_s)

    def _frequency_command(self, action: str, rep_rate_khz: float) -> str:
        """Whole hertz on the wire, whatever the kHz value."""
        frequency = setpoint(SPEC, "rep_rate_khz")
        hz = round(self.check_limit(action, frequency.name, rep_rate_khz) * frequency.wire_scale)
        return f"{_short('frequency')} {hz}"

    def _encode(self, action: str, name: str, value: float) -> str:
        """The setting line of setpoint `name`, checked against its limit first."""
        return setpoint(SPEC, name).encode(self.check_limit(action, name, value))

    def _site_commands(self, sites: Sequence[int] | None) -> list[str]:
        """`ALL`, or the list of site indices in lines the tool accepts; nothing is sent here."""
        if sites is None:
            return [f"{_short('sites')} ALL"]
        indices = [int(site) for site in sites]
        if not indices:
            raise ValueError(f"{self.name}: no sites selected (None selects every site)")
        if min(indices) < 0:
            raise ValueError(f"{self.name}: site indices must be >= 0, got {min(indices)}")
        if len(set(indices)) != len(indices):
            raise ValueError(f"{self.name}: site indices must not repeat")
        commands = [_short("sites_clear")]
        for start in range(0, len(indices), SITES_PER_COMMAND):
            chunk = indices[start : start + SITES_PER_COMMAND]
            commands.append(f"{_short('sites_add')} {','.join(map(str, chunk))}")
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
            # emission and shutter are switched on below: the enclosure guards them
            interlocks, (wafer,) = await self.interlocks_with(action, _query("wafer"))
            self.require_closed(action, interlocks, _command(SPEC, "emission").interlocks)
            wafer_id = self._loaded(action, self._wafer_id("read wafer", wafer))
            # Leave no beam behind: stop, shutter closed, emission off, before any error (a
            # timeout, an alarm, a refusal) reaches the caller.
            async with self.safe_state_on_error():
                await self._prepare_atmosphere(action, atmosphere, gas_jet, suction)
                # the settings checked before the beam: a refused one starts no job
                await self.send(action, *commands)
                await self._start_beam(action, kind)
                await self._wait_job(action)
                await self.send(action, f"{_short('shutter')} {short_form(CLOSED)}")
            return await self._job_result(action, kind, wafer_id)

    async def _start_beam(self, action: str, kind: JobKind) -> None:
        """Emission on, checked through the error queue, then the shutter opened and the job
        started in one message, checked: four exchanges.

        A device that follows IEEE 488.2 executes the units after one refused with an
        execution error (-221: an alarm, the enclosure), so emission has a message of its
        own: a refused emission opens no shutter and starts no job. The shutter and the start
        may share one because the tool refuses `:JOB:STAR` unless emission is on and the
        shutter open (docs/protocols/laser.md): a refused shutter starts no job, whichever
        units the device runs after it. A refused start leaves the beam path open: `_run_job`
        then commands the safe state (shutter closed, emission off)."""
        await self.send(action, f"{_short('emission')} {SWITCH_ON}")
        await self.send(
            action,
            f"{_short('shutter')} {OPEN}",
            f"{_short('job_start')} {short_form(JOB_KIND_MNEMONICS[kind])}",
        )

    async def _prepare_atmosphere(
        self, action: str, atmosphere: Atmosphere, gas_jet: bool, suction: bool
    ) -> None:
        """Set atmosphere, jet and suction (one group), then wait until purged or pumped: a
        change of atmosphere is an overlapped command, waited out on the tool's `*OPC?` as a
        job is (`wait_operation`): `:PROC:ATM:READ?`, then, if not yet, `*OPC?` and it again."""
        mnemonic = short_form(ATMOSPHERE_MNEMONICS[atmosphere])
        await self.send(
            action,
            f"{_short('atmosphere')} {mnemonic}",
            f"{_short('jet')} {SWITCH_ON if gas_jet else SWITCH_OFF}",
            f"{_short('suction')} {SWITCH_ON if suction else SWITCH_OFF}",
        )

        async def ready() -> bool | None:
            return await self.query_flag(action, _query("atmosphere_ready")) or None

        # _run_job commands the safe state (abort) before a timeout reaches the caller
        await self.wait_operation(
            action,
            ready,
            ATMOSPHERE_TIMEOUT_S,
            lambda: f"atmosphere {atmosphere.value} not ready",
            abort_on_timeout=False,
        )

    async def _wait_job(self, action: str) -> JobProgress:
        """Wait the job out on the tool's `*OPC?` (`wait_operation`), recording progress and
        measured power (read together, `_read_job`) as the job starts and as it ends.

        The allowance is set from the job's first progress report, which is the first poll's.
        """
        progress, power_w = await self._read_job(action)
        timeout_s = JOB_TIMEOUT_MARGIN_S + JOB_TIMEOUT_FACTOR * (
            progress.elapsed_s + progress.remaining_s
        )
        first = True

        async def poll() -> JobProgress | None:
            nonlocal progress, power_w, first
            if not first:
                progress, power_w = await self._read_job(action)
            first = False
            self.trace("progress", progress.percent)
            self.trace("sites_done", progress.sites_done)
            self.trace("power", power_w)
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
        return await self.wait_operation(
            action,
            poll,
            timeout_s,
            lambda: f"job at {progress.sites_done} of {progress.sites_total} sites",
            abort_on_timeout=False,
        )

    async def _job_result(
        self, action: str, kind: JobKind, wafer_id: str
    ) -> tuple[str, int, int, float]:
        """The outcome of the job `_run_job` ran (`:JOB:RES?`, as the spec declares it:
        `LAST_JOB_REPLY`), which must be a finished job of its `kind`."""
        reply = await self.link.query(_query("job_result"), idempotent=True)
        last = self._declared(action, LAST_JOB_REPLY, reply)
        if last.kind is not kind or last.state is not JobState.DONE:
            raise self.garbled(action, reply, f"a finished {kind.value} job")
        return wafer_id, last.sites_done, last.sites_at_metal, last.time_s
