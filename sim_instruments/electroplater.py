"""Simulated plating cell: a bath controller on Modbus and a DC supply on SCPI, one tool.

The cell controller speaks the register map of `docs/protocols/electroplater.md` (declared in
`packline.drivers.specs.electroplater`; the Modbus PLC family's wire side judges writes and
renders the status); its supply is a `SimDcSupply` on a server of its own, wired to the cell:
the supply drives current only while the wafer is in the bath with the contact ring on its
seed (the cell is then a back-EMF and a resistance), and the cell counts that current through
its cathode shunt (`IMMERSION_CHARGE`) and into the bath's age (`BATH_AGE`).

Time is the line's clock: the bath temperature is a closed-form curve since its last change
(heating at a fixed rate to the setpoint, cooling towards ambient, or running away under an
injected heater fault), the holder's moves take fixed times, and on every access of either
device the model plays its events up to `clock.now()`, integrating the current (constant
between events) into the charge. When the wafer leaves the bath, the charge it took is
deposited by `physics.electroplater.plate` on the workpiece twin.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from packline.clock import Clock
from packline.drivers.families.modbus_plc import reason_enum
from packline.drivers.roles.electroplater import CellPhase, Metal
from packline.drivers.specs.electroplater import SPEC

from .dc_supply import Load, SimDcSupply
from .families.modbus_plc import ModbusPlcSimulator, Refused
from .physics.electroplater import PlatingPhysics, plate, plating_sites
from .servers import ModbusTransport
from .twin import TwinStore, WaferAlreadyProcessed, WaferSpec, Workpiece, validate_wafer_id

CommandError = reason_enum(SPEC)

Drive = Literal["regulate", "runaway", "off"]


@dataclass(frozen=True)
class _Bath:
    """The bath temperature from `since_s` on, under one heater drive."""

    start_c: float
    since_s: float
    drive: Drive
    setpoint_c: float
    physics: PlatingPhysics

    def at(self, time_s: float) -> float:
        elapsed = max(time_s - self.since_s, 0.0)
        if self.drive == "runaway":
            return self.start_c + self.physics.runaway_rate_c_per_s * elapsed
        if self.drive == "regulate" and self.start_c < self.setpoint_c:
            return min(self.start_c + self.physics.heat_rate_c_per_s * elapsed, self.setpoint_c)
        floor = self.setpoint_c if self.drive == "regulate" else self.physics.ambient_c
        ambient = self.physics.ambient_c
        cooled = ambient + (self.start_c - ambient) * math.exp(
            -elapsed / self.physics.cool_time_constant_s
        )
        return max(cooled, floor) if self.start_c >= floor else self.start_c

    def rises_to_s(self, level_c: float) -> float:
        """When the bath reaches `level_c` (inf if it never does)."""
        if self.start_c >= level_c:
            return self.since_s
        if self.drive == "runaway":
            return self.since_s + (level_c - self.start_c) / self.physics.runaway_rate_c_per_s
        return math.inf


@dataclass
class _Immersion:
    """The wafer's time in the bath: the charge it took and the current-on time."""

    charge_c: float = 0.0
    on_s: float = 0.0


Event = tuple[float, Callable[[float], None]]


