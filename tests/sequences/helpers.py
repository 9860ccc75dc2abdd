"""Small helpers shared by the engine and method tests: test methods, a two-tool simulated
line, the reference recipes, and a lot's dry run as JSON events."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Any, Literal, TypeAlias

import pytest
import yaml
from pydantic import Field

from packline.cli import main
from packline.clock import VirtualClock
from packline.drivers.equipment import Equipment
from packline.drivers.roles.grinder import Grinder, GrindRecipe, GrindSide
from packline.drivers.roles.laser import DrillRecipe, FaceUp, Laser, LaserSource
from packline.drivers.roles.plasma_cleaner import Gas, PlasmaCleaner, PlasmaRecipe, PlasmaStep
from packline.drivers.roles.wire_bonder import BondProgram, WireBonder, WireMaterial
from packline.sequences.engine import (
    ConfirmFn,
    Engine,
    Event,
    Handling,
    Method,
    Observer,
    Recipe,
    RecipeError,
    RunRequest,
    RunStore,
    Wafer,
    method,
    open_resume,
    open_run,
    prepare,
    run_report,
)
from packline.sequences.engine.errors import RunNotStarted
from packline.sequences.engine.recipe import parse_recipe
from packline.sequences.engine.request import Prepared
from packline.sequences.engine.tools import Tool, ToolPool
from packline.sequences.two_process_via import TwoProcessViaRecipe
from packline.sequences.two_process_via.recipe import ConcaveLaser, Develop, DryEtch
from packline.sim_instruments.line import SimulatedLine
from packline.sim_instruments.plasma_cleaner import SimPlasmaCleaner
from packline.sim_instruments.tool import SimulatedTool
from packline.sim_instruments.twin import PanelSpec, TwinStore
from packline.station import Station, ToolEntry
from packline.units import Unit

#: A YAML file as `yaml.safe_load` reads it (a recipe's tree), for a test to change and write.
YamlTree: TypeAlias = dict[str, Any]


class TwoToolRecipe(Recipe):
    first_s: Annotated[float, Unit("s"), Field(ge=30, le=600)] = 60.0
    second_s: Annotated[float, Unit("s"), Field(ge=30, le=600)] = 180.0


async def chamber_cycle(wafer: Wafer, chamber: PlasmaCleaner, seconds: float, label: str) -> None:
    """A single-wafer chamber cycle as named, checkpointed steps."""
    await wafer.step("open door", chamber.open_door)
    await wafer.step("load", chamber.load, wafer.id, handling=Handling.LOAD)
    await wafer.step("close door", chamber.close_door)
    await wafer.step("pump down", chamber.pump_down)
    recipe = PlasmaRecipe((PlasmaStep(Gas.AR, 100, 100, 300, seconds),))
    await wafer.step(label, chamber.clean, recipe, claims=("003:13",))
    await wafer.step("vent", chamber.vent)
    await wafer.step("open door", chamber.open_door)
    await wafer.step("unload", chamber.unload, wafer.id, handling=Handling.UNLOAD)


@method(
    name="test-two-tools",
    title="test: a short cycle on tool A, then a long one on tool B",
    claims=("003:13",),
    recipe=TwoToolRecipe,
    tools=("plasma_cleaner",),
    irreversible=("etch A", "etch B"),
)
async def two_tools(wafer: Wafer, recipe: TwoToolRecipe) -> None:
    async with wafer.use("pc_a") as a:
        assert isinstance(a, PlasmaCleaner)  # a tool used by its name comes typed as Equipment
        await chamber_cycle(wafer, a, recipe.first_s, "etch A")
    async with wafer.use("pc_b") as b:
        assert isinstance(b, PlasmaCleaner)
        await chamber_cycle(wafer, b, recipe.second_s, "etch B")


class BumpSiteRecipe(Recipe):
    #: The fewest bumped sites the check after bumping accepts (2 fails it: one site is bumped).
    min_bumped_sites: Annotated[int, Field(strict=True, ge=1, le=2)] = 1


async def bump_one_site(wafer: Wafer, recipe: BumpSiteRecipe) -> None:
    """One stud bump on the wire bonder, then a check of it that a recipe may fail (the
    sequence of the method `test-bump-site`, which the tests that use it register)."""
    async with wafer.use(WireBonder) as bonder:
        await wafer.step("load on bonder", bonder.load, wafer.id, handling=Handling.LOAD)
        program = BondProgram(WireMaterial.AU, 25, 150, 35, 60, 12)
        await wafer.step("bump", bonder.form_stud_bumps, program, sites=[0])
        await wafer.step("check", check_bumped, wafer, bonder, recipe.min_bumped_sites)
        await wafer.step("unload from bonder", bonder.unload, wafer.id, handling=Handling.UNLOAD)


async def check_bumped(wafer: Wafer, bonder: WireBonder, min_sites: int) -> None:
    await wafer.require_loaded_on(bonder)
    summary = await bonder.request_bump_height_summary()
    wafer.measure("bumped sites", summary.bumped_sites, "sites", low=min_sites)


class CheckedRecipe(Recipe):
    #: Whether the check after the tool processed the wafer fails (the wafer is then held).
    fail_check: bool = False


async def check_processed(wafer: Wafer, tool: Equipment, fail: bool) -> None:
    """A check after the tool processed the wafer, which a recipe may fail; asked only once
    the tool holds the wafer."""
    await wafer.require_loaded_on(tool)
    wafer.measure("checked", 0 if fail else 1, "", low=1)


class GrindOnceRecipe(CheckedRecipe):
    #: The thickness the grind leaves (the simulated line's wafers come at 725 um).
    target_um: Annotated[float, Field(ge=600, le=720)] = 700.0


async def grind_once(wafer: Wafer, recipe: GrindOnceRecipe) -> None:
    """The back ground once on the grinder, then checked (the sequence of the method
    `test-grind`, which the tests that use it register)."""
    async with wafer.use(Grinder) as grinder:
        await wafer.step(
            "load on grinder", grinder.load, wafer.id, GrindSide.BACK, handling=Handling.LOAD
        )
        await wafer.step("apply chuck vacuum", grinder.apply_chuck_vacuum)
        await wafer.step("grind", grinder.grind, GrindRecipe(recipe.target_um))
        await wafer.step("check", check_processed, wafer, grinder, recipe.fail_check)
        await wafer.step("release chuck vacuum", grinder.release_chuck_vacuum)
        await wafer.step("unload from grinder", grinder.unload, handling=Handling.UNLOAD)


async def clean_once(wafer: Wafer, recipe: CheckedRecipe) -> None:
    """One wafer cleaned in the plasma chamber, then checked (the sequence of the method
    `test-clean`, which the tests that use it register)."""
    async with wafer.use(PlasmaCleaner) as chamber:
        await wafer.step("open door", chamber.open_door)
        await wafer.step("load", chamber.load, wafer.id, handling=Handling.LOAD)
        await wafer.step("close door", chamber.close_door)
        await wafer.step("pump down", chamber.pump_down)
        clean = PlasmaRecipe((PlasmaStep(Gas.AR, 100, 100, 300, 30),))
        await wafer.step("clean", chamber.clean, clean)
        await wafer.step("check", check_processed, wafer, chamber, recipe.fail_check)
        await wafer.step("vent", chamber.vent)
        await wafer.step("open door", chamber.open_door)
        await wafer.step("unload", chamber.unload, wafer.id, handling=Handling.UNLOAD)


class PanelRowsRecipe(Recipe):
    rows: Annotated[int, Field(strict=True, ge=1, le=10)] = 2


@method(
    name="test-panel",
    title="test: a lot of tape panels of the recipe's rows, their tape drilled by a CO2 laser",
    claims=(),
    recipe=PanelRowsRecipe,
    tools=("laser",),
    irreversible=("drill",),
    incoming=lambda recipe: PanelSpec(rows=recipe.rows, columns=3),
    sim_tools=lambda recipe: {"laser": {"source": LaserSource.CO2_10600}},
)
async def drill_panel(wafer: Wafer, recipe: PanelRowsRecipe) -> None:
    async with wafer.use(Laser) as laser:
        await wafer.step("open enclosure", laser.open_enclosure)
        await wafer.step("load", laser.load, wafer.id, FaceUp.FRONT, handling=Handling.LOAD)
        await wafer.step("close enclosure", laser.close_enclosure)
        await wafer.step("drill", laser.drill_vias, DrillRecipe(100, 5, 50))
        await wafer.step("disable emission", laser.disable_emission)
        await wafer.step("open enclosure", laser.open_enclosure)
        await wafer.step("unload", laser.unload, handling=Handling.UNLOAD)


class TwoToolLine:
    """A simulated line with two single-slot plasma chambers, pc_a and pc_b."""

    def __init__(self, clock: VirtualClock, method: Method | None = None) -> None:
        self.twin = TwinStore()
        self.tools = {
            name: SimPlasmaCleaner(name, self.twin, clock, capacity=1, serial_number=f"PC-{name}")
            for name in ("pc_a", "pc_b")
        }
        self.station: Station | None = None

    async def __aenter__(self) -> TwoToolLine:
        tools = {}
        for name, chamber in self.tools.items():
            address = await chamber.start("127.0.0.1", 0)
            tools[name] = ToolEntry(driver="plasma_cleaner", address=address, capacity=1)
        self.station = Station(name="two-tool-line", tools=tools, simulated=True)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for chamber in self.tools.values():
            await chamber.stop()


def write_recipe(tmp_path: Path, recipe: YamlTree) -> Path:
    """Write `recipe` as a YAML recipe file in tmp_path; its path."""
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return path


#: The reference recipes the package ships.
RECIPES = resources.files("packline.sequences").joinpath("recipes")


async def completed_past_validate(
    store: RunStore,
    method_name: str,
    variant: str | Path,
    spoil: Callable[[Any], Recipe],
    lot: int = 1,
) -> dict[str, Any]:
    """Run the reference recipe `variant` of `method_name` (or a recipe file's path) with
    `spoil` applied to its model after it validated (a recipe validate would refuse, driven
    through the line all the same) to its end, a lot of `lot`: its claim check."""
    path = variant if isinstance(variant, Path) else RECIPES.joinpath(variant)
    prepared = prepare(RunRequest(method_name, lot=lot, recipe_path=str(path)))
    prepared.recipe = spoil(prepared.recipe)
    async with open_run(store, prepared) as engine:
        assert await engine.run() == "completed"
    check: dict[str, Any] = run_report(store, engine.run_id)["claim_check"]
    return check


async def etched_apart_past_validate(
    store: RunStore,
    method_name: str,
    variant: str | Path,
    spoil: Callable[[Any], Recipe],
    metal: str,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """`completed_past_validate`: its claim check, and the check's condition of `metal` (`the
    foil`, `the seed`, `the plate`) etched through between the patterns."""
    check = await completed_past_validate(store, method_name, variant, spoil)
    (apart,) = [c for c in check["conditions"] if c["condition"].startswith(f"{metal} etched")]
    return check, apart


def first_process_changed(
    kind: type[ConcaveLaser | Develop], **changes: object
) -> Callable[[TwoProcessViaRecipe], TwoProcessViaRecipe]:
    """A spoil of a two-process-via recipe (for `held_past_validate`,
    `completed_past_validate`): its first process, which must be of `kind` (the laser's
    `ConcaveLaser`, the photo resin's `Develop`), with `changes` made to it."""

    def spoil(recipe: TwoProcessViaRecipe) -> TwoProcessViaRecipe:
        assert isinstance(recipe.first, kind)
        return recipe.model_copy(update={"first": recipe.first.model_copy(update=changes)})

    return spoil


def dry_etch_lasting(time_s: float) -> Callable[[TwoProcessViaRecipe], TwoProcessViaRecipe]:
    """A spoil of a two-process-via recipe whose second process is the dry etch (for
    `held_past_validate`, `completed_past_validate`): every step of its plasma lasting
    `time_s`."""

    def spoil(recipe: TwoProcessViaRecipe) -> TwoProcessViaRecipe:
        assert isinstance(recipe.second, DryEtch)
        plasma = recipe.second.plasma
        steps = [step.model_copy(update={"time_s": time_s}) for step in plasma.steps]
        etch = plasma.model_copy(update={"steps": steps})
        return recipe.model_copy(
            update={"second": recipe.second.model_copy(update={"plasma": etch})}
        )

    return spoil


async def held_past_validate(
    store: RunStore, tmp_path: Path, variant: str, spoil: Callable[[Any], Recipe]
) -> dict[str, Any]:
    """A lot of 1 of two-process-via's reference recipe `variant`, the wafer left whole (no
    dicing nor mounting: a shorter run), with `spoil` applied to its model after it validated
    (a recipe validate would refuse, driven through the line all the same), which the line
    must hold: the held wafer's row (its `reason`)."""
    tree = reference_recipe(variant)
    for section in ("dicing", "mounting"):
        tree.pop(section, None)
    prepared = prepare(RunRequest("two-process-via", recipe_path=str(write_recipe(tmp_path, tree))))
    prepared.recipe = spoil(prepared.recipe)
    async with open_run(store, prepared) as engine:
        assert await engine.run() == "held"
    (wafer,) = store.wafers(engine.run_id)
    return wafer


def reference_recipe(name: str) -> YamlTree:
    """The reference recipe `name` (a file of `RECIPES`) as its YAML tree, to change."""
    tree: YamlTree = yaml.safe_load(RECIPES.joinpath(name).read_text())
    return tree


def reference_with(name: str, path: str, value: object) -> YamlTree:
    """The reference recipe `name` with the field at the dotted `path` (`first.depth_um`)
    set to `value`."""
    recipe = reference_recipe(name)
    *sections, field = path.split(".")
    section = recipe
    for key in sections:
        section = section[key]
    section[field] = value
    return recipe


def run_lot(
    capsys: pytest.CaptureFixture[str], method: str, recipe: Path | Traversable, lot: int
) -> tuple[int, list[dict[str, Any]]]:
    """`packline run METHOD --sim --json --lot LOT --recipe RECIPE`: its exit code and the
    events it printed."""
    args = ["--lot", str(lot), "--recipe", str(recipe)]
    code = main(["run", method, "--sim", "--json", *args])
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    return code, events


def _validated_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, method: str, recipe: YamlTree, lot: int
) -> tuple[int, dict[str, Any]]:
    """`recipe` written in tmp_path, which `packline validate METHOD` must take, run as a
    lot of `lot` on the simulated line: its exit code and summary."""
    path = write_recipe(tmp_path, recipe)
    assert main(["validate", method, "--recipe", str(path)]) == 0
    capsys.readouterr()
    code, events = run_lot(capsys, method, path, lot)
    return code, events[-1]


def validated_lot_of_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, method: str, recipe: YamlTree, lot: int = 1
) -> dict[str, Any]:
    """`recipe` written in tmp_path, which `packline validate METHOD` must take, run as a
    lot of 1 (or of `lot`) on the simulated line to its end (exit 0): the run's summary."""
    code, summary = _validated_run(capsys, tmp_path, method, recipe, lot)
    assert code == 0, summary
    return summary


def validated_wrong_product(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, method: str, recipe: YamlTree, lot: int = 1
) -> dict[str, Any]:
    """`recipe` written in tmp_path, which `packline validate METHOD` must take, run as a
    lot of 1 (or of `lot`) on the simulated line: every wafer completes, and the claim check
    of the product fails (exit 1), which the method pages' valid recipes that make a wrong
    product show: the run's claim check."""
    code, summary = _validated_run(capsys, tmp_path, method, recipe, lot)
    assert code == 1, summary
    assert {w["status"] for w in summary["wafers"]} == {"completed"}
    check: dict[str, Any] = summary["claim_check"]
    assert check["status"] == "failed"
    return check


def refusal(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, method: str, recipe: YamlTree
) -> str:
    """`packline validate METHOD` of `recipe` written in tmp_path, which must refuse it (exit
    2): what it printed on stderr."""
    assert main(["validate", method, "--recipe", str(write_recipe(tmp_path, recipe))]) == 2
    return capsys.readouterr().err


def without_lines(refusal: str) -> str:
    """A recipe's refusal with the line of the file each problem names left out (`source:
    line 6: path = ...` -> `source: path = ...`), for a test of its wording alone: the lines
    are tested by tests/sequences/engine/test_recipe_yaml.py."""
    return re.sub(r"^(.*?): line \d+: ", r"\1: ", refusal, flags=re.MULTILINE)


def recipe_problems(model: type[Recipe], recipe: YamlTree) -> list[dict[str, object]]:
    """What validate's reading of a recipe (`parse_recipe`) refuses `recipe` of `model` with:
    each problem's path and message."""
    with pytest.raises(RecipeError) as refused:
        parse_recipe(model, recipe, "r.yaml")
    return refused.value.problems


def failing_claims(check: dict[str, Any]) -> set[str]:
    """The claims of a claim check (a run summary's `claim_check`) with a failing condition."""
    return {c["claim"] for c in check["conditions"] if c["verdict"] == "fail"}


#: What a run stopped by each command ends as (`Engine.run`'s outcome).
STOPPED_AS = {"terminate": "terminated", "abort": "aborted"}


def station_lot(path: str | Path, lot: int = 2, method: str = "plasma-clean") -> RunRequest:
    """The request of a run of `method` (plasma-clean), of its default recipe, for a lot of
    `lot` on the station file `path`."""
    return RunRequest(method, simulated=False, station_path=path, lot=lot)


async def stopped_at(
    store: RunStore,
    run: RunRequest | str,
    step: str | None,
    *,
    command: Literal["terminate", "abort"] = "terminate",
    wafer: str | int | None = None,
    event: str = "step-started",
    line_ready: Callable[[SimulatedLine], None] | None = None,
    observers: Sequence[Observer] = (),
    confirm: ConfirmFn | None = None,
    confirmed_by: str | None = None,
) -> str:
    """A run of `run` (a request, started: of its default recipe unless it names one, a dry
    run unless it names a station; or a run's id, resumed) stopped by `command` as `wafer` (any
    wafer, when None; an int names the lot's wafer by its position, 1 the first: a station
    lot's ids are made as the run opens) starts its first step named `step` (any step, when
    None: the run's first), or, `event` "step-finished", ends it, or at its first event of
    another kind (`event` "wafer-finished", `step` None: as its first wafer ends); a dry run's
    simulated line handed to `line_ready`, its events told to `observers` too, the operator's
    confirmations answered by `confirm` (a station run's: a dry run confirms its own) or all
    given at once by `confirmed_by` (`--confirmed-by`): the run's id. An abort as a step
    starts leaves the tool it runs on loaded."""
    stopping: list[tuple[Engine, str | None]] = []  # the run, and the id of `wafer`

    def stop_there(told: Event) -> None:
        if told.kind == event and step in (None, told.step):
            running, wafer_id = stopping[0]
            if wafer_id in (None, told.wafer):
                running.request(command, "test")

    watching = [stop_there, *observers]
    opened = (
        open_resume(
            store, run, observers=watching, line_ready=line_ready, confirm=confirm,
            confirmed_by=confirmed_by,
        )
        if isinstance(run, str)
        else open_run(
            store, prepare(run), observers=watching, line_ready=line_ready, confirm=confirm,
            confirmed_by=confirmed_by,
        )
    )  # fmt: skip
    async with opened as engine:
        stopping.append((engine, lot_wafer(engine.spec.wafer_ids, wafer)))
        assert await engine.run() == STOPPED_AS[command]
    return engine.run_id


def lot_wafer(wafer_ids: Sequence[str], wafer: str | int | None) -> str | None:
    """The id of `wafer` in a lot of `wafer_ids`: itself, or the id at its position (1 the
    first) when it is an int."""
    if not isinstance(wafer, int):
        return wafer
    if not 1 <= wafer <= len(wafer_ids):
        lot = len(wafer_ids)
        raise ValueError(f"wafer {wafer}: no position in a lot of {lot} (1 to {lot})")
    return wafer_ids[wafer - 1]


#: What a driver sends a SCPI tool as it connects, no command to its process: the status
#: registers cleared (`test_identity_and_standby_after_connect`, tests/sim_instruments), and
#: a DC supply's inhibit input set to latch (the electroplater's, `DcSupply._read_setup`).
CONNECT_SETUP = frozenset({"*CLS", "OUTP:INH:MODE LATC"})
#: The messages by which a GEM host commands an equipment (a remote command, an equipment
#: constant, a process program); connecting sends none.
GEM_COMMANDS = ("S2F41", "S2F49", "S2F15", "S7F3")


def commands_received(line: SimulatedLine) -> dict[str, list[str]]:
    """Each tool of `line` that was sent a command, with them: what a text tool received that
    is no query (`?`) nor what a driver sends as it connects (`CONNECT_SETUP`), every write to
    a Modbus tool (all it records), a GEM face's commanding messages; {} for a line that was
    only asked."""
    sent = {
        name: [
            text
            for text in tool.received
            if any(not unit.endswith("?") and unit not in CONNECT_SETUP for unit in text.split(";"))
        ]
        for name, tool in line.tools.items()
    }
    for name, server in line.gem_servers.items():
        sent[name] += [message for message in server.received if message.startswith(GEM_COMMANDS)]
    return {name: commands for name, commands in sent.items() if commands}


#: A dry run's laser with a UV source (10-50 um vias), as a station's may be: the lines of the
#: methods that drill (tape-substrate, two-process-via) have a CO2 one (50-150 um).
UV_LASER = {"laser": {"source": LaserSource.UV_355}}


async def refused_as_it_connects(
    store: RunStore,
    prepared: Prepared,
    sim_options: Mapping[str, Mapping[str, object]],
    tool: str,
    refusal: str,
) -> dict[str, SimulatedTool]:
    """The tools of a dry run of `prepared`'s line, which `sim_options` set, once the run was
    refused as it connected them (`RunNotStarted`), naming `tool` at its address and then
    `refusal`: no tool was commanded, no panel arrived on the line, nothing was recorded."""
    lines: list[SimulatedLine] = []
    async with open_run(store, prepared, line_ready=lines.append, sim_options=sim_options) as run:
        with pytest.raises(RunNotStarted) as refused:
            await run.run()
        (line,) = lines
        assert commands_received(line) == {}
        assert len(line.twin) == 0  # no panel was received
        tools = dict(line.tools)
    assert str(refused.value).startswith(f"run not started: {tool} at ")
    assert str(refused.value).endswith(
        f"{refusal}; nothing was run and nothing was recorded: run it again with the recipe "
        "corrected, or on tools that carry it out"
    )
    assert store.runs() == []
    return tools


@asynccontextmanager
async def lone_laser(
    tool_options: Mapping[str, Mapping[str, object]] | None = None,
) -> AsyncIterator[tuple[SimulatedLine, ToolPool]]:
    """A simulated line of a laser alone (`tool_options`: a CO2 `source`), its driver
    connected in a pool of its own: the tools a method's check of a laser's source asks."""
    async with (
        SimulatedLine(kinds=["laser"], tool_options=tool_options) as line,
        line.station.open_tool("laser", line.clock) as laser,
    ):
        pool = ToolPool(line.clock)
        pool.add(Tool("laser", "laser", laser, 1))
        yield line, pool
