"""validate refuses a reflow the line would not join (`ReflowRecipe.require_joins`, shared by
every method's reflow): one whose load, lagging the oven's zones, stays above the liquidus
less than the recipe's `min_time_above_liquidus_s` (a Pb95Sn5 reflow peaking at 316 degC, 2 K
over the liquidus, held 1 s validated and held the wafer at 'reflow balls': 'time above
liquidus = 16.381 s, below the minimum of 20 s'), and a `min_time_above_liquidus_s` below the
line's wetting time (the run's own check would pass on balls the oven never joined). The least
values a refusal gives complete a lot of 2 with the claim check passed; one past is refused."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import NamedTuple

import pytest

from packline.drivers.roles.oven import REFLOW_WETTING_TIME_S, ThermalProfile
from packline.sequences.engine import OutOfLimits, RunStore
from packline.sequences.engine.recorder import EventLog, StepRecorder
from packline.sequences.engine.wafer import Batch
from packline.sequences.solder import ReflowRecipe, run_reflow, time_above_liquidus_s

from .helpers import reference_recipe, refusal, validated_lot_of_one

MOUNTED = "bump-seal-clean-solder-mounted.yaml"


def _short_reflow(hold: str, peak: str) -> dict:
    """bump-seal-clean's mounted Pb95Sn5 bumps reflowed at `peak` for `hold`."""
    recipe = reference_recipe(MOUNTED)
    recipe["bumps"]["reflow"].update(peak_c=peak, peak_hold_s=hold)
    return recipe


def test_a_reflow_too_short_above_the_liquidus_is_refused_with_the_least_hold_and_peak(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    error = refusal(capsys, tmp_path, "bump-seal-clean", _short_reflow("1 s", "316 degC"))
    assert error.endswith(
        ": bumps.reflow.peak_hold_s = 1 s: the load lags the oven's zones (the line's "
        "figures) and stays above the liquidus of Pb95Sn5 (314 degC) 3.9 s of this profile, "
        "short of the 20 s it must (min_time_above_liquidus_s, at least the line's wetting "
        "time): the run would hold the batch at its reflow, the balls unjoined; give at least "
        "15 s, or peak_c at least 318 degC (at this hold) (claim 003:7.1)\n"
    )


@pytest.mark.parametrize(
    ("hold", "peak"), [("14 s", "316 degC"), ("1 s", "317 degC")], ids=["hold", "peak"]
)
def test_one_past_the_least_hold_or_peak_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], hold: str, peak: str
):
    error = refusal(capsys, tmp_path, "bump-seal-clean", _short_reflow(hold, peak))
    assert f"bumps.reflow.peak_hold_s = {hold}: the load lags the oven's zones" in error


@pytest.mark.parametrize(
    ("hold", "peak"), [("15 s", "316 degC"), ("1 s", "318 degC")], ids=["hold", "peak"]
)
def test_the_least_hold_or_peak_completes_a_lot_of_2_with_the_claim_check_passed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], hold: str, peak: str
):
    """The run measures the load at least as long above the liquidus as validate works out
    (the driver starts a hold at a poll after the load reaches the peak: never sooner)."""
    recipe = _short_reflow(hold, peak)
    summary = validated_lot_of_one(capsys, tmp_path, "bump-seal-clean", recipe, lot=2)
    assert [wafer["status"] for wafer in summary["wafers"]] == ["completed", "completed"]
    assert summary["claim_check"]["status"] == "passed"
    reflow = ReflowRecipe.model_validate(recipe["bumps"]["reflow"])
    worked_out = time_above_liquidus_s(reflow.profile("Pb95Sn5"))
    assert worked_out >= REFLOW_WETTING_TIME_S
    for wafer in summary["wafers"]:
        measured = wafer["measurements"]["time above liquidus at reflow balls"]["value"]
        assert measured >= worked_out


PLATED = "bump-seal-clean-solder-plated.yaml"