class SimElectroplater(ModbusPlcSimulator):
    """The simulated plating cell: its controller on Modbus (TCP by default, or RTU) and its
    supply on a SCPI socket, each with its own address (`station_address`)."""

    spec = SPEC

    faults = {
        "heater_runaway": "the bath heater does not regulate: it heats past the setpoint",
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
        device_id: int = 1,
        serial_number: str = "EP1-0001",
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
        self.metal = metal
        self.physics = physics or PlatingPhysics()
        self.supply = SimDcSupply(f"{name}.supply", twin, self.clock)
        self.supply.received = self.received  # one record of what the tool was sent
        self.supply.load = self._load
        self.supply.advance_hook = self.advance
        now = self.clock.now()
        self.phase = CellPhase.READY
        self.phase_started_s = now
        self.bath = _Bath(
            self.physics.working_c, now, "regulate", self.physics.working_c, self.physics
        )
        self.agitation_rpm = 60.0
        self.bath_age_c = 0.0
        self.immersion = _Immersion()
        self.wafer_id: str | None = None
        self._integrated_to_s = now

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

    async def stop(self) -> None:
        """Stop both servers (the tool died: every connection drops)."""
        try:
            await self.supply.stop()
        finally:
            await super().stop()

    # ----------------------------------------------------------------- the wire

    def state_name(self) -> str:
        return self.phase.name.lower()

    def takes_setpoints(self) -> bool:
        return True  # a bath controller takes its setpoints at any time

    def take_setpoints(self, values: Mapping[str, float]) -> None:
        now = self.clock.now()
        if "agitation_rpm" in values:
            self.agitation_rpm = values["agitation_rpm"]
        if "bath_temperature_c" in values:
            self._rebase(now, setpoint_c=values["bath_temperature_c"])

    def status_values(self) -> dict[str, object]:
        point = self.supply.operating_point()
        return {
            "PHASE": int(self.phase),
            "BATH_TEMPERATURE": self.bath.at(self.clock.now()),
            "AGITATION": self.agitation_rpm,
            "BATH_AGE": self.bath_age_c / 3600.0,
            "IMMERSION_CHARGE": self.immersion.charge_c,
            "CATHODE_CURRENT": point.current_a,
            "BATH_METAL": SPEC.status_by_name["BATH_METAL"].code_of(self.metal.value),  # type: ignore[attr-defined]
            "WAFER_LOADED": int(self.wafer_id is not None),
            "WAFER_ID": self.wafer_id or "",
        }

    def interlock_conditions(self) -> dict[str, bool]:
        return {
            "cathode_contact": self.wafer_id is not None,
            "wafer_immersed": self.phase is CellPhase.IMMERSED,
        }

    def conditions_changed(self) -> None:
        now = self.clock.now()
        self._rebase(now)
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
            if self.phase is CellPhase.FAULT:
                self._enter(CellPhase.READY, now)
            self._rebase(now, drive="regulate")
        elif command == "ABORT":
            if self.phase in (CellPhase.IMMERSING, CellPhase.IMMERSED):
                self._leave_bath(now)
                self._enter(CellPhase.WITHDRAWING, now)
        elif command == "LOAD_WAFER":
            return self._load_wafer(parameters)
        elif command == "UNLOAD_WAFER":
            if self.wafer_id is None:
                return self.refused(CommandError["NO_WAFER"])
            self.wafer_id = None
        elif command == "IMMERSE":
            if self.wafer_id is None:
                return self.refused(CommandError["NO_WAFER"])
            self.immersion = _Immersion()
            self._enter(CellPhase.IMMERSING, now)
        elif command == "WITHDRAW":
            self._leave_bath(now)
            self._enter(CellPhase.WITHDRAWING, now)
        elif command == "RESET_BATH_AGE":
            self.bath_age_c = 0.0
        return None

    def _load_wafer(self, parameters: Mapping[str, float | list[int]]) -> Refused | None:
        if self.wafer_id is not None:
            return self.refused(CommandError["WAFER_PRESENT"])
        try:
            wafer_id = self.text_parameter(parameters, "wafer_id")
            validate_wafer_id(wafer_id)
            self.twin.load(wafer_id, self.name)
        except (ValueError, WaferAlreadyProcessed):
            return self.refused(CommandError["BAD_WAFER_ID"], self.map.parameter_register)
        self.wafer_id = wafer_id
        return None

    # ----------------------------------------------------------------- time and physics

    def _rebase(
        self, now: float, drive: Drive | None = None, setpoint_c: float | None = None
    ) -> None:
        """Start the bath curve afresh at `now` (on every change of drive, setpoint or fault)."""
        new_drive = drive or self.bath.drive
        if new_drive != "off":
            new_drive = "runaway" if "heater_runaway" in self.injected else "regulate"
        setpoint = self.bath.setpoint_c if setpoint_c is None else setpoint_c
        self.bath = _Bath(self.bath.at(now), now, new_drive, setpoint, self.physics)

    def _enter(self, phase: CellPhase, now: float) -> None:
        self.phase = phase
        self.phase_started_s = now
        self.supply.check_protection()  # the load changes with the holder

    def _next_event(self) -> Event | None:
        started = self.phase_started_s
        if self.phase is CellPhase.IMMERSING:
            return started + self.physics.immerse_time_s, self._on_immersed
        if self.phase is CellPhase.WITHDRAWING:
            return started + self.physics.withdraw_time_s, self._on_withdrawn
        if self.bath.drive == "runaway" and self.phase is not CellPhase.FAULT:
            trip_c = self.bath.setpoint_c + self.physics.over_temperature_margin_c
            return self.bath.rises_to_s(trip_c), lambda t: self._fault("OVER_TEMPERATURE", t)
        return None

    def advance(self) -> None:
        """Play every event up to now, integrating the current between them."""
        now = self.clock.now()
        while (event := self._next_event()) is not None and event[0] <= now:
            time_s, happen = event
            self._integrate(time_s)
            happen(time_s)
        self._integrate(now)

    def _integrate(self, time_s: float) -> None:
        """The current, constant since the last change, into the immersion's charge and the
        bath's age."""
        elapsed_s = time_s - self._integrated_to_s
        if elapsed_s <= 0:
            return
        self._integrated_to_s = time_s
        current_a = self.supply.operating_point().current_a
        if current_a > 0:
            self.immersion.charge_c += current_a * elapsed_s
            self.immersion.on_s += elapsed_s
            self.bath_age_c += current_a * elapsed_s

    def _on_immersed(self, time_s: float) -> None:
        self._enter(CellPhase.IMMERSED, time_s)
        self.conditions_changed()

    def _on_withdrawn(self, time_s: float) -> None:
        self._enter(CellPhase.READY, time_s)

    def _fault(self, alarm: str, time_s: float) -> None:
        """Latch `alarm`: the wafer leaves the bath; an over-temperature switches the heater off."""
        self.latch(alarm)
        if self.phase in (CellPhase.IMMERSING, CellPhase.IMMERSED):
            self._leave_bath(time_s)
        if alarm == "OVER_TEMPERATURE":
            self._rebase(time_s, drive="off")
        self._enter(CellPhase.FAULT, time_s)

    def _leave_bath(self, time_s: float) -> None:
        """The wafer leaves the bath: what the charge deposited goes onto the workpiece."""
        if self.wafer_id is None or self.immersion.charge_c <= 0:
            return
        workpiece = self.twin.get(self.wafer_id)
        sites, site_area_cm2 = seed_of(workpiece)
        temperature_c = self.bath.at(time_s)
        deposit = plate(
            self.metal,
            self.immersion.charge_c,
            self.immersion.on_s,
            site_area_cm2,
            sites,
            temperature_c,
            self.agitation_rpm,
            self.bath_age_c / 3600.0,
            self.physics,
        )
        workpiece.record(
            self.name,
            "electroplate",
            time_s,
            metal=self.metal.value,
            charge_c=round(self.immersion.charge_c, 3),
            current_on_s=round(self.immersion.on_s, 3),
            current_density_a_dm2=round(deposit.current_density_a_dm2, 4),
            plated_area_cm2=round(deposit.area_cm2, 3),
            efficiency=round(deposit.efficiency, 4),
            thickness_um=round(float(deposit.thickness_um.max(initial=0.0)), 4),
            quality=deposit.quality.value,
            temperature_c=round(temperature_c, 2),
        )
        self.immersion = _Immersion()


def seed_of(workpiece: Workpiece) -> tuple[np.ndarray, np.ndarray]:
    """The plating sites of `workpiece` and each site's area, cm2.

    The twin has no seed films yet (the composable workpiece's `films` and `resist` parts
    are coming): until then a wafer carries a blanket seed over its usable front, connected to
    the contact ring at its edge and under no resist, shared evenly among its sites.
    """
    spec = workpiece.spec
    if not isinstance(spec, WaferSpec):
        raise ValueError(f"{workpiece.id}: the plating cell's contact ring holds wafers only")
    count = workpiece.geometry.site_count
    radius_cm = (spec.diameter_mm / 2 - spec.edge_exclusion_mm) / 10
    seed_um = np.ones(count, np.float32)
    sites = plating_sites(seed_um, np.zeros(count, bool), np.ones(count, bool))
    return sites, np.full(count, math.pi * radius_cm**2 / count)
