"""Claims in recipes, tool limits before any tool moves, the claim check after a dry run, and
the claim coverage that every method declares (kept true against the catalogue and a sim run)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import numpy as np
import pytest
import yaml
from pydantic import Field, model_validator

from packline.claims import CLAIMS
from packline.drivers.equipment import Limit
from packline.drivers.roles.deposition import Material, Method
from packline.drivers.roles.electroplater import Metal, charge_for_thickness_c
from packline.drivers.roles.oven import LastResult
from packline.drivers.roles.plasma_cleaner import Gas
from packline.json_text import json_text
from packline.sequences import conditions
from packline.sequences.engine import (
    Condition,
    Margin,
    Recipe,
    RecipeError,
    RunRequest,
    ToolSetpoint,
    all_methods,
    claim_coverage,
    claim_violation,
    field_problem,
    get_method,
    open_resume,
    open_run,
    prepare,
    read_recipe_text,
    run_report,
)
from packline.sequences.engine.catalogue import shipped
from packline.sequences.engine.claim_check import (
    check_claims,
    located_margin_text,
    margin_text,
    overall,
    what_did_not_pass,
)
from packline.sequences.engine.method import STEP_NAMED
from packline.sequences.engine.request import check_tool_limits, tool_limits
from packline.sequences.plasma_clean import PlasmaCleanRecipe
from packline.sim_instruments.physics.deposition import DepositionPhysics, deposit_film
from packline.sim_instruments.physics.electroplater import (
    PlatingPhysics,
    cathode_of,
    electroplate,
)
from packline.sim_instruments.physics.laser import LaserPhysics, ablate_vias, via_pulses
from packline.sim_instruments.physics.oven import LoadHistory, ReflowPhysics, apply_run
from packline.sim_instruments.physics.plasma_cleaner import PlasmaPhysics, expose_to_plasma
from packline.sim_instruments.twin import PanelSpec, ResinKind, TwinStore, Workpiece
from packline.sim_instruments.twin.parts import (
    Face,
    Film,
    FilmMaterial,
    OpeningProcess,
    ResinLayer,
    Resist,
    StackLevel,
)
from packline.units import Unit

from .helpers import stopped_at
from .test_engine_runs import Injector

SHORT_AR = """
steps:
  - {gas: O2, flow_sccm: 100 sccm, pressure_mtorr: 200 mTorr, rf_power_w: 300 W, time_s: 60 s}
  - {gas: Ar, flow_sccm: 100 sccm, pressure_mtorr: 100 mTorr, rf_power_w: 100 W, time_s: 30 s}
"""


# ----------------------------------------------------------------------------- claim constraints


class Resin(Recipe):
    sheet_thickness_um: Annotated[float, Unit("um"), Field(ge=10, le=200)]


class Bumps(Recipe):
    height_um: Annotated[float, Unit("um"), Field(ge=10, le=200)]


class SealRecipe(Recipe):
    """A recipe with a claim's own constraint across two fields (003:7.2)."""

    resin: Resin
    bumps: Bumps

    @model_validator(mode="after")
    def resin_thinner_than_bumps(self) -> SealRecipe:
        if self.resin.sheet_thickness_um >= self.bumps.height_um:
            raise claim_violation(
                "003:7.2",
                "resin.sheet_thickness_um",
                f"{self.resin.sheet_thickness_um:g} um",
                f"must be thinner than bumps.height_um = {self.bumps.height_um:g} um",
            )
        return self


class LaminationStep(Recipe):
    """A nested model's constraint: its path is relative to where it sits in the recipe."""

    sheet_um: Annotated[float, Unit("um")]
    bump_um: Annotated[float, Unit("um")]

    @model_validator(mode="after")
    def thinner(self) -> LaminationStep:
        if self.sheet_um >= self.bump_um:
            raise claim_violation("001:7", "sheet_um", self.sheet_um, "must be below bump_um")
        return self


class Laminations(Recipe):
    laminations: list[LaminationStep]


def test_a_claim_constraint_names_path_value_message_and_claim():
    text = "resin: {sheet_thickness_um: 65 um}\nbumps: {height_um: 0.06 mm}\n"
    with pytest.raises(RecipeError) as error:
        read_recipe_text(SealRecipe, text, "recipe file r.yaml")
    assert str(error.value) == (
        "recipe file r.yaml: line 1: resin.sheet_thickness_um = 65 um: "
        "must be thinner than bumps.height_um = 60 um (claim 003:7.2)"
    )
    assert read_recipe_text(SealRecipe, text.replace("65 um", "35 um"), "r").resin


def test_a_nested_claim_constraint_is_placed_under_its_model():
    text = (
        "laminations:\n"
        "  - {sheet_um: 30 um, bump_um: 60 um}\n"
        "  - {sheet_um: 70 um, bump_um: 60 um}\n"
    )
    with pytest.raises(RecipeError) as error:
        read_recipe_text(Laminations, text, "r.yaml")
    assert str(error.value) == (
        "r.yaml: line 3: laminations.1.sheet_um = 70: must be below bump_um (claim 001:7)"
    )


def test_model_level_errors_do_not_dump_the_input():
    class Picky(Recipe):
        a: int = 1

        @model_validator(mode="before")
        @classmethod
        def refuse(cls, data: object) -> object:
            raise ValueError("this recipe is refused as a whole")

    with pytest.raises(RecipeError) as error:
        read_recipe_text(Picky, "a: 2\n", "r.yaml")
    assert str(error.value) == "r.yaml: (top level): this recipe is refused as a whole"


def test_a_field_problem_found_across_fields_names_the_nested_field_not_the_top_level():
    class Outer(Recipe):
        inner: Laminations

        @model_validator(mode="after")
        def refuse(self) -> Outer:
            raise field_problem("inner.laminations.0.sheet_um", "30 um", "the mask says 20 um")

    text = "inner:\n  laminations:\n    - {sheet_um: 30 um, bump_um: 60 um}\n"
    with pytest.raises(RecipeError) as error:
        read_recipe_text(Outer, text, "r.yaml")
    assert str(error.value) == (
        "r.yaml: line 3: inner.laminations.0.sheet_um = 30 um: the mask says 20 um"
    )


def test_a_claim_id_outside_the_catalogue_is_a_programming_error():
    with pytest.raises(KeyError, match="no claim '003:99'"):
        claim_violation("003:99", "x", 1, "nope")
    with pytest.raises(KeyError, match="no claim '9:1'"):
        Condition("9:1", "x", conditions.bump_on_every_pad("001:1a").evaluate)


# ----------------------------------------------------------------------------- tool limits


def test_plasma_clean_declares_every_step_setpoint():
    recipe = read_recipe_text(PlasmaCleanRecipe, SHORT_AR, "r")
    points = {p.path: p for p in recipe.tool_setpoints()}
    assert points["steps"] == ToolSetpoint("plasma_cleaner", "steps", 2, "steps")
    assert points["steps.1.rf_power_w"] == ToolSetpoint(
        "plasma_cleaner", "rf_power_w", 100.0, "steps.1.rf_power_w"
    )
    assert {p.setpoint for p in points.values()} == {
        "steps",
        "flow_sccm",
        "pressure_mtorr",
        "rf_power_w",
        "time_s",
    }


def test_setpoints_are_checked_against_the_driver_defaults_without_a_station():
    method = get_method("plasma-clean")
    limits = tool_limits(method, None)
    assert limits["plasma_cleaner"][0]["rf_power_w"] == Limit(100, 1000, "W")

    class Wide(Recipe):
        power_w: Annotated[float, Unit("W")]

        def tool_setpoints(self) -> list[ToolSetpoint]:
            return [ToolSetpoint("plasma_cleaner", "rf_power_w", self.power_w, "power_w")]

    check_tool_limits(Wide(power_w="1 kW"), "r.yaml", limits, "")  # read from no file
    with pytest.raises(RecipeError) as error:
        check_tool_limits(Wide(power_w="1201 W"), "recipe file r.yaml", limits, "")
    assert str(error.value) == (
        "recipe file r.yaml: power_w = 1201 W: outside the plasma_cleaner limit "
        "rf_power_w [100, 1000] W"
    )


