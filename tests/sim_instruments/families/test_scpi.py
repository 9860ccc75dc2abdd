"""The SCPI family's conventions, the same on every SCPI tool (docs/protocols/conventions.md).

Each test runs against the laser and the grinder over raw sockets: the IEEE 488.2 common
commands with a real status byte and event status register, one error queue per connection
that overflows as SCPI-99 says, one number grammar, one quoting rule, one precedence.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio

from packline.clock import VirtualClock
from packline.drivers.families.scpi_wire import (
    ScpiCommand,
    ScpiPrecondition,
    command,
    matches,
    short_form,
)
from packline.drivers.roles.laser import Atmosphere
from packline.drivers.specs import dc_supply, grinder, laser
from packline.sim_instruments.dc_supply import SimDcSupply
from packline.sim_instruments.families.scpi import ScpiError, ScpiSimTool
from packline.sim_instruments.grinder import SimGrinder
from packline.sim_instruments.laser import SimLaser
from packline.sim_instruments.twin import TwinStore


@dataclass(frozen=True)
class Tool:
    """A SCPI tool kind and lines of its command set the family tests need."""

    make: Callable[[], ScpiSimTool]
    out_of_range: str  # a setting outside the tool's range (-222)
    setting: str  # a numeric setting's header, to send `nan` and friends to
    mnemonic: str  # a setting that takes a mnemonic (-224 for anything else)
    whole: str  # a whole-number setting's header
    busy: tuple[str, ...]  # lines that start the tool's long operation
    alarm_fault: str  # a fault whose alarm ends that operation


TOOLS = {
    "laser": Tool(
        lambda: SimLaser("laser", TwinStore(), VirtualClock()), ":SOUR:FLU 50", ":SOUR:FLU",
        ":PROC:ATM", ":CLE:PULS",
        (":ENCL:DOOR OPEN", ':WAF:LOAD "W1"', ":ENCL:DOOR CLOS", ":OUTP ON", ":JOB:SIT ALL",
         ":OUTP:SHUT OPEN", ":JOB:STAR CLE"),
        "power_drift",
    ),
    "grinder": Tool(
        lambda: SimGrinder("grinder", TwinStore(), VirtualClock()), "SPIN:SPEE 7000",
        "SPIN:SPEE", "CHUC:VAC", "*SRE",
        ('WAF:LOAD "W1",BACK', "CHUC:VAC ON", "GRIN:TARG 300", "GRIN:STAR"),
        "gauge_fault",
    ),
}  # fmt: skip


class Connection:
    """One client connection to a served tool: lines out, reply lines in."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def send(self, *lines: str) -> None:
        self.writer.write("".join(line + "\n" for line in lines).encode())
        await self.writer.drain()

    async def query(self, line: str) -> str:
        await self.send(line)
        return (await asyncio.wait_for(self.reader.readline(), 5)).decode().rstrip("\n")

    async def errors(self) -> list[str]:
        """Every queued error, read until `0,"No error"` (not included)."""
        errors = []
        while (error := await self.query(":SYST:ERR?")) != '0,"No error"':
            errors.append(error)
        return errors


@dataclass
class Served:
    tool: Tool
    sim: ScpiSimTool
    port: int
    opened: list[Connection]

    async def connect(self) -> Connection:
        connection = Connection(*await asyncio.open_connection("127.0.0.1", self.port))
        self.opened.append(connection)
        return connection


@pytest_asyncio.fixture(params=sorted(TOOLS))
async def served(request: pytest.FixtureRequest) -> AsyncIterator[Served]:
    tool = TOOLS[request.param]
    sim = tool.make()
    address = await sim.start()
    served = Served(tool, sim, int(address.split("::")[2]), [])
    yield served
    for connection in served.opened:
        connection.writer.close()
    await sim.stop()


COMMON_QUERIES = ("*ESE?", "*ESR?", "*IDN?", "*OPC?", "*SRE?", "*STB?", "*TST?")
COMMON_SETTINGS = ("*CLS", "*ESE 0", "*OPC", "*RST", "*SRE 0", "*WAI")


