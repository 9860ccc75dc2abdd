"""The simulated oven as a GEM equipment: `SimOven`'s PLC and zone controllers behind E30.

The model drives the simulated oven in process as a Modbus host drives it on its line
(`plc.py`): every remote command is the PLC's register write, the purge's atmosphere its
setpoint registers, and each zone's target, ramp rate, alarm 1 and mode the zone controller's
register writes (`SimTemperatureController.write`), judged as on the wire; so the GEM oven
refuses what the Modbus oven refuses, with the same zones, load and atmosphere on the same twin.
The status variables are the oven's and its zones' own values, unrounded by registers.

A purge, a run and a cool-down answer HCACK 4 and a watcher follows them on the line's clock:
it looks at the oven at most `HOLD_SCAN_S` apart (the model's step) and at once when a fault or
a command comes (`SimulatedTool.hold`), so an alarm is pushed (S5F1) the moment the PLC latches
it. A run is the oven's own sequencer doing what the Modbus driver does from the host: the
zones' alarm 1 at `over_temperature_c`, the heater supply on, and for each segment every
zone's ramp to its target, the wait for it to be reached (the load settled with every zone's
working setpoint at the target, `ProfileSegment.load_settled`, `zones_at_target`) and its hold,
told by `segment_reached` and `segment_held`; then the heater supply off and the zones in
standby, told by `run_ended` (an alarm or an abort ends the run early, told the same way).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from packline.clock import Clock
from packline.drivers.families.temperature_controller import InstrumentMode
from packline.drivers.gem.oven import MAX_SEGMENTS, PROFILE_CONSTANTS
from packline.drivers.roles.oven import OvenState, ProfileSegment
from packline.drivers.specs.oven import DOOR_OPEN_BELOW_C, SPEC

from ..families.temperature_controller import SimTemperatureController
from ..oven import SimOven
from ..twin import TwinStore
from .model import GemRefused
from .plc_batch import GemBatchPlcModel

#: The segment field each of the profile's equipment constants (one element a segment) sets.
PROFILE_FIELDS = {constant: name for name, constant in PROFILE_CONSTANTS.items()}
#: The status variables that are the PLC's status values, by the map's names.
_STATUS_VALUES = {
    "load_temperature_c": "LOAD_TEMPERATURE",
    "n2_flow_slm": "N2_FLOW",
    "runs_completed": "RUNS_COMPLETED",
    "run_time_s": "RUN_TIME",
    "zone_count": "ZONE_COUNT",
}
#: The remote commands that are one command of the oven's PLC, by the map's names.
_PLC_COMMANDS = {
    "open_door": "OPEN_DOOR",
    "close_door": "CLOSE_DOOR",
    "stop_purge": "STOP_PURGE",
    "clear_alarms": "RESET_ALARMS",
}


class GemOvenModel(GemBatchPlcModel):
    """The GEM face of a `SimOven` (built here on the line's twin and clock)."""

    tool: SimOven
    spec = SPEC
    plc_commands = _PLC_COMMANDS
    looks_find_alarms = True

    def __init__(
        self, name: str, twin: TwinStore, clock: Clock | None = None, **options: Any
    ) -> None:
        super().__init__(SimOven(name, twin, clock, **options))
        #: The profile's constants, one element a segment (none until the host sets them),
        #: and the zones' alarm 1 of a run.
        self.profile: dict[str, tuple[float, ...]] = dict.fromkeys(PROFILE_FIELDS, ())
        self.over_temperature_c = float(
            self.tool.zones[0].map.by_mnemonic["A1"].accepts.maximum  # type: ignore[union-attr]
        )
        #: The 1-based segment the run is in (the last after a run), 0 before any.
        self.segment = 0
        # an alarm latched on any look at the oven (a trace's sample) wakes the watcher now
        self.tool.alarm_listeners.append(lambda _tool, _code: self.tool.changed())

    # ----------------------------------------------------------------- values

    def tool_status(self, name: str) -> Any:
        tool = self.tool
        if name == "oven_state":
            return tool.state.name.lower()
        if name == "last_result":
            return tool.last_result.name.lower()
        if name == "o2_ppm":
            return tool.o2_ppm
        if name == "segment":
            return self.segment
        if name.startswith("zone_") and name != "zone_count":
            number, zone_field = name.removeprefix("zone_").split("_", 1)
            if int(number) > len(tool.zones):
                return 0
            zone = tool.zones[int(number) - 1]
            return {
                "temperature_c": zone.process_c,
                "output_pct": zone.output_pct,
                "target_c": zone.target_c,
                "working_setpoint_c": zone.working_c,
                "status": int(zone.status),
            }[zone_field]
        values = self.per_sample("status", tool.status_values)
        return float(values[_STATUS_VALUES[name]])  # type: ignore[arg-type]

    def constant(self, name: str) -> Any:
        if name in PROFILE_FIELDS:
            return self.profile[name]
        if name == "over_temperature_c":
            return self.over_temperature_c
        return self.written(name)

    def constant_range(self, name: str) -> tuple[float, float] | None:
        """The atmosphere's: the PLC's machine range; the zones' alarm 1: the controller's; a
        profile's (an array): each segment's target or rate, the controller's, as
        `accepts_constant` judges it (a hold has no most)."""
        if name not in ("over_temperature_c", *PROFILE_FIELDS):
            return super().constant_range(name)
        if name == "segment_hold_s":
            return None
        parameter = {"over_temperature_c": "A1", "segment_target_c": "TG.SP"}.get(name, "SP.RAT")
        accepts = self.tool.zones[0].map.accepts(parameter)
        return accepts.minimum, accepts.maximum

    def accepts_constant(self, name: str, value: Any) -> bool:
        """A profile's: at most `MAX_SEGMENTS`, each a segment's (`ProfileSegment`: a hold
        of 0 s or more) whose target and rate the zones take (TG.SP, SP.RAT)."""
        if name not in PROFILE_FIELDS:
            return super().accepts_constant(name, value)
        if len(value) > MAX_SEGMENTS:
            return False
        if name == "segment_hold_s":
            return all(v >= 0 for v in value)
        bounds = self.constant_range(name)
        assert bounds is not None  # a segment's target and rate have the controller's
        return all(bounds[0] <= v <= bounds[1] for v in value)

    def set_constants(self, values: Mapping[str, Any]) -> None:
        """The atmosphere's as the PLC's setpoint registers (refused while a run goes on:
        EAC 2), a profile's and the zones' alarm 1 kept for the next run's start."""
        for name, value in values.items():
            if name in PROFILE_FIELDS:
                self.profile[name] = tuple(float(v) for v in value)
            elif name == "over_temperature_c":
                self.over_temperature_c = float(value)
            else:
                self.write_field(name, value)

    # ----------------------------------------------------------------- commands

    async def run(self, name: str, parameters: Mapping[str, Any]) -> int:
        """A purge, a run or a cool-down (HCACK 4, a watcher follows it), or the safe state."""
        if name == "abort":  # a run's watcher sees the run end aborted
            if not self.tool.defer_safe_state(self._safe_state):  # `abort_ignored`: all of it
                self._safe_state()
            return 0
        if name == "purge":
            self.plc_command("START_PURGE", {})
            await self.stop()
            self.watch(self._purging)
        elif name == "start":
            segments = self._segments()
            self.plc_command("START_RUN", {})
            first = segments[0]
            for zone in self.tool.zones:
                self._zone_write(zone, "A1", self.over_temperature_c)
                self._zone_write(zone, "SP.RAT", first.rate_c_per_min)
                self._zone_write(zone, "TG.SP", first.target_c)
                self._zone_write(zone, "IM", InstrumentMode.AUTO)
            await self.stop()
            self.watch(lambda: self._run(segments))
        else:  # cool_down
            self._safe_state()
            await self.stop()
            self.watch(self._cooling)
        return 4

    def _segments(self) -> list[ProfileSegment]:
        """The profile's segments: as many as its targets; GemRefused (HCACK 2) for a profile
        none set or whose constants differ in length."""
        lengths = {name: len(values) for name, values in self.profile.items()}
        if len(set(lengths.values())) != 1 or not lengths["segment_target_c"]:
            described = ", ".join(f"{name} {length}" for name, length in lengths.items())
            raise GemRefused(
                2, f"the profile's constants differ in segments or have none: {described}"
            )
        return [
            ProfileSegment(*values)
            for values in zip(
                self.profile["segment_target_c"],
                self.profile["segment_rate_c_per_min"],
                self.profile["segment_hold_s"],
                strict=True,
            )
        ]

    def _safe_state(self) -> None:
        """Heater supply off (the PLC's ABORT: a run ends aborted), every zone in standby."""
        self.plc_command("ABORT", {})
        for zone in self.tool.zones:
            self._zone_write(zone, "IM", InstrumentMode.STANDBY)

    def _zone_write(self, zone: SimTemperatureController, mnemonic: str, value: float) -> None:
        """One register of a zone controller, written as a Modbus host writes it (FC6);
        refused, `GemRefused` (HCACK 2) naming the register and the exception."""
        self.tool.advance()
        register = zone.map.by_mnemonic[mnemonic]
        refused = zone.write(register.address, [zone.map.encode(mnemonic, value)])
        if refused is not None:
            raise GemRefused(
                2, f"zone unit {zone.device_id}: write {mnemonic} {value:g}: {refused.name}"
            )
        self.tool.changed()

    # ----------------------------------------------------------------- the watchers

    async def _purging(self) -> None:
        """Follow the purge until the atmosphere is inert (`purged`) or it ends otherwise."""
        tool = self.tool
        await tool.hold(lambda: tool.state is OvenState.PURGING, given_up_by_next_line=False)
        await (self.report("purged") if tool.state is OvenState.INERT else self.report())

    async def _run(self, segments: list[ProfileSegment]) -> None:
        """Run the profile's segments in order (see the module's docstring); `run_ended` at
        the end, however it ends."""
        tool = self.tool

        def running() -> bool:
            return tool.state is OvenState.RUNNING

        for index, segment in enumerate(segments):
            self.segment = index + 1
            if index:
                for zone in tool.zones:
                    self._zone_write(zone, "SP.RAT", segment.rate_c_per_min)
                    self._zone_write(zone, "TG.SP", segment.target_c)
            rising = segment.target_c >= tool.load_c

            def reaching(segment: ProfileSegment = segment, rising: bool = rising) -> bool:
                return running() and not (
                    segment.load_settled(tool.load_c, rising)
                    and segment.zones_at_target(zone.working_c for zone in tool.zones)
                )

            await tool.hold(reaching, given_up_by_next_line=False)
            if not running():
                break
            await self.report("segment_reached")  # the profile goes on without a host too
            await tool.hold(running, segment.hold_s, given_up_by_next_line=False)
            if not running():
                break
            await self.report("segment_held")
        else:
            self.plc_command("END_RUN", {})
            for zone in tool.zones:
                self._zone_write(zone, "IM", InstrumentMode.STANDBY)
        await self.report("run_ended")

    async def _cooling(self) -> None:
        """Follow the cool-down until the load is below the door's temperature."""
        tool = self.tool
        await tool.hold(lambda: tool.load_c >= DOOR_OPEN_BELOW_C, given_up_by_next_line=False)
        await self.report("load_cooled")
