"""Wafers a stopped run left on its tools, and whose wafers a tool's foreign workpieces are,
as the records of one run database tell them.

An abort stops every tool where it is (`ToolKeeper.shutdown`) and recovers none: a wafer whose
stage on a tool it cut off stays on the tool (the plasma chamber closed on its batch), and so
may a crash's. The run's own resume takes it off (its recovery unloads the run's own
workpieces: `ToolKeeper.own_workpieces`); meanwhile another run on the line finds it there as
a workpiece that run did not put there, a **foreign workpiece**, and is out of service for it
until it is cleared. So the stopped run's summary and `show` say which wafers it left in which
tools and the resume that takes them off (`left_report`, in their JSON too; `left_text`, in
words), and the other run's `tool-out-of-service` event names the run whose
wafers they are and that its resume takes them off (`owners_text`), rather than only "have
them taken off by whoever owns it".

A tool whose safe state the abort could not confirm (its ABORT unanswered: RF may still be on)
is said first, as its resume is what recovers it (`left_report`'s `safe_state_unconfirmed`,
from `clearances.unconfirmed_safe_states`), the wafers in it being left there as any the abort
cut off; then a tool that ignored the abort as it cut its step off and was found at rest as
the run ended (`abort_not_confirmed`, from `clearances.ignored_aborts`): its process may have
run on, to its end, on the wafers in it.

A wafer whose stage on a tool *failed* (a link lost in a step) is taken off by the recovery
that follows the failure; when that recovery failed too, and none has succeeded since, the
wafer **may be** on the tool: the records cannot tell whether it is (a link lost mid-step
leaves it there, a recovery that failed half way may have taken it off). So may a wafer whose
load onto the tool failed (its answer lost with the link): the tool may have taken it. A load
an abort or a crash cut off is not counted: the records cannot tell one cut off before its
command went out from one cut off after. The tool then waits
for its resume's recovery (`clearances.awaiting_recovery`), which keeps the run `held`
(decision 0109) and takes the wafer off; the readers say the wafer may be there
(`WafersLeft.may_be`), never that it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .clearances import failures_text, ignored_aborts, unconfirmed_safe_states
from .dispositions import hint_text, resume_command, resume_hint
from .liveness import is_alive
from .plan import CUT_OFF, resume_plan
from .records import RunStore, db_option
from .stage import Handling, on_the_tool, took_its_tool

#: Why a wafer only may be on a tool (`WafersLeft.may_be`), as the messages say it.
MAY_BE = (
    "a wafer that may be in a tool was in it when a step there failed, or its load there "
    "failed, and no recovery of the tool has succeeded since: the records cannot tell whether "
    "it is in it"
)

#: How a dry run's resume holds each wafer its in-process simulated line held as the run
#: stopped (`RunStore.latest_twins`, decision 0108): a wafer released at the step that held it
#: goes on as that step left it, unless no snapshot was kept as it ended (its process killed
#: under it, records from before 0108); any other as its last completed step left it.
AS_RESTORED = (
    "as the latest step it counts as done left it, on no tool: its last completed step, or the "
    "step that held it once released, if its snapshot was kept as it ended"
)

#: The other way off a tool for what a stopped run left on it, and what to mind first.
BY_HAND = (
    "unload {them} by hand (a run cut off in a step may have left its tool working: "
    "`packline station check` says; stop it first)"
)


#: The status of a stage that failed: the recovery after it takes its wafer off, or may not.
FAILED = "failed"


@dataclass(frozen=True)
class WafersLeft:
    """The wafers a stopped run left on its tools, as its records tell them (`wafers_left`):
    `tools`, tool name -> every wafer on it, in lot order (`left_on_tools`); `may_be`, tool
    name -> those of them that only may be there, in lot order: their stage on it failed and
    no recovery of it has succeeded since."""

    tools: dict[str, list[str]]
    may_be: dict[str, list[str]]


def wafers_left(store: RunStore, run_id: str) -> WafersLeft:
    """The wafers run `run_id`, stopped, left on its tools. A wafer is on a tool when its
    latest stage (a tool use or a batch) there, a resume's pass through one it completed before
    aside (`took_its_tool`), stopped with more of its steps declared loads
    than unloads completed in it (`on_the_tool`, by each step's recorded `handling`, never its
    name), and no recovery of the tool (`tool-recovered`) came after the stage stopped
    (`_recovered_since`): a terminate's, which brings the tool to its safe, empty state in the
    same session; the one that follows a failed stage (`ToolKeeper.recover_after`); or a
    resume's, which takes the run's own wafers off. A stage cut off (`CUT_OFF`: an abort, a
    crash) left the wafer there; one that failed (`FAILED`: a link lost in a step), whose
    recovery failed too, may have (`WafersLeft.may_be`): nothing says whether the failure or
    the recovery that failed took it out. A stage stopped in a load that failed, the wafer not
    on the tool by the steps completed, may have left it there too (`WafersLeft.may_be`).
    Nothing for a run a process drives or that completed."""
    run = store.run(run_id)
    if is_alive(run) or run["status"] == "completed":
        return WafersLeft({}, {})
    steps = store.table("steps", run_id)  # in id order: a later stage wins
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for row in steps:
        if took_its_tool(row) and row["tool"] is not None:
            latest[(row["tool"], row["wafer_id"])] = row
    recoveries: dict[str, list[dict[str, Any]]] = {}  # tool -> its recoveries' events
    for event in store.events(run_id):
        if event["kind"] == "tool-recovered" and event["tool"] is not None:
            recoveries.setdefault(event["tool"], []).append(event)
    left: dict[str, list[str]] = {}
    may_be: dict[str, list[str]] = {}
    for (tool, wafer_id), stage in latest.items():
        stopped = stage["status"] in CUT_OFF or stage["status"] == FAILED
        if not stopped or _recovered_since(stage, recoveries.get(tool, [])):
            continue
        passed = [
            step
            for step in steps
            if step["stage"] == stage["key"]
            and step["id"] > stage["id"]  # this pass's, not an earlier pass's of the session
            and step["wafer_id"] == wafer_id
            and step["session"] == stage["session"]
        ]
        if on_the_tool(step["handling"] for step in passed if step["status"] == "completed"):
            left.setdefault(tool, []).append(wafer_id)
            if stage["status"] == FAILED:
                may_be.setdefault(tool, []).append(wafer_id)
        elif any(step["handling"] == Handling.LOAD and step["status"] == FAILED for step in passed):
            left.setdefault(tool, []).append(wafer_id)
            may_be.setdefault(tool, []).append(wafer_id)
    order = {w["wafer_id"]: w["position"] for w in store.wafers(run_id)}

    def in_lot_order(wafers: dict[str, list[str]]) -> dict[str, list[str]]:
        return {tool: sorted(ids, key=lambda w: order.get(w, 0)) for tool, ids in wafers.items()}

    return WafersLeft(in_lot_order(left), in_lot_order(may_be))


def left_on_tools(store: RunStore, run_id: str) -> dict[str, list[str]]:
    """The wafers run `run_id`, stopped, left on its tools, those that may be there too
    (`wafers_left`): tool name -> wafer ids, in lot order. Its resume's recovery takes each
    of them off (`ToolKeeper.own_workpieces`: its stage there did not complete)."""
    return wafers_left(store, run_id).tools


def _recovered_since(stage: dict[str, Any], recoveries: list[dict[str, Any]]) -> bool:
    """Whether one of a tool's `recoveries` (its `tool-recovered` events) came after `stage`
    stopped there: in a later session (a resume's), or in its own session once the stage was
    closed as interrupted (a terminate's) or failed (the recovery after it, which comes once
    the stage's record is closed); by the wall clock, which orders the records of a dry run
    whose run clock stands still between them. A stage a crash left running was closed by
    nothing of its session."""
    closed = stage["status"] in ("interrupted", FAILED)
    closed_wall = stage["stopped_wall"] if closed else None
    return any(
        event["session"] > stage["session"]
        or (
            event["session"] == stage["session"]
            and closed_wall is not None
            and event["wall"] >= closed_wall
        )
        for event in recoveries
    )


def left_report(store: RunStore, run_id: str) -> dict[str, Any] | None:
    """What stopped run `run_id` left on its tools, as its summary and `show` give it in JSON
    (None when nothing is left and no tool's safe state is in doubt): `tools`, tool name ->
    the wafer ids left in it (`left_on_tools`), `may_be`, tool name -> those of them that only
    may be in it (`WafersLeft.may_be`: a step there failed, and so did its recovery),
    `safe_state_unconfirmed`, tool name -> the failures of the abort's safe-state commands to
    a tool it left in a state nobody confirmed safe and no recovery has brought back since
    (`unconfirmed_safe_states`),
    `abort_not_confirmed`, tool name -> the failures of the safe-state commands of the last
    session's abort to a tool that ignored it as it cut its step off, found at rest as the
    session ended (`ignored_aborts`), `resume`, the command that takes them off and brings
    those tools to their safe state (its resume, whose recovery unloads the run's own wafers)
    and `resume_note`, why it carries `--confirmed-by` where it does (`resume_hint`), and
    `dry_run`: the tools were the in-process simulated line's, which ended with the run
    (nobody unloads them by hand, no other run finds them)."""
    run = store.run(run_id)
    left = wafers_left(store, run_id)
    unconfirmed = {} if is_alive(run) else unconfirmed_safe_states(store, run_id)
    ignored = {} if is_alive(run) else ignored_aborts(store, run_id)
    if not left.tools and not unconfirmed and not ignored:
        return None
    command, note = resume_hint(store, run_id, options=db_option(store.path))
    return {
        "tools": left.tools,
        "may_be": left.may_be,
        "safe_state_unconfirmed": {tool: failures_text(row) for tool, row in unconfirmed.items()},
        "abort_not_confirmed": {tool: "; ".join(failures) for tool, failures in ignored.items()},
        "resume": command,
        "resume_note": note,
        "dry_run": bool(run["simulated"]),
    }


def left_text(left: Mapping[str, Any] | None) -> str:
    """What a stopped run left on its tools (`left_report`) and what takes it off, for its
    summary and `show` ('' when nothing is left): first each tool whose safe state its abort
    could not confirm (it may be live: nobody should open it before its recovery); then the
    wafers, and their resume, whose recovery unloads the run's own wafers, or an operator's
    hands, once the tool is at rest (a run killed in a step may have left it working: decision
    0095; a run that found them meanwhile is then cleared); those that only may be on a tool
    (`may_be`) said so, and why; a dry run's resume takes them up again, each as it restores it
    (`AS_RESTORED`)."""
    if left is None:
        return ""
    resume = hint_text(left["resume"], left["resume_note"])
    said = [
        f"the safe state of {tool} was not confirmed when the run was aborted ({why}): treat "
        f"it as live until {resume} recovers it (its recovery commands the safe state again)"
        for tool, why in left["safe_state_unconfirmed"].items()
    ]
    said += [
        f"{tool} ignored the abort's safe-state command as the abort cut its step off ({why}); "
        "the abort's retry as the run ended found it at rest: its process may have run on, to "
        "its end, on the wafers in it"
        for tool, why in left["abort_not_confirmed"].items()
    ]
    where = _wafers_where(left)
    why = f" ({MAY_BE})" if left["may_be"] else ""
    if where and left["dry_run"]:
        said.append(
            f"left on the simulated tools when the run stopped: {where}{why}; {resume} takes "
            f"them up again (the simulated line it starts holds each wafer {AS_RESTORED})"
        )
    elif where:
        said.append(
            f"left on the tools when the run stopped: {where}{why}; "
            f"{resume} takes them off (its recovery unloads the run's own wafers), or "
            f"{BY_HAND.format(them='them')}; until then another run on the line finds them "
            "there, out of service for them, and is cleared once they are off"
        )
    return "\n".join(said)


def scrapped_on_a_tool(
    store: RunStore, run_id: str, wafer_id: str, renamed_steps: Mapping[str, str]
) -> dict[str, Any] | None:
    """Where wafer `wafer_id`, just scrapped, still is, and what takes it off, for the
    operator who scrapped it (a trial's scrap had said nothing of the wafer on its tool): None
    when the run left it on no tool (or on a dry run's simulated line, which ended with it).
    Else `tool`; `may_be`, whether it only may be on it (`WafersLeft.may_be`: its step there
    failed, and so did the recovery after it); `resume`, the command whose recovery takes it
    off (`resume_hint`), and `resume_note`, why it carries `--confirmed-by` where it does;
    `resume_runs`, the wafers that resume then runs (`Plan.wafers_to_run`), and `text`, all of
    it said, naming those of them not started yet, so that the resume that empties the tool
    runs nothing unannounced."""
    if store.run(run_id)["simulated"]:
        return None
    left = wafers_left(store, run_id)
    tool = next((t for t, wafers in left.tools.items() if wafer_id in wafers), None)
    if tool is None:
        return None
    may_be = wafer_id in left.may_be.get(tool, [])
    command, note = resume_hint(store, run_id, options=db_option(store.path))
    plan = resume_plan(store, run_id, renamed_steps)
    to_run = plan.wafers_to_run(wafer["wafer_id"] for wafer in store.wafers(run_id))
    where = (
        f"it may still be on {tool} (it was on it when a step there failed, or its load there "
        "failed, and no recovery of the tool has succeeded since: the records cannot tell "
        "whether it is)"
        if may_be
        else f"it is still on {tool}"
    )
    text = (
        f"{where}: {hint_text(command, note)} takes it off (its recovery unloads "
        f"the run's own wafers) and then {plan.wafers_to_run_text(to_run)}; or "
        f"{BY_HAND.format(them='it')}"
    )
    return {
        "tool": tool,
        "may_be": may_be,
        "resume": command,
        "resume_note": note,
        "resume_runs": to_run,
        "text": text,
    }


def left_brief(left: Mapping[str, Any] | None) -> str:
    """What a stopped run left on its tools (`left_report`) in a few words, for a list of runs
    (`runs`, the dashboard's), whose `show` says the rest: the wafers and where
    (`W02 in dicing_saw`, `W01 may be in plasma_cleaner`), then each tool whose safe state its
    abort could not confirm (`plasma_cleaner: safe state unconfirmed`); '' when nothing is
    left."""
    if left is None:
        return ""
    unconfirmed = [f"{tool}: safe state unconfirmed" for tool in left["safe_state_unconfirmed"]]
    return "; ".join(filter(None, [_wafers_where(left), *unconfirmed]))


def _wafers_where(left: Mapping[str, Any]) -> str:
    """The wafers left on each tool (`left_report`'s `tools`), those that only may be there
    said so (its `may_be`): `W01, W02 in plasma_cleaner; W03 in oven; W04 may be in oven`."""
    said = []
    for tool, wafers in left["tools"].items():
        may_be = left["may_be"].get(tool, [])
        there = [wafer for wafer in wafers if wafer not in may_be]
        if there:
            said.append(f"{', '.join(there)} in {tool}")
        if may_be:
            said.append(f"{', '.join(may_be)} may be in {tool}")
    return "; ".join(said)


def owners(store: RunStore, run_id: str, workpieces: tuple[str, ...]) -> dict[str, str]:
    """The run of the same database whose lot has each of `workpieces` (found on a tool of run
    `run_id`, which did not put them there), the latest such run other than `run_id`:
    workpiece -> run id; a workpiece of no recorded run (an engineering wafer) is left out. A
    station lot's wafer ids begin with their run id's tail (`132922-6813-W01` of run
    `20261203-132922-6813`), so the whole id names its run."""
    found = {}
    for workpiece in workpieces:
        runs = [other for other in store.runs_of_wafer(workpiece) if other != run_id]
        if runs:
            found[workpiece] = runs[-1]
    return found


def owners_text(store: RunStore, owned: Mapping[str, str]) -> str:
    """Whose wafers the foreign workpieces `owned` (workpiece -> its run, `owners`) are, and
    what takes them off: each run's resume, whose recovery
    unloads its own wafers, named as that run is resumed (`resume_command`: with
    `--confirmed-by` where its confirmations were answered in advance); '' when no recorded run
    has any of them."""
    by_run: dict[str, list[str]] = {}
    for workpiece, owner in owned.items():
        by_run.setdefault(owner, []).append(workpiece)
    db = db_option(store.path)
    return "; ".join(
        f"{', '.join(wafers)} of run {owner}, whose resume takes them off "
        f"({resume_command(store, owner, db_option=db)}; its recovery unloads its own wafers)"
        for owner, wafers in by_run.items()
    )
