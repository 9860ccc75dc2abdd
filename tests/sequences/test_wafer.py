"""The script-facing API's tool requests: by role interface (typed), by role name, by tool name."""

from __future__ import annotations

from packline.drivers.roles.plasma_cleaner import PlasmaCleaner
from packline.sequences.engine import RunRequest, Wafer, method, open_run, prepare

from .helpers import TwoToolLine, TwoToolRecipe, chamber_cycle


class SealedChamber(PlasmaCleaner):
    """An interface of the plasma_cleaner role that no driver of the line implements."""


@method(
    name="test-use-by-role-name",
    title="test: a chamber cycle on any tool of the role, asked for by the role's name",
    claims=("003:13",),
    recipe=TwoToolRecipe,
    tools=("plasma_cleaner",),
)
async def use_by_role_name(wafer: Wafer, recipe: TwoToolRecipe) -> None:
    async with wafer.use("plasma_cleaner") as chamber:
        assert isinstance(chamber, PlasmaCleaner)
        await chamber_cycle(wafer, chamber, recipe.first_s, "etch")


@method(
    name="test-use-by-interface",
    title="test: a chamber cycle on any tool of the role, asked for by its interface",
    claims=("003:13",),
    recipe=TwoToolRecipe,
    tools=("plasma_cleaner",),
)
async def use_by_interface(wafer: Wafer, recipe: TwoToolRecipe) -> None:
    async with wafer.use(PlasmaCleaner) as chamber:
        await chamber_cycle(wafer, chamber, recipe.first_s, "etch")


@method(
    name="test-use-unimplemented-interface",
    title="test: asks for an interface of the role that the line's drivers do not implement",
    claims=("003:13",),
    recipe=TwoToolRecipe,
    tools=("plasma_cleaner",),
)
async def use_unimplemented_interface(wafer: Wafer, recipe: TwoToolRecipe) -> None:
    async with wafer.use(SealedChamber) as chamber:
        await chamber_cycle(wafer, chamber, recipe.first_s, "etch")


@method(
    name="test-use-not-an-interface",
    title="test: asks for a class that is not a role interface",
    claims=("003:13",),
    recipe=TwoToolRecipe,
    tools=("plasma_cleaner",),
)
async def use_not_an_interface(wafer: Wafer, recipe: TwoToolRecipe) -> None:
    async with wafer.use(dict):  # type: ignore[type-var]  # what the test is about
        await wafer.step("never reached", wafer.pause_point)


async def run(store, name: str, lot: int = 2):
    prepared = prepare(RunRequest(name, lot=lot))
    async with open_run(store, prepared, line_factory=TwoToolLine) as engine:
        status = await engine.run()
    return engine.run_id, status


async def test_a_role_interface_and_a_role_name_hold_the_same_tools_under_the_same_keys(store):
    stages = {}
    for name in ("test-use-by-interface", "test-use-by-role-name"):
        run_id, status = await run(store, name)
        assert status == "completed"
        steps = store.table("steps", run_id)
        stages[name] = sorted(
            (s["wafer_id"], s["key"], s["tool"]) for s in steps if s["kind"] == "stage"
        )
    assert stages["test-use-by-interface"] == stages["test-use-by-role-name"]
    assert {key for _, key, _ in stages["test-use-by-interface"]} == {"use plasma_cleaner#0"}
    assert {tool for _, _, tool in stages["test-use-by-interface"]} <= {"pc_a", "pc_b"}


async def test_an_interface_no_tool_of_the_role_implements_holds_the_wafer_untouched(store):
    run_id, status = await run(store, "test-use-unimplemented-interface")
    assert status == "held"
    for wafer in store.wafers(run_id):
        assert wafer["status"] == "held"
        assert "not a SealedChamber" in wafer["reason"]
        assert "ModbusPlasmaCleaner" in wafer["reason"]
    assert store.table("steps", run_id) == []


async def test_a_class_that_is_no_role_interface_holds_the_wafer_naming_it(store):
    run_id, status = await run(store, "test-use-not-an-interface", lot=1)
    assert status == "held"
    (wafer,) = store.wafers(run_id)
    assert "is not a role interface" in wafer["reason"]
    assert "dict" in wafer["reason"]