async def test_every_mandatory_common_command_is_understood(served: Served):
    client = await served.connect()
    replies = [await client.query(query) for query in COMMON_QUERIES]
    assert replies[2].startswith("packline,")
    assert replies[3] == "1"
    assert replies[6] == "0"  # self-test passed
    await client.send(*COMMON_SETTINGS)
    assert await client.errors() == []


async def test_event_status_register_and_status_byte(served: Served):
    client = await served.connect()
    assert await client.query("*ESR?") == "128"  # power on, as this connection first sees it
    assert await client.query("*ESR?") == "0"  # cleared by the read
    await client.send("FOO:BAR")
    assert await client.query("*ESR?") == "32"  # command error
    await client.send(served.tool.out_of_range)
    assert await client.query("*ESR?") == "16"  # execution error
    await client.send("*OPC")
    assert await client.query("*ESR?") == "1"  # operation complete
    assert await client.query("*STB?") == "4"  # the queue holds two errors
    await client.send("*ESE 48", "*SRE 32", "FOO:BAR")
    assert (await client.query("*ESE?"), await client.query("*SRE?")) == ("48", "32")
    assert await client.query("*STB?") == str(4 | 32 | 64)  # queue, ESB, MSS
    await client.send("*CLS")
    assert await client.query("*STB?") == "0"
    assert await client.errors() == []


async def test_the_queue_holds_ten_errors(served: Served):
    client = await served.connect()
    await client.send(*(f"FOO{n}" for n in range(10)))
    assert await client.errors() == [f'-113,"Undefined header;FOO{n}"' for n in range(10)]


@pytest.mark.parametrize("sent", [11, 30])
async def test_an_overflow_replaces_the_newest_entry(served: Served, sent: int):
    client = await served.connect()
    await client.send(*(f"FOO{n}" for n in range(sent)))
    assert await client.errors() == [
        *(f'-113,"Undefined header;FOO{n}"' for n in range(9)),
        '-350,"Queue overflow"',
    ]


async def test_each_connection_has_its_own_error_queue(served: Served):
    first, second = await served.connect(), await served.connect()
    await first.send("FOO:BAR")
    assert await second.query(":SYST:ERR?") == '0,"No error"'
    await second.send("*CLS")
    assert await first.errors() == ['-113,"Undefined header;FOO:BAR"']


async def test_a_compound_message_answers_its_queries_on_one_line(served: Served):
    """Units joined by `;` run in order, their replies joined by `;`; a unit without a
    leading colon continues the path of the one before it (`:SYST:ALAR?;ERR?` asks
    `SYST:ERR?`), a common command leaves the path alone."""
    client = await served.connect()
    none = served.sim.wire.no_alarm
    assert await client.query("*TST?;:SYST:ERR?;*OPC?") == '0;0,"No error";1'
    assert await client.query(":SYST:ALAR?;*TST?;ERR?") == f'{none};0;0,"No error"'
    assert await client.errors() == []


@pytest.mark.parametrize(
    ("message", "error"),
    [("*TST?;FOO:BAR;*OPC?", '-113,"Undefined header;FOO:BAR"'),
     ("*TST?;;*OPC?", '-102,"Syntax error;empty message unit"')],
)  # fmt: skip
async def test_a_command_error_ends_the_compound_message(served: Served, message: str, error: str):
    """A unit the parser cannot read (-1xx): its error is queued, the units after it are not
    run, and the replies of those before it are answered."""
    client = await served.connect()
    assert await client.query(message) == "0"
    assert await client.query("*ESR?") == "160"  # power on and a command error, no *OPC
    assert await client.errors() == [error]


