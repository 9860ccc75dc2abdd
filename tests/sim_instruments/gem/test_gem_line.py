"""The simulated line with its GEM tools on HSMS: the claimed methods run on them unchanged."""

from __future__ import annotations

import asyncio
import signal
import sys

import yaml

from packline.clock import VirtualClock
from packline.drivers.roles.grinder import Grinder, GrindRecipe, GrindSide
from packline.drivers.roles.wire_bonder import BondProgram, WireBonder, WireMaterial
from packline.sequences.engine import RunRequest, RunStore, open_run, prepare, run_report
from packline.sequences.engine.launch import _sim_kinds
from packline.sim_instruments.line import SimulatedLine
from packline.station import load_station, parse_station


def gem_line(clock: VirtualClock, method) -> SimulatedLine:
    return SimulatedLine(clock, kinds=_sim_kinds(method), gem=True)


async def test_the_line_serves_the_wire_bonder_on_gem_and_its_station_reads_back() -> None:
    async with SimulatedLine(VirtualClock(), kinds=["wire_bonder", "laminator"], gem=True) as line:
        entry = line.station.tools["wire_bonder"]
        assert (entry.driver, entry.dictionary) == ("gem", "wire_bonder")
        assert entry.address.startswith("hsms://127.0.0.1:")
        assert line.station.tools["laminator"].driver == "laminator"
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


async def test_bump_seal_clean_runs_a_lot_of_25_with_the_bonder_on_gem(tmp_path) -> None:
    store = RunStore(tmp_path / "runs.db")
    try:
        prepared = prepare(RunRequest("bump-seal-clean", lot=25))
        async with open_run(store, prepared, line_factory=gem_line) as engine:
            status = await engine.run()
        report = run_report(store, engine.run_id)
        tools = {row["name"]: row for row in store.table("tools", engine.run_id)}
    finally:
        store.close()
    assert status == "completed"
    assert [w["status"] for w in report["wafers"]] == ["completed"] * 25
    assert report["claim_check"]["status"] == "passed"
    assert (tools["wire_bonder"]["driver"], tools["wire_bonder"]["model"]) == ("gem", "WB-1")


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
