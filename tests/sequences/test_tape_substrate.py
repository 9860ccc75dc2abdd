"""Method tape-substrate (000:a-g, 000:x1, 000:x3) end to end on the simulated line, from the
command line.

A lot of small tape panels (and of metal plates, 000:x3) runs with every claim condition
passing, the claim-tagged steps in the claim's order; recipes breaking a claim's own constraint
or a tool's limit are refused before any tool moves, naming the field, the value, the limit or
the claim; valid recipes that make a wrong product (an overfilled hole, an uncured seal, a
plate etched too little or too much) run, and the claim check names the claim.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import cast

import pytest
import yaml
from pydantic_core import PydanticCustomError

from packline.cli import main
from packline.clock import WallClock
from packline.drivers.roles.dispenser import FILL_TOLERANCE
from packline.drivers.roles.flip_chip_bonder import terminal_volume_nl
from packline.sequences.engine import (
    BadInput,
    Decision,
    Recipe,
    RecipeError,
    RunRequest,
    RunStore,
    get_method,
    open_resume,
    open_run,
    prepare,
    read_recipe_text,
    recipe_template,
    record_disposition,
    run_report,
)
from packline.sequences.engine.errors import ResumeNotStarted
from packline.sequences.engine.events import Event
from packline.sequences.engine.plan import dry_run_release_warning
from packline.sequences.engine.tools import ConnectedTools
from packline.sequences.tape_substrate import TapeSubstrateRecipe, die_wafer_id
from packline.sequences.tape_substrate.checks import GRIND_STEP, claim_conditions
from packline.sequences.tape_substrate.incoming import DieWaferRecipe, PanelRecipe
from packline.sequences.tape_substrate.steps import (
    DRILL_STEP,
    RESIST_OPENING_STEP,
    gauges_and_laser_sources_fit,
)
from packline.sim_instruments.grinder import SimGrinder
from packline.sim_instruments.line import SimulatedLine
from packline.sim_instruments.physics.dispenser import DispenserPhysics
from packline.sim_instruments.twin.snapshot import read_snapshot

from .helpers import (
    UV_LASER,
    commands_received,
    completed_past_validate,
    etched_apart_past_validate,
    failing_claims,
    lone_laser,
    recipe_problems,
    reference_recipe,
    refusal,
    refused_as_it_connects,
    run_lot,
    stopped_at,
    validated_lot_of_one,
    without_lines,
    write_recipe,
)

#: The claim-tagged steps of a panel, in the order of the claim's steps.
CLAIM_ORDER = [
    ("drill holes", {"000:a"}),
    ("open solder resist", {"000:a"}),
    ("fill holes", {"000:b"}),
    ("form terminals", {"000:c"}),
    ("bond dies", {"000:c", "000:d"}),
    ("seal dies", {"000:e"}),
    ("cure sealing resin", {"000:e"}),
    ("grind", {"000:f"}),
    ("dice", {"000:g"}),
]


#: The claim-tagged steps of a metal plate (000:x3): no holes; the plate patterned once ground.
METAL_ORDER = [
    ("form terminals", {"000:x3"}),
    ("bond dies", {"000:x3", "000:d"}),
    ("seal dies", {"000:e", "000:x3"}),
    ("cure sealing resin", {"000:e", "000:x3"}),
    ("grind", {"000:f", "000:x3"}),
    ("coat plate resist", {"000:x3"}),
    ("pattern interconnections", {"000:x3"}),
    ("etch plate", {"000:x3"}),
    ("dice", {"000:g"}),
]


def small_recipe(name: str = "tape-substrate.yaml") -> dict:
    """A reference recipe on a panel of one row of three units, its dies from 100 mm wafers."""
    recipe = reference_recipe(name)
    recipe["panel"].update(rows=1, columns=3)
    recipe["dies"]["diameter_mm"] = "100 mm"
    return recipe


def _tagged(events: list[dict], wafer: str = "W01") -> list[tuple[str, set[str]]]:
    """The claim-tagged steps `wafer` started, in order, with their claims."""
    return [
        (e["step"], set(e["data"]["claims"]))
        for e in events
        if e["kind"] == "step-started" and e["wafer"] == wafer and e["data"]["claims"]
    ]


def test_a_lot_of_panels_runs_with_every_claim_condition_passing(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    code, events = run_lot(capsys, "tape-substrate", write_recipe(tmp_path, small_recipe()), 2)
    summary = events[-1]
    assert code == 0, summary
    assert [w["status"] for w in summary["wafers"]] == ["completed"] * 2
    check = summary["claim_check"]
    assert check["status"] == "passed"
    assert {c["verdict"] for c in check["conditions"]} == {"pass"}
    assert {c["claim"] for c in check["conditions"]} == {f"000:{s}" for s in "abcdefg"}
    holes = next(c for c in check["conditions"] if c["claim"] == "000:b")
    assert holes["sites_checked"] == 2 * 3 * 24  # every hole of every unit of both panels
    measured = [c for c in check["conditions"] if c["margin_quantity"] is not None]
    assert {c["claim"] for c in measured} == {"000:b", "000:e", "000:f"}
    assert all(c["margin"] >= 0 for c in measured)  # every measured quantity within its limit
    tagged = _tagged(events)
    assert tagged == CLAIM_ORDER


def test_external_terminals_are_balls_in_every_solder_resist_opening_reflowed(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """000:x1: the balls go on the panel's bottom after grinding, before the dicing."""
    recipe = small_recipe("tape-substrate-balls.yaml")
    code, events = run_lot(capsys, "tape-substrate", write_recipe(tmp_path, recipe), 1)
    summary = events[-1]
    assert code == 0, summary
    check = summary["claim_check"]
    assert check["status"] == "passed"
    balls = [c for c in check["conditions"] if c["claim"] == "000:x1"]
    assert [(c["sites_checked"], c["verdict"]) for c in balls] == [(72, "pass")] * 3
    reach = next(c for c in balls if c["margin_unit"] == "um" and "reach" in c["margin_quantity"])
    # the 250 um balls sink 25 um into the 150 um openings of the tape's 20 um resist
    assert reach["margin_worst"] == pytest.approx(5.0, abs=0.05)
    tagged = _tagged(events)
    x1 = [("apply flux", {"000:x1"}), ("mount balls", {"000:x1"}), ("reflow balls", {"000:x1"})]
    assert tagged == CLAIM_ORDER[:-1] + x1 + CLAIM_ORDER[-1:]


def test_each_panel_takes_its_dies_from_its_own_die_wafer():
    recipe = read_recipe_text(TapeSubstrateRecipe, yaml.safe_dump(small_recipe()), "test")
    incoming = get_method("tape-substrate").incoming_material(recipe)
    assert callable(incoming)
    assert incoming("W01").rows == 1
    die_wafer = incoming(die_wafer_id("W01"))
    assert (die_wafer.diameter_mm, die_wafer.pads_per_die_side) == (100.0, 6)
    assert die_wafer_id("055012-3f2a-W01") == "D055012-3f2a-W01"
    assert len(die_wafer_id("A-SIXTEEN-CHARS!")) == 16


def _change(recipe: dict, path: str, value: object) -> None:
    *sections, field = path.split(".")
    for section in sections:
        recipe = recipe[section]
    recipe[field] = value


@pytest.mark.parametrize(
    ("path", "value", "words"),
    [
        ("fill.volume_nl", "1.3 nl", "fill.volume_nl = 1.3 nl: with a terminal's 0.226 nl"),
        ("holes.diameter_um", "105 um", "the studs dies.terminals bonds are up to 107.4 um"),
        ("dies.terminals.height_um", "80 um", "dies.terminals.height_um = 80 um: one stud"),
        ("seal.height_um", "250 um", "must reach the dies' backs, dies.thickness_um = 400 um"),
        ("grind.thickness_um", "600 um", "must leave the die backs ground"),
        (
            "grind.tolerance_um",
            "0.001 um",
            "grind.tolerance_um = 0.001 um: finer than the grinder's thickness gauge resolves, "
            "0.1 um at its finest",
        ),
        ("balls.balls_per_unit", 30, "a unit has 24 solder resist openings"),
        (
            "balls.reflow.peak_c",
            "210 degC",
            "balls.reflow.peak_c = 210 degC: must be above the liquidus of SAC305 (220 degC): "
            "the balls would not melt (claim 000:x1)",
        ),
    ],
)
def test_a_recipe_breaking_a_claim_constraint_is_refused_naming_it_and_no_tool_moves(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], path, value, words
):
    recipe = small_recipe("tape-substrate-balls.yaml")
    _change(recipe, path, value)
    claim = {
        "fill": "000:b",
        "dies": "000:c",
        "holes": "000:c",
        "seal": "000:e",
        "grind": "000:f",
        "balls": "000:x1",
    }[path.split(".")[0]]
    file = write_recipe(tmp_path, recipe)
    assert main(["run", "tape-substrate", "--sim", "--recipe", str(file)]) == 2
    error = capsys.readouterr().err
    assert words in error
    assert f"(claim {claim})" in error
    assert not db.exists()  # no run recorded: nothing was started, no tool contacted