async def test_an_execution_error_refuses_its_unit_only(served: Served):
    """A unit read whole but not executed (-2xx, here -222): its error is queued and the
    message goes on with the next unit, as IEEE 488.2 and SCPI-99 have it:
    the queries around it are answered, the setting unchanged."""
    client = await served.connect()
    header = ":" + served.tool.setting.removeprefix(":")
    before = await client.query(f"{header}?")
    message = f"*TST?;{served.tool.out_of_range};{header}?;*OPC?"
    assert await client.query(message) == f"0;{before};1"
    assert await client.query("*ESR?") == "144"  # power on and an execution error
    [error] = await client.errors()
    assert error.startswith('-222,"Data out of range;')


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-INF", "fast"])
async def test_not_a_finite_number_is_a_data_type_error(served: Served, value: str):
    client = await served.connect()
    await client.send(f"{served.tool.setting} {value}")
    [error] = await client.errors()
    assert error.startswith('-104,"Data type error;')


async def test_a_decimal_for_a_whole_number_is_a_data_type_error(served: Served):
    client = await served.connect()
    await client.send("*ESE 1.5", f"{served.tool.whole} 2.5")
    assert await client.errors() == [
        '-104,"Data type error;*ESE 1.5 is not a whole number"',
        f'-104,"Data type error;{served.tool.whole} 2.5 is not a whole number"',
    ]


async def test_parameters_before_state_before_range(served: Served):
    client = await served.connect()
    await client.send(*served.tool.busy)
    assert await client.errors() == []
    await client.send(f"{served.tool.setting} abc", served.tool.out_of_range)
    type_error, state_error = await client.errors()
    assert type_error.startswith('-104,"Data type error;')
    assert state_error.startswith('-221,"Settings conflict;')


async def test_quotes_inside_an_error_text_are_doubled(served: Served):
    client = await served.connect()
    await client.send(f'{served.tool.mnemonic} "X"')
    [error] = await client.errors()
    assert error.startswith(f'-224,"Illegal parameter value;{served.tool.mnemonic} ""X"": ')


async def test_a_query_with_a_parameter_and_a_malformed_header(served: Served):
    client = await served.connect()
    await client.send("*IDN? 1", "SP@N 1")
    assert await client.errors() == [
        '-108,"Parameter not allowed;*IDN? takes no parameter"',
        '-102,"Syntax error;header SP@N"',
    ]


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("CURR", True),
        ("SOUR:CURR", True),
        (":sour:curr:lev:imm:ampl", True),
        ("SOURCE:CURRENT:LEVEL", True),
        ("SOU:CURR", False),
        ("SOURCURR", False),
        (":CURR:AMPL", True),
        ("CURR:SOUR", False),
    ],
)
def test_a_power_supplys_root_node_may_be_left_out(text: str, accepted: bool):
    template = "[SOURce:]CURRent[:LEVel][:IMMediate][:AMPLitude]"
    assert matches(template, text) is accepted
    assert short_form(template) == "CURR"


# ------------------------------------------------------------------ overlapped commands


async def test_opc_is_held_until_the_overlapped_command_ends(served: Served):
    client = await served.connect()
    await client.send(*served.tool.busy)
    assert await client.errors() == []
    assert served.sim.operation_pending()
    started_s = served.sim.clock.now()
    assert await client.query("*OPC?") == "1"
    assert not served.sim.operation_pending()
    assert served.sim.clock.now() > started_s  # the clock jumped while the reply was held
    assert served.sim.alarms == []


async def test_an_alarm_ends_the_operation_and_answers_opc_at_once(served: Served):
    client = await served.connect()
    await client.send(*served.tool.busy)
    assert await client.errors() == []
    held = asyncio.ensure_future(client.query("*OPC?"))
    fault_s = served.sim.clock.now() + 0.25  # off the tool's own rescan grid
    await served.sim.clock.sleep(0.25)
    assert not held.done()
    served.sim.inject_fault(served.tool.alarm_fault)
    assert await held == "1"
    assert served.sim.clock.now() == fault_s
    assert served.sim.alarms


