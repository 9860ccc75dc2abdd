"""Plasma cleaner over Modbus TCP (or RTU): the PLC register map of the protocol page
`docs/protocols/plasma-cleaner.md`.

The map (the status block, the serial number and slot wafer id blocks, the recipe block, the
command register and its parameters) is declared once in
`packline.drivers.specs.plasma_cleaner`; the family's driver bases (`ModbusPlcDriver`, and
`BatchPlcDriver` for the slots and the door) read, encode and explain from it. This file keeps
the chamber's process: the pump-down, the recipe run, the vent, the waits and the safe state
(RF off, gases closed). Byte-level tests pin it to the page.
"""

from __future__ import annotations

from collections.abc import Mapping

from .errors import ToolAlarm
from .families.modbus_plc import BatchPlcDriver, command_enum, field, reason_enum
from .roles.plasma_cleaner import (
    ChamberState,
    CleanResult,
    Gas,
    LastResult,
    PlasmaCleaner,
    PlasmaRecipe,
    PlasmaStatus,
)
from .specs.plasma_cleaner import SPEC, STEP_STRIDE

#: The map's command codes and "why refused" codes, named as the spec names them.
Command = command_enum(SPEC)
CommandError = reason_enum(SPEC)

__all__ = ["Command", "CommandError", "LastResult", "ModbusPlasmaCleaner"]

#: Process-time allowances for the chamber cycle, beyond which a wait is a timeout.
PUMP_DOWN_TIMEOUT_S = 600.0
VENT_TIMEOUT_S = 300.0
RECIPE_TIMEOUT_MARGIN_S = 120.0


class ModbusPlasmaCleaner(BatchPlcDriver[PlasmaStatus], PlasmaCleaner):
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

    # ----------------------------------------------------------------- commands

    async def _wait_chamber(
        self, action: str, target: ChamberState, timeout_s: float
    ) -> PlasmaStatus:
        """Poll until the chamber reaches `target`; an alarm or a timeout ends the wait.

        A pump that never gets there is stopped (`wait_until` aborts): the chamber vents.
        """
        status: PlasmaStatus  # the latest, for the timeout message

        async def poll() -> PlasmaStatus | None:
            nonlocal status
            status = await self.traced_status()
            if status.chamber is target:
                return status
            if status.chamber is ChamberState.FAULT:
                await self.refresh_alarms()
                raise self.alarm_error(action)
            return None

        return await self.wait_until(
            action, poll, timeout_s, lambda: f"chamber still {status.chamber.name.lower()}"
        )

    async def pump_down(self) -> None:
        async with self.operation("pump down"):
            await self.require_interlocks("pump down", SPEC.command_by_name["PUMP_DOWN"].interlocks)
            await self.command("pump down", "PUMP_DOWN")
            await self._wait_chamber("pump down", ChamberState.EVACUATED, PUMP_DOWN_TIMEOUT_S)

    async def vent(self) -> None:
        async with self.operation("vent"):
            await self.command("vent", "VENT")
            await self._wait_chamber("vent", ChamberState.VENTED, VENT_TIMEOUT_S)

    async def clean(self, recipe: PlasmaRecipe) -> CleanResult:
        action = "clean"
        step_count = self.encode(action, "steps", len(recipe.steps))
        steps = self._step_registers(recipe)
        async with self.operation(action):
            await self.require_interlocks(action, SPEC.command_by_name["START_RECIPE"].interlocks)
            wafer_ids = tuple(w for w in await self.request_slots() if w is not None)
            before = (await self.request_status()).recipes_completed
            await self.write_fields("write recipe", self._address("steps"), step_count)
            await self.write_fields("write recipe", self._address("gas"), steps)
            await self.command(action, "START_RECIPE")
            status = await self._wait_recipe(action, recipe, before)
            process_time_s = await self.read_status_value("ELAPSED")
        return CleanResult(
            wafer_ids=wafer_ids,
            process_time_s=process_time_s,
            steps=status.step,
        )

    @staticmethod
    def _address(name: str) -> int:
        return field(SPEC, name).address()

    async def _wait_recipe(self, action: str, recipe: PlasmaRecipe, before: int) -> PlasmaStatus:
        """Poll the run to its end; an overrunning run is aborted (RF and gas off)."""

        async def poll() -> PlasmaStatus | None:
            status = await self.traced_status()
            if status.chamber is ChamberState.FAULT:
                await self.refresh_alarms()
                raise self.alarm_error(action)
            if status.recipes_completed != before and status.chamber is ChamberState.EVACUATED:
                result = int(await self.read_status_value("LAST_RESULT"))
                if result != LastResult.COMPLETED:
                    raise ToolAlarm(
                        self.name,
                        self.address,
                        action,
                        [f"recipe ended {LastResult(result).name.lower()}"],
                    )
                return status
            return None

        return await self.wait_until(
            action,
            poll,
            recipe.total_time_s + RECIPE_TIMEOUT_MARGIN_S,
            lambda: f"recipe of {recipe.total_time_s:g} s not finished",
        )

    def _step_registers(self, recipe: PlasmaRecipe) -> list[int]:
        """Check every step against the limits and encode them, each `STEP_STRIDE` registers
        from the last (the unused ones 0, the last step's cut short); nothing is sent here."""
        registers: list[int] = []
        for index, step in enumerate(recipe.steps):
            action = f"clean step {index + 1}"
            try:
                gas = Gas(step.gas).value
            except ValueError:
                raise ValueError(
                    f"{self.name}: {action}: gas {step.gas!r} is not one of "
                    f"{', '.join(gas.value for gas in Gas)}"
                ) from None
            fields = self.encode_fields(
                action,
                {
                    "gas": gas,
                    "flow_sccm": step.flow_sccm,
                    "pressure_mtorr": step.pressure_mtorr,
                    "rf_power_w": step.rf_power_w,
                    "time_s": step.time_s,
                },
            )
            registers += fields + [0] * (STEP_STRIDE - len(fields))
        return registers[: len(registers) - STEP_STRIDE + len(fields)]

    # ----------------------------------------------------------------- alarms and safety

    async def _command_safe_state(self) -> None:
        """RF off and gases closed (the ABORT command): a run ends aborted, a pump-down vents."""
        await self.write_abort()
