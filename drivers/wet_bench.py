"""Wet bench over an ASCII host link: the command set of `docs/protocols/wet-bench.md`.

The wire contract (commands, ranges, alarms, interlocks, refusals) is the bench's spec,
`specs/wet_bench.py`, and the family's rules are `families/ascii_host.py`; byte-level tests
pin this driver to the page. This file keeps the bench's process logic: wafer transfer, the
bath temperatures (set, then `TANK?` polled until the bath is at temperature), and the dip
(`DIP` returns at once; the host polls `STAT?` until the bench is idle with its dip counter
advanced, or in fault), read back from the bench's log with `RESULT?`.
"""

from __future__ import annotations

import functools

from .equipment import READY_STATES
from .errors import ProtocolError
from .families.ascii_host import OneWaferDriver, parse_fields, reading_first
from .roles.wet_bench import (
    BenchState,
    BenchStatus,
    DipResult,
    Tank,
    TankStatus,
    WetBench,
)
from .specs.wet_bench import RESULT_REPLY, SPEC

#: The etchants `etch` takes.
ETCHANTS = (Tank.CU_ETCH, Tank.TI_ETCH)

#: Process-time allowances: a bath heating at 0.1 degC/s at least (a heater past its prime),
#: a dip's rinse and dry.
SLOWEST_HEATING_C_S = 0.1
RINSE_ALLOWANCE_S = 180.0
JOB_MARGIN_S = 60.0


class AsciiWetBench(OneWaferDriver, WetBench):
    """Drives a wet bench whose host link implements the packline wet bench command set."""

    spec = SPEC

    # ----------------------------------------------------------------- queries

    async def request_status(self) -> BenchStatus:
        return self.status_from(await self.ask("read status", self.wire.status_query))

    def status_from(self, payload: str) -> BenchStatus:
        """The status query's payload read."""
        action = "read status"
        fields = parse_fields(self, action, payload, self.status_keys)
        return BenchStatus(
            state=self.choice_field(action, fields, "STATE", BenchState),
            wafer_id=None if fields["WAFER"] == "-" else fields["WAFER"],
            tank=None if fields["TANK"] == "-" else self.choice_field(action, fields, "TANK", Tank),
            remaining_s=self.number_field(action, fields, "LEFT"),
            jobs_completed=self.integer_field(action, fields, "JOBS"),
        )

    async def request_tank(self, tank: Tank) -> TankStatus:
        return self.tank_from(
            tank, await self.ask(f"read tank {tank.value}", f"TANK? {tank.value}")
        )

    def tank_from(self, tank: Tank, payload: str) -> TankStatus:
        """The payload of `tank`'s query read."""
        action = f"read tank {tank.value}"
        fields = parse_fields(self, action, payload, ("TANK", "TEMP", "SET", "DIPS"))
        return TankStatus(
            tank=self.choice_field(action, fields, "TANK", Tank),
            temperature_c=self.number_field(action, fields, "TEMP"),
            set_temperature_c=self.number_field(action, fields, "SET"),
            dips=self.integer_field(action, fields, "DIPS"),
        )

    async def request_last_dip(self) -> DipResult | None:
        return await self.request_reply("read dip result", RESULT_REPLY)

    # ----------------------------------------------------------------- baths and dips

    async def heat_bath(
        self, tank: Tank, temperature_c: float, *, timeout_s: float | None = None
    ) -> TankStatus:
        action = f"heat {tank.value}"
        setting = self.setting(action, "bath_temperature_c", temperature_c)
        self.require_state(action, *READY_STATES)
        (reading,) = await self.do_and_ask(
            action, (f"TEMP {tank.value} {setting}",), f"TANK? {tank.value}"
        )
        latest = self.tank_from(tank, reading)
        gap_c = abs(latest.temperature_c - temperature_c)
        next_reading = reading_first(latest, functools.partial(self.request_tank, tank))

        async def poll() -> TankStatus | None:
            nonlocal latest
            latest = await next_reading()
            self.record_reading("bath_temperature", latest.temperature_c, "degC")
            return latest if latest.at_temperature else None

        return await self.wait_until(
            action,
            poll,
            timeout_s or gap_c / SLOWEST_HEATING_C_S + JOB_MARGIN_S,
            lambda: f"bath at {latest.temperature_c:g} degC, not {temperature_c:g} degC",
            abort_on_timeout=False,  # nothing runs: the bath keeps heating
        )

    async def strip_resist(self, time_s: float, *, timeout_s: float | None = None) -> DipResult:
        return await self._dip("strip resist", Tank.STRIP, time_s, timeout_s)

    async def etch(self, tank: Tank, time_s: float, *, timeout_s: float | None = None) -> DipResult:
        if tank not in ETCHANTS:
            raise ValueError(
                f"{self.name}: {tank.value} is no etchant; etch in "
                + " or ".join(t.value for t in ETCHANTS)
            )
        return await self._dip(f"etch in {tank.value}", tank, time_s, timeout_s)

    async def plate_electroless(
        self, time_s: float, *, timeout_s: float | None = None
    ) -> DipResult:
        return await self._dip("plate electroless", Tank.CU_ELESS, time_s, timeout_s)

    async def _dip(
        self, action: str, tank: Tank, time_s: float, timeout_s: float | None
    ) -> DipResult:
        """Dip in `tank` for `time_s`, wait for the rinse and dry; the bench's log of it."""
        command = f"DIP {tank.value} {self.setting(action, 'dip_time_s', time_s)}"
        async with self.operation(action):
            before, started = await self.start_job(action, command, self.status_from)
            await self.wait_job(
                action,
                self.request_status,
                before,
                timeout_s or time_s + RINSE_ALLOWANCE_S + JOB_MARGIN_S,
                record=lambda status: self.record_reading("dip_remaining", status.remaining_s, "s"),
                first=started,
            )
            result = await self.request_last_dip()
        if result is None or result.tank is not tank:
            raise ProtocolError(self.name, self.address, action, f"bench logs {result} after DIP")
        self.record_reading("film_change", result.change_um, "um")
        self.record_reading("sites_left", result.left_sites, "sites")
        self.record_reading("sites_opened", result.opened_sites, "sites")
        return result