def test_a_setpoint_the_tools_do_not_have_is_refused_by_name():
    class Odd(Recipe):
        def tool_setpoints(self) -> list[ToolSetpoint]:
            return [ToolSetpoint("plasma_cleaner", "bias_v", 5, "bias_v")]

    limits = tool_limits(get_method("plasma-clean"), None)
    with pytest.raises(RecipeError, match="r: bias_v: a plasma_cleaner has no setpoint 'bias_v'"):
        check_tool_limits(Odd(), "r", limits, "")


# ----------------------------------------------------------------------------- predicates


def test_predicates_on_a_twin():
    wafer = TwinStore().get("W01")
    n = wafer.geometry.site_count
    evaluate = {
        name: condition.evaluate
        for name, condition in {
            "bump": conditions.bump_on_every_pad("001:1a"),
            "thinner": conditions.resin_thinner_than_bumps("003:7.2"),
            "project": conditions.tips_project("001:1b", 5),
            "residue": conditions.no_residue_on_tips("003:10"),
            "oxide_metal": conditions.no_oxide_on_exposed_metal("003:11"),
            "resin": conditions.sealing_layer_at_least("001:13", 50),
            "vias": conditions.vias_open("002:1h"),
            "units": conditions.singulated_into_dies("003:23"),
        }.items()
    }
    checked, passing = evaluate["bump"](wafer)
    assert (checked.sum(), passing.sum()) == (n, 0)
    assert evaluate["oxide_metal"](wafer)[0].sum() == n  # bare pads are exposed metal
    wafer.bumps.height_um[:] = 60
    wafer.bumps.height_um[0] = 40
    wafer.add_resin(ResinKind.THERMOSET, 50)
    wafer.surface.residue_nm[:] = 0
    wafer.surface.residue_nm[1] = 1.0
    checked, passing = evaluate["thinner"](wafer)
    assert (checked.sum(), passing.sum()) == (n, n - 1)
    checked, passing = evaluate["project"](wafer)
    assert (checked.sum(), passing.sum()) == (n, n - 1)
    checked, passing = evaluate["residue"](wafer)  # only the tips above the resin
    assert (checked.sum(), (checked & passing).sum()) == (n - 1, n - 2)
    assert evaluate["resin"](wafer)[1].all()
    assert not evaluate["vias"](wafer)[1].any()
    checked, passing = evaluate["units"](wafer)
    assert (checked.tolist(), passing.tolist()) == ([True], [False])
    wafer.singulation.units = wafer.geometry.unit_count
    assert evaluate["units"](wafer)[1].tolist() == [True]


def test_001_13_judges_the_resin_sealing_layer_alone():
    """Claim 13 speaks of claim 1's resin-sealing layer: a solder resist laid over a 47.9 um
    layer (001:4) makes it no thicker, nor does an upper level's sheet (001:14), where the
    total resin over the wafer had passed 50 um (a trial's finding: 62.5 um)."""
    wafer = TwinStore().get("W01")
    condition = conditions.sealing_layer_at_least("001:13", 50)
    assert condition.margin is not None
    every = np.ones(wafer.geometry.site_count, bool)
    assert not condition.evaluate(wafer)[1].any()  # no resin-sealing layer: none at 50 um
    wafer.add_resin(ResinKind.THERMOSET, 47.9)
    wafer.add_resin(ResinKind.SOLDER_RESIST, 14.6)
    assert not condition.evaluate(wafer)[1].any()
    assert condition.margin.worst_site(wafer, every).value == pytest.approx(47.9)
    wafer.add_resin(ResinKind.THERMOSET, 40.0)  # an upper level's sheet
    assert not condition.evaluate(wafer)[1].any()
    below = TwinStore().get("W01")
    below.add_resin(ResinKind.THERMOSET, 50.0)
    below.add_resin(ResinKind.SOLDER_RESIST, 14.6)
    assert condition.evaluate(below)[1].all()


def test_resin_is_cured_only_when_every_layer_reached_the_cure():
    wafer = TwinStore().get("W01")
    cured = conditions.resin_cured("002:1g", at="cure resin").evaluate
    assert not cured(wafer)[1].any()  # no resin: nothing cured
    wafer.add_resin(ResinKind.THERMOSET, 20.0, cure=0.95)
    checked, passing = cured(wafer)
    assert (checked.sum(), passing.sum()) == (wafer.geometry.site_count,) * 2
    margin = conditions.resin_cured("002:1g", at="cure resin").margin
    assert margin is not None
    every = np.ones(wafer.geometry.site_count, bool)
    assert margin.worst_site(wafer, every).value == pytest.approx(0.95)
    wafer.add_resin(ResinKind.SOLDER_RESIST, 10.0, cure=0.66)  # under-cured, as at 120 degC
    assert not cured(wafer)[1].any()
    assert margin.worst_site(wafer, every).value == pytest.approx(0.66)  # the least cured layer
    row = {"margin_quantity": margin.quantity, "margin_unit": margin.unit, "margin_above": 1,
           "margin_worst": 0.66, "margin": 0.66 - margin.limit,
           "margin_limit": margin.limit}  # fmt: skip
    assert margin_text(row) == (
        f"smallest degree of cure 0.66, at least {margin.limit:.3g}: "
        f"{margin.limit - 0.66:.3g} short"
    )


def test_the_deposition_predicates_hold_after_a_good_process_and_fail_after_a_wrong_one():
    """A sputtered seed on cleaned, projecting tips joins them all; on uncleaned tips (poor
    contact), evaporated over them (broken sidewalls) or oxidised (base pressure too high) it
    does not."""
    physics = DepositionPhysics()
    seed = conditions.seed_joins_tips("001:9").evaluate

    def tips(cleaned: bool = True) -> Workpiece:
        wafer = TwinStore().get("W01")
        wafer.bumps.height_um[:] = 60
        wafer.add_resin(ResinKind.THERMOSET, 45)
        if cleaned:
            wafer.surface.residue_nm[:] = 0
            wafer.surface.oxide_nm[:] = 0
        return wafer

    good = tips()
    deposit_film(good, Method.SPUTTER, Material.TI, 50, 0.01, physics)
    checked, passing = seed(good)
    assert checked.all()
    assert passing.all()
    uncleaned = tips(cleaned=False)
    deposit_film(uncleaned, Method.SPUTTER, Material.TI, 50, 0.01, physics)
    assert not seed(uncleaned)[1].any()
    evaporated = tips()
    deposit_film(evaporated, Method.EVAPORATE, Material.CU, 100, 0.0, physics)
    assert not seed(evaporated)[1].any()
    oxidised = tips()
    deposit_film(oxidised, Method.SPUTTER, Material.TI, 50, 0.4, physics)
    assert not seed(oxidised)[1].any()


def _passivated(etch_s: float, masked: bool = True, sin_nm: float = 500.0) -> Workpiece:
    """A wafer with `sin_nm` of CVD SiN on its clean pads, under a resist opened 80 um over
    every pad (`masked`, else none), etched `etch_s` in CF4/O2 at 300 W (120 nm/min), the resist
    stripped, and a Ti seed sputtered over it all."""
    wafer = TwinStore().get("W01")
    wafer.surface.residue_nm[:] = 0
    wafer.surface.oxide_nm[:] = 0
    deposit_film(wafer, Method.CVD, Material.SIN, sin_nm, 0.0, DepositionPhysics())
    sites = wafer.geometry.site_count
    if masked:
        wafer.resist = Resist(
            np.full(sites, 11.0, np.float32),
            np.zeros(sites, np.float32),
            np.full(sites, 11.0, np.float32),
            opening_um=np.full(sites, 80.0, np.float32),
        )
    expose_to_plasma(wafer, Gas.CF4_O2, 300.0, etch_s, PlasmaPhysics(), 300.0 * etch_s)
    wafer.resist = Resist.empty(sites)
    deposit_film(wafer, Method.SPUTTER, Material.TI, 50, 0.01, DepositionPhysics())
    return wafer


