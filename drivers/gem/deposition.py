"""The deposition role on a GEM tool: the same `DepositionTool` the sequences drive, over E30.

Which SVIDs, ECIDs, CEIDs, ALIDs and RCMDs carry what is the tool's dictionary
(`drivers/specs/gem/deposition.yaml` for the simulated chamber; docs/protocols/
gem-deposition.md). The door and the slots are remote commands answered at once; a pump-down,
a vent, the wait for a recipe's base pressure and a run are remote commands answered HCACK 4
whose end is a collection event (`pumped_down`, `vented`, `base_pressure_reached`, `run_ended`
with the run's result, process time and each step's film; a run tells each step's start and
end too): no polling, and a pushed alarm ends the wait at once. The recipe is nine equipment
constants, one element a step, and its base pressure (S2F15, refused out of the tool's range).

While the chamber pumps, runs or vents, the tool traces its pressure, high vacuum, source power,
gas flow and crystal monitor every `poll_interval_s` of its time (the station's poll interval,
the Modbus driver's poll and trace rate), while it pumps on to a base pressure every `HOLD_S`,
as often as the Modbus driver's held reads sample it then at least; `TRACE_GROUP` samples a
report (S2F23, S6F1; each sample a report while it pumps on to a base pressure), each sample
recorded as the Modbus driver records its polls, under the same names and units, at its time.
The limits, the recipe's checks and the wait allowances are the Modbus driver's
(`drivers/deposition.py`, the role's rules).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..deposition import (
    BASE_PRESSURE_TIMEOUT_S,
    RECIPE_TIMEOUT_MARGIN_S,
    ModbusDepositionTool,
)
from ..equipment import HOLD_S
from ..roles.deposition import (
    ChamberState,
    DepositionRecipe,
    DepositionResult,
    DepositionStatus,
    DepositionTool,
    Material,
    Method,
    Source,
    above_base_pressure,
)
from ..specs.deposition import MAX_SLOTS, SPEC
from .batch import slot_names
from .chamber import CHAMBER_COMMANDS, GemChamberTool
from .dictionary import GemNeeds
from .plc import traced_as

#: The recipe's equipment constants (one element a step), by the step setting each one sets.
RECIPE_CONSTANTS = {
    "method": "step_method",
    "material": "step_material",
    "power_w": "step_power_w",
    "rate_nm_s": "step_rate_nm_s",
    "pressure_mtorr": "step_pressure_mtorr",
    "gas": "step_gas",
    "flow_sccm": "step_flow_sccm",
    "time_s": "step_time_s",
    "thickness_nm": "step_thickness_nm",
}
#: The status variables of `DepositionStatus`, in its order.
STATUS = (
    "chamber_state",
    "pressure_mtorr",
    "high_vacuum_utorr",
    "source_power_w",
    "gas_flow_sccm",
    "method",
    "material",
    "step",
    "step_remaining_s",
    "film_thickness_nm",
    "rate_nm_s",
    "crystal_life_pct",
    "door_closed",
    "recipes_completed",
)
#: The wafer id of each slot, by slot.
SLOTS = slot_names(MAX_SLOTS)
#: The traced status variables, each recorded as the Modbus map's status of that name (its
#: `trace` name and unit).
TRACED = traced_as(
    SPEC,
    {
        "pressure_mtorr": "PRESSURE",
        "high_vacuum_utorr": "HIGH_VACUUM",
        "source_power_w": "SOURCE_POWER",
        "gas_flow_sccm": "GAS_FLOW",
        "film_thickness_nm": "FILM_THICKNESS",
        "rate_nm_s": "DEPOSITION_RATE",
    },
)
#: Samples a trace report carries (REPGSZ): a minute of a run at the line's 1 s a report; the
#: steps, the end and the alarms are pushed at once whatever the group.
TRACE_GROUP = 60
#: Samples a report of the trace of the wait for a base pressure (one every `HOLD_S`): each
#: reported as it is taken, so the host knows the high vacuum as the Modbus driver's held reads
#: know it, at most `HOLD_S` old, and a timeout names the last one (docs/decisions/0101).
BASE_PRESSURE_TRACE_GROUP = 1


class GemDeposition(GemChamberTool, DepositionTool):
    """Drives a deposition chamber that speaks GEM, by its dictionary."""

    spec = SPEC
    slots = SLOTS
    limits = ModbusDepositionTool.limits
    traced = TRACED
    trace_group = TRACE_GROUP
    needs = GemNeeds(
        status_variables=(
            "serial_number",
            *STATUS,
            "elapsed_s",
            "last_result",
            "step_films_nm",
            "source_method",
            "source_material",
            "slot_capacity",
            *SLOTS,
            *SPEC.interlock_names,
        ),
        equipment_constants=(*RECIPE_CONSTANTS.values(), "base_pressure_utorr"),
        collection_events=("pumped_down", "base_pressure_reached", "vented", "run_ended"),
        remote_commands={**CHAMBER_COMMANDS, "pump_to_base": ()},
    )

    # ----------------------------------------------------------------- queries

    async def request_status(self) -> DepositionStatus:
        values = dict(zip(STATUS, await self.request_values("read status", *STATUS), strict=True))
        method, material = values["method"], values["material"]
        return DepositionStatus(
            chamber=ChamberState[str(values["chamber_state"]).upper()],
            pressure_mtorr=float(values["pressure_mtorr"]),
            high_vacuum_utorr=float(values["high_vacuum_utorr"]),
            source_power_w=float(values["source_power_w"]),
            gas_flow_sccm=float(values["gas_flow_sccm"]),
            method=None if method == "none" else Method(method),
            material=None if material == "none" else Material(material),
            step=int(values["step"]),
            step_remaining_s=float(values["step_remaining_s"]),
            film_thickness_nm=float(values["film_thickness_nm"]),
            rate_nm_s=float(values["rate_nm_s"]),
            crystal_life_pct=float(values["crystal_life_pct"]),
            door_closed=bool(values["door_closed"]),
            recipes_completed=int(values["recipes_completed"]),
        )

    async def request_sources(self) -> list[Source]:
        methods, materials = await self.request_values(
            "read sources", "source_method", "source_material"
        )
        return [
            Source(position, Method(method), Material(material))
            for position, (method, material) in enumerate(zip(methods, materials, strict=True))
        ]

    async def request_film_thickness_nm(self) -> float:
        (thickness_nm,) = await self.request_values("read film thickness", "film_thickness_nm")
        return float(thickness_nm)

    # ----------------------------------------------------------------- the recipe

    async def deposit(self, recipe: DepositionRecipe) -> DepositionResult:
        action = "deposit"
        constants = self._recipe_constants(recipe)
        async with self.operation(action):
            await self.require_sources(action, recipe)
            wafer_ids = tuple(w for w in await self.request_slots() if w is not None)
            await self.set_constants(f"{action}: set the recipe", constants)
            await self._wait_base_pressure(action, recipe.base_pressure_utorr)
            await self.require_interlocks(action, SPEC.command_by_name["START_RECIPE"].interlocks)
            async with self.traced_every(self.poll_interval_s):
                with self.expect_event(action, "run_ended") as ended:
                    await self.command("start")
                    event = await self.wait_event(
                        action,
                        ended,
                        recipe.time_limit_s + RECIPE_TIMEOUT_MARGIN_S,
                        lambda: f"recipe of at most {recipe.time_limit_s:g} s not finished",
                    )
            values = await self.run_ended(action, event, "chamber_state", "recipe")
        films_nm = values["step_films_nm"][: len(recipe.steps)]
        return DepositionResult(
            wafer_ids=wafer_ids,
            process_time_s=float(values["elapsed_s"]),
            thickness_nm=tuple(float(film_nm) for film_nm in films_nm),
        )

    def _recipe_constants(self, recipe: DepositionRecipe) -> dict[str, Any]:
        """The recipe as its constants: its steps and base pressure checked against the
        limits, every step against its method (the role's rules, in the Modbus driver's
        order); nothing is sent here."""
        action = "deposit"
        self.check_limit(action, "steps", len(recipe.steps))
        base = self.check_limit(action, "base_pressure_utorr", recipe.base_pressure_utorr)
        settings = [  # each step's setpoints held, in the map's order, as Modbus's
            {
                name: value
                if isinstance(value, str)
                else self.check_limit(f"{action} step {index + 1}", name, float(value))
                for name, value in step.items()
            }
            for index, step in enumerate(self.step_settings(action, recipe))
        ]
        constants: dict[str, Any] = {
            constant: tuple(step[name] for step in settings)
            for name, constant in RECIPE_CONSTANTS.items()
        }
        constants["base_pressure_utorr"] = base
        return constants

    async def _wait_base_pressure(self, action: str, base_pressure_utorr: float) -> None:
        """Wait until the high vacuum reaches the recipe's base pressure (`pump_to_base`,
        ended by `base_pressure_reached`), traced every `HOLD_S` as the Modbus driver's held
        reads sample it at least, each sample a report (the last sample as it is reached);
        refused unless the chamber is evacuated, at once if it is there already."""
        status = await self.request_status()
        await self.require_evacuated(action, status)
        if status.high_vacuum_utorr <= base_pressure_utorr:
            return
        latest: dict[str, float] = {"high_vacuum_utorr": status.high_vacuum_utorr}

        def sampled(_: float, values: Mapping[str, float]) -> None:
            latest.update(values)

        def still() -> str:
            return above_base_pressure(latest["high_vacuum_utorr"], base_pressure_utorr)

        async with self.traced_every(
            max(HOLD_S, self.poll_interval_s), sampled, group_size=BASE_PRESSURE_TRACE_GROUP
        ):
            with self.expect_event(action, "base_pressure_reached") as reached:
                if await self.command("pump_to_base") == 4:
                    await self.wait_event(action, reached, BASE_PRESSURE_TIMEOUT_S, still)
