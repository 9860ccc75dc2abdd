"""`packline station check`: every tool's identity, state, alarms and interlocks, read-only."""

from __future__ import annotations

import asyncio
import io
import json

import pytest
import yaml
from rich.console import Console

from packline.cli import main
from packline.cli.output import PIPED_WIDTH, terminal
from packline.cli.station import print_station_check
from packline.clock import VirtualClock
from packline.drivers.equipment import Equipment
from packline.drivers.registry import TOOL_KINDS
from packline.drivers.roles.wire_bonder import BonderState, BondProgram, WireMaterial
from packline.line_lock import Holder, LineBusy, hold_tools, tool_addresses
from packline.sim_instruments.line import SimulatedLine
from packline.sim_instruments.servers.control import LineControl
from packline.station import Station, ToolEntry
from packline.station_check import DEVICE_SEPARATOR, ToolCheck, check_station
from packline.testing import run_until
from packline.testing.plugin import station_tests_holder

#: An address where nothing listens (the discard port).
NOBODY = "modbus+tcp://127.0.0.1:9"


async def test_every_tool_of_a_fresh_line_answers_ready_and_nothing_is_commanded():
    async with SimulatedLine() as line:
        checks = await check_station(line.station, timeout_s=30)
        assert [c.name for c in checks] == list(line.station.tools)
        assert {c.kind for c in checks} == set(TOOL_KINDS)
        for check in checks:
            assert check.ready, (check.name, check.problems())
            assert check.state == "idle"
            assert check.e10_state == "standby"
            spec = TOOL_KINDS[check.kind].load_spec()
            assert list(check.interlocks) == list(spec.interlock_names)
            assert set(check.made_at_rest) == {i.name for i in spec.interlocks if i.made.at_rest}
            assert check.identity is not None
        assert len(line.twin) == 0  # no wafer was loaded anywhere


async def test_a_supply_open_at_rest_makes_its_tool_not_ready_naming_it_and_is_left_open():
    """The check said `ready: yes` beside the plasma cleaner's process gas or the oven's N2
    lost: no step of a lot makes a supply, so the lot held at its first step needing it."""
    async with SimulatedLine(kinds=["plasma_cleaner", "oven"]) as line:
        plasma, oven = line.tools["plasma_cleaner"], line.tools["oven"]
        before = await check_station(line.station)
        assert all(check.ready for check in before)
        plasma.inject_fault("gas_supply")
        oven.inject_fault("n2_supply")
        after = await check_station(line.station)
        assert plasma.injected == {"gas_supply"}  # the check repaired nothing
        assert oven.injected == {"n2_supply"}
    for old, new, supply in zip(before, after, ("gas_supply", "n2_supply"), strict=True):
        assert set(new.open_interlocks()) == {*old.open_interlocks(), supply}
        assert not new.ready
    assert [check.problems() for check in after] == [
        [
            "interlock gas_supply open: closed when the process gas supply is present (made at "
            "rest: a supply no step makes)"
        ],
        [
            "interlock n2_supply open: closed when nitrogen supply pressure is present (made at "
            "rest: a supply no step makes)"
        ],
    ]


async def test_an_interlock_a_step_makes_open_at_rest_is_shown_and_no_problem():
    """A door is closed by the load that needs it: open at rest, the tool is still ready (the
    plasma cleaner's door and base pressure are open on a fresh line; the dispenser's door is
    opened here)."""
    async with SimulatedLine(kinds=["plasma_cleaner", "dispenser"]) as line:
        line.tools["dispenser"].inject_fault("door_open")
        plasma, dispenser = await check_station(line.station)
    assert {"door_closed", "base_pressure"} <= set(plasma.open_interlocks())
    assert dispenser.open_interlocks() == ["door_closed"]
    assert plasma.ready
    assert dispenser.ready


async def test_a_gem_tools_supply_open_at_rest_is_named_from_its_kinds_spec():
    """A GEM tool's interlocks are its dictionary's kind's: the check tells its supply too."""
    async with SimulatedLine(kinds=["plasma_cleaner"], gem=True) as line:
        assert line.station.tools["plasma_cleaner"].driver == "gem"
        line.tools["plasma_cleaner"].inject_fault("gas_supply")
        (check,) = await check_station(line.station)
    assert not check.ready
    assert check.problems() == [
        "interlock gas_supply open: closed when the process gas supply is present (made at "
        "rest: a supply no step makes)"
    ]


