"""Simulated wet bench: the ASCII host link of `docs/protocols/wet-bench.md`.

Speaks the command set of the protocol page (the bench's spec, through the ASCII host-link
wire side `families.ascii_host`) on a `socket://` server (the default) or on a pty. Time is
the line's clock: a dip is planned when `DIP` is accepted and applied when the clock reaches
the end of its immersion (or when `STOP` or an alarm lifts the wafer out early: the time
immersed so far counts); the rinse and dry follow. Each bath heats or cools towards its set
temperature at a fixed rate. The chemistry is in `sim_instruments/physics/wet_bench.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from packline.clock import Clock
from packline.drivers.roles.clean_room import AMBIENT_C, reachable_c
from packline.drivers.roles.wet_bench import BATH_TOLERANCE_C, BenchState, DipResult, Tank
from packline.drivers.specs.wet_bench import RESULT_REPLY, SPEC

from .families.ascii_host import HostRefused, Transport, wafer_id
from .families.ascii_host_jobs import JobTool
from .physics.wet_bench import DipOutcome, WetPhysics, dip_time_s, etch, plate_electroless, strip
from .ramp import Ramp
from .twin import JobEnd, TwinStore

#: The baths' set temperatures at power-up (the bench is warmed up).
POWER_UP_C = {Tank.STRIP: 60.0, Tank.CU_ETCH: 30.0, Tank.TI_ETCH: 40.0, Tank.CU_ELESS: 60.0}


def _tank(word: str) -> Tank:
    try:
        return Tank(word.upper())
    except ValueError:
        raise ValueError(f"tank {word!r} is not one of {', '.join(Tank)}") from None


@dataclass
class _Bath:
    """A tank's bath: its set temperature and its temperature, degC, ramping towards it (or
    towards ambient while the heaters are off)."""

    set_c: float
    temperature: Ramp
    dips: int = 0


@dataclass
class _Dip:
    wafer_id: str
    tank: Tank
    time_s: float
    temperature_c: float
    started_s: float
    immersed_until_s: float
    ends_s: float
    applied: bool = False


class SimWetBench(JobTool[_Dip]):
    """The simulated wet bench behind a TCP line server (socket://) or a pty."""

    spec = SPEC
    transports = ("socket", "pty")
    faults = {
        "sash_open": "the bench's sash is up",
        "exhaust_loss": "the bench exhaust stops",
        "level_low": "a bath level falls below its sensor",
        "heater_failure": "every bath's heater stops: the baths cool to ambient",
    }
    fault_opens = {
        "sash_open": "sash_closed",
        "exhaust_loss": "bench_exhaust",
        "level_low": "bath_level",
    }
    job_alarms = {
        "sash_open": "SASH_OPENED",
        "exhaust_loss": "EXHAUST_LOST",
        "level_low": "LEVEL_LOW",
    }

    def __init__(
        self,
        name: str,
        twin: TwinStore,
        clock: Clock | None = None,
        *,
        transport: Transport = "socket",
        serial_number: str = "WS-1-0001",
        physics: WetPhysics | None = None,
    ) -> None:
        super().__init__(name, twin, clock, transport=transport, serial_number=serial_number)
        self.physics = physics or WetPhysics()
        now = self.clock.now()
        self.baths = {
            tank: _Bath(c, Ramp.holding(c, self.physics.heating_c_s, now))
            for tank, c in POWER_UP_C.items()
        }
        self.state = BenchState.IDLE
        self.last: tuple[_Dip, DipOutcome] | None = None

    # ----------------------------------------------------------------- the baths

    def bath_c(self, tank: Tank, now: float) -> float:
        """A bath's temperature at `now`."""
        return self.baths[tank].temperature.at(now)

    def _heat(self, bath: _Bath, now: float) -> None:
        """Ramp the bath on from where it is: to its set temperature (the room, set below it:
        no chiller), or to the room while the heaters are off."""
        heating = "heater_failure" not in self.injected
        bath.temperature.head_for(reachable_c(bath.set_c) if heating else AMBIENT_C, now)

    def conditions_changed(self) -> None:
        """A heater came or went: every bath ramps on from where it is now."""
        now = self.clock.now()
        for bath in self.baths.values():
            self._heat(bath, now)

    # ----------------------------------------------------------------- queries

    def status_values(self) -> dict[str, object]:
        dip = self.job or (self.last[0] if self.last else None)
        return {**super().status_values(), "tank": dip.tank.value if dip else "-"}

    def _tank_query(self, tank: Tank) -> str:
        bath = self.baths[tank]
        return (
            f"TANK={tank.value} TEMP={self.bath_c(tank, self.clock.now()):.1f} "
            f"SET={bath.set_c:.1f} DIPS={bath.dips}"
        )

    def _result(self) -> str:
        if self.last is None:
            return "NONE"
        dip, outcome = self.last
        return RESULT_REPLY.render(
            DipResult(
                wafer_id=dip.wafer_id,
                tank=dip.tank,
                time_s=dip.time_s,
                temperature_c=dip.temperature_c,
                change_um=outcome.change_um,
                left_sites=outcome.left,
                opened_sites=outcome.opened,
            )
        )

    # ----------------------------------------------------------------- commands

    def _set_temperature(self, tank: Tank, temperature_c: float) -> str:
        now = self.clock.now()
        bath = self.baths[tank]
        bath.set_c = temperature_c
        self._heat(bath, now)
        return ""

    def _dip_command(self, tank: Tank, time_s: float) -> str:
        workpiece = self.loaded()
        now = self.clock.now()
        temperature = self.bath_c(tank, now)
        if abs(temperature - self.baths[tank].set_c) > BATH_TOLERANCE_C:
            raise HostRefused(
                "BATH_COLD",
                f"{tank.value} is at {temperature:.1f} degC, set {self.baths[tank].set_c:.1f}",
            )
        self.require_interlocks("DIP")
        self.job = _Dip(
            workpiece.id,
            tank,
            time_s,
            temperature,
            now,
            now + time_s,
            now + dip_time_s(time_s, self.physics),
        )
        self.state = BenchState.DIPPING
        return ""

    handlers = {
        "STAT?": JobTool.status,
        "LOAD": JobTool.load_wafer,
        "RELOAD": JobTool.reload_wafer,
        "UNLOAD": JobTool.unload_wafer,
        "TEMP": _set_temperature,
        "TANK?": _tank_query,
        "DIP": _dip_command,
        "RESULT?": _result,
        "STOP": JobTool.stop_job,
        "RST": JobTool.reset_alarms,
    }
    parsers = {"wafer": wafer_id, "tank": _tank}

    # ----------------------------------------------------------------- time and chemistry

    def next_change_s(self, now: float) -> float:
        """The immersion's end (the bench rinses), then the job's."""
        job = self.job
        if job is not None and not job.applied:
            return job.immersed_until_s
        return super().next_change_s(now)

    def progress(self, job: _Dip, now: float) -> None:
        """The immersion ends: its chemistry is applied, the rinse and dry follow."""
        if now >= job.immersed_until_s and not job.applied:
            self._apply(job, job.time_s, job.immersed_until_s, JobEnd.COMPLETED)
            self.state = BenchState.RINSING

    def apply(self, job: _Dip, now: float, result: JobEnd) -> None:
        """Lift the wafer out (if the immersion has not ended): the time immersed so far
        counts, the dip ended as `result` says; rinse at once."""
        if not job.applied:
            time_s = max(min(now, job.immersed_until_s) - job.started_s, 0.0)
            self._apply(job, time_s, now, result)

    def operation(self, job: _Dip) -> str:
        """What a dip in its tank does."""
        return {Tank.STRIP: "strip resist", Tank.CU_ELESS: "electroless plating"}.get(
            job.tank, "wet etch"
        )

    def _apply(self, dip: _Dip, time_s: float, now: float, result: JobEnd) -> None:
        dip.applied = True
        workpiece = self.twin.get(dip.wafer_id)
        temperature, physics = dip.temperature_c, self.physics
        if dip.tank is Tank.STRIP:
            outcome = strip(workpiece, time_s, temperature, physics)
        elif dip.tank is Tank.CU_ELESS:
            outcome = plate_electroless(workpiece, time_s, temperature, physics)
        else:
            outcome = etch(workpiece, dip.tank, time_s, temperature, physics)
        self.baths[dip.tank].dips += 1
        self.last = (replace(dip, time_s=time_s), outcome)
        workpiece.record(
            self.name,
            self.operation(dip),
            now,
            tank=dip.tank.value,
            dip_s=round(time_s, 1),
            temperature_c=round(temperature, 1),
            change_um=round(outcome.change_um, 4),
            left_sites=outcome.left,
            opened_sites=outcome.opened,
            result=result.value,
        )