def test_a_grind_tolerance_of_the_gauge_s_resolution_passes_the_line_and_000_f(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """The least tolerance validate takes, the gauge's 0.1 um, holds: the grind stops where
    the gauge reads the target, less than a step above it, so the package it measured in
    tolerance passes 000:f (0.001 um had passed the measurement, 413 in [413, 413], and
    failed 000:f by 0.0982 um)."""
    recipe = small_recipe()
    recipe["grind"]["tolerance_um"] = "0.1 um"
    check = validated_lot_of_one(capsys, tmp_path, "tape-substrate", recipe)["claim_check"]
    assert check["status"] == "passed"
    (thickness,) = [c for c in check["conditions"] if c["condition"].startswith("package")]
    assert 0 < thickness["margin_worst"] < 0.1


def recipe_of_tolerance(tmp_path: Path, tolerance_um: str) -> Path:
    """`small_recipe` ground to `tolerance_um`, written as a recipe file."""
    recipe = small_recipe()
    recipe["grind"]["tolerance_um"] = tolerance_um
    return write_recipe(tmp_path, recipe)


#: The simulated line's grinder with a gauge of 0.5 um (one of the 0.1-1 um a grinder's gauge
#: comes with), as `--sim-option grinder:gauge_resolution_um=0.5` gives it.
COARSE_GAUGE = {"grinder": {"gauge_resolution_um": 0.5}}

#: How a grinder of `COARSE_GAUGE` refuses a grind tolerance of 0.2 um, after its address.
COARSE_REFUSAL = (
    ": grind.tolerance_um = 0.2 um: finer than this grinder's thickness gauge resolves, 0.5 um "
    "(its reading is rounded down to that grid, so a package it reads on target may stand up "
    "to a step above): give at least 0.5 um, or grind on a grinder whose gauge resolves it "
    "(claim 000:f)"
)


@pytest.mark.parametrize("gem", [False, True], ids=["scpi", "gem"])
async def test_a_grind_tolerance_finer_than_the_grinder_s_gauge_is_refused_before_any_step(
    store: RunStore, tmp_path: Path, gem: bool
):
    """Validate takes 0.2 um (the finest gauge, 0.1 um, resolves it); a grinder whose gauge
    resolves 0.5 um cannot tell the package from its target to it (the line measured `413 um
    in [412.8, 413.2]` and the claim check failed 000:f, the package 0.499 um over). The
    grind step had refused it, once the panel had been drilled, filled, bonded, sealed and
    cured. The method's check of its tools asks the grinder, SCPI or GEM, for its gauge's
    resolution once the run has connected it, and the run is refused there, naming the
    grinder, the field, the value, the resolution and the claim: no tool was commanded, no
    panel arrived on the line, nothing was recorded."""
    prepared = prepare(
        RunRequest("tape-substrate", recipe_path=recipe_of_tolerance(tmp_path, "0.2 um"), gem=gem)
    )
    tools = await refused_as_it_connects(store, prepared, COARSE_GAUGE, "grinder", COARSE_REFUSAL)
    assert tools["grinder"].gauge_resolution_um == 0.5  # type: ignore[attr-defined]


@pytest.mark.parametrize("gem", [False, True], ids=["scpi", "gem"])
async def test_a_grind_tolerance_the_grinder_s_gauge_resolves_runs_and_passes_000_f(
    store: RunStore, tmp_path: Path, gem: bool
):
    """The same grinder, its gauge at 0.5 um, grinds a tolerance of 0.5 um: the panel
    completes and the claim check passes 000:f."""
    prepared = prepare(
        RunRequest("tape-substrate", recipe_path=recipe_of_tolerance(tmp_path, "0.5 um"), gem=gem)
    )
    grinders: list[SimGrinder] = []
    async with open_run(
        store,
        prepared,
        line_ready=lambda line: grinders.append(cast(SimGrinder, line.tools["grinder"])),
        sim_options=COARSE_GAUGE,
    ) as run:
        status = await run.run()
    (grinder,) = grinders
    assert (status, grinder.gauge_resolution_um, grinder.cycle_count) == ("completed", 0.5, 1)
    check = run_report(store, run.run_id)["claim_check"]
    assert check["status"] == "passed", failing_claims(check)
    # the gauge reads 0.5 um steps rounded down: the reading may be at most the target, so
    # that the package, up to a step above it, stands within the tolerance (it had read
    # `0.5 um to spare` of a package 0.499 um over)
    measured = store.table("measurements", run.run_id)
    (row,) = [m for m in measured if m["name"] == "package thickness"]
    target = prepared.recipe.grind.thickness_um
    assert (row["low"], row["high"]) == pytest.approx((target - 0.5, target))
    assert row["value"] <= row["high"]
    # the records say the step the gauge read it to, and what the simulated grinder was given
    # (decision 0121): the limit can be told afterwards
    assert row["resolution"] == 0.5
    tools = {tool["name"]: tool["sim_options"] for tool in store.tools(run.run_id)}
    assert tools["grinder"] == {"gauge_resolution_um": 0.5}
    assert {name for name, given in tools.items() if given} == {"grinder"}


async def test_a_resume_on_a_grinder_whose_gauge_is_coarser_is_refused_the_run_kept(
    store: RunStore, tmp_path: Path
):
    """A run of 0.2 um began on the line's grinder (0.1 um) and was terminated after its first
    step; its resume finds a grinder of 0.5 um (swapped meanwhile) and is refused as it
    connects, before its recovery or any step: no tool commanded, no session started, the run
    as its first session left it, and it resumes on a grinder that resolves 0.2 um."""
    request = RunRequest("tape-substrate", recipe_path=recipe_of_tolerance(tmp_path, "0.2 um"))
    run_id = await stopped_at(store, request, None, event="step-finished")
    before = (store.run(run_id), store.table("steps", run_id), store.table("events", run_id))
    lines: list[SimulatedLine] = []
    async with open_resume(
        store, run_id, line_ready=lines.append, sim_options=COARSE_GAUGE
    ) as resumed:
        with pytest.raises(ResumeNotStarted) as refused:
            await resumed.run()
        (line,) = lines
        assert commands_received(line) == {}
    assert str(refused.value).startswith(f"run {run_id} not resumed: grinder at ")
    resumed_refusal = COARSE_REFUSAL.replace("give at least 0.5 um, or grind", "grind")
    assert str(refused.value).endswith(
        f"{resumed_refusal}; nothing was run and nothing was recorded, so the run is as its "
        f"last session left it: its recipe cannot change, so resume it, `packline resume "
        f"{run_id}`, on a simulated line whose tools carry it out (without the --sim-option "
        "that made them otherwise)"
    )
    assert (store.run(run_id), store.table("steps", run_id), store.table("events", run_id)) == (
        before
    )
    async with open_resume(store, run_id) as again:
        assert await again.run() == "completed"


async def test_each_session_records_its_own_sim_options_and_its_grind_its_gauge_s_step(
    store: RunStore, tmp_path: Path
):
    """A dry run of 0.5 um began on a grinder of 0.5 um (`--sim-option`) and was terminated
    after its first step; its resume, given no option, grinds on its fresh line's own grinder
    (0.1 um), as its command says: the records say so, session by session (the options had
    not been recorded, so the run read as ground on a 0.5 um gauge or on none told), and the
    reading its step, with the limit that allows for it (target + 0.5 - 0.1)."""
    prepared = prepare(
        RunRequest("tape-substrate", recipe_path=recipe_of_tolerance(tmp_path, "0.5 um"))
    )

    def terminate_after_the_first_step(event: Event) -> None:
        if event.kind == "step-finished":
            engine.request("terminate", "test")

    async with open_run(
        store, prepared, observers=[terminate_after_the_first_step], sim_options=COARSE_GAUGE
    ) as engine:
        assert await engine.run() == "terminated"
    async with open_resume(store, engine.run_id) as resumed:
        assert await resumed.run() == "completed"
    grinders = [tool for tool in store.tools(engine.run_id) if tool["name"] == "grinder"]
    assert [(tool["session"], tool["sim_options"]) for tool in grinders] == [
        (1, {"gauge_resolution_um": 0.5}),
        (2, {}),
    ]
    (row,) = [
        m for m in store.table("measurements", engine.run_id) if m["name"] == "package thickness"
    ]
    target = prepared.recipe.grind.thickness_um
    assert row["resolution"] == 0.1
    assert (row["low"], row["high"]) == pytest.approx((target - 0.5, target + 0.4))


async def test_a_resume_with_no_grind_left_is_not_refused_a_coarse_gauge(
    store: RunStore, tmp_path: Path
):
    """A run of 0.2 um terminated once its panel was ground: its resume has no grind left to
    run, so a grinder of 0.5 um, which it would have refused, is asked nothing (it had been
    refused, the ground panel kept from its dicing until a fine gauge came back), and the
    panel completes."""
    request = RunRequest("tape-substrate", recipe_path=recipe_of_tolerance(tmp_path, "0.2 um"))
    run_id = await stopped_at(store, request, GRIND_STEP, event="step-finished")
    grinders: list[SimGrinder] = []
    async with open_resume(
        store,
        run_id,
        line_ready=lambda line: grinders.append(cast(SimGrinder, line.tools["grinder"])),
        sim_options=COARSE_GAUGE,
    ) as resumed:
        assert await resumed.run() == "completed"
    (grinder,) = grinders
    assert (grinder.gauge_resolution_um, grinder.cycle_count) == (0.5, 0)


#: The simulated line's laser as the line builds it: UV, as `sim serve` served it.
#: How a UV laser refuses the reference recipe's holes, after its address.
UV_REFUSAL = (
    ": holes.diameter_um = 150 um, holes.resist_opening_um = 150 um: outside what this laser's "
    "UV source (355 nm) drills, [10, 50] um: drill them on a laser of a CO2 source (9400 or "
    "10600 nm), which drills [50, 150] um (claim 000:a)"
)


async def test_a_laser_whose_source_cannot_drill_the_holes_is_refused_before_any_step(
    store: RunStore,
):
    """A new user's station run on the served line, whose laser is UV, laminated nothing,
    loaded the panel on the laser and held it at 'drill holes' (`uv_via_diameter_um = 150 um
    is outside the limits [10, 50] um`): validate judges the holes by a CO2 source's range.
    The method's check of its tools asks the laser its source once the run has connected it,
    and the run is refused there, naming the laser, its source, the diameters and the source
    that drills them: no tool was commanded, no panel arrived on the line, nothing was
    recorded."""
    prepared = prepare(RunRequest("tape-substrate"))
    await refused_as_it_connects(store, prepared, UV_LASER, "laser", UV_REFUSAL)


async def test_a_resume_with_its_panels_drilled_asks_the_laser_nothing():
    """A resume whose panels have their holes drilled and their resist opened has no
    drilling left, so its check asks the laser nothing (a resume of drilled panels on a
    station whose limits now refuse the laser's diameters goes on); a first session asks it
    and refuses its UV source."""
    recipe = cast(TapeSubstrateRecipe, prepare(RunRequest("tape-substrate")).recipe)
    async with lone_laser() as (line, pool):
        asked = len(line.tools["laser"].received)
        drilled = {"W01": frozenset({DRILL_STEP, RESIST_OPENING_STEP})}
        assert await gauges_and_laser_sources_fit(recipe, ConnectedTools(pool, drilled)) == []
        assert len(line.tools["laser"].received) == asked
        (reason,) = await gauges_and_laser_sources_fit(recipe, ConnectedTools(pool))
        assert (reason.tool, str(reason).endswith(UV_REFUSAL)) == ("laser", True)


async def test_a_resume_with_its_holes_drilled_asks_the_laser_only_of_the_openings():
    """A resume whose panels have their holes drilled but their solder resist not opened
    asks the laser only of the openings' diameter: 50 um openings, which a UV source drills,
    are not refused for the 150 um holes already drilled (the check had asked both diameters
    while either step was left, and refused the laser the resume needs); a first session is
    refused for the holes alone, naming that diameter only."""
    recipe = cast(TapeSubstrateRecipe, prepare(RunRequest("tape-substrate")).recipe)
    assert recipe.holes is not None
    openings_of_50 = recipe.holes.model_copy(update={"resist_opening_um": 50.0})
    recipe = recipe.model_copy(update={"holes": openings_of_50})
    async with lone_laser() as (_line, pool):
        drilled = {"W01": frozenset({DRILL_STEP})}
        assert await gauges_and_laser_sources_fit(recipe, ConnectedTools(pool, drilled)) == []
        (reason,) = await gauges_and_laser_sources_fit(recipe, ConnectedTools(pool))
    assert str(reason).endswith(
        ": holes.diameter_um = 150 um: outside what this laser's UV source (355 nm) drills, "
        "[10, 50] um: drill them on a laser of a CO2 source (9400 or 10600 nm), which drills "
        "[50, 150] um (claim 000:a)"
    )


@pytest.mark.parametrize(
    ("tolerance", "shown", "limit"),
    [(0.045, "+-4.5%", 4.5), (0.0435, "+-4.35%", 4.35), (0.05, "+-5%", 5.0)],
)
def test_the_000_b_condition_names_the_fill_tolerance_as_the_recipe_gives_it(
    tolerance: float, shown: str, limit: float
):
    """The claim check's 000:b row says the recipe's fill tolerance as given, as its margin
    does: 0.045 read `(+-4%, no spill)` beside a margin of at most 4.5 %."""
    recipe = small_recipe()
    recipe["fill"]["tolerance"] = tolerance
    model = read_recipe_text(TapeSubstrateRecipe, yaml.safe_dump(recipe), "recipe")
    (filled,) = [c for c in claim_conditions(model) if c.claim == "000:b"]
    assert filled.text == f"filler at every hole's top ({shown}, no spill)"
    assert filled.margin is not None
    assert filled.margin.limit == pytest.approx(limit)


@pytest.mark.parametrize(
    ("name", "path", "value"),
    [
        ("tape-substrate.yaml", "holes.resist_opening_um", "100 um"),
        ("tape-substrate.yaml", "holes.fluence_j_cm2", "1 J/cm^2"),
        ("tape-substrate.yaml", "seal.height_um", "1000 um"),
        ("tape-substrate.yaml", "bond.bond_force_n", "1 N"),
        ("tape-substrate.yaml", "bond.bond_time_s", "60 s"),
        ("tape-substrate.yaml", "grind.thickness_um", "163 um"),
        ("tape-substrate.yaml", "panel.holes_per_die_side", 26),
        ("tape-substrate.yaml", "panel.unit_width_mm", "8.1 mm"),
        ("tape-substrate.yaml", "fill.tolerance", 0.045),
        ("tape-substrate-metal-resist.yaml", "metal_substrate.solder_resist.spin_rpm", 6000),
        ("tape-substrate-metal-resist.yaml", "metal_substrate.solder_resist.bake_time_s", "30 s"),
        (
            "tape-substrate-metal-resist.yaml",
            "metal_substrate.solder_resist.dose_mj_cm2",
            "1500 mJ/cm^2",
        ),
        (
            "tape-substrate-metal-resist.yaml",
            "metal_substrate.solder_resist.develop_time_s",
            "300 s",
        ),
    ],
)
def test_a_valid_recipe_far_from_the_reference_makes_a_right_product(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, path: str, value
):
    """The method page's valid recipes tried for a wrong product, none found: each change,
    far from its reference, validates and runs a lot of 2 with every claim condition
    passing."""
    recipe = reference_recipe(name)
    _change(recipe, path, value)
    summary = validated_lot_of_one(capsys, tmp_path, "tape-substrate", recipe, lot=2)
    assert [wafer["status"] for wafer in summary["wafers"]] == ["completed"] * 2
    assert summary["claim_check"]["status"] == "passed"


@pytest.mark.parametrize(
    ("path", "value", "limit"),
    [
        ("holes.diameter_um", "200 um", "laser range of co2_via_diameter_um: 50-150 um"),
        ("fill.volume_nl", "30 nl", "dispenser range of fill_volume_nl: 0.05-20 nl"),
        ("bond.head_temperature_c", "500 degC", "flip_chip_bonder range of head_temperature_c"),
        ("grind.spindle_rpm", "100 rpm", "grinder range of spindle_rpm"),
        ("seal.cure.temperature_c", "400 degC", "oven range of temperature_c: 22-350 degC"),
        ("panel.rows", 0, "panel.rows"),
    ],
)
def test_a_setpoint_outside_a_tool_s_limits_is_refused_naming_field_value_and_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], path, value, limit
):
    recipe = small_recipe()
    _change(recipe, path, value)
    file = write_recipe(tmp_path, recipe)
    assert main(["validate", "tape-substrate", "--recipe", str(file)]) == 2
    error = capsys.readouterr().err
    assert path in error
    assert limit in error


def _dispenser_told_the_room_of_studs(monkeypatch: pytest.MonkeyPatch, base_um: float) -> None:
    """Drive a recipe past validate's judgement of the terminals: validate and the dispenser
    take each hole's room for its terminal to be a stud `base_um` across at the recipe's
    height, not the stud the program bonds (as the line did before it judged the program's)."""

    def believed_nl(dies: DieWaferRecipe, panel: PanelRecipe) -> float:
        return float(terminal_volume_nl(dies.terminals.height_um, base_um, panel.tape_thickness_um))

    monkeypatch.setattr(DieWaferRecipe, "terminal_volume_nl", believed_nl)


