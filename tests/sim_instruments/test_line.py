"""The bundled simulated line: every registered tool kind served on loopback, as a station."""

from __future__ import annotations

import pytest

from packline.clock import VirtualClock
from packline.drivers.registry import TOOL_KINDS
from packline.drivers.roles.laser import LaserSource
from packline.sim_instruments.line import SimulatedLine
from packline.station import parse_station


async def test_the_line_serves_every_registered_kind_and_describes_it_as_a_station():
    async with SimulatedLine(VirtualClock()) as line:
        station = line.station
        assert set(station.tools) == {kind.role for kind in TOOL_KINDS.values()}
        assert station.simulated
        for name, entry in station.tools.items():
            addresses = (
                [entry.address] if isinstance(entry.address, str) else entry.address.values()
            )
            for address in addresses:  # a tool of several devices has one per device
                assert "127.0.0.1" in address or "/dev/pts/" in address  # loopback, or a pty
            async with station.open_tool(name, line.clock) as driver:
                assert driver.identity is not None
        # the printed station file is a valid station file for another process
        assert parse_station(__import__("yaml").safe_load(station.to_yaml())).tools == station.tools
    with pytest.raises(RuntimeError, match="not started"):
        _ = line.station


async def test_a_served_lines_tools_and_devices_answer_their_model_and_the_lines_id():
    """conventions.md: a served tool's serial is `<model>-<line id>`, where a tool built on its
    own has `<model>-0001`; the electroplater's DC supply, a device of it, follows the rule."""
    for line_id, unit in (("c3c3c3", "c3c3c3"), (None, "0001")):
        line = SimulatedLine(VirtualClock(), kinds=["electroplater"], line_id=line_id)
        async with line, line.station.open_tool("electroplater", line.clock) as plater:
            assert plater.identity is not None
            assert plater.identity.serial_number == f"EP-1-{unit}"
            assert plater.supply.identity.serial_number == f"DCS-30-50-{unit}"


async def test_a_served_co2_laser_answers_the_serial_number_of_its_own_model():
    """A laser given a CO2 source (as tape-substrate's line is, `sim serve --method`) says it
    is an LC-106: its serial names that model, where it had named the UV laser's
    (`packline LC-106 s/n LV-355-...`)."""
    co2 = {"laser": {"source": LaserSource.CO2_10600}}
    line = SimulatedLine(VirtualClock(), kinds=["laser"], tool_options=co2, line_id="c3c3c3")
    async with line, line.station.open_tool("laser", line.clock) as laser:
        assert laser.identity is not None
        assert (laser.identity.model, laser.identity.serial_number) == ("LC-106", "LC-106-c3c3c3")
        assert line.station.tools["laser"].serial_number == "LC-106-c3c3c3"


async def test_unknown_kinds_are_refused():
    with pytest.raises(ValueError, match="unknown tool kinds \\['toaster'\\]"):
        SimulatedLine(kinds=["toaster"])


async def test_stop_is_idempotent():
    line = SimulatedLine(kinds=["plasma_cleaner"])
    await line.start()
    await line.stop()
    await line.stop()


async def test_starting_twice_is_refused_and_serves_nothing_more():
    line = SimulatedLine(VirtualClock(), kinds=["plasma_cleaner"])
    await line.start()
    try:
        tool = line.tools["plasma_cleaner"]
        with pytest.raises(RuntimeError, match="already started"):
            await line.start()
        assert line.tools == {"plasma_cleaner": tool}
    finally:
        await line.stop()


async def test_a_role_s_simulated_tool_takes_the_options_given_for_it():
    line = SimulatedLine(
        VirtualClock(), kinds=["laser"], tool_options={"laser": {"source": LaserSource.CO2_10600}}
    )
    async with line, line.station.open_tool("laser", line.clock) as driver:
        assert driver.identity is not None
        assert driver.identity.model == "LC-106"
    with pytest.raises(ValueError, match=r"tool options for role\(s\) \['laser'\], not served"):
        SimulatedLine(kinds=["oven"], tool_options={"laser": {}})


@pytest.mark.parametrize(
    ("serial_over_tcp", "options", "address"),
    [(False, {}, "modbus+rtu:/dev/pts/"),
     (True, {}, "modbus+rtu:socket://127.0.0.1:"),
     (True, {"oven": {"transport": "rtu-pty"}}, "modbus+rtu:/dev/pts/")],
)  # fmt: skip
async def test_an_rtu_line_is_served_on_a_pty_or_its_frames_over_tcp(
    serial_over_tcp: bool, options: dict[str, dict[str, str]], address: str
):
    """The oven's RTU line: a pty by default, framed over TCP with `serial_over_tcp` (the dry
    run's line) unless its options name a transport; its driver reaches it either way."""
    line = SimulatedLine(
        VirtualClock(), kinds=["oven"], serial_over_tcp=serial_over_tcp, tool_options=options
    )
    async with line, line.station.open_tool("oven", line.clock) as driver:
        assert str(line.station.tools["oven"].address).startswith(address)
        assert driver.identity is not None


def test_a_kind_given_twice_is_refused():
    with pytest.raises(ValueError, match=r"more than one tool for role\(s\) \['plasma_cleaner'\]"):
        SimulatedLine(kinds=["plasma_cleaner", "plasma_cleaner"])


@pytest.mark.parametrize("method", ["bump-seal-clean", "plasma-clean"])
async def test_a_dry_run_with_the_clock_checks_on_never_jumps_over_a_request(
    method: str, tmp_path, monkeypatch: pytest.MonkeyPatch
):
    # every tool's server registers its connections with the clock (TCP, pty, Modbus), and the
    # checks refuse a jump while any has an unread request, bytes are on their way in memory
    # (the dry run's tools and links meet there, decision 0063) or an exchange is open
    from packline.sequences.engine import RunRequest, RunStore, open_run, prepare

    monkeypatch.setenv("PACKLINE_CLOCK_CHECKS", "1")
    store = RunStore(tmp_path / "runs.db")
    try:
        watched = []

        def count_watched(event) -> None:
            if event.kind == "step-finished":
                clock = engine.clock
                in_memory = clock.wires._listening  # type: ignore[union-attr]
                watched.append(len(clock._served) + len(in_memory))  # type: ignore[attr-defined]

        prepared = prepare(RunRequest(method, lot=2))
        async with open_run(store, prepared, observers=[count_watched]) as engine:
            assert engine.clock.checks  # type: ignore[attr-defined]
            assert await engine.run() == "completed"
        # the tools' connections were watched (sockets) or in memory while the lot ran
        assert max(watched) >= 1
    finally:
        store.close()
