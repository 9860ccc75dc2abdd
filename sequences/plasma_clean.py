"""Method "plasma-clean": clean the exposed metal of each wafer in the plasma chamber (claim 003).

003:7.3 cleans the bump surfaces that project from the resin film; 003:12 does it with a
plasma, under reduced pressure (003:17), at wafer level (003:22). The recipe's gas sequence
selects the dependent claim: O2 removes resin residue (003:10), Ar sputter-etches oxide
(003:11, 003:13), O2 then Ar is 003:14, O2 then forming gas 003:15; every cycle activates the
exposed metal (003:9).

Every gas step's flow, pressure, RF power and time is checked against the chamber's limits
(the station's, or the driver's defaults) before any tool moves; after a dry run the claim
check looks for residue and oxide left on the exposed metal of every site, and activation.

The chamber is a batch tool: wafers gather in batches of up to its slot count; each batch
runs one chamber cycle. The plasma step is irreversible (a second O2 exposure etches resin
and regrows oxide), so a run cut off during it holds the batch's wafers for an operator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Self

from pydantic import Field

from packline.drivers.roles.batch import BatchTool
from packline.drivers.roles.plasma_cleaner import (
    O2_OXIDE_SATURATION_NM,
    O2_RESIN_UM_PER_MIN,
    OXIDE_REMOVAL_NM_PER_MIN,
    RESIDUE_NM_PER_WS,
    Gas,
    PlasmaCleaner,
    PlasmaRecipe,
    PlasmaStep,
    at_power,
    oxide_after_nm,
)
from packline.sequences.conditions import (
    CLEAN_NM,
    exposed_metal_activated,
    left_clean,
)
from packline.sequences.engine import (
    Batch,
    Condition,
    Feeds,
    Handling,
    Recipe,
    Wafer,
    claim_violation,
    least_whole,
    method,
    recipe_check,
)
from packline.sequences.engine.recipe_meta import WAITS_A_DAY_AT_MOST, tool_range
from packline.sim_instruments.physics.laser import oxidises
from packline.sim_instruments.twin import WaferSpec, most_incoming_residue_nm
from packline.sim_instruments.twin.resolution import MAP_STEP
from packline.units import Unit

#: How far below the claim check's `CLEAN_NM` the oxide or residue a cleaning leaves must be
#: worked out to be: the twin keeps them on its map grid (`MAP_STEP`), in single precision.
CLEAN_MARGIN_NM = MAP_STEP
#: How far the chamber's reported process time may differ from the recipe's.
PROCESS_TIME_TOLERANCE = 0.01
#: The tool role whose setpoints a plasma step feeds.
CHAMBER = "plasma_cleaner"


class PlasmaStepRecipe(Recipe):
    """One plasma step: gas, flow, pressure, RF power and time (the chamber's process window)."""

    gas: Gas
    flow_sccm: Annotated[float, Unit("sccm"), Feeds(CHAMBER, "flow_sccm")]
    pressure_mtorr: Annotated[float, Unit("mTorr"), Feeds(CHAMBER, "pressure_mtorr")]
    rf_power_w: Annotated[float, Unit("W"), Feeds(CHAMBER, "rf_power_w")]
    time_s: Annotated[float, Unit("s"), Feeds(CHAMBER, "time_s")]


@dataclass(frozen=True)
class GasEtch:
    """What the steps of one gas of a plasma recipe take off, each at the line's rate at its
    power (per minute, in the rate's unit), and the last of them, whose time a refusal asks to
    lengthen."""

    removed: float
    last: int  # the last step's index in the recipe's steps
    last_rate_per_min: float
    last_time_s: float
    last_power_w: float

    def least_last_s(self, needed: float) -> int:
        """The least time of the last step, in whole seconds, for the steps to take `needed`
        off (the others as they are)."""
        others = self.removed - self.last_rate_per_min * self.last_time_s / 60
        return math.ceil((needed - others) / self.last_rate_per_min * 60 - 1e-9)

    def removed_with_last_s(self, last_s: float) -> float:
        """What the steps take off with the last one lasting `last_s` (the others as they
        are)."""
        return self.removed + self.last_rate_per_min * (last_s - self.last_time_s) / 60

    def most_last_s(self, most: float) -> int:
        """The most time of the last step, in whole seconds, for the steps to take no more
        than `most` off (the others as they are)."""
        others = self.removed - self.last_rate_per_min * self.last_time_s / 60
        return max(math.floor((most - others) / self.last_rate_per_min * 60 - 1e-9), 0)

    def short_of(self, claim: str, steps_path: str, needed: float, why: str) -> Exception:
        """The refusal of `claim` of the last step's time (in the steps at `steps_path`), `why`
        what the steps take off is short of `needed`, with the least time; past the
        chamber's longest step, with what is left for another step of the gas."""
        least_s = self.least_last_s(needed)
        steps_s = tool_range(CHAMBER, "time_s")
        advice = f"give at least {least_s} s"
        if least_s > steps_s.maximum:
            rest_s = max(least_s - steps_s.maximum, steps_s.minimum)
            advice = (
                f"it needs {least_s} s, longer than the chamber's longest step "
                f"({steps_s.maximum:g} s): give {steps_s.maximum:g} s and another step of the "
                f"same gas after it, of at least {rest_s:g} s at {self.last_power_w:g} W"
            )
        return claim_violation(
            claim, f"{steps_path}.{self.last}.time_s", self.given, f"{why}: {advice}"
        )

    def long_by(self, claim: str, steps_path: str, most: float, why: str) -> Exception:
        """The refusal of `claim` of the last step's time (in the steps at `steps_path`), `why`
        what the steps take off is more than `most`, with the most time."""
        return claim_violation(
            claim,
            f"{steps_path}.{self.last}.time_s",
            self.given,
            f"{why}: give at most {self.most_last_s(most)} s",
        )

    @property
    def given(self) -> str:
        """The last step's time, as a refusal shows it."""
        return f"{self.last_time_s:g} s"


class PlasmaCleanRecipe(Recipe):
    """003:12: the plasma steps of one chamber cycle, and batching (plasma-clean's recipe, its
    steps judged against the incoming pads, is `PadPlasmaCleanRecipe`)."""

    steps: Annotated[list[PlasmaStepRecipe], Field(min_length=1), Feeds(CHAMBER, "steps", len)]
    batch_timeout_s: Annotated[float, Unit("s"), Field(gt=0, le=24 * 3600), WAITS_A_DAY_AT_MOST] = (
        600.0
    )

    def plasma_recipe(self) -> PlasmaRecipe:
        return PlasmaRecipe(
            tuple(
                PlasmaStep(s.gas, s.flow_sccm, s.pressure_mtorr, s.rf_power_w, s.time_s)
                for s in self.steps
            )
        )

    def etch_of(self, gas: Gas, rates: tuple[float, float]) -> GasEtch | None:
        """What the steps of `gas` take off at `rates` (stated at the two `RATE_POWERS_W`),
        each at its power; None if no step runs `gas`."""
        of_gas = [index for index, step in enumerate(self.steps) if step.gas is gas]
        if not of_gas:
            return None
        removed = sum(
            at_power(rates, self.steps[index].rf_power_w) * self.steps[index].time_s / 60
            for index in of_gas
        )
        last = self.steps[of_gas[-1]]
        rate = at_power(rates, last.rf_power_w)
        return GasEtch(removed, of_gas[-1], rate, last.time_s, last.rf_power_w)

    def resin_etched_um(self) -> float:
        """What the O2 steps take off a resin's top, each at the line's rate at its power
        (`O2_RESIN_UM_PER_MIN`); none without an O2 step."""
        o2 = self.etch_of(Gas.O2, O2_RESIN_UM_PER_MIN)
        return 0.0 if o2 is None else o2.removed

    def require_oxide_removed(
        self, oxide_nm: float, *, oxidises: bool, claim: str, steps_path: str, metal: str
    ) -> None:
        """Refuse steps that leave oxide on the exposed `metal` (which brings `oxide_nm` into
        the chamber and `oxidises` in O2, or not): step by step at the line's rates
        (`oxide_after_nm`), at most `CLEAN_NM` may be left, or `claim` fails at every site.
        The refusal names the last Ar or forming-gas step (in the steps at `steps_path`) and
        its least time, or the O2 step that grows the oxide back after it. Steps without Ar
        or forming gas claim no oxide removal and are not judged."""
        removers = [i for i, step in enumerate(self.steps) if step.gas in OXIDE_REMOVAL_NM_PER_MIN]
        if not removers:
            return
        last = removers[-1]

        def left_nm(last_s: float) -> tuple[float, float]:
            """The oxide left with the last remover lasting `last_s`, and before it."""
            oxide = before = oxide_nm
            for index, step in enumerate(self.steps):
                if index == last:
                    before = oxide
                time_s = last_s if index == last else step.time_s
                oxide = oxide_after_nm(oxide, step.gas, step.rf_power_w, time_s, oxidises=oxidises)
            return oxide, before

        def clean(oxide: float) -> bool:
            # clear of the claim check's bound by more than the twin's single precision
            return oxide <= CLEAN_NM - CLEAN_MARGIN_NM

        oxide, before_last = left_nm(self.steps[last].time_s)
        if clean(oxide):
            return
        regrown = [i for i in range(last + 1, len(self.steps)) if self.steps[i].gas is Gas.O2]
        if regrown:
            raise claim_violation(
                claim,
                f"{steps_path}.{regrown[0]}.gas",
                Gas.O2.value,
                f"O2 after the last {self.steps[last].gas.value} step "
                f"({steps_path}.{last}) grows the oxide on {metal} back, {oxide:.3g} nm of it "
                f"(towards the line's {O2_OXIDE_SATURATION_NM:g} nm): clean the oxide off "
                f"after the O2, not before",
            )
        step = self.steps[last]
        rate = at_power(OXIDE_REMOVAL_NM_PER_MIN[step.gas], step.rf_power_w)
        # long enough to take all of it off passes; the oxide left falls with the time
        all_off_s = math.ceil(before_last / rate * 60) + 1
        least_s = least_whole(0, all_off_s, lambda last_s: clean(left_nm(last_s)[0]))
        grown = "" if before_last == oxide_nm else f", {before_last:.3g} nm after the O2"
        raise claim_violation(
            claim,
            f"{steps_path}.{last}.time_s",
            f"{step.time_s:g} s",
            f"{metal} bring {oxide_nm:.3g} nm of oxide{grown}; {step.gas.value} at "
            f"{step.rf_power_w:g} W takes it off at the line's {rate:.3g} nm/min, leaving "
            f"{oxide:.3g} nm (at most {CLEAN_NM:g} nm may stay): give at least {least_s} s",
        )

    def require_residue_removed(
        self, residue_nm: float, *, claim: str, steps_path: str, metal: str
    ) -> None:
        """Refuse steps that leave organic residue on the exposed `metal`, which brings up to
        `residue_nm` into the chamber: every step takes it off at its gas's line's rate per
        W·s (`RESIDUE_NM_PER_WS`), to at most `CLEAN_NM`, or `claim` fails. The refusal
        names the last step (lengthening it grows no oxide back after an Ar or forming-gas
        step) and its least time."""
        last = len(self.steps) - 1

        def removed_nm(last_s: float) -> float:
            return sum(
                RESIDUE_NM_PER_WS[step.gas]
                * step.rf_power_w
                * (last_s if index == last else step.time_s)
                for index, step in enumerate(self.steps)
            )

        def clean(last_s: float) -> bool:
            return residue_nm - removed_nm(last_s) <= CLEAN_NM - CLEAN_MARGIN_NM

        step = self.steps[last]
        if clean(step.time_s):
            return
        rate = RESIDUE_NM_PER_WS[step.gas] * step.rf_power_w
        # long enough to take all of it off by itself passes; the residue left falls with it
        least_s = least_whole(0, step.time_s + math.ceil(residue_nm / rate) + 1, clean)
        raise claim_violation(
            claim,
            f"{steps_path}.{last}.time_s",
            f"{step.time_s:g} s",
            f"{metal} bring up to {residue_nm:.4g} nm of residue; the steps take "
            f"{removed_nm(step.time_s):.4g} nm off at the line's rates ({step.gas.value} "
            f"{RESIDUE_NM_PER_WS[step.gas]:g} nm per W·s, at {step.rf_power_w:g} W), at most "
            f"{CLEAN_NM:g} nm may stay: give at least {least_s} s",
        )

    def claims(self) -> tuple[str, ...]:
        """The dependent claims this gas sequence carries out."""
        gases = [step.gas for step in self.steps]
        claims = ["003:7.3", "003:8", "003:9", "003:12", "003:17", "003:22"]
        if Gas.O2 in gases:
            claims.append("003:10")
        if Gas.AR in gases:
            claims += ["003:11", "003:13"]
        if Gas.O2 in gases and Gas.AR in gases[gases.index(Gas.O2) :]:
            claims.append("003:14")
        if Gas.O2 in gases and Gas.FORMING_GAS in gases[gases.index(Gas.O2) :]:
            claims += ["003:11", "003:15"]
        return tuple(dict.fromkeys(claims))


class PadPlasmaCleanRecipe(PlasmaCleanRecipe):
    """003:12: the plasma steps of one chamber cycle, and batching (the recipe of
    plasma-clean): its steps must take off what the incoming wafers bring to the chamber on
    their pads (`WaferSpec`'s: the most residue at any site, the oxide), at the line's rates,
    as bump-seal-clean's cleaning must take off what its bump tips bring; else a claim fails
    at every site of every wafer, on real tools unseen (the chamber measures its process time,
    nothing measures the pads)."""

    @recipe_check
    def _residue_cleaned_off_the_pads(self) -> Self:
        """003:10 (`require_residue_removed`); judged before the oxide, on the same last step."""
        spec = WaferSpec()
        self.require_residue_removed(
            most_incoming_residue_nm(spec),
            claim="003:10",
            steps_path="steps",
            metal=f"the incoming wafers' {spec.pad_metal} pads",
        )
        return self

    @recipe_check
    def _oxide_cleaned_off_the_pads(self) -> Self:
        """003:11 (`require_oxide_removed`): the oxide the pads bring and what O2 grows."""
        spec = WaferSpec()
        self.require_oxide_removed(
            spec.oxide_nm,
            oxidises=oxidises(spec.pad_metal),
            claim="003:11",
            steps_path="steps",
            metal=f"the incoming wafers' {spec.pad_metal} pads",
        )
        return self


def claim_checks(recipe: PlasmaCleanRecipe) -> list[Condition]:
    """What the cleaned product must show, whatever its gases (as bump-seal-clean's cleaning
    is judged, `left_clean`): activated exposed metal (003:9), and no residue (003:10) and no
    oxide (003:11) on it: an O2-only clean that grows oxide fails 003:11."""
    return [exposed_metal_activated("003:9"), *left_clean(tips=False)]


#: Where each claim of the method is implemented (`packline claims`).
CLAIM_MAP = {
    "003:7.3": "step 'plasma clean': the exposed pads or bump tips, in the plasma chamber",
    "003:8": "step 'plasma clean' removes residue and oxide; claim check: none left (003:10/11)",
    "003:9": "step 'plasma clean' (RF dose activates); claim check: exposed metal activated",
    "003:10": "recipe option steps[].gas = O2, step 'plasma clean'; "
    "claim check: no residue on the exposed metal",
    "003:11": "recipe option steps[].gas = Ar or forming-gas, step 'plasma clean'; "
    "claim check: no oxide on the exposed metal",
    "003:12": "step 'plasma clean' in the plasma chamber",
    "003:13": "recipe option steps[].gas = Ar (sputter etch), step 'plasma clean'",
    "003:14": "recipe option steps: O2 then Ar, step 'plasma clean'",
    "003:15": "recipe option steps: O2 then forming-gas (plasma-clean-forming-gas.yaml), "
    "step 'plasma clean'",
    "003:17": "step 'pump down' and step 'plasma clean': reduced pressure, inert or reducing gas",
    "003:22": "step 'plasma clean' on whole wafers (a batch of them per chamber cycle)",
}

TWIN_METRICS = {
    "residue": ("nm", lambda w: float(w.surface.residue_nm.max())),
    "oxide": ("nm", lambda w: float(w.surface.oxide_nm.max())),
}


@method(
    name="plasma-clean",
    title="Plasma-clean the exposed pads or bump tips of each wafer (O2 then Ar)",
    claims=(
        "003:7.3",
        "003:8",
        "003:9",
        "003:10",
        "003:11",
        "003:12",
        "003:13",
        "003:14",
        "003:15",
        "003:17",
        "003:22",
    ),
    recipe=PadPlasmaCleanRecipe,
    tools=("plasma_cleaner",),
    irreversible=("plasma clean",),
    default_recipe="plasma-clean.yaml",
    twin_metrics=TWIN_METRICS,
    claim_checks=claim_checks,
    claim_map=CLAIM_MAP,
)
async def plasma_clean(wafer: Wafer, recipe: PlasmaCleanRecipe) -> None:
    """Each wafer joins a chamber batch; the batch runs one chamber cycle."""
    await wafer.batch(PlasmaCleaner, chamber_cycle, recipe, timeout_s=recipe.batch_timeout_s)


async def chamber_cycle(
    batch: Batch[PlasmaCleaner],
    recipe: PlasmaCleanRecipe,
    process: str = "plasma clean",
    claims: tuple[str, ...] | None = None,
) -> None:
    """Load, close, pump down, plasma, vent, unload: once for every wafer of the batch. The
    plasma step is named `process` and tagged with `claims`; by default it is the cleaning of
    003, tagged with the claims of its gas sequence, the pump-down with 003:17."""
    chamber = batch.tool
    await batch.step("open door", chamber.open_door)
    await batch.step("load", load_wafers, chamber, batch.wafer_ids, handling=Handling.LOAD)
    await batch.confirm(f"wafers {', '.join(batch.wafer_ids)} seated in the chamber slots")
    await batch.step("close door", chamber.close_door)
    await batch.step("pump down", chamber.pump_down, claims=("003:17",) if claims is None else ())
    await batch.step(
        process, clean, batch, chamber, recipe, claims=recipe.claims() if claims is None else claims
    )
    await batch.step("vent", chamber.vent)
    await batch.step("open door", chamber.open_door)
    await batch.step("unload", unload_wafers, chamber, batch.wafer_ids, handling=Handling.UNLOAD)


async def load_wafers(tool: BatchTool, wafer_ids: list[str]) -> None:
    """Load the batch's wafers into any batch tool's slots, one by one."""
    for wafer_id in wafer_ids:
        await tool.load(wafer_id)


async def unload_wafers(tool: BatchTool, wafer_ids: list[str]) -> None:
    """Unload the batch's wafers from any batch tool, one by one."""
    for wafer_id in wafer_ids:
        await tool.unload(wafer_id)


async def clean(
    batch: Batch[PlasmaCleaner], chamber: PlasmaCleaner, recipe: PlasmaCleanRecipe
) -> None:
    """Run the plasma recipe; the chamber's own process time must match the recipe's."""
    plasma = recipe.plasma_recipe()
    result = await chamber.clean(plasma)
    total = plasma.total_time_s
    batch.measure(
        "plasma process time",
        result.process_time_s,
        "s",
        low=total * (1 - PROCESS_TIME_TOLERANCE),
        high=total * (1 + PROCESS_TIME_TOLERANCE),
    )


__all__ = [
    "PadPlasmaCleanRecipe",
    "PlasmaCleanRecipe",
    "PlasmaStepRecipe",
    "claim_checks",
    "plasma_clean",
]