async def test_filler_the_terminals_push_over_the_holes_tops_holds_the_panel_at_the_bonder(
    store: RunStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The docs' overfill example, driven past validate: the dispenser leaves each hole room
    for a stud 80 um across (they come out about 103 um) and fills 1.183 nl for it: its
    camera sees each hole filled as it was told, but the real studs push the filler over
    2,120 of the 2,400 holes' tops. Each hole holds its filler to its meniscus, so the
    X-ray's highest level reads 105 %, in tolerance; its count of the holes spilled holds the
    panel at 'bond dies', naming it, before anything else is done to it (the run had
    completed the panel and failed 000:b at the claim check)."""
    _dispenser_told_the_room_of_studs(monkeypatch, 80.0)
    recipe = reference_recipe("tape-substrate.yaml")
    recipe["fill"]["volume_nl"] = "1.183 nl"
    path = write_recipe(tmp_path, recipe)
    request = RunRequest("tape-substrate", lot=1, recipe_path=path)
    async with open_run(store, prepare(request)) as run:
        assert await run.run() == "held"
    (wafer,) = store.wafers(run.run_id)
    assert wafer["status"] == "held"
    assert wafer["reason"] == (
        "step 'bond dies' of W01 failed: holes spilled = 2120 holes, above the maximum of 0 holes"
    )
    steps = [step["name"] for step in store.table("steps", run.run_id)]
    assert steps[steps.index("bond dies") + 1 :] == []  # nothing after it, not even the unload
    check = run_report(store, run.run_id)["claim_check"]
    assert check["status"] == "incomplete"  # no panel completed: nothing to check


async def test_a_fill_that_leaves_holes_empty_holds_the_panel_at_the_fill(
    store: RunStore, monkeypatch: pytest.MonkeyPatch
):
    """The dispenser must fill every hole the laser drilled, each unit's terminal holes: a
    fill job that ends having jetted only the first holes (the physics of a job stopped part
    way) holds the panel at 'fill holes', naming the holes filled against the panel's 2,400
    (its measurement's low limit had been 1 hole)."""
    from packline.sim_instruments import dispenser

    def half_a_fill(panel, what, volume_nl, terminal_nl, elapsed_s, physics, rng):
        return fills(panel, what, volume_nl, terminal_nl, elapsed_s / 2, physics, rng)

    fills = dispenser.fill_holes
    monkeypatch.setattr(dispenser, "fill_holes", half_a_fill)
    async with open_run(store, prepare(RunRequest("tape-substrate", lot=1))) as run:
        assert await run.run() == "held"
    (wafer,) = store.wafers(run.run_id)
    assert re.fullmatch(
        r"step 'fill holes' of W01 failed: holes filled = \d+ holes, below the minimum of "
        r"2400 holes",
        wafer["reason"],
    )


async def test_a_panel_released_at_a_spilled_bond_goes_on_with_the_dies_the_bonder_bonded(
    store: RunStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The overfill above, held at 'bond dies' after the bonder bonded every die (2120 holes
    spilled), released: the resume goes on with the panel as the bond left it (decision 0108),
    its dies bonded and its filler spilled, so 'seal dies' seals them and the claim check
    fails 000:b on the spill. The resumed panel had been restored as 'fill holes' left it,
    with no die, and 'seal dies' refused it (`panel W01 carries no die`). The release warns of
    nothing: the step did its work on the simulated panel."""
    _dispenser_told_the_room_of_studs(monkeypatch, 80.0)
    recipe = reference_recipe("tape-substrate.yaml")
    recipe["fill"]["volume_nl"] = "1.183 nl"
    request = RunRequest("tape-substrate", lot=1, recipe_path=write_recipe(tmp_path, recipe))
    async with open_run(store, prepare(request)) as run:
        assert await run.run() == "held"
    record_disposition(store, run.run_id, "W01", Decision.RELEASE, "ana", "spill seen: go on")
    assert dry_run_release_warning(store, run.run_id, "W01", {}) is None
    async with open_resume(store, run.run_id) as resumed:
        assert await resumed.run() == "completed"
    resumed_steps = {s["name"]: s for s in store.table("steps", run.run_id) if s["session"] == 2}
    assert resumed_steps["bond dies"]["status"] == "skipped"  # released: accepted as done
    # a bonder takes one panel: no batch to run the step again, none said (a trial read one)
    assert resumed_steps["bond dies"]["error"] == (
        "released by an operator's disposition: accepted as done"
    )
    assert resumed_steps["seal dies"]["status"] == "completed"
    panel = read_snapshot(store.latest_twins(run.run_id)["W01"])
    assert panel.dies.count == panel.geometry.unit_count
    assert panel.dies.bonded.all()
    check = run_report(store, run.run_id)["claim_check"]
    assert failing_claims(check) == {"000:b"}


def test_filler_the_bonder_s_x_ray_sees_below_the_holes_tops_holds_the_panel_naming_it(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    """Driven past validate, the dispenser leaving room for studs 120 um across (they come out
    about 103 um) fills less for them: its camera sees each hole filled as it was told, but
    once the real studs are in, the filler stands short of the holes' tops (000:b-c). On real
    tools only the bonder's X-ray can tell: its lowest level, judged against the hole's top
    within the fill's tolerance, holds the panel at 'bond dies', as the claim check would
    fail it."""
    _dispenser_told_the_room_of_studs(monkeypatch, 120.0)
    recipe = small_recipe()
    recipe["fill"]["volume_nl"] = "1.03 nl"
    code, events = run_lot(capsys, "tape-substrate", write_recipe(tmp_path, recipe), 1)
    (wafer,) = events[-1]["wafers"]
    assert code == 1
    assert wafer["status"] == "held"
    assert "step 'bond dies'" in wafer["reason"]
    assert (
        "fill level min = 92.4 % of hole depth, outside 95-105 % of hole depth" in (wafer["reason"])
    )


@pytest.mark.parametrize("believed_base", ["80 um", "120 um"])
def test_a_stud_base_the_program_does_not_bond_is_refused_naming_the_one_it_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], believed_base: str
):
    """A new user's retrial: believed 80 um across (with the fill topped up for it, 1.183
    nl) or 120 um (cut back, 1.02 nl), the studs had validated and held every panel at 'bond
    dies' (2110 of 2400 holes spilled; the filler at 90.6 % of the holes' depth): the bond
    program sets the base, 102.8 um on the reference's, and validate says so."""
    recipe = reference_recipe("tape-substrate.yaml")
    recipe["dies"]["terminal_base_um"] = believed_base
    file = write_recipe(tmp_path, recipe)
    assert main(["validate", "tape-substrate", "--recipe", str(file)]) == 2
    assert (
        f"dies.terminal_base_um = {believed_base}: a stud's base is set by its bond program "
        "(dies.terminals): 25 um Au wire at 30 gf and 900 uJ bonds it 102.8 um across, "
        "98.1-107.4 um (the line's stud law, its 1.5% spread to 3 sigma), and the fill leaves "
        "room in each hole for the stud the program bonds: give from 98.1 to 107.4 um "
        "(claim 000:c)"
    ) in capsys.readouterr().err


@pytest.mark.parametrize("asked", ["1.183 nl", "1.02 nl"])
def test_the_fill_validate_advises_for_the_studs_the_program_bonds_runs_without_a_hold(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], asked: str
):
    """The retrial's fills, judged against the studs the program bonds (0.226 nl each), are
    refused with the window that fits; each end of it runs the reference's panel of 2400
    holes through 'bond dies' with none spilled or short, and the claim check passes."""
    recipe = reference_recipe("tape-substrate.yaml")
    recipe["fill"]["volume_nl"] = asked
    file = write_recipe(tmp_path, recipe)
    assert main(["validate", "tape-substrate", "--recipe", str(file)]) == 2
    refusal = capsys.readouterr().err
    assert "with a terminal's 0.226 nl (the stud dies.terminals bonds" in refusal
    assert "fill.volume_nl from 1.088 to 1.11 nl fits" in refusal
    for advised in ("1.088 nl", "1.11 nl"):
        recipe["fill"]["volume_nl"] = advised
        summary = validated_lot_of_one(capsys, tmp_path, "tape-substrate", recipe)
        assert [w["status"] for w in summary["wafers"]] == ["completed"]
        assert summary["claim_check"]["status"] == "passed"


