"""An abort its tool ignores (decision 0098): the safe state the cancelled step commanded is
not confirmed in time (the chamber carries on, RF on), and the abort's retry as the run ends
finds the chamber at rest. That the tool ignored the abort had been in the cut-off step's row
alone; it is an event of its own, told as it happens, and the run's summary says the tool
ignored it and was later found at rest."""

from __future__ import annotations

import pytest

from packline.drivers.families.modbus_plc import ModbusPlcDriver
from packline.sequences.engine import RunRequest, open_run, prepare
from packline.sequences.engine.clearances import ignored_aborts
from packline.sequences.engine.events import ABORT_NOT_CONFIRMED, SAFE_STATE_UNCONFIRMED
from packline.sequences.engine.left_on_tools import left_report, left_text
from packline.sequences.engine.progress import PlainLog
from packline.sim_instruments.line import SimulatedLine

#: What the step's error starts with when the abort's safe-state command failed under it.
CUT_OFF = "cut off by the abort, whose safe-state command failed"


async def test_an_ignored_abort_is_recorded_and_the_summary_says_the_tool_was_found_at_rest(
    store, monkeypatch: pytest.MonkeyPatch
):
    """The chamber hangs in its clean as the run is aborted (`abort_ignored`): the ABORT the
    cancelled clean sends is taken but not acted on, and its safe-state wait times out with RF
    still on. Once the step is cut off, the hung sequence steps on (the fault cleared) and the
    chamber comes to rest: the abort's retry at the run's end confirms it. An
    `abort-not-confirmed` event names the tool and what was still on; no
    `safe-state-unconfirmed`; the summary says the tool ignored the abort and was found at
    rest, and leaves the wafers in it to the resume as any the abort cut off."""
    lines: list[SimulatedLine] = []
    events = []

    def line_factory(clock, method):
        lines.append(SimulatedLine(clock, kinds=["plasma_cleaner"]))
        return lines[0]

    command = ModbusPlcDriver.command

    async def abort_once_started(self, action: str, name: str, **parameters) -> None:
        await command(self, action, name, **parameters)
        if name == "START_RECIPE":  # RF on: the chamber hangs in its clean, and the abort comes
            lines[0].tools["plasma_cleaner"].inject_fault("abort_ignored")
            engine.request("abort", "abort requested by ana from another process", "ana")

    monkeypatch.setattr(ModbusPlcDriver, "command", abort_once_started)

    def operator(event):
        events.append(event)
        chamber = lines[0].tools["plasma_cleaner"]
        cut_off = event.kind == "step-finished" and event.message.startswith(CUT_OFF)
        if cut_off and "abort_ignored" in chamber.injected:
            chamber.clear_fault("abort_ignored")  # the hung sequence steps on to its safe state

    prepared = prepare(RunRequest("plasma-clean", lot=2))
    async with open_run(store, prepared, observers=[operator], line_factory=line_factory) as engine:
        assert await engine.run() == "aborted"
    run_id = engine.run_id
    recorded = store.events(run_id)
    assert SAFE_STATE_UNCONFIRMED not in [e["kind"] for e in recorded]
    (ignored,) = [e for e in recorded if e["kind"] == ABORT_NOT_CONFIRMED]
    assert ignored["tool"] == "plasma_cleaner"
    (failure,) = [
        s["error"].removeprefix(f"{CUT_OFF}: ")
        for s in store.table("steps", run_id)
        if s["name"] == "plasma clean" and s["wafer_id"] == "W01"
    ]
    assert "safe state not confirmed: chamber still processing" in failure  # what was on
    assert "RF forward" in failure
    assert ignored["data"] == {"failure": failure}
    assert ignored["message"] == (
        f"plasma_cleaner: the abort's safe-state command was not confirmed as it cut the "
        f"tool's step off ({failure}): the tool may have carried on; the abort commands its "
        "safe state again as the run ends"
    )
    assert ABORT_NOT_CONFIRMED in PlainLog.KINDS  # a log without a live view says it
    assert ignored_aborts(store, run_id) == {"plasma_cleaner": [failure]}
    left = left_report(store, run_id)
    assert left is not None
    assert left["safe_state_unconfirmed"] == {}
    assert left["abort_not_confirmed"] == {"plasma_cleaner": failure}
    first, *rest = left_text(left).splitlines()
    assert first == (
        f"plasma_cleaner ignored the abort's safe-state command as the abort cut its step off "
        f"({failure}); the abort's retry as the run ended found it at rest: its process may "
        "have run on, to its end, on the wafers in it"
    )
    assert rest[0].startswith("left on the simulated tools when the run stopped: W01, W02 in ")