async def test_lines_sent_while_opc_is_held_are_answered_after_it_in_order(served: Served):
    client = await served.connect()
    await client.send(*served.tool.busy)
    assert await client.errors() == []
    await client.send("*OPC?", "*IDN?")
    assert await client.query("*TST?") == "1"  # *OPC?'s reply, once the operation ended
    assert not served.sim.operation_pending()
    assert (await client.reader.readline()).startswith(b"packline,")
    assert (await client.reader.readline()) == b"0\n"  # *TST?'s


async def test_opc_sets_its_event_bit_and_wai_holds_the_next_line_until_the_end(served: Served):
    client = await served.connect()
    assert await client.query("*ESR?") == "128"  # power on, cleared by the read
    await client.send(*served.tool.busy, "*OPC")
    assert await client.query("*ESR?") == "0"  # the operation still runs
    await client.send("*WAI")
    assert await client.query("*ESR?") == "1"  # read once it ended
    assert not served.sim.operation_pending()
    assert await client.errors() == []


#: A step of a precondition's scenario that latches the tool's first alarm (no line does).
LATCH_ALARM = "latch an alarm"
#: Every SCPI tool's spec: what each declares of its commands' state (`preconditions`).
SCPI_SPECS = {"laser": laser.SPEC, "grinder": grinder.SPEC, "dc_supply": dc_supply.SPEC}
#: The laser, loaded with its door closed again, ready for a job but for what the step tests.
LASER_LOADED = (":ENCL:DOOR OPEN", ':WAF:LOAD "W1"', ":ENCL:DOOR CLOS")
#: Every SCPI tool as the precondition table makes it: the family's tools, and the DC supply.
MAKERS: dict[str, Callable[[], ScpiSimTool]] = {
    **{kind: tool.make for kind, tool in TOOLS.items()},
    "dc_supply": lambda: SimDcSupply("supply", TwinStore(), VirtualClock()),
}
#: The grinder, with a wafer 725 um thick on its chuck.
GRINDER_LOADED = ('WAF:LOAD "W1",BACK',)
#: The grinder, having ground W1 (at t = 0 s) and given it back.
GRINDER_GROUND_W1 = (
    *GRINDER_LOADED,
    lambda tool: tool.twin.get("W1").record(tool.name, "grind", 0.0),
    "WAF:UNL",
)
#: The grinder, grinding W1 (its coarse wheel under way).
GRINDER_GRINDING = (*GRINDER_LOADED, "CHUC:VAC ON", "GRIN:TARG 300", "GRIN:STAR")
#: What a cycle holds on the grinder (`GRINDING`): by command, a line that would change it and
#: the name the tool refuses it under, its own (the rework load as `WAF:REL`).
GRINDER_HELD_WHILE_GRINDING = {
    "wafer_load": ('WAF:LOAD "W2",BACK', "WAF:LOAD"),
    "wafer_reload": ('WAF:REL "W2",BACK', "WAF:REL"),
    "wafer_unload": ("WAF:UNL", "WAF:UNL"),
    "vacuum": ("CHUC:VAC OFF", "CHUC:VAC"),
    "spindle_rpm": ("SPIN:SPEE 4000", "SPIN:SPEE"),
    "chuck_rpm": ("CHUC:SPEE 100", "CHUC:SPEE"),
    "coarse_feed_um_s": ("GRIN:COAR:FEED 5", "GRIN:COAR:FEED"),
    "fine_feed_um_s": ("GRIN:FINE:FEED 0.2", "GRIN:FINE:FEED"),
    "fine_allowance_um": ("GRIN:FINE:ALL 20", "GRIN:FINE:ALL"),
    "polish_allowance_um": ("POL:ALL 1", "POL:ALL"),
    "target_thickness_um": ("GRIN:TARG 200", "GRIN:TARG"),
    "start": ("GRIN:STAR", "GRIN:STAR"),
}
#: The DC supply's list initiated, waiting for a bus trigger.
SUPPLY_INITIATED = ("CURR:MODE LIST", "TRIG:SOUR BUS", "INIT")


