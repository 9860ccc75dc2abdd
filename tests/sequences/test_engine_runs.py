"""The engine on the simulated line: records, pipelining, batches, failure policies, control."""

from __future__ import annotations

import json

import pytest

from packline.cli import main
from packline.drivers.equipment import HOLD_S
from packline.sequences.engine import (
    BadInput,
    Decision,
    RunRequest,
    open_run,
    prepare,
    record_disposition,
    run_report,
)
from packline.sequences.engine.control import CLEAR_TOOL, Order
from packline.sequences.engine.events import NOTHING_TO_PAUSE
from packline.sim_instruments.twin import PanelSpec

from .helpers import TwoToolLine

#: One plasma-clean chamber cycle with the default recipe, simulated: the pump-down to the base
#: pressure (81.12 s, the held status read answered as it is reached), 180 s, the 30 s vent.
CYCLE_S = 291.1188


async def run_method(
    store, method="plasma-clean", lot=1, policy=None, observers=(), line_factory=None
):
    prepared = prepare(RunRequest(method, lot=lot, failure_policy=policy))
    async with open_run(
        store, prepared, observers=list(observers), line_factory=line_factory
    ) as engine:
        status = await engine.run()
    return engine, status


async def test_plasma_clean_lot_records_everything(store):
    engine, status = await run_method(store, lot=6)
    assert status == "completed"
    report = run_report(store, engine.run_id)
    run = report["run"]
    assert run["method"] == "plasma-clean"
    assert run["simulated"] == 1
    assert len(run["recipe_hash"]) == 64
    assert "O2" in report["recipe"]
    assert report["duration_s"] == pytest.approx(2 * CYCLE_S)  # two batches: 4 + 2
    for wafer in report["wafers"]:
        assert wafer["status"] == "completed"
        m = wafer["measurements"]
        assert m["residue before"]["value"] > 3
        assert m["residue after"]["value"] == 0
        assert m["oxide before"]["value"] == pytest.approx(3)
        assert m["oxide after"]["value"] == 0
        assert m["plasma process time"]["value"] == pytest.approx(180)
        assert m["plasma process time"]["passed"]
    steps = [s for s in report["steps"] if s["kind"] != "batch"]
    assert {s["status"] for s in steps} == {"completed"}
    clean = [s for s in steps if s["name"] == "plasma clean"]
    assert len(clean) == 6
    assert all("003:14" in s["claims"] for s in clean)  # a list of ids, not JSON text
    assert all(
        s["stopped_t"] > s["started_t"] and s["stopped_wall"] >= s["started_wall"] for s in clean
    )
    assert len({s["batch"] for s in clean}) == 2
    assert len(report["confirmations"]) == 6
    traces = {t["name"]: t for t in report["traces"]}
    assert traces["rf_forward"]["max"] == pytest.approx(500)
    # read at each change of the chamber's counted status, at least every HOLD_S (decision 0078)
    assert traces["pressure"]["samples"] > report["duration_s"] / HOLD_S


async def test_a_method_declares_its_incoming_material_and_the_dry_run_receives_it(store):
    prepared = prepare(RunRequest("test-panel", lot=2))
    async with open_run(store, prepared) as engine:
        assert await engine.run() == "completed"
        panels = [engine.twin.get(w) for w in ("W01", "W02")]
    for panel in panels:
        assert isinstance(panel.spec, PanelSpec)
        assert panel.spec.rows == 2
        assert panel.geometry.unit_count == 6
        assert panel.openings.substrate.open.all()  # the tape drilled through to its copper
        assert (panel.openings.substrate.diameter_um == 100).all()  # by the CO2 source
        assert panel.history[-1].detail["source_nm"] == 10600