def _short_layer_reflow(hold: str, peak: str) -> dict:
    """bump-seal-clean's plated Sn63Pb37 layer (liquidus 183 degC) reflowed at `peak` for
    `hold`, below the Pb95Sn5 bumps' 314 degC."""
    recipe = reference_recipe(PLATED)
    recipe["solder_layer"]["reflow"].update(peak_c=peak, peak_hold_s=hold)
    return recipe


def test_a_layer_reflow_too_short_is_refused_naming_003_20_with_the_least_hold_and_peak(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    error = refusal(capsys, tmp_path, "bump-seal-clean", _short_layer_reflow("1 s", "186 degC"))
    assert error.endswith(
        ": solder_layer.reflow.peak_hold_s = 1 s: the load lags the oven's zones (the line's "
        "figures) and stays above the liquidus of Sn63Pb37 (183 degC) 15.0 s of this profile, "
        "short of the 20 s it must (min_time_above_liquidus_s, at least the line's wetting "
        "time): the run would hold the batch at its reflow, the layer's solder unjoined; give "
        "at least 6 s, or peak_c at least 187 degC (at this hold) (claim 003:20)\n"
    )
    past = refusal(capsys, tmp_path, "bump-seal-clean", _short_layer_reflow("5 s", "186 degC"))
    assert "solder_layer.reflow.peak_hold_s = 5 s: the load lags" in past


@pytest.mark.parametrize(
    ("hold", "peak"), [("6 s", "186 degC"), ("1 s", "187 degC")], ids=["hold", "peak"]
)
def test_the_least_layer_hold_or_peak_completes_a_lot_of_2_with_the_claim_check_passed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], hold: str, peak: str
):
    recipe = _short_layer_reflow(hold, peak)
    summary = validated_lot_of_one(capsys, tmp_path, "bump-seal-clean", recipe, lot=2)
    assert [wafer["status"] for wafer in summary["wafers"]] == ["completed", "completed"]
    assert summary["claim_check"]["status"] == "passed"


class Reflow(NamedTuple):
    """A method's reflow: its reference recipe, the section's path and the claim named."""

    method: str
    variant: str
    section: tuple[str, str]
    claim: str
    what: str

    def recipe(self, **change: str) -> dict:
        """The reference recipe with `change` made to this reflow."""
        recipe = reference_recipe(self.variant)
        recipe[self.section[0]][self.section[1]].update(change)
        return recipe

    @property
    def path(self) -> str:
        return ".".join(self.section)


#: Every method's reflow.
REFLOWS = [
    Reflow("bump-seal-clean", MOUNTED, ("bumps", "reflow"), "003:7.1", "the balls"),
    Reflow("bump-seal-clean", MOUNTED, ("solder_layer", "reflow"), "003:20", "the layer's solder"),
    Reflow(
        "sprout-bump-csp", "sprout-bump-csp.yaml", ("terminals", "reflow"), "001:3", "the balls"
    ),
    Reflow(
        "two-process-via", "two-process-via.yaml", ("terminals", "reflow"), "002:1i", "the balls"
    ),
    Reflow(
        "tape-substrate", "tape-substrate-balls.yaml", ("balls", "reflow"), "000:x1", "the balls"
    ),
]
every_reflow = pytest.mark.parametrize(
    "reflow", REFLOWS, ids=[f"{r.method}-{r.path}" for r in REFLOWS]
)


@every_reflow
def test_a_minimum_time_above_the_liquidus_below_the_wetting_time_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], reflow: Reflow
):
    recipe = reflow.recipe(min_time_above_liquidus_s="19 s")
    assert refusal(capsys, tmp_path, reflow.method, recipe).endswith(
        f": {reflow.path}.min_time_above_liquidus_s = 19 s: molten solder wets the metal "
        "under it and joins it only after 20 s above its liquidus (the line's wetting time): "
        f"a run checked against less would pass with {reflow.what} unjoined; give at least "
        f"20 s (claim {reflow.claim})\n"
    )