@dataclass(frozen=True)
class Unmet:
    """A state in which `precondition` is the first of the command's left unmet: the steps
    that make it (lines, a `LATCH_ALARM`, seconds to let pass on the tool's clock, something
    done to the tool that no line does), the line refused, and the fields the tool fills its
    words in with there."""

    steps: tuple[str | float | Callable[[Any], None], ...]
    line: str
    fields: dict[str, Any]


#: (tool, command, precondition) -> the state that leaves it the first unmet.
UNMET = {
    ("laser", "emission", laser.ALARM_ACTIVE): Unmet((LATCH_ALARM,), ":OUTP ON", {}),
    ("laser", "door", laser.EMISSION_ON): Unmet((":OUTP ON",), ":ENCL:DOOR OPEN", {}),
    ("laser", "door", laser.SHUTTER_OPEN): Unmet((":OUTP:SHUT OPEN",), ":ENCL:DOOR OPEN", {}),
    ("laser", "wafer_load", laser.DOOR_CLOSED): Unmet((), ':WAF:LOAD "W1"', {}),
    ("laser", "wafer_reload", laser.DOOR_CLOSED): Unmet((), ':WAF:REL "W1"', {}),
    ("laser", "wafer_unload", laser.DOOR_CLOSED): Unmet((), ":WAF:UNL", {}),
    ("laser", "wafer_unload", laser.NO_WAFER): Unmet((":ENCL:DOOR OPEN",), ":WAF:UNL", {}),
    ("laser", "wafer_flip", laser.NO_WAFER): Unmet((), ":WAF:FLIP", {}),
    ("laser", "sites", laser.NO_WAFER): Unmet((), ":JOB:SIT ALL", {}),
    ("laser", "sites_add", laser.NO_WAFER): Unmet((), ":JOB:SIT:ADD 0", {}),
    ("laser", "job_start", laser.JOB_RUNNING): Unmet(
        (*LASER_LOADED, ":OUTP ON", ":JOB:SIT ALL", ":OUTP:SHUT OPEN", ":JOB:STAR CLE"),
        ":JOB:STAR CLE", {},
    ),
    ("laser", "job_start", laser.ALARM_ACTIVE): Unmet((LATCH_ALARM,), ":JOB:STAR CLE", {}),
    ("laser", "job_start", laser.NO_WAFER): Unmet((), ":JOB:STAR CLE", {}),
    ("laser", "job_start", laser.ATMOSPHERE_NOT_READY): Unmet(
        (*LASER_LOADED, ":PROC:ATM ARG"), ":JOB:STAR CLE", {"atmosphere": Atmosphere.ARGON.value}
    ),
    ("laser", "job_start", laser.JET_UNDER_REDUCED_PRESSURE): Unmet(
        (*LASER_LOADED, ":PROC:ATM VAC", 600.0, ":PROC:JET ON"), ":JOB:STAR CLE", {}
    ),
    ("laser", "job_start", laser.NO_SITES): Unmet(LASER_LOADED, ":JOB:STAR CLE", {}),
    **{
        ("grinder", name, grinder.ALARM_ACTIVE): Unmet(
            (LATCH_ALARM,), line, {"alarms": grinder.SPEC.alarms[0].code}
        )
        for name, line in (
            ("wafer_load", 'WAF:LOAD "W1",BACK'), ("wafer_reload", 'WAF:REL "W1",BACK'),
            ("start", "GRIN:STAR"),
        )
    },
    **{
        ("grinder", name, grinder.GRINDING): Unmet(GRINDER_GRINDING, line, {"header": named})
        for name, (line, named) in GRINDER_HELD_WHILE_GRINDING.items()
    },
    ("grinder", "wafer_load", grinder.WAFER_ON_CHUCK): Unmet(
        (*GRINDER_LOADED, "CHUC:VAC ON"), 'WAF:LOAD "W2",BACK', {"wafer": "W1"}
    ),
    ("grinder", "wafer_load", grinder.VACUUM_ON): Unmet(
        ("CHUC:VAC ON",), 'WAF:LOAD "W2",BACK', {}
    ),
    ("grinder", "wafer_load", grinder.PROCESSED_LAST): Unmet(
        GRINDER_GROUND_W1, 'WAF:LOAD "W1",BACK',
        {"processed": "wafer W1 was already processed by grinder (grind at t = 0 s); load it "
         "again only as a rework"},
    ),
    ("grinder", "wafer_reload", grinder.WAFER_ON_CHUCK): Unmet(
        (*GRINDER_LOADED, "CHUC:VAC ON"), 'WAF:REL "W2",BACK', {"wafer": "W1"}
    ),
    ("grinder", "wafer_reload", grinder.VACUUM_ON): Unmet(
        ("CHUC:VAC ON",), 'WAF:REL "W2",BACK', {}
    ),
    ("grinder", "wafer_unload", grinder.NO_WAFER): Unmet(("CHUC:VAC ON",), "WAF:UNL", {}),
    ("grinder", "wafer_unload", grinder.VACUUM_ON): Unmet(
        (*GRINDER_LOADED, "CHUC:VAC ON"), "WAF:UNL", {}
    ),
    ("grinder", "start", grinder.NO_WAFER): Unmet(("GRIN:TARG 300",), "GRIN:STAR", {}),
    ("grinder", "start", grinder.TARGET_NOT_SET): Unmet(GRINDER_LOADED, "GRIN:STAR", {}),
    ("grinder", "start", grinder.TARGET_NOT_BELOW_READING): Unmet(
        (*GRINDER_LOADED, "GRIN:TARG 800"), "GRIN:STAR", {"target": "800", "reading": "725.0"}
    ),
    **{
        ("dc_supply", name, dc_supply.TRANSIENT_INITIATED): Unmet(SUPPLY_INITIATED, line, {})
        for name, line in (
            ("list_current_a", "LIST:CURR 1"), ("list_dwell_s", "LIST:DWEL 1"),
            ("list_count", "LIST:COUN 2"), ("current_mode", "CURR:MODE FIX"),
            ("trigger_source", "TRIG:SOUR IMM"), ("initiate", "INIT"),
        )
    },
    ("dc_supply", "output", dc_supply.PROTECTION_TRIPPED): Unmet(
        ("VOLT 5", "OUTP ON", "VOLT:PROT 1"), "OUTP ON", {"tripped": "OVER_VOLTAGE"}
    ),
    ("dc_supply", "output", dc_supply.INHIBIT_LATCHED): Unmet(
        ("OUTP:INH:MODE LATC", lambda supply: supply.set_inhibit(True)), "OUTP ON", {}
    ),
}  # fmt: skip

