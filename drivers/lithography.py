"""Litho cell over an ASCII host link: the command set of `docs/protocols/lithography.md`.

The wire contract (commands, ranges, alarms, interlocks, refusals) is the cell's spec,
`specs/lithography.py`, and the family's rules are `families/ascii_host.py`; byte-level tests
pin this driver to the page. This file keeps the cell's process logic: wafer transfer, and the
four jobs (`COAT`, `BAKE`, `EXPOSE` after `RETICLE`, `DEVELOP`), each of which returns at once
while the host polls `STAT?` until the cell is idle with its job counter advanced, or in fault,
within an allowance computed from the job's own settings; then the film or the pattern is read
back from the cell's metrology.
"""

from __future__ import annotations

from collections.abc import Callable

from .equipment import READY_STATES
from .errors import ProtocolError
from .families.ascii_host import OneWaferDriver, parse_fields
from .roles.lithography import (
    CoatMaterial,
    Film,
    Lithography,
    PatternReport,
    Reticle,
    Tone,
    TrackState,
    TrackStatus,
)
from .specs.lithography import FILM_REPLY, PATTERN_REPLY, RETICLE_REPLY, SPEC

#: Process-time allowances beyond which a job's wait is a timeout and the job is stopped:
#: dispense, ramp and edge-bead removal around a spin; a hotplate ramping at 1 degC/s at
#: least; a develop's rinse and dry; the stepper's alignment, and each shot at the dose
#: from a lamp at the end of its life plus its step.
COAT_ALLOWANCE_S = 120.0
BAKE_RAMP_C_S = 1.0
DEVELOP_ALLOWANCE_S = 120.0
ALIGN_ALLOWANCE_S = 120.0
WEAKEST_LAMP_MW_CM2 = 200.0
STEP_ALLOWANCE_S = 1.0
JOB_MARGIN_S = 60.0