def test_a_passivation_is_opened_over_every_pad_through_its_resist_mask():
    """500 nm of SiN etched 6 min in CF4/O2 through a resist opened over the pads: every opening
    reaches its pad, 80 um wide, the SiN stays around it (480-500 nm: the CVD thins towards the
    edge), and the seed laid after joins every pad (002:15, 002:1a-d, 002:16). 1 min leaves
    380 nm at the openings' bottoms: the pads stay covered and the seed joins none. Without
    the mask the etch takes the whole film. 460 nm of SiN is thinner than 450 nm at the edge."""
    opened = conditions.passivation_open_at_pads("002:15", 450)
    joined = conditions.interconnect_on_every_pad("002:1a-d")
    upper = conditions.pads_on_upper_surface("002:16")
    good = _passivated(360)
    for condition in (opened, joined, upper):
        checked, passing = condition.evaluate(good)
        assert checked.all(), condition.claim
        assert passing.all(), condition.claim
    (sin, _) = good.films.layers
    assert sin.openings is not None
    assert np.allclose(sin.openings.diameter_um, 80.0)
    assert sin.openings.stages[-1].process is OpeningProcess.DRY_ETCH
    every = np.ones(good.geometry.site_count, bool)
    assert 480 <= opened.margin.worst_site(good, every).value < 500
    contact = joined.margin
    assert contact is not None
    assert (contact.quantity, contact.unit, contact.above, contact.limit) == (
        "contact", "mOhm", False, 20.0,
    )  # fmt: skip
    assert 0 < contact.worst_site(good, every).value <= 20.0
    short = _passivated(60)
    (sin, _) = short.films.layers
    assert sin.openings is not None
    assert np.allclose(sin.openings.depth_um, 0.12, atol=1e-3)
    assert not opened.evaluate(short)[1].any()
    assert not joined.evaluate(short)[1].any()
    unmasked = _passivated(360, masked=False)
    assert not unmasked.films.layers[0].present.any()
    assert not opened.evaluate(unmasked)[1].any()
    thin = _passivated(360, sin_nm=460)
    assert 0 < opened.evaluate(thin)[1].sum() < thin.geometry.site_count


def test_pads_lie_on_the_upper_surface_of_a_wafer_not_under_a_tape():
    """002:16: a wafer's pads joined from above by a seed pass; a tape panel's terminal sites
    (through-holes down to its bottom metal) with the same seed on its top do not, nor a
    wafer's pads with no interconnect laid on them."""
    upper = conditions.pads_on_upper_surface("002:16").evaluate
    physics = DepositionPhysics()
    bare = TwinStore().get("W01")
    assert not upper(bare)[1].any()
    deposit_film(bare, Method.SPUTTER, Material.TI, 50, 0.01, physics)
    assert upper(bare)[1].all()
    panel = TwinStore(PanelSpec()).get("P01")
    deposit_film(panel, Method.SPUTTER, Material.TI, 50, 0.01, physics)
    checked, passing = upper(panel)
    assert checked.all()
    assert not passing.any()


def test_a_die_on_every_unit_is_counted_by_units():
    """000:d speaks of units: its count is of them, one a unit whatever its sites (the area
    array's lands had made one panel's count 55,200 sites, a peripheral one's 7,200)."""
    panel = TwinStore(PanelSpec()).get("P01")
    units = panel.geometry.unit_count
    dies = panel.dies
    dies.unit = np.arange(units - 1, dtype=np.int32)  # every unit but the last carries one
    dies.bonded = np.ones(units - 1, bool)
    dies.face_down = np.ones(units - 1, bool)
    (result,) = check_claims([conditions.dies_bonded_face_down("000:d")], {"P01": panel})
    assert (result.counted, result.sites_checked, result.sites_passing) == (
        "unit",
        units,
        units - 1,
    )


def _reflow_run(peak_c: float) -> LoadHistory:
    """A run that climbs from 150 degC to `peak_c` in 60 s, holds 60 s and comes back down."""
    history = LoadHistory()
    for time_s, temperature_c in ((0, 150), (60, peak_c), (120, peak_c), (180, 150)):
        history.add(time_s, temperature_c, 20)
    return history


@pytest.mark.parametrize(("peak_c", "holds"), [(240, True), (210, False)])
def test_a_joint_under_every_ball_only_after_a_reflow_above_the_liquidus(peak_c, holds):
    wafer = TwinStore().get("W01")
    joints = conditions.joint_under_every_ball("001:3")
    assert not joints.evaluate(wafer)[0].any()  # no balls: nothing checked, the check fails
    wafer.films.layers.append(Film.blanket(FilmMaterial.CU, 5.0, wafer.geometry.site_count))
    wafer.balls.present[:4] = True  # on the conducting paths (on bare pads: solder bumps)
    wafer.balls.alloy = "SAC305"  # liquidus 220 degC
    apply_run(wafer, _reflow_run(peak_c), ReflowPhysics(), "oven", 0.0, LastResult.COMPLETED)
    checked, passing = joints.judge(wafer)
    assert checked.sum() == 4
    assert bool((checked & passing).sum() == 4) is holds
    assert joints.margin is not None
    worst = joints.margin.worst_site(wafer, checked).value
    assert worst is not None
    assert (joints.margin.distance(worst) >= 0) is holds  # the margin reads as the verdict


@pytest.mark.parametrize(("peak_c", "holds"), [(220, True), (320, False), (170, False)])
def test_the_core_stays_solid_only_under_a_layer_reflowed_below_the_cores_liquidus(peak_c, holds):
    """Sn63Pb37 (183 degC) on Pb90Sn10 (302 degC): 220 reflows the layer alone, 320 melts the
    core too, 170 reflows nothing."""
    wafer = TwinStore().get("W01")
    wafer.bumps.height_um[:] = 80.0
    wafer.bumps.material = "Pb90Sn10"
    wafer.bumps.layer_um[:] = 10.0
    wafer.bumps.layer_alloy = "Sn63Pb37"
    apply_run(wafer, _reflow_run(peak_c), ReflowPhysics(), "oven", 0.0, LastResult.COMPLETED)
    melted, solid = conditions.layer_reflowed_core_solid("003:20", "Sn63Pb37", "Pb90Sn10")
    verdicts = []
    for condition in (melted, solid):
        checked, passing = condition.judge(wafer)
        assert checked.all()
        assert condition.margin is not None
        # the oven's peak, against each bound
        assert condition.margin.worst_site(wafer, checked).value == pytest.approx(peak_c, abs=0.5)
        verdicts.append(bool(passing.all()))
    # the layer melts above 183 degC, the core stays solid up to its 302
    assert verdicts == [peak_c > 183, peak_c <= 302]
    assert all(verdicts) is holds


@pytest.mark.parametrize(
    ("layer", "oxide_nm", "verdicts"),
    [  # (003:3 another solder, 003:4 on a cleaned tip, 003:5 eutectic, 003:6 both)
        ("Sn63Pb37", 0.0, (True, True, True, True)),
        ("Sn63Pb37", 2.0, (True, False, True, False)),  # oxide under the layer
        ("SAC305", 0.0, (True, True, False, False)),  # another solder, but no eutectic
        ("Pb95Sn5", 0.0, (False, False, False, False)),  # the bumps' own solder
        (None, 0.0, (False, False, False, False)),  # no layer
    ],
)
def test_the_solder_layer_predicates_of_the_product_claims(layer, oxide_nm, verdicts):
    """Pb95Sn5 bumps projecting 30 um from the resin with a 10 um layer on every tip."""
    wafer = TwinStore().get("W01")
    wafer.bumps.height_um[:] = 80.0
    wafer.bumps.material = "Pb95Sn5"
    wafer.add_resin(ResinKind.SEALING, 50.0)
    wafer.bumps.layer_um[:] = 10.0 if layer else 0.0
    wafer.bumps.layer_alloy = layer
    wafer.surface.residue_nm[:] = 0.0
    wafer.surface.oxide_nm[:] = oxide_nm
    checks = [
        conditions.solder_layer_on_tips("003:3", 8.0),
        conditions.solder_layer_on_tips("003:4", 8.0, cleaned=True),
        conditions.solder_layer_on_tips("003:5", 8.0, eutectic=True),
        conditions.solder_layer_on_tips("003:6", 8.0, cleaned=True, eutectic=True),
    ]
    for check, holds in zip(checks, verdicts, strict=True):
        checked, passing = check.evaluate(wafer)
        assert checked.all()
        assert bool(passing.all()) is holds, check.claim
    thin = conditions.solder_layer_on_tips("003:3", 12.0).evaluate(wafer)[1]
    assert not thin.any()


