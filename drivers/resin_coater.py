"""Resin coater over an ASCII host link: the command set of `docs/protocols/resin-coater.md`.

The wire contract (commands, ranges, alarms, interlocks, refusals) is the coater's spec,
`specs/resin_coater.py`, and the family's rules are `families/ascii_host.py`, whose
`OneWaferDriver` moves the wafer in and out; byte-level tests pin this driver to the page.
This file keeps the coater's process: a step (`SPIN`, `SLOT`, `BAKE`) returns at once; the
host polls `STAT?` until the coater is idle with its step counter advanced, or in fault, and
reads the film back with `RESULT?`.
"""

from __future__ import annotations

from .errors import ProtocolError
from .families.ascii_host import OneWaferDriver, parse_fields
from .roles.clean_room import AMBIENT_C
from .roles.resin_coater import (
    CoaterState,
    CoaterStatus,
    CoatResin,
    CoatResult,
    CoatStep,
    ResinCoater,
)
from .specs.resin_coater import RESULT_REPLY, SPEC

#: Process-time allowances beyond the step's own time: dispense, ramp, rinse; the plate's ramp
#: at 1 degC/s at least (a plate past its prime).
STEP_ALLOWANCE_S = 60.0
SLOWEST_PLATE_C_S = 1.0


class AsciiResinCoater(OneWaferDriver, ResinCoater):
    """Drives a resin coater whose host link implements the packline coater command set."""

    spec = SPEC

    # ----------------------------------------------------------------- queries

    async def request_status(self) -> CoaterStatus:
        return self.status_from(await self.ask("read status", self.wire.status_query))

    def status_from(self, payload: str) -> CoaterStatus:
        """The status query's payload read."""
        action = "read status"
        fields = parse_fields(self, action, payload, self.status_keys)
        return CoaterStatus(
            state=self.choice_field(action, fields, "STATE", CoaterState),
            wafer_id=None if fields["WAFER"] == "-" else fields["WAFER"],
            remaining_s=self.number_field(action, fields, "LEFT"),
            jobs_completed=self.integer_field(action, fields, "JOBS"),
        )

    async def request_last_coat(self) -> CoatResult | None:
        return await self.request_reply("read coat result", RESULT_REPLY)

    # ----------------------------------------------------------------- steps

    async def coat_resin(
        self,
        resin: CoatResin,
        spin_rpm: float,
        spin_time_s: float,
        *,
        timeout_s: float | None = None,
    ) -> CoatResult:
        action = f"spin-coat {CoatResin(resin).value}"
        command = (
            f"SPIN {CoatResin(resin).value} {self.setting(action, 'spin_rpm', spin_rpm)} "
            f"{self.setting(action, 'spin_time_s', spin_time_s)}"
        )
        return await self._step(
            action, command, CoatStep.SPIN, timeout_s or spin_time_s + STEP_ALLOWANCE_S
        )

    async def coat_resin_slot(
        self, resin: CoatResin, slot_gap_um: float, *, timeout_s: float | None = None
    ) -> CoatResult:
        action = f"slot-coat {CoatResin(resin).value}"
        command = (
            f"SLOT {CoatResin(resin).value} {self.setting(action, 'slot_gap_um', slot_gap_um)}"
        )
        return await self._step(action, command, CoatStep.SLOT, timeout_s or STEP_ALLOWANCE_S)

    async def soft_bake(
        self, temperature_c: float, time_s: float, *, timeout_s: float | None = None
    ) -> CoatResult:
        action = f"soft-bake at {temperature_c:g} degC"
        command = (
            f"BAKE {self.setting(action, 'bake_temperature_c', temperature_c)} "
            f"{self.setting(action, 'bake_time_s', time_s)}"
        )
        ramp_s = abs(temperature_c - AMBIENT_C) / SLOWEST_PLATE_C_S
        return await self._step(
            action, command, CoatStep.BAKE, timeout_s or time_s + ramp_s + STEP_ALLOWANCE_S
        )

    async def _step(
        self, action: str, command: str, step: CoatStep, timeout_s: float
    ) -> CoatResult:
        """Start the step, wait for its end, and read the film it left."""
        async with self.operation(action):
            before, started = await self.start_job(action, command, self.status_from)
            await self.wait_job(
                action,
                self.request_status,
                before,
                timeout_s,
                record=lambda status: self.record_reading(
                    "step_remaining", status.remaining_s, "s"
                ),
                first=started,
            )
            result = await self.request_last_coat()
        if result is None or result.step is not step:
            raise ProtocolError(self.name, self.address, action, f"coater logs {result}")
        self.record_reading("film_field", result.field_um, "um")
        self.record_reading("film_min_cover", result.min_cover_um, "um")
        self.record_reading("film_edge", result.edge_um, "um")
        return result