async def test_a_tool_that_does_not_answer_is_named_and_the_others_still_checked():
    async with SimulatedLine(kinds=["laser"]) as line:
        tools = dict(line.station.tools)
        tools["plasma_cleaner"] = ToolEntry(driver="plasma_cleaner", address=NOBODY)
        station = Station(name="half-line", tools=tools)
        laser, plasma = await check_station(station, timeout_s=10)
    assert laser.ready
    assert not plasma.ready
    assert plasma.problems() == [plasma.error]
    assert "plasma_cleaner at modbus+tcp://127.0.0.1:9: connect" in plasma.error


@pytest.mark.parametrize(
    "run",
    [
        Holder("run R1 of plasma-clean (process 4711 on host line-pc)", "stop it"),
        station_tests_holder("line.yaml"),
    ],
    ids=["a run", "the station tests"],
)
async def test_a_tool_another_controller_drives_is_named_with_its_hint_never_contacted(
    run: Holder,
):
    """The check connected to every tool, a run's too: on a serial line, a device server or a
    GEM tool's one HSMS session that crosses the run's exchanges, and a SCPI tool's error
    queue read by the check is lost to the run. Its hint is the holder's own: the station
    tests' was `packline show RUN`, with no run to show."""
    async with SimulatedLine(kinds=["plasma_cleaner", "laser"]) as line:
        clients: list[object] = []
        chamber = line.tools["plasma_cleaner"]
        chamber.connection_listeners.append(lambda *change: clients.append(change))
        wanted = {
            address: name
            for address, name in tool_addresses(line.station).items()
            if name == "plasma_cleaner"
        }
        with hold_tools(wanted, run):
            plasma, laser = await check_station(line.station)
        assert clients == []  # not so much as connected to
    assert plasma.driven_by == run.what
    assert plasma.state is None
    assert plasma.identity is None
    assert plasma.problems() == [
        f"driven by {run.what}: not contacted (a second controller would cross its exchanges); "
        f"{run.stop}"
    ]
    assert not plasma.ready
    assert laser.ready
    assert laser.driven_by is None


async def test_a_run_started_while_the_check_talks_to_a_tool_is_refused_naming_the_check(
    monkeypatch,
):
    refusals: list[str] = []
    open_tool = Station.open_tool

    def taken_meanwhile(station: Station, name: str) -> Equipment:  # a run starting now
        with (
            pytest.raises(LineBusy) as refused,
            hold_tools(tool_addresses(station), Holder("run R2", "-")),
        ):
            pass
        refusals.append(str(refused.value))
        return open_tool(station, name)

    monkeypatch.setattr(Station, "open_tool", taken_meanwhile)
    async with SimulatedLine(kinds=["plasma_cleaner"]) as line:
        (check,) = await check_station(line.station)
        assert check.ready
        with hold_tools(tool_addresses(line.station), Holder("run R3", "-")):
            pass  # free again once the check ended
    assert len(refusals) == 1
    assert "is being driven by `packline station check` of station " in refusals[0]
    assert "wait a few seconds until it ends" in refusals[0]


def test_the_cli_exits_1_naming_what_is_not_ready_and_2_for_a_bad_file(tmp_path, capsys):
    station_file = tmp_path / "line.yaml"
    station_file.write_text(
        f"name: dead-line\ntools:\n  plasma_cleaner:\n    driver: plasma_cleaner\n"
        f"    address: {NOBODY}\n"
    )
    assert main(["station", "check", str(station_file), "--json", "--timeout", "10"]) == 1
    (check,) = json.loads(capsys.readouterr().out)
    assert check["name"] == "plasma_cleaner"
    assert check["ready"] is False
    assert "cannot connect" in check["problems"][0]
    assert main(["station", "check", str(tmp_path / "missing.yaml")]) == 2
    assert "missing.yaml" in capsys.readouterr().err


def test_the_station_file_is_named_as_every_other_command_names_it_too(tmp_path, capsys):
    """`station check --station FILE`, as `run` and `validate` take a station, was refused as
    an unrecognized argument; it is the same as `station check FILE`, and naming none or two
    is bad input."""
    missing = str(tmp_path / "missing.yaml")
    assert main(["station", "check", "--station", missing]) == 2
    assert "missing.yaml: cannot read it" in capsys.readouterr().err
    assert main(["station", "check"]) == 2
    assert "name the station file once" in capsys.readouterr().err
    assert main(["station", "check", missing, "--station", missing]) == 2
    assert "name the station file once" in capsys.readouterr().err


