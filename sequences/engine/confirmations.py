"""An operator confirmation's answer: how the records keep who gave it, and how it reads.

Each confirmation a step asks (`StepRecorder.confirm`) is recorded per wafer with `confirmed`
(1 yes, 0 no) and `by`, which says who answered and how, in one of these forms:

* `auto (dry run)`: a dry run answers every confirmation yes itself (`DRY_RUN`);
* `NAME (at the terminal)`: the run's operator answered at its terminal (`AT_THE_TERMINAL`);
* `NAME (in advance, --confirmed-by)`: `--confirmed-by NAME` answered it yes before it was
  asked (`IN_ADVANCE`; the hints read the name back from it to name the resume);
* `no operator`: nobody was there to answer (no terminal, no `--confirmed-by`: `NO_OPERATOR`);
* `no answer`: asked at the terminal, and not answered in time (`NO_ANSWER`).

`answer_text` reads a record in words, for every output a person reads (`show`'s and
`wafer`'s timelines, the report's table, the exported tables' `answer`): the recorded `1` and
the form's brackets had read as codes. A confirmation the run stopped at, unanswered, has no
answer to record: its event says so (`CONFIRMATION_UNANSWERED`), in `unanswered_text`'s
words. `confirmations_asked` reads both into one list, every confirmation asked with its
outcome, which every reader takes (`show`, `wafer`, their JSON, the report, the export): an
auditor's question is what was asked and what became of it, answered or not.
`confirmation_waits` pairs each question put to an operator with its end: the wait for the
answer, which tool time counts as standby of the tools the wafer holds (SEMI E10: no operator).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .errors import NO_OPERATOR

#: How a dry run's own answer is recorded (the confirmations table's `by`).
DRY_RUN = "auto (dry run)"
#: How an answer typed at the run's terminal is recorded after the operator's name.
AT_THE_TERMINAL = " (at the terminal)"
#: How a confirmation answered in advance (`--confirmed-by NAME`) is recorded after the name
#: (the confirmations table's `by`): the hints read the name back from it.
IN_ADVANCE = " (in advance, --confirmed-by)"
#: How a confirmation asked at the terminal and not answered in time is recorded.
NO_ANSWER = "no answer"
#: The kind of event a wafer's operator confirmation records when the run stopped while it
#: was open (a terminate, an abort, or the terminal gone): nobody answered it, so the
#: confirmations table, which keeps answers, has no row of it; one event per wafer asked,
#: data `prompt`, `step_id` (the step it was asked in), `stopped` (`terminated` or `aborted`)
#: and `reason` (the stop's), which the wafer's timeline shows (`show`, `wafer`).
CONFIRMATION_UNANSWERED = "confirmation-unanswered"
#: The kind of event an operator confirmation records as it is put to the operator, at the
#: terminal or to the one who answered it in advance (`--confirmed-by`; a dry run's, answered
#: at once, and one with nobody to ask record none): one per
#: wafer asked, data `prompt` and `step_id`, before the wait for the answer, so a question a
#: crash or a power cut cut off while it waited is in the records too (`confirmations_asked`).
CONFIRMATION_ASKED = "confirmation-asked"


def answer_text(confirmed: bool | int, by: str) -> str:
    """A recorded confirmation's answer in words: what was answered, by whom and how
    (`confirmed by ana, answered at the terminal`, `confirmed by bo in advance (--confirmed-by
    bo)`, `declined: no operator was there to answer it`); an answerer of no known form (a
    test's, or a release's before these) as recorded (`confirmed by ci`)."""
    answer = "confirmed" if confirmed else "declined"
    if by == DRY_RUN:
        return f"{answer} automatically (a dry run asks no operator)"
    if by == NO_OPERATOR:
        return f"{answer}: no operator was there to answer it"
    if by == NO_ANSWER:
        return f"{answer}: nobody answered at the terminal within an hour"
    if by.endswith(IN_ADVANCE):
        name = by.removesuffix(IN_ADVANCE)
        return f"{answer} by {name} in advance (--confirmed-by {name})"
    if by.endswith(AT_THE_TERMINAL):
        return f"{answer} by {by.removesuffix(AT_THE_TERMINAL)}, answered at the terminal"
    return f"{answer} by {by}"


def unanswered_text(stopped: str, reason: str) -> str:
    """What became of a confirmation open when the run was `stopped` (`terminated` or
    `aborted`) for `reason`, as its event's message and the wafer's timeline say it:
    `unanswered: the run was terminated (terminate requested by ana from another process)`."""
    return f"unanswered: the run was {stopped} ({reason})"


#: What became of a confirmation asked (`confirmations_asked`'s `outcome`): a yes, a no an
#: operator gave, or no answer from anyone: nobody at the terminal within the hour
#: (`NO_ANSWER`), no operator to ask (`NO_OPERATOR`; both recorded as a no, which held the
#: wafer), or the run stopped while it waited (`CONFIRMATION_UNANSWERED`), or was cut off
#: while it waited (its `CONFIRMATION_ASKED` event alone); or, of a run still driven,
#: none yet: `WAITING`.
CONFIRMED, DECLINED, UNANSWERED, WAITING = "confirmed", "declined", "unanswered", "waiting"
#: Why a confirmation asked and never ended, of a run no process drives, has no answer.
CUT_OFF_WHILE_ASKED = "cut off"
#: The columns of a confirmation asked (`confirmations_asked`), in order: the confirmations
#: table's, its outcome and in words after who gave it, then why one the run stopped at went
#: unanswered.
ASKED_COLUMNS = (
    "id", "run_id", "wafer_id", "step_id", "prompt", "confirmed", "by", "outcome", "answer",
    "stopped", "reason", "t", "wall",
)  # fmt: skip


def answer_outcome(confirmed: bool | int, by: str) -> str:
    """A recorded answer's outcome (`CONFIRMED`, `DECLINED`, `UNANSWERED`): a no nobody gave
    (no operator, no answer in time) is no answer."""
    if by in (NO_OPERATOR, NO_ANSWER):
        return UNANSWERED
    return CONFIRMED if confirmed else DECLINED


def confirmations_asked(
    answered: Sequence[Mapping[str, Any]],
    events: Sequence[Mapping[str, Any]],
    *,
    driven: bool,
) -> list[dict[str, Any]]:
    """Every operator confirmation asked in a run, one row per wafer asked, with its outcome,
    in the order they ended (run clock `t`, then `wall`): each answer of the confirmations
    table (`answered`, its rows: `confirmed` 1 or 0, `by` whom and how, at `t`), and each
    confirmation the run stopped at (its `CONFIRMATION_UNANSWERED` event among `events`, as
    `RunStore.events` reads them, data read: nobody answered it, so the table has no row of
    it). Each row has `ASKED_COLUMNS`: one the run stopped at has no `id` (its record is an
    event), `confirmed` nor `by`, and says `stopped` (`terminated` or `aborted`) and the stop's
    `reason` at the stop's `t`; an answer has neither of those. `outcome` says what became of
    it (`answer_outcome`: confirmed, declined, or unanswered, by nobody in time, for want of an
    operator, or for the stop), `answer` the same in words (`answer_text`,
    `unanswered_text`), as every output a person reads gives it. A confirmation put to an
    operator (its `CONFIRMATION_ASKED` event) with neither an answer nor a stop after it for
    its wafer, step and prompt is still open: of a run a process still `driven`, `WAITING`
    for its answer, at the time it was asked; of one cut off, unanswered, `stopped`
    `cut off` (a crash, a power cut: nothing recorded its end)."""
    rows = _ended(answered, events)
    rows += [
        _open(event, driven=driven) for event, end in _asked_and_ended(rows, events) if end is None
    ]
    ordered = sorted(rows, key=lambda row: (row["t"], row["wall"]))
    return [{column: row[column] for column in ASKED_COLUMNS} for row in ordered]


def confirmation_waits(
    answered: Sequence[Mapping[str, Any]], events: Sequence[Mapping[str, Any]]
) -> list[tuple[Mapping[str, Any], float | None]]:
    """Each wait for an operator's answer in a run: every confirmation put to an operator (its
    `CONFIRMATION_ASKED` event among `events`, as `RunStore.events` reads them), in the order
    asked, with the run clock time it ended, by an answer (a row of the confirmations table,
    `answered`) or a stop (`CONFIRMATION_UNANSWERED`), or None: nothing ended it (still
    waiting, or cut off). A dry run's confirmations, answered at once, record no ask and so
    no wait; one answered in advance (`--confirmed-by`) waits the moment its recording took."""
    return [
        (event, None if end is None else float(end["t"]))
        for event, end in _asked_and_ended(_ended(answered, events), events)
    ]


def answers_to_asks(
    answered: Sequence[Mapping[str, Any]],
    events: Sequence[Mapping[str, Any]],
    *,
    driven: bool,
) -> dict[int, str]:
    """What became of each confirmation put to an operator, in words, by its
    `CONFIRMATION_ASKED` event's id among `events`: the `answer` of what ended it, paired as
    `confirmations_asked` pairs them (`answered`, the confirmations table's rows; `driven`, as
    there), or that it waits or was cut off. `show`'s events and the report's list the ask
    with it: an ask answered in advance had read as asked and unanswered, its answer in the
    wafer's timeline alone."""
    return {
        int(event["id"]): str((end or _open(event, driven=driven))["answer"])
        for event, end in _asked_and_ended(_ended(answered, events), events)
    }


