"""Plating cell: bath controller on Modbus, DC supply on SCPI (`docs/protocols/electroplater.md`).

A tool of two devices (decision 0009), named in the station entry's address:

* `cell` (this driver's own link): the bath and wafer-holder controller, a PLC on Modbus TCP or
  RTU in the family's map, declared in `packline.drivers.specs.electroplater`: status block at
  0-19 (phase, alarms, interlocks, the heater's unit id, paddle, bath age, the charge counted
  through the cathode since the immersion and whether it reached its target), the paddle
  setpoint at 200 and the charge target at 201-202 (FC16, taken at once), commands at 300
  with the wafer id at 301-308; on the same line, at the unit id the PLC names, the bath
  heater: a temperature controller of the line's common map (Eurotherm 3200
  addresses, `drivers/families/temperature_controller.py`);
* `supply`: a programmable DC supply on the standard SCPI tree (`drivers/dc_supply.py`).

A plating step: the recipe's bath selected (`SELECT_BATH`, when the cell plates in another),
the paddle setpoint written, the heater's alarm 1 (`A1`, the bath's over-temperature) and
target (`TG.SP`, no ramp) set and its loop on auto, the bath awaited at temperature, the
interlocks read, IMMERSE; once the wafer is in the bath with the contact ring on its seed, the
seed area the cell measured (`CATHODE_AREA`) against the recipe's design area,
`plated_area_cm2` (one far off it is refused, the wafer withdrawn unplated); the supply's
levels set (output off) with the current of the recipe's density over the measured area
(current-density control) as the supply's list, the charge of the recipe's thickness over
that area as the cell's charge target, then the inhibit's latch cleared, `OUTP ON` and
`INIT`; the supply and the cell are read as the list starts and once the supply answers
`*OPC?`, until the cell reports the charge reached and the current off (ampere-hour
termination in the tool, decision 0038: the charge does not depend on when the driver looks;
the wait on `*OPC?`, decision 0044), then `OUTP OFF` (whatever ended the charge: the supply's
inhibit latches, `OUTP:INH:MODE LATC` set at connect, and the output is set off too, so the
inhibit's release at the next IMMERSE cannot switch the current on), then WITHDRAW. The
safe state is the same order: output off, then ABORT (the wafer withdrawn and rinsed). Once
the holder is out, rinsed and dry, the thickness the rinse station's XRF head measured at its
points (`XRF_POINTS`, `XRF_THICKNESS`) is read into the result.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from dataclasses import replace
from typing import Any, ClassVar

from .dc_supply import ScpiDcSupply
from .equipment import READY_STATES, Equipment, Reading
from .errors import ConnectionLost, ToolError, ToolStateError, WorkpieceRefused
from .families.plc_map import PlcStatus, field
from .families.plc_stage import SingleWaferPlcDriver
from .families.temperature_controller import InstrumentMode, TemperatureController
from .links import Link, ModbusLink
from .roles.electroplater import (
    BATH_TOLERANCE_C,
    METALS,
    CellPhase,
    CellStatus,
    Electroplater,
    Metal,
    PlatingRecipe,
    PlatingResult,
    area_mismatch,
)
from .specs.electroplater import SPEC

#: How far above its setpoint the bath may go before the heater's alarm 1 trips, degC.
BATH_OVERHEAT_C = 5.0
#: Process-time allowances beyond which a wait is a timeout.
BATH_SETTLE_TIMEOUT_S = 1800.0
HOLDER_TIMEOUT_S = 120.0
#: How much longer than the charge's time at the set current the supply's list lasts, as a
#: share of it: the cell's current is the supply's setting only to the setting's resolution
#: and the supply's accuracy (0.1 % or better on bench supplies of this class, est), and a
#: list that ran out before the cell ended the charge would leave the driver polling (the end
#: seen up to a poll interval late), where the cell's end answers `*OPC?` as it comes.
LIST_MARGIN = 0.01


class ModbusScpiElectroplater(SingleWaferPlcDriver[CellStatus], Electroplater):
    """Drives a plating cell: its bath controller (the packline cell map) and its DC supply;
    the family's single-wafer base loads and unloads the holder."""

    spec = SPEC
    holder = "in the holder"
    limits = SPEC.limits()
    devices: ClassVar[Mapping[str, type[Link]]] = {
        "cell": ModbusLink,
        "supply": ScpiDcSupply.link_type,  # type: ignore[type-abstract]  # isinstance only
    }
    primary_device = "cell"
    device_drivers: ClassVar[Mapping[str, type[Equipment]]] = {"supply": ScpiDcSupply}
    #: The holder withdrawn, rinsed and spun dry after ABORT: what a withdraw takes.
    safe_state_timeout_s = HOLDER_TIMEOUT_S

    def __init__(self, link: Link, *, devices: Mapping[str, Link] | None = None, **kwargs: Any):
        super().__init__(link, devices=devices, **kwargs)
        supply = self.open_device("supply")
        assert isinstance(supply, ScpiDcSupply)  # its `device_drivers` entry
        self.supply = supply
        self._heater: TemperatureController | None = None
        self.supply.add_reading_listener(self._record_supply_reading)

    def _record_supply_reading(self, reading: Reading) -> None:
        """The supply's traces (current, voltage) are the tool's, recorded under its name."""
        self.record_reading(reading.name, reading.value, reading.unit)

    async def _read_setup(self) -> None:
        """The bath heater at the unit id the cell names, then the supply (its identity, its
        tripped protections), once the cell answered."""
        unit = int(await self.read_status_value("HEATER_UNIT"))
        self._heater = TemperatureController(self.link, unit, f"{self.name} bath heater")
        await self.supply.connect()

    @property
    def heater(self) -> TemperatureController:
        """The bath's temperature controller (known once connected)."""
        if self._heater is None:
            raise ToolStateError(self.name, self.address, "bath heater", "not connected")
        return self._heater

    async def close(self) -> None:
        await self.supply.close()
        await super().close()

    # ----------------------------------------------------------------- queries

    def status_from(self, values: Mapping[str, float]) -> CellStatus:
        return CellStatus(
            phase=self.member(values, "PHASE", CellPhase),
            bath_metal=Metal(self.coded(values, "BATH_METAL")),
            agitation_rpm=values["AGITATION"],
            bath_age_ah=values["BATH_AGE"],
            immersion_charge_c=values["IMMERSION_CHARGE"],
            cathode_area_cm2=values["CATHODE_AREA"],
            wafer_loaded=bool(values["WAFER_LOADED"]),
            charge_reached=bool(values["CHARGE_REACHED"]),
            current_on_s=values["CURRENT_ON_TIME"],
        )

    async def request_activity(self) -> str | None:
        """The holder's phase when it is not at rest, and the supply's output when it is on
        (current may flow, whatever the phase)."""
        status = await self.request_status()
        supply = await self.supply.request_activity()
        return self.activity(status, None if supply is None else f"supply {supply}")

    async def request_bath_temperature_c(self) -> float:
        """The heater's process value, recorded as the bath temperature trace."""
        temperature_c = (await self.heater.read()).process_c
        self.record_reading("bath_temperature", temperature_c, "degC")
        return temperature_c

    async def request_measured_thickness_um(self) -> tuple[float, ...]:
        """The deposit the rinse station's XRF head measured after the last withdraw, at each
        of its points (empty: it measured none, as a cell without one), in one read of
        `XRF_POINTS` and `XRF_THICKNESS`."""
        entry = SPEC.status_by_name["XRF_THICKNESS"]
        assert isinstance(entry, PlcStatus)
        first = self.map.status_address(SPEC, "XRF_POINTS")
        registers = await self.link.read_holding_registers(first, 1 + entry.repeat)
        count = registers[0]
        if count > entry.repeat:
            raise self._off_the_map("XRF_POINTS", count)
        return tuple(raw / entry.scale for raw in registers[1 : 1 + count])

    async def request_alarms(self) -> dict[str, str]:
        """The cell's alarm bits and the supply's tripped protections."""
        return {**await super().request_alarms(), **await self.supply.request_alarms()}

    # ----------------------------------------------------------------- commands

    async def reset_bath_age(self) -> None:
        action = "reset bath age"
        self.require_state(action, *READY_STATES)
        await self.command(action, "RESET_BATH_AGE")

    async def plate(self, recipe: PlatingRecipe) -> PlatingResult:
        action = f"plate {recipe.thickness_um:g} um {recipe.metal.value}"
        self._check_recipe(action, recipe)
        bath_c = self.check_limit(action, "bath_temperature_c", recipe.bath_temperature_c)
        paddle = self.encode_fields(action, {"agitation_rpm": recipe.agitation_rpm})
        for name, (value, _) in recipe.supply_setpoints().items():
            self.supply.check_limit(action, name, value)
        async with self.operation(action):
            status = await self._settled_status(action)
            if status.bath_metal is not recipe.metal:  # the cell refuses a bath it lacks
                await self.command(action, "SELECT_BATH", bath=recipe.metal.value)
            wafer_id = await self.require_wafer(action)
            await self.write_fields("write paddle", self.map.setpoint_extent(SPEC)[0], paddle)
            # A bath still hotter than this recipe's (a hot recipe before it) would trip an
            # alarm armed at once above the new setpoint: armed above the bath as it is, and
            # brought down to the setpoint's once the bath has cooled to it.
            bath_now_c = await self.request_bath_temperature_c()
            await self.heater.write("A1", max(bath_c, bath_now_c) + BATH_OVERHEAT_C)
            await self.heater.ramp_to(bath_c, 0)
            await self.heater.set_mode(InstrumentMode.AUTO)
            await self._wait_for_bath(action, bath_c)
            if bath_now_c > bath_c:
                await self.heater.write("A1", bath_c + BATH_OVERHEAT_C)
            await self.require_interlocks(action, SPEC.command_by_name["IMMERSE"].interlocks)
            await self.command(action, "IMMERSE")
            immersed = await self.wait_status(
                action, lambda s: s.phase is CellPhase.IMMERSED, HOLDER_TIMEOUT_S
            )
            await self.require_interlocks(action, ("wafer_immersed", "cathode_contact"))
            area_cm2 = immersed[-1].cathode_area_cm2
            refused = self._area_refusal(recipe, area_cm2)
            if refused is not None:
                await self._withdraw(action)
                raise WorkpieceRefused(
                    self.name,
                    self.address,
                    action,
                    f"the cell measured {area_cm2:.4g} cm^2 of exposed, connected seed"
                    f"{refused}; the wafer was withdrawn unplated",
                )
            try:
                result = await self._pass_charge(action, recipe, wafer_id, area_cm2)
            except ConnectionLost:
                with suppress(ToolError):  # the cell is gone: the current goes off at least
                    await self.supply.abort()
                raise
            await self._withdraw(action)
            measured_um = await self.request_measured_thickness_um()
        return replace(result, measured_thickness_um=measured_um)

    async def _withdraw(self, action: str) -> None:
        """WITHDRAW, and wait until the holder is out, rinsed and ready."""
        await self.command(action, "WITHDRAW")
        await self.wait_status(action, lambda s: s.phase is CellPhase.READY, HOLDER_TIMEOUT_S)

    def _area_refusal(self, recipe: PlatingRecipe, area_cm2: float) -> str | None:
        """Why the cell must not plate over `area_cm2`, the seed it measured (None: it may),
        as the rest of the sentence that names that area: not the pattern of the recipe's
        design (`area_mismatch`), or outside the `plated_area_cm2` limit."""
        mismatch = area_mismatch(area_cm2, recipe.plated_area_cm2)
        if mismatch is not None:
            return (
                f" where the recipe's design plates plated_area_cm2 = "
                f"{recipe.plated_area_cm2:g} cm^2: the measured area is {mismatch} (another "
                "mask or wafer than the recipe's, or a mould that did not develop as designed)"
            )
        limit = self.limits["plated_area_cm2"]
        if not limit.contains(area_cm2):
            return f", outside the limit plated_area_cm2 {limit.described()}"
        return None

    def _check_recipe(self, action: str, recipe: PlatingRecipe) -> None:
        """The recipe's process values against the limits, its efficiency a fraction; nothing
        is sent."""
        self.check_limit(action, "current_density_a_dm2", recipe.current_density_a_dm2)
        self.check_limit(action, "thickness_um", recipe.thickness_um)
        self.check_limit(action, "plated_area_cm2", recipe.plated_area_cm2)
        if not 0 < recipe.efficiency <= 1:
            raise ValueError(
                f"{self.name}: {action}: cathode_efficiency {recipe.efficiency:g} must be above "
                "0 and at most 1"
            )
        if not 0 < recipe.timeout_s <= BATH_SETTLE_TIMEOUT_S * 24:
            raise ValueError(
                f"{self.name}: {action}: timeout_s {recipe.timeout_s:g} must be above 0 and at "
                f"most {BATH_SETTLE_TIMEOUT_S * 24:g}"
            )

    async def _pass_charge(
        self, action: str, recipe: PlatingRecipe, wafer_id: str, area_cm2: float
    ) -> PlatingResult:
        """The charge of the recipe's thickness over `area_cm2`, the area the cell measured, as
        the cell's charge target, the current of the recipe's density over it as the supply's
        level and its list (lasting `LIST_MARGIN` longer than the charge's time at that
        current, so the cell ends the charge first), the output on and the
        list run; the supply and the cell read as it starts, then again once the supply
        answers `*OPC?` (its transient ended: the cell reached the charge and switched the
        current off through the supply's inhibit input, which its alarms assert too, or a
        protection tripped, or the list's time ran out), until the cell reports the charge
        reached (its ampere-hour termination, so the charge is the target's however late the
        driver looks; docs/decisions/0038 and 0044): polled every interval if the list's
        time ran out first (a cell that took less current than set); the result's thickness
        by charge and current density are over that area. The output is switched off once the
        charge has ended (`OUTP OFF`, checked): the inhibit holds it off already, and the
        setting keeps it off whatever the inhibit's mode; an alarm, an abort or a timeout
        switch it off as the safe state.

        The mean current is the supply's mean reading while current flowed (each read takes
        the supply before the cell, so a reading the cell then reports not yet ended is one;
        the cell's charge over its current-on time if no read came before the end), and the
        supply's charge, an independent figure, that current over the cell's current-on time.
        """
        target_c = recipe.charge_c(area_cm2)
        current_a = recipe.current_a(area_cm2)
        timeout_s = recipe.timeout_s + target_c / current_a
        await self.supply.set_current_list(
            action,
            current_a,
            target_c / current_a * (1 + LIST_MARGIN),
            recipe.compliance_voltage_v,
            recipe.over_voltage_v,
        )
        target = self.encode_fields(action, {"charge_target_c": target_c})
        await self.write_fields(action, field(SPEC, "charge_target_c").address(), target)
        voltages: list[float] = []
        flowing: list[float] = []  # the current readings taken before the charge's end
        await self.supply.run_list(action)

        async def poll() -> CellStatus | None:
            current_a, voltage_v, tripped = await self.supply.measure_watched(action)
            status = await self.traced_status()
            voltages.append(voltage_v)
            if status.phase is CellPhase.FAULT or tripped:
                await self.supply.abort()
                await self.refresh_alarms()
                raise self.alarm_error(action)
            if status.charge_reached:
                return status
            flowing.append(current_a)
            return None

        await self.supply.wait_operation(
            action,
            poll,
            timeout_s,
            lambda: f"{flowing[-1] if flowing else 0:g} A flowing, charge not reached",
            owner=self,
        )
        await self.supply.switch_output(action, on=False)
        status = await self.request_status()
        bath_temperature_c = await self.request_bath_temperature_c()
        charge_c, on_s = status.immersion_charge_c, status.current_on_s
        per_c = METALS[recipe.metal].thickness_per_charge_um_cm2_per_c()
        supply_a = sum(flowing) / len(flowing) if flowing else 0.0
        mean_current_a = supply_a or (charge_c / on_s if on_s > 0 else 0.0)
        return PlatingResult(
            wafer_id=wafer_id,
            metal=recipe.metal,
            charge_c=charge_c,
            supply_charge_c=supply_a * on_s,
            current_on_s=on_s,
            mean_current_a=mean_current_a,
            peak_voltage_v=max(voltages, default=0.0),
            plated_area_cm2=area_cm2,
            # to the six digits the readings carry, so a density at a window's end reads there
            current_density_a_dm2=float(f"{mean_current_a / area_cm2 * 100.0:.6g}"),
            charge_thickness_um=charge_c * recipe.efficiency * per_c / area_cm2,
            measured_thickness_um=(),
            bath_temperature_c=bath_temperature_c,
            bath_age_ah=status.bath_age_ah,
        )

    async def _wait_for_bath(self, action: str, bath_c: float) -> None:
        """Poll the cell (for a fault) and the heater until the bath is within
        `BATH_TOLERANCE_C` of `bath_c`."""
        temperatures: list[float] = []

        async def poll() -> float | None:
            await self.check_fault(action, await self.traced_status())
            temperatures.append(await self.request_bath_temperature_c())
            return temperatures[-1] if abs(temperatures[-1] - bath_c) <= BATH_TOLERANCE_C else None

        await self.wait_until(
            action,
            poll,
            BATH_SETTLE_TIMEOUT_S,
            lambda: f"bath at {temperatures[-1]:g} degC, not yet {bath_c:g}",
        )

    async def _settled_status(self, action: str) -> CellStatus:
        """The status once the holder has stopped moving (after an abort or a reset)."""
        seen = await self.wait_status(
            action,
            lambda s: s.phase not in (CellPhase.IMMERSING, CellPhase.WITHDRAWING),
            HOLDER_TIMEOUT_S,
        )
        return seen[-1]

    # ----------------------------------------------------------------- alarms and safety

    async def _clear_alarms(self) -> None:
        """Acknowledge the heater's alarms (the cell's over-temperature input), clear the
        cell's latched alarms and the supply's tripped protections."""
        await self.heater.acknowledge_alarms()
        await super()._clear_alarms()
        if await self.supply.request_alarms():
            await self.supply.reset()

    async def _command_safe_state(self) -> None:
        """The supply's output off, then ABORT (a wafer in the bath withdrawn and rinsed),
        confirmed by the holder back out of the bath, ready or faulted (`not_at_rest`, its
        `AT_REST`), so the next command meets a ready or faulted cell.

        The cell is aborted even when the supply cannot be reached; the supply's failure is
        raised after. The wait is bounded by `safe_state_timeout_s` of process time.
        """
        try:
            await self.supply.abort()
        finally:
            await super()._command_safe_state()
