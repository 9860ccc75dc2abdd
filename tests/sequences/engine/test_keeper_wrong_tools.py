"""A run names every station tool that answers as another kind or cannot be reached
(sequences/engine/keeper.py): two tools' addresses swapped in a station file are both named in
the one refusal, each with what answered and what its driver drives, then said to be swapped,
and with them a tool where nothing listens, not the first connected alone; each with the line
of the station file that gives its address. Refused before its first step, the run records
nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from packline.clock import ScaledClock
from packline.sequences.engine import RunRequest, RunStore, open_run, prepare
from packline.sequences.engine.errors import RunNotStarted
from packline.sim_instruments.line import SimulatedLine

from ..helpers import station_lot

METHOD = "sprout-bump-csp"


async def test_a_run_names_both_tools_of_two_swapped_addresses(store: RunStore, tmp_path):
    tools = prepare(RunRequest(METHOD, lot=1)).method.tools
    async with SimulatedLine(ScaledClock(2000), kinds=list(tools)) as line:
        path = _swapped(line, tmp_path)
        request = station_lot(path, 1, METHOD)
        async with open_run(store, prepare(request), confirm=_yes) as engine:
            with pytest.raises(RunNotStarted) as refused:
                await engine.run()
        first, *named, swap = str(refused.value).splitlines()
        assert first == "run not started: 2 tools are other kinds than the station file says:"
        assert [row.split(" at ")[0] for row in named] == ["laminator", "ball_mounter"]
        assert swap.startswith("laminator and ball_mounter each answer as the other's kind")
        assert swap.endswith(
            "; nothing was run and nothing was recorded: run it again once every tool answers as "
            "the station file says"
        )
        assert "a ball_mounter; this driver drives a laminator" in named[0]
        assert "a laminator; this driver drives a ball_mounter" in named[1]
        assert len(line.twin) == 0  # no wafer moved
    assert store.runs() == []  # refused before its first step: no run in the history


async def test_a_run_names_every_wrong_tool_and_every_unreachable_one_at_once(
    store: RunStore, tmp_path, unused_port: int
):
    """A station file with two addresses swapped and a third tool where nothing listens: the
    connection error of the third stopped the run alone, and the swapped tools were found only
    once it was fixed. Every one is named in the one refusal, those of another kind first."""
    tools = prepare(RunRequest(METHOD, lot=1)).method.tools
    async with SimulatedLine(ScaledClock(2000), kinds=list(tools)) as line:
        path = _swapped(line, tmp_path, deposition=f"modbus+tcp://127.0.0.1:{unused_port}")
        request = station_lot(path, 1, METHOD)
        async with open_run(store, prepare(request), confirm=_yes) as engine:
            with pytest.raises(RunNotStarted) as refused:
                await engine.run()
        first, *named = str(refused.value).splitlines()
        assert first == (
            "run not started: 2 tools are other kinds than the station file says, and 1 cannot "
            "be reached:"
        )
        *tools_named, swap = named
        assert [row.split(" at ")[0] for row in tools_named] == [
            "laminator",
            "ball_mounter",
            "deposition",
        ]
        assert tools_named[2].startswith(
            f"deposition at modbus+tcp://127.0.0.1:{unused_port}: connect: cannot connect"
        )
        assert swap.startswith(  # each answers as the other's kind: said as a swap (a trial's)
            "laminator and ball_mounter each answer as the other's kind: their addresses are "
            "swapped in the station file (give each the other's); nothing was run and nothing was "
            "recorded"
        )
        lines = path.read_text().splitlines()
        for row in tools_named:  # each with the line to correct
            address = row.split(" at ")[1].split(": ")[0]
            line_of = lines.index(f"    address: {address}") + 1
            assert row.endswith(f"; its address is on line {line_of} of station file {path}")
        assert len(line.twin) == 0  # no wafer moved
    assert store.runs() == []


async def _yes(wafers: str, prompt: str) -> tuple[bool, str]:
    return True, "test"


def _swapped(line: SimulatedLine, folder: Path, **addresses: str) -> Path:
    """The station file of `line` with the laminator's and the ball mounter's addresses
    swapped, and the tools named in `addresses` at the address given (in `folder`)."""
    station = yaml.safe_load(line.station.to_yaml())
    entries = station["tools"]
    entries["laminator"]["address"], entries["ball_mounter"]["address"] = (
        entries["ball_mounter"]["address"],
        entries["laminator"]["address"],
    )
    for tool, address in addresses.items():
        entries[tool]["address"] = address
    path = folder / "swapped.yaml"
    path.write_text(yaml.safe_dump(station))
    return path
