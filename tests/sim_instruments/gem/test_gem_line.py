"""The simulated line with its GEM tools on HSMS: the claimed methods run on them unchanged."""

from __future__ import annotations

import asyncio
import itertools
import signal
import sys
from collections import Counter

import pytest
import yaml

from packline.clock import VirtualClock
from packline.drivers.registry import TOOL_KINDS
from packline.drivers.roles.grinder import Grinder, GrindRecipe, GrindSide
from packline.drivers.roles.wire_bonder import BondProgram, WireBonder, WireMaterial
from packline.sequences.engine import (
    BadInput,
    RunRequest,
    RunStore,
    all_methods,
    open_resume,
    open_run,
    prepare,
    run_report,
)
from packline.sequences.engine.catalogue import shipped
from packline.sim_instruments.line import SimulatedLine
from packline.station import load_station, parse_station


def gem_kinds_of(roles: tuple[str, ...]) -> set[str]:
    """The tool kinds of these roles (a method's, or those a recipe drives) that have a
    simulated GEM face."""
    return {
        name
        for name, kind in TOOL_KINDS.items()
        if kind.role in roles and kind.gem_simulator is not None
    }


async def test_the_line_serves_the_wire_bonder_on_gem_and_its_station_reads_back() -> None:
    kinds = ["wire_bonder", "ball_mounter"]
    async with SimulatedLine(VirtualClock(), kinds=kinds, gem=True) as line:
        entry = line.station.tools["wire_bonder"]
        assert (entry.driver, entry.dictionary) == ("gem", "wire_bonder")
        assert entry.address.startswith("hsms://127.0.0.1:")
        assert line.station.tools["ball_mounter"].driver == "ball_mounter"
        again = parse_station(yaml.safe_load(line.station.to_yaml()))
        assert again.tools["wire_bonder"] == entry
        assert again.tools_for_role("wire_bonder") == ["wire_bonder"]


async def test_the_line_serves_the_grinder_on_gem_and_its_station_driver_grinds() -> None:
    async with SimulatedLine(VirtualClock(), kinds=["grinder"], gem=True) as line:
        entry = line.station.tools["grinder"]
        assert (entry.driver, entry.dictionary) == ("gem", "grinder")
        grinder = line.station.open_tool("grinder")
        assert isinstance(grinder, Grinder)
        async with grinder:
            await grinder.load("G1", GrindSide.BACK)
            await grinder.apply_chuck_vacuum()
            result = await grinder.grind(GrindRecipe(400))
        assert 400.0 <= result.final_thickness_um < 400.0 + result.gauge_resolution_um
        thickness_um = line.twin.get("G1").geometry.thickness_um  # the gauge reads on its grid
        assert result.final_thickness_um <= thickness_um < result.final_thickness_um + 0.1


#: The shipped methods with a GEM tool (another test module may register a method of its own).
@pytest.mark.parametrize(
    "method", [m.name for m in all_methods() if shipped(m) and gem_kinds_of(m.tools)]
)
async def test_each_method_runs_a_lot_of_25_with_its_gem_tools_on_gem(tmp_path, method) -> None:
    store = RunStore(tmp_path / "runs.db")
    try:
        prepared = prepare(RunRequest(method, lot=25, gem=True))
        async with open_run(store, prepared) as engine:
            status = await engine.run()
        report = run_report(store, engine.run_id)
        tools = {row["name"]: row for row in store.table("tools", engine.run_id)}
    finally:
        store.close()
    outcomes = [(w["wafer"], w["status"], w["reason"]) for w in report["wafers"]]
    assert status == "completed", [o for o in outcomes if o[1] != "completed"]
    assert [w["status"] for w in report["wafers"]] == ["completed"] * 25
    assert report["claim_check"]["status"] == "passed"
    on_gem = {name for name, row in tools.items() if row["driver"] == "gem"}
    assert on_gem == gem_kinds_of(prepared.method.tools_for(prepared.recipe))
    if "wire_bonder" in on_gem:
        assert tools["wire_bonder"]["model"] == "WB-1"


async def test_a_gem_chambers_traces_reach_the_records_each_at_its_sample_time(tmp_path) -> None:
    """The plasma cleaner on GEM reports its trace samples ten at a time (S6F1): each is
    recorded at the time the chamber took it, a second apart, as the Modbus driver's polls are."""
    store = RunStore(tmp_path / "runs.db")
    try:
        prepared = prepare(RunRequest("plasma-clean", lot=1, gem=True))
        async with open_run(store, prepared) as engine:
            assert await engine.run() == "completed"
        traces = store.traces(engine.run_id)
    finally:
        store.close()
    rows = zip(traces["tool"], traces["name"], traces["t"], traces["value"], strict=True)
    forward = [
        (t, value)
        for tool, name, t, value in rows
        if (tool, name) == ("plasma_cleaner", "rf_forward")
    ]
    times = [t for t, _ in forward]
    assert len(times) > 60
    # never a report's ten samples at one time: at most a trace's last and the next one's first
    assert max(Counter(times).values()) <= 2
    spacings = {round(later - earlier, 6) for earlier, later in itertools.pairwise(times)}
    assert 1.0 in spacings
    assert max(value for _, value in forward) > 0  # the RF of the run's steps


async def test_sim_serve_gem_serves_a_gem_bonder_another_process_drives(tmp_path) -> None:
    station_file = tmp_path / "sim.yaml"
    server = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "packline", "sim", "serve", "--gem", "--time-scale", "1000"),
        *("--station-out", str(station_file)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert server.stdout is not None
        header = await asyncio.wait_for(server.stdout.readline(), 60)
        assert b"time x1000" in header
        station = load_station(station_file)
        entry = station.tools["wire_bonder"]
        assert (entry.driver, entry.dictionary) == ("gem", "wire_bonder")
        bonder = station.open_tool("wire_bonder")
        assert isinstance(bonder, WireBonder)
        async with bonder:
            await bonder.load("CLI-W1")
            result = await bonder.form_stud_bumps(
                BondProgram(WireMaterial.AU, 25, 150, 35, 60, 12), sites=range(10)
            )
            assert (result.sites_requested, result.bumps_formed) == (10, 10)
            await bonder.unload("CLI-W1")
    finally:
        server.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(server.wait(), 10) == 0


async def test_a_dry_run_on_gem_tools_resumes_on_gem_tools(tmp_path) -> None:
    store = RunStore(tmp_path / "runs.db")

    def terminate_after_the_first_step(event) -> None:
        if event.kind == "step-finished":
            engine.request("terminate", "test")

    try:
        prepared = prepare(RunRequest("bump-seal-clean", lot=2, gem=True))
        async with open_run(store, prepared, observers=[terminate_after_the_first_step]) as engine:
            assert await engine.run() == "terminated"
        async with open_resume(store, engine.run_id) as resumed:
            assert await resumed.run() == "completed"
        tools = {row["name"]: row for row in store.table("tools", engine.run_id)}
    finally:
        store.close()
    assert tools["wire_bonder"]["driver"] == "gem"
    assert tools["dicing_saw"]["driver"] == "gem"


def test_gem_is_refused_for_a_run_on_a_station_file(tmp_path) -> None:
    with pytest.raises(BadInput, match="--gem serves the in-process simulated line"):
        prepare(RunRequest("bump-seal-clean", simulated=False, station_path="x.yaml", gem=True))
