"""A stage that ends right after its last step, nothing run between them, keeps that step's
twin snapshot without taking it again; anything that ran between them (the script's own tool
operation, another task while the script waited) is in the stage's snapshot (decision 0075)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from packline.drivers.roles.plasma_cleaner import Gas, PlasmaCleaner, PlasmaRecipe, PlasmaStep
from packline.sequences.engine import Engine, RunRequest, RunStore, Wafer, method, open_run, prepare
from packline.sequences.engine.events import Event
from packline.sequences.engine.stage import Handling
from packline.sim_instruments.twin.freezing import thaw
from packline.sim_instruments.twin.snapshot import Snapshots

from ..helpers import TwoToolLine, TwoToolRecipe

#: What the script does after its stage's last step, before the stage ends (each test's own).
Between = Callable[[PlasmaCleaner], Awaitable[None]]
_between: list[Between] = []


class PumpedRecipe(TwoToolRecipe):
    """The recipe of `test-twin-takes` (its own class: a method names its recipe class)."""


@method(
    name="test-twin-takes",
    title="test: a wafer loaded and pumped down in a chamber, then something, in one stage",
    claims=("003:13",),
    recipe=PumpedRecipe,
    tools=("plasma_cleaner",),
)
async def pumped(wafer: Wafer, recipe: PumpedRecipe) -> None:
    async with wafer.use("pc_a") as chamber:
        await wafer.step("open door", chamber.open_door)
        await wafer.step("load", chamber.load, wafer.id, handling=Handling.LOAD)
        await wafer.step("close door", chamber.close_door)
        await wafer.step("pump down", chamber.pump_down)
        await _between[0](chamber)


async def digests_and_takes(
    store: RunStore, between: Between, monkeypatch: pytest.MonkeyPatch, observer=None
) -> tuple[dict[str, str], int]:
    """A lot of one of `test-twin-takes` doing `between`: the twin digest recorded at the end
    of 'pump down' and of the stage, and how many snapshots were taken in all."""
    _between[:] = [between]
    takes = 0
    take = Snapshots.take

    def counted(self: Snapshots, workpiece):  # type: ignore[no-untyped-def]
        nonlocal takes
        takes += 1
        return take(self, workpiece)

    monkeypatch.setattr(Snapshots, "take", counted)
    engines: list[Engine] = []
    observers = [] if observer is None else [lambda event: observer(engines[0], event)]
    prepared = prepare(RunRequest("test-twin-takes", lot=1))
    async with open_run(store, prepared, observers=observers, line_factory=TwoToolLine) as engine:
        engines.append(engine)
        assert await engine.run() == "completed"
    steps = {s["id"]: s for s in store.table("steps", engine.run_id)}
    digests = {
        "stage" if steps[row["step_id"]]["kind"] == "stage" else steps[row["step_id"]]["name"]: (
            row["hash"]
        )
        for row in store.twin_snapshots(engine.run_id)
    }
    return digests, takes


async def nothing(chamber: PlasmaCleaner) -> None:
    """The stage ends right after its last step."""


async def test_a_stage_ending_right_after_its_last_step_keeps_that_steps_snapshot(
    store: RunStore, monkeypatch: pytest.MonkeyPatch
):
    digests, takes = await digests_and_takes(store, nothing, monkeypatch)
    assert digests["stage"] == digests["pump down"]
    # one take for each of the four steps; none for the stage, nor as the completed wafer is
    # put away right after it (its snapshot again, nothing run between)
    assert takes == 4


async def test_a_tool_operation_between_the_last_step_and_the_stages_end_is_in_its_snapshot(
    store: RunStore, monkeypatch: pytest.MonkeyPatch
):
    async def cleaned(chamber: PlasmaCleaner) -> None:
        await chamber.clean(PlasmaRecipe((PlasmaStep(Gas.AR, 100, 100, 300, 60.0),)))

    digests, _ = await digests_and_takes(store, cleaned, monkeypatch)
    assert digests["stage"] != digests["pump down"]


async def test_another_task_changing_the_twin_while_the_script_waits_is_in_the_stages_snapshot(
    store: RunStore, monkeypatch: pytest.MonkeyPatch
):
    """The script waits once, without a tool or the clock, after its last step; a callback
    queued as that step ended changes the wafer's twin meanwhile."""

    async def waited(chamber: PlasmaCleaner) -> None:
        await asyncio.sleep(0)

    def dirty_the_wafer_after_pump_down(engine: Engine, event: Event) -> None:
        if event.kind == "step-finished" and event.step == "pump down":
            assert engine.twin is not None
            surface = engine.twin.get(event.wafer).surface

            def dirty() -> None:
                thaw(surface.residue_nm)  # as a step writing it in place does
                surface.residue_nm += 1.0

            asyncio.get_running_loop().call_soon(dirty)

    digests, _ = await digests_and_takes(
        store, waited, monkeypatch, observer=dirty_the_wafer_after_pump_down
    )
    assert digests["stage"] != digests["pump down"]