def test_check_claims_aggregates_over_the_lot_and_refuses_bad_shapes():
    twins = TwinStore()
    good, bad = twins.get("W01"), twins.get("W02")
    for wafer in (good, bad):
        wafer.surface.oxide_nm[:] = 0
    bad.surface.oxide_nm[:3] = 2.0
    [result] = check_claims(
        [conditions.no_oxide_on_exposed_metal("003:11")],
        {
            "W01": good,
            "W02": bad,
        },
    )
    assert result.sites_checked == good.geometry.site_count + bad.geometry.site_count
    assert result.sites_passing == result.sites_checked - 3
    assert result.failing_wafers == ("W02",)
    assert result.verdict == "fail"
    broken = Condition("003:11", "broken", lambda w: (np.ones(3, bool), np.ones(2, bool)))
    with pytest.raises(ValueError, match="003:11 'broken': evaluate returned arrays"):
        check_claims([broken], {"W01": good})


def test_a_condition_says_what_it_counted_by_the_arrays_it_returns():
    """A condition's counts are of what its arrays are over (decision 0099): a wafer's pads,
    its dies, the wafer itself; an array of none of those lengths counts nothing it can name."""
    wafer = TwinStore().get("W01")
    geometry = wafer.geometry
    sizes = {"pad": geometry.site_count, "die": geometry.unit_count, "wafer": 1, None: 7}
    found = check_claims(
        [
            Condition("003:11", noun or "odd", lambda w, n=size: (np.ones(n, bool),) * 2)
            for noun, size in sizes.items()
        ],
        {"W01": wafer},
    )
    assert [(result.counted, result.sites_checked) for result in found] == list(sizes.items())
    assert [result.to_dict()["counted"] for result in found] == list(sizes)


def test_the_tips_project_by_the_bumps_own_height_not_the_layer_put_on_after():
    """003:7.2 and 003:7.3 speak of the bumps the resin was laid against and the tips it
    cleaned; a eutectic layer put on afterwards (003:19-21) tops the bump's height on the
    twin, and had been counted as tip (a new user's trial: 9 um to spare for 0.66 um)."""
    wafer = TwinStore().get("W01")
    sites = wafer.geometry.site_count
    wafer.bumps.height_um[:] = 98.0
    wafer.bumps.layer_um[:] = 10.0
    wafer.resins.layers.append(ResinLayer(ResinKind.THERMOSET, np.full(sites, 87.0, np.float32)))
    thinner, projecting = check_claims(
        [conditions.resin_thinner_than_bumps("003:7.2"), conditions.tips_project("003:7.3")],
        {"W01": wafer},
    )
    # 88 um of bump, 87 of resin
    assert thinner.worst_at.value == projecting.worst_at.value == pytest.approx(1.0)
    wafer.bumps.layer_um[:] = 12.0  # the bump's own 86 um stand under the resin's 87
    assert [
        r.verdict for r in check_claims([conditions.tips_project("003:7.3")], {"W01": wafer})
    ] == ["fail"]


def test_a_condition_on_another_workpiece_reads_that_ones_twin():
    """A wafer's chips on its board (003:24): the condition reads the board the wafer maps to,
    from the twin store; without the store it cannot, and says so."""
    twins = TwinStore()
    wafer, board = twins.get("W01"), twins.get("BW01")
    oxide_free = conditions.no_oxide_on_exposed_metal("003:11")
    on_board = Condition("003:24", "board clean", oxide_free.evaluate, on=lambda w: f"B{w}")
    wafer.surface.oxide_nm[:] = 0
    board.surface.oxide_nm[:] = 0
    board.surface.oxide_nm[:5] = 2.0
    [own, other] = check_claims([oxide_free, on_board], {"W01": wafer}, twins.get)
    assert (own.verdict, other.verdict) == ("pass", "fail")
    assert other.sites_checked - other.sites_passing == 5
    with pytest.raises(ValueError, match="003:24: no twin store"):
        check_claims([on_board], {"W01": wafer})


def _etched_seed(wafer: Workpiece, level: int) -> None:
    """Lay a 0.3 um Cu seed at wiring `level` over the field and etch it 0.03 um past it."""
    seed = Film.blanket(FilmMaterial.CU, 0.3, wafer.geometry.site_count, level)
    seed.track_field()
    seed.field_um[:] = 0
    seed.field_overetch_um[:] = 0.03
    wafer.films.layers.append(seed)


def test_a_seed_etched_apart_at_a_level_without_one_has_nothing_to_check():
    """A wafer holding no seed at the level judged had read 0 um over-etch at every site and
    passed (two-process-via's level 0 under a stress-relieving layer): it says so, and the run's
    claim check is incomplete; at the seed's own level it passes with its margin."""
    wafer = TwinStore().get("W01")
    _etched_seed(wafer, 1)
    [empty, seeded] = check_claims(
        [
            conditions.patterns_etched_apart("002:1a-d", 0, "the seed"),
            conditions.patterns_etched_apart("002:1a-d", 1, "the seed"),
        ],
        {"W01": wafer},
    )
    assert empty.verdict == "nothing to check: no seed at level 0 on W01"
    assert (empty.sites_checked, empty.worst_at) == (0, None)
    assert overall([empty.verdict, seeded.verdict]) == "incomplete"
    assert seeded.verdict == "pass"
    assert seeded.worst_at.value == pytest.approx(0.03)


def test_what_did_not_pass_names_the_violated_claims_then_those_with_nothing_to_check():
    """The run's note and its claim-check event name a condition that had nothing to check as
    well as one violated: an incomplete check had read as a count of conditions alone."""
    seed = ("002:1a-d", "the seed etched apart", "nothing to check: no seed at level 0 on W01")
    oxide = ("003:11", "no oxide on the exposed metal", "fail")
    assert what_did_not_pass([("003:9", "no residue", "pass")]) == ""
    assert what_did_not_pass([seed, ("003:9", "no residue", "pass"), oxide]) == (
        "the product violates claim 003:11 (no oxide on the exposed metal); "
        "not checked: claim 002:1a-d (the seed etched apart): nothing to check: no seed at "
        "level 0 on W01"
    )


def test_a_plate_etched_through_between_lands_without_a_plate_has_nothing_to_check():
    """No plate on the back had read no metal left between the lands, and passed (000:x3); a
    plate never patterned still fails."""
    twins = TwinStore()
    bare, plated = twins.get("W01"), twins.get("W02")
    n = plated.geometry.site_count
    plated.films.layers.append(Film.blanket(FilmMaterial.CU, 18, n, face=Face.BACK))
    [result] = check_claims(
        [conditions.plate_etched_through_between_lands("000:x3")], {"W01": bare, "W02": plated}
    )
    assert result.failing_wafers == ("W02",)
    assert result.verdict == "fail"
    plate = conditions.plate_etched_through_between_lands("000:x3")
    [result] = check_claims([plate], {"W01": bare})
    assert result.verdict == "nothing to check: no metal plate on W01"


def test_every_device_whole_judges_no_die_where_no_part_judges_a_site():
    """Parts judging nothing had left every die whole (002:6): no die is judged then; a part
    judging a site judges every die."""
    wafer = TwinStore().get("W01")
    whole = conditions.every_device_whole(
        "002:6", conditions.patterns_etched_apart("002:1a-d", 0, "the seed")
    )
    assert not whole.evaluate(wafer)[0].any()
    [result] = check_claims([whole], {"W01": wafer})
    assert result.verdict == "nothing to check: no site it judges on W01"
    _etched_seed(wafer, 0)
    checked, passing = whole.evaluate(wafer)
    assert checked.all()
    assert passing.all()


def test_a_board_carrying_a_die_that_is_no_whole_device_fails_its_product_claim():
    """002:7 is a board carrying the device of claim 6: the dies picked for the board are
    judged as devices (every site of each passing the device's conditions), the other dies
    of the wafer are not, and a wafer none of whose dies was picked holds nothing to check."""
    wafer = TwinStore().get("W01")
    bumped = conditions.bump_on_every_pad("003:7.1")
    mounted = conditions.mounted_devices_whole("002:7", "002:6", bumped)
    [result] = check_claims([mounted], {"W01": wafer})
    assert result.verdict == "nothing to check: no die mounted on a board on W01"
    wafer.bumps.height_um[:] = 60
    geometry = wafer.geometry
    first, second, third = 0, 1, 2
    wafer.bumps.height_um[geometry.site_unit == second] = 0  # one die with a pad unbumped
    wafer.singulation.picked.extend([first, third])
    checked, passing = mounted.evaluate(wafer)
    assert np.flatnonzero(checked).tolist() == [first, third]
    assert passing[checked].all()
    wafer.singulation.picked.append(second)
    [result] = check_claims([mounted], {"W01": wafer})
    assert (result.verdict, result.sites_checked, result.sites_passing) == ("fail", 3, 2)
    assert result.condition == "every device mounted on the board a whole device of 002:6"