async def test_a_tool_that_holds_a_wafer_is_not_ready_and_names_it():
    async with SimulatedLine(kinds=["laminator", "wire_bonder"]) as line:
        async with line.station.open_tool("wire_bonder") as bonder:
            await bonder.load("GEMW02")  # left on the bonder by earlier work
        laminator, bonder = await check_station(line.station)
        assert line.tools["wire_bonder"].wafer_id == "GEMW02"  # the check moved nothing
    assert laminator.ready
    assert laminator.workpieces == ()
    assert not bonder.ready
    assert bonder.state == "idle"
    assert bonder.workpieces == ("GEMW02",)
    assert bonder.problems() == [
        "holds GEMW02: have it unloaded, or taken off and the tool cleared, before a run"
    ]


async def test_the_cli_shows_what_a_tool_holds_and_exits_1(tmp_path, capsys):
    async with SimulatedLine(kinds=["wire_bonder"]) as line:
        async with line.station.open_tool("wire_bonder") as bonder:
            await bonder.load("GEMW02")
        station_file = tmp_path / "line.yaml"
        station_file.write_text(line.station.to_yaml())
        assert await asyncio.to_thread(main, ["station", "check", str(station_file)]) == 1
        table = capsys.readouterr().out
        assert await asyncio.to_thread(main, ["station", "check", str(station_file), "--json"]) == 1
    assert "GEMW02" in table
    assert "0 of 1 tools ready" in table
    (check,) = json.loads(capsys.readouterr().out)
    assert check["workpieces"] == ["GEMW02"]
    assert check["ready"] is False
    assert "holds GEMW02" in check["problems"][0]


