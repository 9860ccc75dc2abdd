"""Method two-process-via (002:1) end to end on the simulated line, from the command line.

Each reference recipe (thermoset lasered then dry-etched; radiation-sensitive developed then
dry-etched or lasered; solder resist on a stress-relieving layer) runs a lot with every claim
condition passing; recipes breaking a claim's own constraint or a tool's limit are refused
before any tool moves; valid recipes that make a wrong product run, and the claim check names
the claim (or, where a tool measures it, the wafer is held at that step).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from packline.cli import main

from .helpers import RECIPES, failing_claims, reference_recipe, run_lot, write_recipe

#: Ten minutes of O2 at 1 kW: 10 um of resin off the top and the concave bottoms alike.
O2_10_MIN = {
    "gas": "O2",
    "flow_sccm": "150 sccm",
    "pressure_mtorr": "200 mTorr",
    "rf_power_w": "1 kW",
    "time_s": "10 min",
}

#: The claims every variant's product is checked for.
EVERY_VARIANT = {"002:1a-d", "002:1e", "002:1f", "002:1g", "002:1h", "002:1i", "002:9", "002:18"}


def tagged_steps(events: list[dict], wafer: str = "W01") -> list[tuple[str, set[str]]]:
    return [
        (e["step"], set(e["data"]["claims"]))
        for e in events
        if e["kind"] == "step-started" and e["wafer"] == wafer and e["data"]["claims"]
    ]


#: The claimed steps in the order every variant runs them, with its own steps where they go.
ROUTE = [
    "deposit seed",
    "coat resin",
    "FIRST",
    "cure resin",
    "SECOND",
    "mount balls",
    "reflow balls",
]


@pytest.mark.parametrize(
    ("variant", "claims", "first", "second", "before", "after"),
    [
        (
            "two-process-via.yaml",
            {"002:10", "002:19", "002:13", "002:6"},
            "laser concave portions",
            "dry etch via bottoms",
            [],
            ["dice"],
        ),
        (
            "two-process-via-photo.yaml",
            {"002:11", "002:20", "002:12", "002:13"},
            "develop concave portions",
            "dry etch via bottoms",
            [],
            [],
        ),
        (
            "two-process-via-photo-laser.yaml",
            {"002:11", "002:20", "002:12"},
            "develop concave portions",
            "laser via bottoms",
            [],
            [],
        ),
        (
            "two-process-via-solder-resist.yaml",
            {"002:10", "002:19", "002:14", "002:13", "002:17"},
            "laser concave portions",
            "dry etch via bottoms",
            ["open stress relief"],
            [],
        ),
    ],
)
def test_each_recipe_runs_a_lot_with_every_claim_condition_passing(
    db: Path,
    capsys: pytest.CaptureFixture[str],
    variant: str,
    claims: set[str],
    first: str,
    second: str,
    before: list[str],
    after: list[str],
):
    code, events = run_lot(capsys, "two-process-via", RECIPES.joinpath(variant), 2)
    summary = events[-1]
    assert code == 0, summary
    assert [w["status"] for w in summary["wafers"]] == ["completed"] * 2
    check = summary["claim_check"]
    assert check["status"] == "passed"
    assert {c["verdict"] for c in check["conditions"]} == {"pass"}
    assert {c["claim"] for c in check["conditions"]} == EVERY_VARIANT | claims
    tagged = tagged_steps(events)
    names = [name for name, _ in tagged]
    route = [*before, *ROUTE, *after]
    route[route.index("FIRST")] = first
    route[route.index("SECOND")] = second
    positions = [names.index(name) for name in route]
    assert positions == sorted(positions), names
    assert "002:1h" in dict(tagged)[second]
    assert ("002:4" in dict(tagged)[second]) is second.startswith("dry etch")
    assert ("dice" in names) is bool(after)


def changed(variant: str, changes: dict[str, object]) -> dict:
    """The reference recipe `variant` with each field path set to its value (None: left out)."""
    tree = reference_recipe(variant)
    for path, value in changes.items():
        *parents, last = path.split(".")
        node = tree
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if value is None:
            del node[last]
        else:
            node[last] = value
    return tree


@pytest.mark.parametrize(
    ("variant", "changes", "expected"),
    [
        (  # the second process the same as the first
            "two-process-via.yaml",
            {
                "second": {
                    "process": "laser",
                    "diameter_um": "40 um",
                    "fluence_j_cm2": "3 J/cm^2",
                    "rep_rate_khz": "100 kHz",
                }
            },
            "second.process = laser: the second process must differ from the first "
            "(first.process = laser) (claim 002:1h)",
        ),
        (  # a develop of a resin that light does not pattern
            "two-process-via-photo.yaml",
            {"resin.resin": "THERMOSET"},
            "(claim 002:3)",
        ),
        (  # a first laser that does not stop part way
            "two-process-via.yaml",
            {"first.depth_um": None},
            "first.depth_um = none: the first process leaves resin at the concave bottoms: give "
            "the laser a depth (claim 002:1f)",
        ),
        (  # a second laser that stops part way
            "two-process-via-photo-laser.yaml",
            {"second.depth_um": "5 um"},
            "second.depth_um = 5 um",
        ),
        (  # a stress-relieving layer of another resin
            "two-process-via-solder-resist.yaml",
            {"stress_relief.coat.resin": "THERMOSET"},
            "(claim 002:17)",
        ),
        (  # one O2 step longer than the chamber's time limit
            "two-process-via.yaml",
            {"second.plasma.steps.0.time_s": "20 min"},
            "second.plasma.steps.0.time_s = '20 min': must be at most 600 s",
        ),
        (  # a cure hotter than the oven
            "two-process-via.yaml",
            {"cure.temperature_c": "400 degC"},
            "cure.temperature_c = '400 degC': must be at most 350 degC",
        ),
        (  # balls bigger than the ball mounter takes
            "two-process-via.yaml",
            {"terminals.ball_diameter_um": "1 mm"},
            "terminals.ball_diameter_um = '1 mm': must be at most 760 um",
        ),
    ],
)
def test_a_wrong_recipe_is_refused_naming_field_value_and_claim_or_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], variant: str, changes: dict, expected: str
):
    path = write_recipe(tmp_path, changed(variant, changes))
    assert main(["validate", "two-process-via", "--recipe", str(path)]) == 2
    assert expected in capsys.readouterr().err
    assert main(["run", "two-process-via", "--sim", "--recipe", str(path)]) == 2
    assert expected in capsys.readouterr().err


def _run_wrong(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, variant: str, changes: dict
) -> dict:
    wrong = changed(variant, changes)
    wrong.pop("dicing", None)  # the wafer left whole: a shorter run
    code, events = run_lot(capsys, "two-process-via", write_recipe(tmp_path, wrong), 1)
    summary = events[-1]
    assert code == 1, summary
    return summary


@pytest.mark.parametrize(
    ("variant", "changes", "claim"),
    [
        # the pads not descummed: the seed lands on their oxide and residue (112 mOhm contacts)
        ("two-process-via.yaml", {"interconnects.descum": None}, "002:1a-d"),
        # an O2 etch of 20 min: the vias open, but the field goes down to the interconnects
        (
            "two-process-via.yaml",
            {"second.plasma.steps": [dict(O2_10_MIN), dict(O2_10_MIN)]},
            "002:1e",
        ),
        # a dose below the clearing dose: the negative resin's field thins in the developer,
        # and the etch that opens the vias bares the interconnects
        ("two-process-via-photo.yaml", {"first.dose_mj_cm2": "150 mJ/cm^2"}, "002:1e"),
    ],
)
def test_a_valid_recipe_making_a_wrong_product_fails_the_claim_check_naming_the_claim(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], variant, changes, claim: str
):
    summary = _run_wrong(capsys, tmp_path, variant, changes)
    assert [w["status"] for w in summary["wafers"]] == ["completed"]
    check = summary["claim_check"]
    assert check["status"] == "failed"
    failing = failing_claims(check)
    assert claim in failing
    assert claim in check["note"]


def test_a_dry_etch_too_short_to_open_the_vias_holds_the_wafer_at_the_ball_inspection(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """A 2 min O2 etch leaves resin in every via: the ball mounter finds no metal to hold a
    ball, its inspection counts every one missing, and the wafer is held there (the tools'
    own catch of 002:1h, before a reflow joins nothing)."""
    summary = _run_wrong(
        capsys, tmp_path, "two-process-via.yaml", {"second.plasma.steps.0.time_s": "2 min"}
    )
    (wafer,) = summary["wafers"]
    assert wafer["status"] == "held"
    assert "step 'mount balls'" in wafer["reason"]
    assert "balls missing" in wafer["reason"]
