"""A session cut off by a kill is said in the run's events (sequences/engine/cut_off.py,
decision 0120): the resume taking it over records a `session-cut-off` event of it, after its
last record and before its own start, naming the steps it left running."""

from __future__ import annotations

from packline.sequences.engine import open_resume
from packline.sequences.engine.cut_off import record_cut_off_session
from packline.sequences.engine.events import SESSION_CUT_OFF
from packline.who_when import clock_time

from ..processes import killed_in_step


async def test_a_resume_says_where_the_session_it_takes_over_was_cut_off(db, store):
    """The trial: a run's process killed (SIGKILL) in its plasma clean, then resumed: `show`
    read the session's last event, then the resume's `run-started`, with nothing between them
    to tell the session was cut off there. The resume records it, in the session cut off, at
    its last record, naming the steps it left running, and tells it as it starts."""
    killed_in_step(db, "plasma-clean", 2, "plasma clean")
    run_id = store.resolve_run("last")
    before = store.events(run_id)
    told: list = []
    async with open_resume(store, run_id, observers=[told.append]) as engine:
        await engine.run()

    events = store.events(run_id)
    (cut,) = [e for e in events if e["kind"] == SESSION_CUT_OFF]
    after = events[events.index(cut) + 1 :]
    assert events[: events.index(cut)] == before  # after everything the session recorded
    assert (cut["session"], after[0]["kind"], after[0]["session"]) == (1, "run-started", 2)
    assert cut["t"] == max(
        [e["t"] for e in before] + [s["stopped_t"] or s["started_t"] for s in store.steps(run_id)]
    )
    assert cut["wall"] == max(
        [e["wall"] for e in before]
        + [s["stopped_wall"] or s["started_wall"] for s in store.steps(run_id) if s["session"] == 1]
    )
    interrupted = [s for s in store.steps(run_id) if s["status"] == "interrupted"]
    assert cut["data"]["steps"] == [s["id"] for s in interrupted]
    assert cut["message"] == (
        f"session 1 cut off after its last record at {clock_time(cut['wall'])}: no end recorded "
        "(its process was killed or crashed, its host went down, or its records could not be "
        "written); left running, closed interrupted by session 2: batch plasma_cleaner (W01, "
        "W02), plasma clean (W01, W02)"
    )
    assert [e.kind for e in told[:2]] == [SESSION_CUT_OFF, "run-started"]


def test_a_session_cut_off_before_it_recorded_anything_says_so(db, store):
    """A resume killed as it connected to its tools (its session taken over, nothing of its own
    recorded yet) is cut off in turn: its `session-cut-off` event had named the earlier
    session's last record as its own. It says the session recorded nothing."""
    killed_in_step(db, "plasma-clean", 2, "plasma clean")
    run_id = store.resolve_run("last")
    assert store.start_session(run_id, 2, {}, status="running")  # then killed, connecting
    cut = record_cut_off_session(store, store.run(run_id), {})
    assert cut["session"] == 2
    assert cut["message"] == (
        "session 2 cut off before it recorded anything: no end recorded (its process was "
        "killed or crashed, its host went down, or its records could not be written)"
    )
