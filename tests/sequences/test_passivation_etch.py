"""validate refuses a passivation etch too short to open the film over the pads (002:15): the
CF4/O2 steps etch the film at the line's rate of its material at their power
(`CF4_DIELECTRIC_NM_PER_MIN`, which the simulated chamber etches by), and the refusal names the
step's time, the claim and the least time. Before, a 2 min etch of 500 nm SiN (240 nm at
300 W) validated and the wafer was held hours later at 'electroplate wiring' with the pads
still covered."""

from __future__ import annotations

from packline.drivers.roles.deposition import Material
from packline.drivers.roles.plasma_cleaner import CF4_DIELECTRIC_NM_PER_MIN

from .helpers import reference_recipe, refusal, validated_lot_of_one

#: The reference's 500 nm of SiN at the line's 120 nm/min at 300 W.
LEAST_S = 250


def passivated(etch_time: str, **film: object) -> dict:
    """two-process-via-passivated.yaml with its CF4/O2 step lasting `etch_time`."""
    recipe = reference_recipe("two-process-via-passivated.yaml")
    recipe["passivation"]["etch"]["steps"][0]["time_s"] = etch_time
    recipe["passivation"]["film"].update(film)
    return recipe


def test_an_etch_short_of_the_film_is_refused_with_the_least_time(capsys, tmp_path):
    assert (
        "passivation.etch.steps.0.time_s = 120 s: the etch's CF4/O2 takes 240 nm of SiN off "
        "(the line's 120 nm/min at 300 W), leaving 260 nm of its 500 nm (film.thickness_nm) "
        f"over the pads: give at least {LEAST_S} s (claim 002:15)"
    ) in refusal(capsys, tmp_path, "two-process-via", passivated("2 min"))
    error = refusal(capsys, tmp_path, "two-process-via", passivated(f"{LEAST_S - 1} s"))
    assert f"give at least {LEAST_S} s (claim 002:15)" in error


def test_an_oxide_etches_at_its_own_rate(capsys, tmp_path):
    """SiO2 etches at half SiN's rate: the same 5 min that clears 500 nm of SiN leaves 200 nm
    of SiO2."""
    assert (
        CF4_DIELECTRIC_NM_PER_MIN[Material.SIO2][1] * 2
        == CF4_DIELECTRIC_NM_PER_MIN[Material.SIN][1]
    )
    error = refusal(capsys, tmp_path, "two-process-via", passivated("5 min", material="SiO2"))
    assert "takes 300 nm of SiO2 off (the line's 60 nm/min at 300 W), leaving 200 nm" in error
    assert "give at least 500 s (claim 002:15)" in error


def test_the_least_etch_validates_and_a_lot_of_one_completes(capsys, tmp_path):
    summary = validated_lot_of_one(capsys, tmp_path, "two-process-via", passivated(f"{LEAST_S} s"))
    assert [wafer["status"] for wafer in summary["wafers"]] == ["completed"]
    assert summary["claim_check"]["status"] == "passed"


def test_a_minimum_above_the_film_is_refused_at_its_whole_path(capsys, tmp_path):
    error = refusal(capsys, tmp_path, "two-process-via", passivated("5 min", thickness_nm="0 nm"))
    assert error.endswith(
        ": passivation.min_thickness_nm = 450 nm: more than the film's film.thickness_nm = 0 nm\n"
    )