def test_a_wafer_with_nothing_to_judge_leaves_a_condition_unchecked_unless_that_is_its_claim():
    """One wafer of the lot holding nothing a condition judges leaves the condition unchecked,
    however many sites the others passed; a stack is judged on its base panel only, so a panel
    picked into it holding none is no gap."""
    twins = TwinStore()
    bumped, bare = twins.get("W01"), twins.get("W02")
    bumped.bumps.height_um[:] = 60
    [result] = check_claims([conditions.tips_project("001:1b")], {"W01": bumped, "W02": bare})
    assert result.sites_checked == result.sites_passing == bumped.geometry.site_count
    assert result.verdict == "nothing to check: no site it judges on W02"
    stack = conditions.stacked_levels_joined("000:x2", 5, 300)
    assert stack.nothing_is_fine
    picked = Condition(
        "000:x2", "stack", lambda w: (w.has_bumps, w.has_bumps), nothing_is_fine=True
    )
    [result] = check_claims([picked], {"W01": bumped, "W02": bare})
    assert result.verdict == "pass"


# ----------------------------------------------------------------------------- dry runs


async def _run(store, recipe_text=None, lot=2, **open_args):
    prepared = prepare(RunRequest("plasma-clean", lot=lot))
    if recipe_text is not None:
        prepared.recipe = read_recipe_text(PlasmaCleanRecipe, recipe_text, "crafted")
    async with open_run(store, prepared, **open_args) as engine:
        for observer in open_args.get("observers", ()):
            if isinstance(observer, Injector):
                observer.engine = engine  # it clears the alarmed chamber as an operator would
        status = await engine.run()
    return engine, status, run_report(store, engine.run_id)


async def test_a_clean_product_passes_every_condition(store):
    events = []
    engine, status, report = await _run(store, observers=[events.append])
    assert status == "completed"
    check = report["claim_check"]
    assert check["status"] == "passed"
    assert [c["claim"] for c in check["conditions"]] == ["003:9", "003:10", "003:11"]
    for condition in check["conditions"]:
        assert condition["verdict"] == "pass"
        assert condition["wafers_checked"] == 2
        assert condition["sites_checked"] == condition["sites_passing"] > 10_000
    [event] = [e for e in events if e.kind == "claim-check"]
    assert event.status == "passed"
    assert len(event.data["conditions"]) == 3
    assert [e.kind for e in events][-2:] == ["claim-check", "run-finished"]
    recorded = [e for e in store.table("events", engine.run_id) if e["kind"] == "claim-check"]
    assert len(recorded) == 1


async def test_an_ar_step_too_short_leaves_oxide_and_the_check_names_the_claim(store):
    engine, status, report = await _run(store, SHORT_AR, lot=3)
    assert status == "completed"  # every wafer went through the tools ...
    check = report["claim_check"]  # ... but the product is not what the claim says
    assert check["status"] == "failed"
    assert "claim 003:11 (no oxide on the exposed metal (<= 0.1 nm))" in check["note"]
    oxide = {c["claim"]: c for c in check["conditions"]}["003:11"]
    assert oxide["verdict"] == "fail"
    assert oxide["sites_passing"] == 0
    assert oxide["failing_wafers"] == ["W01", "W02", "W03"]
    rows = store.table("claim_checks", engine.run_id)
    assert {r["claim"]: r["verdict"] for r in rows} == {
        "003:9": "pass",
        "003:10": "pass",
        "003:11": "fail",
    }


O2_ONLY = """
steps:
  - {gas: O2, flow_sccm: 100 sccm, pressure_mtorr: 200 mTorr, rf_power_w: 300 W, time_s: 60 s}
"""


async def test_an_o2_only_clean_is_judged_for_the_oxide_it_grows_as_bump_seal_clean_is(store):
    """A recipe of O2 alone claims no oxide removal (003:11), yet it leaves the exposed metal
    oxidised (3.8 nm, the line's O2 growth), which raises the connection resistance as 003:8
    says: plasma-clean judges residue and oxide whatever its gases, by bump-seal-clean's
    check (`conditions.left_clean`). Before, its check passed with only 003:9 and 003:10."""
    _, status, report = await _run(store, O2_ONLY, lot=1)
    assert status == "completed"
    check = report["claim_check"]
    verdicts = {c["claim"]: c["verdict"] for c in check["conditions"]}
    assert verdicts == {"003:9": "pass", "003:10": "pass", "003:11": "fail"}
    assert check["status"] == "failed"
    oxide = {c["claim"]: c for c in check["conditions"]}["003:11"]
    assert oxide["margin_worst"] > 3.0


async def test_held_wafers_are_listed_but_not_checked(store):
    injector = Injector("rf_mismatch")
    _, status, report = await _run(
        store, lot=6, observers=[injector], line_factory=injector.line_factory
    )
    assert status == "held"
    check = report["claim_check"]
    assert check["status"] == "passed"
    assert len(check["unchecked_wafers"]) == 4
    assert {c["wafers_checked"] for c in check["conditions"]} == {2}


# ----------------------------------------------------------------------------- coverage


def _package_methods():
    return [m for m in all_methods() if shipped(m)]


def test_every_claim_a_method_names_is_in_the_catalogue_and_mapped():
    methods = _package_methods()
    assert methods
    for method in methods:
        assert set(method.claims) <= set(CLAIMS), method.name
        assert set(method.claim_map) <= set(CLAIMS), method.name
        assert set(method.claims) <= set(method.claim_map), (
            f"{method.name}: claims without a claim_map entry: "
            f"{sorted(set(method.claims) - set(method.claim_map))}"
        )
        if method.claim_checks is not None:
            recipe, _ = method.load_default_recipe()
            for condition in method.claim_checks(recipe):
                assert condition.claim in CLAIMS


def test_coverage_lists_every_claim_of_the_four_documents():
    coverage = {c.claim.id: c for c in claim_coverage()}
    assert list(coverage) == list(CLAIMS)
    assert {c.claim.document for c in coverage.values()} == {"000", "001", "002", "003"}
    assert (
        "plasma-clean",
        "recipe option steps: O2 then Ar, step 'plasma clean'",
    ) in coverage["003:14"].implemented_by
    assert [method for method, _ in coverage["003:24"].implemented_by] == ["bump-seal-clean"]


def test_every_claim_is_proved_for_every_method_that_implements_it_by_the_test_below():
    """`packline claims` names, for each claim and method, the test that proves it and how
    (`Method.claims_proved_on_the_sim`): the test below, by this file, its name and the
    method's name as its parameter. A claim whose step is not named in its claim-map entry, no
    condition of which is checked, and which cites no checked condition, is proved by nothing:
    this fails, naming it, as it does when a claim loses its implementation."""
    proving = test_claim_map_steps_are_recorded_with_their_claims_on_the_sim.__name__
    here = f"tests/sequences/{Path(__file__).name}::{proving}"
    unproved = []
    for coverage in claim_coverage():
        assert coverage.implemented_by, f"{coverage.claim.id}: not implemented"
        for (method, _), proof in zip(coverage.implemented_by, coverage.proved_by, strict=True):
            if not shipped(get_method(method)):
                continue  # a test's own method, registered as it ran
            if proof is None:
                unproved.append(f"{coverage.claim.id} ({method})")
            else:
                assert proof[0] == f"{here}[{method}]"
    assert not unproved, f"claims no test proves: {', '.join(unproved)}"


