"""Every operator confirmation asked, with what became of it (sequences/engine/confirmations.py,
`confirmations_asked`): one put to an operator is recorded as asked before the wait for its
answer, so a question the controller's crash cut off is in the records, read as cut off, and
one a run still driven waits for is read as waiting."""

from __future__ import annotations

import yaml

from packline.clock import ScaledClock
from packline.sequences.engine import open_run, prepare, run_report
from packline.sequences.engine.confirmations import (
    CONFIRMATION_ASKED,
    CONFIRMATION_UNANSWERED,
    UNANSWERED,
    WAITING,
    answers_to_asks,
    confirmation_waits,
    confirmations_asked,
)
from packline.sim_instruments.line import SimulatedLine

from ..helpers import station_lot

PROMPT = "wafers W01 seated in the chamber slots"


def asked(t: float, wafer: str = "W01", step_id: int = 7) -> dict:
    return {
        "kind": CONFIRMATION_ASKED,
        "run_id": "R",
        "wafer_id": wafer,
        "t": t,
        "wall": 1000.0 + t,
        "data": {"prompt": PROMPT, "step_id": step_id},
    }


def answer(t: float, *, confirmed: int = 1, step_id: int = 7) -> dict:
    return {
        "id": 1,
        "run_id": "R",
        "wafer_id": "W01",
        "step_id": step_id,
        "prompt": PROMPT,
        "confirmed": confirmed,
        "by": "ana (at the terminal)",
        "t": t,
        "wall": 1000.0 + t,
    }


def terminated(t: float, step_id: int) -> dict:
    """W01's question of step `step_id` left unanswered by a terminate at `t`."""
    return {
        "kind": CONFIRMATION_UNANSWERED,
        "run_id": "R",
        "wafer_id": "W01",
        "t": t,
        "wall": 1000.0 + t,
        "data": {"prompt": PROMPT, "step_id": step_id, "stopped": "terminated", "reason": "by ana"},
    }


def test_a_question_answered_is_one_row_however_it_was_asked():
    (row,) = confirmations_asked([answer(50.0)], [asked(10.0)], driven=False)
    assert (row["outcome"], row["t"]) == ("confirmed", 50.0)


def test_a_question_nothing_ended_waits_while_the_run_is_driven_and_is_cut_off_after():
    (waiting,) = confirmations_asked([], [asked(10.0)], driven=True)
    assert (waiting["outcome"], waiting["stopped"], waiting["t"]) == (WAITING, None, 10.0)
    assert waiting["answer"] == "waiting for an answer at the run's terminal"
    (cut,) = confirmations_asked([], [asked(10.0)], driven=False)
    assert (cut["outcome"], cut["stopped"]) == (UNANSWERED, "cut off")
    assert cut["answer"].startswith("unanswered: the run was cut off while it waited")


def test_each_asking_is_ended_by_its_own_answer_or_stop():
    """The same question in a reworked step (another step record) and of another wafer: each
    asking is paired with an end of its own wafer, step and prompt, never another's."""
    stop = terminated(90.0, step_id=8)
    events = [asked(10.0), asked(80.0, step_id=8), stop, asked(95.0, wafer="W02")]
    rows = confirmations_asked([answer(50.0)], events, driven=False)
    assert [(r["wafer_id"], r["step_id"], r["outcome"], r["stopped"]) for r in rows] == [
        ("W01", 7, "confirmed", None),
        ("W01", 8, UNANSWERED, "terminated"),
        ("W02", 7, UNANSWERED, "cut off"),
    ]