def test_on_a_metal_substrate_the_plate_is_patterned_into_interconnections(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """000:x3: the studs bonded on the bare plate, sealed, ground flush, then the plate etched
    through around a resist island over every land: a land under every terminal, apart."""
    recipe = small_recipe("tape-substrate-metal.yaml")
    code, events = run_lot(capsys, "tape-substrate", write_recipe(tmp_path, recipe), 2)
    summary = events[-1]
    assert code == 0, summary
    assert [w["status"] for w in summary["wafers"]] == ["completed"] * 2
    check = summary["claim_check"]
    assert check["status"] == "passed"
    assert {c["verdict"] for c in check["conditions"]} == {"pass"}
    assert {c["claim"] for c in check["conditions"]} == {
        "000:x3",
        "000:d",
        "000:e",
        "000:f",
        "000:g",
    }
    plate = {c["condition"]: c for c in check["conditions"] if c["claim"] == "000:x3"}
    assert len(plate) == 4
    for condition in plate.values():
        assert condition["sites_checked"] == 2 * 3 * 24  # every terminal of both plates
    lands = next(c for c in plate.values() if c["margin_quantity"] == "land width")
    assert 150 < lands["margin_worst"] < 300  # narrowed by the undercut, kept
    tagged = _tagged(events)
    assert tagged == METAL_ORDER
    steps = {e["step"] for e in events if e["kind"] == "step-started"}
    assert not steps & {"drill holes", "fill holes"}


def test_bumps_go_on_the_lands_of_a_patterned_plate(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """000:x3's optional bumps: balls on every land, on the plate's side, reflowed."""
    recipe = small_recipe("tape-substrate-metal-bumps.yaml")
    code, events = run_lot(capsys, "tape-substrate", write_recipe(tmp_path, recipe), 1)
    summary = events[-1]
    assert code == 0, summary
    check = summary["claim_check"]
    assert check["status"] == "passed"
    bumps = [c for c in check["conditions"] if c["condition"].startswith("a bump on every land")]
    assert [(c["sites_checked"], c["verdict"]) for c in bumps] == [(72, "pass")]
    x3 = [("apply flux", {"000:x3"}), ("mount balls", {"000:x3"}), ("reflow balls", {"000:x3"})]
    assert _tagged(events) == METAL_ORDER[:-1] + x3 + METAL_ORDER[-1:]


def _holes_in_a_plate(recipe: dict) -> None:
    recipe["holes"] = reference_recipe("tape-substrate.yaml")["holes"]


def _a_frame_on_a_plate(recipe: dict) -> None:
    recipe["frame"] = reference_recipe("tape-substrate-stacked.yaml")["frame"]


def _a_resin_for_the_plate_resist(recipe: dict) -> None:
    recipe["metal_substrate"]["resist"]["material"] = "PI-N"


def _a_tape_without_filler(recipe: dict) -> None:
    del recipe["fill"]


@pytest.mark.parametrize(
    ("name", "spoil", "claim", "words"),
    [
        (
            "tape-substrate-metal.yaml",
            _holes_in_a_plate,
            "000:x3",
            "holes.diameter_um = 150 um: a metal substrate has no holes",
        ),
        (
            "tape-substrate-metal.yaml",
            _a_frame_on_a_plate,
            "000:x2",
            "frame.column_diameter_um = 100 um: a frame's columns go into a tape's filled holes, "
            "and a metal substrate has none (leave out frame)",
        ),
        (
            "tape-substrate-metal.yaml",
            _a_resin_for_the_plate_resist,
            "000:x3",
            "metal_substrate.resist.material = PI-N: the plate is etched through a resist",
        ),
        ("tape-substrate.yaml", _a_tape_without_filler, "000:b", "fill = none: a tape panel's"),
    ],
)
def test_a_recipe_mixing_the_tape_and_the_plate_is_refused_naming_the_claim(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name, spoil, claim, words
):
    recipe = small_recipe(name)
    spoil(recipe)
    file = write_recipe(tmp_path, recipe)
    assert main(["run", "tape-substrate", "--sim", "--recipe", str(file)]) == 2
    error = capsys.readouterr().err
    assert words in error
    assert f"(claim {claim})" in error
    assert not db.exists()  # no run recorded: nothing was started, no tool contacted


def test_a_plate_etched_too_much_is_refused_with_the_longest_etch_that_keeps_the_lands(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """1500 s at 55 degC goes through the plate, but the undercut narrowed the 300 um lands
    to about 130 um: it validated and failed 000:x3. The land is judged before the run by
    the bench's undercut from the island the cell develops, the bath at its warmest; the
    refusal gives the longest etch that keeps min_land_um, one second more is refused, and
    a lot at the longest completes with the claim check passed."""
    recipe = small_recipe("tape-substrate-metal.yaml")
    recipe["metal_substrate"]["etch"].update(time_s="1500 s", temperature_c="55 degC")
    assert refusal(capsys, tmp_path, "tape-substrate", recipe).endswith(
        ": metal_substrate.etch.time_s = 1500 s: the bath dips within 1 degC of its 55 degC: "
        "at 56 degC the etch takes up to 90.943 um down and as far under each island's edge, "
        "narrowing the 299.9 um island of resist.mask = interconnect-lands (as the cell "
        "develops it) to a land of 118.0 um, narrower than min_land_um = 150 um: give at most "
        "1236 s (the least that goes through the plate is 664 s) (claim 000:x3)\n"
    )
    recipe["metal_substrate"]["etch"]["time_s"] = "1237 s"
    assert "give at most 1236 s" in refusal(capsys, tmp_path, "tape-substrate", recipe)
    recipe["metal_substrate"]["etch"]["time_s"] = "1236 s"
    summary = validated_lot_of_one(capsys, tmp_path, "tape-substrate", recipe)
    assert summary["claim_check"]["status"] == "passed"


@pytest.mark.parametrize(
    ("min_land_um", "advice", "thinner"),
    [
        (
            "150 um",
            "no etch at 66 degC goes through the plate (1768 s) and keeps it (at most 576 s): "
            "give resist.mask with lands that develop at least 610 um wide (those of "
            "interconnect-lands develop 299.9 um) or thickness_um at most 65 um (claim 000:x3)",
            ("65 um", "576 s"),  # the plate advised, etched as long as keeps the land
        ),
        # a land as wide as the island: no etch keeps it, however short, nor a thinner plate
        (
            "400 um",
            "no etch at 66 degC goes through the plate (1768 s) and keeps it: give resist.mask "
            "with lands that develop at least 860 um wide (those of interconnect-lands develop "
            "299.9 um) (claim 000:x3)",
            None,
        ),
    ],
)
def test_an_island_too_narrow_for_any_etch_through_the_plate_is_advised_what_can_work(
    db: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    min_land_um: str,
    advice: str,
    thinner: tuple[str, str] | None,
):
    """A 200 um plate under the 300 um islands: the 1768 s that go through it at 66 degC take
    about 230 um under each island's edge, the whole island. The refusal had advised `give
    min_land_um at most -160 um, or a wider island` (and, for a min_land_um wider than the
    island, `at most -385 s`); it names only what can work: the island wide enough for the
    etch through, and a plate thin enough for an etch that keeps the land, which applied (65
    um, etched 576 s) completes a lot with the claim check passed."""
    recipe = small_recipe("tape-substrate-metal.yaml")
    plate = recipe["metal_substrate"]
    plate.update(thickness_um="200 um", min_land_um=min_land_um)
    plate["etch"].update(time_s="1800 s", temperature_c="66 degC")
    assert refusal(capsys, tmp_path, "tape-substrate", recipe).endswith(
        "taking the whole of the 299.9 um island of resist.mask = interconnect-lands (as the "
        f"cell develops it): no land is left of min_land_um = {min_land_um}: {advice}\n"
    )
    if thinner is not None:
        plate["thickness_um"], plate["etch"]["time_s"] = thinner
        summary = validated_lot_of_one(capsys, tmp_path, "tape-substrate", recipe)
        assert summary["claim_check"]["status"] == "passed"


async def test_a_plate_etched_too_much_past_validate_fails_the_claim_check(
    store: RunStore, tmp_path: Path
):
    """What the refusal above keeps from the line: lands narrower than min_land_um."""

    def spoil(recipe: TapeSubstrateRecipe) -> TapeSubstrateRecipe:
        plate = recipe.metal_substrate
        assert plate is not None
        etch = plate.etch.model_copy(update={"time_s": 1500.0, "temperature_c": 55.0})
        return recipe.model_copy(
            update={"metal_substrate": plate.model_copy(update={"etch": etch})}
        )

    path = write_recipe(tmp_path, small_recipe("tape-substrate-metal.yaml"))
    check = await completed_past_validate(store, "tape-substrate", path, spoil)
    assert failing_claims(check) == {"000:x3"}
    (failed,) = [c for c in check["conditions"] if c["verdict"] != "pass"]
    assert "a land >= 150 um" in failed["condition"]


async def test_a_plate_etched_too_little_past_validate_fails_the_claim_check(
    store: RunStore, tmp_path: Path
):
    """24 um etched of the 35 um plate, which validate refuses (at least 938 s), driven
    through the line all the same: the panel completes and 000:x3 fails, metal still joining
    every land to the rest."""

    def spoil(recipe: TapeSubstrateRecipe) -> TapeSubstrateRecipe:
        plate = recipe.metal_substrate
        assert plate is not None
        etch = plate.etch.model_copy(update={"time_s": 600.0})
        spoilt = plate.model_copy(update={"etch": etch})
        return recipe.model_copy(update={"metal_substrate": spoilt})

    path = write_recipe(tmp_path, small_recipe("tape-substrate-metal.yaml"))
    check, apart = await etched_apart_past_validate(
        store, "tape-substrate", path, spoil, "the plate"
    )
    assert failing_claims(check) == {"000:x3"}
    assert (apart["claim"], apart["verdict"]) == ("000:x3", "fail")


#: The claim-tagged steps of a framed panel that is the base of a stack of two (000:x2): its
#: frame after the dies, balls under the columns, then the other panel's packages stacked.
STACKED_ORDER = [
    *CLAIM_ORDER[:5],
    ("mount frames", {"000:x2"}),
    *CLAIM_ORDER[5:-1],
    ("apply flux", {"000:x1"}),
    ("mount balls", {"000:x1"}),
    ("reflow balls", {"000:x1"}),
    CLAIM_ORDER[-1],
    ("stack packages", {"000:x2"}),
]


def stacked_recipe(levels: int = 2) -> dict:
    recipe = small_recipe("tape-substrate-stacked.yaml")
    recipe["stack"]["levels"] = levels
    return recipe


def test_framed_panels_stack_into_multilayer_devices_with_every_column_joined(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """000:x2: a frame's columns in every column hole, ground flush with the package, and the
    second panel's packages stacked on the first's units, each ball joined to a column top."""
    code, events = run_lot(capsys, "tape-substrate", write_recipe(tmp_path, stacked_recipe()), 2)
    summary = events[-1]
    assert code == 0, summary
    assert [w["status"] for w in summary["wafers"]] == ["completed"] * 2
    check = summary["claim_check"]
    assert check["status"] == "passed"
    assert {c["verdict"] for c in check["conditions"]} == {"pass"}
    frame = {c["condition"]: c for c in check["conditions"] if c["claim"] == "000:x2"}
    assert len(frame) == 3
    joined, flush, stacked = frame.values()
    assert joined["sites_checked"] == flush["sites_checked"] == 2 * 3 * 16  # every column
    assert stacked["sites_checked"] == 3 * 16  # the base's columns, under the level above
    assert flush["margin_worst"] <= 0.1  # the columns ground with the resin
    assert 0 < stacked["margin_worst"] < 12  # aligned within the vision's few um
    terminals = next(c for c in check["conditions"] if c["claim"] == "000:c")
    assert terminals["sites_checked"] == 2 * 3 * 24  # the die's holes, not the columns'
    for wafer in ("W01", "W02"):  # the base and the level above, in one batch
        assert _tagged(events, wafer) == STACKED_ORDER


def test_a_short_last_stack_driven_past_its_refusal_fails_the_claim_check_naming_000_x2(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    """Two levels asked of a lot of three panels, which `run` refuses (below), driven past
    the refusal as a recipe is driven past validate: a whole stack and a short last batch of
    one panel, whose packages stand one level high, caught by the claim check."""
    monkeypatch.setattr(TapeSubstrateRecipe, "lot_problem", Recipe.lot_problem)
    code, events = run_lot(capsys, "tape-substrate", write_recipe(tmp_path, stacked_recipe(2)), 3)
    summary = events[-1]
    check = summary["claim_check"]
    assert code == 1
    assert [w["status"] for w in summary["wafers"]] == ["completed"] * 3
    assert failing_claims(check) == {"000:x2"}
    (failed,) = [c for c in check["conditions"] if c["verdict"] != "pass"]
    assert failed["condition"].startswith("2 levels")
    assert failed["failing_wafers"] == ["W03"]


def test_a_lot_with_fewer_panels_than_a_stack_is_refused_before_any_tool(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """Three levels asked of a lot of two panels: no whole stack, every panel would fail
    000:x2 hours into the line, so the run is refused at once saying what to give."""
    recipe = write_recipe(tmp_path, stacked_recipe(3))
    assert main(["run", "tape-substrate", "--sim", "--lot", "2", "--recipe", str(recipe)]) == 2
    refusal = capsys.readouterr().err.strip()
    assert refusal.endswith(
        "a lot of 2: stack.levels = 3: a stack takes 3 panels of the lot, more than its 2: "
        "none is a whole stack and each fails claim 000:x2 hours into the line: give a lot of "
        "3 (a multiple of 3 makes whole stacks only) or stack.levels = 2\n"
        "run refused: nothing was run and nothing was recorded; no tool was contacted"
    )


@pytest.mark.parametrize(
    ("lot", "expected"),
    [
        (
            7,
            "a lot of 7: stack.levels = 5: the lot's panels stack 5 at a time, and 7 is not a "
            "multiple of 5: its last 2 panels would make a stack 2 high, short of the 5 levels, "
            "and fail claim 000:x2 hours into the line: give a lot of 5 or 10 (a multiple of 5 "
            "makes whole stacks only) or stack.levels = 7",
        ),
        (
            26,
            "a lot of 26: stack.levels = 5: the lot's panels stack 5 at a time, and 26 is not a "
            "multiple of 5: its last panel would be a base with nothing stacked on it, short of "
            "the 5 levels, and fail claim 000:x2 hours into the line: give a lot of 25 or 30 (a "
            "multiple of 5 makes whole stacks only) or stack.levels = 2",
        ),
        (
            12,
            "give a lot of 10 or 15 (a multiple of 5 makes whole stacks only) or stack.levels = "
            "2, 3, 4 or 6",
        ),
    ],
    ids=["two-left", "one-left", "levels-dividing-the-lot"],
)
def test_a_lot_not_a_whole_number_of_stacks_is_refused_naming_the_lots_and_levels_that_are(
    store: RunStore, capsys: pytest.CaptureFixture[str], lot: int, expected: str
):
    """The reference recipe stacks five high: a lot of 7 ran and failed 000:x2 on its last
    two panels, stacked two high; now `run` refuses every lot that is not a multiple of the
    levels, naming the lots and the levels that make whole stacks, and records nothing (a
    lot of 25, five stacks, runs: the claim-map test runs a lot of the levels). `validate`
    has no lot and takes the recipe."""
    args = ["--sim", "--lot", str(lot), "--recipe", "tape-substrate-stacked"]
    assert main(["run", "tape-substrate", *args]) == 2
    error = capsys.readouterr().err
    assert expected in error
    assert error.endswith(
        "run refused: nothing was run and nothing was recorded; no tool was contacted\n"
    )
    assert store.runs() == []


async def test_a_lot_not_a_whole_number_of_stacks_on_a_station_reaches_no_tool(
    store: RunStore, tmp_path: Path
):
    """On a station (a served simulated line), a lot of 7 of the reference recipe is refused
    as the run opens, before it drives anything: none of the line's tools received a byte."""
    async with SimulatedLine(WallClock()) as line:
        station = tmp_path / "line.yaml"
        station.write_text(line.station.to_yaml())
        request = RunRequest(
            "tape-substrate",
            simulated=False,
            station_path=station,
            recipe_path="tape-substrate-stacked",
            lot=7,
        )
        prepared = prepare(request)
        with pytest.raises(BadInput, match=r"^a lot of 7: stack\.levels = 5: .* claim 000:x2 "):
            async with open_run(store, prepared):
                pytest.fail("the run opened")  # before its engine drives a tool
        assert all(tool.received == [] for tool in line.tools.values())
    assert store.runs() == []


def _frame_without_columns(recipe: dict) -> None:
    recipe["panel"]["columns_per_side"] = 0


def _columns_past_the_ball_map(recipe: dict) -> None:
    recipe["panel"].update(holes_per_die_side=40, columns_per_side=25)


def _columns_too_long(recipe: dict) -> None:
    recipe["frame"]["column_protrusion_um"] = "60 um"


def _frame_below_the_grind(recipe: dict) -> None:
    """A frame whose top the grind does not reach: its columns would stay under resin."""
    recipe["frame"]["thickness_um"] = "250 um"


def _stack_without_balls_under_the_columns(recipe: dict) -> None:
    recipe["balls"].update(first_site=0, balls_per_unit=24)


def _stack_without_a_frame(recipe: dict) -> None:
    del recipe["frame"]
    recipe["panel"]["columns_per_side"] = 0


def _stack_bonded_below_the_liquidus(recipe: dict) -> None:
    recipe["stack"]["bond"]["head_temperature_c"] = "200 degC"


def _stack_bonded_shorter_than_the_wetting(recipe: dict) -> None:
    recipe["stack"]["bond"]["bond_time_s"] = "1 s"


@pytest.mark.parametrize(
    ("spoil", "words"),
    [
        (
            _stack_without_a_frame,
            "frame = none: stack.levels = 2: packages stack on the top ends of a frame's "
            "conductor columns: give a frame section (claim 000:x2)",
        ),
        (
            _stack_bonded_below_the_liquidus,
            "stack.bond.head_temperature_c = 200 degC: the stacked packages are joined to the "
            "column tops below by their balls, which melt above the liquidus of SAC305 (220 "
            "degC); over the stage at stack.bond.stage_temperature_c = 150 degC the joint "
            "reaches 195.0 degC: give a head of at least 228 degC (claim 000:x2)",
        ),
        (
            _stack_bonded_shorter_than_the_wetting,
            "stack.bond.bond_time_s = 1 s: the stacked packages' balls, molten under the head, "
            "take 2 s to wet the column tops below (the bonder's wetting time): give at least "
            "2 s (claim 000:x2)",
        ),
        (_frame_without_columns, "panel.columns_per_side = 0: a frame's conductor columns"),
        (
            _columns_past_the_ball_map,
            "panel.columns_per_side = 25: a unit's 160 holes for its die (4 x "
            "holes_per_die_side) and 100 for a frame's columns (4 x columns_per_side) are 260 "
            "sites, and the ball mounter's map addresses 256 a unit (the tool's limit): give at "
            "most 24 (claim 000:x2)",
        ),
        (_columns_too_long, "frame.column_protrusion_um = 60 um: a column of"),
        (_frame_below_the_grind, "frame.thickness_um = 250 um: the grind must reach"),
        (_stack_without_balls_under_the_columns, "balls.first_site = 0: a stacked package"),
    ],
)
def test_a_frame_or_stack_breaking_000_x2_is_refused_and_no_tool_moves(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], spoil, words: str
):
    recipe = stacked_recipe()
    spoil(recipe)
    file = write_recipe(tmp_path, recipe)
    assert main(["run", "tape-substrate", "--sim", "--recipe", str(file)]) == 2
    error = capsys.readouterr().err
    assert words in error
    assert "(claim 000:x2)" in error
    assert not db.exists()  # no run recorded: nothing was started, no tool contacted


def test_a_stack_bonded_cold_and_short_is_refused_for_both_and_the_least_it_names_joins_it(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """The stack's bond is judged as two-process-via's mounting is (the shared
    `require_joined_above_the_liquidus` and `require_pressed_until_wetted`):
    a head whose joint stays below the balls' liquidus and a bond shorter than the bonder's
    wetting time are refused together, and the least head and time they name (228 degC over
    the 150 degC stage, the joint at 220.2 degC above SAC305's 220; 2 s) join every ball to
    the column below (validate passed both before)."""
    recipe = stacked_recipe()
    recipe["stack"]["bond"].update(head_temperature_c="227 degC", bond_time_s="1.9 s")
    refused = refusal(capsys, tmp_path, "tape-substrate", recipe)
    assert "stack.bond.head_temperature_c = 227 degC" in refused
    assert "give a head of at least 228 degC (claim 000:x2)" in refused
    assert "stack.bond.bond_time_s = 1.9 s" in refused
    recipe["stack"]["bond"].update(head_temperature_c="228 degC", bond_time_s="2 s")
    code, events = run_lot(capsys, "tape-substrate", write_recipe(tmp_path, recipe), 2)
    check = events[-1]["claim_check"]
    assert code == 0, events[-1]
    assert check["status"] == "passed", check


@pytest.mark.parametrize(
    ("section", "field", "refused"),
    [
        (
            "panel",
            "columns_per_side",
            "panel.columns_per_side = none: a frame's conductor columns need holes in the tape: "
            "give at least 1 a side (claim 000:x2)",
        ),
        (
            "balls",
            "first_site",
            "balls.first_site = none: a stacked package joins the columns below by a ball under "
            "each of its columns: balls.first_site = 24 and balls.balls_per_unit = 16",
        ),
    ],
)
def test_a_frame_s_columns_and_a_stack_s_first_ball_are_required_not_a_refused_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], section: str, field: str, refused: str
):
    """The template gave panel.columns_per_side and balls.first_site a default of 0, which a
    stacked recipe that left them out was refused for ('= 0'): they read required with a frame
    or a stack, and left out they are refused as missing, naming what to give."""
    template = recipe_template(get_method("tape-substrate")).splitlines()
    (line,) = [line for line in template if line.lstrip("# ").startswith(f"{field}:")]
    assert "; required with a " in line, line
    assert "default 0" not in line, line
    recipe = stacked_recipe()
    del recipe[section][field]
    assert refused in refusal(capsys, tmp_path, "tape-substrate", recipe)
    plain = reference_recipe("tape-substrate-balls.yaml")  # no frame, no stack: left out
    TapeSubstrateRecipe.model_validate(plain)


def test_a_frame_setpoint_outside_the_bonder_s_limits_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    recipe = stacked_recipe()
    recipe["frame"]["thickness_um"] = "2000 um"
    file = write_recipe(tmp_path, recipe)
    assert main(["validate", "tape-substrate", "--recipe", str(file)]) == 2
    error = capsys.readouterr().err
    assert "frame.thickness_um" in error
    assert "flip_chip_bonder range of frame_um" in error


async def test_a_die_supply_load_the_bonder_refused_is_held_as_refused(store, tmp_path):
    """The bonder's door opens as the panel's die wafer goes into the die supply: the bonder
    refuses the load (interlock open) and the supply holds no dies. `load_dies` is the
    bonder's `load_die_source` and the record of the dies it counts, refused before the bonder
    carried out anything in the step, so the hold is a refusal (it was a failure): a release,
    which would bond the dies from an empty supply, is refused and records nothing; only a
    rework loads it again, and the resume that carries it out finds the die wafer diced as the
    first session left it."""
    lines: list = []

    def door_opens(event):
        if event.kind == "step-started" and event.step == "load die wafer in die supply":
            lines[0].tools["flip_chip_bonder"].inject_fault("door_open")

    recipe = write_recipe(tmp_path, small_recipe())
    prepared = prepare(RunRequest("tape-substrate", lot=1, recipe_path=recipe))
    async with open_run(store, prepared, observers=[door_opens], line_ready=lines.append) as run:
        assert await run.run() == "held"
    (wafer,) = store.wafers(run.run_id)
    assert "step 'load die wafer in die supply' of W01 was refused" in wafer["reason"]
    assert "interlock open: door_closed" in wafer["reason"]
    with pytest.raises(BadInput, match=r"its tool refused a step, which so did not happen"):
        record_disposition(store, run.run_id, "W01", Decision.RELEASE, "ana", "dies are in")
    assert store.table("dispositions", run.run_id) == []
    record_disposition(store, run.run_id, "W01", Decision.REWORK, "ana", "door shut: again")
    (decision,) = store.table("dispositions", run.run_id)
    assert decision["decision"] == "rework"
    async with open_resume(store, run.run_id) as resumed:
        assert await resumed.run() == "completed"
    check = run_report(store, run.run_id)["claim_check"]
    assert check["status"] == "passed", failing_claims(check)


async def test_a_run_stopped_after_its_die_wafer_was_diced_resumes_to_a_passing_claim_check(
    store, tmp_path
):
    """Terminated as the panel reaches the flip-chip bonder, its die wafer diced in the session
    before: the resume restores the die wafer from its last snapshot (not a fresh one), so the
    bonder's die supply takes its dies, the panel completes and every claim condition passes."""
    recipe = write_recipe(tmp_path, small_recipe())
    request = RunRequest("tape-substrate", lot=1, recipe_path=recipe)
    run_id = await stopped_at(store, request, "load on flip-chip bonder")
    assert die_wafer_id("W01") in store.latest_twins(run_id)
    async with open_resume(store, run_id) as resumed:
        assert await resumed.run() == "completed"
    check = run_report(store, run_id)["claim_check"]
    assert check["status"] == "passed", failing_claims(check)


@pytest.mark.parametrize(
    ("time_s", "suggested"),
    [
        ("900 s", "at least 938 s, or the bath set to 51 degC (claim 000:x3)"),
        # no bath the bench takes (20-85 degC) clears 35 um in 10 s: no setpoint is suggested
        ("10 s", "at least 938 s (claim 000:x3)"),
    ],
)
def test_a_plate_etch_too_short_is_refused_with_the_least_that_goes_through(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], time_s: str, suggested: str
):
    """The metal substrate's etch must go through the 35 um plate around the islands, as a
    seed etch must clear the seed: too short, it was accepted and the panel's lands stayed
    joined; now it is refused with the least time (and the bath, where the bench takes it)
    that goes through, as the other dips are, and the least time, applied, validates."""
    recipe = reference_recipe("tape-substrate-metal.yaml")
    recipe["metal_substrate"]["etch"]["time_s"] = time_s
    path = write_recipe(tmp_path, recipe)
    assert main(["validate", "tape-substrate", "--recipe", str(path)]) == 2
    error = capsys.readouterr().err
    assert (
        f"metal_substrate.etch.time_s = {time_s}: the bath dips within 1 degC of its 50 degC"
        in error
    )
    assert error.rstrip().endswith(
        f"of the 35 um plate between the lands, joining them: {suggested}"
    )
    recipe["metal_substrate"]["etch"]["time_s"] = "938 s"
    assert (
        main(["validate", "tape-substrate", "--recipe", str(write_recipe(tmp_path, recipe))]) == 0
    )


def test_the_template_writes_every_oven_ramp_in_k_per_min_as_two_process_via_s_does():
    """A ramp is a temperature difference per minute: the cure's ramps are written in the unit
    the solder reflow's and two-process-via's are, not one method's `degC/min` beside another's
    `K/min`."""
    for name in ("tape-substrate", "two-process-via"):
        ramps = [
            line for line in recipe_template(get_method(name)).splitlines() if "_c_per_min:" in line
        ]
        assert ramps
        assert all("# in K/min;" in line for line in ramps), ramps


def test_a_cure_ramp_in_degc_per_min_is_the_same_rate_in_k_per_min():
    recipe = small_recipe()
    as_degc = TapeSubstrateRecipe.model_validate(recipe)
    recipe["seal"]["cure"]["ramp_c_per_min"] = "20 K/min"
    recipe["seal"]["cure"]["cool_c_per_min"] = "36 degF/min"
    assert TapeSubstrateRecipe.model_validate(recipe) == as_degc


@pytest.mark.parametrize(
    ("volume", "misfit"),
    [
        (
            "1.08 nl",
            "makes 1.252-1.360 nl across the jet's spread (+-5% of the volume), the least below "
            "1.259 nl (5% under the hole's 1.325 nl)",
        ),
        # a thousandth short: the figures show the digit that tells them apart
        (
            "1.087 nl",
            "makes 1.2587-1.3674 nl across the jet's spread (+-5% of the volume), the least below "
            "1.2591 nl (5% under the hole's 1.3254 nl)",
        ),
        ("1.088 nl", None),
        ("1.11 nl", None),
        (
            "1.12 nl",
            "makes 1.290-1.402 nl across the jet's spread (+-5% of the volume), the most above "
            "1.392 nl (5% over the hole's 1.325 nl)",
        ),
    ],
)
def test_a_fill_is_judged_across_the_jet_s_spread_and_its_refusal_names_what_fits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], volume: str, misfit: str | None
):
    """1.08 and 1.12 nl make the hole's 1.325 nl within 5% as asked, but a shot strays up to
    5% of the volume (the dispenser's stated 1% 1-sigma): on the line some holes are under-
    or overfilled. Only what every shot fits is accepted, and the refusal says what that is,
    with the shot that misses and the bound it misses to the digit that makes the difference
    (1.088 nl read 'makes 1.31 nl, not within 5% of the hole's 1.33 nl')."""
    recipe = small_recipe()
    recipe["fill"]["volume_nl"] = volume
    code = main(["validate", "tape-substrate", "--recipe", str(write_recipe(tmp_path, recipe))])
    assert code == (0 if misfit is None else 2)
    if misfit is not None:
        error = capsys.readouterr().err
        assert f"fill.volume_nl = {volume}: with a terminal's 0.226 nl" in error
        assert f"it {misfit}: fill.volume_nl from 1.088 to 1.11 nl fits" in error
        assert "(claim 000:b)" in error


def test_a_fill_tolerance_looser_than_the_dispenser_s_camera_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """The dispenser's camera counts a hole over- or underfilled beyond 5% of its volume
    (`FILL_TOLERANCE`, the role's figure the simulated camera reads), whatever the recipe
    says: a fill.tolerance of 0.15 validated a 1.13 nl fill the camera then held the panel
    for. One rule: the recipe's tolerance is at most the camera's."""
    assert DispenserPhysics().fill_tolerance == FILL_TOLERANCE
    recipe = small_recipe()
    recipe["fill"].update(tolerance=0.15, volume_nl="1.13 nl")
    assert "fill.tolerance = 0.15: must be at most 0.05" in refusal(
        capsys, tmp_path, "tape-substrate", recipe
    )
    recipe["fill"].update(tolerance=0.05, volume_nl="1.1 nl")
    TapeSubstrateRecipe.model_validate(recipe)


def test_a_terminal_height_its_studs_cannot_give_is_refused_and_the_least_it_names_passes(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """Two gold studs stand about 73 um (the line's stud law): stated 45 um they validated and
    every die wafer was held at 'inspect bump heights'. Refused at dies.terminals.height_um,
    naming 000:c and the heights that pass; the least of them, with the fill its terminal
    takes, completes with the claim check passed."""
    recipe = small_recipe()
    recipe["dies"]["terminals"]["stack"] = 2
    refused = refusal(capsys, tmp_path, "tape-substrate", recipe)
    assert (
        "dies.terminals.height_um = 45 um: a stack of 2 studs (dies.terminals.stack) of 25 um "
        "Au wire at 30 gf and 900 uJ stands 69.4-77.1 um"
    ) in refused
    assert "give from 71.1 to 75.4 um (claim 000:c)" in refused
    recipe["dies"]["terminals"]["height_um"] = "71.1 um"
    recipe["fill"]["volume_nl"] = "0.97 nl"
    summary = validated_lot_of_one(capsys, tmp_path, "tape-substrate", recipe)
    assert summary["claim_check"]["status"] == "passed"


@pytest.mark.parametrize(
    ("path", "value", "refused", "least"),
    [
        (
            "bond.bond_time_s",
            "0.5 s",
            "bond.bond_time_s = 0.5 s: the AG-PASTE paste in the holes gels around the dies' "
            "terminals in 5 s under the head (the bonder's gel time): give at least 5 s "
            "(claim 000:d)",
            "5 s",
        ),
        (
            "frame.bond.head_temperature_c",
            "100 degC",
            "frame.bond.head_temperature_c = 100 degC: the frame's columns are joined to the "
            "tape's holes by their AG-PASTE filler, a paste that gels at 150 degC or above (the "
            "bonder's figure); over the stage at frame.bond.stage_temperature_c = 150 degC the "
            "joint reaches 105.0 degC: give a head of at least 150 degC (claim 000:x2)",
            "150 degC",
        ),
    ],
)
def test_a_die_or_frame_bond_too_short_or_cold_for_the_paste_is_refused_and_its_least_joins(
    db: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    path: str,
    value: str,
    refused: str,
    least: str,
):
    """The dies' and the frame's bonds join the holes only where the paste gels (the bonder's
    PASTE_GEL_C for PASTE_GEL_S), judged by the checks of the stack's solder joint: a 0.5 s die
    bond held 'bond dies', a 100 degC frame head 'mount frames'. Each is refused naming the
    least that joins, and a lot of two panels at it completes with the claim check passed."""
    recipe = stacked_recipe()
    _change(recipe, path, value)
    assert refused in refusal(capsys, tmp_path, "tape-substrate", recipe)
    _change(recipe, path, least)
    code, events = run_lot(capsys, "tape-substrate", write_recipe(tmp_path, recipe), 2)
    assert code == 0, events[-1]
    assert events[-1]["claim_check"]["status"] == "passed"


def test_a_seal_below_the_dies_backs_is_refused_and_the_least_it_names_seals_them(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """A seal above the ground height but below the 400 um dies' backs validated and held the
    panel at 'seal dies' (the dies stood out of the resin): the seal is judged against the
    dies it must cover. At the least it names a lot completes with the claim check passed."""
    recipe = small_recipe()
    recipe["seal"]["height_um"] = "399 um"
    assert (
        "seal.height_um = 399 um: must reach the dies' backs, dies.thickness_um = 400 um above "
        "the tape, and stand above the ground height (300 um: grind.thickness_um less the tape, "
        "its metal and its solder resist, 113 um), or the dies' side faces are not sealed to "
        "the top: give at least 400 um (claim 000:e)"
    ) in refusal(capsys, tmp_path, "tape-substrate", recipe)
    recipe["seal"]["height_um"] = "400 um"
    summary = validated_lot_of_one(capsys, tmp_path, "tape-substrate", recipe)
    assert summary["claim_check"]["status"] == "passed"


def undercured(recipe: TapeSubstrateRecipe) -> TapeSubstrateRecipe:
    """`recipe` with its seal cured at 110 degC for 300 s (validate refuses it, 000:e)."""
    cure = recipe.seal.cure.model_copy(update={"temperature_c": 110.0, "hold_s": 300.0})
    seal = recipe.seal.model_copy(update={"cure": cure})
    return recipe.model_copy(update={"seal": seal})


def test_a_seal_cure_too_cool_and_short_is_refused_with_the_least_hold_that_cures_it(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """A seal cured 5 min at 110 degC validated and failed 000:e (degree of cure 0.0187):
    judged by the kinetics the oven cures the sealing resin by, as two-process-via's cure is
    (`require_cured`), it is refused with the least hold; one second less is refused, and a
    lot at the least completes with the claim check passed."""
    recipe = small_recipe()
    recipe["seal"]["cure"].update(temperature_c="110 degC", hold_s="300 s")
    assert refusal(capsys, tmp_path, "tape-substrate", recipe).endswith(
        ": seal.cure.hold_s = 300 s: held 300 s at 110 degC, the epoxy of the sealing resin "
        "(EPOXY) cures to 0.0125 by the line's kinetics, short of the 0.9 a cured layer has: "
        "give at least 17625 s (claim 000:e)\n"
    )
    recipe["seal"]["cure"]["hold_s"] = "17624 s"
    assert "give at least 17625 s (claim 000:e)" in refusal(
        capsys, tmp_path, "tape-substrate", recipe
    )
    recipe["seal"]["cure"]["hold_s"] = "17625 s"
    summary = validated_lot_of_one(capsys, tmp_path, "tape-substrate", recipe)
    assert summary["claim_check"]["status"] == "passed"


async def test_a_seal_cure_too_cool_and_short_driven_past_validate_fails_000_e(
    store: RunStore, tmp_path: Path
):
    """What the refusal above keeps from the line: the epoxy left far from cured."""
    path = write_recipe(tmp_path, small_recipe())
    check = await completed_past_validate(store, "tape-substrate", path, undercured)
    assert failing_claims(check) == {"000:e"}


def test_a_terminal_taller_than_its_hole_is_refused_where_its_studs_stand_so():
    """Two gold studs stand 69.4-77.1 um: a height the stud law gives but the 75 um tape does
    not take is refused as a terminal taller than its hole (000:c)."""
    recipe = small_recipe()
    recipe["dies"]["terminals"].update(stack=2, height_um="78 um", height_tolerance_um="10 um")
    with pytest.raises(RecipeError, match=r"dies.terminals.height_um = 78 um: a terminal taller"):
        read_recipe_text(TapeSubstrateRecipe, yaml.safe_dump(recipe), "recipe")


def test_balls_too_wide_for_their_pitch_are_refused_and_the_widest_it_names_clears(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """700 um balls validated and bridged at the dies' corners, where two openings stand 518.5
    um apart: a ball is judged against its nearest neighbour and where the ball mounter may
    set both (its placement, clipped at 3 sigma). The widest it names, on a flux that holds
    it, completes a lot with the claim check passed (on a 5 um solder resist: balls so wide
    sink only 12.9 um into its 150 um openings, short of the copper under 20 um of it)."""
    recipe = small_recipe("tape-substrate-balls.yaml")
    recipe["panel"]["solder_resist_um"] = "5 um"
    recipe["balls"].update(ball_diameter_um="700 um", flux_thickness_um="124 um")
    assert (
        "balls.ball_diameter_um = 700 um: balls on the openings of panel.holes_per_die_side = "
        "6 a side of 8 x 8 mm dies at least 518.545 um apart touch their neighbours"
    ) in refusal(capsys, tmp_path, "tape-substrate", recipe)
    assert "give at most 450.6 um (claim 000:x1)" in refusal(
        capsys, tmp_path, "tape-substrate", recipe
    )
    recipe["balls"].update(ball_diameter_um="450.6 um", flux_thickness_um="80 um")
    summary = validated_lot_of_one(capsys, tmp_path, "tape-substrate", recipe)
    assert summary["claim_check"]["status"] == "passed"


def test_a_die_wider_than_its_unit_names_its_field_and_hides_no_other_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """A die wider than its unit was refused as the panel's ('panel: die_width_mm = 13 mm ...')
    and left the panel out of every other check: a terminal of 80 um (000:c) and a grind of
    600 um (000:f) came only in the next round. It is refused at its field with its claim and
    the most that fits, beside them."""
    recipe = reference_recipe("tape-substrate.yaml")
    recipe["panel"]["die_width_mm"] = "13 mm"
    recipe["dies"]["terminals"]["height_um"] = "80 um"
    recipe["grind"]["thickness_um"] = "600 um"
    refused = refusal(capsys, tmp_path, "tape-substrate", recipe)
    assert (
        "panel.die_width_mm = 13 mm: a die is mounted on a unit of the tape, and a unit is "
        "unit_width_mm = 12 mm: give at most 12 mm (claim 000:d)"
    ) in refused
    assert "dies.terminals.height_um = 80 um" in refused
    assert "grind.thickness_um = 600 um" in refused


def test_a_die_wafer_too_small_for_a_panel_names_its_claim_and_the_least_diameter():
    """'(top level): dies.diameter_mm = 100 mm: the die wafer holds 88 whole dies, a panel has
    100 units' named no claim and no size: it is refused at its field, naming 000:d and the
    least diameter whose wafer holds a die for every unit (a lot of 2 at 108 mm completes)."""
    recipe = reference_recipe("tape-substrate.yaml")
    recipe["dies"]["diameter_mm"] = "100 mm"
    with pytest.raises(RecipeError) as refused:
        read_recipe_text(TapeSubstrateRecipe, yaml.safe_dump(recipe), "recipe")
    assert without_lines(str(refused.value)) == (
        "recipe: dies.diameter_mm = 100 mm: a die is mounted on each of the panel's 100 units "
        "(panel.rows x panel.columns), and the die wafer holds 88 whole dies of 8 x 8 mm "
        "(panel.die_width_mm, panel.die_height_mm): give at least 108 mm (claim 000:d)"
    )
    recipe["dies"]["diameter_mm"] = "108 mm"
    read_recipe_text(TapeSubstrateRecipe, yaml.safe_dump(recipe), "recipe")


def _every_condition_passing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str
) -> tuple[list[dict], dict[str, dict]]:
    """A lot of one small panel of the reference recipe `name`, run: its events, and its
    claim check's conditions by their text, every one passed."""
    code, events = run_lot(capsys, "tape-substrate", write_recipe(tmp_path, small_recipe(name)), 1)
    check = events[-1]["claim_check"]
    assert (code, check["status"]) == (0, "passed"), events[-1]
    assert {c["verdict"] for c in check["conditions"]} == {"pass"}
    return events, {c["condition"]: c for c in check["conditions"]}


def test_an_area_array_s_lands_are_opened_and_take_a_ball_each_reflowed(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """000:x1's area array: the laser opens the solder resist at the 160 lands of a 14 x 14
    array less its 6 x 6 centre (not under the holes), and every land takes a ball, in its
    opening, reflowed into a joint; the margins say how far inside its opening each ball sits
    and how long the reflow held the balls molten."""
    events, by_text = _every_condition_passing(capsys, tmp_path, "tape-substrate-area-array.yaml")
    lands = 3 * 160
    assert by_text["every solder resist opening down to metal"]["sites_checked"] == lands
    assert by_text["every hole through the tape, ending on metal"]["sites_checked"] == 3 * 24
    opened, joined = (
        by_text["a ball in every solder resist opening"],
        by_text["a joint under every ball"],
    )
    assert opened["sites_checked"] == joined["sites_checked"] == lands
    assert 0 < opened["margin_worst"] <= 75  # inside the 150 um opening's edge
    assert joined["margin_worst"] >= 20  # held past the wetting time
    x1 = [("apply flux", {"000:x1"}), ("mount balls", {"000:x1"}), ("reflow balls", {"000:x1"})]
    opened_at_the_lands = ("open solder resist", {"000:a", "000:x1"})
    assert _tagged(events) == [
        CLAIM_ORDER[0],
        opened_at_the_lands,
        *CLAIM_ORDER[2:-1],
        *x1,
        CLAIM_ORDER[-1],
    ]


def _resist_thicker_than_the_balls_sink(recipe: dict) -> None:
    recipe["metal_substrate"]["solder_resist"]["spin_rpm"] = 1000  # 25.5 um of polyimide


def _openings_wider_than_the_lands(recipe: dict) -> None:
    recipe["metal_substrate"]["solder_resist"]["mask"] = "ball-lands"


def _openings_inside_the_lands_by_less_than_the_overlay(recipe: dict) -> None:
    recipe["metal_substrate"]["etch"]["time_s"] = "1700 s"  # lands of 154.2 um, still kept


def _resist_underexposed(recipe: dict) -> None:
    recipe["metal_substrate"]["solder_resist"]["dose_mj_cm2"] = "15 mJ/cm^2"


def _a_positive_resist_too_thin_to_cover(recipe: dict) -> None:
    recipe["metal_substrate"]["solder_resist"]["material"] = "PBO-P"


def _a_resist_that_is_stripped(recipe: dict) -> None:
    recipe["metal_substrate"]["solder_resist"].update(
        material="PR-THICK", dose_mj_cm2="420 mJ/cm^2"
    )


def _lines_for_openings(recipe: dict) -> None:
    recipe["metal_substrate"]["solder_resist"]["mask"] = "wiring-level-1"


def _lands_past_the_unit_s_edge(recipe: dict) -> None:
    recipe["panel"]["area_array"]["pitch_um"] = "950 um"


def _a_centre_off_centre(recipe: dict) -> None:
    recipe["panel"]["area_array"]["centre_rows"] = 5


def _a_centre_of_rows_only(recipe: dict) -> None:
    recipe["panel"]["area_array"]["centre_columns"] = 0


def _fewer_lands_than_terminals(recipe: dict) -> None:
    recipe["panel"]["area_array"].update(rows=1, centre_rows=0, centre_columns=0)
    recipe["balls"]["balls_per_unit"] = 14


def _balls_under_the_holes(recipe: dict) -> None:
    recipe["balls"]["first_site"] = 0


def _balls_swimming_off_their_openings(recipe: dict) -> None:
    recipe["balls"].update(ball_diameter_um="200 um", flux_thickness_um="200 um")


def _lands_closest_across_the_saw(recipe: dict) -> None:
    """The array spread to the edges of its units: 157 um from the last land of a unit to
    the first of the next, where no ball the mounter takes stays apart from its neighbour,
    and a wider pitch would put the openings under the saw."""
    recipe["holes"]["resist_opening_um"] = "120 um"
    recipe["panel"]["area_array"]["pitch_um"] = "911 um"
    recipe["balls"].update(ball_diameter_um="150 um", flux_thickness_um="60 um")


def _balls_wider_than_the_pitch(recipe: dict) -> None:
    recipe["balls"].update(ball_diameter_um="760 um", flux_thickness_um="135 um")  # held


@pytest.mark.parametrize(
    ("name", "spoil", "claim", "words"),
    [
        (
            "tape-substrate-area-array.yaml",
            _lands_past_the_unit_s_edge,
            "000:x1",
            "panel.area_array.pitch_um = 950 um: the 14 lands across a unit's width span "
            "12350 um from the first opening's centre to the last; with their "
            "holes.resist_opening_um = 150 um they must lie inside the unit's "
            "panel.unit_width_mm = 12 mm clear of the saw's dicing.blade_thickness_um = 30 um "
            "cut: give at most 909.2 um (claim 000:x1)",
        ),
        (
            "tape-substrate-area-array.yaml",
            _a_centre_off_centre,
            "000:x1",
            "panel.area_array.centre_rows = 5: the centre left out of the 14 rows keeps as many "
            "lands on each side of it, at least one: give from 1 to 12, even as 14 is "
            "(claim 000:x1)",
        ),
        (
            "tape-substrate-area-array.yaml",
            _a_centre_of_rows_only,
            "000:x1",
            "panel.area_array.centre_columns = 0: a centre left out has rows and columns: give "
            "at least 1 (claim 000:x1)",
        ),
        (
            "tape-substrate-area-array.yaml",
            _fewer_lands_than_terminals,
            "000:x1",
            "panel.area_array.rows = 1: the interconnection layer routes each of a unit's 24 "
            "terminal holes (4 x panel.holes_per_die_side) to a land of its own, and an area "
            "array of 1 x 14 at 800 um has 14: give at least 24 lands (claim 000:x1)",
        ),
        (
            "tape-substrate-area-array.yaml",
            _balls_under_the_holes,
            "000:x1",
            "balls.first_site = 0: a unit has 160 solder resist openings (at the lands of "
            "panel.area_array, 14 x 14 at 800 um less a centre of 6 x 6), its sites 24-183",
        ),
        (
            "tape-substrate-area-array.yaml",
            _balls_swimming_off_their_openings,
            "000:x1",
            "balls.flux_thickness_um = 200 um: balls of 200 um swim in it (past 0.6 of their "
            "diameter) and land up to 118.794 um off their sites, past the edge of their 150.0 "
            "um solder resist openings (75 um from the centre): some sit on the resist beside "
            "them: give at most 158.7 um (claim 000:x1)",
        ),
        (
            "tape-substrate-area-array.yaml",
            _lands_closest_across_the_saw,
            "000:x1",
            "balls.ball_diameter_um = 150 um: balls on the lands of panel.area_array, 14 x 14 "
            "at 911 um less a centre of 6 x 6, at least 157 um apart touch their neighbours: "
            "each reaches 108.941 um from its site (its radius, the flux beyond 0.6 of it, and "
            "the mounter's placement at its most, 33.941 um or more): no ball the mounter takes "
            "(100 um at the least) stays apart there; these would on no pitch of this area "
            "array inside the unit",
        ),
        (
            "tape-substrate-area-array.yaml",
            _balls_wider_than_the_pitch,
            "000:x1",
            "balls.ball_diameter_um = 760 um: balls on the lands of panel.area_array, 14 x 14 "
            "at 800 um less a centre of 6 x 6, at least 800 um apart touch their neighbours",
        ),
        (
            "tape-substrate-metal-resist.yaml",
            _resist_thicker_than_the_balls_sink,
            "000:x3",
            "balls.ball_diameter_um = 300 um: a ball of up to 310 um (the spheres' +-10 um) "
            "sinks 19.996 um into its 152.3 um opening of metal_substrate.solder_resist (its "
            "spin, its mask as the cell develops it), 25.544 um thick: it sits on the rim, short "
            "of the metal, and its reflow does not join it: give at most 242.5 um, or a resin "
            "at most 19.9 um thick, or openings at least 170.5 um across",
        ),
        (
            "tape-substrate-metal-resist.yaml",
            _openings_wider_than_the_lands,
            "000:x3",
            "metal_substrate.solder_resist.mask = ball-lands: its 400 um holes develop",
        ),
        (
            "tape-substrate-metal-resist.yaml",
            _openings_inside_the_lands_by_less_than_the_overlay,
            "000:x3",
            "metal_substrate.solder_resist.mask = land-openings: its 150 um holes develop 146.7 "
            "um across (as the cell develops them at solder_resist.dose_mj_cm2 = 400 mJ/cm^2), "
            "and the stepper lays them up to 10 um off the lands (its overlay): inside the "
            "narrowest land the etch leaves, 154.2 um, an opening is at most 134.2 um across, "
            "so the resist covers every land's edge: give a reticle of smaller holes (a hole "
            "reticle of the library: pads 80 um, openings 40 um, terminal-vias 150 um, "
            "ball-lands 400 um, land-openings 150 um)",
        ),
        (
            "tape-substrate-metal-resist.yaml",
            _resist_underexposed,
            "000:x3",
            "metal_substrate.solder_resist.dose_mj_cm2 = 15 mJ/cm^2: a negative film keeps of "
            "its exposed field only what the dose cross-linked: of the 12.772 um of PI-N that "
            "solder_resist spins at 4000 rpm and bakes, the develop leaves 0.879 um over the "
            "interconnections, thinner than the 10 um solder resist makers ask over the copper "
            "to insulate it: give at least 152 mJ/cm^2",
        ),
        (
            "tape-substrate-metal-resist.yaml",
            _a_positive_resist_too_thin_to_cover,
            "000:x3",
            "metal_substrate.solder_resist.spin_rpm = 4000: of the 9.031 um of PBO-P that "
            "solder_resist spins at 4000 rpm and bakes, the develop leaves 8.91 um over the "
            "interconnections, thinner than the 10 um solder resist makers ask over the copper "
            "to insulate it, whatever the dose: give at most 3184 rpm, for a thicker film",
        ),
        (
            "tape-substrate-metal-resist.yaml",
            _a_resist_that_is_stripped,
            "000:x3",
            "metal_substrate.solder_resist.material = PR-THICK: the solder resist stays on the "
            "package: a photosensitive resin (PBO-P, PI-N), not a resist that is stripped "
            "(claim 000:x3)",
        ),
        (
            "tape-substrate-metal-resist.yaml",
            _lines_for_openings,
            "000:x3",
            "metal_substrate.solder_resist.mask = wiring-level-1: is a line reticle: the solder "
            "resist is opened at every land, which a hole reticle gives",
        ),
    ],
)
def test_an_area_array_or_a_plate_s_solder_resist_breaking_its_claim_is_refused_before_any_tool(
    db: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    spoil,
    claim: str,
    words: str,
):
    """000:x1's area array and 000:x3's solder resist: refused by validate, and by run before
    any tool moves (no run recorded), each refusal naming the field, its value, the limit and
    the claim."""
    recipe = small_recipe(name)
    spoil(recipe)
    file = str(write_recipe(tmp_path, recipe))
    for command in (["validate", "tape-substrate"], ["run", "tape-substrate", "--sim"]):
        assert main([*command, "--recipe", file]) == 2
        error = capsys.readouterr().err
        assert words in error
        assert f"(claim {claim})" in error
    assert not db.exists()


def pitch_advice(recipe: dict) -> set[str]:
    """What validate advises of `recipe`'s `panel.area_array.pitch_um` (empty: nothing)."""
    problems = recipe_problems(TapeSubstrateRecipe, recipe)
    path = "panel.area_array.pitch_um"
    return {p["message"].rpartition(": ")[2] for p in problems if p["path"] == path}


def test_the_most_pitch_a_refusal_gives_keeps_the_lands_in_the_unit_on_a_step():
    """145.2 um openings leave 11824.8 um from the first of a 12 mm unit's 14 lands to the
    last: a pitch of 909.6 um in the reals, which the floats divide to 909.5999999999999, and
    909.6 um spans 11824.800000000001 um, past it. The refusal gives 909.5 um, which keeps the
    lands in; before, it gave 909.6 um, and refused that the same way."""
    recipe = reference_recipe("tape-substrate-area-array.yaml")
    recipe["holes"]["resist_opening_um"] = "145.2 um"
    for refused in ("950 um", "909.6 um"):
        recipe["panel"]["area_array"]["pitch_um"] = refused
        assert pitch_advice(recipe) == {"give at most 909.5 um (claim 000:x1)"}
    recipe["panel"]["area_array"]["pitch_um"] = "909.5 um"
    assert pitch_advice(recipe) == set()


def test_what_a_refusal_gives_lets_the_balls_reach_the_metal_on_a_step():
    """A 260 um sphere (250 um balls' largest) sinks 28.8 um in the reals into a 163.2 um
    opening, 28.799999999999997 um as the floats work it out, short of a 28.8 um resist. The
    refusal gives a ball of at most 249.9 um, a resist of at most 28.7 um or openings of at
    least 163.3 um, each of which reaches the metal; the hand-written rounding gave the very
    ball, resist and openings it refused (250, 28.8 and 163.2 um), and rounding alone, not
    judged by the test, the ball and the openings."""
    reference = TapeSubstrateRecipe.model_validate(
        reference_recipe("tape-substrate-metal-resist.yaml")
    )
    assert reference.balls is not None
    balls = reference.balls.model_copy(update={"ball_diameter_um": 250.0})
    with pytest.raises(PydanticCustomError) as refused:
        balls.require_through_the_resist(163.2, 28.8, "000:x3", "the resist", "balls")
    assert refused.value.context["message"].endswith(
        ": give at most 249.9 um, or a resin at most 28.7 um thick, or openings at least "
        "163.3 um across"
    )
    narrower = balls.model_copy(update={"ball_diameter_um": 249.9})
    narrower.require_through_the_resist(163.2, 28.8, "000:x3", "the resist", "balls")
    balls.require_through_the_resist(163.2, 28.7, "000:x3", "the resist", "balls")
    balls.require_through_the_resist(163.3, 28.8, "000:x3", "the resist", "balls")


def test_the_most_pitch_a_refusal_gives_keeps_16_lands_in_the_unit_on_a_step():
    """56.5 um openings leave 15913.5 um from the first of a 16 mm unit's 16 lands to the
    last: a pitch of 1060.9 um, which the floats divide exactly, yet 1060.9 um spans
    15913.500000000002 um as they multiply, past it. The refusal gives 1060.8 um, which keeps
    the lands in; before, it gave 1060.9 um, and refused that the same way."""
    recipe = reference_recipe("tape-substrate-area-array.yaml")
    recipe["holes"]["resist_opening_um"] = "56.5 um"
    recipe["panel"].update(unit_width_mm="16 mm", unit_height_mm="16 mm")
    recipe["panel"]["area_array"].update(rows=16, columns=16)
    for refused in ("1100 um", "1060.9 um"):
        recipe["panel"]["area_array"]["pitch_um"] = refused
        assert pitch_advice(recipe) == {"give at most 1060.8 um (claim 000:x1)"}
    recipe["panel"]["area_array"]["pitch_um"] = "1060.8 um"
    assert pitch_advice(recipe) == set()


def test_an_area_array_past_the_ball_mounter_s_map_is_refused_with_the_most_lands_it_takes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """The mounter's map addresses a unit's sites 0-255, and the lands follow the 24 holes:
    a full 16 x 16 array (256 lands) does not fit in it."""
    recipe = small_recipe("tape-substrate-area-array.yaml")
    recipe["panel"]["area_array"].update(
        rows=16, columns=16, pitch_um="700 um", centre_rows=0, centre_columns=0
    )
    recipe["balls"]["balls_per_unit"] = 256
    assert (
        "panel.area_array.rows = 16: a unit's 256 lands of 16 x 16 at 700 um follow its 24 "
        "holes in its site order, to its site 279, and the ball mounter's map addresses a "
        "unit's sites 0-255 (the tool's limit): give at most 232 lands (claim 000:x1)"
    ) in refusal(capsys, tmp_path, "tape-substrate", recipe)


def _swimming(recipe: TapeSubstrateRecipe) -> TapeSubstrateRecipe:
    """`recipe` with 200 um balls on as much flux (validate refuses it)."""
    balls = recipe.balls
    assert balls is not None
    swim = {"ball_diameter_um": 200.0, "flux_thickness_um": 200.0}
    return recipe.model_copy(update={"balls": balls.model_copy(update=swim)})


async def test_balls_swimming_off_their_openings_past_validate_fail_000_x1(
    store: RunStore, tmp_path: Path
):
    """What the refusal of a swimming flux keeps from the line: 200 um balls on as much
    flux (a ratio of 1) stay apart at the array's 800 um pitch, but land up to about 119 um
    off their lands, past the 75 um radius of their openings: some sit on the solder resist
    beside them, and the claim check names 000:x1, its margin how far outside."""
    path = write_recipe(tmp_path, small_recipe("tape-substrate-area-array.yaml"))
    check = await completed_past_validate(store, "tape-substrate", path, _swimming)
    assert failing_claims(check) == {"000:x1"}
    (failed,) = [c for c in check["conditions"] if c["verdict"] != "pass"]
    assert failed["condition"] == "a ball in every solder resist opening"
    assert failed["margin_worst"] < 0  # a ball centre outside its opening's edge


def test_a_solder_resist_over_the_plate_s_interconnections_is_opened_at_every_land(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """000:x3's optional solder resist (Fig. 29(2)): once the plate is etched and its resist
    stripped, the litho cell coats a photosensitive polyimide over the interconnections,
    plate side up, and opens it at every land, inside it; the bumps go through the openings
    and join the lands. Its conditions have margins: the resist's reach over each land's
    edge, its thickness around the openings; the package's thickness (000:f) is judged as
    the grind left it, the resist coming after."""
    events, by_text = _every_condition_passing(capsys, tmp_path, "tape-substrate-metal-resist.yaml")
    opened = by_text["the solder resist opened at every land, inside it"]
    covered = by_text[
        "the solder resist covering the interconnections between the lands (>= 10 um)"
    ]
    for condition in (opened, covered):
        assert (condition["claim"], condition["sites_checked"]) == ("000:x3", 72)
    assert 0 < opened["margin_worst"] < 75  # the ~147 um opening inside a land of ~225 um
    assert 12 < covered["margin_worst"] < 12.8  # the 12.8 um polyimide, less its dark loss
    bumps = by_text["a ball in every solder resist opening"]
    assert (bumps["claim"], bumps["sites_checked"]) == ("000:x3", 72)
    assert bumps["margin_worst"] > 0  # every bump's centre inside its opening
    reach = by_text["every ball reaching the metal through its solder resist opening"]
    assert reach["margin_worst"] == pytest.approx(6.5, abs=0.05)  # um past the 12.8 um resist
    assert by_text["a joint under every ball"]["sites_checked"] == 72
    resist = [("coat solder resist", {"000:x3"}), ("open solder resist at the lands", {"000:x3"})]
    x3 = [("apply flux", {"000:x3"}), ("mount balls", {"000:x3"}), ("reflow balls", {"000:x3"})]
    assert _tagged(events) == METAL_ORDER[:-1] + resist + x3 + METAL_ORDER[-1:]


def _plate_resist(**update: object) -> Callable[[TapeSubstrateRecipe], TapeSubstrateRecipe]:
    """What gives a recipe its plate's solder resist with `update` (validate refuses it)."""

    def spoil(recipe: TapeSubstrateRecipe) -> TapeSubstrateRecipe:
        plate = recipe.metal_substrate
        resist = None if plate is None else plate.solder_resist
        assert plate is not None
        assert resist is not None
        spoilt = {"solder_resist": resist.model_copy(update=update)}
        return recipe.model_copy(update={"metal_substrate": plate.model_copy(update=spoilt)})

    return spoil


async def test_a_solder_resist_thicker_than_the_bumps_sink_past_validate_leaves_them_unjoined(
    store: RunStore, tmp_path: Path
):
    """What the refusal of a thick resist keeps from the line: 25.5 um of polyimide spun at
    1000 rpm, its openings 152.3 um across, into which the 300 um bumps sink only 20.8 um:
    they sit on the rims, the reflow melts them short of the lands, and 000:x3 fails at its
    joints. Each margin says why: the bumps' reach past the resist is 4.7 um short of the
    lands, and they were molten 0 s on them, not the reflow's 130 s above the liquidus."""

    path = write_recipe(tmp_path, small_recipe("tape-substrate-metal-resist.yaml"))
    check = await completed_past_validate(
        store, "tape-substrate", path, _plate_resist(spin_rpm=1000)
    )
    assert failing_claims(check) == {"000:x3"}
    failed = {c["condition"]: c for c in check["conditions"] if c["verdict"] != "pass"}
    reach = failed.pop("every ball reaching the metal through its solder resist opening")
    joint = failed.pop("a joint under every ball")
    assert failed == {}
    assert reach["sites_passing"] == joint["sites_passing"] == 0
    assert reach["margin_worst"] == pytest.approx(-4.7, abs=0.05)  # um: 20.8 into 25.5
    assert (joint["margin_worst"], joint["margin"]) == (0, -20)  # s on the metal, of 20


@pytest.mark.parametrize(
    ("name", "balls", "refusal"),
    [
        # the most swimming flux the refusal names keeps the 200 um balls in their openings
        ("tape-substrate-area-array.yaml", {"flux_thickness_um": "158.8 um"}, "158.7 um"),
        ("tape-substrate-area-array.yaml", {"flux_thickness_um": "158.7 um"}, None),
        # the widest ball whose largest sphere (10 um wider) the tape's 20 um resist lets reach
        # the copper through 150 um openings
        ("tape-substrate-balls.yaml", {"ball_diameter_um": "291.3 um"}, "291.2 um"),
        ("tape-substrate-balls.yaml", {"ball_diameter_um": "291.2 um"}, None),
    ],
)
def test_the_most_a_ball_s_refusal_names_is_valid_and_a_tenth_more_is_not(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    balls: dict,
    refusal: str | None,
):
    recipe = small_recipe(name)
    recipe["balls"].update({"ball_diameter_um": "200 um", "flux_thickness_um": "60 um"} | balls)
    code = main(["validate", "tape-substrate", "--recipe", str(write_recipe(tmp_path, recipe))])
    error = capsys.readouterr().err
    assert code == (0 if refusal is None else 2), error
    if refusal is not None:
        assert f"give at most {refusal}" in error
        assert error.endswith("(claim 000:x1)\n")


@pytest.mark.parametrize(("dose", "refusal"), [("151 mJ/cm^2", "152"), ("152 mJ/cm^2", None)])
def test_the_least_dose_a_thin_resist_s_refusal_names_is_valid_and_one_less_is_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], dose: str, refusal: str | None
):
    recipe = small_recipe("tape-substrate-metal-resist.yaml")
    recipe["metal_substrate"]["solder_resist"]["dose_mj_cm2"] = dose
    code = main(["validate", "tape-substrate", "--recipe", str(write_recipe(tmp_path, recipe))])
    error = capsys.readouterr().err
    assert code == (0 if refusal is None else 2), error
    if refusal is not None:
        assert f"give at least {refusal} mJ/cm^2 (claim 000:x3)" in error


async def test_a_plate_s_solder_resist_underexposed_past_validate_fails_000_x3_too_thin_to_cover(
    store: RunStore, tmp_path: Path
):
    """What the refusal of a dim exposure keeps from the line: 15 mJ/cm^2 on the negative
    polyimide, its openings inside the lands and the bumps reaching through them, but the
    developer dissolves all of the underexposed field but its cross-linked fraction: under 1
    um of resist is left over the interconnections, and the claim check names 000:x3 at its
    cover, its margin the thinnest resist."""
    path = write_recipe(tmp_path, small_recipe("tape-substrate-metal-resist.yaml"))
    check = await completed_past_validate(
        store, "tape-substrate", path, _plate_resist(dose_mj_cm2=15.0)
    )
    assert failing_claims(check) == {"000:x3"}
    (failed,) = [c for c in check["conditions"] if c["verdict"] != "pass"]
    assert failed["condition"].startswith("the solder resist covering the interconnections")
    assert failed["margin_worst"] == pytest.approx(0.88, abs=0.01)  # the 0.879 um refused


@pytest.mark.parametrize(
    ("path", "value", "claim", "words"),
    [
        (
            "holes.diameter_um",
            "120 um",
            "000:c",
            "holes.diameter_um = 120 um: a terminal goes into its hole only where the flip-chip "
            "bonder lands it within (hole - terminal) / 2 of the hole's centre: the studs "
            "dies.terminals bonds are up to 107.4 um across their base, and the bonder lands one "
            "up to 18.5 um off (5 sigma of its vision's 2 um placement on each axis and 10 mdeg "
            "rotation, at the farthest hole, 4.98 mm from the unit's centre): give at least "
            "144.4 um",
        ),
        (
            "panel.holes_per_die_side",
            50,
            "000:a",
            "panel.holes_per_die_side = 50: the laser drills holes.diameter_um = 150 um holes at "
            "a unit's 50 terminal sites a die side, the nearest two 84.9 um apart centre to "
            "centre: overlapping by 65.1 um, where there must be the 50 um web the tape needs "
            "between two holes (the laser chars each wall, the filler wets across a narrower "
            "one): give a panel of 26 or 27 holes a side, or at most 9 "
            "(panel.holes_per_die_side)",  # 10 to 25 put the corner holes too close again
        ),
        (
            "panel.unit_width_mm",
            "8 mm",
            "000:g",
            "panel.unit_width_mm = 8 mm: the saw cuts every unit free along its edges: a kerf of "
            "up to 40 um (dicing.blade_thickness_um = 30 um and the 10 um wider the line "
            "passes), chipping up to 30 um beyond it on either side, so a unit's width exceeds "
            "its die's (panel.die_width_mm = 8 mm) by 100 um in all, half of it at each edge, or "
            "the saw cuts into the die: give at least 8.1 mm",
        ),
        (
            "grind.thickness_um",
            "114 um",
            "000:f",
            "grind.thickness_um = 114 um: leaves 1 um of the dies above the tape, its metal and "
            "its solder resist (113 um), thinner than the 50 um the line takes a die at (the "
            "thinnest its bonder's ejector picks uncracked): give at least 163 um",
        ),
    ],
    ids=[
        "holes-the-bonder-misses",
        "holes-overlapping",
        "unit-as-wide-as-its-die",
        "die-ground-away",
    ],
)
def test_a_recipe_the_line_cannot_make_right_is_refused_naming_it_and_nothing_runs(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], path, value, claim, words
):
    """A new tester's dry runs of valid recipes that the line could not make, or made wrong
    with the claim check passing: holes wider than the studs by less than twice the bonder's
    landing error (120 um held a panel at 'bond dies', 98 of 100 dies bonded), holes that
    overlap at the dies' corners, a unit as wide as its die (the kerf cut 15 um into every
    die) and a grind leaving 1 um of die all validated. Each is refused by `run` before any
    tool moves, naming the field, the value, the limit, the claim and what to give; nothing
    is recorded."""
    recipe = small_recipe()
    _change(recipe, path, value)
    file = write_recipe(tmp_path, recipe)
    assert main(["run", "tape-substrate", "--sim", "--recipe", str(file)]) == 2
    error = capsys.readouterr().err
    assert f"{words} (claim {claim})" in error
    assert not db.exists()  # no run recorded: nothing was started, no tool contacted


def test_a_count_of_holes_between_two_that_fit_is_told_of_both(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """The corner holes' pitch rises and falls with the count: 20 a side is refused as 50 is,
    and told every count that keeps the web, above it as well as below, not "at most 9"."""
    recipe = small_recipe()
    _change(recipe, "panel.holes_per_die_side", 20)
    assert "give a panel of 26 or 27 holes a side, or at most 9 (panel.holes_per_die_side)" in (
        refusal(capsys, tmp_path, "tape-substrate", recipe)
    )


@pytest.mark.parametrize(
    ("path", "value", "advice", "unit"),
    [
        ("panel.holes_per_die_side", 50, r"give a panel of (?:\d+ or )?(\d+) holes a side", None),
        ("panel.unit_width_mm", "8 mm", r"give at least ([\d.]+) mm", "mm"),
        ("grind.thickness_um", "114 um", r"give at least ([\d.]+) um", "um"),
    ],
)
def test_what_a_refusal_of_the_panel_or_the_grind_advises_runs_and_passes(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], path, value, advice, unit
):
    """The value each refusal above advises (27 holes a side, the most that keep their web;
    8.1 mm, the narrowest unit that keeps the saw off the die; 163 um, the thinnest grind that
    keeps 50 um of it), taken from the refusal, validates, and a lot of 1 completes with every
    claim condition passing."""
    recipe = small_recipe()
    _change(recipe, path, value)
    given = re.search(advice, refusal(capsys, tmp_path, "tape-substrate", recipe))
    assert given is not None
    _change(recipe, path, int(given[1]) if unit is None else f"{given[1]} {unit}")
    summary = validated_lot_of_one(capsys, tmp_path, "tape-substrate", recipe)
    assert [wafer["status"] for wafer in summary["wafers"]] == ["completed"]
    assert summary["claim_check"]["status"] == "passed"


def test_the_least_hole_the_bonder_seats_every_stud_in_runs_with_every_die_bonded(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """The least hole a refusal of holes too narrow for the bonder's landing error advises
    (144.4 um), filled as validate then advises for it, bonds every die with every stud
    seated and passes the claim check, on the reference's panel of 100 units (at 120 um a
    lot of 2 had held a panel at 98 dies bonded)."""
    recipe = reference_recipe("tape-substrate.yaml")
    recipe["holes"]["diameter_um"] = "120 um"
    least = re.search(
        r"give at least ([\d.]+) um", refusal(capsys, tmp_path, "tape-substrate", recipe)
    )
    assert least is not None
    recipe["holes"]["diameter_um"] = f"{least[1]} um"
    fits = re.search(
        r"fill.volume_nl from ([\d.]+) to ([\d.]+) nl fits",
        refusal(capsys, tmp_path, "tape-substrate", recipe),
    )
    assert fits is not None
    recipe["fill"]["volume_nl"] = f"{(float(fits[1]) + float(fits[2])) / 2:.3f} nl"
    summary = validated_lot_of_one(capsys, tmp_path, "tape-substrate", recipe)
    assert [wafer["status"] for wafer in summary["wafers"]] == ["completed"]
    assert summary["claim_check"]["status"] == "passed"