@pytest.mark.parametrize("method", _package_methods(), ids=lambda m: m.name)
async def test_claim_map_steps_are_recorded_with_their_claims_on_the_sim(
    store, tmp_path, monkeypatch, method
):
    """Run the method on the sim with each shipped recipe (by its name, from a folder with no
    recipe file): every step tag is a catalogued id, every recipe's product passes its claim
    check, every "step 'X'" of the claim map is a step recorded with that claim id in at
    least one of the runs, every step its method declares irreversible is a step some run ran
    (a name misspelt there would be repeated by a resume), and the tools the run's steps used
    are those of exactly the roles its method declares the recipe drives (`Method.tools_for`;
    that a run connects only those is `test_recipe_tools`')."""
    monkeypatch.chdir(tmp_path)
    recorded: set[tuple[str, str]] = set()
    ran: set[str] = set()
    for name in method.reference_recipes():
        text, _ = method.reference_recipe_text(name)
        stack = yaml.safe_load(text).get("stack") or {}  # panels stacked: a lot of a stack
        prepared = prepare(RunRequest(method.name, recipe_path=name, lot=stack.get("levels", 1)))
        async with open_run(store, prepared) as engine:
            assert await engine.run() == "completed", name
        report = run_report(store, engine.run_id)
        assert report["claim_check"]["status"] in ("passed", "not run"), (name, report)
        entries = engine.spec.station.tools
        steps = store.table("steps", engine.run_id)
        declared = set(method.tools_for(prepared.recipe))
        assert {entries[step["tool"]].role for step in steps if step["tool"]} == declared, name
        ran |= {step["name"] for step in steps}
        for step in steps:
            for claim_id in json.loads(step["claims"]):
                assert claim_id in CLAIMS, (name, step["name"], claim_id)
                recorded.add((step["name"], claim_id))
    # an irreversible step's name misspelt would let a resume repeat the step it means
    unknown = sorted(method.irreversible - ran)
    assert not unknown, f"{method.name}: irreversible, but no step of that name ran: {unknown}"
    for claim_id, where in method.claim_map.items():
        for step in STEP_NAMED.findall(where):  # as `packline claims` reads it
            assert (step, claim_id) in recorded, (
                f"{method.name}: claim_map says {claim_id} is step {step!r}, "
                "but no sim run recorded that step with that claim"
            )


async def test_a_resumed_run_checks_the_wafers_of_every_session(store):
    # terminated as the first batch's wafers complete (a dry run's wafers all complete)
    run_id = await stopped_at(
        store, RunRequest("plasma-clean", lot=6), None, event="wafer-finished"
    )
    first = run_report(store, run_id)["claim_check"]
    assert {c["wafers_checked"] for c in first["conditions"]} == {4}
    assert first["unchecked_wafers"] == ["W05", "W06"]
    async with open_resume(store, run_id) as resumed:
        assert await resumed.run() == "completed"
    check = run_report(store, run_id)["claim_check"]
    assert check["status"] == "passed"
    assert check["unchecked_wafers"] == []
    assert {c["wafers_checked"] for c in check["conditions"]} == {6}  # W01-W04 from snapshots
    assert len(store.table("claim_checks", run_id)) == 3  # the latest check only


def test_the_plated_wiring_predicate_holds_after_a_good_plating_and_fails_after_a_wrong_one():
    """A sputtered seed thickened to 10 um of copper in its window passes a 10 um check; 5 um
    (half the charge) does not, nor does 10 um plated at 6 A/dm2 (burnt), nor a bare wafer."""
    physics = PlatingPhysics()
    wiring = conditions.wiring_plated_at_least("001:8", 10.0).evaluate

    def plated(charge_c: float, on_s: float) -> Workpiece:
        wafer = TwinStore().get("W01")
        count = wafer.geometry.site_count
        wafer.films.layers.append(Film.blanket(FilmMaterial.CU, 0.2, count))
        electroplate(wafer, Metal.CU, charge_c, on_s, 25.0, 60.0, 0.0, physics)
        return wafer

    area_cm2 = cathode_of(plated(0.0, 1.0), Metal.CU).site_area_cm2.sum()
    charge_c = charge_for_thickness_c(Metal.CU, 9.8, area_cm2, 0.98)  # on a 0.2 um seed
    good = plated(charge_c, charge_c / (2.0 * area_cm2 / 100))  # at 2 A/dm2
    checked, passing = wiring(good)
    assert checked.all()
    assert passing.all()
    assert good.films.layers[-1].thickness_um.mean() == pytest.approx(9.8, rel=1e-3)
    margin = conditions.wiring_plated_at_least("001:8", 10.0).margin
    assert margin is not None
    # seed and plating
    assert margin.worst_site(good, checked).value == pytest.approx(10.0, rel=1e-3)
    assert not wiring(plated(charge_c / 2, charge_c / 2 / (2.0 * area_cm2 / 100)))[1].any()
    burnt = plated(charge_c, charge_c / (6.0 * area_cm2 / 100))
    assert burnt.films.layers[-1].quality == "burnt"
    assert not wiring(burnt)[1].any()
    assert not wiring(TwinStore().get("W02"))[1].any()


def test_a_margin_is_the_worst_checked_site_over_the_lot_and_its_distance_to_the_limit():
    from packline.sim_instruments.twin import WaferSpec, new_wafer

    wafers = {w: new_wafer(w, WaferSpec(diameter_mm=100)) for w in ("W01", "W02")}
    projection = {"W01": 3.0, "W02": 12.0}  # um, at pad 7 of the wafer, 1 um more elsewhere

    def tip(w):
        tips = np.full(w.geometry.site_count, projection[w.id] + 1.0)
        tips[7] = projection[w.id]
        return tips

    def every(w):
        return np.ones(w.geometry.site_count, bool)

    condition = Condition(
        "003:7.3", "tips project (> 5 um)", lambda w: (every(w), tip(w) > 5.0),
        Margin("tip projection", "um", tip, 5.0),
    )  # fmt: skip
    (result,) = check_claims([condition], wafers)
    assert result.verdict == "fail"
    row = result.to_dict()
    assert (row["margin_quantity"], row["margin_worst"], row["margin"]) == (
        "tip projection", 3.0, -2.0,
    )  # fmt: skip
    # what was measured, the limit and the margin, each said: "3 um (2 um short)" had left
    # the reader to work out the limit (a trial read "0 um (0.5 um to spare)" as two figures
    # of one thing)
    # and where the worst site is, as the maps number the sites (a trial could not tell),
    # with the die it is on (a trial had to find that on the maps)
    die = int(wafers["W01"].geometry.site_unit[7])
    assert (row["margin_workpiece"], row["margin_entry"]) == ("W01", 7)
    assert row["margin_entry_unit"] == die
    assert margin_text(row) == "smallest tip projection 3 um, at least 5 um: 2 um short"
    assert located_margin_text(row) == f"{margin_text(row)} (W01 pad 7 on die {die})"
    (passing,) = check_claims([condition], {"W02": wafers["W02"]})
    assert (passing.to_dict()["margin"], passing.verdict) == (7.0, "pass")
    assert located_margin_text(passing.to_dict()) == (
        f"smallest tip projection 12 um, at least 5 um: 7 um to spare (W02 pad 7 on die {die})"
    )
    # a check recorded before schema 20 names the pad alone
    assert located_margin_text({**row, "margin_entry_unit": None}).endswith("short (W01 pad 7)")
    # a wafer-level condition's worst is the wafer; a check recorded before schema 18 says
    # no place, nor a phrase without a figure
    assert located_margin_text({**row, "margin_entry": None}).endswith("2 um short (W01)")
    assert located_margin_text({**row, "margin_workpiece": None}) == margin_text(row)
    # a row without a figure: a failing one names its first failing site, a passing one none
    assert located_margin_text({**row, "margin_worst": None}) == (
        f"first failing at W01 pad 7 on die {die}"
    )
    assert located_margin_text({**row, "margin_worst": None, "verdict": "pass"}) == "-"
    largest = {**row, "margin_above": 0, "margin_worst": 0.3, "margin": -0.2, "margin_unit": "nm",
               "margin_limit": 0.1}  # fmt: skip
    assert margin_text({**largest, "margin_quantity": "residue"}) == (
        "largest residue 0.3 nm, at most 0.1 nm: 0.2 nm over"
    )
    zero = {**row, "verdict": "pass", "margin_worst": -0.0, "margin": 0.5, "margin_limit": -0.5}
    assert margin_text({**zero, "margin_quantity": "resin above the die back"}) == (
        "smallest resin above the die back 0 um, at least -0.5 um: 0.5 um to spare"
    )
    # a trial's thin layer failed seven claims at 'smallest solder layer 8 um, at least 8 um':
    # a failing site is given the digits that tell it from its limit and the margin's
    # decimals (7.9996 had left the reader 0.0004 um short)
    thin = {**row, "margin_quantity": "solder layer", "margin_worst": 7.99961, "margin_limit": 8.0,
            "margin": 7.99961 - 8.0}  # fmt: skip
    assert margin_text(thin) == (
        "smallest solder layer 7.99961 um, at least 8 um: 0.00039 um short"
    )
    # a trial's passivation read '443 nm, at least 450 nm: 6.88 nm short', 7 nm by its figures
    sin = {**row, "margin_quantity": "passivation around a pad", "margin_unit": "nm",
           "margin_worst": 443.11851263046265, "margin_limit": 450.0,
           "margin": 443.11851263046265 - 450.0}  # fmt: skip
    assert margin_text(sin) == (
        "smallest passivation around a pad 443.12 nm, at least 450 nm: 6.88 nm short"
    )
    # a limit beside a finer margin is shown to its decimals too (443.1 had read 443)
    kept = {**sin, "verdict": "pass", "margin_limit": 443.1,
            "margin": 443.11851263046265 - 443.1}  # fmt: skip
    assert margin_text(kept) == (
        "smallest passivation around a pad 443.1185 nm, at least 443.1 nm: 0.0185 nm to spare"
    )
    residue = conditions.no_residue_on_tips("003:10").margin
    assert residue is not None
    assert (residue.quantity, residue.above, residue.limit) == ("residue", False, 0.1)


