"""The oven role on a GEM tool: the same `Oven` the sequences drive, over E30.

Which SVIDs, ECIDs, CEIDs, ALIDs and RCMDs carry what is the tool's dictionary
(`drivers/specs/gem/oven.yaml` for the simulated oven; docs/protocols/gem-oven.md). The door and
the slots are remote commands answered at once. A purge, a profile run and a cool-down are
remote commands answered HCACK 4 whose end is a collection event (`purged`, `run_ended`,
`load_cooled`): the oven runs the profile itself (each segment's ramp, its reaching by the
Modbus driver's rule and its hold, `segment_reached` and `segment_held` at each), no polling,
and a pushed alarm (a zone's, the atmosphere's) ends the wait at once. The profile is three
equipment constants, one element a segment, with the zones' over-temperature alarm (S2F15).

While the oven purges or runs, it traces the load's temperature, the O2 and the nitrogen flow
every `poll_interval_s` of its time (the station's poll interval, the Modbus driver's rate) and,
during a run, every zone's temperature and output every `zone_trace_interval_s` (its coarser
log, decision 0051), `TRACE_REPORT_S` of samples a report (S2F23, S6F1); each sample is
recorded as the Modbus driver records its polls, under the same names and units, at its time,
and the run's peak, time above liquidus and most O2 are measured from the load's samples as
the Modbus driver measures them from its polls. The limits and the wait allowances are the
Modbus driver's (`drivers/oven.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from typing import Any

from ..equipment import READY_STATES
from ..families.temperature_controller import ControllerReading, InstrumentStatus
from ..oven import (
    MAX_ZONES,
    OVER_TEMPERATURE_MARGIN_C,
    PROFILE_TIMEOUT_MARGIN_S,
    PURGE_TIMEOUT_S,
    ZONE_TRACE_INTERVAL_S,
    ModbusOven,
)
from ..roles.oven import (
    LoadRecord,
    Oven,
    OvenState,
    OvenStatus,
    ProfileResult,
    ThermalProfile,
    ZoneStatus,
    checked_zone_trace_interval_s,
    oven_unsafe,
)
from ..secs.link import SecsLink
from ..specs.oven import DOOR_OPEN_BELOW_C, MAX_SLOTS, SPEC
from .batch import BATCH_COMMANDS, GemBatchTool, slot_names
from .dictionary import GemNeeds
from .plc import traced_as

#: The status variables of `OvenStatus`, in its order.
STATUS = (
    "oven_state",
    "load_temperature_c",
    "o2_ppm",
    "n2_flow_slm",
    "door_closed",
    "runs_completed",
)
#: The wafer id of each slot, by slot.
SLOTS = slot_names(MAX_SLOTS)
#: The profile's equipment constants (one element a segment), by the segment's field.
PROFILE_CONSTANTS = {
    "target_c": "segment_target_c",
    "rate_c_per_min": "segment_rate_c_per_min",
    "hold_s": "segment_hold_s",
}
#: The most segments a profile of the oven has.
MAX_SEGMENTS = 16
#: The load's traced status variables, each recorded as the Modbus map's status of that name.
LOAD_TRACED = traced_as(
    SPEC, {"load_temperature_c": "LOAD_TEMPERATURE", "o2_ppm": "O2", "n2_flow_slm": "N2_FLOW"}
)
#: Each zone's status variables (`zone_<n>_<field>`), by `ZoneStatus`'s fields and its status.
ZONE_FIELDS = ("temperature_c", "target_c", "working_setpoint_c", "output_pct", "status")
#: How much of the oven's time a trace report (S6F1) carries, s: its samples a report (REPGSZ)
#: are as many as fit, so an hour's cure is a dozen reports of each trace, not hundreds; the
#: run's end and its alarms are pushed at once whatever the group.
TRACE_REPORT_S = 300.0


def trace_group(period_s: float) -> int:
    """The samples a report of a trace every `period_s` carries (`TRACE_REPORT_S`' worth)."""
    return max(1, int(TRACE_REPORT_S // period_s))


def zone_variable(zone: int, field: str) -> str:
    """The status variable of `field` of 1-based zone `zone`."""
    return f"zone_{zone}_{field}"


def zone_traced(zones: int) -> dict[str, tuple[str, str]]:
    """Every zone's temperature and output, recorded as the Modbus driver records them."""
    return {
        variable: recorded
        for zone in range(1, zones + 1)
        for variable, recorded in (
            (zone_variable(zone, "temperature_c"), (f"zone {zone} temperature", "degC")),
            (zone_variable(zone, "output_pct"), (f"zone {zone} output", "%")),
        )
    }


class GemOven(GemBatchTool, Oven):
    """Drives a batch cure and reflow oven that speaks GEM, by its dictionary."""

    spec = SPEC
    slots = SLOTS
    limits = ModbusOven.limits
    needs = GemNeeds(
        status_variables=(
            "serial_number",
            *STATUS,
            "last_result",
            "run_time_s",
            "zone_count",
            "slot_capacity",
            *SLOTS,
            *SPEC.interlock_names,
            *(zone_variable(z, f) for z in range(1, MAX_ZONES + 1) for f in ZONE_FIELDS),
        ),
        equipment_constants=(
            "n2_flow_slm",
            "o2_limit_ppm",
            *PROFILE_CONSTANTS.values(),
            "over_temperature_c",
        ),
        collection_events=("purged", "run_ended", "load_cooled"),
        remote_commands={
            **BATCH_COMMANDS,
            "purge": (),
            "stop_purge": (),
            "start": (),
            "cool_down": (),
        },
    )

    def __init__(
        self,
        link: SecsLink,
        *,
        zone_trace_interval_s: float = ZONE_TRACE_INTERVAL_S,
        **options: Any,
    ) -> None:
        super().__init__(link, **options)
        #: During a run, the zones are traced this often (s of process time; 0: every poll).
        self.zone_trace_interval_s = checked_zone_trace_interval_s(self.name, zone_trace_interval_s)

    # ----------------------------------------------------------------- queries

    async def request_status(self) -> OvenStatus:
        return self._status_of(await self.request_values("read status", *STATUS))

    def unsafe(self, status: OvenStatus) -> str | None:
        return oven_unsafe(status)

    def _status_of(self, read: Sequence[Any]) -> OvenStatus:
        """The status from the values of `STATUS`, in its order."""
        values = dict(zip(STATUS, read, strict=True))
        return OvenStatus(
            state=OvenState[str(values["oven_state"]).upper()],
            load_temperature_c=float(values["load_temperature_c"]),
            o2_ppm=float(values["o2_ppm"]),
            n2_flow_slm=float(values["n2_flow_slm"]),
            door_closed=bool(values["door_closed"]),
            runs_completed=int(values["runs_completed"]),
        )

    async def _zone_values(self, action: str, *fields: str) -> list[dict[str, Any]]:
        """`fields` of every zone the oven has, in one S1F3 (of as many zones as a line of
        the oven carries, cut to its `zone_count`)."""
        names = [zone_variable(z, f) for z in range(1, MAX_ZONES + 1) for f in fields]
        count, *values = await self.request_values(action, "zone_count", *names)
        return [
            dict(zip(fields, values[index * len(fields) : (index + 1) * len(fields)], strict=True))
            for index in range(int(count))
        ]

    async def request_zone_temperatures_c(self) -> list[float]:
        zones = await self._zone_values("read zone temperatures", "temperature_c")
        return [float(zone["temperature_c"]) for zone in zones]

    async def request_zones(self) -> list[ZoneStatus]:
        zones = await self._zone_values("read zones", *ZONE_FIELDS)
        return [
            ZoneStatus(
                zone=number,
                process_c=float(zone["temperature_c"]),
                target_c=float(zone["target_c"]),
                working_setpoint_c=float(zone["working_setpoint_c"]),
                output_pct=float(zone["output_pct"]),
                alarms=tuple(
                    ControllerReading(
                        process_c=float(zone["temperature_c"]),
                        target_c=float(zone["target_c"]),
                        output_pct=float(zone["output_pct"]),
                        working_setpoint_c=float(zone["working_setpoint_c"]),
                        status=InstrumentStatus(int(zone["status"])),
                    ).alarms()
                ),
            )
            for number, zone in enumerate(zones, start=1)
        ]

    async def request_o2_ppm(self) -> float:
        (o2_ppm,) = await self.request_values("read O2", "o2_ppm")
        return float(o2_ppm)

    # ----------------------------------------------------------------- the atmosphere

    async def purge(self, n2_flow_slm: float, o2_limit_ppm: float) -> float:
        action = "purge"
        atmosphere = {
            name: self.check_limit(action, name, value)
            for name, value in (("n2_flow_slm", n2_flow_slm), ("o2_limit_ppm", o2_limit_ppm))
        }
        async with self.operation(action):
            await self.require_interlocks(action, SPEC.command_by_name["START_PURGE"].interlocks)
            await self.set_constants(f"{action}: set the atmosphere", atmosphere)
            async with self._load_traced():
                with self.expect_event(action, "purged") as purged:
                    await self.command("purge")
                    event = await self.wait_event(
                        action, purged, PURGE_TIMEOUT_S, lambda: "O2 not at its limit"
                    )
        return float(self.event_values("purged", event)["o2_ppm"])

    async def stop_purge(self) -> None:
        self.require_state("stop purge", *READY_STATES)
        await self.command("stop_purge")

    # ----------------------------------------------------------------- the run

    async def run_profile(
        self, profile: ThermalProfile, timeout_s: float | None = None
    ) -> ProfileResult:
        action = "run profile"
        profile = self.check_profile(action, profile, timeout_s)
        if len(profile.segments) > MAX_SEGMENTS:
            raise ValueError(
                f"{self.name}: {action}: {len(profile.segments)} segments; the oven runs "
                f"1 to {MAX_SEGMENTS}"
            )
        constants: dict[str, Any] = {
            constant: tuple(float(getattr(segment, field)) for segment in profile.segments)
            for field, constant in PROFILE_CONSTANTS.items()
        }
        constants["over_temperature_c"] = min(profile.peak_c + OVER_TEMPERATURE_MARGIN_C, 500.0)
        async with self.operation(action):
            await self.require_interlocks(action, SPEC.command_by_name["START_RUN"].interlocks)
            # the status, the zones and the slots in one S1F3
            read = await self.request_values(action, *STATUS, "zone_count", *self.slot_variables())
            status, zones = self._status_of(read[: len(STATUS)]), int(read[len(STATUS)])
            wafer_ids = tuple(w for w in self.slots_of(read[len(STATUS) + 1 :]) if w)
            if timeout_s is None:
                timeout_s = profile.duration_s(status.load_temperature_c) + PROFILE_TIMEOUT_MARGIN_S
            await self.set_constants(f"{action}: set the profile", constants)
            # timed on the oven's clock from the trace's start (just after `status`)
            record = LoadRecord(0.0, status.load_temperature_c, status.load_temperature_c)

            def measured(elapsed_s: float, values: Mapping[str, float]) -> None:
                record.add(
                    elapsed_s, values["load_temperature_c"], values["o2_ppm"], profile.liquidus_c
                )

            zone_period_s = max(self.zone_trace_interval_s, self.poll_interval_s)
            async with AsyncExitStack() as traces:
                await traces.enter_async_context(self._load_traced(measured))
                await traces.enter_async_context(
                    self.recorded_trace(
                        zone_traced(zones), zone_period_s, trace_group(zone_period_s)
                    )
                )
                with self.expect_event(action, "run_ended") as ended:
                    await self.command("start")
                    event = await self.wait_event(
                        action,
                        ended,
                        timeout_s,
                        lambda: f"profile of {len(profile.segments)} segments not over",
                    )
            values = await self.run_ended(action, event, "oven_state", "run")
        return record.result(wafer_ids, float(values["run_time_s"]), profile)

    async def cool_down(self, timeout_s: float) -> None:
        """The safe state (heater supply off, every zone in standby; the oven's COOL), then
        wait for the load to fall below the door's temperature (`load_cooled`)."""
        action = "cool down"
        with self.expect_event(action, "load_cooled") as cooled:
            await self.command("cool_down")
            await self.wait_event(
                action, cooled, timeout_s, lambda: f"load not below {DOOR_OPEN_BELOW_C:g} degC"
            )

    # ----------------------------------------------------------------- traces

    def _load_traced(
        self, sampled: Callable[[float, Mapping[str, float]], None] | None = None
    ) -> AbstractAsyncContextManager[None]:
        """For the block, the load's temperature, O2 and nitrogen flow every
        `poll_interval_s`, `trace_group` samples a report (`sampled` hears each sample)."""
        period_s = self.poll_interval_s
        return self.recorded_trace(LOAD_TRACED, period_s, trace_group(period_s), sampled)
