"""Stages: a stretch of a wafer's script during which it holds a tool (alone or in a batch).

A stage is recorded like a step. When a run stops inside a stage, the tool's recovery undoes
the stage's tool handling (the wafer is unloaded, the chamber vented); on resume the stage is
therefore replayed: its completed repeatable steps run again, its completed irreversible
steps are skipped (see `plan.py`). A stage the wafer completed in an earlier session is
passed: the wafer takes no tool for it, and its steps are skipped (decision 0122).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the readers of a run's stages (`runs`, `show`) load no driver
    from .tools import Tool

#: The step kinds of the records of a wafer holding a tool: a stage, or its row of a batch.
HOLDING_KINDS = ("stage", "batch")


def took_its_tool(row: Mapping[Any, Any]) -> bool:
    """Whether step record `row` is a stage (a tool use, or a batch) its wafer entered on its
    tool: not a pass a resume made through a stage the wafer completed before, recorded
    skipped, which took no tool and loaded nothing (decision 0122). The readers of what a run
    put or left on a tool read the stage before such a pass: a skipped row read as the wafer's
    latest stage on the tool would stand for a stage that never held it."""
    return row["kind"] in HOLDING_KINDS and row["status"] != "skipped"


class Handling(StrEnum):
    """What a step does with its wafer's workpiece on its stage's tool, as the script declares
    it on the step (`wafer.step("mount on saw", saw.mount, wafer.id, handling=Handling.LOAD)`)
    and its record keeps (`steps.handling`): puts it on the tool (a wafer on a chuck, a batch
    in a chamber, a board on a bond stage, a diced wafer in a die supply), or takes it off.
    The engine reads it, never the step's name, to know whether a stage that was cut off left
    its wafer on the tool (`on_the_tool`): a step named otherwise (`mount on saw`, a new
    method's `place`) is a load all the same, and a renamed one stays one (decision 0094)."""

    LOAD = "load"
    UNLOAD = "unload"


def on_the_tool(handling: Iterable[str | None]) -> bool:
    """Whether, of the steps a pass through a stage completed, in order (each one's recorded
    `handling`: a `Handling` value, or None for a step that handles nothing), the loads
    outnumber the unloads: something of the wafer's (itself, its board, its die wafer) was
    on the tool when the pass stopped. Counted, not the last one read: the board loaded
    before the die source stays on the bond stage after the die source is taken off."""
    on = 0
    for each in handling:
        if each == Handling.LOAD:
            on += 1
        elif each == Handling.UNLOAD:
            on -= 1
    return on > 0


#: What `stage_work` says of a stage that did none of its steps, some, or all of them.
NO_WORK, PART_WORK, ALL_WORK = "none", "part", "all"

#: What `show` and the report's Gantt chart say of a stage that did none of its steps
#: (`NO_WORK`), an earlier release's pass of a stage its wafer had completed.
EVERY_STEP_DONE_BEFORE = "every step in it done before"


def stage_work(rows: Iterable[Mapping[Any, Any]]) -> dict[int, str]:
    """How much of its work each stage and batch did, by the id of its record (`steps` rows:
    `id`, `session`, `wafer_id`, `key`, `stage`, `kind`, `status`): `NO_WORK` when every
    step recorded inside it was skipped, `PART_WORK` when some were, `ALL_WORK` when none
    was (or none is recorded inside it).

    A wafer passes again, its steps skipped in no time, through a stage it completed before:
    on resume (a new session), and in the same session when it is run again after a hold (a
    tool back in service, `clear-tool`); it takes no tool for it, its stage recorded skipped
    (decision 0122), where an earlier release's records have it holding the tool, completed.
    Such a pass is not a use of the tool and
    demonstrates no rate; nor does a stage replayed after a stop inside it, which repeats
    its handling but skips the irreversible process it did before (`packline tools`; the
    ETA's bottleneck pace, `schedule._bottleneck_pace`, counts no pass that did no work).

    Each step belongs to the last stage of its `stage` key that the same wafer entered before
    it in the same session (records are written in order, so by `id`): matching on the key
    alone would let a pass that ran vouch for a later one that skipped everything. A step
    skipped before the wafer entered its stage in the session (a release, recorded as the
    resume carrying it out starts) belongs to the pass the wafer then makes through it: that
    pass's handling ran around a process it did not do (a chamber pumped and vented for a
    released clean), which is no rate of the process."""
    entered: dict[tuple[Any, Any, Any], int] = {}
    skipped_ahead: set[tuple[Any, Any, Any]] = set()
    ran: dict[int, set[bool]] = {}
    for row in sorted(rows, key=lambda r: int(r["id"])):
        wafer = (row["session"], row["wafer_id"])
        if row["kind"] in HOLDING_KINDS:
            entered[(*wafer, row["key"])] = int(row["id"])
            ahead = (*wafer, row["key"]) in skipped_ahead
            ran[int(row["id"])] = {False} if ahead else set()
            skipped_ahead.discard((*wafer, row["key"]))
            continue
        stage = row["stage"]
        if not isinstance(stage, str):
            continue
        if (*wafer, stage) in entered:
            ran[entered[(*wafer, stage)]].add(row["status"] != "skipped")
        elif row["status"] == "skipped":
            skipped_ahead.add((*wafer, stage))
    return {
        step_id: NO_WORK if done == {False} else PART_WORK if False in done else ALL_WORK
        for step_id, done in ran.items()
    }


@dataclass(frozen=True)
class Stage:
    key: str
    tool: Tool
    replay: bool
    batch: str | None = None
    #: Completed in an earlier session: the wafer passes it without taking `tool` (the tool it
    #: completed the stage on), every step in it skipped as done before (decision 0122).
    passed: bool = False
    #: The declared handling (a `Handling` value, or None) of each step of this pass done so
    #: far (completed, or skipped as done), in order: read by `holds_the_wafer`.
    handled: list[str | None] = field(default_factory=list, compare=False)

    @property
    def holds_the_wafer(self) -> bool:
        """Whether something of the stage's wafers (itself, its board, a batch) is on its tool
        now, as the steps of this pass done so far put it there (`on_the_tool`). A step that
        declares no handling and starts while it is not prepares the tool (a spindle started,
        a blade dressed before the mount): whatever it does, it does nothing to the wafer."""
        return on_the_tool(self.handled)
