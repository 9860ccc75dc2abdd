"""Plasma cleaner over Modbus TCP (or RTU): the PLC register map of the protocol page
`docs/protocols/plasma-cleaner.md`.

The map (the status block, the serial number and slot wafer id blocks, the recipe block, the
command register and its parameters) is declared once in
`packline.drivers.specs.plasma_cleaner`; the family's driver base (`ModbusPlcDriver`) reads,
encodes and explains from it. This file keeps the chamber's process: the slots, the door, the
pump-down, the recipe run, the vent, the waits and the safe state (RF off, gases closed).
Byte-level tests pin it to the page.
"""

from __future__ import annotations

from collections.abc import Mapping

from .families.chamber_map import STEP_STRIDE
from .families.plc_chamber import PlcChamberDriver
from .families.plc_map import command_enum, field, reason_enum
from .roles.plasma_cleaner import (
    ChamberState,
    CleanResult,
    Gas,
    LastResult,
    PlasmaCleaner,
    PlasmaRecipe,
    PlasmaStatus,
)
from .specs.plasma_cleaner import SPEC

#: The map's command codes and "why refused" codes, named as the spec names them.
Command = command_enum(SPEC)
CommandError = reason_enum(SPEC)

__all__ = ["Command", "CommandError", "LastResult", "ModbusPlasmaCleaner"]

#: How long after a recipe should have finished the driver gives up on it.
RECIPE_TIMEOUT_MARGIN_S = 120.0


class ModbusPlasmaCleaner(PlcChamberDriver[PlasmaStatus], PlasmaCleaner):
    """Drives a plasma chamber PLC that implements the packline plasma cleaner register map."""

    spec = SPEC
    limits = SPEC.limits()

    # ----------------------------------------------------------------- queries

    def status_from(self, values: Mapping[str, float]) -> PlasmaStatus:
        gas = field(SPEC, "gas")
        return PlasmaStatus(
            chamber=self.member(values, "CHAMBER_STATE", ChamberState),
            pressure_mtorr=float(values["PRESSURE"]),
            rf_forward_w=float(values["RF_FORWARD"]),
            rf_reflected_w=float(values["RF_REFLECTED"]),
            gas_flow_sccm=float(values["GAS_FLOW"]),
            gas=Gas(text) if (text := gas.text_of(int(values["GAS_ACTUAL"]))) else None,
            step=int(values["STEP_INDEX"]),
            step_remaining_s=values["STEP_REMAINING"],
            door_closed=bool(values["DOOR_CLOSED"]),
            recipes_completed=int(values["RECIPES_COMPLETED"]),
        )

    # ----------------------------------------------------------------- the recipe

    async def clean(self, recipe: PlasmaRecipe) -> CleanResult:
        action = "clean"
        step_count = self.encode(action, "steps", len(recipe.steps))
        steps = self._step_registers(recipe)
        async with self.operation(action):
            await self.require_interlocks(action, SPEC.command_by_name["START_RECIPE"].interlocks)
            wafer_ids = tuple(w for w in await self.request_slots() if w is not None)
            before = (await self.request_status()).recipes_completed
            await self.write_fields("write recipe", self.setpoint_address("steps"), step_count)
            await self.write_fields("write recipe", self.setpoint_address("gas"), steps)
            await self.command(action, "START_RECIPE")
            status = await self.wait_run(
                action,
                before,
                recipe.total_time_s + RECIPE_TIMEOUT_MARGIN_S,
                lambda: f"recipe of {recipe.total_time_s:g} s not finished",
            )
            process_time_s = await self.read_status_value("ELAPSED")
        return CleanResult(
            wafer_ids=wafer_ids,
            process_time_s=process_time_s,
            steps=status.step,
        )

    def _step_registers(self, recipe: PlasmaRecipe) -> list[int]:
        """Every step checked against the limits and encoded; nothing is sent here."""
        steps: list[dict[str, float | str]] = []
        for index, step in enumerate(recipe.steps):
            steps.append(
                {
                    "gas": self.step_gas(index, step),
                    "flow_sccm": step.flow_sccm,
                    "pressure_mtorr": step.pressure_mtorr,
                    "rf_power_w": step.rf_power_w,
                    "time_s": step.time_s,
                }
            )
        return self.encode_steps("clean", steps, STEP_STRIDE)
