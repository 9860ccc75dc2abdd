"""Method bump-seal-clean (003:7) end to end on the simulated line, from the command line.

Every cleaning variant runs a lot of 25 with every claim condition passing, and the solder
bumps with a plated eutectic layer (003:19-21, the product claims 003:3-6) a small lot; wrong
recipes are refused before any tool sees a command; recipes that look right but make a wrong
product run and the claim check names the claim they violate.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import yaml
from pydantic import ValidationError

from packline.cli import main
from packline.clock import WallClock
from packline.drivers.roles.laser import Atmosphere
from packline.drivers.roles.oven import LastResult
from packline.sequences.bump_seal_clean import DEPTH_INTO_TAPE_TOLERANCE_UM, BumpSealCleanRecipe
from packline.sequences.bump_seal_clean import claim_conditions as conditions_of
from packline.sequences.bump_seal_clean.recipe import (
    LaserCleaning,
    PlasmaCleaning,
    PlatedSolderLayer,
    PrintedSolderLayer,
    TransferredSolderLayer,
)
from packline.sequences.engine import (
    Event,
    RunRequest,
    get_method,
    open_resume,
    open_run,
    prepare,
    run_report,
)
from packline.sequences.engine.claim_check import margin_columns, margin_text
from packline.sequences.engine.records import RunStore
from packline.sim_instruments import dicing_saw as simulated_saw
from packline.sim_instruments.line import SimulatedLine
from packline.sim_instruments.physics.dicing_saw import SawPhysics
from packline.sim_instruments.physics.flip_chip_bonder import FlipChipPhysics, joint_temperature_c
from packline.sim_instruments.physics.flip_chip_transfer import transfer_layer
from packline.sim_instruments.physics.oven import LoadHistory, ReflowPhysics, apply_run
from packline.sim_instruments.physics.stencil_printer import PrintPhysics, print_paste
from packline.sim_instruments.twin import TwinStore, Workpiece
from packline.sim_instruments.twin.freezing import thaw
from packline.testing.twin import sealed_solder_bumps

from .helpers import (
    RECIPES,
    completed_past_validate,
    failing_claims,
    reference_recipe,
    refusal,
    run_lot,
    validated_lot_of_one,
    validated_wrong_product,
    without_lines,
    write_recipe,
)

VARIANTS = {
    "bump-seal-clean.yaml": ("003:12", "003:14"),
    "bump-seal-clean-plasma-ar.yaml": ("003:12", "003:13"),
    "bump-seal-clean-plasma-o2-reducing.yaml": ("003:12", "003:15"),
    "bump-seal-clean-laser.yaml": ("003:16", "003:17", "003:18"),
}
METHOD_STEP_CLAIMS = {
    "form bumps": {"003:7.1", "003:22"},
    "laminate resin film": {"003:7.2"},
    "peel support": {"003:7.2"},
    "dice": {"003:23"},
}


def step_claims(db: Path, run_id: str) -> dict[str, set[str]]:
    """The claim ids recorded with each step of a run, by step name."""
    store = RunStore(db)
    try:
        steps = store.table("steps", run_id)
    finally:
        store.close()
    claims_of: dict[str, set[str]] = {}
    for step in steps:
        claims_of.setdefault(step["name"], set()).update(json.loads(step["claims"] or "[]"))
    return claims_of


def write_station(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "line.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_each_cleaning_variant_runs_a_lot_of_25_with_every_claim_condition_passing(
    db: Path, capsys: pytest.CaptureFixture[str], variant: str
):
    code, events = run_lot(capsys, "bump-seal-clean", RECIPES.joinpath(variant), 25)
    summary = events[-1]
    assert code == 0
    assert summary["status"] == "completed"
    assert [w["status"] for w in summary["wafers"]] == ["completed"] * 25
    check = summary["claim_check"]
    assert check["status"] == "passed"
    assert {c["verdict"] for c in check["conditions"]} == {"pass"}
    checked = {c["claim"] for c in check["conditions"]}
    assert {"003:7.1", "003:7.2", "003:7.3", "003:10", "003:11", "003:23"} <= checked
    assert all(c["wafers_checked"] == 25 for c in check["conditions"])

    # the records show every step with its claim ids, the cleaning variant's among them
    claims_of = step_claims(db, summary["run_id"])
    for name, claims in METHOD_STEP_CLAIMS.items():
        assert claims <= claims_of[name], name
    cleaning = claims_of.get("plasma clean", set()) | claims_of.get("laser clean", set())
    assert set(VARIANTS[variant]) <= cleaning
    assert {"003:7.3", "003:8", "003:22"} <= cleaning


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (  # type
            {"bumps": {"stack": "two"}},
            "bumps.stack = two: YAML reads it as text, but stack takes a whole number",
        ),
        (  # unit
            {"bumps": {"bond_force_gf": "30 mW"}},
            "bumps.bond_force_gf = '30 mW': '30 mW' is a power, expected a force",
        ),
        (  # range of a recipe field
            {"bumps": {"stack": 9}},
            "bumps.stack = 9: must be at most 4",
        ),
        (  # outside what any wire bonder takes (15-60 gf): refused as the recipe is read
            {"bumps": {"bond_force_gf": "100 gf"}},
            "bumps.bond_force_gf = '100 gf': must be at most 60 gf (the wire_bonder range of "
            "bond_force_gf: 15-60 gf; given 100 gf)",
        ),
        (  # outside what any laminator takes (20-100 um)
            {"resin": {"sheet_thickness_um": "15 um"}},
            "resin.sheet_thickness_um = '15 um': must be at least 20 um (the laminator range of "
            "resin_thickness_um: 20-100 um; given 15 um)",
        ),
        (  # claim constraint of 003:7: the resin film thinner than the bumps
            {"resin": {"sheet_thickness_um": "65 um"}},
            "resin.sheet_thickness_um = 65 um: laid up to 66.95 um (the laminator's 1% spread, "
            "to 3 sigma), it must be thinner than the bumps: the shortest bump the height "
            "inspection passes, bumps.height_um - bumps.height_tolerance_um = 60 - 6 = 54 um: "
            "give at most 52.4 um (claim 003:7.2)",
        ),
        (  # claim constraint of 003:18: the gas jet's residue must be sucked away
            {
                "cleaning": {
                    "method": "laser",
                    "fluence_j_cm2": "0.3 J/cm^2",
                    "rep_rate_khz": "100 kHz",
                    "pulses_per_site": 1000,
                    "atmosphere": "forming-gas",
                    "gas_jet": True,
                    "suction": False,
                }
            },
            "cleaning.suction = false: a gas jet peels the residue off; suction must take it "
            "away, or it redeposits (claim 003:18)",
        ),
        (  # the line's depth tolerance would pass a cut that stops at the tape's top
            {"dicing": {"depth_into_tape_um": "10 um"}},
            "dicing.depth_into_tape_um = '10 um': must be above 10 um (the line passes a cut up "
            "to 10 um shallower than this (its depth tolerance): at 10 um or less it would pass "
            "a cut that stops at the tape's top, the dies not cut free)",
        ),
    ],
    ids=[
        "type",
        "unit",
        "range",
        "bonder-limit",
        "laminator-limit",
        "claim-003:7",
        "claim-003:18",
        "depth-tolerance",
    ],
)
async def test_a_wrong_recipe_fails_validation_and_no_tool_sees_a_command(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], change: dict, expected: str
):
    recipe = reference_recipe("bump-seal-clean.yaml")
    for section, values in change.items():
        if section == "cleaning":
            recipe[section] = values
        else:
            recipe[section].update(values)
    recipe_file = write_recipe(tmp_path, recipe)
    async with SimulatedLine(WallClock()) as line:
        station = write_station(tmp_path, line.station.to_yaml())
        for command in ("validate", "run"):
            args = [command, "bump-seal-clean", "--station", str(station)]
            assert main([*args, "--recipe", str(recipe_file)]) == 2
            err = without_lines(capsys.readouterr().err)
            assert f"recipe file {recipe_file}: {expected}" in err
        assert {name: tool.received for name, tool in line.tools.items()} == {
            name: [] for name in line.tools
        }
    assert not db.exists()  # noqa: ASYNC240 - a stat, after every tool is stopped


async def test_a_setpoint_outside_the_stations_narrowed_limit_is_refused_before_any_tool_moves(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    recipe_file = write_recipe(
        tmp_path, reference_recipe("bump-seal-clean.yaml")
    )  # bond force 30 gf
    async with SimulatedLine(WallClock()) as line:
        station = yaml.safe_load(line.station.to_yaml())
        station["tools"]["wire_bonder"]["limits"] = {"bond_force_gf": [15, 25]}
        station_file = write_station(tmp_path, yaml.safe_dump(station))
        for command in ("validate", "run"):
            args = [command, "bump-seal-clean", "--station", str(station_file)]
            assert main([*args, "--recipe", str(recipe_file)]) == 2
            assert (
                f"recipe file {recipe_file}: bumps.bond_force_gf = 30 gf: outside the "
                "wire_bonder limit bond_force_gf [15, 25] gf"
            ) in without_lines(capsys.readouterr().err)
        assert all(tool.received == [] for tool in line.tools.values())
    assert not db.exists()  # noqa: ASYNC240 - a stat, after every tool is stopped


@pytest.mark.parametrize("recipe_name", ["bump-seal-clean.yaml", "sprout-bump-csp.yaml"])
def test_a_resin_over_the_shortest_bump_inspection_passes_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], recipe_name: str
):
    """A 59 um sheet under 60 um bumps inspected to +-6 um validated: bumps of 54 um pass the
    inspection, the laminator lays the sheet up to 3 % thicker, and the resin buried some
    (003:7.2 and 003:7.3 failed; sprout-bump-csp's wafer was held at its plating)."""
    recipe = reference_recipe(recipe_name)
    recipe["resin"]["sheet_thickness_um"] = "59 um"
    method = recipe_name.removesuffix(".yaml")
    claim = "003:7.2" if method == "bump-seal-clean" else "001:1b"
    assert refusal(capsys, tmp_path, method, recipe).endswith(
        ": resin.sheet_thickness_um = 59 um: laid up to 60.77 um (the laminator's 1% spread, to "
        "3 sigma), it must be thinner than the bumps: the shortest bump the height inspection "
        "passes, bumps.height_um - bumps.height_tolerance_um = 60 - 6 = 54 um: give at most "
        f"52.4 um (claim {claim})\n"
    )


def test_the_thickest_sheet_the_refusal_gives_leaves_every_tip_projecting(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """Bumps of a thin wire (about 48 um) declared 60 +- 15 um pass inspection from 45 um: the
    refusal's thickest sheet over them, 43.6 um, laid up to 44.9 um, leaves every tip
    projecting (before, a valid 50 um sheet buried them: 003:7.2 and 003:7.3 failed)."""
    recipe = reference_recipe("bump-seal-clean.yaml")
    recipe["bumps"].update(
        wire_diameter_um="25 um",
        bond_force_gf="35 gf",
        ultrasonic_power_mw="80 mW",
        height_tolerance_um="15 um",
    )
    recipe["resin"]["sheet_thickness_um"] = "50 um"
    assert "give at most 43.6 um (claim 003:7.2)" in refusal(
        capsys, tmp_path, "bump-seal-clean", recipe
    )
    recipe["resin"]["sheet_thickness_um"] = "43.6 um"
    code, events = run_lot(capsys, "bump-seal-clean", write_recipe(tmp_path, recipe), 1)
    assert code == 0
    assert events[-1]["claim_check"]["status"] == "passed"


def test_a_solder_bumps_height_is_worked_out_from_its_ball_and_a_stated_one_checked():
    """What a reflowed ball stands is the ball's, one fact: the recipe need not state it (it
    had to, and a stated height fed nothing but its own check); the shipped recipes state
    none, and a stated one is still the cross-check it was (refused when off, below)."""
    tree = reference_recipe(MOUNTED)
    assert "height_um" not in tree["bumps"]
    bumps = BumpSealCleanRecipe.model_validate(tree).bumps
    assert bumps.height_um is None
    assert round(bumps.shortest_um(), 1) == 87.8
    tree["bumps"]["height_um"] = "88 um"
    assert BumpSealCleanRecipe.model_validate(tree).bumps.height_um == 88.0


def test_a_solder_bump_height_its_ball_cannot_give_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """A 100 um ball stands 87.8 um on its pad: a stated 150 um was what a 95 um sheet was
    judged by (valid; the sheet buried the bumps and the plating found no tip); the sheet is
    judged by the ball's height."""
    recipe = reference_recipe(MOUNTED)
    recipe["bumps"]["height_um"] = "150 um"
    recipe["resin"]["sheet_thickness_um"] = "95 um"
    lines = refusal(capsys, tmp_path, "bump-seal-clean", recipe).splitlines()
    assert lines[0].endswith(
        ": bumps.height_um = 150 um: a bumps.ball_diameter_um = 100 um ball reflowed on its 70 "
        "um pad stands 87.8 um: give 87.8 um (to within 0.5 um) (claim 003:7.1)"
    )
    assert lines[1].endswith(
        ": resin.sheet_thickness_um = 95 um: laid up to 97.85 um (the laminator's 1% spread, to "
        "3 sigma), it must be thinner than the bumps: a bumps.ball_diameter_um = 100 um ball "
        "reflowed on its 70 um pad stands 87.8 um: give at most 85.2 um (claim 003:7.2)"
    )


def weak_ar(recipe: BumpSealCleanRecipe) -> BumpSealCleanRecipe:
    """`recipe` with its second plasma step, the Ar after the O2, at 100 W for 30 s: too weak
    for the oxide on the tips (validate refuses it, 003:11)."""
    cleaning = recipe.cleaning
    assert isinstance(cleaning, PlasmaCleaning)
    steps = list(cleaning.plasma.steps)
    steps[1] = steps[1].model_copy(update={"rf_power_w": 100.0, "time_s": 30.0})
    plasma = cleaning.plasma.model_copy(update={"steps": steps})
    return recipe.model_copy(update={"cleaning": cleaning.model_copy(update={"plasma": plasma})})


async def test_a_clean_too_short_for_the_oxide_runs_and_the_claim_check_names_003_11(
    store: RunStore,
):
    check = await completed_past_validate(
        store, "bump-seal-clean", "bump-seal-clean.yaml", weak_ar, lot=2
    )
    assert failing_claims(check) == {"003:11"}


def test_an_o2_only_clean_validates_and_the_claim_check_names_003_11(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """The reference's clean without its Ar step: O2 alone claims no oxide removal (003:14
    is O2 then Ar), so validate takes it, and the tips keep their oxide, grown by the O2
    (3.99 nm), which the claim check names (the method page's valid recipe that makes a
    wrong product)."""
    recipe = reference_recipe("bump-seal-clean.yaml")
    recipe["cleaning"]["plasma"]["steps"] = recipe["cleaning"]["plasma"]["steps"][:1]
    check = validated_wrong_product(capsys, tmp_path, "bump-seal-clean", recipe)
    assert failing_claims(check) == {"003:11"}
    assert "003:11" in check["note"]


def laser_in(atmosphere: str) -> Callable[[BumpSealCleanRecipe], BumpSealCleanRecipe]:
    """The laser clean of a recipe moved into `atmosphere` (validate refuses it on copper)."""

    def spoil(recipe: BumpSealCleanRecipe) -> BumpSealCleanRecipe:
        cleaning = recipe.cleaning.model_copy(update={"atmosphere": Atmosphere(atmosphere)})
        return recipe.model_copy(update={"cleaning": cleaning})

    return spoil


@pytest.mark.parametrize(
    ("atmosphere", "left"), [("air", "grow it to 6"), ("N2", "leave it at 2.25")]
)
async def test_a_laser_clean_in_an_atmosphere_that_leaves_oxide_is_refused_naming_003_11(
    store: RunStore, tmp_path: Path, capsys: pytest.CaptureFixture[str], atmosphere: str, left: str
):
    """In air the beam's heat grows oxide on the copper tips (6 nm), in N2 it stays (2.25 nm):
    both validated and failed 003:11 on every wafer. Refused by the laser's physics, naming
    the atmosphere that takes it off; driven past validate, the claim check finds it."""
    recipe = reference_recipe("bump-seal-clean-laser.yaml")
    recipe["cleaning"]["atmosphere"] = atmosphere
    assert refusal(capsys, tmp_path, "bump-seal-clean", recipe).endswith(
        f": cleaning.atmosphere = {atmosphere}: the tips (Cu studs bonded at 150 degC) bring "
        f"2.25 nm of oxide; 1000 pulses a site at 0.3 J/cm^2 in {atmosphere} {left} nm by the "
        "laser's physics (at most 0.1 nm may stay): give forming-gas (claim 003:11)\n"
    )
    check = await completed_past_validate(
        store, "bump-seal-clean", "bump-seal-clean-laser.yaml", laser_in(atmosphere)
    )
    assert failing_claims(check) == {"003:11"}


def test_a_laser_clean_short_of_the_residue_is_refused_with_the_least_pulses_that_clear_it(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """100 pulses a site validated and failed 003:10 (430 nm of smear left on the tips): the
    refusal gives the least pulses by the laser's physics, one fewer is refused, and a lot at
    the least completes with the claim check passed."""
    recipe = reference_recipe("bump-seal-clean-laser.yaml")
    recipe["cleaning"]["pulses_per_site"] = 100
    assert refusal(capsys, tmp_path, "bump-seal-clean", recipe).endswith(
        ": cleaning.pulses_per_site = 100: the tips (Cu studs bonded at 150 degC, smeared by "
        "the resin pressed at 100 degC and 0.5 MPa) bring up to 480 nm of residue; 100 pulses "
        "a site at 0.3 J/cm^2 leave 430 nm of it by the laser's physics (at most 0.1 nm may "
        "stay): give at least 960 (claim 003:10)\n"
    )
    recipe["cleaning"]["pulses_per_site"] = 959
    assert "give at least 960 (claim 003:10)" in refusal(
        capsys, tmp_path, "bump-seal-clean", recipe
    )
    recipe["cleaning"]["pulses_per_site"] = 960
    summary = validated_lot_of_one(capsys, tmp_path, "bump-seal-clean", recipe)
    assert summary["claim_check"]["status"] == "passed"


def test_a_laser_clean_without_a_gas_jet_is_refused_naming_what_falls_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """Without a jet a twentieth of the lifted smear falls back (24 nm): no pulse count
    clears it, so the refusal names the jet."""
    recipe = reference_recipe("bump-seal-clean-laser.yaml")
    recipe["cleaning"]["gas_jet"] = False
    refused = refusal(capsys, tmp_path, "bump-seal-clean", recipe)
    assert refused.endswith(
        ": cleaning.gas_jet = false: the tips (Cu studs bonded at 150 degC, smeared by the resin "
        "pressed at 100 degC and 0.5 MPa) bring up to 480 nm of residue; 1000 pulses a site at "
        "0.3 J/cm^2 leave 24 nm of it by the laser's physics (at most 0.1 nm may stay); without "
        "a gas jet part of what the beam lifts falls back, 24 nm of it however many pulses: "
        "give cleaning.gas_jet: true with cleaning.suction: true (003:18), which carry it off "
        "(claim 003:10)\n"
    )


def test_a_laser_clean_too_weak_for_the_residue_is_refused_with_the_least_fluence(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """At 0.1 J/cm^2 the laser's most pulses (1000) leave 380 nm: the refusal gives the least
    fluence for the recipe's pulses, and a lot at it completes with the claim check passed;
    where no fluence the laser gives does it at the recipe's pulses, the most and the least
    pulses at it."""
    recipe = reference_recipe("bump-seal-clean-laser.yaml")
    recipe["cleaning"]["fluence_j_cm2"] = "0.1 J/cm^2"
    assert refusal(capsys, tmp_path, "bump-seal-clean", recipe).endswith(
        "1000 pulses a site at 0.1 J/cm^2 leave 380 nm of it by the laser's physics (at most "
        "0.1 nm may stay): give at least 0.29 J/cm^2 (claim 003:10)\n"
    )
    recipe["cleaning"]["fluence_j_cm2"] = "0.29 J/cm^2"
    summary = validated_lot_of_one(capsys, tmp_path, "bump-seal-clean", recipe)
    assert summary["claim_check"]["status"] == "passed"
    recipe["cleaning"].update(fluence_j_cm2="0.25 J/cm^2", pulses_per_site=600)
    assert refusal(capsys, tmp_path, "bump-seal-clean", recipe).endswith(
        ": give 0.3 J/cm^2, the laser's most for a clean, and pulses_per_site at least 960 "
        "(claim 003:10)\n"
    )


def test_a_gas_jet_under_reduced_pressure_is_refused_before_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """A gas jet under reduced pressure validated, and every wafer was held after its
    irreversible steps at the laser, which refuses it (`CleanRecipe: a gas jet cannot run
    under reduced pressure`): refused naming both fields and why."""
    recipe = reference_recipe("bump-seal-clean-laser.yaml")
    recipe["cleaning"]["atmosphere"] = "reduced-pressure"
    assert (
        ": cleaning.gas_jet = true: with cleaning.atmosphere = reduced-pressure: a gas jet "
        "blows the atmosphere's gas at the wafer, and a chamber pumped down to reduced pressure "
        "has none to blow: give an atmosphere at pressure (air, N2, Ar, forming-gas) or turn "
        "the gas jet off (claim 003:18)\n"
    ) in refusal(capsys, tmp_path, "bump-seal-clean", recipe)


def test_methods_lists_the_claims_of_the_method(capsys: pytest.CaptureFixture[str]):
    assert main(["methods", "--json"]) == 0
    methods = {m["name"]: m for m in json.loads(capsys.readouterr().out)}
    claims = set(methods["bump-seal-clean"]["claims"])
    assert {"003:7.1", "003:7.2", "003:7.3", "003:13", "003:16", "003:23"} <= claims


# ---------------------------------------------------------------- solder bumps, eutectic layer

SOLDER = "bump-seal-clean-solder-plated.yaml"
SOLDER_STEP_CLAIMS = {
    "apply flux": {"003:7.1", "003:19", "003:22"},
    "mount balls": {"003:7.1", "003:19", "003:22"},
    "reflow balls": {"003:7.1", "003:19", "003:22"},
    "laminate resin film": {"003:7.2"},
    "plasma clean": {"003:7.3", "003:14"},
    "electroplate solder layer": {"003:19", "003:20", "003:21"},
    "reflow solder layer": {"003:19", "003:20"},
    "dice": {"003:23"},
}
#: What the solder variant's claim check must evaluate: claim 1, the layer and the products.
SOLDER_CONDITIONS = {
    "003:7.1", "003:7.2", "003:7.3", "003:10", "003:11", "003:19", "003:20",
    "003:3", "003:4", "003:5", "003:6", "003:23",
}  # fmt: skip


def test_solder_bumps_with_a_plated_eutectic_layer_run_with_every_product_claim_passing(
    db: Path, capsys: pytest.CaptureFixture[str]
):
    """High-lead balls reflowed into bumps on every pad, sealed, cleaned, a Sn63Pb37 layer
    plated on the tips and reflowed at 220 degC: the cores stay solid (003:20) and the
    product shows claims 003:3-6 on every bump."""
    code, events = run_lot(capsys, "bump-seal-clean", RECIPES.joinpath(SOLDER), 3)
    summary = events[-1]
    assert code == 0, summary
    assert [w["status"] for w in summary["wafers"]] == ["completed"] * 3
    check = summary["claim_check"]
    assert check["status"] == "passed"
    assert {c["claim"] for c in check["conditions"]} >= SOLDER_CONDITIONS
    layered = [c for c in check["conditions"] if c["claim"] in {"003:3", "003:6"}]
    assert all(c["sites_checked"] == c["sites_passing"] > 3 * 8000 for c in layered)
    claims_of = step_claims(db, summary["run_id"])
    for name, claims in SOLDER_STEP_CLAIMS.items():
        assert claims <= claims_of[name], name


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (  # 003:19: a solder layer needs solder bumps
            {"bumps": {"method": "stud", **reference_recipe("bump-seal-clean.yaml")["bumps"]}},
            "bumps.method = stud: a solder layer goes on solder bumps: bumps.method must be "
            "solder-ball (claim 003:19)",
        ),
        (  # 003:19: a layer of the bumps' own solder is no other composition
            {"bumps": {"alloy": "Sn63Pb37", "height_um": "88 um"}},
            "solder_layer.plating.metal = SnPb: the layer must differ in composition from the "
            "Sn63Pb37 bumps (claim 003:19)",
        ),
        (  # 003:20: the layer must be a eutectic: the bath's that is, not pure tin
            {"solder_layer": {"plating": {"metal": "Sn"}}},
            "solder_layer.plating.metal = Sn: Sn is no eutectic solder (a pure metal, no "
            "alloy): the layer on high-melting bumps is a eutectic; of this option's choices "
            "give Sn63Pb37 (183 degC) (claim 003:20)",
        ),
        (  # 003:20: the layer's reflow must leave the high-melting cores solid
            {"solder_layer": {"reflow": {"peak_c": "320 degC"}}},
            "solder_layer.reflow.peak_c = 320 degC: must stay below the solidus of the "
            "Pb95Sn5 bumps (308 degC), where their high-melting cores begin to melt (claim "
            "003:20)",
        ),
        (  # the balls' reflow must melt them
            {"bumps": {"reflow": {"peak_c": "300 degC"}}},
            "bumps.reflow.peak_c = 300 degC: must be above the liquidus of Pb95Sn5 (314 "
            "degC): the balls would not melt (claim 003:7.1)",
        ),
        (  # outside what any ball mounter takes (100-760 um balls)
            {"bumps": {"ball_diameter_um": "80 um"}},
            "bumps.ball_diameter_um = '80 um': must be at least 100 um (the ball_mounter range "
            "of ball_diameter_um",
        ),
        (  # outside what any oven takes
            {"solder_layer": {"reflow": {"peak_c": "400 degC"}}},
            "solder_layer.reflow.peak_c = '400 degC': must be at most",
        ),
        (  # a copper bath plates no solder
            {"solder_layer": {"plating": {"metal": "Cu"}}},
            "solder_layer.plating.metal = Cu: a solder layer is plated from a solder bath "
            "(Sn, SnPb) (claim 003:21)",
        ),
        (  # a thinner deposit than the product needs
            {"solder_layer": {"plating": {"min_thickness_um": "12 um"}}},
            "solder_layer.plating.thickness_um = 10 um: below min_thickness_um = 12 um: the "
            "plating cannot give the deposit it needs",
        ),
        (  # half the tips' area stated: a recipe written for other bumps or another wafer
            {"solder_layer": {"plating": {"plated_area_cm2": "0.16 cm^2"}}},
            "solder_layer.plating.plated_area_cm2 = 0.16 cm^2: the design's plated area is 0.3214 "
            "cm^2 (the 8352 bump tips of 70 um on a 200 mm wafer): the stated area is 50% of "
            "it, more than 10% off, a recipe written for another mask or wafer (claim 003:19)",
        ),
    ],
    ids=[
        "claim-003:19-stud",
        "claim-003:19-same-solder",
        "claim-003:20-not-eutectic",
        "claim-003:20-core-melts",
        "ball-reflow-too-cool",
        "ball-mounter-limit",
        "oven-limit",
        "copper-bath",
        "plated-thinner-than-needed",
        "plated-area-far-off",
    ],
)
async def test_a_wrong_solder_recipe_fails_validation_and_no_tool_sees_a_command(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], change: dict, expected: str
):
    recipe = reference_recipe(SOLDER)
    merge(recipe, change)
    await refused_before_any_tool_moves(db, tmp_path, capsys, recipe, expected)


async def refused_before_any_tool_moves(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], recipe: dict, expected: str
) -> None:
    """`validate` and `run` against a served simulated line both refuse `recipe` with the
    error `expected`; no tool received a command and no run was recorded."""
    recipe_file = write_recipe(tmp_path, recipe)
    async with SimulatedLine(WallClock()) as line:
        station = write_station(tmp_path, line.station.to_yaml())
        for command in ("validate", "run"):
            args = [command, "bump-seal-clean", "--station", str(station)]
            assert main([*args, "--recipe", str(recipe_file)]) == 2
            assert f"recipe file {recipe_file}: {expected}" in without_lines(
                capsys.readouterr().err
            )
        assert all(tool.received == [] for tool in line.tools.values())
    assert not db.exists()  # noqa: ASYNC240 - a stat, after every tool is stopped


def merge(recipe: dict, change: dict) -> None:
    """Merge `change` into `recipe`, section by section; a section naming its `method` (an
    option of its own) replaces the recipe's."""
    for key, value in change.items():
        if isinstance(value, dict) and isinstance(recipe.get(key), dict) and "method" not in value:
            merge(recipe[key], value)
        else:
            recipe[key] = value


async def test_a_clean_too_short_for_the_oxide_fails_the_products_of_claim_2_only(
    store: RunStore,
):
    """Oxide left on the tips under the layer: the layer is there (003:3, 003:5 pass), but
    the tips were not cleaned of it (003:11, and the products of claim 2: 003:4, 003:6)."""
    check = await completed_past_validate(store, "bump-seal-clean", SOLDER, weak_ar)
    assert failing_claims(check) == {"003:11", "003:4", "003:6"}
    # the layer passes: the rows of claim 2's products name the oxide beneath it, where they
    # had shown no margin (decision 0106)
    assert (
        rows_of(check, "003:4", "003:6")
        == ["largest oxide beneath the layer 3.4 nm, at most 0.1 nm: 3.3 nm over"] * 2
    )


def rows_of(check: dict, *claims: str) -> list[str]:
    """The margin texts of the conditions of `claims` in a claim check, in its order."""
    return [margin_text(c) for c in check["conditions"] if c["claim"] in claims]


async def test_a_laser_clean_without_its_gas_jet_fails_claim_2_on_the_residue_beneath_the_layer(
    store: RunStore,
):
    """The plated layer's recipe cleaned by the laser reference's clean without its gas jet
    (validate refuses it, 003:18), driven past validate: part of what the beam lifts falls
    back, 24.1 nm of residue under a layer that passes; 003:4 and 003:6 name it."""
    laser = reference_recipe("bump-seal-clean-laser.yaml")["cleaning"]

    def without_jet(recipe: BumpSealCleanRecipe) -> BumpSealCleanRecipe:
        cleaning = LaserCleaning.model_validate({**laser, "gas_jet": False})
        return recipe.model_copy(update={"cleaning": cleaning})

    check = await completed_past_validate(store, "bump-seal-clean", SOLDER, without_jet)
    assert failing_claims(check) == {"003:10", "003:4", "003:6"}
    assert (
        rows_of(check, "003:4", "003:6")
        == ["largest residue beneath the layer 24.1 nm, at most 0.1 nm: 24 nm over"] * 2
    )


def test_a_layer_reflow_below_the_eutectic_liquidus_is_refused_naming_003_20(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """A 175 degC peak never melts the Sn63Pb37 layer: it validated and the wafer was held at
    'reflow solder layer' (peak 174.7 below 183); it is refused, and a peak a degree above the
    liquidus runs a lot of 1 with every claim passing."""
    recipe = reference_recipe(SOLDER)
    recipe["solder_layer"]["reflow"]["peak_c"] = "175 degC"
    assert refusal(capsys, tmp_path, "bump-seal-clean", recipe).endswith(
        ": solder_layer.reflow.peak_c = 175 degC: must be above the liquidus of Sn63Pb37 (183 "
        "degC): the layer's solder would not melt (claim 003:20)\n"
    )
    recipe["solder_layer"]["reflow"]["peak_c"] = "184 degC"
    code, events = run_lot(capsys, "bump-seal-clean", write_recipe(tmp_path, recipe), 1)
    assert code == 0
    assert events[-1]["claim_check"]["status"] == "passed"


def assert_held_at(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, recipe: dict, step: str, measured: str
) -> str:
    """A wafer of `recipe` is held at `step` by its measurement `measured`; the reason."""
    code, events = run_lot(capsys, "bump-seal-clean", write_recipe(tmp_path, recipe), 1)
    wafer = events[-1]["wafers"][0]
    assert code == 1
    assert wafer["status"] == "held"
    assert f"step '{step}'" in wafer["reason"]
    assert measured in wafer["reason"]
    reason: str = wafer["reason"]
    return reason


def test_a_ball_map_short_of_the_dies_pads_runs_and_the_claim_check_names_003_7_1(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """A map of 24 positions on dies of 32 pads: the cell inspects the mapped sites only and
    finds nothing missing, but a quarter of the pads carry no bump."""
    recipe = reference_recipe(SOLDER)
    recipe["bumps"]["balls_per_unit"] = 24
    check = validated_wrong_product(capsys, tmp_path, "bump-seal-clean", recipe)
    bumps = next(c for c in check["conditions"] if c["claim"] == "003:7.1")
    assert bumps["verdict"] == "fail"
    assert bumps["sites_passing"] == bumps["sites_checked"] * 3 // 4


@pytest.mark.parametrize(
    "name",
    [
        SOLDER,
        "bump-seal-clean-solder-printed.yaml",
        "bump-seal-clean-solder-transferred.yaml",
        "bump-seal-clean-solder-mounted.yaml",
    ],
)
def test_no_two_claims_read_the_same_condition(name: str):
    """003:20, 003:5 and 003:21 (and 003:19 and 003:3) had read the same condition with the
    same margin, so a reader of the claim check could not tell their rows apart: every
    condition's text is its own, and 003:24's says what it counts, the board's pads."""
    recipe = BumpSealCleanRecipe.model_validate(reference_recipe(name))
    texts = [condition.text for condition in conditions_of(recipe)]
    assert len(texts) == len(set(texts)), texts
    if recipe.mounting is not None:
        (joints,) = [c for c in conditions_of(recipe) if c.claim == "003:24"]
        assert joints.text == "a joint at every pad under the dies on its board"


# ---------------------------------------------------------------- chips mounted on a board

MOUNTED = "bump-seal-clean-solder-mounted.yaml"


def test_chips_mounted_on_their_board_by_their_eutectic_layers(
    db: Path, capsys: pytest.CaptureFixture[str]
):
    """After dicing, 4 chips of the wafer flipped onto its board B<wafer> and bonded at a
    217 degC joint: every bump's eutectic layer wets its pad (003:24), checked on the board."""
    code, events = run_lot(capsys, "bump-seal-clean", RECIPES.joinpath(MOUNTED), 1)
    summary = events[-1]
    assert code == 0, summary
    joints = next(c for c in summary["claim_check"]["conditions"] if c["claim"] == "003:24")
    assert joints["verdict"] == "pass"
    assert joints["sites_checked"] == 4 * 32  # the 32 bumps of each of the 4 chips
    assert "003:24" in step_claims(db, summary["run_id"])["mount chips"]


async def test_a_run_stopped_after_its_chips_were_mounted_resumes_with_its_board(
    store: RunStore,
):
    """Terminated as the bonder unloads the diced wafer, its chips bonded on the board (the
    board not yet unloaded): the resume restores the board from its last snapshot, not a bare
    one, so the claim check finds a joint at every terminal of the mounted chips (003:24)."""

    def terminate_after_the_mounting(event: Event) -> None:
        if event.kind == "step-started" and event.step == "unload die source":
            engine.request("terminate", "test")

    prepared = prepare(RunRequest("bump-seal-clean", lot=1, recipe_path=RECIPES / MOUNTED))
    async with open_run(store, prepared, observers=[terminate_after_the_mounting]) as engine:
        assert await engine.run() == "terminated"
    async with open_resume(store, engine.run_id) as resumed:
        assert await resumed.run() == "completed"
    check = run_report(store, engine.run_id)["claim_check"]
    assert check["status"] == "passed", failing_claims(check)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (  # more chips than the board has sites: the bonder refused units past 260 (error 10)
            {"chips": 5000},
            "mounting.chips = 5000: the board has a chip site for each of the wafer's 261 whole "
            "dies (the chips its dicing makes, the line's 200 mm wafer of 10 x 10 mm dies): at "
            "most 261 (claim 003:24)",
        ),
        (  # a bond shorter than the molten layer takes to wet: no chip bonded
            {"bond_time_s": "0.5 s"},
            "mounting.bond_time_s = 0.5 s: the chips' bumps' Sn63Pb37 layers, molten under the "
            "head, take 2 s to wet the board's pads (the bonder's wetting time): give at least "
            "2 s (claim 003:24)",
        ),
        (  # 100 + 0.9 x 60 degC = 154 degC: the layer never melts, no chip bonded
            {"head_temperature_c": "160 degC"},
            "mounting.head_temperature_c = 160 degC: the chips are joined to the board by their "
            "bumps' Sn63Pb37 layers, which melt above the liquidus of Sn63Pb37 (183 degC); over "
            "the stage at mounting.stage_temperature_c = 100 degC the joint reaches 154.0 degC: "
            "give a head of at least 193 degC (claim 003:24)",
        ),
    ],
    ids=["more-chips-than-sites", "bond-shorter-than-wetting", "joint-below-the-layer"],
)
def test_a_mounting_the_bonder_cannot_join_is_refused_naming_003_24(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: dict, expected: str
):
    """Two-process-via's mounting checks in 003's words: each of these validated and the
    wafer was held at 'mount chips' (a joint below the layer's liquidus or a bond shorter than
    its wetting time bonds no chip; the board has no unit past 260)."""
    recipe = reference_recipe(MOUNTED)
    recipe["mounting"].update(change)
    assert f": {expected}\n" in refusal(capsys, tmp_path, "bump-seal-clean", recipe)


def test_two_process_vias_word_for_the_chips_is_refused_naming_chips(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """`devices` (002's word) in 003's mounting was 'not a field of mounting', naming none."""
    recipe = reference_recipe(MOUNTED)
    recipe["mounting"]["devices"] = recipe["mounting"].pop("chips")
    assert refusal(capsys, tmp_path, "bump-seal-clean", recipe).endswith(
        ": mounting.devices = 4: not a field of mounting: did you mean chips?\n"
    )


def test_solder_bumps_without_a_layer_are_joined_above_their_own_liquidus(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """With no layer the Pb95Sn5 bumps themselves must melt under the head (314 degC)."""
    recipe = reference_recipe(MOUNTED)
    del recipe["solder_layer"]
    assert (
        "mounting.head_temperature_c = 230 degC: the chips are joined to the board by their "
        "solder bumps, which melt above the liquidus of Pb95Sn5 (314 degC)"
    ) in refusal(capsys, tmp_path, "bump-seal-clean", recipe)


def test_the_least_mounting_the_refusals_give_mounts_every_chip(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """The least head (193 degC), the wetting time (2 s) and a chip on every site (261) that
    the refusals give: a lot of 1 mounts them all, every bump joined (003:24)."""
    recipe = reference_recipe(MOUNTED)
    recipe["mounting"].update(chips=261, head_temperature_c="193 degC", bond_time_s="2 s")
    code, events = run_lot(capsys, "bump-seal-clean", write_recipe(tmp_path, recipe), 1)
    summary = events[-1]
    assert code == 0, summary
    joints = next(c for c in summary["claim_check"]["conditions"] if c["claim"] == "003:24")
    assert joints["sites_checked"] == joints["sites_passing"] == 261 * 32


def test_mounting_an_undiced_wafer_is_refused_naming_003_24(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    recipe = reference_recipe(MOUNTED)
    del recipe["dicing"]
    recipe_file = write_recipe(tmp_path, recipe)
    assert main(["validate", "bump-seal-clean", "--recipe", str(recipe_file)]) == 2
    assert (
        f"recipe file {recipe_file}: dicing = none: chips are mounted once the wafer is cut "
        "into them: give a dicing section (claim 003:24)"
    ) in without_lines(capsys.readouterr().err)


def test_a_solder_layer_plated_thinner_than_its_minimum_is_refused_naming_003_19(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """The layer's plating below its `min_thickness_um` named no claim: the layer of another
    solder on every tip, at least that thick, is what the claim check holds to 003:19."""
    recipe = reference_recipe(SOLDER)
    recipe["solder_layer"]["plating"]["thickness_um"] = "5 um"
    assert main(["validate", "bump-seal-clean", "--recipe", str(write_recipe(tmp_path, recipe))])
    assert capsys.readouterr().err.endswith(
        ": solder_layer.plating.thickness_um = 5 um: below min_thickness_um = 8 um: the plating "
        "cannot give the deposit it needs (claim 003:19)\n"
    )


def test_a_plated_layer_at_the_least_thickness_passes_validate_the_line_and_the_claim_check(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """Plated at exactly its 8 um minimum the layer validated, the bath's efficiency a degree
    off its working temperature left 7.99 um at the XRF, and the line held the wafer; at
    8.01 um the XRF read 8.00 and the line passed it, but the claim check failed 003:19 by
    0.0012 um. Validate refuses a plating short of the least that reads 8 um at the bath's
    worst (8.03 um: one XRF step over, at 91.8 % of the nominal 92 %), naming it; that least
    runs, passes the line's XRF, and every claim of the layer, which judges the layer
    itself."""
    recipe = reference_recipe(SOLDER)
    recipe["solder_layer"]["plating"]["thickness_um"] = "8.02 um"
    assert without_lines(refusal(capsys, tmp_path, "bump-seal-clean", recipe)).endswith(
        ": solder_layer.plating.thickness_um = 8.02 um: the cell passes the charge of it at "
        "the SnPb bath's nominal efficiency (92%), and the bath, within 1 degC of its 25 degC, "
        "may plate at 24 degC, away from its 25 degC working temperature, where its "
        "efficiency is 91.8% (the line's figures); its XRF head reads the deposit to 0.01 um "
        "and the line holds the wafer on that reading below min_thickness_um = 8 um: give at "
        "least 8.03 um (claim 003:19)\n"
    )
    recipe["solder_layer"]["plating"]["thickness_um"] = "8.03 um"
    summary = validated_lot_of_one(capsys, tmp_path, "bump-seal-clean", recipe)
    assert [w["status"] for w in summary["wafers"]] == ["completed"]
    assert summary["claim_check"]["status"] == "passed"
    layer = {
        c["claim"]: c["margin_worst"]
        for c in summary["claim_check"]["conditions"]
        if c.get("margin_quantity") == "solder layer"
    }
    assert set(layer) == {"003:3", "003:4", "003:5", "003:6", "003:19", "003:20", "003:21"}
    (worst,) = set(layer.values())  # the one deposit, judged as it is
    assert worst == pytest.approx(8.02, abs=0.005)  # which the XRF reads as 8.02


def test_a_laser_clean_with_a_gas_jet_has_suction_unless_it_is_turned_off(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """`suction` defaulted to false, which 003:18 refuses beside a gas jet: left out it is on,
    and turned off it is refused as before."""
    recipe = reference_recipe("bump-seal-clean-laser.yaml")
    del recipe["cleaning"]["suction"]
    path = write_recipe(tmp_path, recipe)
    assert main(["validate", "bump-seal-clean", "--recipe", str(path)]) == 0
    capsys.readouterr()
    recipe["cleaning"]["suction"] = False
    assert main(["validate", "bump-seal-clean", "--recipe", str(write_recipe(tmp_path, recipe))])
    assert "cleaning.suction = false: a gas jet peels" in capsys.readouterr().err


def test_a_stud_height_the_program_cannot_give_is_refused_and_the_heights_it_names_pass(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """A stack of two studs stands about 100 um (the line's stud law, which the simulated
    bonder forms its studs by): stated 60 um it validated and every wafer was held at 'inspect
    bump heights' (92.9 um). It is refused at bumps.height_um naming the heights the law
    gives, what the inspection passes and the heights that pass, and a lot at either end of
    those completes with the claim check passed."""
    recipe = reference_recipe("bump-seal-clean.yaml")
    recipe["bumps"]["stack"] = 2
    refused = refusal(capsys, tmp_path, "bump-seal-clean", recipe)
    assert (
        "bumps.height_um = 60 um: a stack of 2 studs (bumps.stack) of 32 um Cu wire at 30 gf "
        "and 900 uJ stands 94.5-105.4 um (the line's stud law, its 2% spread to 3 sigma), and "
        "the height inspection passes 54-66 um (+-bumps.height_tolerance_um): give from 99.4 "
        "to 100.5 um (claim 003:7.1)"
    ) in refused
    for height in ("99.4 um", "100.5 um"):
        recipe["bumps"]["height_um"] = height
        summary = validated_lot_of_one(capsys, tmp_path, "bump-seal-clean", recipe)
        assert summary["claim_check"]["status"] == "passed"
    recipe["bumps"]["height_tolerance_um"] = "5 um"
    assert "give bumps.height_tolerance_um at least 5.5 um" in refusal(
        capsys, tmp_path, "bump-seal-clean", recipe
    )


# ---------------------------------------------------------------- 003:21 by printing, by transfer

PRINTED = "bump-seal-clean-solder-printed.yaml"
TRANSFERRED = "bump-seal-clean-solder-transferred.yaml"
#: Each way of 003:21 but plating: the steps that lay the layer and the claims they carry.
LAYER_VARIANTS = {
    PRINTED: {
        "print solder paste": {"003:19", "003:20", "003:21"},
        "reflow solder layer": {"003:19", "003:20"},
    },
    TRANSFERRED: {"transfer solder layer": {"003:19", "003:20", "003:21"}},
}


@pytest.mark.parametrize("variant", sorted(LAYER_VARIANTS))
def test_a_printed_or_transferred_eutectic_layer_runs_a_lot_of_25_with_every_claim_passing(
    db: Path, capsys: pytest.CaptureFixture[str], variant: str
):
    """Pb95Sn5 bumps, sealed, cleaned, and a Sn63Pb37 layer printed and reflowed, or transferred
    from a sheet by the bonder's head: every claim condition of the layer (003:19-21) and of
    the products (003:3-6) passes on every bump of 25 wafers; a printed one shows no bridge."""
    code, events = run_lot(capsys, "bump-seal-clean", RECIPES.joinpath(variant), 25)
    summary = events[-1]
    statuses = {w["status"]: 25 for w in summary["wafers"]}
    assert (code, statuses, summary["claim_check"]["status"]) == (0, {"completed": 25}, "passed")
    assert len(summary["wafers"]) == 25
    conditions = summary["claim_check"]["conditions"]
    assert {c["claim"] for c in conditions} >= SOLDER_CONDITIONS | {"003:21"}
    layered = [c for c in conditions if c["claim"] in {"003:3", "003:6", "003:21"}]
    assert all(c["sites_checked"] == c["sites_passing"] == 25 * 8352 for c in layered)
    bridges = [c for c in conditions if c["condition"] == "no solder bridge between bumps"]
    assert len(bridges) == (variant == PRINTED)
    claims_of = step_claims(db, summary["run_id"])
    for name, claims in LAYER_VARIANTS[variant].items():
        assert claims <= claims_of[name], name
    assert "electroplate solder layer" not in claims_of


async def test_a_layer_transferred_onto_buried_tips_fails_on_the_tips_not_on_the_layer(
    store: RunStore,
):
    """The transferred reference with a 100 um sheet over its 87.8 um bumps (validate refuses
    it, 003:7.2), driven past validate: the bonder's sheet coats the buried tips with more
    than the 8 um asked, and 2953 of the 8352 layered tips stay under the resin; the layer's
    rows (003:3-6, 003:19-21) name the tips, where they had shown no margin (decision 0106),
    the cleaned ones' too (the buried tips' residue is a part after it)."""

    def thick(recipe: BumpSealCleanRecipe) -> BumpSealCleanRecipe:
        resin = recipe.resin.model_copy(update={"sheet_thickness_um": 100.0})
        return recipe.model_copy(update={"resin": resin})

    check = await completed_past_validate(store, "bump-seal-clean", TRANSFERRED, thick)
    rows = [c for c in check["conditions"] if "(>= 8 um) on every" in c["condition"]]
    assert {c["claim"] for c in rows} == {
        "003:3",
        "003:4",
        "003:5",
        "003:6",
        "003:19",
        "003:20",
        "003:21",
    }
    assert {(c["sites_checked"] - c["sites_passing"]) for c in rows} == {2953, 8352}
    assert {margin_text(c) for c in rows} == {
        "smallest layered tip above the resin -3.25 um, must be above 0 um: 3.25 um short"
    }


#: The tips a print lies over in the printed reference recipe, where its layer is thinnest:
#: the resin film as its sheet lays it thinnest, then thinned by the cleaning's O2.
PRINTED_TIPS = (
    "the 87.8 um bumps over the thinnest resin the 50 um sheet lays (48.5 um, 0.6 um less "
    "after the cleaning's O2)"
)
#: Printings and transfers validate refuses, by id: the field under solder_layer (its
#: section names the variant whose reference recipe it is set in), its value, the refusal.
LAYER_REFUSALS = {
    "printing-bridges": (
        "printing.aperture_um",
        "430 um",
        "solder_layer.printing.aperture_um = 430 um: a deposit slumps beyond its "
        "aperture by half the 50 um stencil's thickness on every side (the printer's "
        "physics), so two deposits closer than 430 + 50 = 480 um touch, and the "
        "wafer's bumps stand 459.6 um apart at the closest (its least pad pitch): "
        "their reflow would join them by a solder bridge: give from 135 to 144 um (claim "
        "003:21)",
    ),
    "printing-stencil-on-the-tips": (
        "printing.stencil_thickness_um",
        "30 um",
        f"solder_layer.printing.stencil_thickness_um = 30 um: {PRINTED_TIPS} project up "
        "to 39.9 um above the film: a thinner stencil stands on them, not on the film, "
        "and the squeegee strikes them: give at least 40 um (claim 003:21)",
    ),
    "printing-aperture-on-the-tips": (
        "printing.aperture_um",
        "90 um",
        f"solder_layer.printing.aperture_um = 90 um: {PRINTED_TIPS} are up to 99.4 um "
        "wide above the film: a narrower aperture does not pass over a tip, and the "
        "stencil stands on the tips: give from 135 to 144 um (claim 003:21)",
    ),
    # one refusal of the aperture, whose advice also gives the layer it needs (not a "give at
    # least 100 um" beside a "give at least 108 um")
    "printing-far-too-narrow": (
        "printing.aperture_um",
        "70 um",
        f"solder_layer.printing.aperture_um = 70 um: {PRINTED_TIPS} are up to 99.4 um "
        "wide above the film: a narrower aperture does not pass over a tip, and the "
        "stencil stands on the tips: give from 135 to 144 um (claim 003:21)",
    ),
    # a 400 um aperture's paste stays apart at the pitch, but its metal is a ball on the bump
    "printing-a-ball-not-a-layer": (
        "printing.aperture_um",
        "400 um",
        "solder_layer.printing.aperture_um = 400 um: its largest deposit (at most 109% of the "
        "open volume, the printer's physics) reflows, for the 87.8 um bumps over the thickest "
        "resin the 50 um sheet lays (51.5 um, 0.6 um less after the cleaning's O2), into a "
        "cap of solder 175.8 um tall above the film and 189.4 um wide: 138.9 um over the "
        "tip's apex, more than the 36.9 um the tip projects: a layer on a bump's surface "
        "(003:19-21) is at most as thick as the tip stands out of the film, and more metal "
        "is a ball on the bump, not a layer on it: give from 135 to 144 um (claim 003:19)",
    ),
    # the tip takes so much of a 130 um aperture that the inspection, judging the deposit
    # against the whole aperture, calls it insufficient and the line holds the wafer
    "printing-inspected-insufficient": (
        "printing.aperture_um",
        "130 um",
        f"solder_layer.printing.aperture_um = 130 um: its least deposit, beside {PRINTED_TIPS} "
        "standing in the aperture, fills 47% of the aperture's volume, under the 50% below "
        "which the printer's solder paste inspection calls a deposit insufficient (it knows "
        "nothing of the tip): the line would hold the wafer at 'print solder paste': give from "
        "135 to 144 um (claim 003:21)",
    ),
    "printing-too-little-paste": (
        "printing.min_thickness_um",
        "60 um",
        "solder_layer.printing.aperture_um = 140 um: an aperture of 140 um in a 50 um "
        "stencil (area ratio 0.70) holds 0.5816 nl of paste beside the tip standing in it "
        "and releases at least 71% of it (the printer's physics), whose metal, reflowed over "
        f"the tip, leaves 24.9 um over its apex, for {PRINTED_TIPS}, below "
        "solder_layer.printing.min_thickness_um = 60 um: no aperture in a 50 um stencil "
        "leaves at least 60 um where the tips project the most and at most what they project "
        "where they project the least (36.9 um; 225 um is the least aperture for the one, "
        "144 um the widest for the other): give a smaller "
        "solder_layer.printing.min_thickness_um (claim 003:19)",
    ),
    # the tip standing in the aperture takes most of a 105 um one's paste
    "printing-tip-in-the-aperture": (
        "printing.aperture_um",
        "105 um",
        "solder_layer.printing.aperture_um = 105 um: an aperture of 105 um in a 50 um "
        "stencil (area ratio 0.53) holds 0.2448 nl of paste beside the tip standing in it "
        "and releases at least 38% of it (the printer's physics), whose metal, reflowed over "
        f"the tip, leaves 6.7 um over its apex, for {PRINTED_TIPS}, below "
        "solder_layer.printing.min_thickness_um = 8 um: give from 135 to 144 um (claim "
        "003:19)",
    ),
    "printing-not-eutectic": (
        "printing.paste",
        "SAC305",
        "solder_layer.printing.paste = SAC305: SAC305 is no eutectic solder (an alloy that "
        "melts over a pasty range, not at one temperature): the layer on high-melting bumps "
        "is a eutectic; of this option's choices give Sn63Pb37 (183 degC) (claim 003:20)",
    ),
    "printer-limit": (
        "printing.aperture_um",
        "900 um",
        "solder_layer.printing.aperture_um = '900 um': must be at most 800 um (the "
        "stencil_printer range of aperture_um: 40-800 um; given 900 um)",
    ),
    "transfer-cores-melt": (
        "transfer.head_temperature_c",
        "420 degC",
        "solder_layer.transfer.head_temperature_c = 420 degC: over the stage at "
        "solder_layer.transfer.stage_temperature_c = 150 degC the joint reaches 393.0 "
        "degC, not below the solidus of the Pb95Sn5 bumps (308 degC): their "
        "high-melting cores would begin to melt: give a head of at most 325 degC (claim "
        "003:20)",
    ),
    "transfer-film-solid": (
        "transfer.head_temperature_c",
        "180 degC",
        "solder_layer.transfer.head_temperature_c = 180 degC: the sheet's Sn63Pb37 "
        "film wets the tips only molten, above its liquidus (183 degC); over the "
        "stage at solder_layer.transfer.stage_temperature_c = 150 degC the joint "
        "reaches 177.0 degC: give a head of at least 187 degC (claim 003:21)",
    ),
    "transfer-not-wetted": (
        "transfer.bond_time_s",
        "1 s",
        "solder_layer.transfer.bond_time_s = 1 s: the sheet's Sn63Pb37 film wets the "
        "tips only molten, and takes 2 s under the head to wet them (the bonder's "
        "wetting time): give at least 2 s (claim 003:21)",
    ),
    "transfer-too-thin": (
        "transfer.film_um",
        "10 um",
        "solder_layer.transfer.film_um = 10 um: the head's 30 N, shared by a die's 32 "
        "tips, presses the sheet 6.0 um below the tallest, and the lowest stands up to 6 "
        "um below it (the tips' coplanarity, 1 um a sigma to 3 sigma); over the thinnest "
        "film the sheet lays under a die, 9.1 um (its 3% tolerance to 3 sigma), it keeps "
        "50% of what it dips through (the bonder's physics), 4.55 um, below "
        "solder_layer.transfer.min_thickness_um = 8 um: give at least 17.6 um (claim "
        "003:19)",
    ),
    # no film and no force reach 23 um: the refusal names the most reachable, not a force
    "transfer-beyond-reach": (
        "transfer.min_thickness_um",
        "23 um",
        "solder_layer.transfer.min_thickness_um = 23 um: the head's 30 N, shared by a die's 32 "
        "tips, presses the sheet 6.0 um below the tallest, and the lowest stands up to 6 "
        "um below it (the tips' coplanarity, 1 um a sigma to 3 sigma); over the thinnest "
        "film the sheet lays under a die, 21.8 um (its 3% tolerance to 3 sigma), it keeps "
        "50% of what it dips through (the bonder's physics), 10.92 um, below "
        "solder_layer.transfer.min_thickness_um = 23 um: the most any transfer leaves is "
        "22.75 um (the thickest film the bonder takes, 50 um, 45.5 um at its thinnest, "
        "pressed with its most force, 300 N, down to the lowest tip 6.0 um below the "
        "tallest): give at most 22.75 um (claim 003:19)",
    ),
    # half a flat 16 um film had validated at the least 8 um: the sheet's tolerance thins it
    "transfer-film-tolerance": (
        "transfer.film_um",
        "16 um",
        "solder_layer.transfer.film_um = 16 um: the head's 30 N, shared by a die's 32 "
        "tips, presses the sheet 6.0 um below the tallest, and the lowest stands up to 6 "
        "um below it (the tips' coplanarity, 1 um a sigma to 3 sigma); over the thinnest "
        "film the sheet lays under a die, 14.6 um (its 3% tolerance to 3 sigma), it keeps "
        "50% of what it dips through (the bonder's physics), 7.28 um, below "
        "solder_layer.transfer.min_thickness_um = 8 um: give at least 17.6 um (claim "
        "003:19)",
    ),
}


def test_a_transfer_short_at_its_force_is_told_the_least_force_that_reaches_the_layer():
    """5 N on a die's 32 tips leaves 4.8 um of the 6 um gap open: no film the bonder takes
    gives 21 um at that force, and the refusal gives the thickest film with the least force,
    which validates."""
    recipe = reference_recipe(TRANSFERRED)
    transfer = recipe["solder_layer"]["transfer"]
    transfer.update(bond_force_n="5 N", film_um="50 um", min_thickness_um="21 um")
    with pytest.raises(ValidationError) as refused:
        BumpSealCleanRecipe.model_validate(recipe)
    (error,) = refused.value.errors()
    assert error["msg"].endswith(
        "no film up to 50 um (the most the bonder takes) gives it at this force: give 50 um "
        "and solder_layer.transfer.bond_force_n at least 10 N, to close the gap to the "
        "lowest tip (claim 003:19)"
    ), error["msg"]
    transfer.update(bond_force_n="10 N")
    BumpSealCleanRecipe.model_validate(recipe)
    transfer.update(bond_force_n="9.9 N")
    with pytest.raises(ValidationError):
        BumpSealCleanRecipe.model_validate(recipe)


def test_the_printed_layer_is_worked_out_from_the_spis_share_of_the_whole_aperture(
    db: Path, capsys: pytest.CaptureFixture[str]
):
    """The SPI reports each deposit over its aperture's whole volume (the printer knows
    nothing of the tip in it, 52-75 % for the reference's); the sequence takes it over the
    open volume the tips projecting the most leave, so the thinnest printed layer it holds
    the wafer to is the twin's, a little under it (those tips' worst), not the half of it a
    share of the whole aperture would give."""
    code, events = run_lot(capsys, "bump-seal-clean", RECIPES.joinpath(PRINTED), 1)
    summary = events[-1]
    assert code == 0, summary
    twin = next(
        c["margin_worst"] for c in summary["claim_check"]["conditions"] if c["claim"] == "003:19"
    )
    store = RunStore(db)
    try:
        measured = [
            m["value"]
            for m in store.table("measurements", summary["run_id"])
            if m["name"] == "thinnest printed layer"
        ]
    finally:
        store.close()
    assert twin - 1.0 < measured[0] <= twin  # 25.05 um against the twin's 25.43 um (20 unconverted)


@pytest.mark.parametrize("refusal", sorted(LAYER_REFUSALS))
async def test_a_wrong_printing_or_transfer_is_refused_and_no_tool_sees_a_command(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], refusal: str
):
    """Each of `LAYER_REFUSALS`, set in its variant's reference recipe (a printing's field in
    the printed one, a transfer's in the transferred one)."""
    path, value, expected = LAYER_REFUSALS[refusal]
    section, field = path.split(".")
    recipe = reference_recipe(PRINTED if section == "printing" else TRANSFERRED)
    recipe["solder_layer"][section][field] = value
    await refused_before_any_tool_moves(db, tmp_path, capsys, recipe, f"{expected}\n")


def printed_through(aperture_um: float) -> Callable[[BumpSealCleanRecipe], BumpSealCleanRecipe]:
    """The printed layer of a recipe through apertures of `aperture_um` (validate refuses
    both widths the tests give)."""

    def spoil(recipe: BumpSealCleanRecipe) -> BumpSealCleanRecipe:
        layer = recipe.solder_layer
        assert isinstance(layer, PrintedSolderLayer)
        printing = layer.printing.model_copy(update={"aperture_um": aperture_um})
        return recipe.model_copy(
            update={"solder_layer": layer.model_copy(update={"printing": printing})}
        )

    return spoil


async def test_apertures_that_bridge_run_and_the_claim_check_names_003_21(store: RunStore):
    """430 um apertures in the 50 um stencil, driven past validate: every deposit is what its
    aperture holds beside its tip (the SPI passes them), but those at the dies' corners,
    459.6 um apart,
    slump into each other, and the claim check finds the bridges: 003:21 fails there alone."""
    check = await completed_past_validate(store, "bump-seal-clean", PRINTED, printed_through(430))
    assert failing_claims(check) == {"003:21"}
    (bridges,) = [c for c in check["conditions"] if c["condition"].startswith("no solder bridge")]
    # the pads either side of each of a die's four corners, 8 of its 32, on each of 261 dies
    assert bridges["sites_checked"] - bridges["sites_passing"] == 8 * 261


async def test_a_print_too_thin_for_the_layer_is_held_at_its_print(store: RunStore):
    """The reference print with its layer asked 60 um thick, driven past validate (which
    refuses it: its thinnest deposit leaves 16.1 um on a tip): the SPI's thinnest deposit
    is what holds it on the line, at the print, before the oven reflows it."""
    prepared = prepare(RunRequest("bump-seal-clean", lot=1, recipe_path=str(RECIPES / PRINTED)))
    recipe = prepared.recipe
    layer = recipe.solder_layer
    assert isinstance(layer, PrintedSolderLayer)
    thick = layer.printing.model_copy(update={"min_thickness_um": 60.0})
    prepared.recipe = recipe.model_copy(
        update={"solder_layer": layer.model_copy(update={"printing": thick})}
    )
    async with open_run(store, prepared) as engine:
        await engine.run()
    (wafer,) = run_report(store, engine.run_id)["wafers"]
    assert wafer["status"] == "held"
    assert "step 'print solder paste'" in wafer["reason"]
    assert "thinnest printed layer" in wafer["reason"]


@pytest.mark.parametrize(
    "stencil_um",
    [
        60.0,  # area ratio 0.42: the stencil keeps its paste
        40.0,  # the tip standing in each aperture takes most of it: 5.8 um of layer at most
    ],
)
async def test_prints_too_thin_for_their_stencil_past_validate_are_held_at_the_spi(
    store: RunStore, stencil_um: float
):
    """100 um apertures in a 60 um or a 40 um stencil, which validate refuses (003:19),
    driven past validate: the printer's solder paste inspection finds every deposit under
    half its aperture's volume and the line holds the wafer at the print, before the oven
    reflows it (the claim check of such a print:
    `test_tips_printed_with_too_little_paste_fail_the_claims_of_the_layer`)."""

    def spoil(recipe: BumpSealCleanRecipe) -> BumpSealCleanRecipe:
        through = printed_through(100.0)(recipe)
        layer = through.solder_layer
        assert isinstance(layer, PrintedSolderLayer)
        printing = layer.printing.model_copy(update={"stencil_thickness_um": stencil_um})
        return through.model_copy(
            update={"solder_layer": layer.model_copy(update={"printing": printing})}
        )

    prepared = prepare(RunRequest("bump-seal-clean", recipe_path=str(RECIPES / PRINTED)))
    prepared.recipe = spoil(prepared.recipe)
    async with open_run(store, prepared) as engine:
        assert await engine.run() == "held"
    (wafer,) = store.wafers(engine.run_id)
    assert wafer["reason"] == (
        "step 'print solder paste' of W01 failed: deposits insufficient = 8352 deposits, above "
        "the maximum of 0 deposits"
    )


async def held_past_validate(
    store: RunStore, variant: str, spoil: Callable[[BumpSealCleanRecipe], BumpSealCleanRecipe]
) -> tuple[dict, dict[str, str]]:
    """A lot of 1 of `variant` with `spoil` applied after it validated (a recipe validate
    refuses, driven through the line all the same), which the line must hold: the held
    wafer's row, and what the claim check of the spoilt recipe makes of the twin the line
    held (the claim check skips held wafers: `condition -> verdict, margin`)."""
    prepared = prepare(RunRequest("bump-seal-clean", recipe_path=str(RECIPES.joinpath(variant))))
    prepared.recipe = spoil(prepared.recipe)
    async with open_run(store, prepared) as engine:
        assert await engine.run() == "held"
        assert engine.twin is not None
        twin = engine.twin.get("W01")
    (wafer,) = store.wafers(engine.run_id)
    judged = {}
    for condition in conditions_of(prepared.recipe):
        checked, passing = condition.judge(twin)
        worst = None if condition.margin is None else condition.margin.worst_site(twin, checked)
        verdict = "pass" if passing[checked].all() else "fail"
        margin = margin_text(margin_columns(condition.margin, worst))
        judged[f"{condition.claim} {condition.text}"] = f"{verdict}: {margin}"
    return wafer, judged


def hot_transfer(recipe: BumpSealCleanRecipe) -> BumpSealCleanRecipe:
    """The reference transfer with a 420 degC head over its 150 degC stage."""
    layer = recipe.solder_layer
    assert isinstance(layer, TransferredSolderLayer)
    transfer = layer.transfer.model_copy(update={"head_temperature_c": 420.0})
    return recipe.model_copy(
        update={"solder_layer": layer.model_copy(update={"transfer": transfer})}
    )


def hot_reflow(recipe: BumpSealCleanRecipe) -> BumpSealCleanRecipe:
    """The reference plated layer reflowed at a 330 degC peak, above the Pb95Sn5 bumps' 314."""
    layer = recipe.solder_layer
    assert isinstance(layer, PlatedSolderLayer)
    reflow = layer.reflow.model_copy(update={"peak_c": 330.0})
    return recipe.model_copy(update={"solder_layer": layer.model_copy(update={"reflow": reflow})})


@pytest.mark.parametrize(
    ("variant", "spoil", "step", "measured", "heat"),
    [
        # the joint, 150 + 0.9 * 270 = 393 degC, melts the film onto every tip, and the cores
        (TRANSFERRED, hot_transfer, "transfer solder layer", "transfer joint = 393", ("393",) * 2),
        # the oven's measured peak, not its setpoint, is judged, to its margin's decimals:
        # 147 degC above 183, 21.8 degC over 308 at 329.8 (it had read 330)
        (SOLDER, hot_reflow, "reflow solder layer", "reflow peak = 329.", ("330", "329.8")),
    ],
)
async def test_a_layer_melted_on_above_the_bumps_liquidus_is_held_and_fails_003_20(
    store: RunStore,
    variant: str,
    spoil: Callable[[BumpSealCleanRecipe], BumpSealCleanRecipe],
    step: str,
    measured: str,
    heat: tuple[str, str],
):
    """A transfer's joint or a reflow's peak above the Pb95Sn5 bumps' solidus (308 degC),
    driven past validate (which refuses both, 003:20): the line holds the wafer at the step
    on what the tool measured, above the bumps' solidus as well as the layer's liquidus; and
    the claim check of the twin it held fails 003:20's solid cores, by the heat and its
    margin, the layer melted on all the same."""
    wafer, judged = await held_past_validate(store, variant, spoil)
    assert f"step '{step}'" in wafer["reason"]
    assert measured in wafer["reason"]
    assert "outside 183-308 degC" in wafer["reason"]  # the layer's liquidus, the bumps' solidus
    (melted,) = [v for k, v in judged.items() if k.startswith("003:20 layer reflowed")]
    (solid,) = [v for k, v in judged.items() if k.startswith("003:20 core solid")]
    assert melted.startswith(f"pass: smallest heat under the layer {heat[0]} ")
    assert melted.endswith("degC to spare")
    assert solid.startswith(f"fail: largest heat under the layer {heat[1]} ")
    assert "at most 308 degC" in solid
    assert solid.endswith("degC over")


def transfer_joint_at(head_c: float) -> Callable[[BumpSealCleanRecipe], BumpSealCleanRecipe]:
    """The reference transfer with its stage at 165 degC and its head at `head_c`: the joint
    at 165 + 0.9 x (head - 165) degC."""

    def spoil(recipe: BumpSealCleanRecipe) -> BumpSealCleanRecipe:
        layer = recipe.solder_layer
        assert isinstance(layer, TransferredSolderLayer)
        heat = {"head_temperature_c": head_c, "stage_temperature_c": 165.0}
        transfer = layer.transfer.model_copy(update=heat)
        return recipe.model_copy(
            update={"solder_layer": layer.model_copy(update={"transfer": transfer})}
        )

    return spoil


@pytest.mark.parametrize(
    ("head_c", "joint", "held"),
    [
        (185.0, "183", True),  # at the Sn63Pb37 sheet's liquidus: nothing melts
        (185.2, "183.2", False),  # the bonder's 0.2 degC over it (its 0.1 degC reading, 183.18)
    ],
)
async def test_a_transfer_joint_must_be_above_the_sheets_liquidus_not_at_it(
    store: RunStore, head_c: float, joint: str, held: bool
):
    """A trial's finding: the line judged the transfer joint against the liquidus inclusively,
    so a joint the bonder read at the sheet's 183 degC passed, where nothing melts (validate
    refuses such a head, and the oven's reflow peak must pass the liquidus). Driven past
    validate, the joint at it holds the wafer at the transfer on the joint; one just above
    it passes."""
    prepared = prepare(RunRequest("bump-seal-clean", recipe_path=str(RECIPES / TRANSFERRED)))
    prepared.recipe = transfer_joint_at(head_c)(prepared.recipe)
    async with open_run(store, prepared) as engine:
        await engine.run()
    (measured,) = [
        m for m in store.table("measurements", engine.run_id) if m["name"] == "transfer joint"
    ]
    assert (f"{measured['value']:g}", measured["low"], measured["passed"]) == (
        joint,
        183.0,
        int(not held),
    )
    (wafer,) = store.wafers(engine.run_id)
    reason = wafer["reason"] or ""
    assert ("transfer joint = 183 degC, not above the minimum of 183 degC" in reason) is held
    assert ("step 'transfer solder layer'" in reason) is held


async def test_the_line_judges_the_layers_heat_against_both_bounds(store: RunStore):
    """The reference plated layer's reflow and transfer, as the line measured them: the oven's
    peak and the bonder's joint above the Sn63Pb37 layer's liquidus (183 degC) and at most
    the Pb95Sn5 bumps' solidus (308 degC); the claim check shows both margins."""
    for variant, name in ((SOLDER, "reflow peak"), (TRANSFERRED, "transfer joint")):
        prepared = prepare(RunRequest("bump-seal-clean", recipe_path=str(RECIPES / variant)))
        async with open_run(store, prepared) as engine:
            assert await engine.run() == "completed"
        heats = [
            m
            for m in store.table("measurements", engine.run_id)
            if m["name"] == name and m["high"] is not None
        ]
        assert [(m["low"], m["high"], m["passed"]) for m in heats] == [(183.0, 308.0, 1)]
        check = run_report(store, engine.run_id)["claim_check"]
        margins = {
            c["condition"].split(",")[0]: (c["margin_limit"], c["margin"] > 0)
            for c in check["conditions"]
            if c["margin_quantity"] == "heat under the layer"
        }
        assert margins == {
            "layer reflowed above its liquidus (Sn63Pb37": (183.0, True),
            "core solid": (308.0, True),
        }


async def test_every_wafer_of_a_lot_is_cut_within_the_depth_tolerance_of_its_recipe(
    store: RunStore,
):
    """A trial's lot: the saw's blade wears and lifts its tip between height setups, and the
    fourth wafer was cut 17.4 um into the tape for the recipe's 30 um, unflagged. Each
    wafer's blade is now dressed, its height set up, before its cut: every wafer of a lot of
    5 is cut alike, and judged against the recipe's depth +- the line's tolerance."""
    prepared = prepare(
        RunRequest("bump-seal-clean", recipe_path=str(RECIPES / "bump-seal-clean.yaml"), lot=5)
    )
    async with open_run(store, prepared) as engine:
        assert await engine.run() == "completed"
    depths = [
        (m["wafer_id"], m["value"], m["low"], m["high"], m["passed"])
        for m in store.table("measurements", engine.run_id)
        if m["name"] == "cut depth into tape"
    ]
    assert DEPTH_INTO_TAPE_TOLERANCE_UM == 10
    assert depths == [(f"W0{n}", pytest.approx(26.8, abs=0.05), 20, 40, 1) for n in range(1, 6)]


async def test_a_cut_worn_shallower_than_the_tolerance_is_held(
    store: RunStore, monkeypatch: pytest.MonkeyPatch
):
    """A blade that wears four times as fast (2 um a metre) lifts its tip 12.6 um over the
    wafer's 6.3 m of cut: its last lines are 17.4 um into the tape, more than 10 um short of
    the recipe's 30 um, and the line holds the wafer at the cut."""
    monkeypatch.setattr(
        simulated_saw, "SawPhysics", functools.partial(SawPhysics, radial_wear_um_per_m=2.0)
    )
    prepared = prepare(
        RunRequest("bump-seal-clean", recipe_path=str(RECIPES / "bump-seal-clean.yaml"))
    )
    async with open_run(store, prepared) as engine:
        assert await engine.run() == "held"
    (wafer,) = store.wafers(engine.run_id)
    assert "step 'dice'" in wafer["reason"]
    assert "cut depth into tape = 17.4 um, outside 20-40 um" in wafer["reason"]


#: The layer's claims and the products', each a condition of a least layer on every tip.
LAYER_CLAIMS = {"003:19", "003:20", "003:21", "003:3", "003:4", "003:5", "003:6"}


def failing_layer_claims(recipe: BumpSealCleanRecipe, wafer: Workpiece) -> set[str]:
    """The claims of `LAYER_CLAIMS` the claim check of `recipe` fails on `wafer`'s twin, its
    tips cleaned."""
    return {
        condition.claim
        for condition in conditions_of(recipe)
        if condition.claim in LAYER_CLAIMS
        for checked, passing in [condition.evaluate(wafer)]
        if not passing[checked].all()
    }


def cleaned_line_wafer() -> Workpiece:
    """A wafer of the line's Pb95Sn5 bumps (100 um balls on 70 um pads) sealed by the 50 um
    sheet, their tips cleaned of residue and oxide."""
    wafer = TwinStore().get("W01")
    sealed_solder_bumps(wafer, 50.0)
    thaw(wafer.surface.residue_nm, wafer.surface.oxide_nm)
    wafer.surface.residue_nm[:] = 0.0
    wafer.surface.oxide_nm[:] = 0.0
    return wafer


@pytest.mark.parametrize(
    ("layer_um", "passes"),
    [
        (7.9988, False),  # the XRF would read 8.00, but the layer is short of 8 um: it fails
        (7.9949, False),  # it reads 7.99: the line holds it, the claim check fails it
        (8.0012, True),
    ],
)
def test_the_claim_check_judges_a_layer_as_it_is_not_as_the_xrf_rounds_it(
    layer_um: float, passes: bool
):
    """Every condition of an 8 um layer (003:3-6, 003:19-21) judges the layer the twin holds,
    not the XRF head's 0.01 um reading of it (validate leaves the line a step of that above
    the least instead: `PlatingStep.least_thickness_um`), and its margin reads it so too."""
    recipe = BumpSealCleanRecipe.model_validate(reference_recipe(SOLDER))
    wafer = cleaned_line_wafer()
    bumps = wafer.bumps
    thaw(bumps.layer_um)
    bumps.layer_um[bumps.present] = layer_um
    bumps.layer_alloy = "Sn63Pb37"
    layered = [c for c in conditions_of(recipe) if c.margin and c.margin.quantity == "solder layer"]
    assert {c.claim for c in layered} == LAYER_CLAIMS
    for condition in layered:
        checked, passing = condition.evaluate(wafer)
        assert bool(passing[checked].all()) is passes, condition.claim
        assert condition.margin.worst_site(wafer, checked).value == pytest.approx(layer_um)


@pytest.mark.parametrize(
    ("stencil_um", "aperture_um", "failing"),
    [
        # area ratio 0.42: the paste stays in the stencil, though it lies on the film
        (60.0, 100.0, LAYER_CLAIMS),
        # the tip standing in a 100 um aperture of a 40 um stencil leaves it too little paste:
        # about 6 um over the apex
        (40.0, 100.0, LAYER_CLAIMS),
        (50.0, 140.0, set()),  # the reference print: 24.9 um at the least
    ],
)
def test_tips_printed_with_too_little_paste_fail_the_claims_of_the_layer(
    stencil_um: float, aperture_um: float, failing: set[str]
):
    """The claim check of the printed variant on a wafer the printer's physics printed (the
    print's other fields the reference's) and the oven reflowed: prints validate refuses
    fail the layer's claims 003:19, 003:20 and 003:21 and the products 003:3-6; the
    reference print passes them all."""
    recipe = BumpSealCleanRecipe.model_validate(reference_recipe(PRINTED))
    layer = recipe.solder_layer
    assert isinstance(layer, PrintedSolderLayer)
    wafer = cleaned_line_wafer()
    printing = replace(
        layer.printing.print_recipe(), stencil_thickness_um=stencil_um, aperture_um=aperture_um
    )
    print_paste(wafer, printing, 3600.0, PrintPhysics(), np.random.default_rng(0))
    history = LoadHistory()
    for time_s, temperature_c in ((0, 25), (90, 150), (150, 220), (210, 220), (300, 50)):
        history.add(time_s, temperature_c, 50)
    apply_run(wafer, history, ReflowPhysics(), "oven", 300, LastResult.COMPLETED)
    assert failing_layer_claims(recipe, wafer) == failing


@pytest.mark.parametrize(
    ("film_um", "force_n", "failing"),
    [
        # half a flat 16 um film had validated at the least 8 um; the sheet's tolerance and
        # the tips' coplanarity leave some tips less
        (16.0, 20.0, LAYER_CLAIMS),
        (24.0, 30.0, set()),  # the reference transfer: 10.9 um at the least
    ],
)
def test_a_transfer_too_thin_for_its_spread_fails_the_claims_of_the_layer(
    film_um: float, force_n: float, failing: set[str]
):
    """The claim check of the transferred variant on a wafer the bonder's physics pressed the
    sheet on: a film validate refuses leaves some tips short of the layer's least thickness,
    and the layer's claims 003:19, 003:20 and 003:21 and the products 003:3-6 fail; the
    reference transfer passes them all."""
    recipe = BumpSealCleanRecipe.model_validate(reference_recipe(TRANSFERRED))
    layer = recipe.solder_layer
    assert isinstance(layer, TransferredSolderLayer)
    wafer = cleaned_line_wafer()
    bond = replace(layer.transfer.bond_recipe(), bond_force_n=force_n)
    units = np.arange(wafer.geometry.unit_count)
    transfer_layer(wafer, units, layer.alloy, film_um, bond, FlipChipPhysics())
    # the joint the bonder records of its run (`Run.transfer_solder`), which 003:20 judges
    joint_c = joint_temperature_c(bond, FlipChipPhysics())
    wafer.record("flip_chip_bonder", "solder transfer", 0.0, joint_c=joint_c)
    assert failing_layer_claims(recipe, wafer) == failing


@pytest.mark.parametrize(
    ("variant", "lays_it", "idle"),
    [
        (SOLDER, {"electroplater", "oven"}, {"stencil_printer", "flip_chip_bonder"}),
        (PRINTED, {"stencil_printer", "oven"}, {"electroplater", "flip_chip_bonder"}),
        (TRANSFERRED, {"flip_chip_bonder"}, {"electroplater", "stencil_printer"}),
    ],
)
def test_each_way_of_the_layer_drives_its_own_tools_and_no_other(
    variant: str, lays_it: set[str], idle: set[str]
):
    """What a run locks and a station must have (`recipe_tools`): the tools of the layer's way
    (the transfer's bonder melts its layer, no oven reflow after it; the oven is still the
    balls'), none of the other ways'."""
    method = get_method("bump-seal-clean")
    tools = set(method.tools_for(prepare(RunRequest(method.name, recipe_path=variant)).recipe))
    assert lays_it <= tools
    assert not idle & tools


def test_every_eutectic_a_layer_option_offers_validates_and_no_other():
    """003:20 asks a eutectic layer: each option's tool offers alloys (the cell's baths, the
    printer's pastes, the bonder's sheets), and exactly the eutectics among them below the
    bumps' liquidus validate (Sn42Bi58 from a sheet, 138 degC, is one: it had been refused as
    "no eutectic"); every other is refused as what it is."""
    options = {  # the option's field, and what each of its values lays
        (SOLDER, "plating", "metal"): {"SnPb": "Sn63Pb37", "Sn": "Sn"},
        (PRINTED, "printing", "paste"): {"Sn63Pb37": "Sn63Pb37", "SAC305": "SAC305"},
        (TRANSFERRED, "transfer", "alloy"): {a: a for a in ("Sn63Pb37", "SAC305", "Sn42Bi58")},
    }
    for (variant, section, field), values in options.items():
        layer = BumpSealCleanRecipe.model_validate(reference_recipe(variant)).solder_layer
        assert layer is not None
        assert sorted(type(layer).alloys_offered) == sorted(values.values())
        for given, alloy in values.items():
            tree = reference_recipe(variant)
            tree["solder_layer"][section][field] = given
            if alloy in ("Sn63Pb37", "Sn42Bi58"):
                BumpSealCleanRecipe.model_validate(tree)
            else:
                with pytest.raises(ValueError, match=f"= {given}: {alloy} is no eutectic solder"):
                    BumpSealCleanRecipe.model_validate(tree)