async def test_the_cli_names_a_supply_open_at_rest_and_exits_1(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    async with SimulatedLine(kinds=["oven", "dispenser"]) as line:
        line.tools["oven"].inject_fault("n2_supply")
        station_file = tmp_path / "line.yaml"
        station_file.write_text(line.station.to_yaml())
        assert await asyncio.to_thread(main, ["station", "check", str(station_file)]) == 1
        table = capsys.readouterr().out
        assert await asyncio.to_thread(main, ["station", "check", str(station_file), "--json"]) == 1
    ready = " ".join(row.split("│")[-2].strip() for row in table.splitlines() if "│" in row)
    assert ready == (
        "no: interlock n2_supply open: closed when nitrogen supply pressure is present (made at "
        "rest: a supply no step makes) yes"
    )  # the `ready` column's cells, the oven's over three lines, then the dispenser's
    assert "1 of 2 tools ready" in table
    oven, dispenser = json.loads(capsys.readouterr().out)
    assert oven["ready"] is False
    assert oven["interlocks"]["n2_supply"] is False
    assert oven["made_at_rest"]["n2_supply"].endswith("(made at rest: a supply no step makes)")
    assert oven["problems"] == [f"interlock n2_supply open: {oven['made_at_rest']['n2_supply']}"]
    assert dispenser["ready"] is True


async def test_a_tool_reporting_another_serial_number_than_the_file_is_refused_naming_both():
    """Another served line's tool at the address (a reused pty) is not taken for the file's."""
    async with SimulatedLine(kinds=["wire_bonder", "oven"], line_id="b2b2b2") as line:
        served = line.station
        assert {name: entry.serial_number for name, entry in served.tools.items()} == {
            "wire_bonder": "WB-1-b2b2b2",
            "oven": "BO-4-b2b2b2",
        }
        assert all(check.ready for check in await check_station(served))
        earlier = {**served.tools}  # the file an earlier line wrote, whose pty this one took
        earlier["wire_bonder"] = earlier["wire_bonder"].model_copy(
            update={"serial_number": "WB-1-a1a1a1"}
        )
        bonder, oven = await check_station(served.model_copy(update={"tools": earlier}))
    assert oven.ready
    assert not bonder.ready
    assert bonder.identity == "packline WB-1 s/n WB-1-b2b2b2 fw 1.0"
    assert bonder.problems() == [
        "serial number WB-1-b2b2b2, but the station file says WB-1-a1a1a1: another tool "
        "answers at this address (a cable or port moved; on a simulated line, another `sim "
        "serve` took over its pty): correct the address, or use the station file of the line "
        "you mean"
    ]


def test_the_table_shows_a_tool_of_two_devices_one_address_a_line_and_every_column():
    """A new user's piped `station check` of the served line lost its open interlocks, holds
    and ready columns: the electroplater's two addresses made one cell of 76 characters."""
    electroplater = ToolCheck(
        "electroplater",
        "electroplater",
        DEVICE_SEPARATOR.join(
            ("cell modbus+tcp://127.0.0.1:34517", "supply TCPIP0::127.0.0.1::44213::SOCKET")
        ),
        identity="packline EP-1 s/n EP-1-27a8cc fw 1.0",
        state="idle",
        e10_state="standby",
        interlocks={"door": True, "vacuum": False},
    )
    out = io.StringIO()
    print_station_check(Console(file=out, width=PIPED_WIDTH), "line", [electroplater])
    text = out.getvalue()
    assert "│ cell modbus+tcp://127.0.0.1:34517       │" in text
    assert "│ supply TCPIP0::127.0.0.1::44213::SOCKET │" in text
    assert "│ vacuum              │ nothing │ yes   │" in text
    assert max(map(len, text.splitlines())) <= PIPED_WIDTH


def test_the_table_names_the_interlocks_not_made_and_cuts_no_word_of_why_a_tool_is_not_ready(
    monkeypatch, capsys
):
    """A new user read `open interlocks: door_closed` beside `ready: yes` as a contradiction
    (the column lists the interlocks not made: at rest a chamber's door is not), and a table
    piped 200 columns wide cut the address an unreachable tool's `ready` cell names
    (`TCPIP0::127.0.0.1::411…`): rich gave up its width as the others'; now they give way."""
    monkeypatch.setenv("COLUMNS", "200")
    idle = {"identity": "packline LV-355 s/n LV-355-085470 fw 1.0", "state": "idle",
            "e10_state": "standby"}  # fmt: skip
    at_rest = {"door_closed": False, "base_pressure": False, "rf_permissive": False}
    visa = "TCPIP0::127.0.0.1::41129::SOCKET"
    two = DEVICE_SEPARATOR.join(("cell modbus+tcp://127.0.0.1:36905", f"supply {visa}"))
    unreachable = (
        f"grinder at {visa}: connect: cannot connect ([Errno 111] cannot connect to {visa})"
    )
    checks = [
        ToolCheck("plasma_cleaner", "plasma_cleaner", "modbus+tcp://127.0.0.1:3", **idle,
                  interlocks=at_rest),
        ToolCheck("electroplater", "electroplater", two, **idle,
                  interlocks={"cathode_contact": False, "wafer_immersed": False}),
        ToolCheck("grinder", "grinder", visa, error=unreachable),
        ToolCheck("flip_chip_bonder", "flip_chip_bonder", "socket://127.0.0.1:4", **idle,
                  workpieces=("055012-3f2a-W01",), interlocks={"wafer_vacuum": True}),
        ToolCheck("oven", "oven", "modbus+rtu:/dev/ttyUSB0",
                  driven_by="run 20261201-061502-3f2a of sprout-bump-csp (process 4711 on host "
                  "line-pc)"),
    ]  # fmt: skip
    print_station_check(terminal(), "line", checks)
    text = capsys.readouterr().out
    assert "│ no: driven by run 20261201-061502-3f2a " in text
    assert text.rstrip().endswith(
        "2 of 5 tools ready; nothing was commanded; 1 driven by another controller, not contacted"
    )
    assert "┃ interlocks not " in text  # its header wraps, the line below reads `made`
    assert "open interlocks" not in text
    assert "…" not in text
    assert f"│ {visa}: " in text
    assert f"│ {visa}) " in text
    assert "│ no: holds 055012-3f2a-W01: have it " in text
    assert max(map(len, text.splitlines())) <= 200


def test_a_piped_table_of_a_line_with_a_supply_lost_cuts_no_tool_kind_or_interlock_name():
    """A new user's piped check of the served line (160 columns) read `plasma_cle…`,
    `electropla…` and `door_close…` once a lost supply's reason took the `ready` column's
    width: the tool and kind columns are whole now, and an interlock's name is never cut."""
    idle = {"identity": "packline BO-4 s/n BO-4-0001 fw 1.0", "state": "idle",
            "e10_state": "standby"}  # fmt: skip
    n2 = "closed when nitrogen supply pressure is present (made at rest: a supply no step makes)"
    checks = [
        ToolCheck("plasma_cleaner", "plasma_cleaner", "modbus+tcp://127.0.0.1:36905", **idle,
                  interlocks={"door_closed": False, "base_pressure": False}),
        ToolCheck("electroplater", "electroplater", DEVICE_SEPARATOR.join(
            ("cell modbus+tcp://127.0.0.1:34517", "supply TCPIP0::127.0.0.1::44213::SOCKET")
        ), **idle, interlocks={"cathode_contact": False, "wafer_immersed": False}),
        ToolCheck("oven", "oven", "modbus+rtu:///dev/pts/7?unit=1", **idle,
                  interlocks={"door_closed": False, "n2_supply": False,
                              "atmosphere_inert": False},
                  made_at_rest={"n2_supply": n2}),
    ]  # fmt: skip
    out = io.StringIO()
    print_station_check(Console(file=out, width=PIPED_WIDTH), "line", checks)
    text = out.getvalue()
    assert "…" not in text
    for name in ("plasma_cleaner", "electroplater", "door_closed", "atmosphere_inert",
                 "cathode_contact", "wafer_immersed"):  # fmt: skip
        assert f" {name}" in text
    assert max(map(len, text.splitlines())) <= PIPED_WIDTH


@pytest.mark.parametrize("gem", [False, True], ids=["plc", "gem"])
async def test_a_batch_tool_given_more_capacity_than_it_takes_is_not_ready_naming_both(gem):
    """A new user's station gave the plasma cleaner `capacity: 8`: the check said ready, and
    the run failed at its fifth load, `all 4 slots are full`. Every batch kind, on its PLC and
    its GEM face, reports its slots; a station capacity above them is named, a smaller one is
    the line's choice."""
    kinds = ["plasma_cleaner", "oven", "deposition"]
    async with SimulatedLine(kinds=kinds, gem=gem) as line:
        takes = {kind: line.tools[kind].capacity for kind in kinds}
        assert takes == {"plasma_cleaner": 4, "oven": 8, "deposition": 4}
        tools = {
            "plasma_cleaner": line.station.tools["plasma_cleaner"].model_copy(
                update={"capacity": 8}
            ),
            "oven": line.station.tools["oven"].model_copy(update={"capacity": 9}),
            "deposition": line.station.tools["deposition"].model_copy(update={"capacity": 2}),
        }
        checks = await check_station(line.station.model_copy(update={"tools": tools}))
    plasma, oven, deposition = checks
    assert [check.capacity for check in checks] == [4, 8, 4]
    assert plasma.problems() == [
        "capacity 8 in the station file, but the tool takes 4 wafers at once (a batch of more "
        "would fail at its load, the tool full): set `capacity: 4` or less"
    ]
    assert oven.problems() == [
        "capacity 9 in the station file, but the tool takes 8 wafers at once (a batch of more "
        "would fail at its load, the tool full): set `capacity: 8` or less"
    ]
    assert deposition.ready


async def test_a_tool_of_one_wafer_at_a_time_given_a_capacity_of_two_is_not_ready():
    """A wire bonder holds one wafer: a station capacity of 2 would send it a second while it
    holds the first."""
    async with SimulatedLine(kinds=["wire_bonder"]) as line:
        entry = line.station.tools["wire_bonder"].model_copy(update={"capacity": 2})
        (bonder,) = await check_station(
            line.station.model_copy(update={"tools": {"wire_bonder": entry}})
        )
    assert bonder.capacity == 1
    assert bonder.problems() == [
        "capacity 2 in the station file, but the tool takes 1 wafer at once (a batch of more "
        "would fail at its load, the tool full): set `capacity: 1` or less"
    ]


async def test_the_cli_names_the_station_file_line_of_a_capacity_too_large(tmp_path, capsys):
    """`packline sim serve --station-out line.yaml`, its plasma cleaner's `capacity: 4` edited
    to 8, then `station check`: it exits 1 naming both numbers and the line to change."""
    async with SimulatedLine(kinds=["wire_bonder", "plasma_cleaner"]) as line:
        station_file = tmp_path / "line.yaml"
        station_file.write_text(line.station.to_yaml().replace("capacity: 4", "capacity: 8"))
        (number,) = [
            number
            for number, text in enumerate(station_file.read_text().splitlines(), start=1)
            if text.strip() == "capacity: 8"
        ]
        argv = ["station", "check", str(station_file), "--json"]
        assert await asyncio.to_thread(main, argv) == 1
    bonder, plasma = json.loads(capsys.readouterr().out)
    assert bonder["ready"] is True
    assert (plasma["capacity"], plasma["station_capacity"]) == (4, 8)
    assert plasma["problems"] == [
        "capacity 8 in the station file, but the tool takes 4 wafers at once (a batch of more "
        "would fail at its load, the tool full): set `capacity: 4` or less on line "
        f"{number} of station file {station_file}"
    ]


async def test_two_tools_at_each_others_address_are_both_named_as_the_other_kind():
    """A laminator and a ball mounter whose addresses are swapped in the file: each check says
    which kind answered and which its driver drives, the laminator's as clearly as the ball
    mounter's (the laminator's map has the mounter's other registers where its serial is)."""
    async with SimulatedLine(kinds=["laminator", "ball_mounter"]) as line:
        tools = dict(line.station.tools)
        tools["laminator"], tools["ball_mounter"] = (
            tools["laminator"].model_copy(update={"address": tools["ball_mounter"].address}),
            tools["ball_mounter"].model_copy(update={"address": tools["laminator"].address}),
        )
        laminator, mounter = await check_station(Station(name="swapped", tools=tools))
    assert "a ball_mounter; this driver drives a laminator" in str(laminator.error)
    assert "a laminator; this driver drives a ball_mounter" in str(mounter.error)


async def test_tools_swapped_and_a_tool_unreachable_are_every_one_named(unused_port: int):
    """A run once stopped at the first connection error alone; the check, as a run now does,
    names the two tools whose addresses are swapped and the one where nothing listens."""
    async with SimulatedLine(kinds=["laminator", "ball_mounter", "plasma_cleaner"]) as line:
        tools = dict(line.station.tools)
        nobody = f"modbus+tcp://127.0.0.1:{unused_port}"
        tools["laminator"], tools["ball_mounter"], tools["plasma_cleaner"] = (
            tools["laminator"].model_copy(update={"address": tools["ball_mounter"].address}),
            tools["ball_mounter"].model_copy(update={"address": tools["laminator"].address}),
            tools["plasma_cleaner"].model_copy(update={"address": nobody}),
        )
        checks = await check_station(Station(name="swapped", tools=tools), timeout_s=10)
    problems = {check.name: check.problems() for check in checks}
    assert "a ball_mounter; this driver drives a laminator" in problems["laminator"][0]
    assert "a laminator; this driver drives a ball_mounter" in problems["ball_mounter"][0]
    swap = (  # as a run's refusal says it (a new user's trial read two unrelated wrong tools)
        "laminator and ball_mounter each answer as the other's kind: their addresses are "
        "swapped in the station file (give each the other's)"
    )
    assert problems["laminator"][1:] == problems["ball_mounter"][1:] == [swap]
    assert [check.swapped for check in checks] == [("laminator", "ball_mounter")] * 2 + [None]
    (unreachable,) = problems["plasma_cleaner"]
    assert unreachable.startswith(f"plasma_cleaner at {nobody}: connect: cannot connect")


async def test_the_cli_says_two_tools_are_swapped_and_names_the_line_of_each_address(
    tmp_path, capsys, monkeypatch, unused_port: int
):
    """A new user's station file gave the laminator the plasma cleaner's address and the
    plasma cleaner the laminator's: the check named two unrelated wrong tools, where a run
    said they are swapped; and a tool it could not reach was named by its address alone, not
    by the line of the file that gives it. Both, in text and `--json`."""
    nobody = f"modbus+tcp://127.0.0.1:{unused_port}"
    async with SimulatedLine(kinds=["laminator", "plasma_cleaner", "ball_mounter"]) as line:
        station = yaml.safe_load(line.station.to_yaml())
        tools = station["tools"]
        tools["laminator"]["address"], tools["plasma_cleaner"]["address"] = (
            tools["plasma_cleaner"]["address"],
            tools["laminator"]["address"],
        )
        tools["ball_mounter"]["address"] = nobody
        station_file = tmp_path / "line.yaml"
        station_file.write_text(yaml.safe_dump(station, sort_keys=False))
        argv = ["station", "check", str(station_file), "--timeout", "10"]
        assert await asyncio.to_thread(main, [*argv, "--json"]) == 1
        checks = json.loads(capsys.readouterr().out)
        monkeypatch.setenv("COLUMNS", "4000")  # the ready column wide enough for a whole line
        assert await asyncio.to_thread(main, argv) == 1
        text = capsys.readouterr().out
    lines = station_file.read_text().splitlines()
    at = {  # tool -> the line of its address
        tool["name"]: f"line {lines.index(f'    address: {address}') + 1} of station file "
        f"{station_file}"
        for tool in checks
        for address in [tools[tool["name"]]["address"]]
    }
    laminator, plasma, mounter = checks
    swap = (
        "laminator and plasma_cleaner each answer as the other's kind: their addresses are "
        "swapped in the station file (give each the other's)"
    )
    assert laminator["swapped"] == plasma["swapped"] == ["laminator", "plasma_cleaner"]
    assert laminator["problems"][1:] == plasma["problems"][1:] == [swap]
    assert "a plasma_cleaner; this driver drives a laminator" in laminator["problems"][0]
    assert "a laminator; this driver drives a plasma_cleaner" in plasma["problems"][0]
    for check in checks:
        assert check["address_at"] == at[check["name"]]
        assert check["problems"][0].endswith(f"; its address is on {at[check['name']]}")
    assert mounter["swapped"] is None
    (unreachable,) = mounter["problems"]
    assert unreachable.startswith(f"ball_mounter at {nobody}: connect: cannot connect")
    assert text.count(swap) == 2  # in each swapped tool's row
    for place in at.values():
        assert f"its address is on {place}" in text


@pytest.mark.parametrize("gem", [False, True], ids=["host-link", "gem"])
async def test_a_tool_left_working_is_busy_and_not_ready_naming_what_it_does(gem):
    """The bonder left bumping by a controller that died (its run's task gone, nothing
    commanded): the check says it is busy (E10 productive) and what it is doing, as the tool
    says it, calls it not ready, and stops nothing; on its native link and its GEM face (the
    command line's `--json` on a served line: tests/sequences/test_resume_station.py)."""
    async with SimulatedLine(VirtualClock(), kinds=["wire_bonder"], gem=gem) as line:
        sim = line.tools["wire_bonder"]
        async with line.station.open_tool("wire_bonder") as bonder:
            await bonder.load("W01")
            run = asyncio.create_task(
                bonder.form_stud_bumps(BondProgram(WireMaterial.AU, 25, 150, 35, 60, 12))
            )
            await run_until(run, lambda: sim.state is BonderState.BUMPING, sim, timeout_s=60)

            async def nothing() -> None:  # a dead controller commands no safe state
                pass

            bonder._command_safe_state = nothing  # type: ignore[method-assign]
            run.cancel()
            with pytest.raises(asyncio.CancelledError):
                await run
        (check,) = await check_station(line.station)
        assert sim.state is BonderState.BUMPING  # the check stopped nothing
    assert (check.state, check.e10_state, check.working) == ("busy", "productive", "bumping")
    assert not check.ready
    assert check.problems() == [
        "working: bumping, a process no run of this controller started: wait for it to end, "
        "or stop it at the tool (if a run cut off on it left it so, that run's `packline "
        "resume RUN` commands its safe state and takes its wafers off)",
        "holds W01: have it unloaded, or taken off and the tool cleared, before a run",
    ]
    table = io.StringIO()
    print_station_check(Console(file=table, width=400), "line", [check])
    assert "busy (productive): bumping" in table.getvalue()


async def test_a_served_lines_injected_faults_are_named_beside_each_tools_readiness(tmp_path):
    """A new user's trial: `station check` said the chamber ready (exit 0), without a word
    of the `rf_mismatch` injected on it. The check asks the served line (its `control:`)
    and names each fault; the tool stays ready, as a real one with that fault answers, for a
    rehearsal of a run that meets it (decision 0117). Real tools are asked nothing."""
    async with SimulatedLine(kinds=["plasma_cleaner", "oven"]) as line:
        control = LineControl(line.tools, tmp_path / "control", [].append)
        await control.start()
        try:
            line.tools["plasma_cleaner"].inject_fault("rf_mismatch")
            served = line.station.model_copy(update={"control": str(tmp_path / "control")})
            checks = await check_station(served, timeout_s=30)
            real = await check_station(line.station, timeout_s=30)
        finally:
            await control.stop()
    chamber, oven = checks
    assert chamber.ready
    assert chamber.injected_faults == {
        "rf_mismatch": "matching network detuned: reflected power far above its limit"
    }
    assert (oven.injected_faults, [c.injected_faults for c in real]) == ({}, [{}, {}])
    out = io.StringIO()
    print_station_check(Console(file=out, width=PIPED_WIDTH), "line", checks)
    text = " ".join(out.getvalue().split())
    assert "│ yes; fault rf_mismatch " in out.getvalue()  # its readiness, then the fault
    assert chamber.injected_text() == (
        "fault rf_mismatch (matching network detuned: reflected power far above its limit) "
        "injected on the served line: a run on it meets it and records it as injected"
    )
    assert text.endswith(
        "2 of 2 tools ready; nothing was commanded; faults injected on the served line: "
        "plasma_cleaner rf_mismatch"
    )


async def test_a_method_and_recipe_are_checked_against_the_tools_as_a_run_would_be():
    """A new user's station check said every tool ready beside a grinder whose gauge (0.5 um)
    could not resolve tape-substrate's grind tolerance (0.2 um), which the run then refused
    as it connected: the check took no recipe. Given the method and recipe, it asks the
    method's tools check of the tools the recipe drives, kept connected until every tool has
    answered, and names the grinder's refusal as the run's; a gauge that resolves it passes,
    and a tool the check cannot reach is named not asked. Nothing is commanded."""
    from packline.cli.station import check_station_for_recipe
    from packline.sequences.engine.method import get_method
    from packline.sequences.engine.recipe import read_recipe_text

    from ..sequences.helpers import reference_with

    method = get_method("tape-substrate")
    fine = read_recipe_text(
        method.recipe_model,
        yaml.safe_dump(reference_with("tape-substrate.yaml", "grind.tolerance_um", "0.2 um")),
        "fine.yaml",
    )
    kinds = ["grinder", "dicing_saw"]
    coarse = {"grinder": {"gauge_resolution_um": 0.5}}
    async with SimulatedLine(kinds=kinds, tool_options=coarse) as line:
        checks, verdict = await check_station_for_recipe(line.station, method, fine, "fine.yaml")
        assert all(check.ready for check in checks)
        # closed and released once asked: a check (or a run) after it holds them at once
        assert all(check.ready for check in await check_station(line.station))
    (refusal,) = verdict.refusals
    assert refusal.startswith("grinder at TCPIP0::127.0.0.1::")
    assert (
        ": grind.tolerance_um = 0.2 um: finer than this grinder's thickness gauge resolves, "
        "0.5 um ("
    ) in refusal
    assert not verdict.ready
    assert verdict.text().startswith(
        "tape-substrate on fine.yaml: refused by its tools check, as a run would be as it "
        f"connects:\n  {refusal}"
    )
    async with SimulatedLine(kinds=kinds) as line:  # the default gauge: 0.1 um
        _, verdict = await check_station_for_recipe(line.station, method, fine, "fine.yaml")
    assert (verdict.refusals, verdict.ready, verdict.tools_asked) == ((), True, ("grinder",))
    assert verdict.text() == (
        "tape-substrate on fine.yaml: its tools check passed (the tools it drives carry the "
        "recipe out)"
    )
    async with SimulatedLine(kinds=["dicing_saw"]) as line:
        nobody = ToolEntry(driver="grinder", address="TCPIP0::127.0.0.1::9::SOCKET")
        tools = {**line.station.tools, "grinder": nobody}
        station = line.station.model_copy(update={"tools": tools})
        _, verdict = await check_station_for_recipe(station, method, fine, "fine.yaml", 5)
    # its one grinder out of reach, the check asked no tool: no pass (it had read ready)
    assert (verdict.ready, verdict.tools_asked, [*verdict.unasked]) == (False, (), ["grinder"])
    assert verdict.text().startswith(
        "tape-substrate on fine.yaml: its tools check asked no tool, so it passed nothing: a "
        "run would be checked as it connects (grinder not asked: "
    )