def test_a_failing_condition_without_a_figure_names_its_first_failing_site():
    """A trial's 001:14 (every pad connected to its ball, yes or no) failed on half the pads
    with `-` for its margin and no site: the row names the first pad that failed, on the
    first wafer that has one, as a margin names its worst (decision 0127)."""
    from packline.sim_instruments.twin import WaferSpec, new_wafer

    wafers = {w: new_wafer(w, WaferSpec(diameter_mm=100)) for w in ("W01", "W02")}

    def chained(w):
        connected = np.ones(w.geometry.site_count, bool)
        if w.id == "W02":
            connected[[16, 40]] = False
        return np.ones(w.geometry.site_count, bool), connected

    (result,) = check_claims([Condition("001:14", "every pad chained", chained)], wafers)
    row = result.to_dict()
    assert (result.verdict, row["margin_quantity"], row["margin_worst"]) == ("fail", None, None)
    assert (row["margin_workpiece"], row["margin_entry"]) == ("W02", 16)
    assert margin_text(row) == "-"  # the figures alone, as `diff` compares them
    die = int(wafers["W02"].geometry.site_unit[16])
    assert located_margin_text(row) == f"first failing at W02 pad 16 on die {die}"


def test_an_unbounded_margin_says_no_site_is_near_the_limit_and_json_writes_it_null():
    """A trial's balls narrower than their vias (each dropped onto its metal) read 'smallest
    ball's reach to the interconnect inf um, at least 0 um: inf um to spare (W01 pad 0)', and
    `show --json` wrote `Infinity`, which a strict JSON reader refuses."""
    from packline.sim_instruments.twin import WaferSpec, new_wafer

    wafers = {"W01": new_wafer("W01", WaferSpec(diameter_mm=100))}

    def every(w):
        return np.ones(w.geometry.site_count, bool)

    def unbounded(w):
        return np.full(w.geometry.site_count, np.inf)

    reach = Condition(
        "002:1i", "a terminal reaching every interconnect", lambda w: (every(w), every(w)),
        Margin("ball's reach to the interconnect", "um", unbounded, 0.0),
    )  # fmt: skip
    (result,) = check_claims([reach], wafers)
    row = result.to_dict()
    assert (result.verdict, row["margin_worst"], row["margin"]) == ("pass", np.inf, np.inf)
    text = "smallest ball's reach to the interconnect: no site near the limit (at least 0 um)"
    assert margin_text(row) == text
    assert located_margin_text(row) == text  # no site is the worst: none is named
    assert json.loads(json_text(row))["margin_worst"] is None
    # past every bound: a site whose metal touches nothing has no finite resistance
    contact = Condition(
        "003:7.3", "a contact at every site", lambda w: (every(w), ~every(w)),
        Margin("contact resistance", "mOhm", unbounded, 50.0, above=False),
    )  # fmt: skip
    (failed,) = check_claims([contact], wafers)
    assert failed.verdict == "fail"
    assert located_margin_text(failed.to_dict()) == (
        "largest contact resistance unbounded, at most 50 mOhm: over (W01 pad 0 on die 0)"
    )


def test_a_failing_rows_margin_is_the_part_that_failed_never_one_to_spare():
    """A lot of 7 of a 5-high stack had read `largest terminal off the column's centre 8.59
    um, at most 50 um: 41.4 um to spare | FAIL (W06)`: W06's units were short of levels, a
    part of the condition other than its margin. A failing row shows the first part whose
    worst site fails, its value against its limit; a passing row its margin as before; a
    failing row whose quantities all pass (a part judged yes or no failed) none, as a row
    recorded before does whose margin was to spare."""
    from packline.sim_instruments.twin import WaferSpec, new_wafer

    wafers = {w: new_wafer(w, WaferSpec(diameter_mm=100)) for w in ("W01", "W06")}
    stacked = {"W01": 4, "W06": 1}  # packages on every unit

    def full(w, value):
        return np.full(w.geometry.site_count, value, float)

    landing = Margin(
        "terminal off the column's centre", "um", lambda w: full(w, 8.59), 50.0, above=False
    )
    height = Margin(
        "number of packages stacked on a unit", "", lambda w: full(w, stacked[w.id]), 4.0
    )
    stack = Condition(
        "000:x2",
        "5 levels",
        lambda w: (full(w, 1) > 0, (full(w, stacked[w.id]) >= 4) & (full(w, 8.59) <= 50)),
        landing,
        parts=(height,),
    )
    (failed,) = check_claims([stack], wafers)
    row = failed.to_dict()
    assert (row["verdict"], row["margin_quantity"], row["margin_worst"], row["margin"]) == (
        "fail", "number of packages stacked on a unit", 1.0, -3.0,
    )  # fmt: skip
    assert (
        margin_text(row) == "smallest number of packages stacked on a unit 1, at least 4: 3 short"
    )
    (passed,) = check_claims([stack], {"W01": wafers["W01"]})
    assert margin_text(passed.to_dict()) == (
        "largest terminal off the column's centre 8.59 um, at most 50 um: 41.4 um to spare"
    )
    unjoined = Condition("000:x2", "joined", lambda w: (full(w, 1) > 0, full(w, 0) > 0), landing)
    (yes_no,) = check_claims([unjoined], wafers)
    assert (yes_no.verdict, yes_no.margin, margin_text(yes_no.to_dict())) == ("fail", None, "-")
    assert margin_text({**passed.to_dict(), "verdict": "fail"}) == "-"  # recorded before


def test_a_strict_limit_reads_as_one_and_a_site_at_it_fails():
    """An underexposed photo resin left no concave portion (002:1f) and had read `0 um, at
    least 0 um: 0 um to spare | FAIL`: a quantity that must pass its limit says so, and at
    the limit it fails."""
    from packline.sim_instruments.twin import WaferSpec, new_wafer

    wafer = new_wafer("W01", WaferSpec(diameter_mm=100))
    depth_um = {"value": 0.0}

    def depth(w):
        return np.full(w.geometry.site_count, depth_um["value"])

    concave = Condition(
        "002:1f",
        "a concave portion",
        lambda w: (depth(w) >= 0, depth(w) > 0),
        Margin("concave portion depth", "um", depth, 0.0, strict=True),
    )
    (at_it,) = check_claims([concave], {"W01": wafer})
    assert at_it.verdict == "fail"
    assert margin_text(at_it.to_dict()) == (
        "smallest concave portion depth 0 um, must be above 0 um: 0 um short"
    )
    depth_um["value"] = 3.0
    (deep,) = check_claims([concave], {"W01": wafer})
    assert margin_text(deep.to_dict()) == (
        "smallest concave portion depth 3 um, must be above 0 um: 3 um to spare"
    )
    below = {**deep.to_dict(), "margin_above": 0, "margin_worst": 5.0, "margin_limit": 5.0,
             "margin": 0.0, "verdict": "fail"}  # fmt: skip
    assert margin_text(below) == "largest concave portion depth 5 um, must be below 5 um: 0 um over"


