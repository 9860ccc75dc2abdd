"""Jetting dispenser over an ASCII host link: the command set of `docs/protocols/dispenser.md`.

The wire contract (commands, ranges, alarms, interlocks, refusals) is the dispenser's spec,
`specs/dispenser.py`, and the family's rules are `families/ascii_host.py`, whose
`OneWaferDriver` moves the panel on and off the stage; byte-level tests pin this driver to the
page. This file keeps the dispenser's process: a job (`FILL`, `SEAL`) returns at once; the host
polls `STAT?` until the dispenser is idle with its job counter advanced, or in fault, and reads
what the camera measured with `FILL?` or `SEAL?`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from .errors import ProtocolError
from .families.ascii_host import OneWaferDriver, parse_fields
from .roles.dispenser import (
    Dispenser,
    DispenserState,
    DispenserStatus,
    FillMaterial,
    FillResult,
    SealResin,
    SealResult,
)
from .specs.dispenser import FILL_REPLY, SEAL_REPLY, SPEC

#: The wait a job is allowed without a `timeout_s`: twice the time the dispenser plans for it
#: (`LEFT` once it started: the workpiece's holes or dies at its rates), plus a margin.
JOB_PLAN_FACTOR = 2.0
JOB_ALLOWANCE_S = 120.0

R = TypeVar("R", FillResult, SealResult)


class AsciiDispenser(OneWaferDriver, Dispenser):
    """Drives a dispenser whose host link implements the packline dispenser command set."""

    spec = SPEC

    # ----------------------------------------------------------------- queries

    async def request_status(self) -> DispenserStatus:
        return self.status_from(await self.ask("read status", self.wire.status_query))

    def status_from(self, payload: str) -> DispenserStatus:
        """The status query's payload read."""
        action = "read status"
        fields = parse_fields(self, action, payload, self.status_keys)
        return DispenserStatus(
            state=self.choice_field(action, fields, "STATE", DispenserState),
            wafer_id=None if fields["WAFER"] == "-" else fields["WAFER"],
            remaining_s=self.number_field(action, fields, "LEFT"),
            jobs_completed=self.integer_field(action, fields, "JOBS"),
        )

    async def request_last_fill(self) -> FillResult | None:
        return await self.request_reply("read fill result", FILL_REPLY)

    async def request_last_seal(self) -> SealResult | None:
        return await self.request_reply("read seal result", SEAL_REPLY)

    # ----------------------------------------------------------------- jobs

    async def fill_holes(
        self,
        material: FillMaterial,
        volume_nl: float,
        terminal_volume_nl: float,
        *,
        timeout_s: float | None = None,
    ) -> FillResult:
        material = FillMaterial(material)
        action = f"fill holes with {volume_nl:g} nl of {material.value}"
        command = (
            f"FILL {material.value} {self.setting(action, 'fill_volume_nl', volume_nl)} "
            f"{self.setting(action, 'terminal_volume_nl', terminal_volume_nl)}"
        )
        result = await self._job(action, command, self.request_last_fill, timeout_s)
        self.record_reading("fill_volume", result.fill_volume_nl, "nl")
        self.record_reading("hole_volume", result.hole_volume_nl, "nl")
        self.record_reading("holes_overfilled", result.overfilled, "")
        self.record_reading("holes_underfilled", result.underfilled, "")
        return result

    async def seal_dies(
        self, resin: SealResin, height_um: float, *, timeout_s: float | None = None
    ) -> SealResult:
        resin = SealResin(resin)
        action = f"seal dies with {resin.value} to {height_um:g} um"
        command = f"SEAL {resin.value} {self.setting(action, 'seal_height_um', height_um)}"
        result = await self._job(action, command, self.request_last_seal, timeout_s)
        self.record_reading("seal_height", result.height_um, "um")
        self.record_reading("seal_volume", result.volume_ul, "ul")
        self.record_reading("dies_exposed", result.exposed, "")
        return result

    async def _job(
        self,
        action: str,
        command: str,
        read_result: Callable[[], Awaitable[R | None]],
        timeout_s: float | None,
    ) -> R:
        """Start the job, wait for its end, and read what the camera measured. Without a
        `timeout_s` the wait allows twice the time the dispenser plans for the job (the
        workpiece's holes or dies are not on the wire) plus `JOB_ALLOWANCE_S`."""
        async with self.operation(action):
            before, started = await self.start_job(action, command, self.status_from)
            bound = timeout_s or started.remaining_s * JOB_PLAN_FACTOR + JOB_ALLOWANCE_S
            await self.wait_job(
                action,
                self.request_status,
                before,
                bound,
                record=lambda status: self.record_reading("job_remaining", status.remaining_s, "s"),
                first=started,
            )
            result = await read_result()
        if result is None:
            raise ProtocolError(self.name, self.address, action, "the job logged no result")
        return result