@pytest.mark.parametrize(
    ("field", "why"),
    [
        ("soak_c", "the profile ramps from its soak up to its peak"),
        ("cool_to_c", "the load cools from its peak down to it"),
    ],
)
@every_reflow
def test_a_soak_or_cool_to_at_the_peak_is_refused_naming_the_reflows_claim(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], reflow: Reflow, field: str, why: str
):
    """A soak or a cool-to at or above the peak is the profile's real peak, which validate's
    checks of the peak do not judge: it is refused naming the claim of the reflow it is in
    (it had named none)."""
    peak = reference_recipe(reflow.variant)[reflow.section[0]][reflow.section[1]]["peak_c"]
    recipe = reflow.recipe(**{field: peak})
    assert refusal(capsys, tmp_path, reflow.method, recipe).endswith(
        f": {reflow.path}.{field} = {peak}: must be below peak_c = {peak}: {why}; one as hot "
        f"is the profile's real peak, the one that melts {reflow.what}, which validate would "
        f"not judge (claim {reflow.claim})\n"
    )


def test_sprout_bump_csps_page_quotes_validates_figure_for_a_reflow_without_a_hold(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """The page said 'about 13 s' where validate gave 14.2 s: SAC305 peaking at 223 degC
    without a hold (3 degC over its liquidus, as 220 degC was over the 217 degC it had)."""
    recipe = reference_recipe("sprout-bump-csp.yaml")
    recipe["terminals"]["reflow"].update(peak_c="223 degC", peak_hold_s="0 s")
    error = refusal(capsys, tmp_path, "sprout-bump-csp", recipe)
    assert "stays above the liquidus of SAC305 (220 degC) 13.4 s of this profile" in error
    page = Path(__file__).parents[2] / "docs" / "methods" / "sprout-bump-csp.md"
    prose = " ".join(page.read_text(encoding="utf-8").split())
    assert "at 223 degC without a hold keeps SAC305 molten for 13.4 s" in prose


class MeasuredOven:
    """An oven whose every run measures a load peaking at `peak_c`, `molten_s` above the
    liquidus."""

    def __init__(self, peak_c: float, molten_s: float = 30.0) -> None:
        self.peak_c = peak_c
        self.molten_s = molten_s

    async def run_profile(self, profile: ThermalProfile) -> SimpleNamespace:
        return SimpleNamespace(peak_c=self.peak_c, time_above_liquidus_s=self.molten_s)


@pytest.mark.parametrize(("peak_c", "passes"), [(183.0, False), (183.1, True)])
async def test_a_reflow_peak_must_pass_the_liquidus_not_reach_it(
    tmp_path: Path, peak_c: float, passes: bool
):
    """The line judges the oven's measured peak as validate judges a recipe's: above the
    liquidus (a peak at it melts nothing), as the flip-chip bonder's transfer joint is. An
    oven reading the Sn63Pb37 layer's 183 degC fails the batch's reflow peak (it had passed
    the inclusive limit), 183.1 degC passes."""
    store = RunStore(tmp_path / "runs.db")
    events = EventLog("R1", 1, store, lambda: 0.0, [])
    recorder = StepRecorder(events, store, None, side_workpieces=None, simulated=True, confirm=None)
    wafer = SimpleNamespace(id="W01", step_id=None)
    oven = SimpleNamespace(name="oven", driver=MeasuredOven(peak_c))
    batch = Batch(SimpleNamespace(recorder=recorder), "B1", [wafer], oven)
    reflow = ReflowRecipe.model_validate(reference_recipe(PLATED)["solder_layer"]["reflow"])
    try:
        if passes:
            await run_reflow(batch, "Sn63Pb37", reflow, solid="Pb95Sn5")
        else:
            with pytest.raises(OutOfLimits) as failed:
                await run_reflow(batch, "Sn63Pb37", reflow, solid="Pb95Sn5")
            assert str(failed.value) == "reflow peak = 183 degC, not above the minimum of 183 degC"
        (peak,) = [m for m in store.table("measurements", "R1") if m["name"] == "reflow peak"]
    finally:
        store.close()
    assert (peak["value"], peak["low"], peak["high"], peak["passed"]) == (
        peak_c,
        183.0,
        308.0,
        int(passes),
    )


def _lead_free_at_the_high_lead_peak(peak: str = "345 degC") -> dict:
    """bump-seal-clean's plated reference's balls made SAC305 (liquidus 220 degC), reflowed at
    `peak` for the high-lead profile's 40 s hold, with no eutectic layer plated over them."""
    recipe = reference_recipe(PLATED)
    del recipe["solder_layer"]
    recipe["bumps"]["alloy"] = "SAC305"
    recipe["bumps"]["reflow"]["peak_c"] = peak
    return recipe


def test_a_reflow_that_keeps_the_solder_molten_too_long_is_refused_with_the_most_peak(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """A new user's SAC305 balls under the high-lead profile's 345 degC peak stayed molten 431 s
    and passed with '411.1 s to spare', where the recipe's own fields say solder molten over
    5 min joins brittle: refused, with the most peak that keeps it molten long enough to wet
    and no longer, the driver's hold up to a poll late at each end (no hold is short enough
    at 345 degC)."""
    error = refusal(capsys, tmp_path, "bump-seal-clean", _lead_free_at_the_high_lead_peak())
    assert error.endswith(
        ": bumps.reflow.peak_hold_s = 40 s: the load lags the oven's zones (the line's "
        "figures) and stays above the liquidus of SAC305 (220 degC) 424.3 s of this profile, "
        "up to 444.3 s as a driver polling the oven every 10 s holds its peak, longer than the "
        "300 s solder may stay molten (solder molten longer than 5 min grows its intermetallic "
        "layer brittle and the pads dissolve into it): the balls would join brittle; peak_c at "
        "most 270 degC (at this hold) (claim 003:7.1)\n"
    )
    error = refusal(
        capsys, tmp_path, "bump-seal-clean", _lead_free_at_the_high_lead_peak("271 degC")
    )
    assert "bumps.reflow.peak_hold_s = 40 s: the load lags" in error


def test_the_most_peak_completes_a_lot_with_its_time_above_the_liquidus_in_limits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    recipe = _lead_free_at_the_high_lead_peak("270 degC")
    summary = validated_lot_of_one(capsys, tmp_path, "bump-seal-clean", recipe)
    assert summary["claim_check"]["status"] == "passed"
    (wafer,) = summary["wafers"]
    molten = wafer["measurements"]["time above liquidus"]
    assert (molten["low"], molten["high"], molten["verdict"]) == (20.0, 300.0, "pass")


@pytest.mark.parametrize(("molten_s", "passes"), [(300.0, True), (300.1, False)])
async def test_a_load_the_oven_measured_molten_too_long_fails_its_reflow(
    tmp_path: Path, molten_s: float, passes: bool
):
    """On real tools the oven's own measurement of the load's time above the liquidus is
    judged against the 5 min solder may stay molten, as validate judges a recipe's."""
    store = RunStore(tmp_path / "runs.db")
    events = EventLog("R1", 1, store, lambda: 0.0, [])
    recorder = StepRecorder(events, store, None, side_workpieces=None, simulated=True, confirm=None)
    wafer = SimpleNamespace(id="W01", step_id=None)
    oven = SimpleNamespace(name="oven", driver=MeasuredOven(230.0, molten_s))
    batch = Batch(SimpleNamespace(recorder=recorder), "B1", [wafer], oven)
    reflow = ReflowRecipe.model_validate(
        reference_recipe("sprout-bump-csp.yaml")["terminals"]["reflow"]
    )
    try:
        if passes:
            await run_reflow(batch, "SAC305", reflow)
        else:
            with pytest.raises(
                OutOfLimits, match=r"time above liquidus = 300\.1 s, outside 20-300 s"
            ):
                await run_reflow(batch, "SAC305", reflow)
    finally:
        store.close()
