"""Simulated batch cure and reflow oven: a PLC and its zone controllers on one RS-485 line.

Speaks the register map of `docs/protocols/oven.md`: the PLC (declared in
`packline.drivers.specs.oven`, the family's wire side renders its status and judges its
writes) at unit `device_id`, and one `SimTemperatureController` of the Eurotherm 3200 map per
heating zone at the units after it, all served by one Modbus RTU server (a pty by default, as
on a real serial line; or RTU over TCP behind a serial device server).

Time is the line's clock: on every access, to any unit, the oven steps its zones, its load
and its atmosphere to `clock.now()` in steps of at most `OvenPhysics.step_s`, so a virtual
clock makes an hour's cure cost only the polls that watch it (and a part that a step left
where it was, settled, is not stepped again: the same step would leave it there, bit for
bit). The load's temperature is the mean of the zones'; the nitrogen purge takes the
residual O2 down exponentially with the chamber's volume changes; while the heater supply is
on (a run), the load's history is kept and, when the run ends however it ends, applied to
every wafer in the slots by the physics of `sim_instruments/physics/oven.py`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from pymodbus.simulator import SimDevice

from packline.clock import Clock
from packline.drivers.families.temperature_controller import InstrumentStatus
from packline.drivers.roles.oven import LastResult, OvenState
from packline.drivers.specs.oven import DOOR_OPEN_BELOW_C, SPEC

from .families.modbus_plc import Refused
from .families.plc_batch import BatchPlcSimulator
from .families.temperature_controller import SimTemperatureController
from .physics.oven import (
    LINE_POLL_INTERVAL_S,
    OVEN_PLANT,
    OVEN_RUN,
    LoadHistory,
    ReflowPhysics,
    apply_run,
)
from .servers import ModbusTransport
from .twin import JobEnd, TwinStore

#: Oxygen in air, ppm.
AIR_O2_PPM = 209_000.0

#: The zones as the oven steps them (`SimOven._alike_zones`): each zone that works its step
#: out, with the zones that take its result.
ZoneGroups = list[tuple[SimTemperatureController, list[SimTemperatureController]]]


@dataclass(frozen=True)
class OvenPhysics:
    """The oven's chamber and zones (est)."""

    #: Gas volume of the chamber, litres: one volume change takes volume / flow minutes.
    chamber_volume_l: float = 60.0
    #: Air leaking in, as ppm O2 times slm of purge: the floor at flow F is this / F.
    leak_ppm_slm: float = 200.0
    #: How fast air comes back into the closed chamber without nitrogen, s.
    air_return_time_constant_s: float = 600.0
    #: The longest time step of the model, s.
    step_s: float = 1.0
    #: When molten solder wets.
    reflow: ReflowPhysics = field(default_factory=ReflowPhysics)


