"""A run names every station tool that answers as another kind (sequences/engine/keeper.py):
two tools' addresses swapped in a station file are both named in the one refusal, each with
what answered and what its driver drives, not the first connected alone."""

from __future__ import annotations

import yaml

from packline.clock import ScaledClock
from packline.sequences.engine import RunRequest, RunStore, open_run, prepare
from packline.sim_instruments.line import SimulatedLine

METHOD = "sprout-bump-csp"


async def test_a_run_names_both_tools_of_two_swapped_addresses(store: RunStore, tmp_path):
    tools = prepare(RunRequest(METHOD, lot=1)).method.tools
    async with SimulatedLine(ScaledClock(2000), kinds=list(tools)) as line:
        station = yaml.safe_load(line.station.to_yaml())
        entries = station["tools"]
        entries["laminator"]["address"], entries["ball_mounter"]["address"] = (
            entries["ball_mounter"]["address"],
            entries["laminator"]["address"],
        )
        path = tmp_path / "swapped.yaml"
        path.write_text(yaml.safe_dump(station))
        request = RunRequest(METHOD, simulated=False, station_path=path, lot=1)
        async with open_run(store, prepare(request), confirm=_yes) as engine:
            assert await engine.run() == "failed"
        error = store.run(engine.run_id)["error"]
        first, *named = error.splitlines()
        assert first == "2 tools are other kinds than the station file says:"
        assert [row.split(" at ")[0] for row in named] == ["laminator", "ball_mounter"]
        assert "a ball_mounter; this driver drives a laminator" in named[0]
        assert "a laminator; this driver drives a ball_mounter" in named[1]
        assert len(line.twin) == 0  # no wafer moved


async def _yes(wafers: str, prompt: str) -> tuple[bool, str]:
    return True, "test"
