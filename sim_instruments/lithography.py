"""Simulated litho cell: the ASCII host link of `docs/protocols/lithography.md`.

Speaks the command set of the protocol page (the cell's spec, through the ASCII host-link wire
side `families.ascii_host`) on a `socket://` server (the default) or on a pty. Time is the
line's clock: a job (coat, bake, exposure, develop) is planned when its command is accepted
and applied when the clock reaches its end, so a virtual clock makes a two-minute exposure
cost only the polls that watch it. A job ended early (`STOP`, or an alarm) applies what was
done by then: the dies shot so far, the bake or the puddle time so far; a coat ended early is
rinsed off before the wafer leaves the cup. The process physics are in
`sim_instruments/physics/lithography.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

from packline.clock import Clock
from packline.drivers.roles.clean_room import AMBIENT_C, reachable_c
from packline.drivers.roles.lithography import (
    MATERIALS,
    RETICLES,
    CoatMaterial,
    Film,
    FilmLayer,
    PatternReport,
    Reticle,
    Tone,
    TrackState,
)
from packline.drivers.specs.lithography import FILM_REPLY, PATTERN_REPLY, RETICLE_REPLY, SPEC

from .families.ascii_host import HostRefused, Transport, wafer_id
from .families.ascii_host_jobs import JobTool
from .physics.lithography import (
    LithoFilm,
    LithoPhysics,
    bake,
    bake_time_s,
    bridged,
    clearing_dose_mj_cm2,
    coat,
    coat_time_s,
    develop_film,
    develop_time_s,
    expose,
    litho_film,
    shot_time_s,
)
from .ramp import Ramp
from .twin import JobEnd, TwinStore, Workpiece

#: The spin speed of the develop module's rinse and dry (est).
RINSE_RPM = 1000


def _material(word: str) -> CoatMaterial:
    try:
        return CoatMaterial(word.upper())
    except ValueError:
        raise ValueError(f"material {word!r} is not one of {', '.join(CoatMaterial)}") from None


def _mask(word: str) -> Reticle:
    if word not in RETICLES:
        raise ValueError(f"mask {word!r} is not in the library ({', '.join(RETICLES)})")
    return RETICLES[word]


def _tone(word: str) -> Tone:
    try:
        return Tone(word.upper())
    except ValueError:
        raise ValueError(f"tone {word!r} is not one of {', '.join(Tone)}") from None


@dataclass
class _Job:
    """A job of one module: what it does, when it started and when it ends."""

    state: TrackState
    started_s: float
    ends_s: float
    spin_rpm: float = 0.0
    spin_time_s: float = 0.0
    material: CoatMaterial | None = None
    temperature_c: float = 0.0
    process_from_s: float = 0.0  # when the bake or the shots begin (after a ramp or alignment)
    reticle: Reticle | None = None
    dose_mj_cm2: float = 0.0
    shot_s: float = 0.0
    develop_s: float = 0.0


#: What a job of each module does, in the words of its twin event.
_OPERATIONS = {
    TrackState.COATING: "coat",
    TrackState.BAKING: "soft bake",
    TrackState.EXPOSING: "expose",
    TrackState.DEVELOPING: "develop",
}


class SimLithography(JobTool[_Job]):
    """The simulated litho cell behind a TCP line server (socket://) or a pty."""

    spec = SPEC
    transports = ("socket", "pty")
    faults = {
        "dispense_fail": "the resist pump delivers nothing: a coat running alarms",
        "lamp_failure": "the exposure lamp goes out: an exposure running alarms",
        "cover_open": "a cover of the cell is open",
        "exhaust_loss": "the spin cup exhaust stops",
        "vacuum_leak": "the spin chuck vacuum does not hold the wafer",
    }
    fault_opens = {
        "lamp_failure": "lamp_ready",
        "cover_open": "cover_closed",
        "exhaust_loss": "cup_exhaust",
        "vacuum_leak": "wafer_vacuum",
    }

    def __init__(
        self,
        name: str,
        twin: TwinStore,
        clock: Clock | None = None,
        *,
        transport: Transport = "socket",
        serial_number: str = "LC-1-0001",
        physics: LithoPhysics | None = None,
    ) -> None:
        super().__init__(name, twin, clock, transport=transport, serial_number=serial_number)
        self.physics = physics or LithoPhysics()
        self.state = TrackState.IDLE
        self.reticle: Reticle | None = None
        self.shots_done = 0
        self.shots_total = 0
        #: The hotplate's temperature, degC, ramping towards its set temperature.
        self.hotplate = Ramp.holding(AMBIENT_C, self.physics.bake_ramp_c_s, self.clock.now())

    # ----------------------------------------------------------------- queries

    def status_values(self) -> dict[str, object]:
        now = self.clock.now()
        job = self.job
        spin = 0
        if job is not None and job.state is TrackState.COATING:
            spin = round(job.spin_rpm)
        elif job is not None and job.state is TrackState.DEVELOPING:
            spin = RINSE_RPM if now >= job.started_s + job.develop_s else 0
        return {
            **super().status_values(),
            "spin_rpm": spin,
            "hotplate_c": self.hotplate.at(now),
            "shots_done": self.shots_done,
            "shots_total": self.shots_total,
        }

    def _masks(self) -> str:
        return ",".join(RETICLES)

    def _reticle_query(self) -> str:
        reticle = self.reticle
        if reticle is None:
            return "NONE"
        return RETICLE_REPLY.render(reticle)

    def _film_query(self) -> str:
        film = self._film()
        if film is None:
            return "NONE"
        thickness = float(film.thickness_um.mean())
        return FILM_REPLY.render(
            Film(
                material=film.material,
                tone=film.tone,
                layer=film.layer,
                thickness_um=thickness,
                residual_solvent_percent=100 * film.photo.solvent,
                clearing_dose_mj_cm2=clearing_dose_mj_cm2(film.material, thickness),
                nominal_develop_s=MATERIALS[film.material].nominal_develop_s,
                dose_mj_cm2=float(film.dose_mj_cm2.max()),
                developed=film.photo.developed,
            )
        )

    def _pattern_query(self) -> str:
        film = self._film()
        if film is None or not film.photo.developed:
            return "NONE"
        reticle = RETICLES[film.photo.mask]
        opened = film.cd_um > 0
        merged = bridged(reticle, film.cd_um, film.thickness_um, self.physics)
        return PATTERN_REPLY.render(
            PatternReport(
                mask=reticle.name,
                sites=film.cd_um.size,
                cleared=int(film.cleared.sum()),
                depth_um=float(film.depth_um.mean()),
                residual_um=float(film.residual_um.max()),
                cd_um=float(film.cd_um[opened].mean()) if opened.any() else 0.0,
                bridged=int(merged.sum()),
                closed=int((~opened).sum()),
            )
        )

    # ----------------------------------------------------------------- jobs

    def _coat(self, material: CoatMaterial, spin_rpm: float, spin_time_s: float) -> str:
        workpiece = self.loaded()
        film = self._film()
        if film is not None and (not film.photo.developed or film.layer is FilmLayer.RESIST):
            raise HostRefused(
                "FILM_STATE", f"wafer {workpiece.id} carries {film.material.value}; strip it first"
            )
        self.require_interlocks("COAT")
        now = self.clock.now()
        self._start(
            _Job(
                TrackState.COATING,
                now,
                now + coat_time_s(spin_rpm, spin_time_s, self.physics),
                spin_rpm=spin_rpm,
                spin_time_s=spin_time_s,
                material=material,
            )
        )
        return ""

    def _bake(self, temperature_c: float, time_s: float) -> str:
        self._require_film(developed=False)
        self.require_interlocks("BAKE")
        now = self.clock.now()
        reached_c = reachable_c(temperature_c)  # the room, set below it: no chiller
        total = bake_time_s(self.hotplate.at(now), reached_c, time_s, self.physics)
        self.hotplate.head_for(reached_c, now)
        self._start(
            _Job(
                TrackState.BAKING,
                now,
                now + total,
                temperature_c=reached_c,
                process_from_s=now + total - time_s,
            )
        )
        return ""

    def _set_reticle(self, reticle: Reticle) -> str:
        self.reticle = reticle
        return ""

    def _expose(self, dose_mj_cm2: float) -> str:
        self._require_film(developed=False)
        if self.reticle is None:
            raise HostRefused("NO_RETICLE", "no reticle on the stage; RETICLE first")
        self.require_interlocks("EXPOSE")
        now = self.clock.now()
        shots = self.loaded().geometry.unit_count
        shot_s = shot_time_s(dose_mj_cm2, self.physics)
        begin = now + self.physics.align_s
        self.shots_done, self.shots_total = 0, shots
        self._start(
            _Job(
                TrackState.EXPOSING,
                now,
                begin + shots * shot_s,
                process_from_s=begin,
                reticle=self.reticle,
                dose_mj_cm2=dose_mj_cm2,
                shot_s=shot_s,
            )
        )
        return ""

    def _develop(self, tone: Tone, time_s: float) -> str:
        film = self._require_film(developed=False)
        if not film.photo.mask:
            raise HostRefused("FILM_STATE", "the film is not exposed; EXPOSE first")
        if MATERIALS[film.material].tone is not tone:
            raise HostRefused(
                "WRONG_TONE", f"{film.material.value} is {film.tone.value}, not {tone.value}"
            )
        self.require_interlocks("DEVELOP")
        now = self.clock.now()
        self._start(
            _Job(
                TrackState.DEVELOPING,
                now,
                now + develop_time_s(time_s, self.physics),
                develop_s=time_s,
            )
        )
        return ""

    handlers = {
        "STAT?": JobTool.status,
        "LOAD": JobTool.load_wafer,
        "RELOAD": JobTool.reload_wafer,
        "UNLOAD": JobTool.unload_wafer,
        "COAT": _coat,
        "BAKE": _bake,
        "MASKS?": _masks,
        "RETICLE": _set_reticle,
        "RETICLE?": _reticle_query,
        "EXPOSE": _expose,
        "DEVELOP": _develop,
        "FILM?": _film_query,
        "PATTERN?": _pattern_query,
        "STOP": JobTool.stop_job,
        "RST": JobTool.reset_alarms,
    }
    parsers = {"wafer": wafer_id, "material": _material, "mask": _mask, "tone": _tone}

    # ----------------------------------------------------------------- the cell's state

    def _film(self) -> LithoFilm | None:
        """The cell's film on the loaded wafer, if any."""
        return None if self.wafer_id is None else litho_film(self.twin.get(self.wafer_id))

    def _require_film(self, *, developed: bool) -> LithoFilm:
        wafer_id = self.loaded().id
        film = self._film()
        if film is None:
            raise HostRefused("FILM_STATE", f"wafer {wafer_id} has no film; COAT first")
        if film.photo.developed != developed:
            raise HostRefused("FILM_STATE", f"the film on {wafer_id} is already developed")
        return film

    def _start(self, job: _Job) -> None:
        self.job = job
        self.state = job.state

    # ----------------------------------------------------------------- time and physics

    def progress(self, job: _Job, now: float) -> None:
        """Count the shots an exposure has fired by now."""
        if job.state is TrackState.EXPOSING:
            self.shots_done = min(self.shots_total, self._shots_by(now, job))

    def alarm_now(self, job: _Job) -> str | None:
        spinning = job.state in (TrackState.COATING, TrackState.DEVELOPING)
        for fault, alarm, applies in (
            ("cover_open", "COVER_OPENED", True),
            ("vacuum_leak", "VACUUM_LOST", job.state is not TrackState.BAKING),
            ("exhaust_loss", "EXHAUST_LOST", spinning),
            ("dispense_fail", "DISPENSE_FAILED", job.state is TrackState.COATING),
            ("lamp_failure", "LAMP_FAILURE", job.state is TrackState.EXPOSING),
        ):
            if applies and fault in self.injected:
                return alarm
        return None

    @staticmethod
    def _shots_by(now: float, job: _Job) -> int:
        return max(int((now - job.process_from_s) / job.shot_s + 1e-9), 0)

    def operation(self, job: _Job) -> str:
        """The job's module's operation: a coat, a soft bake, an exposure or a develop (a coat
        cut off lays nothing, and records no event, but its end is told)."""
        return _OPERATIONS[job.state]

    def apply(self, job: _Job, now: float, result: JobEnd) -> None:
        """Apply what the job did by `now` to the wafer (a coat only when completed), its
        event saying how the job ended (`result`)."""
        workpiece = self.loaded()
        if job.state is TrackState.COATING:
            if result is JobEnd.COMPLETED:
                self._coated(workpiece, job, now)
        elif job.state is TrackState.BAKING:
            self._baked(workpiece, job, max(now - job.process_from_s, 0.0), now, result)
        elif job.state is TrackState.EXPOSING:
            self._exposed(workpiece, job, now, result)
        else:
            time_s = min(now - job.started_s, job.develop_s)
            self._developed(workpiece, time_s, now, result)

    def _coated(self, workpiece: Workpiece, job: _Job, now: float) -> None:
        material = job.material
        assert material is not None
        thickness = coat(workpiece, material, job.spin_rpm, job.spin_time_s, self.physics)
        workpiece.record(
            self.name,
            _OPERATIONS[TrackState.COATING],
            now,
            material=material.value,
            spin_rpm=job.spin_rpm,
            spin_time_s=job.spin_time_s,
            thickness_um=round(thickness, 3),
            result=JobEnd.COMPLETED.value,
        )

    def _baked(
        self, workpiece: Workpiece, job: _Job, time_s: float, now: float, result: JobEnd
    ) -> None:
        bake(workpiece, job.temperature_c, time_s, self.physics)
        film = litho_film(workpiece)
        assert film is not None
        workpiece.record(
            self.name,
            _OPERATIONS[TrackState.BAKING],
            now,
            temperature_c=job.temperature_c,
            bake_s=round(time_s, 1),
            solvent_percent=round(100 * film.photo.solvent, 2),
            result=result.value,
        )

    def _exposed(self, workpiece: Workpiece, job: _Job, now: float, result: JobEnd) -> None:
        assert job.reticle is not None
        expose(workpiece, job.reticle, job.dose_mj_cm2, self.shots_done)
        workpiece.record(
            self.name,
            _OPERATIONS[TrackState.EXPOSING],
            now,
            mask=job.reticle.name,
            dose_mj_cm2=job.dose_mj_cm2,
            shots=self.shots_done,
            dies=self.shots_total,
            result=result.value,
        )

    def _developed(self, workpiece: Workpiece, time_s: float, now: float, result: JobEnd) -> None:
        film = litho_film(workpiece)
        assert film is not None
        reticle = RETICLES[film.photo.mask]
        film = develop_film(workpiece, reticle, max(time_s, 0.0), self.physics)
        workpiece.record(
            self.name,
            _OPERATIONS[TrackState.DEVELOPING],
            now,
            tone=film.tone.value,
            develop_s=round(time_s, 1),
            cleared=int(film.cleared.sum()),
            bridged=int(bridged(reticle, film.cd_um, film.thickness_um, self.physics).sum()),
            residual_um=round(float(film.residual_um.max()), 3),
            result=result.value,
        )