class AsciiLithography(OneWaferDriver, Lithography):
    """Drives a litho cell whose host link implements the packline litho cell command set."""

    spec = SPEC

    # ----------------------------------------------------------------- queries

    async def request_status(self) -> TrackStatus:
        return self.status_from(await self.ask("read status", self.wire.status_query))

    def status_from(self, payload: str) -> TrackStatus:
        """The status query's payload read."""
        action = "read status"
        fields = parse_fields(self, action, payload, self.status_keys)
        return TrackStatus(
            state=self.choice_field(action, fields, "STATE", TrackState),
            wafer_id=None if fields["WAFER"] == "-" else fields["WAFER"],
            spin_rpm=self.integer_field(action, fields, "SPIN"),
            hotplate_c=self.number_field(action, fields, "HOTPLATE"),
            shots_done=self.integer_field(action, fields, "SHOT"),
            shots_total=self.integer_field(action, fields, "SHOTS"),
            remaining_s=self.number_field(action, fields, "LEFT"),
            jobs_completed=self.integer_field(action, fields, "JOBS"),
        )

    async def request_film(self) -> Film | None:
        return await self.request_reply("read film", FILM_REPLY)

    async def request_masks(self) -> tuple[str, ...]:
        return tuple((await self.ask("read reticle library", "MASKS?")).split(","))

    async def request_reticle(self) -> Reticle | None:
        return await self.request_reply("read reticle", RETICLE_REPLY)

    async def request_pattern(self) -> PatternReport | None:
        return await self.request_reply("read pattern", PATTERN_REPLY)

    # ----------------------------------------------------------------- the jobs

    async def coat(
        self,
        material: CoatMaterial,
        spin_rpm: int,
        *,
        spin_time_s: float = 30.0,
        timeout_s: float | None = None,
    ) -> Film:
        action = f"coat {material.value}"
        command = (
            f"COAT {material.value} {self.setting(action, 'spin_rpm', spin_rpm)} "
            f"{self.setting(action, 'spin_time_s', spin_time_s)}"
        )
        allowance = spin_time_s + COAT_ALLOWANCE_S + JOB_MARGIN_S
        film, _ = await self._run_job(action, "COAT", command, timeout_s or allowance)
        self.record_reading("film_thickness", film.thickness_um, "um")
        return film

    async def bake(
        self, temperature_c: float, time_s: float, *, timeout_s: float | None = None
    ) -> Film:
        action = "soft bake"
        command = (
            f"BAKE {self.setting(action, 'bake_temperature_c', temperature_c)} "
            f"{self.setting(action, 'bake_time_s', time_s)}"
        )
        machine = SPEC.setpoint_by_name["bake_temperature_c"].machine_range
        ramp_s = (machine.maximum - machine.minimum) / BAKE_RAMP_C_S
        film, _ = await self._run_job(
            action, "BAKE", command, timeout_s or time_s + ramp_s + JOB_MARGIN_S
        )
        self.record_reading("film_thickness", film.thickness_um, "um")
        self.record_reading("residual_solvent", film.residual_solvent_percent, "%")
        return film

    async def expose(
        self, mask: str, dose_mj_cm2: float, *, timeout_s: float | None = None
    ) -> Film:
        action = f"expose through {mask}"
        command = f"EXPOSE {self.setting(action, 'dose_mj_cm2', dose_mj_cm2)}"
        if not mask or " " in mask or ";" in mask:
            raise ValueError(f"{self.name}: mask name {mask!r} is empty or has a space or a ';'")
        self.require_state(action, *READY_STATES)
        (on_stage,) = await self.do_and_ask(action, (f"RETICLE {mask}",), "RETICLE?")
        reticle = self.reply_from(action, RETICLE_REPLY, on_stage)
        if reticle is None or reticle.name != mask:
            raise ProtocolError(
                self.name, self.address, action, f"cell reports reticle {reticle} after RETICLE"
            )
        per_shot_s = dose_mj_cm2 / WEAKEST_LAMP_MW_CM2 + STEP_ALLOWANCE_S
        film, _ = await self._run_job(
            action,
            "EXPOSE",
            command,
            timeout_s,
            lambda shots: ALIGN_ALLOWANCE_S + shots * per_shot_s + JOB_MARGIN_S,
        )
        self.record_reading("dose", film.dose_mj_cm2, "mJ/cm2")
        return film

    async def develop(
        self, tone: Tone, time_s: float, *, timeout_s: float | None = None
    ) -> PatternReport:
        action = f"develop {tone.value}"
        command = f"DEVELOP {tone.value} {self.setting(action, 'develop_time_s', time_s)}"
        allowance = time_s + DEVELOP_ALLOWANCE_S + JOB_MARGIN_S
        _, (report,) = await self._run_job(
            action, "DEVELOP", command, timeout_s or allowance, reports=("PATTERN?",)
        )
        pattern = self.reply_from(action, PATTERN_REPLY, report)
        if pattern is None:
            raise ProtocolError(self.name, self.address, action, "no pattern after DEVELOP")
        self.record_reading("openings_cleared", pattern.cleared, "sites")
        self.record_reading("opening_cd", pattern.cd_um, "um")
        self.record_reading("opening_residual", pattern.residual_um, "um")
        self.record_reading("openings_bridged", pattern.bridged, "sites")
        return pattern

    async def _run_job(
        self,
        action: str,
        word: str,
        command: str,
        timeout_s: float | None,
        allowance_for_shots: Callable[[int], float] | None = None,
        *,
        reports: tuple[str, ...] = (),
    ) -> tuple[Film, list[str]]:
        """Send a job's `command` (its interlocks checked first) and wait for its end, within
        `timeout_s` or, when None, the allowance for the exposure's shot count; the film, and
        the payloads of the `reports` queries read with it on its line."""
        async with self.operation(action):
            before, started = await self.start_job(action, command, self.status_from)
            if timeout_s is None:
                assert allowance_for_shots is not None
                timeout_s = allowance_for_shots(started.shots_total)
            await self.wait_job(
                action,
                self.request_status,
                before,
                timeout_s,
                record=self._record_track,
                first=started,
            )
            film_payload, *payloads = await self.ask_compound(action, "FILM?", *reports)
            film = self.reply_from(action, FILM_REPLY, film_payload)
        if film is None:
            raise ProtocolError(self.name, self.address, action, f"no film after {word}")
        return film, payloads

    def _record_track(self, status: TrackStatus) -> None:
        """Record the readings of a status read while a job runs."""
        self.record_reading("spin_speed", status.spin_rpm, "rpm")
        self.record_reading("hotplate_temperature", status.hotplate_c, "degC")
        if status.shots_total:
            self.record_reading("shots_done", status.shots_done, "shots")