def test_a_stack_short_of_levels_fails_000_x2_on_its_height():
    """000:x2's condition on a base panel whose units carry one package of the two asked: its
    row shows the packages stacked, not the landing error it passes."""
    from packline.sim_instruments.twin import PanelSpec
    from packline.sim_instruments.twin.incoming import new_panel

    panel = new_panel("W06", PanelSpec(rows=1, columns=2, columns_per_side=2))
    stack = conditions.stacked_levels_joined("000:x2", 3, 300)

    def level() -> StackLevel:
        stacked = StackLevel.empty("W07", panel.geometry.site_count)
        stacked.unit = np.arange(panel.geometry.unit_count, dtype=np.int32)
        stacked.joined[:] = True
        stacked.error_um[:] = 8.59
        return stacked

    panel.stack.levels.append(level())
    (short,) = check_claims([stack], {"W06": panel})
    assert short.verdict == "fail"
    assert margin_text(short.to_dict()) == (
        "smallest number of packages stacked on a unit 1, at least 2: 1 short"
    )
    panel.stack.levels.append(level())
    (whole,) = check_claims([stack], {"W06": panel})
    assert whole.verdict == "pass"
    assert margin_text(whole.to_dict()) == (
        "largest terminal off the column's centre 8.59 um, at most 150 um: 141 um to spare"
    )


async def test_the_report_shows_each_conditions_margin_from_the_records(store):
    prepared = prepare(RunRequest("bump-seal-clean", lot=1))
    async with open_run(store, prepared) as engine:
        assert await engine.run() == "completed"
    check = run_report(store, engine.run_id)["claim_check"]
    tips = next(c for c in check["conditions"] if c["claim"] == "003:7.3")
    assert tips["margin_quantity"] == "tip projection"
    assert tips["margin"] == pytest.approx(tips["margin_worst"])  # the limit is 0 um
    assert 0 < tips["margin_worst"] < 60


def test_every_pad_is_connected_through_the_stacked_levels_until_a_level_breaks():
    """Two wiring arrangements laid by the deposition's physics: studs, resin, a seed joining
    their tips, then studs on it, resin, a second seed, and balls joined on top. Every pad is
    connected through both levels; where a second-level stud is missing its tip stays buried
    and the second seed, lying on the resin, joins nothing there (not the first level's film
    under the resin): the chain breaks at those pads only. Asking for a third level, or
    balls that did not wet, breaks it everywhere."""
    physics = DepositionPhysics()
    chain = conditions.connected_through_levels("001:14", 2).evaluate
    wafer = TwinStore().get("W01")
    wafer.bumps.height_um[:] = 60
    wafer.add_resin(ResinKind.THERMOSET, 45)
    wafer.surface.residue_nm[:] = 0
    wafer.surface.oxide_nm[:] = 0
    deposit_film(wafer, Method.SPUTTER, Material.TI, 50, 0.01, physics)
    missing = np.arange(wafer.geometry.site_count) % 97 == 0  # no second stud there
    wafer.bumps.height_um[~missing] += 40
    wafer.add_resin(ResinKind.THERMOSET, 30)
    second = deposit_film(wafer, Method.SPUTTER, Material.TI, 50, 0.01, physics)
    assert second.level == 2
    wafer.balls.present[:] = True
    wafer.balls.joined[:] = True
    checked, passing = chain(wafer)
    assert checked.all()
    np.testing.assert_array_equal(passing, ~missing)
    assert not conditions.connected_through_levels("001:16", 3).evaluate(wafer)[1].any()
    wafer.balls.joined[:] = False
    assert not chain(wafer)[1].any()


def _concave(wafer: Workpiece, depth_um: float) -> None:
    """Laser a concave portion `depth_um` deep at every site of the top resin layer."""
    physics = LaserPhysics()
    sites = np.arange(wafer.geometry.site_count)
    args = (depth_um, 40.0, 20.0, 3.0, physics)
    ablate_vias(wafer, sites, via_pulses(wafer, sites, *args), *args)


def test_the_two_process_predicates_tell_a_via_opened_by_a_second_process_from_a_lasered_one():
    """002:1f/1h: a concave portion lasered part way then dry-etched through passes both; the
    same portion lasered on through in a second pass is one process: no concave portion was
    left by it (1f fails) and no second process opened it (1h fails)."""
    concave = conditions.concave_portions_with_resin_below("002:1f").evaluate
    second = conditions.vias_opened_by_a_second_process("002:1h").evaluate
    etched = conditions.vias_opened_by("002:13", OpeningProcess.DRY_ETCH).evaluate

    def coated() -> Workpiece:
        wafer = TwinStore().get("W01")
        wafer.add_resin(ResinKind.THERMOSET, 10.0, cure=1.0)
        return wafer

    assert not concave(coated())[1].any()  # no process yet
    good = coated()
    _concave(good, 8.0)
    assert concave(good)[1].all()
    left = conditions.concave_portions_with_resin_below("002:1f").margin
    assert left is not None
    every = np.ones(good.geometry.site_count, bool)
    assert left.worst_site(good, every).value == pytest.approx(2.0)  # 10 um of resin, 8 um lasered
    assert not second(good)[1].any()  # not open yet
    expose_to_plasma(good, Gas.O2, 1000.0, 180.0, PlasmaPhysics(), 180_000.0)  # 3 um of O2 etch
    assert concave(good)[1].all()
    assert second(good)[1].all()
    assert etched(good)[1].all()
    lasered_on = coated()  # a second pass of the same laser is the same process
    _concave(lasered_on, 8.0)
    _concave(lasered_on, 10.0)
    top = lasered_on.top_resin()
    assert top is not None
    assert top[1].open.all()
    assert not concave(lasered_on)[1].any()
    assert not second(lasered_on)[1].any()
    assert not etched(lasered_on)[1].any()


def test_a_claim_check_row_as_the_records_reader_gives_it_is_located_or_not():
    """`RunRecords.claim_checks()` gives the entry columns as nullable integers: a row's
    missing entry is pandas' NA, on which `located_margin_text` had raised (`NA != NA` has no
    truth value); its whole numbers are numpy's."""
    import pandas as pd

    row = {
        "margin_quantity": "tip projection", "margin_unit": "um", "margin_limit": 0.0,
        "margin_above": 1, "margin_strict": 1, "margin_worst": 12.0, "margin": 12.0,
        "verdict": "pass", "counted": "pad", "margin_workpiece": "W01",
    }  # fmt: skip
    frame = pd.DataFrame(
        [
            {**row, "margin_entry": 7, "margin_entry_unit": 0},
            {**row, "margin_entry": 7, "margin_entry_unit": None},
            {**row, "margin_entry": None, "margin_entry_unit": None},
        ]
    ).astype({"margin_entry": "Int64", "margin_entry_unit": "Int64"})
    located = [located_margin_text(r) for r in frame.to_dict("records")]
    assert [text.rsplit(" (", 1)[1] for text in located] == [
        "W01 pad 7 on die 0)", "W01 pad 7)", "W01)",
    ]  # fmt: skip


def test_001_4_judges_the_solder_resist_over_its_own_levels_metal_alone():
    """The solder resist covers the wiring over the metal standing in it (decision 0132): its
    field less the conducting films of its own wiring level, where present; a dielectric
    film there, or a lower level's wiring under the resin beneath it, stands in nothing."""
    wafer = TwinStore().get("W01")
    count = wafer.geometry.site_count
    condition = conditions.solder_resist_covering("001:4", "the wiring", Face.FRONT)
    assert condition.margin is not None
    every = np.ones(count, bool)

    def film(material: FilmMaterial, um: float, level: int) -> None:
        present = np.ones(count, bool)
        present[0] = False  # one site the pattern leaves bare
        thickness = np.full(count, um, np.float32)
        wafer.films.layers.append(Film(material, thickness, present, present, level=level))

    film(FilmMaterial.CU, 8.0, level=0)  # on the pads, under the sealing resin
    wafer.add_resin(ResinKind.THERMOSET, 45.0)
    film(FilmMaterial.CU, 5.0, level=1)  # the wiring on it
    film(FilmMaterial.SIN, 3.0, level=1)  # a dielectric beside it: no metal
    wafer.add_resin(ResinKind.SOLDER_RESIST, 14.6)
    over = condition.margin.worst_site(wafer, every)
    assert over.value == pytest.approx(9.6)  # 14.6 less the level's 5 um of copper alone
    assert not condition.evaluate(wafer)[1][1:].any()
    assert condition.evaluate(wafer)[1][0]  # no wiring there: the whole field covers
    assert condition.margin.quantity == "solder resist over the wiring"