def _ended(
    answered: Sequence[Mapping[str, Any]], events: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The confirmations of `confirmations_asked` that ended: each answer of `answered` and
    each confirmation the run stopped at (its `CONFIRMATION_UNANSWERED` event of `events`), as
    its rows, with their outcome, unordered."""
    rows = [
        {
            **row,
            "outcome": answer_outcome(row["confirmed"], row["by"]),
            "answer": answer_text(row["confirmed"], row["by"]),
            "stopped": None,
            "reason": None,
        }
        for row in answered
    ]
    return rows + [
        _unanswered(
            event,
            unanswered_text(event["data"].get("stopped"), event["data"].get("reason")),
            event["data"].get("stopped"),
            event["data"].get("reason"),
        )
        for event in events
        if event["kind"] == CONFIRMATION_UNANSWERED
    ]


def _asked_and_ended(
    ended: Sequence[Mapping[str, Any]], events: Sequence[Mapping[str, Any]]
) -> list[tuple[Mapping[str, Any], Mapping[str, Any] | None]]:
    """Each `CONFIRMATION_ASKED` event among `events`, in the order asked, with the row of
    `ended` (answers and stops, `_ended`'s) that ended it, else None (still open): of the same
    wafer, step and prompt (a step asks its question once; its rework is another step), the
    first end from the ask on (by the run clock, then the wall clock) that ended no earlier
    ask, and came before the question was asked again (one cut off and asked again by a
    resume was not ended by the later answer). An end before it ended no ask: a no recorded
    for want of an operator, nobody asked."""
    ends: dict[tuple[Any, Any, Any], list[Mapping[str, Any]]] = {}
    for row in sorted(ended, key=lambda row: (row["t"], row["wall"])):
        ends.setdefault((row["wafer_id"], row["step_id"], row["prompt"]), []).append(row)
    asks: dict[tuple[Any, Any, Any], list[Mapping[str, Any]]] = {}
    for event in sorted(
        (event for event in events if event["kind"] == CONFIRMATION_ASKED),
        key=lambda event: (event["t"], event["wall"]),
    ):
        key = (event["wafer_id"], event["data"].get("step_id"), event["data"].get("prompt"))
        asks.setdefault(key, []).append(event)
    pairs: list[tuple[Mapping[str, Any], Mapping[str, Any] | None]] = []
    for key, asked in asks.items():
        later = ends.get(key, [])
        for event, again in zip(asked, [*asked[1:], None], strict=True):
            while later and (later[0]["t"], later[0]["wall"]) < (event["t"], event["wall"]):
                later.pop(0)
            # an ask asked again before anything ended it (cut off, then asked by a resume)
            # was not ended by what ends the later one
            ended_first = bool(later) and (
                again is None or (later[0]["t"], later[0]["wall"]) < (again["t"], again["wall"])
            )
            pairs.append((event, later.pop(0) if ended_first else None))
    return sorted(pairs, key=lambda pair: (pair[0]["t"], pair[0]["wall"]))


def _open(event: Mapping[str, Any], *, driven: bool) -> dict[str, Any]:
    """A confirmation asked (its `CONFIRMATION_ASKED` event) that nothing ended, as a row of
    `confirmations_asked`: waiting for its answer in a run still `driven`, else cut off."""
    if driven:
        return {
            **_unanswered(event, "waiting for an answer at the run's terminal", None, None),
            "outcome": WAITING,
        }
    return _unanswered(
        event,
        "unanswered: the run was cut off while it waited (no answer recorded)",
        CUT_OFF_WHILE_ASKED,
        "no process drove the run any more: a crash or a power cut",
    )


def _unanswered(
    event: Mapping[str, Any], answer: str, stopped: str | None, reason: str | None
) -> dict[str, Any]:
    """A confirmation no answer of the confirmations table ended, from its `event` (asked,
    or unanswered at a stop), as a row of `confirmations_asked`: `answer` in words, and the
    stop's `stopped` and `reason` if one ended it; at the event's time."""
    return {
        "id": None,
        "run_id": event["run_id"],
        "wafer_id": event["wafer_id"],
        "step_id": event["data"].get("step_id"),
        "prompt": event["data"].get("prompt"),
        "confirmed": None,
        "by": None,
        "outcome": UNANSWERED,
        "answer": answer,
        "stopped": stopped,
        "reason": reason,
        "t": event["t"],
        "wall": event["wall"],
    }