class SimOven(BatchPlcSimulator):
    """The simulated oven: its PLC and `zone_count` zone controllers on one Modbus line."""

    spec = SPEC

    faults = {
        "n2_supply": "nitrogen supply lost: no flow, air comes back into the chamber",
        "zone_sensor_break": "zone 1's thermocouple opens: its controller reports a sensor break",
    }
    fault_opens = {"n2_supply": "n2_supply"}
    serial_over_tcp = "rtu-tcp"
    #: How often the simulated line's station has a host poll the oven (`LINE_POLL_INTERVAL_S`).
    poll_interval_s = LINE_POLL_INTERVAL_S

    def __init__(
        self,
        name: str,
        twin: TwinStore,
        clock: Clock | None = None,
        *,
        capacity: int = 8,
        zone_count: int = 4,
        device_id: int = 1,
        serial_number: str = "BO-4-0001",
        transport: ModbusTransport = "rtu-pty",
        physics: OvenPhysics | None = None,
    ) -> None:
        super().__init__(
            name,
            twin,
            clock,
            capacity=capacity,
            serial_number=serial_number,
            device_id=device_id,
            transport=transport,
        )
        if not 1 <= zone_count <= 8 or device_id + zone_count > 247:
            raise ValueError(f"simulated {name}: {zone_count} zones after unit {device_id}")
        self.physics = physics or OvenPhysics()
        self.zones = [
            SimTemperatureController(device_id + 1 + index, OVEN_PLANT, self.advance)
            for index in range(zone_count)
        ]
        self.state = OvenState.IDLE
        self.stepped_to_s = self.clock.now()
        self.n2_on = False
        self.n2_flow_slm = 0.0
        self.o2_limit_ppm = 0.0
        self.o2_ppm = AIR_O2_PPM
        self.runs_completed = 0
        self.last_result = LastResult.NONE
        self.run_time_s = 0.0
        self.history: LoadHistory | None = None

    # ----------------------------------------------------------------- the wire

    def line_devices(self) -> list[SimDevice]:
        """The PLC and every zone controller on one line."""
        return [self.device(), *(zone.device() for zone in self.zones)]

    def state_name(self) -> str:
        return self.state.name.lower()

    def takes_setpoints(self) -> bool:
        return self.state is not OvenState.RUNNING

    @property
    def load_c(self) -> float:
        """The load thermocouple: the mean of the zones."""
        return sum([zone.process_c for zone in self.zones]) / len(self.zones)

    @property
    def flow_slm(self) -> float:
        """The nitrogen flowing now."""
        return self.n2_flow_slm if self.n2_on and "n2_supply" not in self.injected else 0.0

    def status_values(self) -> dict[str, object]:
        return {
            "OVEN_STATE": int(self.state),
            "LOAD_TEMPERATURE": self.load_c,
            "O2": round(self.o2_ppm),
            "N2_FLOW": self.flow_slm,
            "ZONE_COUNT": len(self.zones),
            "FIRST_ZONE_UNIT": self.zones[0].device_id,
            "RUNS_COMPLETED": self.runs_completed % 65536,
            "LAST_RESULT": int(self.last_result),
            "RUN_TIME": self.run_time_s,
            **self.batch_status(),
        }

    def interlock_conditions(self) -> dict[str, bool]:
        return {
            "door_closed": self.door_closed,
            "atmosphere_inert": self.door_closed and self.o2_ppm <= self.o2_limit_ppm,
            "load_cool": self.load_c < DOOR_OPEN_BELOW_C,
        }

    def conditions_changed(self) -> None:
        self.zones[0].sensor_broken = "zone_sensor_break" in self.injected
        if self._zone_alarm() and "ZONE_ALARM" not in self.alarms:
            # the zone's alarm relay is wired to the PLC: a sensor break alarms at once, at
            # rest as in a run, as the controller's own display does
            self._fault("ZONE_ALARM", self.clock.now())

    # ----------------------------------------------------------------- commands

    def execute(
        self,
        command: str,
        parameters: Mapping[str, float | list[int]],
        registers: list[int],
        start: int,
    ) -> Refused | None:
        now = self.clock.now()
        if command == "RESET_ALARMS":
            for zone in self.zones:
                zone.acknowledge()
            if self._zone_alarm():  # a zone still above A1 or its sensor broken: at once
                self._fault("ZONE_ALARM", now)
            elif self.state is OvenState.FAULT:
                self.state = OvenState.PURGING if self.n2_on else OvenState.IDLE
        elif command == "ABORT":
            if self.state is OvenState.RUNNING:
                self._finish_run(LastResult.ABORTED, now)
        elif command in ("OPEN_DOOR", "CLOSE_DOOR"):
            self.door_closed = command == "CLOSE_DOOR"
            self._breathe(0.0)
        elif command in ("LOAD_WAFER", "RELOAD_WAFER", "UNLOAD_WAFER"):
            return self.transfer(command, parameters)
        elif command == "START_PURGE":
            refused = self.refuse_out_of_range(registers, start)
            if refused:
                return refused
            values = self.setpoint_values(registers, start)
            self.n2_flow_slm = float(values["n2_flow_slm"])
            self.o2_limit_ppm = float(values["o2_limit_ppm"])
            self.n2_on = True
            self.state = OvenState.PURGING
        elif command == "STOP_PURGE":
            self.n2_on = False
            self.state = OvenState.IDLE
        elif command == "START_RUN":
            if not self.loaded():
                return self.refused(self.reasons["NO_LOAD"])
            self.state = OvenState.RUNNING
            self.run_time_s = 0.0
            self.history = LoadHistory()
            self.history.add(now, self.load_c, self.o2_ppm)
        elif command == "END_RUN":
            self._finish_run(LastResult.COMPLETED, now)
        return None

    # ----------------------------------------------------------------- time and physics

    def advance(self) -> None:
        """Step the zones, the load and the atmosphere to the clock's present time, in steps of
        at most `OvenPhysics.step_s`.

        A part that a step left where it was stays there through the steps of the same length
        after it (the zones while the heater supply stays as it was): the same step from the
        same state reaches it again, bit for bit. So the zones settled at their setpoint or at
        the room, and the O2 at its floor or at air, are not stepped again; once neither moves,
        only the run's time and the load's history go on (`_pass_settled_steps`). Stepping
        every part at every second had been most of the simulated oven's cost: an hour's soak
        is 3,600 steps."""
        now = self.clock.now()
        if self.stepped_to_s >= now:
            return
        step_s = self.physics.step_s
        zones = self._alike_zones()
        #: The step (length, heater supply) that left the zones where they were, and the
        #: length that left the O2 where it was: a repeat of it need not be worked out.
        zones_settled: tuple[float, bool] | None = None
        o2_settled: float | None = None
        while self.stepped_to_s < now:
            dt_s = min(step_s, now - self.stepped_to_s)
            running = self.state is OvenState.RUNNING
            zones_moving = zones_settled != (dt_s, running)
            if not zones_moving and o2_settled == dt_s == step_s:
                self._pass_settled_steps(now, running)
                continue
            self.stepped_to_s += dt_s
            if zones_moving:
                moved = self._step_zones(zones, dt_s, running)
                zones_settled = None if moved else (dt_s, running)
            if o2_settled != dt_s:
                o2_settled = None if self._breathe(dt_s) else dt_s
            self._after_step(dt_s, self.stepped_to_s, running)

    def _pass_settled_steps(self, until_s: float, running: bool) -> None:
        """Pass every whole step up to `until_s` with the zones and the O2 where the last step
        left them: a run's time and the load's history go on. Neither the atmosphere's state nor
        an alarm can change (the last step, from the same state, changed neither)."""
        step_s = self.physics.step_s
        if not running:
            while until_s - self.stepped_to_s >= step_s:
                self.stepped_to_s += step_s
            return
        history, load_c, o2_ppm = self.history, self.load_c, self.o2_ppm
        assert history is not None
        while until_s - self.stepped_to_s >= step_s:
            self.stepped_to_s += step_s
            self.run_time_s += step_s
            history.add(self.stepped_to_s, load_c, o2_ppm)

    def _after_step(self, dt_s: float, time_s: float, running: bool) -> None:
        """The atmosphere's state, and a run's time, the load's history and the alarms that
        end a run, after a step of `dt_s` to `time_s`."""
        if self.state is OvenState.PURGING and self.o2_ppm <= self.o2_limit_ppm:
            self.state = OvenState.INERT
        elif self.state is OvenState.INERT and self.o2_ppm > self.o2_limit_ppm:
            self.state = OvenState.PURGING
        if not running:
            return
        assert self.history is not None
        self.run_time_s += dt_s
        self.history.add(time_s, self.load_c, self.o2_ppm)
        if self.o2_ppm > 2 * self.o2_limit_ppm:
            self._fault("O2_HIGH", time_s)
        elif self._zone_alarm():
            self._fault("ZONE_ALARM", time_s)

    def _zone_alarm(self) -> bool:
        """Whether a zone's alarm relay (`_ZONE_ALARMS`) is on. Only a zone with an alarm
        latched or its sensor broken has a status word to look at: this runs every step of a
        run, and building the word of every zone cost a quarter of the step."""
        for zone in self.zones:
            if (zone.latched or zone.sensor_broken) and zone.status & _ZONE_ALARMS:
                return True
        return False

    def _alike_zones(self) -> ZoneGroups:
        """The zones as `_step_zones` steps them: each zone that steps itself with the zones
        after it in the same state (`loop_state`; as a host sets them: alike), which take its
        result instead of working it out again. Alike at the start of `advance`, they stay
        alike through it: nothing but the steps changes a zone meanwhile."""
        groups: ZoneGroups = []
        last_state: tuple[object, ...] | None = None
        for zone in self.zones:
            state = zone.loop_state()
            if groups and state == last_state:
                groups[-1][1].append(zone)
            else:
                groups.append((zone, []))
                last_state = state
        return groups

    def _step_zones(
        self,
        zones: ZoneGroups,
        dt_s: float,
        power: bool,
    ) -> bool:
        """Step every zone (`zones`, grouped by `_alike_zones`): the first of each group works
        the step out, the others take its result (stepping the zones had been most of the cost
        of a step of the oven). Returns whether any zone moved."""
        moved = False
        for stepped, alike in zones:
            if stepped.step(dt_s, power=power):
                moved = True
            for zone in alike:
                zone.take_step_of(stepped)
        return moved

    def _breathe(self, dt_s: float) -> bool:
        """The residual O2: air with the door open; with nitrogen flowing, towards the leak
        floor at one time constant per volume change; without, air leaks back in. Returns
        whether it moved."""
        before = self.o2_ppm
        if not self.door_closed:
            self.o2_ppm = AIR_O2_PPM
            return self.o2_ppm != before
        flow = self.flow_slm
        physics = self.physics
        if flow > 0:
            target = physics.leak_ppm_slm / flow
            time_constant_s = 60.0 * physics.chamber_volume_l / flow
        else:
            target, time_constant_s = AIR_O2_PPM, physics.air_return_time_constant_s
        self.o2_ppm = target + (self.o2_ppm - target) * math.exp(-dt_s / time_constant_s)
        return self.o2_ppm != before

    def _fault(self, alarm: str, time_s: float) -> None:
        """Latch `alarm`: heater supply off, a run ends faulted (nitrogen keeps flowing)."""
        self.latch(alarm)
        if self.state is OvenState.RUNNING:
            self._finish_run(LastResult.FAULTED, time_s)
        self.state = OvenState.FAULT

    def _finish_run(self, result: LastResult, time_s: float) -> None:
        """Heater supply off; what the run did to every wafer in the slots is applied."""
        history = self.history
        assert history is not None
        for wafer_id in self.loaded():
            apply_run(
                self.twin.get(wafer_id), history, self.physics.reflow, self.name, time_s, result
            )
        self.history = None
        self.last_result = result
        self.runs_completed += 1
        self.state = OvenState.INERT if self.o2_ppm <= self.o2_limit_ppm else OvenState.PURGING
        self.job_ended(OVEN_RUN, self.loaded(), time_s, JobEnd[result.name])


#: The zone status bits the PLC's ZONE_ALARM follows (wired alarm relays).
_ZONE_ALARMS = InstrumentStatus.ALARM_1 | InstrumentStatus.SENSOR_BREAK
