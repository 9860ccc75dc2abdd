"""The plasma cleaner role on a GEM tool: the same `PlasmaCleaner` the sequences drive, over E30.

Which SVIDs, ECIDs, CEIDs, ALIDs and RCMDs carry what is the tool's dictionary
(`drivers/specs/gem/plasma_cleaner.yaml` for the simulated chamber; docs/protocols/
gem-plasma-cleaner.md). The door and the slots are remote commands answered at once; a
pump-down, a vent and a run are remote commands answered HCACK 4 whose end is a collection event
(`pumped_down`, `vented`, `run_ended` with the run's result and process time): no polling, and a
pushed alarm ends the wait at once. The recipe is five equipment constants, one element a step
(S2F15, refused out of the tool's range). While the chamber pumps, runs or vents, the tool traces
its pressure, RF forward and reflected power and gas flow every `poll_interval_s` of its time,
the station's poll interval and the Modbus driver's trace rate (S2F23), `TRACE_GROUP` samples a
report (S6F1), and each sample is recorded as the Modbus driver records its polls: the same trace
names and units, at the sample's time. The limits, the wait allowances
and the run's checks are the Modbus driver's (`drivers/plasma_cleaner.py`): the process window is
the role's, whatever wire carries it.
"""

from __future__ import annotations

from ..plasma_cleaner import RECIPE_TIMEOUT_MARGIN_S, ModbusPlasmaCleaner
from ..roles.plasma_cleaner import (
    ChamberState,
    CleanResult,
    Gas,
    PlasmaCleaner,
    PlasmaRecipe,
    PlasmaStatus,
)
from ..specs.plasma_cleaner import MAX_SLOTS, SPEC
from .batch import slot_names
from .chamber import CHAMBER_COMMANDS, GemChamberTool
from .dictionary import GemNeeds
from .plc import traced_as

#: The recipe's equipment constants (one element a step), by the step field each one sets.
RECIPE_CONSTANTS = {
    "gas": "step_gas",
    "flow_sccm": "step_flow_sccm",
    "pressure_mtorr": "step_pressure_mtorr",
    "rf_power_w": "step_rf_power_w",
    "time_s": "step_time_s",
}
#: The status variables of `PlasmaStatus`, in its order.
STATUS = (
    "chamber_state",
    "pressure_mtorr",
    "rf_forward_w",
    "rf_reflected_w",
    "gas_flow_sccm",
    "gas",
    "step",
    "step_remaining_s",
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
        "rf_forward_w": "RF_FORWARD",
        "rf_reflected_w": "RF_REFLECTED",
        "gas_flow_sccm": "GAS_FLOW",
    },
)
#: Samples a trace report carries (REPGSZ): one S6F1 every this many periods.
TRACE_GROUP = 10


class GemPlasmaCleaner(GemChamberTool, PlasmaCleaner):
    """Drives a plasma chamber that speaks GEM, by its dictionary."""

    spec = SPEC
    slots = SLOTS
    limits = ModbusPlasmaCleaner.limits
    traced = TRACED
    trace_group = TRACE_GROUP
    needs = GemNeeds(
        status_variables=(
            "serial_number",
            *STATUS,
            "elapsed_s",
            "last_result",
            "slot_capacity",
            *SLOTS,
            *SPEC.interlock_names,
        ),
        equipment_constants=tuple(RECIPE_CONSTANTS.values()),
        collection_events=("pumped_down", "vented", "run_ended"),
        remote_commands=CHAMBER_COMMANDS,
    )

    # ----------------------------------------------------------------- queries

    async def request_status(self) -> PlasmaStatus:
        values = dict(zip(STATUS, await self.request_values("read status", *STATUS), strict=True))
        gas = values["gas"]
        return PlasmaStatus(
            chamber=ChamberState[str(values["chamber_state"]).upper()],
            pressure_mtorr=float(values["pressure_mtorr"]),
            rf_forward_w=float(values["rf_forward_w"]),
            rf_reflected_w=float(values["rf_reflected_w"]),
            gas_flow_sccm=float(values["gas_flow_sccm"]),
            gas=None if gas == "none" else Gas(gas),
            step=int(values["step"]),
            step_remaining_s=float(values["step_remaining_s"]),
            door_closed=bool(values["door_closed"]),
            recipes_completed=int(values["recipes_completed"]),
        )

    # ----------------------------------------------------------------- the recipe

    async def clean(self, recipe: PlasmaRecipe) -> CleanResult:
        action = "clean"
        constants = self._recipe_constants(recipe)
        async with self.operation(action):
            await self.require_interlocks(action, SPEC.command_by_name["START_RECIPE"].interlocks)
            wafer_ids = tuple(w for w in await self.request_slots() if w is not None)
            await self.set_constants(f"{action}: set the recipe", constants)
            async with self.traced_every(self.poll_interval_s):
                with self.expect_event(action, "run_ended") as ended:
                    await self.command("start")
                    event = await self.wait_event(
                        action,
                        ended,
                        recipe.total_time_s + RECIPE_TIMEOUT_MARGIN_S,
                        lambda: f"recipe of {recipe.total_time_s:g} s not finished",
                    )
            values = await self.run_ended(action, event, "chamber_state", "recipe")
        return CleanResult(
            wafer_ids=wafer_ids,
            process_time_s=float(values["elapsed_s"]),
            steps=int(values["step"]),
        )

    def _recipe_constants(self, recipe: PlasmaRecipe) -> dict[str, tuple[float | str, ...]]:
        """The recipe as its constants, every step checked against the limits (`clean step
        <n>` names a refused one); nothing is sent here."""
        self.check_limit("clean", "steps", len(recipe.steps))
        constants: dict[str, list[float | str]] = {name: [] for name in RECIPE_CONSTANTS.values()}
        for index, step in enumerate(recipe.steps):
            constants["step_gas"].append(self.step_gas(index, step))
            for name in ("flow_sccm", "pressure_mtorr", "rf_power_w", "time_s"):
                value = self.check_limit(f"clean step {index + 1}", name, getattr(step, name))
                constants[RECIPE_CONSTANTS[name]].append(value)
        return {name: tuple(values) for name, values in constants.items()}
