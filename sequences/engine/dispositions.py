"""Dispositions: what a named person decides for a held wafer, and how a resume carries it out.

A wafer is held when a step failed under it or an irreversible step was cut off (it may have
half happened), or when no tool was given to it (nothing happened to it there: a resume runs
it again, with no decision, `plan.py`). The decision is the operator's, after looking at the
wafer:

* **release**: the held step is accepted as done; on resume the wafer goes on from the step
  after it (an irreversible step is never repeated). Refused for a step its tool refused (the
  held event's `refused`): it did not happen, and skipping it would have the next steps meet
  a wafer without it (an inspection of an empty tool); rework it instead. Refused too for a
  step that prepared its tool with nothing of the wafer on it (`preparation`: a blade dressed
  before the mount): a release vouches for work on the wafer, and skipping the preparation
  would have the next steps meet a tool not ready for it. It answers the
  wafer's latest hold only: a step reworked at an earlier hold is still done again
  (`plan.py`);
* **rework**: the held step is done again on resume (the wafer goes back through it on
  purpose);
* **scrap**: the wafer is finished as scrapped now; no resume runs it.

A wafer held only because no tool was in service needs no decision: its release or rework is
refused, naming the clear that brings the tool back (a scrap is taken).

A decision is recorded with who made it, why, and the hold it answers; it is pending until a
resume starts the wafer again (a decision newer than the wafer's last hold). A run whose only
unfinished wafers are held becomes resumable again once one of them is released or reworked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from itertools import pairwise
from typing import Any

from .clearances import awaiting_recovery, out_of_service_text
from .confirmations import IN_ADVANCE
from .errors import BadInput
from .liveness import driver_text, is_alive
from .records import RunStore, db_option


class Decision(StrEnum):
    RELEASE = "release"
    REWORK = "rework"
    SCRAP = "scrap"


#: The wafer status a scrap leaves.
SCRAPPED = "scrapped"
#: The wafer statuses that leave a wafer nothing more to do (a held wafer waits for a
#: disposition; a scrapped one needs none): a run whose wafers all have one is completed once
#: no tool waits for its recovery (`completes_the_run`).
DONE = frozenset({"completed", SCRAPPED})


def completes_the_run(store: RunStore, run_id: str, wafer_statuses: Iterable[str]) -> bool:
    """Whether run `run_id`, stopping with its wafers in `wafer_statuses`, is completed: each
    wafer completed or scrapped (`DONE`), and none of its tools waiting for the run's own
    recovery (`awaiting_recovery`: one whose recovery failed, or whose safe state an abort left
    unconfirmed), which may hold its wafers, scrapped ones too, until that recovery takes them
    off. Such a run stays held, its summary, `show` and `runs` saying what it left on the tool
    and that its resume takes it off; the resume whose recovery does completes it (decision
    0109: a scrap of the last held wafer had read the run completed, and what was left on the
    tool was said no more)."""
    return set(wafer_statuses) <= DONE and not awaiting_recovery(store, run_id)


def record_disposition(
    store: RunStore, run_ref: str, wafer_id: str, decision: Decision, by: str, reason: str
) -> dict[str, Any]:
    """Record `by`'s decision for held wafer `wafer_id` of run `run_ref` (a whole id or a
    unique end of one, `RunDatabase.resolve_wafer`); a scrap finishes the wafer now. Refused,
    changing nothing, for a run being driven, a wafer that is not held, or the same decision
    as the one already pending for the wafer's hold (a double entry: the first stands, its
    maker named). A different decision replaces the pending one: the row returned then says
    which (`replaces`, `decision_text` of it), as the resume does too."""
    run_id = store.resolve_run(run_ref)
    run = store.run(run_id)
    if is_alive(run):
        raise BadInput(
            f"run {run_id} is being driven by {driver_text(run)}; decide for its held wafers "
            "once it has stopped, then resume it"
        )
    wafers = {w["wafer_id"]: w for w in store.wafers(run_id)}
    wafer = wafers[store.resolve_wafer(wafer_id, run_id)]
    wafer_id = wafer["wafer_id"]
    if wafer["status"] != "held":
        raise BadInput(
            f"wafer {wafer_id} of run {run_id} is {wafer['status']}, not held: only a held "
            "wafer gets a disposition"
        )
    if not reason.strip():
        raise BadInput("--reason: say why (what was seen on the wafer), not blank")
    hold = latest_holds(store, run_id).get(wafer_id, {})
    if decision is not Decision.SCRAP and hold.get("tool_unavailable"):
        # the tool it waits for, where its hold names one (recorded since the hold says which)
        waited = hold.get("tools") or []
        tool = waited[0] if len(waited) == 1 else "TOOL"
        raise BadInput(
            f"wafer {wafer_id} of run {run_id} is held only because no tool was in service "
            f"({wafer['reason']}): nothing happened to it there, so there is nothing to "
            f"{decision.value}; clear the tool once its cause is fixed (packline clear-tool "
            f"{run_id} {tool} --by {by}{db_option(store.path)}) and resume the run, which runs "
            "it again; or scrap it"
        )
    unfinished = (
        "because its tool refused a step, which so did not happen"
        if hold.get("refused")
        else "at a step that prepared its tool, nothing of the wafer on it, and did not finish"
        if hold.get("preparation")
        else None
    )
    if decision is Decision.RELEASE and unfinished:
        rework = disposition_command(
            run_id, "rework", wafer=wafer_id, by=by, db_option=db_option(store.path)
        )
        raise BadInput(
            f"wafer {wafer_id} of run {run_id} is held {unfinished} ({wafer['reason']}); a "
            f"release would go on as if it had: rework it to do the step again ({rework}), or "
            "scrap it"
        )
    earlier = pending_decisions(store, run_id).get(wafer_id)
    if earlier is not None and earlier["decision"] == decision.value:
        raise BadInput(
            f"wafer {wafer_id} of run {run_id} is already decided: {decision.value} by "
            f"{earlier['by']} ({earlier['reason']}), carried out by the next resume; nothing "
            "recorded: the same decision twice for one hold is a double entry (a different "
            "decision replaces it)"
        )
    row = {
        "run_id": run_id,
        "wafer_id": wafer_id,
        "decision": decision.value,
        "by": by,
        "reason": reason.strip(),
        "held_reason": wafer["reason"] or "",
    }
    with store.transaction():  # the decision, its event and a scrap's outcome, or nothing
        # its wall is its event's, never before what was recorded of the stopped run
        # (`add_stopped_run_event`): a later decision reads later by time as by id
        event = store.add_stopped_run_event(
            run, "disposition", decision_text(row), wafer_id=wafer_id
        )
        row["wall"] = event["wall"]
        store.add_rows("dispositions", [row])
        if decision is Decision.SCRAP:
            reason = f"scrapped by {by}: {row['reason']}"
            store.update_wafer(run_id, wafer_id, status=SCRAPPED, reason=reason)
            statuses = [w["status"] for w in store.wafers(run_id)]
            if run["status"] == "held" and completes_the_run(store, run_id, statuses):
                store.update_run(run_id, status="completed")
    if earlier is not None:  # said when it is recorded, not only by the resume
        return {**row, "replaces": decision_text(earlier)}
    return row


def latest_holds(store: RunStore, run_id: str) -> dict[str, dict[str, Any]]:
    """Each wafer of run `run_id` that was ever held -> the data of its latest `held` event
    (`refused`: its step was one its tool refused; `preparation`: its step prepared its tool,
    nothing of the wafer on it; `tool_unavailable`: no tool was given to
    it; `no_operator`: a confirmation nobody answered), which a resume's plan reads
    (`plan.Plan.from_records`)."""
    return {
        event["wafer_id"]: event["data"]
        for event in store.events(run_id)  # in the order they happened: a later hold wins
        if event["kind"] == "held"
    }


def disposition_command(
    run_id: str,
    decisions: str = "release|rework|scrap",
    *,
    wafer: str = "WAFER",
    by: str = "NAME",
    db_option: str = "",
) -> str:
    """The `packline disposition` command a hint names for a held wafer of run `run_id` (its
    id when the hint is about one), with the `decisions` that fit and the operator's name when
    known, quoted as a command; `db_option` (`db_option` of the records' path, in a printed
    hint) ends it."""
    return f"`packline disposition {run_id} {wafer} {decisions} --by {by} --reason TEXT{db_option}`"


def resume_command(
    store: RunStore,
    run_id: str,
    confirmed_by: str | None = None,
    *,
    station_option: str = "",
    db_option: str = "",
) -> str:
    """The command that resumes run `run_id`, as a hint names it once its held wafers are
    decided: the command quoted, and why it carries `--confirmed-by` where it does
    (`resume_hint`)."""
    return hint_text(*resume_hint(store, run_id, confirmed_by, f"{station_option}{db_option}"))


def hint_text(command: str, why: str | None) -> str:
    """A command a hint names, quoted, and why it is as it is where that is said
    (`resume_hint`'s `--confirmed-by`): '`packline resume R` (...)'."""
    return f"`{command}`" if why is None else f"`{command}` ({why})"


def resume_hint(
    store: RunStore, run_id: str, confirmed_by: str | None = None, options: str = ""
) -> tuple[str, str | None]:
    """The command that resumes run `run_id` once its held wafers are decided, and why it
    carries `--confirmed-by NAME` (None when it does not): with it again when the session
    (`confirmed_by`), or else the run's latest session (its `run-started` event's
    `confirmed_by`) or latest confirmation, was answered in advance in that name (it is not
    carried over: whoever resumes answers for that session); else when a held wafer's latest
    hold is a confirmation no operator was there to answer (`no_operator`). A resume without
    it, from a script, holds the wafers again at their first confirmation (and is refused
    where its steps ask one: nobody can answer): an operator who followed a bare `packline
    resume` went round. `options` end the command (` --station FILE`, then ` --db PATH`,
    or nothing for the default database)."""
    if confirmed_by is None:
        confirmed_by = _answered_in_advance(store, run_id)
    if confirmed_by is not None:
        return (
            f"packline resume {run_id} --confirmed-by {confirmed_by}{options}",
            f"its confirmations were answered in advance by {confirmed_by}; a resume answers "
            "its own",
        )
    holds = latest_holds(store, run_id)
    unanswered = [
        wafer["wafer_id"]
        for wafer in store.wafers(run_id)
        if wafer["status"] == "held" and holds.get(wafer["wafer_id"], {}).get("no_operator")
    ]
    if not unanswered:
        return f"packline resume {run_id}{options}", None
    return (
        f"packline resume {run_id} --confirmed-by NAME{options}",
        f"{', '.join(unanswered)} held at an operator confirmation no operator answered: a "
        "resume without --confirmed-by, and without a terminal, holds them there again",
    )


def _answered_in_advance(store: RunStore, run_id: str) -> str | None:
    """Who answered run `run_id`'s confirmations in advance (`--confirmed-by`): as its latest
    session started (recorded since this release), else as its latest confirmation was
    answered; None when nobody did."""
    for event in reversed(store.events(run_id)):
        if event["kind"] == "run-started":
            if (named := event["data"].get("confirmed_by")) is not None:
                return str(named)
            break
    answered = [str(row["by"]) for row in store.table("confirmations", run_id)]
    if answered and answered[-1].endswith(IN_ADVANCE):
        return answered[-1].removesuffix(IN_ADVANCE)
    return None


def after_a_decision(
    store: RunStore, run_id: str, decision: Decision, *, resume_named: bool = False
) -> str:
    """What comes next for run `run_id` once an operator recorded `decision` for a held wafer
    of it, for that operator: that the run is completed where nothing of it is left to run,
    or that its resume completes it once it recovers the tools that wait for it
    (`completes_the_run`); else the held wafers still to decide (the wafer by its id where
    one is), the tools to clear and the resume that carries out the decision and runs the
    rest (`resume_command`). A scrap had said itself alone, though it may have been the last
    decision the run waited for, or completed it; a release or rework had named the resume
    alone, which a trial ran before deciding the lot's other held wafer: it ran the one
    decided, and the other needed a chamber cycle of its own. `resume_named`: the caller
    names the resume already (a scrapped wafer's tool, which the resume's recovery empties),
    so only what comes before it is said ('' where nothing does)."""
    if store.run(run_id)["status"] == "completed":
        return f"run {run_id} is completed: no wafer of it is left to run"
    db = db_option(store.path)
    resume = resume_command(store, run_id, db_option=db)
    if {wafer["status"] for wafer in store.wafers(run_id)} <= DONE:  # `completes_the_run`
        recovering = ", ".join(awaiting_recovery(store, run_id))
        if not recovering:  # an aborted or terminated run: its status stays
            return f"no wafer of run {run_id} is left to run"
        return (
            f"no wafer of run {run_id} is left to run; it is completed by {resume} once its "
            f"recovery of {recovering} succeeds"
        )
    parts = []
    if undecided := undecided_wafers(store, run_id):
        parts.append(
            f"{', '.join(undecided)} still held: {decide_text(run_id, undecided, db_option=db)}"
        )
    if tools := out_of_service_text(store, run_id):
        parts.append(tools)
    if resume_named:
        return "; ".join(parts)
    if decision is Decision.SCRAP:  # nothing of the wafer is left to carry out
        last = f"then {resume}" if parts else f"the rest is run by {resume}"
    else:
        last = f"then carried out by {resume}" if parts else f"carried out by {resume}"
    return "; ".join([*parts, last])


def decide_text(run_id: str, wafers: Sequence[str], why: str = "", *, db_option: str = "") -> str:
    """What an operator is told to do of held `wafers` of run `run_id`: decide each, or it
    (one wafer: the command names it), with the `disposition_command`; `why` (where to read
    why they are held) between. `db_option` ends the command."""
    wafer = wafers[0] if len(wafers) == 1 else "WAFER"
    command = disposition_command(run_id, wafer=wafer, db_option=db_option)
    return f"decide {'it' if len(wafers) == 1 else 'each'}{why} with {command}"


def replaced_decisions(decisions: Iterable[Mapping[str, Any]]) -> dict[int, Mapping[str, Any]]:
    """Decision id -> the decision that replaced it: the same wafer's next one, made while
    the run stood stopped after the same session (a resume carries out the decision that
    stands as it starts, `pending_decisions`). `decisions` are a run's `disposition` events
    of decisions made, or its `dispositions` rows with their events' sessions
    (`replaced_in_run`), each with its `id`, `wafer_id` and `session` (None: not known, and
    replacing nothing). Told by session, not by time: a decision's time is never before the
    run's last record, a resume's start is the clock's. A replaced decision had read as
    made, beside the one carried out: a wafer released, then reworked, read as both."""
    by_wafer: dict[str, list[Mapping[str, Any]]] = {}
    for decision in sorted(decisions, key=lambda decision: int(decision["id"])):
        by_wafer.setdefault(decision["wafer_id"], []).append(decision)
    return {
        int(earlier["id"]): later
        for made in by_wafer.values()
        for earlier, later in pairwise(made)
        if earlier["session"] is not None and earlier["session"] == later["session"]
    }


def decisions_made(events: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """A run's `disposition` events of decisions made (not a resume's carrying one out)."""
    return [e for e in events if e["kind"] == "disposition" and "carried_out" not in e["data"]]


def replaced_in_run(store: RunStore, run_id: str) -> dict[int, Mapping[str, Any]]:
    """`replaced_decisions` of run `run_id`'s `dispositions` rows, each in the session of its
    event (recorded with it, at its time)."""
    session_of = {
        (event["wafer_id"], event["wall"]): event["session"]
        for event in decisions_made(store.events(run_id))
    }
    return replaced_decisions(
        {**row, "session": session_of.get((row["wafer_id"], row["wall"]))}
        for row in store.table("dispositions", run_id)
    )


def undecided_wafers(store: RunStore, run_id: str) -> list[str]:
    """The held wafers of run `run_id` that wait for a decision: none recorded since their
    hold (`pending_dispositions`), and not held only for want of a tool (which runs again
    without one)."""
    holds = latest_holds(store, run_id)
    pending = pending_dispositions(store, run_id)
    return [
        wafer["wafer_id"]
        for wafer in store.wafers(run_id)
        if wafer["status"] == "held"
        and wafer["wafer_id"] not in pending
        and not holds.get(wafer["wafer_id"], {}).get("tool_unavailable")
    ]


def pending_dispositions(store: RunStore, run_id: str) -> dict[str, Decision]:
    """Held wafer -> the release or rework decided since its last hold, for the next resume."""
    return {
        wafer_id: Decision(row["decision"])
        for wafer_id, row in pending_decisions(store, run_id).items()
    }


def pending_decisions(store: RunStore, run_id: str) -> dict[str, dict[str, Any]]:
    """Held wafer -> the `dispositions` row of the latest decision made since its last hold
    (who made it, when and why), which the next resume carries out."""
    held = {w["wafer_id"]: w for w in store.wafers(run_id) if w["status"] == "held"}
    pending: dict[str, dict[str, Any]] = {}
    for row in store.table("dispositions", run_id):  # in id order: a later decision wins
        wafer = held.get(row["wafer_id"])
        if wafer is not None and row["wall"] >= (wafer["stopped_wall"] or 0.0):
            pending[row["wafer_id"]] = row
    return pending


def decision_text(row: Mapping[str, Any]) -> str:
    """A recorded decision (a `dispositions` row) as the records tell it: `release by ana:
    looks clean`."""
    return f"{row['decision']} by {row['by']}: {row['reason']}"
