"""Simulated laser: via drilling and bump cleaning behind a SCPI socket, with its ablation physics.

Speaks the command set of `docs/protocols/laser.md`, declared in `drivers/specs/laser.py`; the
SCPI grammar, error queues and common commands are the family's wire side
(`sim_instruments/families/scpi.py`). The source is fixed per tool: a 355 nm UV
laser or a CO2 laser at 9.4 or 10.6 µm (`source=`). Time is the line's clock: the scan job
(`sim_instruments/laser_job.py`) is brought up to `clock.now()` whenever the tool is addressed;
the wafer on the chuck and the sites selected are `sim_instruments/laser_chuck.py`'s.
The ablation physics are in `sim_instruments/physics/laser.py`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any, ClassVar

import numpy as np

from packline.clock import Clock
from packline.drivers.families.scpi_wire import command, quote, short_form
from packline.drivers.roles.laser import (
    Atmosphere,
    DrillMode,
    FaceUp,
    JobProgress,
    JobState,
    LaserSource,
)
from packline.drivers.specs.laser import (
    ALARM_ACTIVE,
    ATMOSPHERE_MNEMONICS,
    ATMOSPHERE_NOT_READY,
    CLOSED,
    DEFAULT_SOURCE,
    DOOR_CLOSED,
    DRILL_MODE_MNEMONICS,
    EMISSION_ON,
    FACE_MNEMONICS,
    JET_UNDER_REDUCED_PRESSURE,
    JOB_HOLDS_SETTINGS,
    JOB_KIND_MNEMONICS,
    JOB_PROGRESS_REPLY,
    JOB_RUNNING,
    LAST_JOB_REPLY,
    NO_SITES,
    NO_WAFER,
    OPEN,
    SHUTTER_OPEN,
    SITES_PER_COMMAND,
    SOURCES,
    SPEC,
    LastJob,
)

from .families.scpi import (
    Header,
    ScpiError,
    ScpiSimTool,
    choice,
    count,
    first_unmet_refusal,
    flag,
    quoted_wafer_id,
    switch,
    unmet,
)
from .laser_chuck import Chuck
from .laser_job import ScanJob
from .physics.laser import LaserPhysics
from .servers.text import AddressForm
from .twin import Face, JobEnd, TwinStore

# --------------------------------------------------------------------- the tool

#: How a job that ended in each state ended.
_JOB_ENDS = {
    JobState.DONE: JobEnd.COMPLETED,
    JobState.ABORTED: JobEnd.ABORTED,
    JobState.FAULTED: JobEnd.FAULTED,
}


class SimLaser(ScpiSimTool):
    """The simulated laser behind a SCPI socket server."""

    spec = SPEC
    not_a_number = "{header} needs a number, got {text!r}"

    faults = {
        "enclosure_opened": "the enclosure door switch opens (the door is opened by hand)",
        "power_drift": "the source's output drifts to 80 % of its setpoint",
    }
    fault_opens = {"enclosure_opened": "enclosure_closed"}
    #: The source a laser of this class is built with when no `source` option names another:
    #: what it is, and so the model `model_built` says it is.
    default_source: ClassVar[LaserSource] = DEFAULT_SOURCE

    # The setpoints, kept by `reset_setpoints` and the setpoint headers (each has a default).
    frequency_hz: float
    fluence_j_cm2: float
    drill_depth_um: float
    drill_diameter_um: float
    clean_pulses: int

    def __init__(
        self,
        name: str,
        twin: TwinStore,
        clock: Clock | None = None,
        *,
        source: LaserSource | None = None,
        serial_number: str | None = None,
        physics: LaserPhysics | None = None,
        address_form: AddressForm = "visa",
    ) -> None:
        super().__init__(name, twin, clock, address_form)
        self.source = LaserSource(self.default_source if source is None else source)
        self.source_spec = SOURCES[self.source]
        self.serial_number = serial_number or f"{self.source_spec.model}-0001"
        self.physics = physics or LaserPhysics()
        self.door_open = False
        self.chuck = Chuck(twin, name)
        self.emission = False
        self.shutter_open = False
        self.atmosphere = Atmosphere.AIR
        self._atmosphere_ready_s = self.clock.now()
        #: Whether `*OPC?` waits for the atmosphere to settle: set by a change, cleared by
        #: `:ABOR` (the gas goes on settling, `:PROC:ATM:READ?` says when it has).
        self._atmosphere_awaited = False
        self.job: ScanJob | None = None
        self.reset_settings()

    def reset_settings(self) -> None:
        self.reset_setpoints(
            {
                "rep_rate_khz": "frequency_hz",
                "fluence_j_cm2": "fluence_j_cm2",
                "via_depth_um": "drill_depth_um",
                self.source_spec.via_diameter: "drill_diameter_um",
                "clean_pulses": "clean_pulses",
            }
        )
        self.drill_mode = DrillMode.TO_METAL
        self.gas_jet = False
        self.suction = False
        self.set_atmosphere(Atmosphere.AIR)
        self.chuck.clear_selection()

    # ----------------------------------------------------------------- the wire

    def device_commands(self) -> Iterable[Header]:
        """Every device header with its query and setting handler (None: not that form)."""
        spot_um, max_power_w = self.source_spec.spot_diameter_um, self.source_spec.max_power_w
        handlers = {
            "wavelength": (lambda _: str(self.source.wavelength_nm), None),
            "spot": (lambda _: f"{spot_um:g}", None),
            "frequency": (lambda _: f"{self.frequency_hz:g}", self._set_frequency),
            "fluence": (lambda _: f"{self.fluence_j_cm2:g}", self._set_fluence),
            "power": (lambda _: f"{self.power_setpoint_w():.4g}", None),
            "power_maximum": (lambda _: f"{max_power_w:g}", None),
            "measured_power": (lambda _: f"{self.power_measured_w():.4g}", None),
            "emission": (lambda _: flag(self.emission), self._set_emission),
            "shutter": (lambda _: _open_closed(self.shutter_open), self._set_shutter),
            "door": (lambda _: _open_closed(self.door_open), self._set_door),
            "wafer_load": (None, self._load),
            "wafer_reload": (None, partial(self._load, rework=True)),
            "wafer_unload": (None, self._unload),
            "wafer_flip": (None, self._flip),
            "wafer": (lambda _: quote(self.chuck.wafer_id or ""), None),
            "wafer_face": (lambda _: short_form(FACE_MNEMONICS[self.chuck.face_up]), None),
            "atmosphere": (self._atmosphere_name, self._set_atmosphere),
            "atmosphere_ready": (lambda _: flag(self.atmosphere_ready()), None),
            "sites": (None, self._select_all_sites),
            "sites_clear": (None, self._clear_sites),
            "sites_add": (None, self._add_sites),
            "sites_count": (lambda _: str(self.chuck.selected_sites().size), None),
            "job_start": (None, self._start_job),
            "job_progress": (self._progress, None),
            "job_result": (self._result, None),
        }
        for name, (query, setting) in handlers.items():
            yield Header(self.header(name), query, setting)
        idle = self._idle
        yield self.switch_header(self.header("jet"), "gas_jet", idle("jet"))
        yield self.switch_header(self.header("suction"), "suction", idle("suction"))
        yield self.choice_header(
            self.header("drill_mode"), "drill_mode", DRILL_MODE_MNEMONICS, idle("drill_mode")
        )
        yield self.setpoint_header("via_depth_um", "drill_depth_um", idle("drill_depth"))
        yield self.setpoint_header(
            self.source_spec.via_diameter, "drill_diameter_um", idle("drill_diameter")
        )
        yield self.setpoint_header("clean_pulses", "clean_pulses", idle("clean_pulses"))

    # ----------------------------------------------------------------- common and system

    @property
    def model(self) -> str:
        return self.source_spec.model

    @classmethod
    def model_built(cls, options: Mapping[str, Any]) -> str:
        """Its source's model (`LC-106` for a CO2 laser at 10.6 um): the `source` option's,
        else the class's `default_source`'s (the spec's model is `DEFAULT_SOURCE`'s, the UV
        laser's, which `SimCo2Laser` is not)."""
        return SOURCES[LaserSource(options.get("source", cls.default_source))].model

    def enclosure_closed(self) -> bool:
        return self.interlocks()["enclosure_closed"]

    def interlock_conditions(self) -> dict[str, bool]:
        return {
            "enclosure_closed": not self.door_open,
            "emission_enabled": self.emission,
            "shutter_open": self.shutter_open,
        }

    def abort(self) -> None:
        self._safe_state(JobState.ABORTED)
        self._atmosphere_awaited = False

    def operation_pending(self) -> bool:
        """A scan job runs, or a change of atmosphere settles (`:JOB:STAR` and `:PROC:ATM`
        are overlapped commands: `*OPC?` answers the job's end, the atmosphere's settling)."""
        return self._job_running() or self._atmosphere_settling()

    def _job_running(self) -> bool:
        return self.job is not None and self.job.running

    def _atmosphere_settling(self) -> bool:
        return self._atmosphere_awaited and not self.atmosphere_ready()

    def next_change_s(self, now: float) -> float:
        """The running job's end, or the atmosphere's settling; else the default scan (a
        job's alarms come of faults and commands, which wake a held reply themselves)."""
        if self._job_running():
            assert self.job is not None
            return self.job.ends_s
        if self._atmosphere_settling():
            return self._atmosphere_ready_s
        return super().next_change_s(now)

    def _safe_state(self, job_end: JobState) -> None:
        if self._job_running():
            self._end_job(job_end)
        self.shutter_open = False
        self.emission = False

    # ----------------------------------------------------------------- source and beam

    def power_setpoint_w(self) -> float:
        """Average power the settings ask for: fluence * spot area * repetition rate."""
        return _power_w(self.fluence_j_cm2, self.frequency_hz, self.source_spec.spot_diameter_um)

    def power_measured_w(self) -> float:
        if not self.emission:
            return 0.0
        drift = self.physics.drifted_power_fraction if "power_drift" in self.injected else 1.0
        return self.power_setpoint_w() * drift

    def _check_power(self, setting: str, fluence_j_cm2: float, frequency_hz: float) -> None:
        """Refuse the `setting` (its short header) that would ask more than the source's
        power, naming it: a host that checks a group of settings at once learns which."""
        power_w = _power_w(fluence_j_cm2, frequency_hz, self.source_spec.spot_diameter_um)
        if power_w > self.source_spec.max_power_w:
            raise ScpiError(
                -222,
                f"{setting}: power {power_w:.3g} W above the source's "
                f"{self.source_spec.max_power_w:g} W",
            )

    def _set_frequency(self, arguments: list[str]) -> None:
        hz = self.number("rep_rate_khz", arguments, self._idle("frequency"))
        self._check_power(self.short("frequency"), self.fluence_j_cm2, hz)
        self.frequency_hz = hz

    def _set_fluence(self, arguments: list[str]) -> None:
        fluence = self.number("fluence_j_cm2", arguments, self._idle("fluence"))
        self._check_power(self.short("fluence"), fluence, self.frequency_hz)
        self.fluence_j_cm2 = fluence

    def _set_emission(self, arguments: list[str]) -> None:
        on = switch(self.short("emission"), arguments)
        if not on:
            self._safe_state(JobState.ABORTED)
            return
        if self.alarms:
            raise unmet(ALARM_ACTIVE)
        self.require_interlocks(SPEC.command_by_name["emission"].interlocks)
        self.emission = True

    def _set_shutter(self, arguments: list[str]) -> None:
        opening = choice(self.short("shutter"), arguments, {True: OPEN, False: CLOSED})
        if not opening:
            if self._job_running():
                self._end_job(JobState.ABORTED)
            self.shutter_open = False
            return
        self.require_interlocks(SPEC.command_by_name["shutter"].interlocks)
        self.shutter_open = True

    # ----------------------------------------------------------------- enclosure and wafer

    def _set_door(self, arguments: list[str]) -> None:
        """Opening is refused while the beam can leave: emission on or shutter open, as the
        spec declares (`EMISSION_ON`, `SHUTTER_OPEN`)."""
        opening = choice(self.short("door"), arguments, {True: OPEN, False: CLOSED})
        if opening and self.emission:
            raise unmet(EMISSION_ON)
        if opening and self.shutter_open:
            raise unmet(SHUTTER_OPEN)
        self.door_open = opening

    def _load(self, arguments: list[str], *, rework: bool = False) -> None:
        """The id, then the optional face up (the front by default); `:WAF:REL` as a
        `rework`, of a wafer this tool may have processed last."""
        header = self.short("wafer_load")
        if len(arguments) > 1:
            face_up = choice(header, arguments[1:], FACE_MNEMONICS)
        else:
            count(header, arguments, 1)
            face_up = FaceUp.FRONT
        wafer_id = quoted_wafer_id(arguments[0], 0)
        if not self.door_open:
            raise unmet(DOOR_CLOSED)
        self.chuck.load(wafer_id, face_up, rework=rework)

    def _flip(self, arguments: list[str]) -> None:
        count(self.short("wafer_flip"), arguments, 0)
        self._idle_only("wafer_flip")
        self.chuck.flip()

    def _unload(self, arguments: list[str]) -> None:
        count(self.short("wafer_unload"), arguments, 0)
        if not self.door_open:
            raise unmet(DOOR_CLOSED)
        self.chuck.unload()

    # ----------------------------------------------------------------- atmosphere and gas

    def set_atmosphere(self, atmosphere: Atmosphere) -> None:
        if atmosphere is not self.atmosphere:
            self.atmosphere = atmosphere
            self._atmosphere_ready_s = (
                self.clock.now() + self.physics.atmosphere_settle_s[atmosphere]
            )
            self._atmosphere_awaited = True

    def atmosphere_ready(self) -> bool:
        return self.clock.now() >= self._atmosphere_ready_s

    def _atmosphere_name(self, _: list[str]) -> str:
        return short_form(ATMOSPHERE_MNEMONICS[self.atmosphere])

    def _set_atmosphere(self, arguments: list[str]) -> None:
        atmosphere = choice(self.short("atmosphere"), arguments, ATMOSPHERE_MNEMONICS)
        self._idle_only("atmosphere")
        self.set_atmosphere(atmosphere)

    # ----------------------------------------------------------------- job settings

    def _idle_only(self, name: str) -> None:
        """Refuse the command `name` while a job runs, as the spec declares
        (`JOB_HOLDS_SETTINGS`), in the words naming what it would change, the command's own
        (its `own_fields`)."""
        if self._job_running():
            raise unmet(JOB_HOLDS_SETTINGS, **command(SPEC, name).own_fields)

    def _idle(self, name: str) -> Callable[[], None]:
        """The guard of the command `name`, refused while a job runs (`_idle_only`)."""
        return lambda: self._idle_only(name)

    def _select_all_sites(self, arguments: list[str]) -> None:
        choice(self.short("sites"), arguments, {True: "ALL"})
        self._idle_only("sites")
        self.chuck.select_all()

    def _clear_sites(self, arguments: list[str]) -> None:
        count(self.short("sites_clear"), arguments, 0)
        self._idle_only("sites_clear")
        self.chuck.clear_selection()

    def _add_sites(self, arguments: list[str]) -> None:
        """Parameters (-109, -108, -104), then the state (-221), then the range (-222)."""
        if not arguments:
            raise ScpiError(-109, f"{self.short('sites_add')} needs site indices")
        if len(arguments) > SITES_PER_COMMAND:
            raise ScpiError(-108, f"at most {SITES_PER_COMMAND} sites per line")
        try:
            added = np.array([int(a) for a in arguments], np.int64)
        except ValueError:
            raise ScpiError(-104, "site indices must be integers") from None
        self._idle_only("sites_add")
        self.chuck.add_sites(added)

    # ----------------------------------------------------------------- jobs

    def _start_job(self, arguments: list[str]) -> None:
        kind = choice(self.short("job_start"), arguments, JOB_KIND_MNEMONICS)
        refusal = self._start_refusal()
        if refusal is not None:
            raise refusal
        self.require_interlocks(SPEC.command_by_name["job_start"].interlocks)
        depth_um = self.drill_depth_um if self.drill_mode is DrillMode.TO_DEPTH else None
        self.job = ScanJob.plan(
            kind,
            self.chuck.workpiece(),
            np.sort(self.chuck.selected_sites()),
            started_s=self.clock.now(),
            frequency_hz=self.frequency_hz,
            fluence_j_cm2=self.fluence_j_cm2,
            depth_um=depth_um,
            diameter_um=self.drill_diameter_um,
            spot_diameter_um=self.source_spec.spot_diameter_um,
            clean_pulses=self.clean_pulses,
            atmosphere=self.atmosphere,
            gas_jet=self.gas_jet,
            suction=self.suction,
            physics=self.physics,
            face=Face(self.chuck.face_up.value),
        )

    def _start_refusal(self) -> ScpiError | None:
        """The refusal of the first of `:JOB:STAR`'s preconditions, in the spec's order, that
        the tool's state leaves unmet (the interlocks come after, as the family's precedence
        says); None if a job can start."""
        unmet_now = {
            JOB_RUNNING: self._job_running(),
            ALARM_ACTIVE: bool(self.alarms),
            NO_WAFER: self.chuck.wafer_id is None,
            ATMOSPHERE_NOT_READY: not self.atmosphere_ready(),
            JET_UNDER_REDUCED_PRESSURE: (
                self.gas_jet and self.atmosphere is Atmosphere.REDUCED_PRESSURE
            ),
            NO_SITES: self.chuck.selected_sites().size == 0,
        }
        return first_unmet_refusal(
            command(SPEC, "job_start"), unmet_now, atmosphere=self.atmosphere.value
        )

    def _progress(self, _: list[str]) -> str:
        """`:JOB:PROG?`, as the spec declares it (`JOB_PROGRESS_REPLY`)."""
        job = self.job
        if job is None:
            return JOB_PROGRESS_REPLY.render(JobProgress(JobState.IDLE, 0, 0, 0.0, 0.0))
        remaining_s = max(job.total_s - job.elapsed_s, 0.0) if job.running else 0.0
        return JOB_PROGRESS_REPLY.render(
            JobProgress(job.state, job.done, job.sites.size, job.elapsed_s, remaining_s)
        )

    def _result(self, _: list[str]) -> str:
        """`:JOB:RES?`, as the spec declares it (`LAST_JOB_REPLY`): no kind before the first
        job."""
        job = self.job
        if job is None:
            return LAST_JOB_REPLY.render(LastJob(None, JobState.IDLE, 0, 0, 0.0))
        return LAST_JOB_REPLY.render(
            LastJob(job.kind, job.state, job.done, job.at_metal, job.elapsed_s)
        )

    # ----------------------------------------------------------------- time and physics

    def advance(self) -> None:
        """Bring the tool to the clock's present time: alarms first seen now, then the scan."""
        job = self.job
        if (
            job is not None
            and job.running
            and job.advance_to(self.clock.now(), self.twin.get(job.wafer_id), self.physics)
        ):
            self._end_job(JobState.DONE)
        if self.emission and not self.enclosure_closed():
            self._alarm("INTERLOCK_OPEN")
        elif self.emission and self._power_out_of_tolerance():
            self._alarm("POWER_TOLERANCE")

    def _power_out_of_tolerance(self) -> bool:
        setpoint = self.power_setpoint_w()
        deviation = abs(self.power_measured_w() - setpoint)
        return deviation > self.physics.power_tolerance * setpoint

    def _alarm(self, code: str) -> None:
        self.latch(code)
        self._safe_state(JobState.FAULTED)

    def _end_job(self, state: JobState) -> None:
        job = self.job
        assert job is not None
        workpiece, now = self.twin.get(job.wafer_id), self.clock.now()
        job.end(state, workpiece, self.name, self.source.wavelength_nm, now)
        self.job_ended(job.operation, [job.wafer_id], now, _JOB_ENDS[state])


class SimCo2Laser(SimLaser):
    """A CO2 laser at 10.6 µm: 50-150 µm vias in resin, stopped by the copper underneath."""

    default_source = LaserSource.CO2_10600


# --------------------------------------------------------------------- wire helpers


def _open_closed(is_open: bool) -> str:
    return short_form(OPEN if is_open else CLOSED)


def _power_w(fluence_j_cm2: float, frequency_hz: float, spot_diameter_um: float) -> float:
    spot_area_cm2 = math.pi * (spot_diameter_um * 1e-4 / 2) ** 2
    return fluence_j_cm2 * spot_area_cm2 * frequency_hz
