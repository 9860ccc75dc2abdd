"""A refusal no longer hides another that does not depend on it (decision 0100): a check that
reads a value an earlier check refused is judged on it, and what it refuses at every value
the field takes is given in the same refusal. A new user's laser clean of bump-seal-clean with
too few pulses for the resin's smear (003:10) in air was refused for the pulses alone, though
air grows the tips' oxide whatever the pulses (003:11); fixed, it was refused for the air.
What comes and goes with the refused value still waits for its fix (decision 0053)."""

from __future__ import annotations

from packline.sequences.bump_seal_clean import BumpSealCleanRecipe
from packline.sequences.two_process_via import TwoProcessViaRecipe

from .helpers import recipe_problems, reference_recipe, refusal, without_lines


def laser_clean(pulses: int, atmosphere: str) -> dict:
    """bump-seal-clean-laser.yaml with `pulses` a site in `atmosphere`."""
    recipe = reference_recipe("bump-seal-clean-laser.yaml")
    recipe["cleaning"].update(pulses_per_site=pulses, atmosphere=atmosphere)
    return recipe


def test_air_is_refused_beside_too_few_pulses(capsys, tmp_path):
    recipe = laser_clean(50, "air")
    paths = [problem["path"] for problem in recipe_problems(BumpSealCleanRecipe, recipe)]
    assert paths == ["cleaning.pulses_per_site", "cleaning.atmosphere"]
    # in the file's order (its keys written sorted: atmosphere before pulses_per_site)
    assert without_lines(refusal(capsys, tmp_path, "bump-seal-clean", recipe)).endswith(
        ": cleaning.atmosphere = air: the tips (Cu studs "
        "bonded at 150 degC) bring 2.25 nm of oxide; 50 pulses a site at 0.3 J/cm^2 in air grow "
        "it to 4.23 nm by the laser's physics (at most 0.1 nm may stay): give forming-gas "
        "(claim 003:11)\n"
        f"recipe file {tmp_path / 'recipe.yaml'}: cleaning.pulses_per_site = 50: the tips (Cu "
        "studs bonded at 150 degC, smeared by the resin pressed at 100 degC and 0.5 MPa) bring "
        "up to 480 nm of residue; 50 pulses a site at 0.3 J/cm^2 leave 455 nm of it by the "
        "laser's physics (at most 0.1 nm may stay): give at least 960 (claim 003:10)\n"
    )


def test_what_depends_on_the_refused_pulses_waits_for_their_fix():
    """Forming gas reduces the oxide with the dose: 5 pulses leave it (at least 15 take it
    off, as air's refusal says), 960 do not, so the oxide's count is not given beside the
    smear's; once the pulses are 960 it holds."""
    (problem,) = recipe_problems(BumpSealCleanRecipe, laser_clean(5, "forming-gas"))
    assert problem["path"] == "cleaning.pulses_per_site"
    assert problem["message"].endswith("give at least 960 (claim 003:10)")
    (_, air) = recipe_problems(BumpSealCleanRecipe, laser_clean(5, "air"))
    assert air["message"].endswith(
        "give forming-gas, which reduces it, with at least 15 pulses (claim 003:11)"
    )


def test_a_plating_minimum_is_refused_beside_a_seed_no_tank_etches():
    """The engine's rule, in two-process-via: the plating's window reads the seed's films (the
    copper its etch must clear), and a plating minimum below the 3 um a plated wiring keeps is
    refused whatever metal the refused film is of."""
    recipe = reference_recipe("two-process-via.yaml")
    recipe["interconnects"]["seed"]["steps"][1]["material"] = "Au"
    recipe["interconnects"]["plating"]["min_thickness_um"] = "2 um"
    found = {p["path"]: p["message"] for p in recipe_problems(TwoProcessViaRecipe, recipe)}
    assert list(found) == [
        "interconnects.seed.steps.1.material",
        "interconnects.plating.min_thickness_um",
    ]
    assert found["interconnects.plating.min_thickness_um"] == (
        "interconnects.plating.min_thickness_um = 2 um: a plated wiring is at least 3 um thick, "
        "what the claim check holds it to: the recipe's minimum may raise that, not lower it "
        "(claim 002:1a-d)"
    )
