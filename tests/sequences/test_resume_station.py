"""Resuming a run on real (here: served simulated) tools: on a restarted line at new addresses
(`resume --station FILE`), only with the same tools, and only after each tool's identity
matches the one the run recorded."""

from __future__ import annotations

import re
import sqlite3

import pytest
import yaml

from packline.clock import WallClock
from packline.sequences.engine import BadInput, RunRequest, open_resume, open_run, prepare
from packline.sim_instruments.line import SimulatedLine


def station_file(tmp_path, line: SimulatedLine, name: str, **changes) -> str:
    """The line's station file, with tool entries changed (`None` drops a tool)."""
    station = yaml.safe_load(line.station.to_yaml())
    for tool, entry in changes.items():
        if entry is None:
            del station["tools"][tool]
        else:
            station["tools"][tool] = {**station["tools"][tool], **entry}
    path = tmp_path / name
    path.write_text(yaml.safe_dump(station))
    return str(path)


def abort_at_first_step(engine_box: list) -> object:
    def observe(event) -> None:
        if event.kind == "step-started":
            engine_box[0].request("abort", "test")

    return observe


async def aborted_station_run(store, tmp_path) -> str:
    """A plasma-clean run on a served line, aborted at its first step; the line is gone after."""
    async with SimulatedLine(WallClock(), kinds=["plasma_cleaner"]) as line:
        first = station_file(tmp_path, line, "first.yaml")
        prepared = prepare(RunRequest("plasma-clean", simulated=False, station_path=first, lot=2))
        box: list = []
        async with open_run(store, prepared, observers=[abort_at_first_step(box)]) as engine:
            box.append(engine)
            assert await engine.run() == "aborted"
    return engine.run_id


async def test_resume_on_a_restarted_line_at_new_addresses_checks_and_records_identities(
    store, tmp_path
):
    run_id = await aborted_station_run(store, tmp_path)
    (first,) = store.table("tools", run_id)
    assert (first["session"], first["name"], first["driver"]) == (
        1,
        "plasma_cleaner",
        "plasma_cleaner",
    )
    assert first["model"]
    assert first["serial_number"]
    # the tool was repaired meanwhile: a new serial number is allowed, and noted
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE tools SET serial_number = 'PC-OLD-1' WHERE run_id = ?", (run_id,))
    async with SimulatedLine(WallClock(), kinds=["plasma_cleaner"]) as line:
        second = station_file(tmp_path, line, "second.yaml")
        assert line.station.tools["plasma_cleaner"].address != first["address"]
        box: list = []
        async with open_resume(
            store, run_id, station_path=second, observers=[abort_at_first_step(box)]
        ) as engine:
            box.append(engine)
            assert await engine.run() == "aborted"
        address = line.station.tools["plasma_cleaner"].address
    tools = store.table("tools", run_id)
    assert [(t["session"], t["address"]) for t in tools] == [
        (1, first["address"]),
        (2, address),
    ]
    replaced = [e for e in store.table("events", run_id) if e["kind"] == "tool-replaced"]
    assert len(replaced) == 1
    assert "was s/n PC-OLD-1 in session 1" in replaced[0]["message"]
    assert address in store.run(run_id)["station_yaml"]  # the run now names the new line


async def test_resume_refuses_a_tool_of_another_model_before_sending_it_anything(store, tmp_path):
    run_id = await aborted_station_run(store, tmp_path)
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE tools SET model = 'PX-9000' WHERE run_id = ?", (run_id,))
    async with SimulatedLine(WallClock(), kinds=["plasma_cleaner"]) as line:
        second = station_file(tmp_path, line, "second.yaml")
        chamber = line.tools["plasma_cleaner"]
        async with open_resume(store, run_id, station_path=second) as engine:
            assert await engine.run() == "failed"
        error = store.run(run_id)["error"]
        assert "tool plasma_cleaner at" in error
        assert "PX-9000" in error
        assert "not resuming on a different tool" in error
        assert chamber.received == []  # it was asked who it is, and sent nothing
    # the run can still be resumed once the station file is right
    assert store.run(run_id)["status"] == "failed"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"plasma_cleaner": None}, "tool plasma_cleaner (plasma_cleaner): not in the station file"),
        (
            {"plasma_cleaner": {"driver": "laminator"}},
            "driver plasma_cleaner in the run, laminator",
        ),
    ],
)
async def test_resume_refuses_a_station_with_other_tools_naming_the_difference(
    store, tmp_path, changes, expected
):
    run_id = await aborted_station_run(store, tmp_path)
    async with SimulatedLine(WallClock(), kinds=["plasma_cleaner", "laminator"]) as line:
        other = station_file(tmp_path, line, "other.yaml", **changes)
        with pytest.raises(BadInput, match=re.escape(expected)):
            async with open_resume(store, run_id, station_path=other):
                pass
    assert store.run(run_id)["sessions"] == 1  # nothing was started


async def test_a_dry_run_is_resumed_without_a_station(store, tmp_path):
    box: list = []
    prepared = prepare(RunRequest("plasma-clean", lot=1))
    async with open_run(store, prepared, observers=[abort_at_first_step(box)]) as engine:
        box.append(engine)
        assert await engine.run() == "aborted"
    with pytest.raises(BadInput, match="is a dry run on the in-process simulated line"):
        async with open_resume(store, engine.run_id, station_path=tmp_path / "x.yaml"):
            pass