def test_each_wait_for_an_answer_runs_from_its_asking_to_its_own_end():
    """The waits `packline tools` counts as standby: W01 asked at 10 s and answered at 50 s,
    asked again in its rework at 80 s and stopped at 90 s; W02 asked at 95 s and cut off,
    with no end. A no recorded at 5 s for want of an operator (nobody asked: no asking
    recorded) ended no asking, though of the same wafer, step and prompt."""
    stop = terminated(90.0, step_id=8)
    nobody = {**answer(5.0, confirmed=0), "by": "no operator"}
    events = [asked(10.0), asked(80.0, step_id=8), stop, asked(95.0, wafer="W02")]
    waits = confirmation_waits([nobody, answer(50.0)], events)
    assert [(e["wafer_id"], e["t"], end) for e, end in waits] == [
        ("W01", 10.0, 50.0),
        ("W01", 80.0, 90.0),
        ("W02", 95.0, None),
    ]
    (cut,) = confirmations_asked([nobody], [asked(10.0)], driven=False)[1:]
    assert cut["stopped"] == "cut off"


def test_each_ask_is_told_what_became_of_it_by_its_event_id():
    """`show`'s events had listed a confirmation answered in advance as asked, with no
    answer: each ask is told its own end's words, an open one that it is open."""
    events = [
        {**asked(10.0), "id": 3},
        {**asked(80.0, step_id=8), "id": 4},
        terminated(90.0, step_id=8),
        {**asked(95.0, wafer="W02"), "id": 6},
    ]
    answers = answers_to_asks([answer(50.0)], events, driven=True)
    assert answers == {
        3: "confirmed by ana, answered at the terminal",
        4: "unanswered: the run was terminated (by ana)",
        6: "waiting for an answer at the run's terminal",
    }


def test_a_question_cut_off_and_asked_again_is_not_ended_by_the_later_answer():
    """A review's case: asked between steps (no step) at 10 s, cut off, asked again by the
    resume at 20 s and answered at 25 s. The answer ends the second asking; the first was cut
    off, in the confirmations and in what each asking is told alike (it had read as answered
    in one and waiting in the other)."""
    events = [{**asked(10.0, step_id=None), "id": 1}, {**asked(20.0, step_id=None), "id": 2}]
    reply = answer(25.0, step_id=None)
    rows = confirmations_asked([reply], events, driven=False)
    assert [(r["t"], r["outcome"], r["stopped"]) for r in rows] == [
        (10.0, UNANSWERED, "cut off"),
        (25.0, "confirmed", None),
    ]
    answers = answers_to_asks([reply], events, driven=False)
    assert answers[1].startswith("unanswered: the run was cut off while it waited")
    assert answers[2] == "confirmed by ana, answered at the terminal"


async def test_a_question_put_to_the_operator_is_recorded_before_its_answer(store, tmp_path):
    """A station run's confirmation: by the time the operator's answer is asked for, the
    records hold the question (a crash during the wait would leave it there), and once
    answered the run's confirmations list it once, confirmed."""
    recorded_before_the_answer: list[tuple[str, list[dict]]] = []

    async def operator(subject: str, prompt: str) -> tuple[bool, str]:
        events = store.events(engine.run_id)
        asked = [e for e in events if e["kind"] == CONFIRMATION_ASKED]
        recorded_before_the_answer.append((prompt, asked))
        return True, "ana (at the terminal)"

    async with SimulatedLine(ScaledClock(1000), kinds=["plasma_cleaner"]) as line:
        path = tmp_path / "line.yaml"
        path.write_text(yaml.safe_dump(yaml.safe_load(line.station.to_yaml())))
        prepared = prepare(station_lot(path, 1))
        async with open_run(store, prepared, confirm=operator) as engine:
            assert await engine.run() == "completed"
    ((prompt, seen),) = recorded_before_the_answer
    (wafer,) = store.wafers(engine.run_id)
    assert [(e["wafer_id"], e["data"]["prompt"]) for e in seen] == [(wafer["wafer_id"], prompt)]
    report = run_report(store, engine.run_id)
    (row,) = report["confirmations"]
    assert (row["outcome"], row["by"]) == ("confirmed", "ana (at the terminal)")
    # the ask, as `show`'s events list it, says what became of it
    (ask,) = [e for e in report["events"] if e["kind"] == CONFIRMATION_ASKED]
    answers = answers_to_asks(
        store.table("confirmations", engine.run_id), report["events"], driven=False
    )
    assert answers == {ask["id"]: "confirmed by ana, answered at the terminal"}
