"""Thin-film deposition tool over Modbus TCP (or RTU): the PLC register map of the protocol
page `docs/protocols/deposition.md`.

The map (the status block, the serial number, slot wafer id and source blocks, the crystal
monitor's per-step thicknesses, the recipe block, the command register and its parameters) is
declared once in `packline.drivers.specs.deposition`; the family's driver base reads, encodes
and explains from it, and the chamber's door, slots, pump-down and vent are the shared PLC
chamber's (`PlcChamberDriver`). This file keeps the deposition: the recipe's checks (limits,
each step against its method, a source for each), the wait for the base pressure, the run and
its crystal-monitor readings. Byte-level tests pin it to the page.
"""

from __future__ import annotations

from collections.abc import Mapping

from .families.chamber_map import MAX_STEPS, STEP_STRIDE
from .families.plc_chamber import PlcChamberDriver
from .families.plc_map import PlcStatus, command_enum, decoded, field, reason_enum
from .roles.deposition import (
    ChamberState,
    DepositionRecipe,
    DepositionResult,
    DepositionStatus,
    DepositionTool,
    LastResult,
    Material,
    Method,
    Source,
    above_base_pressure,
)
from .specs.deposition import MAX_SOURCES, SPEC

#: The map's command codes and "why refused" codes, named as the spec names them.
Command = command_enum(SPEC)
CommandError = reason_enum(SPEC)

__all__ = ["Command", "CommandError", "LastResult", "ModbusDepositionTool"]

#: How long the evacuated chamber may take to reach a recipe's base pressure (process time),
#: and how often the wait reads it when it polls (a PLC that does not hold its status read, or
#: one that answers it at once; the turbo takes minutes; the station's poll interval if that
#: is longer).
BASE_PRESSURE_TIMEOUT_S = 1800.0
BASE_PRESSURE_POLL_S = 10.0
#: How long after a recipe's time limit the driver gives up on it.
RECIPE_TIMEOUT_MARGIN_S = 120.0
#: The base pressure's setpoint (register 201, 0.1 uTorr): the wait judges the value written.
_BASE_PRESSURE = field(SPEC, "base_pressure_utorr")


class ModbusDepositionTool(PlcChamberDriver[DepositionStatus], DepositionTool):
    """Drives a deposition chamber PLC that implements the packline deposition register map."""

    spec = SPEC
    limits = SPEC.limits()

    # ----------------------------------------------------------------- queries

    def status_from(self, values: Mapping[str, float]) -> DepositionStatus:
        method = self.coded(values, "METHOD_ACTUAL")
        material = self.coded(values, "MATERIAL_ACTUAL")
        return DepositionStatus(
            chamber=self.member(values, "CHAMBER_STATE", ChamberState),
            pressure_mtorr=values["PRESSURE"],
            high_vacuum_utorr=values["HIGH_VACUUM"],
            source_power_w=values["SOURCE_POWER"],
            gas_flow_sccm=values["GAS_FLOW"],
            method=None if method == "none" else Method(method),
            material=None if material == "none" else Material(material),
            step=int(values["STEP_INDEX"]),
            step_remaining_s=values["STEP_REMAINING"],
            film_thickness_nm=values["FILM_THICKNESS"],
            rate_nm_s=values["DEPOSITION_RATE"],
            crystal_life_pct=values["CRYSTAL_LIFE"],
            door_closed=bool(values["DOOR_CLOSED"]),
            recipes_completed=int(values["RECIPES_COMPLETED"]),
        )

    async def request_sources(self) -> list[Source]:
        first = self.map.status_address(SPEC, "SOURCE_METHOD")
        block = await self.link.read_holding_registers(first, 2 * MAX_SOURCES)
        sources = []
        for position in range(MAX_SOURCES):
            method_code, material_code = block[2 * position : 2 * position + 2]
            if method_code == 0:
                continue
            codes = {"SOURCE_METHOD": method_code, "SOURCE_MATERIAL": material_code}
            material = self.coded(codes, "SOURCE_MATERIAL")
            if material == "none":
                raise self._off_the_map("SOURCE_MATERIAL", material_code)
            sources.append(
                Source(position, Method(self.coded(codes, "SOURCE_METHOD")), Material(material))
            )
        return sources

    async def request_film_thickness_nm(self) -> float:
        return await self.read_status_value("FILM_THICKNESS")

    # ----------------------------------------------------------------- the recipe

    async def deposit(self, recipe: DepositionRecipe) -> DepositionResult:
        action = "deposit"
        base = self.encode(action, "base_pressure_utorr", recipe.base_pressure_utorr)
        head = self.encode(action, "steps", len(recipe.steps)) + base
        steps = self._step_registers(recipe)
        async with self.operation(action):
            await self.require_sources(action, recipe)
            wafer_ids = tuple(w for w in await self.request_slots() if w is not None)
            before = (await self.request_status()).recipes_completed
            await self.write_fields("write recipe", self.setpoint_address("steps"), head)
            await self.write_fields("write recipe", self.setpoint_address("method"), steps)
            await self._wait_base_pressure(action, decoded(_BASE_PRESSURE, base))
            await self.require_interlocks(action, SPEC.command_by_name["START_RECIPE"].interlocks)
            await self.command(action, "START_RECIPE")
            await self.wait_run(
                action,
                before,
                recipe.time_limit_s + RECIPE_TIMEOUT_MARGIN_S,
                lambda: f"recipe of at most {recipe.time_limit_s:g} s not finished",
            )
            process_time_s = await self.read_status_value("ELAPSED")
            thickness_nm = await self._read_step_thicknesses(len(recipe.steps))
        return DepositionResult(
            wafer_ids=wafer_ids, process_time_s=process_time_s, thickness_nm=thickness_nm
        )

    def _step_registers(self, recipe: DepositionRecipe) -> list[int]:
        """Every step checked against its method and the limits, and encoded; nothing is sent
        here."""
        return self.encode_steps("deposit", self.step_settings("deposit", recipe), STEP_STRIDE)

    async def _wait_base_pressure(self, action: str, base_pressure_utorr: float) -> None:
        """Wait until the high vacuum reaches `base_pressure_utorr`, the recipe's base
        pressure as written (register 201, to its 0.1 uTorr), its reads held by the PLC
        (`wait_until_held`): the `base_pressure` interlock, which compares the ion gauge with
        that value, closes as it gets there, a counted change that answers the held read then
        (docs/decisions/0081). The wait judges as the interlock does, held or polled: against
        the recipe's own figure, a base pressure written rounded up (5.06 as 5.1) would not end
        it the scan the interlock closes, and one rounded down (5.04 as 5.0) would end it with
        the interlock open. The traces keep the wait's start, a sample at least every `HOLD_S`
        and the high vacuum at the crossing."""
        status: DepositionStatus  # the latest, for the timeout message

        async def poll() -> DepositionStatus | None:
            nonlocal status
            status = await self.traced_status()
            await self.require_evacuated(action, status)
            return status if status.high_vacuum_utorr <= base_pressure_utorr else None

        await self.wait_until_held(
            action,
            poll,
            BASE_PRESSURE_TIMEOUT_S,
            lambda: above_base_pressure(status.high_vacuum_utorr, base_pressure_utorr),
            interval_s=max(BASE_PRESSURE_POLL_S, self.poll_interval_s),
        )

    async def _read_step_thicknesses(self, count: int) -> tuple[float, ...]:
        entry = SPEC.status_by_name["STEP_THICKNESS"]
        assert isinstance(entry, PlcStatus)
        block = await self.link.read_holding_registers(entry.address(), MAX_STEPS)
        return tuple(raw / entry.scale for raw in block[:count])