def test_a_run_of_a_method_s_own_defaults_is_named_by_the_method(db, capsys):
    """test-panel ships no default recipe: without `--recipe` it runs its recipe model's
    defaults. Such a run's `recipe_source` read `default recipe None`, and `runs` named its
    recipe `None`; it is named by its method now, as a method's default recipe is."""
    assert main(["run", "test-panel", "--sim", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["runs", "--recipe", "test-panel", "--json"]) == 0
    (run,) = json.loads(capsys.readouterr().out)
    assert run["recipe_source"] == "defaults of method test-panel"
    assert main(["runs", "--recipe", "nope"]) == 2
    assert f"its recipes: test-panel (test-panel, {run['recipe_hash'][:12]})" in (
        capsys.readouterr().err
    )
    assert main(["show", "last"]) == 0
    assert "recipe defaults of method test-panel sha256 " in capsys.readouterr().out


async def test_small_lot_does_not_wait_for_the_batch_timeout(store):
    engine, status = await run_method(store, lot=3)
    assert status == "completed"
    assert run_report(store, engine.run_id)["duration_s"] == pytest.approx(CYCLE_S)


async def test_pipelining_reaches_the_flow_line_bound(store):
    engine, status = await run_method(store, "test-two-tools", lot=10, line_factory=TwoToolLine)
    assert status == "completed"
    steps = store.table("steps", engine.run_id)
    stages = {(s["wafer_id"], s["name"]): s for s in steps if s["kind"] == "stage"}
    first_total = (
        stages[("W01", "use pc_b")]["stopped_t"] - stages[("W01", "use pc_a")]["started_t"]
    )
    bottleneck = max(
        s["stopped_t"] - s["started_t"]
        for (w, n), s in stages.items()
        if n == "use pc_b" and w == "W01"
    )
    bound = first_total + 9 * bottleneck
    makespan = max(s["stopped_t"] for s in steps) - min(s["started_t"] for s in steps)
    assert makespan == pytest.approx(bound, rel=0.05)
    # and a sequential lot would have taken far longer
    serial = 10 * first_total
    assert makespan < 0.8 * serial


class Injector:
    """Injects a tool fault into the simulated chamber; once the alarmed chamber is out of
    service, repairs it and clears it as an operator would (`packline clear-tool`)."""

    def __init__(self, fault: str) -> None:
        self.fault = fault
        self.line = None
        self.engine = None
        self.events = []

    def line_factory(self, clock, method):
        from packline.sim_instruments.line import SimulatedLine

        self.line = SimulatedLine(clock, kinds=["plasma_cleaner"])
        return self.line

    def __call__(self, event):
        self.events.append(event)
        if event.kind == "run-started":
            self.chamber = self.line.tools["plasma_cleaner"]
            self.chamber.inject_fault(self.fault)
        elif event.kind == "held":
            self.chamber.clear_fault(self.fault)
        elif event.kind == "tool-out-of-service" and self.engine is not None:
            self.chamber.clear_fault(self.fault)
            self.engine.clear_tool(event.tool, "test operator")

    async def run(self, store, lot: int, policy: str, *, clears: bool = True):
        """A dry-run lot of `lot` under failure policy `policy`, the fault injected as it
        starts; `clears`: the alarmed chamber is cleared as an operator would. Returns the
        engine and the run's status."""
        prepared = prepare(RunRequest("plasma-clean", lot=lot, failure_policy=policy))
        async with open_run(
            store, prepared, observers=[self], line_factory=self.line_factory
        ) as engine:
            self.engine = engine if clears else None
            status = await engine.run()
        return engine, status


async def test_hold_policy_holds_the_batch_and_continues_the_lot(store):
    injector = Injector("rf_mismatch")
    engine, status = await injector.run(store, 6, "hold")
    assert status == "held"
    wafers = {w["wafer_id"]: w for w in store.wafers(engine.run_id)}
    held = [w for w in wafers.values() if w["status"] == "held"]
    assert len(held) == 4
    assert all("REFLECTED_POWER" in w["reason"] for w in held)
    assert [w["status"] for w in wafers.values()].count("completed") == 2
    alarms = store.table("alarms", engine.run_id)
    assert {a["code"] for a in alarms} == {"REFLECTED_POWER"}
    assert len(alarms) == 4
    assert any(e.kind == "tool-recovered" for e in injector.events)
    assert injector.chamber.slots == [None] * 4  # recovered: nothing left in the chamber


async def test_pause_policy_pauses_until_resumed(store):
    injector = Injector("gas_supply")

    def resume_when_paused(event):
        if event.kind == "paused":
            engine.request("resume", "test operator")

    prepared = prepare(RunRequest("plasma-clean", lot=6, failure_policy="pause"))
    async with open_run(
        store, prepared, observers=[injector], line_factory=injector.line_factory
    ) as engine:
        injector.engine = engine
        engine.spec.observers.append(resume_when_paused)
        status = await engine.run()
    kinds = [e.kind for e in injector.events]
    assert kinds.index("held") < kinds.index("paused") < kinds.index("resumed")
    assert status == "held"
    wafers = store.wafers(engine.run_id)
    statuses = [w["status"] for w in wafers]
    assert statuses.count("held") == 4, [(w["wafer_id"], w["reason"]) for w in wafers]
    assert statuses.count("completed") == 2


async def test_pause_policy_with_every_wafer_held_says_nothing_is_left_to_pause_for(store):
    """A lot of one batch whose step fails: every wafer is held, nothing is left to run. The
    log read `paused ...` then at once `run-finished held`, a pause that never was; the pause
    policy has nothing to pause, and the run says so and ends held."""
    injector = Injector("gas_supply")
    engine, status = await injector.run(store, 4, "pause")
    assert status == "held"
    kinds = [e.kind for e in injector.events]
    assert "paused" not in kinds
    (moot,) = [e for e in injector.events if e.kind == NOTHING_TO_PAUSE]
    assert moot.message.startswith("failure policy pause: every wafer held, nothing left to")
    assert kinds.index(NOTHING_TO_PAUSE) > max(i for i, k in enumerate(kinds) if k == "held")
    assert kinds.index(NOTHING_TO_PAUSE) < kinds.index("run-finished")
    assert NOTHING_TO_PAUSE in {e["kind"] for e in store.table("events", engine.run_id)}
    assert {w["status"] for w in store.wafers(engine.run_id)} == {"held"}


async def test_pause_policy_whose_paused_lot_is_held_after_it_says_nothing_was_left(store):
    """The pause policy pauses for the first batch's failure while a second batch waits; its
    alarmed chamber, never cleared in a dry run, then holds the second batch too. The run
    ended at once after `paused`; now it says that nothing is left to pause for."""
    injector = Injector("rf_mismatch")
    _, status = await injector.run(store, 8, "pause", clears=False)
    assert status == "held"
    kinds = [e.kind for e in injector.events]
    assert kinds.index("paused") < kinds.index(NOTHING_TO_PAUSE) < kinds.index("run-finished")
    (moot,) = [e for e in injector.events if e.kind == NOTHING_TO_PAUSE]
    assert moot.message.startswith(
        "failure policy pause: the run paused, then every wafer was held, nothing left to "
        "pause for; the run ends held (wafer W01 held: "
    )


async def test_stop_policy_terminates_and_leaves_tools_safe(store):
    injector = Injector("chamber_leak")
    prepared = prepare(RunRequest("plasma-clean", lot=6, failure_policy="stop"))
    async with open_run(
        store, prepared, observers=[injector], line_factory=injector.line_factory
    ) as engine:
        injector.engine = engine
        status = await engine.run()
        chamber = injector.chamber
        assert chamber.slots == [None] * 4
        assert chamber.chamber.name == "VENTED"
    assert status == "terminated"
    statuses = [w["status"] for w in store.wafers(engine.run_id)]
    assert statuses.count("held") == 6  # W05 and W06 queued for the chamber: held at once
    assert store.run(engine.run_id)["status"] == "terminated"
    wafers = {w["wafer"]: w for w in run_report(store, engine.run_id)["wafers"]}
    assert wafers["W06"]["status"] == "held"
    assert wafers["W06"]["cycle_time_s"] is None  # never started a step: not the hold's time
    assert wafers["W01"]["cycle_time_s"] > 0


async def test_abort_interrupts_the_step_and_commands_safe_state(store):
    def abort_in_clean(event):
        if event.kind == "step-started" and event.step == "plasma clean":
            engine.request("abort", "test")

    prepared = prepare(RunRequest("plasma-clean", lot=4))
    async with open_run(store, prepared, observers=[abort_in_clean]) as engine:
        status = await engine.run()
    assert status == "aborted"
    clean = [s for s in store.table("steps", engine.run_id) if s["name"] == "plasma clean"]
    assert {s["status"] for s in clean} == {"interrupted"}
    assert {s["error"] for s in clean} == {"aborted"}  # not "CancelledError()"
    # the plasma clean is irreversible: the abort holds the wafers it cut off in it at once,
    # every member of the batch for the same true reason: the leader's read `was
    # interrupted`, the other members' `was running` (read before the leader recorded it)
    wafers = store.wafers(engine.run_id)
    assert {w["status"] for w in wafers} == {"held"}
    assert {w["reason"] for w in wafers} == {
        "irreversible step 'plasma clean' was interrupted when the run stopped; it may have "
        "partly happened and is never repeated: operator decision needed"
    }


async def test_every_step_event_pairs_by_its_record_id_and_measurements_name_their_step(store):
    events = []
    engine, status = await run_method(store, lot=2, observers=[events.append])
    assert status == "completed"
    started = {e.data["step_id"]: e for e in events if e.kind == "step-started"}
    finished = {e.data["step_id"]: e for e in events if e.kind == "step-finished"}
    assert started.keys() == finished.keys()
    for step_id, end in finished.items():
        assert (end.wafer, end.step) == (started[step_id].wafer, started[step_id].step)
    records = {s["id"]: s for s in store.table("steps", engine.run_id)}
    assert all(records[i]["name"] == e.step for i, e in started.items())
    measured = [e for e in events if e.kind == "measurement"]
    assert {e.data["name"] for e in measured} >= {"residue after", "plasma process time"}
    for event in measured:  # named by its step's record, or by none outside a step
        step_id = event.data["step_id"]
        assert event.step == (None if step_id is None else records[step_id]["name"])
    timed = [e for e in measured if e.data["name"] == "plasma process time"]
    assert {e.step for e in timed} == {"plasma clean"}


async def test_a_wafer_held_in_an_earlier_session_still_counts_after_resume(store):
    """Session 1 holds 4 wafers and terminates; session 2 completes the other 2: the run is
    held (exit 1), not completed, and the held wafers are reported as such."""
    from packline.sequences.engine import open_resume

    injector = Injector("chamber_leak")
    prepared = prepare(RunRequest("plasma-clean", lot=6, failure_policy="stop"))
    async with open_run(
        store, prepared, observers=[injector], line_factory=injector.line_factory
    ) as engine:
        injector.engine = engine
        assert await engine.run() == "terminated"
    finished = []
    async with open_resume(store, engine.run_id, observers=[finished.append]) as resumed:
        assert await resumed.run() == "held"
    statuses = [w["status"] for w in store.wafers(engine.run_id)]
    assert statuses.count("held") == 4
    assert statuses.count("completed") == 2
    assert store.run(engine.run_id)["status"] == "held"
    (last,) = [e for e in finished if e.kind == "run-finished"]
    assert sorted(last.data["wafers"].values()) == ["completed"] * 2 + ["held"] * 4


async def test_two_resumes_of_one_run_cannot_both_drive_it(store):
    """The second resume to take the run over is not resumed: it says so (it had connected
    its tools, so not that none was contacted), closes every tool it reached, and records
    nothing of its own."""
    from packline.sequences.engine import open_resume
    from packline.sequences.engine.errors import ResumeNotStarted

    def abort_in_clean(event):
        if event.kind == "step-started" and event.step == "open door":
            engine.request("abort", "test")

    prepared = prepare(RunRequest("plasma-clean", lot=2))
    async with open_run(store, prepared, observers=[abort_in_clean]) as engine:
        assert await engine.run() == "aborted"
    async with (
        open_resume(store, engine.run_id) as first,
        open_resume(store, engine.run_id) as second,
    ):
        assert first.session == second.session == 2
        assert await first.run() == "completed"
        with pytest.raises(ResumeNotStarted, match="session 2 was started by another process"):
            await second.run()
        assert second.keeper.pool.tools  # it had reached them
        assert not [t for t in second.keeper.pool.tools.values() if t.driver.link.connected]
    assert store.run(engine.run_id)["sessions"] == 2
    opened = [s for s in store.table("steps", engine.run_id) if s["name"] == "plasma clean"]
    assert len(opened) == 2  # one per wafer, none twice


async def test_a_dry_run_auto_confirms_even_with_an_operator_at_the_terminal(store):
    """A terminal offers an operator; a dry run on a virtual clock must still never wait."""

    async def operator(wafers: str, prompt: str) -> tuple[bool, str]:
        raise AssertionError(f"a dry run asked the operator: {prompt}")

    prepared = prepare(RunRequest("plasma-clean", lot=2))
    async with open_run(store, prepared, confirm=operator) as engine:
        assert await engine.run() == "completed"
    confirmations = store.table("confirmations", engine.run_id)
    assert confirmations
    assert {c["by"] for c in confirmations} == {"auto (dry run)"}


class PersistentFault(Injector):
    """A fault nobody repairs: the chamber alarms and stays faulty."""

    def __call__(self, event):
        self.events.append(event)
        if event.kind == "run-started":
            self.chamber = self.line.tools["plasma_cleaner"]
            self.chamber.inject_fault(self.fault)


async def test_an_alarmed_tool_is_out_of_service_and_gets_no_next_job(store):
    fault = PersistentFault("rf_mismatch")
    prepared = prepare(RunRequest("plasma-clean", lot=6, failure_policy="hold"))
    async with open_run(
        store, prepared, observers=[fault], line_factory=fault.line_factory
    ) as engine:
        status = await engine.run()
    assert status == "held"
    starts = [r for r in fault.chamber.received if r == "FC6 write 300 [3]"]
    assert len(starts) == 1  # the second batch never met the faulty chamber
    out = [e for e in fault.events if e.kind == "tool-out-of-service"]
    assert len(out) == 1
    assert "alarmed" in out[0].message
    assert f"packline clear-tool {engine.run_id} plasma_cleaner --by NAME" in out[0].message
    wafers = {w["wafer_id"]: w for w in store.wafers(engine.run_id)}
    assert [w["status"] for w in wafers.values()] == ["held"] * 6
    later = [w for w in wafers.values() if w["reason"].startswith("no plasma_cleaner in service")]
    assert [w["wafer_id"] for w in later] == ["W05", "W06"]
    # held at once, naming the kind and why its tool is out: not after a day's wait (2 s of
    # wall in a dry run) that nobody could end with a clear
    assert all(
        w["reason"].startswith(
            "no plasma_cleaner in service: plasma_cleaner is out of service: alarmed ("
        )
        and w["stopped_t"] == out[0].t
        for w in later
    )
    assert store.run(engine.run_id)["stopped_t"] < 3600
    kinds = {e["kind"] for e in store.table("events", engine.run_id)}
    assert "tool-out-of-service" in kinds
    # nothing happened to W05 on the chamber: there is nothing to release or rework, only the
    # clear brings it back (a new user's release had been taken and "carried out")
    for decision in (Decision.RELEASE, Decision.REWORK):
        with pytest.raises(BadInput, match="held only because no tool was in service") as refused:
            record_disposition(store, engine.run_id, "W05", decision, "ana", "looks fine")
        # the tool its hold waits for, by name, as the command is run
        assert f"packline clear-tool {engine.run_id} plasma_cleaner --by ana" in str(refused.value)
    assert store.table("dispositions", engine.run_id) == []
    record_disposition(store, engine.run_id, "W05", Decision.SCRAP, "ana", "lot split")


async def test_an_operator_clears_the_tool_through_the_control_table(store):
    fault = PersistentFault("rf_mismatch")

    def on_event(event):
        if event.kind == "tool-out-of-service":
            fault.chamber.clear_fault(fault.fault)
            store.post_control(
                engine.run_id,
                Order(CLEAR_TOOL, by="ana", tool="plasma_cleaner").text(),
                0.0,
            )
            engine._take_control()  # what the engine's control poll does on a real line

    prepared = prepare(RunRequest("plasma-clean", lot=6, failure_policy="hold"))
    async with open_run(
        store, prepared, observers=[fault, on_event], line_factory=fault.line_factory
    ) as engine:
        status = await engine.run()
    assert status == "held"
    statuses = {w["wafer_id"]: w["status"] for w in store.wafers(engine.run_id)}
    assert [wafer for wafer, status in statuses.items() if status == "completed"] == ["W05", "W06"]
    cleared = [e for e in fault.events if e.kind == "tool-cleared"]
    assert [e.message for e in cleared] == ["plasma_cleaner back in service, cleared by ana"]
    # W05 and W06 were held at once for want of the chamber; the clear ran them again
    told = [(e.kind, e.wafer, e.data) for e in fault.events if e.wafer in ("W05", "W06")]
    held = [data for kind, _, data in told if kind == "held"]
    assert held == [{"tool_unavailable": True, "tools": ["plasma_cleaner"]}] * 2
    again = [data for kind, _, data in told if kind == "wafer-started" and data]
    assert again == [{"back_in_service": "plasma_cleaner"}] * 2


async def test_a_wafers_time_on_line_runs_from_its_first_step(store):
    # a lot of 6 is two batches (4 + 2): the last two wafers start their first step when the
    # chamber is free again, so their time on the line is one cycle, not the makespan
    engine, status = await run_method(store, lot=6)
    assert status == "completed"
    times = {w["wafer"]: w["cycle_time_s"] for w in run_report(store, engine.run_id)["wafers"]}
    assert times["W01"] == pytest.approx(CYCLE_S)
    assert times["W06"] == pytest.approx(CYCLE_S)