#: The laser with a cleaning job running on its loaded wafer.
LASER_JOB_RUNNING = (*LASER_LOADED, ":OUTP ON", ":JOB:SIT ALL", ":OUTP:SHUT OPEN", ":JOB:STAR CLE")
#: What a running job holds on the laser (`JOB_HOLDS_SETTINGS`): by command, a line that would
#: change it and the words the tool names that setting with.
LASER_SETTINGS_HELD = {
    "frequency": (":SOUR:FREQ 100000", "frequency"),
    "fluence": (":SOUR:FLU 0.2", "fluence"),
    "wafer_flip": (":WAF:FLIP", "flip"),
    "atmosphere": (":PROC:ATM AIR", "atmosphere"),
    "jet": (":PROC:JET ON", "gas jet"),
    "suction": (":PROC:SUCT ON", "suction"),
    "sites": (":JOB:SIT ALL", "sites"),
    "sites_clear": (":JOB:SIT:CLE", "sites"),
    "sites_add": (":JOB:SIT:ADD 0", "sites"),
    "drill_mode": (":DRIL:MODE MET", "drill mode"),
    "drill_depth": (":DRIL:DEPT 10", "drill depth"),
    "drill_diameter": (":DRIL:DIAM 30", "via diameter"),
    "clean_pulses": (":CLE:PULS 50", "pulses"),
}
#: The laser's chuck and its running job (a block of its own beside the table above).
UNMET |= {
    ("laser", "wafer_load", laser.WAFER_ON_CHUCK): Unmet(
        (":ENCL:DOOR OPEN", ':WAF:LOAD "W1"'), ':WAF:LOAD "W2"', {"wafer": "W1"}
    ),
    ("laser", "wafer_reload", laser.WAFER_ON_CHUCK): Unmet(
        (":ENCL:DOOR OPEN", ':WAF:LOAD "W1"'), ':WAF:REL "W2"', {"wafer": "W1"}
    ),
    ("laser", "wafer_load", laser.PROCESSED_LAST): Unmet(
        (*LASER_JOB_RUNNING, ":ABOR", ":ENCL:DOOR OPEN", ":WAF:UNL"), ':WAF:LOAD "W1"',
        {"processed": "wafer W1 was already processed by laser (laser clean at t = 0 "
         "s); load it again only as a rework"},
    ),
    **{
        ("laser", name, laser.JOB_HOLDS_SETTINGS): Unmet(
            LASER_JOB_RUNNING, line, {"setting": setting}
        )
        for name, (line, setting) in LASER_SETTINGS_HELD.items()
    },
}  # fmt: skip


