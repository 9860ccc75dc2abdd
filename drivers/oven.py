"""Batch cure and reflow oven on one Modbus RTU line: the protocol page `docs/protocols/oven.md`.

The line carries the oven's PLC (unit `device_id`, the station option, 1 by default) and one
temperature controller per heating zone. The PLC's map (status block, serial number, slot
ids, the atmosphere setpoints, the command register) is declared in
`packline.drivers.specs.oven` and read by the family's driver bases; the zones speak the
Eurotherm 3200 map (`families/temperature_controller.py`) at the unit ids the PLC names
(`FIRST_ZONE_UNIT`, `ZONE_COUNT`), read once at connect.

This file keeps the oven's process: the purge to an inert atmosphere, a profile run (every
zone's ramp rate and target per segment, the heater supply on the PLC, the waits for each
segment to be reached and held, the load's temperature and atmosphere recorded every poll and
every zone's temperature and output at a coarser interval, `zone_trace_interval_s`), the
cool-down and the safe state (heater supply off, zones in standby). Byte-level tests pin it to
the page.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .equipment import READY_STATES
from .errors import ToolAlarm
from .families.plc_batch import BatchPlcDriver
from .families.plc_map import command_enum, field, reason_enum
from .families.temperature_controller import (
    ControllerReading,
    InstrumentMode,
    TemperatureController,
)
from .links.base import Link
from .roles.oven import (
    LastResult,
    LoadRecord,
    Oven,
    OvenState,
    OvenStatus,
    ProfileResult,
    ProfileSegment,
    ThermalProfile,
    ZoneStatus,
    checked_zone_trace_interval_s,
    oven_unsafe,
)
from .specs.oven import DOOR_OPEN_BELOW_C, SPEC

#: The map's command codes and "why refused" codes, named as the spec names them.
Command = command_enum(SPEC)
CommandError = reason_enum(SPEC)

__all__ = ["Command", "CommandError", "ModbusOven"]

#: The most heating zones a line of this oven carries.
MAX_ZONES = 8
#: Process-time allowance for the purge to reach its O2 limit.
PURGE_TIMEOUT_S = 1800.0
#: Allowance beyond a profile's planned time (the load lags the zones, cooling is slower
#: than a fast cooling rate asks).
PROFILE_TIMEOUT_MARGIN_S = 1800.0
#: Alarm 1 of every zone sits this far above the profile's peak (degC, est).
OVER_TEMPERATURE_MARGIN_C = 25.0
#: How often a run's polls read the zones when nothing else needs them, s of process time
#: (the station option `zone_trace_interval_s`): a minute, a cure or reflow data log's rate.
ZONE_TRACE_INTERVAL_S = 60.0


@dataclass
class _RunRecord(LoadRecord):
    """What the polls of a run measured on the load, and when they last read the zones."""

    zones_read_s: float = -math.inf


class ModbusOven(BatchPlcDriver[OvenStatus], Oven):
    """Drives an oven whose PLC implements the packline oven map and whose zones are
    Eurotherm-map temperature controllers on the same RS-485 line."""

    spec = SPEC
    limits = SPEC.limits()

    def __init__(
        self, link: Link, *, zone_trace_interval_s: float = ZONE_TRACE_INTERVAL_S, **options: Any
    ) -> None:
        super().__init__(link, **options)
        #: During a run, the zones are read at most this often (s of process time) besides at
        #: each segment's start and while its reaching is judged; 0: every poll.
        self.zone_trace_interval_s = checked_zone_trace_interval_s(self.name, zone_trace_interval_s)
        #: The zone controllers on the line, in zone order (read at connect).
        self.zones: list[TemperatureController] = []

    async def _read_setup(self) -> None:
        """The zone controllers: how many, at which unit ids (the PLC's status)."""
        count, first = await self.link.read_holding_registers(
            self.map.status_address(SPEC, "ZONE_COUNT"), 2
        )
        if not 1 <= count <= MAX_ZONES or not 1 <= first <= 248 - count:
            raise self._protocol_error(
                "read zones", f"{count} zones from unit {first} do not fit 1-{MAX_ZONES} on a line"
            )
        self.zones = [
            TemperatureController(self.link, first + index, f"zone {index + 1}")
            for index in range(count)
        ]

    # ----------------------------------------------------------------- queries

    def status_from(self, values: Mapping[str, float]) -> OvenStatus:
        return OvenStatus(
            state=self.member(values, "OVEN_STATE", OvenState),
            load_temperature_c=float(values["LOAD_TEMPERATURE"]),
            o2_ppm=float(values["O2"]),
            n2_flow_slm=float(values["N2_FLOW"]),
            door_closed=bool(values["DOOR_CLOSED"]),
            runs_completed=int(values["RUNS_COMPLETED"]),
        )

    async def _read_zones(self, *, with_status: bool = True) -> list[ControllerReading]:
        return [await zone.read(with_status=with_status) for zone in self.zones]

    async def request_zone_temperatures_c(self) -> list[float]:
        return [reading.process_c for reading in await self._read_zones(with_status=False)]

    async def request_zones(self) -> list[ZoneStatus]:
        return [
            ZoneStatus(
                zone=index + 1,
                process_c=reading.process_c,
                target_c=reading.target_c,
                working_setpoint_c=reading.working_setpoint_c,
                output_pct=reading.output_pct,
                alarms=tuple(reading.alarms()),
            )
            for index, reading in enumerate(await self._read_zones())
        ]

    async def request_o2_ppm(self) -> float:
        return await self.read_status_value("O2")

    # ----------------------------------------------------------------- the atmosphere

    async def _wait_state(self, action: str, target: OvenState, timeout_s: float) -> OvenStatus:
        """Poll until the oven reaches `target`; an alarm or a timeout ends the wait."""
        status: OvenStatus  # the latest, for the timeout message

        async def poll() -> OvenStatus | None:
            nonlocal status
            status = await self.traced_status()
            if status.state is target:
                return status
            if status.state is OvenState.FAULT:
                await self.refresh_alarms()
                raise self.alarm_error(action)
            return None

        return await self.wait_until(
            action,
            poll,
            timeout_s,
            lambda: f"oven still {status.state.name.lower()} at {status.o2_ppm:g} ppm O2",
        )

    async def purge(self, n2_flow_slm: float, o2_limit_ppm: float) -> float:
        action = "purge"
        atmosphere = self.encode_fields(
            action, {"n2_flow_slm": n2_flow_slm, "o2_limit_ppm": o2_limit_ppm}
        )
        async with self.operation(action):
            await self.require_interlocks(action, SPEC.command_by_name["START_PURGE"].interlocks)
            first = field(SPEC, "n2_flow_slm").address()
            await self.write_fields("write atmosphere", first, atmosphere)
            await self.command(action, "START_PURGE")
            status = await self._wait_state(action, OvenState.INERT, PURGE_TIMEOUT_S)
        return status.o2_ppm

    async def stop_purge(self) -> None:
        self.require_state("stop purge", *READY_STATES)
        await self.command("stop purge", "STOP_PURGE")

    # ----------------------------------------------------------------- the run

    async def run_profile(
        self, profile: ThermalProfile, timeout_s: float | None = None
    ) -> ProfileResult:
        action = "run profile"
        profile = self.check_profile(action, profile, timeout_s)
        async with self.operation(action):
            interlocks = SPEC.command_by_name["START_RUN"].interlocks
            await self.require_interlocks(action, interlocks)
            wafer_ids = tuple(w for w in await self.request_slots() if w is not None)
            status = await self.request_status()
            if timeout_s is None:
                timeout_s = profile.duration_s(status.load_temperature_c) + PROFILE_TIMEOUT_MARGIN_S
            deadline = self.clock.now() + timeout_s
            alarm_c = min(profile.peak_c + OVER_TEMPERATURE_MARGIN_C, 500.0)
            for zone in self.zones:
                await zone.write("A1", alarm_c)
                await zone.ramp_to(profile.segments[0].target_c, profile.segments[0].rate_c_per_min)
                await zone.set_mode(InstrumentMode.AUTO)
            await self.command(action, "START_RUN")
            started_s = self.clock.now()
            record = _RunRecord(started_s, status.load_temperature_c, status.load_temperature_c)
            for index, segment in enumerate(profile.segments):
                if index:
                    for zone in self.zones:
                        await zone.ramp_to(segment.target_c, segment.rate_c_per_min)
                await self._follow(action, index, segment, profile, record, deadline)
            await self.command(action, "END_RUN")
            for zone in self.zones:
                await zone.set_mode(InstrumentMode.STANDBY)
            result = LastResult(int(await self.read_status_value("LAST_RESULT")))
            if result is not LastResult.COMPLETED:
                raise ToolAlarm(
                    self.name, self.address, action, [f"run ended {result.name.lower()}"]
                )
        return record.result(wafer_ids, await self.read_status_value("RUN_TIME"), profile)

    async def _follow(
        self,
        action: str,
        index: int,
        segment: ProfileSegment,
        profile: ThermalProfile,
        record: _RunRecord,
        deadline: float,
    ) -> None:
        """Poll the run through one segment: until the load reaches the target (within
        `SETTLE_BAND_C`; from above, at or below it plus the band) with every zone's working
        setpoint at it, then for its hold.

        Every poll reads the PLC's status block: the load's traces, and the alarms (the zones'
        reach it as ZONE_ALARM). The zones are read, for their traces and the working setpoints,
        only at the segment's first poll, while the load is in the band and the segment not yet
        reached, and otherwise once `zone_trace_interval_s` has passed (decision 0051)."""
        rising = segment.target_c >= record.last_c
        held_from: float | None = None
        first_poll = True
        where = f"{action} segment {index + 1}"

        async def poll() -> bool | None:
            nonlocal held_from, first_poll
            status = await self.traced_status()
            now = self.clock.now()
            if status.state is OvenState.FAULT:
                await self.refresh_alarms()
                raise self.alarm_error(action)
            if status.state is not OvenState.RUNNING:
                raise ToolAlarm(
                    self.name, self.address, action, [f"oven left the run: {status.state.name}"]
                )
            load_c = status.load_temperature_c
            record.add(now, load_c, status.o2_ppm, profile.liquidus_c)
            there = held_from is None and segment.load_settled(load_c, rising)
            if first_poll or there or now - record.zones_read_s >= self.zone_trace_interval_s:
                first_poll = False
                readings = await self._read_zones(with_status=False)
                record.zones_read_s = now
                for number, reading in enumerate(readings, start=1):
                    self.record_reading(f"zone {number} temperature", reading.process_c, "degC")
                    self.record_reading(f"zone {number} output", reading.output_pct, "%")
                if there and segment.zones_at_target(r.working_setpoint_c for r in readings):
                    held_from = now
            if held_from is not None and now - held_from >= segment.hold_s:
                return True
            return None

        def still() -> str:
            if held_from is None:
                return f"{where}: load at {record.last_c:g} degC, not yet {segment.target_c:g}"
            return f"{where}: hold of {segment.hold_s:g} s not over"

        await self.wait_until(where, poll, max(deadline - self.clock.now(), 0.0), still)

    async def cool_down(self, timeout_s: float) -> None:
        """Heater supply off and every zone in standby (the safe state), then wait for the
        load to fall below the door's temperature."""
        await self._command_safe_state()

        async def cool() -> bool | None:
            interlocks = await self.request_interlocks()
            return True if interlocks["load_cool"] else None

        await self.wait_until(
            "cool down",
            cool,
            timeout_s,
            lambda: f"load not below {DOOR_OPEN_BELOW_C:g} degC",
            abort_on_timeout=False,
        )

    # ----------------------------------------------------------------- alarms and safety

    async def _command_safe_state(self) -> None:
        """Heater supply off (ABORT: a run ends aborted), confirmed by the oven no longer
        running (`oven_unsafe`) within `safe_state_timeout_s`, then every zone in standby
        (even when it was not confirmed: the zones' outputs go off all the same)."""
        try:
            await self.abort_confirmed(oven_unsafe)
        finally:
            for zone in self.zones:
                await zone.set_mode(InstrumentMode.STANDBY)
