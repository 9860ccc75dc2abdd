"""Simulated plating cell: a bath controller on Modbus and a DC supply on SCPI, one tool.

The cell controller speaks the register map of `docs/protocols/electroplater.md` (declared in
`packline.drivers.specs.electroplater`; the Modbus PLC family's wire side judges writes and
renders the status); its supply is a `SimDcSupply` on a server of its own, wired to the cell:
the supply drives current only while the wafer is in the bath with the contact ring on its
seed (the cell is then a back-EMF and a resistance), and the cell counts that current through
its cathode shunt (`IMMERSION_CHARGE`, over the seed area it measured once the wafer is in,
`CATHODE_AREA`) and into the bath's age (`BATH_AGE`). Its ampere-hour termination ends the
charge itself: in the step where the counter reaches `charge_target_c` the current flows only
until it does, then the cell asserts the supply's inhibit input, which holds its output off
(ending the supply's transient, so a `*OPC?` held on it is answered at that moment, which the
cell tells the supply in advance: `next_change_s`), and sets `CHARGE_REACHED`, so the charge
is the target's however late the host looks; an alarm of the cell asserts the same input,
and the next IMMERSE releases it. The cell has a
bath per chemistry it was built with (every `Metal` by default); `SELECT_BATH` chooses the one
the holder plates in, each bath ageing by its own charge.

The bath's heater is a `SimTemperatureController` (the line's common controller map) on the
cell's Modbus server, at the unit id after the cell's; its alarm 1 is wired to the PLC's
OVER_TEMPERATURE input. Time is the line's clock: on every access of any of the three devices
the model is stepped to `clock.now()` in steps of at most a second (the heater's loop and the
body it heats; a heater a step left where it was is not stepped again by the steps of the same
length after it, which would leave it there bit for bit), ending a step at each move of the
holder and at the end of the supply's list, and the current (constant within a step) is
integrated into the charge. When the wafer leaves the bath, the charge it took is
deposited by `physics.electroplater.electroplate` on the workpiece twin over its cathode
(`cathode_of`): a new film on the exposed, connected seed, or a solder layer on the bump tips.
At the end of the withdraw, the rinse station's XRF head reads that deposit at the site nearest
each of the spec's `XRF_POINTS` (`XRF_THICKNESS`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from pymodbus.simulator import SimDevice

from packline.clock import Clock
from packline.drivers.families.plc_map import reason_enum
from packline.drivers.families.temperature_controller import InstrumentMode, InstrumentStatus
from packline.drivers.roles.electroplater import CellPhase, Metal
from packline.drivers.specs.electroplater import SPEC, XRF_POINTS

from .dc_supply import Load, SimDcSupply
from .families.modbus_plc import Refused
from .families.plc_stage import SingleWaferPlcSimulator
from .families.temperature_controller import SimTemperatureController
from .physics.electroplater import PlatingPhysics, cathode_of, electroplate, nearest_sites
from .servers import ModbusTransport
from .twin import JobEnd, TwinStore, Workpiece

CommandError = reason_enum(SPEC)
#: A plating, in the words of its twin event.
ELECTROPLATE = "electroplate"

#: The longest step of the model: the heater's loop runs at least once a second.
MAX_STEP_S = 1.0
#: How far short of its target a step's charge may fall, C, and still reach it: a step that
#: ends at the predicted moment of the target (`next_change_s`) reaches it whatever the
#: floating-point rounding of that moment.
CHARGE_ROUNDING_C = 1e-9


@dataclass
class _Immersion:
    """The wafer's time in the bath: the seed area measured once immersed, the charge it took,
    the current-on time and whether the charge reached its target, kept (and shown as
    CATHODE_AREA, IMMERSION_CHARGE, CURRENT_ON_TIME and CHARGE_REACHED) until the next
    IMMERSE; the sites of the pattern the bath faced (`pattern`, where the XRF head
    aims), `deposit_um` per site once it is on the wafer, and what the XRF head read of it at
    its points after the withdraw (`measured_um`, XRF_THICKNESS)."""

    area_cm2: float = 0.0
    pattern: np.ndarray | None = None
    charge_c: float = 0.0
    on_s: float = 0.0
    charge_reached: bool = False
    deposit_um: np.ndarray | None = None
    measured_um: tuple[float, ...] = ()


Event = tuple[float, Callable[[float], None]]


class SimElectroplater(SingleWaferPlcSimulator):
    """The simulated plating cell: its controller on Modbus (TCP by default, or RTU) and its
    supply on a SCPI socket, each with its own address (`station_address`)."""

    spec = SPEC

    faults = {
        "heater_runaway": "the bath heater's contactor sticks: full power whatever its loop asks",
        "lid_opened": "the cell's lid switch reads open",
        "level_drop": "the bath level falls below its sensor",
        "contact_open": "the contact ring does not reach the seed film",
    }
    fault_opens = {
        "lid_opened": "lid_closed",
        "level_drop": "bath_level",
        "contact_open": "cathode_contact",
    }

    def __init__(
        self,
        name: str,
        twin: TwinStore,
        clock: Clock | None = None,
        *,
        metal: Metal = Metal.CU,
        baths: tuple[Metal, ...] = tuple(Metal),
        device_id: int = 1,
        serial_number: str = "EP-1-0001",
        supply_serial_number: str = "DCS-30-50-0001",
        transport: ModbusTransport = "tcp",
        physics: PlatingPhysics | None = None,
    ) -> None:
        super().__init__(
            name,
            twin,
            clock,
            serial_number=serial_number,
            device_id=device_id,
            transport=transport,
        )
        if metal not in baths:
            raise ValueError(f"{name}: the selected bath {metal.value} is not one of its baths")
        #: The charge passed through each bath since its last RESET_BATH_AGE, C.
        self.bath_ages_c = dict.fromkeys(baths, 0.0)
        #: The bath the holder plates in.
        self.metal = metal
        self.physics = physics or PlatingPhysics()
        self.supply = SimDcSupply(
            f"{name}.supply", twin, self.clock, serial_number=supply_serial_number
        )
        self.supply.received = self.received  # one record of what the tool was sent
        self.supply.connection_listeners = self.connection_listeners  # one log of its clients
        self.supply.load = self._load
        self.supply.advance_hook = self.advance
        self.supply.owner_next_change_s = self.next_change_s
        now = self.clock.now()
        self.phase = CellPhase.READY
        self.phase_started_s = now
        #: The bath's heater, kept at the working temperature until told otherwise.
        self.heater = SimTemperatureController(device_id + 1, self.physics.bath, self.advance)
        self.heater.mode = InstrumentMode.AUTO
        working_c = self.physics.working_c
        self.heater.process_c = self.heater.target_c = self.heater.working_c = working_c
        #: The paddle's speed: still at power-on, as register 200 reads until written.
        self.agitation_rpm = 0.0
        #: The charge at which an immersion's current is switched off, C (0: none).
        self.charge_target_c = 0.0
        self.immersion = _Immersion()
        self._stepped_to_s = now
        #: Whether the contact ring reaches the held wafer's seed, with the workpiece and the
        #: bath it was found for (`_cathode_reached`); None once the wafer may have changed.
        self._contact: tuple[Workpiece, Metal, bool] | None = None

    # ----------------------------------------------------------------- two servers, one tool

    @property
    def station_address(self) -> dict[str, str]:
        return {"cell": self.address, "supply": self.supply.address}

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve the cell at `port` and the supply at a port of its own."""
        address = await super().start(host, port)
        try:
            await self.supply.start(host, 0)
        except BaseException:
            await super().stop()
            raise
        return address

    def line_devices(self) -> list[SimDevice]:
        """The cell's PLC and its bath heater, two units on one Modbus server (one line)."""
        return [self.device(), self.heater.device()]

    async def stop(self) -> None:
        """Stop both servers (the tool died: every connection drops)."""
        try:
            await self.supply.stop()
        finally:
            await super().stop()

    @property
    def bath_age_c(self) -> float:
        """The charge passed through the selected bath since its last RESET_BATH_AGE, C."""
        return self.bath_ages_c[self.metal]

    @bath_age_c.setter
    def bath_age_c(self, charge_c: float) -> None:
        self.bath_ages_c[self.metal] = charge_c

    # ----------------------------------------------------------------- the wire

    def takes_setpoints(self) -> bool:
        return True  # a bath controller takes its setpoints at any time

    def take_setpoints(self, values: Mapping[str, float]) -> None:
        if "agitation_rpm" in values:
            self.agitation_rpm = values["agitation_rpm"]
        if "charge_target_c" in values:
            self.charge_target_c = values["charge_target_c"]

    def status_values(self) -> dict[str, object]:
        point = self.supply.operating_point()
        return {
            "HEATER_UNIT": self.heater.device_id,
            "AGITATION": self.agitation_rpm,
            "BATH_AGE": self.bath_age_c / 3600.0,
            "IMMERSION_CHARGE": self.immersion.charge_c,
            "CATHODE_AREA": self.immersion.area_cm2,
            "CHARGE_REACHED": int(self.immersion.charge_reached),
            "CURRENT_ON_TIME": self.immersion.on_s,
            "XRF_POINTS": len(self.immersion.measured_um),
            "XRF_THICKNESS": list(self.immersion.measured_um or [0.0] * len(XRF_POINTS)),
            "CATHODE_CURRENT": point.current_a,
            "BATH_METAL": SPEC.status_by_name["BATH_METAL"].code_of(self.metal.value),  # type: ignore[attr-defined]
            **self.stage_status(),
        }

    def interlock_conditions(self) -> dict[str, bool]:
        return {
            "cathode_contact": self._cathode_reached(),
            "wafer_immersed": self.phase is CellPhase.IMMERSED,
        }

    def _cathode_reached(self) -> bool:
        """Whether the contact ring reaches seed on the wafer in the holder (`cathode_of`).

        Found once for the wafer and the bath and kept while both are the same: every status
        read shows the interlocks, and working the cathode out of the twin's arrays for each
        one was most of the cell's status. Only the cell changes the wafer it holds, by its
        deposit, which forgets what was found, as a transfer does (a wafer back from other
        tools is looked at anew)."""
        if self.wafer_id is None:
            return False
        workpiece, metal, known = self.twin.get(self.wafer_id), self.metal, self._contact
        if known is None or known[0] is not workpiece or known[1] is not metal:
            known = self._contact = (
                workpiece,
                metal,
                bool(cathode_of(workpiece, metal).sites.any()),
            )
        return known[2]

    def changed(self) -> None:
        """A fault or a command: the supply's held `*OPC?` looks at the tool again too."""
        super().changed()
        self.supply.changed()

    def conditions_changed(self) -> None:
        now = self.clock.now()
        if self.phase is CellPhase.IMMERSED:
            if "level_drop" in self.injected:
                self._fault("LEVEL_LOW", now)
            elif "contact_open" in self.injected:
                self._fault("CONTACT_LOST", now)
        self.supply.check_protection()

    def _load(self) -> Load | None:
        """The cell as the supply sees it: closed only with the wafer in the bath and the
        contact ring on its seed."""
        if self.phase is not CellPhase.IMMERSED or "contact_open" in self.injected:
            return None
        return Load(self.physics.cell_back_emf_v, self.physics.cell_resistance_ohm)

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
            if InstrumentStatus.ALARM_1 in self.heater.status:
                self._fault("OVER_TEMPERATURE", now)  # the heater's alarm is not acknowledged
                return None
            if self.phase is CellPhase.FAULT:
                self._enter(CellPhase.READY, now)
            self.heater.mode = InstrumentMode.AUTO  # the bath is heated again
        elif command == "ABORT":
            if self.phase in (CellPhase.IMMERSING, CellPhase.IMMERSED):
                self._leave_bath(now, JobEnd.ABORTED)
                self._enter(CellPhase.WITHDRAWING, now)
        elif command in ("LOAD_WAFER", "RELOAD_WAFER", "UNLOAD_WAFER"):
            self._contact = None
            return self.transfer(command, parameters)
        elif command == "IMMERSE":
            if self.wafer_id is None:
                return self.refused(CommandError["NO_WAFER"])
            self.immersion = _Immersion()
            self.supply.set_inhibit(False)
            self._enter(CellPhase.IMMERSING, now)
        elif command == "WITHDRAW":
            self._leave_bath(now, JobEnd.COMPLETED)
            self._enter(CellPhase.WITHDRAWING, now)
        elif command == "RESET_BATH_AGE":
            self.bath_age_c = 0.0
        elif command == "SELECT_BATH":
            bath = SPEC.parameter_by_name["bath"].text_of(int(parameters["bath"]))  # type: ignore[attr-defined, arg-type]
            if bath is None or Metal(bath) not in self.bath_ages_c:
                return self.refused(CommandError["NO_SUCH_BATH"], self.map.parameter_register)
            self.metal = Metal(bath)
        return None

    # ----------------------------------------------------------------- time and physics

    def _enter(self, phase: CellPhase, now: float) -> None:
        self.phase = phase
        self.phase_started_s = now
        self.supply.check_protection()  # the load changes with the holder

    def _next_event(self) -> Event | None:
        """What ends the present step of the model next, and what happens then: the holder's
        move ending, or the supply's list (the current changes there)."""
        started = self.phase_started_s
        events: list[Event] = []
        if self.phase is CellPhase.IMMERSING:
            events.append((started + self.physics.immerse_time_s, self._on_immersed))
        elif self.phase is CellPhase.WITHDRAWING:
            events.append((started + self.physics.withdraw_time_s, self._on_withdrawn))
        if self.supply.list_ends_s is not None:
            events.append((self.supply.list_ends_s, lambda _: self.supply.end_list()))
        return min(events, key=lambda event: event[0], default=None)

    def next_change_s(self, now: float) -> float:
        """What changes the cell next by itself: the model's next event (a move's end, the
        supply's list's end) or the charge reaching its target at the present current, which
        ends the supply's list; the family's look when neither is under way, or when a heater
        runs away (its alarm comes of the bath's heating)."""
        event = self._next_event()
        moments = [] if event is None else [event[0]]
        current_a = self.supply.operating_point().current_a
        immersion = self.immersion
        if current_a > 0 and self.charge_target_c > 0 and not immersion.charge_reached:
            left_c = max(self.charge_target_c - immersion.charge_c, 0.0)
            moments.append(self._stepped_to_s + left_c / current_a)
        if not moments or "heater_runaway" in self.injected:
            moments.append(super().next_change_s(now))
        return min(moments)

    def advance(self) -> None:
        """Step the cell to now: at most a second at a time, and to the end of each move."""
        now = self.clock.now()
        while True:
            event = self._next_event()
            if event is not None and event[0] <= self._stepped_to_s:
                event[1](self._stepped_to_s)  # a move that ends now
                continue
            if self._stepped_to_s >= now:
                return
            self._step_until(now if event is None else min(now, event[0]))

    def _step_until(self, until_s: float) -> None:
        """Step towards `until_s` (no event of the model before it), at most `MAX_STEP_S` a
        step, until there or until a step changes what the steps after it do: the charge
        reaching its target (the current goes off) or the heater's alarm (the cell faults).

        Meanwhile the current is constant, and the heater's inputs too, so a heater step that
        left the loop where it was (`SimTemperatureController.step`) is where every step of the
        same length after it leaves it, bit for bit: such steps are not worked out again. A
        plating of minutes, held on the supply's `*OPC?`, had cost a heater step per second
        of a bath settled at its setpoint."""
        current_a = self.supply.operating_point().current_a
        settled_dt_s: float | None = None  # the length of the step that left the heater
        while self._stepped_to_s < until_s:
            end_s = min(until_s, self._stepped_to_s + MAX_STEP_S)
            dt_s = end_s - self._stepped_to_s
            reached = current_a > 0 and self._pass_current(current_a, dt_s)
            stepped = dt_s != settled_dt_s
            settled_dt_s = None if stepped and self._step_heater(dt_s) else dt_s
            self._stepped_to_s = end_s
            # a heater not stepped again latched nothing new: its alarm was looked at already
            heater_alarm = stepped and InstrumentStatus.ALARM_1 in self.heater.latched
            if heater_alarm and "OVER_TEMPERATURE" not in self.alarms:
                self._fault("OVER_TEMPERATURE", end_s)
                return
            if reached:
                return

    def _pass_current(self, current_a: float, dt_s: float) -> bool:
        """`current_a` for `dt_s` into the immersion's charge and the bath's age, up to the
        charge target, where the cell switches it off; returns whether it reached it."""
        immersion = self.immersion
        target_c = self.charge_target_c
        on_s = dt_s
        reaching = immersion.charge_c + current_a * dt_s >= target_c - CHARGE_ROUNDING_C
        reached = target_c > 0 and not immersion.charge_reached and reaching
        if reached:
            on_s = max(target_c - immersion.charge_c, 0.0) / current_a
            immersion.charge_reached = True
            self.supply.set_inhibit(True)  # the output held off, the transient ended
        immersion.charge_c += current_a * on_s
        immersion.on_s += on_s
        self.bath_age_c += current_a * on_s
        return reached

    def _step_heater(self, dt_s: float) -> bool:
        """The heater's loop (or its stuck contactor) on the bath for `dt_s`; returns whether
        it moved the bath (a runaway always does)."""
        heater = self.heater
        if "heater_runaway" not in self.injected:
            return heater.step(dt_s)
        heater.process_c += heater.plant.max_heat_rate_c_per_s * dt_s
        heater.output_pct = 100.0
        if heater.process_c > heater.alarm_high_c:
            heater.latched |= InstrumentStatus.ALARM_1
        return True

    def _on_immersed(self, time_s: float) -> None:
        """In the bath: the cell measures the seed the contact ring reaches, the real plated
        area (`cathode_of` on the twin; a real cell, from the double-layer capacitance)."""
        if self.wafer_id is not None:
            cathode = cathode_of(self.twin.get(self.wafer_id), self.metal)
            self.immersion.area_cm2 = cathode.area_cm2
            self.immersion.pattern = cathode.pattern
        self._enter(CellPhase.IMMERSED, time_s)
        self.conditions_changed()

    def _on_withdrawn(self, time_s: float) -> None:
        """Rinsed and dry: the XRF head reads the deposit at the pattern's site nearest each
        point (none where nothing deposited)."""
        immersion = self.immersion
        if self.wafer_id is not None and immersion.pattern is not None:
            geometry = self.twin.get(self.wafer_id).geometry
            sites = nearest_sites(geometry, XRF_POINTS, immersion.pattern)
            deposit_um = immersion.deposit_um
            measured = np.zeros(len(XRF_POINTS)) if deposit_um is None else deposit_um[sites]
            immersion.measured_um = tuple(float(value) for value in measured)
        self._enter(CellPhase.READY, time_s)

    def _fault(self, alarm: str, time_s: float) -> None:
        """Latch `alarm`: the current off through the supply's inhibit input (which ends its
        transient), the wafer out of the bath; an over-temperature puts the heater in
        standby. The supply's own protections act before the cell's alarm output does
        (microseconds against the PLC's scan): an open contact trips its over-voltage first."""
        self.latch(alarm)
        self.supply.check_protection()
        self.supply.set_inhibit(True)
        if self.phase in (CellPhase.IMMERSING, CellPhase.IMMERSED):
            self._leave_bath(time_s, JobEnd.FAULTED)
        if alarm == "OVER_TEMPERATURE":
            self.heater.mode = InstrumentMode.STANDBY
        self._enter(CellPhase.FAULT, time_s)

    def _leave_bath(self, time_s: float, result: JobEnd) -> None:
        """The wafer leaves the bath (the plating ended as `result` says: withdrawn by the
        host, aborted, or faulted): what the charge deposited goes onto the workpiece, and
        the plating's end is told (one that took no charge as well)."""
        if self.wafer_id is None:
            return
        self._deposit(self.wafer_id, time_s, result)
        self.job_ended(ELECTROPLATE, [self.wafer_id], time_s, result)

    def _deposit(self, wafer_id: str, time_s: float, result: JobEnd) -> None:
        """What the immersion's charge deposited, on the workpiece and in its history."""
        immersion = self.immersion
        if immersion.charge_c <= 0 or immersion.deposit_um is not None:
            return
        workpiece = self.twin.get(wafer_id)
        temperature_c = self.heater.process_c
        deposit = electroplate(
            workpiece,
            self.metal,
            immersion.charge_c,
            immersion.on_s,
            temperature_c,
            self.agitation_rpm,
            self.bath_age_c / 3600.0,
            self.physics,
        )
        self._contact = None
        workpiece.record(
            self.name,
            ELECTROPLATE,
            time_s,
            metal=self.metal.value,
            charge_c=round(immersion.charge_c, 3),
            current_on_s=round(immersion.on_s, 3),
            current_density_a_dm2=round(deposit.current_density_a_dm2, 4),
            plated_area_cm2=round(deposit.area_cm2, 3),
            efficiency=round(deposit.efficiency, 4),
            thickness_um=round(float(deposit.thickness_um.max(initial=0.0)), 4),
            quality=deposit.quality.value,
            temperature_c=round(temperature_c, 2),
            result=result.value,
        )
        immersion.deposit_um = deposit.thickness_um