@pytest.mark.parametrize("name", LASER_SETTINGS_HELD)
def test_what_a_running_job_holds_is_named_by_each_commands_declaration(name: str):
    """The words naming what a running job would have changed (`JOB_HOLDS_SETTINGS`'s
    `{setting}`) are each command's own declaration (`precondition_fields`): those the tool
    refuses in (the test below) and those its row of the page's commands table gives."""
    setting = LASER_SETTINGS_HELD[name][1]
    declared = command(laser.SPEC, name)
    assert declared.precondition_fields == {"setting": setting}
    assert f"-221 `job running; {setting} cannot change`" in declared.meaning(laser.SPEC)


def test_every_precondition_a_scpi_spec_declares_has_a_state_that_leaves_it_unmet():
    """Each (tool, command, precondition) the SCPI specs declare is tried below, no other: a
    precondition declared anew, or taken off a command, fails here until `UNMET` says so."""
    declared = {
        (kind, entry.name, precondition)
        for kind, spec in SCPI_SPECS.items()
        for entry in spec.commands
        if isinstance(entry, ScpiCommand)
        for precondition in entry.preconditions
    }
    assert set(UNMET) == declared


@pytest.mark.parametrize(
    ("kind", "name", "precondition"),
    sorted(UNMET, key=lambda key: (key[0], key[1], key[2].page_form)),
    ids=lambda value: value.page_form if isinstance(value, ScpiPrecondition) else str(value),
)
async def test_the_simulated_tool_refuses_each_declared_precondition_in_its_words(
    kind: str, name: str, precondition: ScpiPrecondition
):
    """In a state where `precondition` is the first of its command's left unmet, the simulated
    tool refuses the command with the code and detail the spec declares it queues, the words'
    fields filled in: the spec and the tool cannot drift apart unseen."""
    unmet = UNMET[kind, name, precondition]
    tool = MAKERS[kind]()
    for step in unmet.steps:
        if step == LATCH_ALARM:
            tool.latch(tool.spec.alarms[0].code)
        elif isinstance(step, float):
            await tool.clock.sleep(step)
        elif isinstance(step, str):
            tool.answer(step)
        else:
            step(tool)
    assert matches(tool.header(name), unmet.line.partition(" ")[0])
    with pytest.raises(ScpiError) as refused:
        tool.answer(unmet.line)
    queued = (refused.value.code, refused.value.detail)
    assert queued == precondition.queued(**unmet.fields)
