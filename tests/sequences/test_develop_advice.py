"""A develop's refusal gives advice the litho cell can follow: a mould's develop too short by
more than the cell's longest develop (300 s) names the dose that opens it in the given time
(`least_dose_mj_cm2`, the cell's law), not a time past its range (a 70 mJ/cm^2 mould read
'give at least 569 s'); and two-process-via's developed first process (002:3) is refused when
it develops through the resin (002:1f: the unexposed PI-N goes at its bulk rate, the whole
film in 120 s), which had validated; its longest develop is tested by
test_first_develop_depth."""

from __future__ import annotations

from packline.sequences.two_process_via import TwoProcessViaRecipe

from .helpers import (
    recipe_problems,
    reference_with,
    refusal,
)


def dosed(dose: str) -> dict:
    """two-process-via.yaml with its interconnects' mould exposed at `dose`."""
    return reference_with("two-process-via.yaml", "interconnects.mould.dose_mj_cm2", dose)


def developed(time: str) -> dict:
    """two-process-via-photo.yaml with its first process developed for `time`."""
    return reference_with("two-process-via-photo.yaml", "first.develop_time_s", time)


def test_a_develop_past_the_cells_range_is_advised_as_a_dose(capsys, tmp_path):
    assert (
        "interconnects.mould.develop_time_s = 120 s: exposed at 70 mJ/cm^2, PR-THICK dissolves "
        "in the developer at 0.0194 um/s: 120 s takes 2.333 um of the 11.064 um that "
        "interconnects.mould spins at 4000 rpm and bakes, leaving 8.731 um at the bottom of its "
        "openings: it needs 569 s, past the cell's longest develop (300 s): give "
        "interconnects.mould.dose_mj_cm2 at least 332 mJ/cm^2 for this time (claim 002:1a-d)"
    ) in refusal(capsys, tmp_path, "two-process-via", dosed("70 mJ/cm^2"))
    (problem,) = recipe_problems(TwoProcessViaRecipe, dosed("331 mJ/cm^2"))
    assert problem["message"].endswith("give at least 121 s (claim 002:1a-d)")
    TwoProcessViaRecipe.model_validate(dosed("332 mJ/cm^2"))


def test_a_develop_through_the_resin_is_refused_with_the_longest(capsys, tmp_path):
    """Past the whole layer's nominal time (120 s) the develop goes through it all; the
    longest that leaves resin is worked out to the metal's top (test_first_develop_depth)."""
    assert (
        "first.develop_time_s = 150 s: the developer takes the unexposed PI-N over the concave "
        "portions at its bulk rate, the whole layer in 120 s: over an interconnect 5.042 um "
        "high inside the edge bead it goes 16.5 um down the 16.5 um layer, past the metal "
        "11.458 um under the resin's top (the resin's spin film over the interconnect): it "
        "clears those concave portions to the metal and leaves no resin at their bottom, "
        "where the claim needs some left at every one: give at most 83 s (claim 002:1f)"
    ) in refusal(capsys, tmp_path, "two-process-via", developed("150 s"))
    (problem,) = recipe_problems(TwoProcessViaRecipe, developed("120 s"))
    assert problem["path"] == "first.develop_time_s"
