"""The engine's end of a run (sequences/engine/engine.py): the run's end and its `run-finished`
are one reading of its clocks, so what is recorded of the stopped run afterwards reads after
it (decision 0120)."""

from __future__ import annotations

from packline.clock import ScaledClock
from packline.sequences.engine import RunRequest, open_run, prepare
from packline.sequences.engine import engine as engine_module
from packline.sequences.engine.clearances import record_clearance
from packline.sequences.engine.control import Order
from packline.sequences.engine.dispositions import Decision, record_disposition
from packline.sequences.engine.events import CONTROL_IGNORED, FAULT_CLEARED, SESSION_CUT_OFF
from packline.sim_instruments.line import SimulatedLine

from .test_injected_faults import held_run, injecting, served


async def test_what_is_recorded_of_a_stopped_run_reads_after_its_end(store, tmp_path):
    """The trial: a run on a served line held on a fault, then its tool cleared and a wafer
    released: `show` read `[5:26:16] run-finished held`, then `[5:26:15] tool-cleared`, the
    clear stamped at the run's `stopped_t`, taken before its `run-finished` was. Both are one
    reading now, and the clear and the disposition read after the run's end, at it."""
    async with (
        SimulatedLine(ScaledClock(1000), kinds=["plasma_cleaner"]) as line,
        served(line, tmp_path) as (control, path),
    ):
        run_id, _ = await held_run(store, path, injecting(control))
    run = store.run(run_id)
    *_, finished = store.events(run_id)
    assert finished["kind"] == "run-finished"
    assert (finished["t"], finished["wall"]) == (run["stopped_t"], run["stopped_wall"])
    assert record_clearance(store, run_id, "plasma_cleaner", "bo") is not None
    record_disposition(store, run_id, "W01", Decision.RELEASE, "bo", "inspected: ok")
    events = store.events(run_id)
    assert [e["kind"] for e in events[-3:]] == ["run-finished", "tool-cleared", "disposition"]
    assert [e["t"] for e in events[-3:]] == [run["stopped_t"]] * 3
    assert [e["t"] for e in events] == sorted(e["t"] for e in events)
    assert SESSION_CUT_OFF not in {e["kind"] for e in events}


async def test_the_words_posted_as_the_run_ends_are_taken_before_its_end(store, monkeypatch):
    """A review: a fault the served line told (here a `sim fault --clear` of the chamber) as the
    run's last wafer finished lay untaken for good, no boundary nor control poll coming after
    it, so the run read its fault uncleared; an order posted then lay untaken too. Both are
    taken before the run's end is recorded: the fact recorded as ever, the order as come too
    late to carry out. The poll is put off, so that only the end takes them."""
    monkeypatch.setattr(engine_module, "CONTROL_POLL_S", 3600.0)
    words = [
        Order(FAULT_CLEARED, by="bo", tool="plasma_cleaner", fault="rf_mismatch", wall=1.7e9),
        Order("pause", by="ana"),
    ]

    def post_as_the_last_wafer_finishes(event) -> None:
        if event.kind == "wafer-finished" and event.wafer == "W02":
            for word in words:
                store.post_control(event.run_id, word.text(), 0.0)

    prepared = prepare(RunRequest("plasma-clean", lot=2))
    async with open_run(store, prepared, observers=[post_as_the_last_wafer_finishes]) as engine:
        assert await engine.run() == "completed"
    *_, cleared, ignored, finished = store.events(engine.run_id)
    assert (cleared["kind"], cleared["tool"]) == (FAULT_CLEARED, "plasma_cleaner")
    assert (ignored["kind"], ignored["message"]) == (
        CONTROL_IGNORED,
        "pause by ana came as the run ended: not carried out",
    )
    assert finished["kind"] == "run-finished"
    assert store.take_control(engine.run_id, 0.0) == []  # none left untaken
