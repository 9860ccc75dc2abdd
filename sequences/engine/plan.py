"""What a resumed run has to do, read from the records of the sessions before it.

Rules (the checkpoint contract, see docs/engine.md):

* a wafer completed, held or scrapped stays so, unless an operator released or reworked the
  held wafer since it was held (`dispositions.py`): a release counts the step that held it as
  completed, so the wafer goes on from the step after it (a released step is skipped even in
  its replayed stage, repeatable or not: a check that failed would only fail again; but a
  repeatable one runs with its batch where the wafer is loaded with wafers that must run it,
  as a pump-down runs on every wafer in the chamber, and is recorded so; the
  resume records it as skipped when it starts, so the release stands in every later resume
  even if the wafer is held again before it reaches the step); a
  rework forgets that step, so it runs again; either way the stage (tool use or batch) it
  failed in is replayed, because the tool's recovery took the wafer off (by whichever session
  runs the wafer next: the one carrying out the decision may stop before it); a release of a step
  its tool refused (its hold's `refused`: recorded before packline refused such a release) is
  carried out as a rework: the step did not happen, and skipped it would have the next steps
  meet a tool without the wafer;
* a decision answers the wafer's latest hold only: a step that held it and is not its latest
  record is a hold it was sent back through (a released one reads completed, by its skip), so
  its rework stands and it runs again, whatever a later hold's decision (a release of a
  confirmation declined on the way back to a reworked clean must not skip the clean); a hold
  no step failed (a confirmation declined) has no step for a release to accept;
* a wafer held because no tool was given to it (its hold's `tool_unavailable`) runs again
  with no decision: nothing happened to it on that tool, and a stage it held meanwhile is
  replayed; a step that held it before, and whose rework its last session carried out
  without reaching it (held for want of the tool on its way back), is still reworked: only
  a decided wafer ran in that session, so its records' failed or cut-off step is one an
  operator sent it back through (a released one counts as completed);
* a wafer whose irreversible step was running (or was cut off by an abort) when the run
  stopped is held for an operator decision: the step may have half happened, and a grind or
  a cut is never repeated;
* a wafer with a failed step is held (the session stopped before it could say so);
* every other wafer runs its script again: completed steps are skipped; a stage (a tool use,
  or a batch) it completed is passed without its tool (decision 0122; a step its script calls
  in such a stage that the records have not done there fails, and its rework, or release,
  replays the stage on its tool, by whichever session runs the wafer next, as a failed
  stage); a repeatable step
  that was running is run again; inside a stage (a tool held by the wafer, or a batch) that
  was cut off, completed repeatable steps are run again too, because the tool's recovery
  undid what they did (unloaded the wafer, vented the chamber) - completed irreversible steps
  are still skipped;
* a step recorded under a name its method's script no longer calls (`Method.renamed_steps`,
  old name -> new) is the step of the new name, at the same occurrence: completed, it is
  skipped; held and reworked, it runs again under its new name.

`dry_run_release_warning` reads by these rules, as a dry run's release is recorded, whether it
accepts as done a step that never changed the simulated wafer the resume goes on with (a dry
run's resume restores a released wafer as its held step left it: decision 0108).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .dispositions import (
    SCRAPPED,
    Decision,
    disposition_command,
    latest_holds,
    pending_dispositions,
    replaced_in_run,
)
from .records import RunStore, db_option
from .report import step_labels
from .stage import HOLDING_KINDS

#: Step statuses meaning "it may have been half done".
CUT_OFF = ("running", "interrupted")
#: Why a released step is recorded as skipped when the resume that carries out its release
#: starts (`Plan.released_steps`; `released_why`).
RELEASED = "released by an operator's disposition: accepted as done"
#: Why a released step of a batch tool is: a batch may run it again with the wafer in it.
RELEASED_IN_A_BATCH = (
    f"{RELEASED} (a batch it is loaded into with wafers that must run a repeatable step runs it "
    "on every wafer in the tool)"
)


def released_why(row: Mapping[str, Any]) -> str:
    """Why released step `row` (a step record's fields) is recorded as skipped: a batch tool's
    step (`batch-step`) says that its batch may run it again on every wafer in the tool; a
    step of a tool that takes one wafer has no batch to say it of (a trial read the batch's
    note on a flip-chip bonder's step)."""
    return RELEASED_IN_A_BATCH if row["kind"] == "batch-step" else RELEASED


#: Why a step completed in an earlier session is recorded as skipped when a resume meets it.
COMPLETED_BEFORE = "completed before"
#: Why a stage (a tool use, or a batch) completed in an earlier session is: the resume passes
#: it without waiting for its tool, holding it or loading anything on it (decision 0122).
PASSED_WITHOUT_ITS_TOOL = f"{COMPLETED_BEFORE}: passed without taking its tool"
#: What a step's record says of the step itself (the recorder's row, `wafer.py`).
RECORDED_FIELDS = (
    "wafer_id",
    "key",
    "name",
    "kind",
    "tool",
    "irreversible",
    "stage",
    "batch",
    "handling",
)
#: Wafer statuses of a wafer that is finished: a resume does not run it.
FINISHED = ("completed", "held", SCRAPPED)


def _renamed_key(key: str, renamed: Mapping[str, str]) -> str:
    """A checkpoint key (`name#occurrence`) with its name's new one (`renamed`)."""
    name, _, occurrence = key.rpartition("#")
    return f"{renamed[name]}#{occurrence}" if name in renamed else key


def _under_new_name(row: dict[str, Any], renamed: Mapping[str, str]) -> dict[str, Any]:
    """A step record as the script names its step now: its key, name and stage key (a stage
    is a step too) under their new names (`renamed`, old name -> new)."""
    if not renamed:
        return row
    stage = row["stage"]
    return {
        **row,
        "key": _renamed_key(row["key"], renamed),
        "name": renamed.get(row["name"], row["name"]),
        "stage": stage and _renamed_key(stage, renamed),
    }


@dataclass
class Plan:
    """The latest record of every (wafer, step key), and the wafers' outcomes so far."""

    steps: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    wafer_status: dict[str, str] = field(default_factory=dict)
    #: The (wafer, step key)s an operator released: done, even inside a replayed stage.
    released: set[tuple[str, str]] = field(default_factory=set)
    #: The records of each released (wafer, step key) the records show carried out: the
    #: step's record that held the wafer, and the skip a resume recorded of it on its release.
    released_records: dict[tuple[str, str], tuple[dict[str, Any], dict[str, Any]]] = field(
        default_factory=dict
    )
    #: The step records this resume's releases accept as done, as they were recorded: the
    #: resume records each as skipped when it starts (`Engine`), so the release stands in
    #: the records even if the wafer is held again before it reaches the step (which then
    #: records no second skip).
    released_now: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    #: The held wafers this resume runs again: released, reworked, or held for want of a tool.
    run_again: set[str] = field(default_factory=set)
    #: The released wafers whose held step its tool refused: reworked instead.
    refused_releases: set[str] = field(default_factory=set)
    #: The method's steps renamed since an earlier release (`Method.renamed_steps`, old name
    #: -> new): a step record by its old name is read as the step of its new name.
    renamed_steps: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_records(
        cls,
        steps: Iterable[dict[str, Any]],
        wafers: Iterable[dict[str, Any]],
        dispositions: Mapping[str, Decision] | None = None,
        holds: Mapping[str, Mapping[str, Any]] | None = None,
        renamed_steps: Mapping[str, str] | None = None,
    ) -> Plan:
        """The plan of a resume: `dispositions` the decisions it carries out, `holds` each
        held wafer's latest hold (its held event's data, `dispositions.latest_holds`),
        `renamed_steps` the method's (`Plan.renamed_steps`)."""
        plan = cls(
            wafer_status={w["wafer_id"]: w["status"] for w in wafers},
            renamed_steps=dict(renamed_steps or {}),
        )
        plan._read(steps)
        holds = holds or {}
        dispositions = dispositions or {}
        for wafer_id, hold in holds.items():
            unserved = hold.get("tool_unavailable") and wafer_id not in dispositions
            if unserved and plan.wafer_status.get(wafer_id) == "held":
                plan._carry_out(wafer_id, Decision.REWORK)
        for wafer_id, decision in dispositions.items():
            if decision is Decision.RELEASE and holds.get(wafer_id, {}).get("refused"):
                plan.refused_releases.add(wafer_id)
                decision = Decision.REWORK
            plan._carry_out(wafer_id, decision)
        return plan

    def _read(self, steps: Iterable[dict[str, Any]]) -> None:
        """Take in step records, in id order: the latest of each (wafer, key) wins, each
        under its step's name now (`renamed_steps`). A step that held its wafer and is not the
        wafer's latest record is an earlier hold the wafer was sent back through (reworked; a
        released one reads completed): forgotten, so it runs again, and a release of a later
        hold never accepts it as done. A step that failed in a stage a resume passed (the
        stage's latest record, its completion, older than the failure) has that stage read
        as cut off, released since or not: replayed on its tool, as a failed stage is."""
        # (wafer, key) -> where its latest record that is no skip was read, and that record:
        # a released step's says failed where the plan reads it completed (`self.steps`)
        read: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
        last: dict[str, int] = {}  # wafer -> where its latest record was read
        for position, recorded in enumerate(steps):
            row = _under_new_name(recorded, self.renamed_steps)
            key = (row["wafer_id"], row["key"])
            last[row["wafer_id"]] = position
            if row["status"] == "skipped":
                earlier = self.steps.get(key)
                if earlier is not None and earlier["status"] != "completed":
                    # skipped after a cut-off or failure: an operator released it, for good
                    self.steps[key] = {**earlier, "status": "completed"}
                    self.released.add(key)
                    self.released_records[key] = earlier, row
                continue  # otherwise a skip restates an earlier completion
            self.steps[key] = row
            read[key] = position, row
        for key, (position, latest) in read.items():
            row = self.steps[key]
            if row["kind"] in HOLDING_KINDS:
                if row["status"] == "failed":
                    # the tool's recovery took the wafer off as the stage failed: replayed by
                    # whichever session runs the wafer next, not only the one carrying out its
                    # disposition (which may stop before the wafer is back in the stage)
                    self.steps[key] = {**row, "status": "interrupted"}
                continue
            stage = self.steps.get((key[0], row["stage"]))
            if (
                latest["status"] == "failed"
                and stage is not None
                and stage["status"] == "completed"
                and stage["id"] < latest["id"]
            ):
                # failed in a stage a resume passed, done before without this step (the
                # script calls it there since, `Wafer.use`), and not entered since (its
                # completion is older than the failure): replayed on its tool, as a failed
                # stage is, by whichever session runs the wafer next, the step reworked or
                # released (which the plan reads completed, its record failed all the same)
                self.steps[key[0], row["stage"]] = {**stage, "status": "interrupted"}
            if position < last[key[0]] and holds_its_wafer(row):
                del self.steps[key]  # the wafer ran on after this hold: its rework stands

    def run_unserved_again(self, wafer_id: str, steps: Iterable[dict[str, Any]]) -> None:
        """A wafer held in this session for want of a tool, whose tool an operator has put
        back in service: it runs again as a resume would run it (see the module's rules),
        by `steps`, its step records of every session, in id order."""
        self._read(steps)
        self._carry_out(wafer_id, Decision.REWORK)

    def _carry_out(self, wafer_id: str, decision: Decision) -> None:
        """Let a released or reworked held wafer run again (a wafer held for want of a tool:
        as reworked, see the module's rules)."""
        self.wafer_status[wafer_id] = "running"
        self.run_again.add(wafer_id)
        for key, row in list(self.steps.items()):
            if key[0] != wafer_id:
                continue
            if row["kind"] not in HOLDING_KINDS and holds_its_wafer(row):
                if decision is Decision.RELEASE:
                    self.released_now[key] = row
                    self.steps[key] = {**row, "status": "completed"}
                    self.released.add(key)
                else:
                    del self.steps[key]

    def released_step_ids(self) -> frozenset[int]:
        """The records of the held steps an operator released (now or in an earlier session):
        a dry run's resume restores the wafer as such a step left it (decision 0108)."""
        return frozenset(self.steps[key]["id"] for key in self.released)

    def released_steps(self) -> list[dict[str, Any]]:
        """The steps this resume's releases accept as done (`released_now`), as the recorder
        records a step: what the resume records as skipped when it starts."""
        return [
            {
                **{name: row[name] for name in RECORDED_FIELDS},
                "claims": tuple(json.loads(row["claims"])),
            }
            for row in self.released_now.values()
        ]

    def status(self, wafer_id: str, key: str) -> str | None:
        row = self.steps.get((wafer_id, key))
        return None if row is None else row["status"]

    def hold_reason(self, wafer_id: str) -> str | None:
        """Why this wafer must be held before it runs again, or None; the step by its label, as
        `show` lists it (`step_labels`: 'plasma clean', not the records' key 'plasma clean#0')."""
        for (wafer, _), row in self.steps.items():
            if wafer != wafer_id or row["kind"] == "batch" or row["kind"] == "stage":
                continue
            if not holds_its_wafer(row):
                continue
            step = step_labels(list(self.steps.values()))[row["id"]]
            if row["status"] == "failed":
                return f"step {step!r} failed: {row['error']}"
            return (
                f"irreversible step {step!r} was {row['status']} when the run stopped; "
                "it may have partly happened and is never repeated: operator decision needed"
            )
        return None

    def wafers_to_run(self, wafer_ids: Iterable[str]) -> list[str]:
        """The wafers of `wafer_ids` (the lot, in order) the resume runs: each not finished in
        an earlier session (`FINISHED`; a released or reworked one runs again) and not held
        again before it runs (`hold_reason`)."""
        return [
            wafer_id
            for wafer_id in wafer_ids
            if self.wafer_status.get(wafer_id, "pending") not in FINISHED
            and self.hold_reason(wafer_id) is None
        ]

    def wafers_to_run_text(self, to_run: Iterable[str]) -> str:
        """What the resume runs (`to_run`, its `wafers_to_run`), said before it drives
        anything, so that no wafer runs unannounced (a trial's resume, taking a scrapped wafer
        off its tool, ran the lot's other wafers unsaid): `runs W01, W03 (not started yet)`, a
        wafer no step of which is recorded running from its first step; `runs no wafer`."""
        to_run = list(to_run)
        if not to_run:
            return "runs no wafer"
        return "runs " + ", ".join(
            wafer_id if self.started(wafer_id) else f"{wafer_id} (not started yet)"
            for wafer_id in to_run
        )

    def completed_steps(self, wafer_id: str) -> frozenset[str]:
        """The keys of the steps (not the stages that group them) `wafer_id` has completed in
        the sessions so far, as this plan reads them (a released one included): what the
        resume's live view counts as done before any step of its own."""
        return frozenset(key for key, _ in self._completed(wafer_id))

    def completed_step_names(self, wafer_id: str) -> frozenset[str]:
        """The names of the steps `completed_steps` gives the keys of: what a method's check
        of its tools asks whether a resume still runs (`ConnectedTools.runs_step`)."""
        return frozenset(row["name"] for _, row in self._completed(wafer_id))

    def _completed(self, wafer_id: str) -> Iterator[tuple[str, dict[str, Any]]]:
        return (
            (key, row)
            for (wafer, key), row in self.steps.items()
            if wafer == wafer_id
            and row["kind"] not in HOLDING_KINDS
            and row["status"] == "completed"
        )

    def started(self, wafer_id: str) -> bool:
        """Whether a step of `wafer_id` is recorded: else it runs from its first step."""
        return any(wafer == wafer_id for wafer, _ in self.steps)

    def cut_off_decisions(self, steps: Iterable[dict[str, Any]], session: int) -> dict[int, str]:
        """What session `session` decides for every step the sessions before it left running
        (their process stopped under them): step id -> the decision, recorded as the step's
        error when resume closes it as interrupted."""
        return {
            row["id"]: (
                "cut off when the controller stopped; resume session "
                f"{session}: {self._cut_off_decision(row)}"
            )
            for row in steps
            if row["status"] == "running"
        }

    def _cut_off_decision(self, row: Mapping[str, Any]) -> str:
        """What this resume does with step record `row`, left running by a session before it."""
        wafer_status = self.wafer_status.get(row["wafer_id"], "pending")
        reason = self.hold_reason(row["wafer_id"])
        if wafer_status in FINISHED:
            return f"nothing more: the wafer was already {wafer_status}"
        if reason is not None:
            return f"wafer held: {reason}"
        return "run again" if row["kind"] in ("step", "batch-step") else "replayed"

    def cut_off_text(self, wafer_id: str) -> str:
        """What this resume does with the steps of `wafer_id` the sessions before it left
        running (their process stopped under them), each by its label as `show` lists it, in
        `cut_off_decisions`' words: `cut off: batch plasma_cleaner replayed, vent run again`;
        "" when none was."""
        rows = list(self.steps.values())
        labels = step_labels(rows)
        cut_off = [
            f"{labels[row['id']]} {self._cut_off_decision(row)}"
            for row in rows
            if row["wafer_id"] == wafer_id and row["status"] == "running"
        ]
        return f"cut off: {', '.join(cut_off)}" if cut_off else ""

    def names_in_stage(self, wafer_id: str, stage_key: str) -> list[str]:
        """The name of every step this wafer has a record of inside stage `stage_key`, once
        per occurrence: a stage skipped whole (a completed batch) calls none of them, and the
        occurrences they took must still be counted for the keys of the steps after it."""
        return [
            row["name"]
            for (wafer, _), row in self.steps.items()
            if wafer == wafer_id and row["stage"] == stage_key
        ]

    def completed_stage_tool(self, wafer_id: str, stage_key: str) -> str | None:
        """The tool on which `wafer_id` completed stage `stage_key` (a tool use) in the
        sessions so far, as this plan reads them; None when it has not completed it: a
        resume passes a completed stage without taking the tool (`Wafer.use`, decision
        0122), and replays one cut off or failed."""
        row = self.steps.get((wafer_id, stage_key))
        return row["tool"] if row is not None and row["status"] == "completed" else None

    def cut_off_stage(self, wafer_id: str, stage_key: str) -> bool:
        return self.status(wafer_id, stage_key) in CUT_OFF

    def done_in_stage(self, wafer_id: str, stage_key: str) -> frozenset[str]:
        """Keys of the irreversible steps this wafer completed inside a cut-off stage."""
        return frozenset(
            key
            for (wafer, key), row in self.steps.items()
            if wafer == wafer_id
            and row["stage"] == stage_key
            and row["irreversible"]
            and row["status"] == "completed"
        )


def resume_plan(store: RunStore, run_id: str, renamed_steps: Mapping[str, str]) -> Plan:
    """The plan a resume of run `run_id` carries out, read from its records now: its wafers,
    steps, pending decisions and holds, under the method's `renamed_steps`."""
    return Plan.from_records(
        store.table("steps", run_id),
        store.wafers(run_id),
        pending_dispositions(store, run_id),
        latest_holds(store, run_id),
        renamed_steps,
    )


def dry_run_release_warning(
    store: RunStore, run_id: str, wafer_id: str, renamed_steps: Mapping[str, str]
) -> str | None:
    """What an operator who has released held wafer `wafer_id` (its full id) of run `run_id`
    should know, or None. In a dry run the resume goes on from the simulated wafer as the step
    the release accepts as done left it (the one that held the wafer, failed or cut off when
    the run stopped, as the resume carrying it out reads the records, with every disposition
    pending and the method's `renamed_steps`: `Plan.released_now`), from its snapshot taken as
    it ended (decision 0108). Nothing is said where that step changed the wafer (its dies
    bonded, spills and all: the next steps and the claim check judge what the tool made).
    Warned where the step left the wafer as it found it (its tool carried nothing out on it), or
    where no snapshot was taken as it ended (its process killed under it; records from before
    0108), so that the wafer goes on as its last completed step left it: either
    way the next steps meet a wafer the step never changed and its claim check fails where
    the step mattered. (Released all the same: a dry run is where a release's handling is
    rehearsed.) A release that accepts no step is warned of nothing: a wafer held where no
    step failed or was cut off (at a confirmation nobody answered, or for want of a tool in
    records from before such a hold said so, whose release the refusal of
    `record_disposition` did not catch) changed nothing, and only runs again."""
    if not store.run(run_id)["simulated"]:
        return None
    released = Plan.from_records(
        store.table("steps", run_id),
        store.wafers(run_id),
        pending_dispositions(store, run_id),
        latest_holds(store, run_id),
        renamed_steps,
    ).released_now
    held = [row["id"] for (wafer, _), row in released.items() if wafer == wafer_id]
    if not held:
        return None
    snapshots = [
        (s["step_id"], s["hash"]) for s in store.twin_snapshots(run_id) if s["wafer_id"] == wafer_id
    ]
    left = [digest for step_id, digest in snapshots if step_id in held]
    before = [digest for step_id, digest in snapshots if step_id < min(held)]
    if not left:
        why = (
            "no snapshot of its simulated wafer was taken as that step ended (its process was "
            "killed under it, or packline kept none then), so the wafer goes on as its last "
            "completed step left it"
        )
    elif before and left[-1] == before[-1]:
        why = "that step left its simulated wafer as it found it (its tool changed nothing on it)"
    else:
        return None
    rework = disposition_command(run_id, "rework", wafer=wafer_id, db_option=db_option(store.path))
    return (
        f"wafer {wafer_id} of run {run_id} is released past the step that held it, in a dry "
        f"run: {why}, so the next steps meet a wafer the step never changed and the claim "
        "check fails where it mattered; to carry the step out on it, rework it instead "
        f"({rework}, before the resume)"
    )


def holds_its_wafer(row: Mapping[str, Any]) -> bool:
    """Whether a step record holds its wafer: failed, or irreversible and cut off."""
    return row["status"] == "failed" or bool(row["irreversible"] and row["status"] in CUT_OFF)


def releases_carried_out(store: RunStore, run_id: str) -> dict[str, list[dict[str, Any]]]:
    """Wafer -> each step of it that a resume of run `run_id` accepted as done on an operator's
    release, in the order they were held, read by the plan's rules (`Plan.released_records`:
    a skip recorded after a failure or a cut-off of the step): the step by its label
    (`step_labels`), how it had ended (`failed`, `interrupted` or `running`: cut off), and who
    released it and why (`by`, `reason`: the wafer's latest release recorded before the
    resume recorded the step skipped; None for records that keep no such decision), why the
    wafer had been held (`held`, as the decision answered it, as a rework's), and the session
    that accepted it (`session`, as a rework's, `reworks_carried_out`). A wafer
    released past a failed step completes the method, and its record says `completed`; what
    the step was to make may not be there (a dicing a broken blade cut short leaves the dies
    joined), so `show` says it beside that outcome (`released_text`) and the claim check
    judges the wafer as the step left it."""
    steps = store.table("steps", run_id)
    labels = step_labels(steps)
    releases = [d for d in store.table("dispositions", run_id) if d["decision"] == Decision.RELEASE]
    by_wafer: dict[str, list[dict[str, Any]]] = {}
    records = Plan.from_records(steps, store.wafers(run_id)).released_records.values()
    for held, skipped in sorted(records, key=lambda pair: pair[0]["id"]):
        decided = [
            d
            for d in releases
            if d["wafer_id"] == held["wafer_id"] and d["wall"] <= skipped["started_wall"]
        ]
        by_wafer.setdefault(held["wafer_id"], []).append(
            {
                "step": labels[held["id"]],
                "ended": held["status"],
                "by": decided[-1]["by"] if decided else None,
                "reason": decided[-1]["reason"] if decided else None,
                "held": decided[-1]["held_reason"] if decided else None,
                "session": skipped["session"],
            }
        )
    return by_wafer


def released_text(release: Mapping[str, Any]) -> str:
    """How `show` says that a step was accepted as done on a release (`releases_carried_out`):
    `step 'dice' released by ana (looked ok): accepted as done though it failed`."""
    how = "failed" if release["ended"] == "failed" else "was cut off"
    who = "" if release["by"] is None else f" by {release['by']} ({release['reason']})"
    return f"step {release['step']!r} released{who}: accepted as done though it {how}"


def reworks_carried_out(store: RunStore, run_id: str) -> dict[str, list[dict[str, Any]]]:
    """Wafer -> each rework of it that a resume of run `run_id` carried out, in the order they
    were decided: the held step it sent the wafer back through by its label (`step`: the
    wafer's last step before the decision, where that held it, as the plan reads a hold;
    None for a wafer held at no step, for want of an operator), who decided it and why
    (`by`, `reason`), why the wafer had been held
    (`held`, as the decision answered it) and the session that sent it back through its held
    step (`session`: the first whose steps of the wafer began after the decision); not one a
    later decision replaced (`replaced_in_run`: a release is carried out, not the rework). A
    reworked wafer that went on to complete had read `completed` as a first pass does; only
    its timeline said the step ran twice."""
    steps = store.table("steps", run_id)
    labels = step_labels(steps)
    replaced = replaced_in_run(store, run_id)
    by_wafer: dict[str, list[dict[str, Any]]] = {}
    for decided in store.table("dispositions", run_id):
        if decided["decision"] != Decision.REWORK or decided["id"] in replaced:
            continue
        of_wafer = [step for step in steps if step["wafer_id"] == decided["wafer_id"]]
        later = [
            (step["started_wall"], step["session"])
            for step in of_wafer
            if step["started_wall"] > decided["wall"]
        ]
        # the wafer's last step before the decision, the one it was held at if it held it
        # (a wafer held with no step failed, for want of an operator, names none)
        before = [
            step
            for step in of_wafer
            if step["kind"] not in HOLDING_KINDS and step["started_wall"] <= decided["wall"]
        ]
        held = before[-1] if before and holds_its_wafer(before[-1]) else None
        if later:
            by_wafer.setdefault(decided["wafer_id"], []).append(
                {
                    "step": None if held is None else labels[held["id"]],
                    "by": decided["by"],
                    "reason": decided["reason"],
                    "held": decided["held_reason"],
                    "session": min(later)[1],
                }
            )
    return by_wafer


def reworked_text(rework: Mapping[str, Any]) -> str:
    """How `show` says that a resume carried out a rework (`reworks_carried_out`): `reworked
    by ana (residue left: again): sent back through step 'plasma clean' in session 3` (`its
    held step` where the records name none)."""
    step = "its held step" if rework["step"] is None else f"step {rework['step']!r}"
    return (
        f"reworked by {rework['by']} ({rework['reason']}): sent back through {step} in session "
        f"{rework['session']}"
    )


def decisions_note(
    releases: Sequence[Mapping[str, Any]], reworks: Sequence[Mapping[str, Any]]
) -> str:
    """What `show`, `wafer` and the report say beside a wafer's outcome of each step of it a
    resume accepted as done on a release (`releases`, its `releases_carried_out`) and of each
    rework of it a resume carried out (`reworks`, `reworks_carried_out`), which `completed`
    alone does not say: `, step 'dice' released by ana (...): accepted as done though it
    failed`, `, reworked by ana (...): sent back through step 'plasma clean' in session 3`."""
    return "".join(f", {text}" for text in decision_texts(releases, reworks))


def decision_texts(
    releases: Sequence[Mapping[str, Any]], reworks: Sequence[Mapping[str, Any]]
) -> list[str]:
    """Each release a resume accepted as done (`released_text`), then each rework it carried
    out (`reworked_text`): what `decisions_note` and the summary's reason column say."""
    return [*map(released_text, releases), *map(reworked_text, reworks)]
