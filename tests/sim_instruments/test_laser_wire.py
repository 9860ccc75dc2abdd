"""Independent clients: socat and PyVISA talk SCPI to the simulated laser by its protocol page.

The page's example exchange is replayed line by line from docs/protocols/laser.md itself, so
the page and the simulated tool cannot drift apart.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from packline.clock import VirtualClock
from packline.drivers.families.scpi_wire import command
from packline.drivers.specs.laser import SPEC
from packline.drivers.specs.pages import example_exchange
from packline.sim_instruments.laser import SimLaser
from packline.sim_instruments.twin import ResinKind, TwinStore
from packline.testing.clients import run_client, visa

PAGE = Path(__file__).parents[2] / "docs" / "protocols" / "laser.md"


@dataclass
class Served:
    sim: SimLaser
    port: str
    clock: VirtualClock
    twin: TwinStore


@pytest_asyncio.fixture
async def served() -> AsyncIterator[Served]:
    clock = VirtualClock()
    twin = TwinStore()
    twin.get("LOT7-W03").add_resin(ResinKind.THERMOSET, 50.0)  # as the page's example says
    sim = SimLaser("laser", twin, clock)
    address = await sim.start()  # TCPIP0::127.0.0.1::PORT::SOCKET
    yield Served(sim, address.split("::")[2], clock, twin)
    await sim.stop()


async def socat(port: str, lines: list[str]) -> list[str]:
    """Send `lines` with socat over TCP; return the reply lines it printed."""
    if shutil.which("socat") is None:
        pytest.skip("socat is not installed")
    stdin = ("\n".join(lines) + "\n").encode()
    result = await run_client("socat", "-t", "0.5", "-", f"TCP:127.0.0.1:{port}", stdin=stdin)
    assert result.returncode == 0, result.stderr
    return result.lines


def example_lines() -> tuple[list[str], list[str]]:
    """The page's example: the lines sent, the replies expected."""
    steps = example_exchange(PAGE.read_text(encoding="utf-8"))
    return [step.command for step in steps], [s.reply for s in steps if s.reply is not None]


async def test_socat_replays_the_pages_example_exchange(served: Served):
    sent, replies = example_lines()
    # in one go: the tool holds *OPC? until the four vias are done (25 ms of process time),
    # the lines after it waiting their turn
    assert await socat(served.port, sent) == replies
    wafer = served.twin.get("LOT7-W03")
    assert wafer.openings.layers[-1].open[:4].all()
    assert not wafer.openings.layers[-1].open[4:].any()
    assert served.sim.received == sent


async def test_pyvisa_reads_the_status_in_the_pages_one_compound_query(served: Served):
    """PyVISA, as a station file's `TCPIP0::...::SOCKET` resource, replays the page's example:
    the status it ends with (as it begins with, at connect) is one line of thirteen `;`-joined
    queries, answered on one line by thirteen `;`-joined replies, as the page shows them."""
    pytest.importorskip("pyvisa")
    sent, replies = example_lines()
    status = [line for line in sent if line.startswith(":ENCL:DOOR?;")][-1]
    assert len(status.split(";")) == 13
    address = f"TCPIP0::127.0.0.1::{served.port}::SOCKET"
    answered = await asyncio.to_thread(visa, address, sent)
    assert answered == replies
    queries = [line for line in sent if line.endswith("?")]
    status_reply = answered[len(queries) - 1 - queries[::-1].index(status)]
    assert status_reply.split(";")[3] == '"LOT7-W03"'
    assert status_reply.endswith(";DONE,4,4,0.025,0.000")


async def test_socat_uses_long_forms_any_case_and_reads_the_documented_errors(served: Served):
    replies = await socat(
        served.port,
        [
            "*idn?",
            ":SOURce:WAVelength?",
            "source:spot:diameter?",
            ":system:interlock?",
            ":SOURC:FLU 1",  # neither short nor long form
            ":SYST:ERR?",
            ":SOUR:FREQ fast",
            ":SYSTem:ERRor:NEXT?",
            ":PROC:ATM MOON",
            ":SYST:ERR?",
            ":PROCess:ATMosphere NITRogen",
            ":PROC:ATM?",
            ":PROC:ATM:READ?",
            ":JOB:STAR DRIL",
            ":SYST:ERR?",
            ":SYST:ERR?",
        ],
    )
    assert replies == [
        "packline,LV-355,LV-355-0001,1.0",
        "355",
        "20",
        "1,0,0",
        '-113,"Undefined header;:SOURC:FLU"',
        "-104,\"Data type error;:SOUR:FREQ needs a number, got 'fast'\"",
        '-224,"Illegal parameter value;'
        ':PROC:ATM MOON: expected AIR, VACuum, NITRogen, ARGon, FGAS"',
        "NITR",
        "0",  # the nitrogen purge takes 30 s of process time
        '-221,"Settings conflict;no wafer on the chuck"',
        '0,"No error"',
    ]


async def test_socat_sees_each_command_that_needs_a_wafer_refused_on_an_empty_chuck(
    served: Served,
):
    """The page's commands table: `:WAF:UNL` needs the door open, then a wafer; `:WAF:FLIP`,
    `:JOB:SIT ALL` and `:JOB:SIT:ADD` a wafer: each refused -221 in its row's words."""
    no_wafer = '-221,"Settings conflict;no wafer on the chuck"'
    replies = await socat(
        served.port,
        [
            ":WAF:UNL",
            ":SYST:ERR?",
            ":ENCL:DOOR OPEN",
            ":WAF:UNL",
            ":SYST:ERR?",
            ":WAF:FLIP",
            ":SYST:ERR?",
            ":JOB:SIT ALL",
            ":SYST:ERR?",
            ":JOB:SIT:ADD 0,1",
            ":SYST:ERR?",
        ],
    )
    assert replies == [
        '-221,"Settings conflict;enclosure door closed"',
        no_wafer,
        no_wafer,
        no_wafer,
        no_wafer,
    ]


async def test_socat_sees_an_alarm_latch_and_clear(served: Served):
    assert await socat(served.port, [":OUTP ON", ":SYST:ERR?", ":OUTP?"]) == ['0,"No error"', "1"]
    served.sim.inject_fault("enclosure_opened")
    replies = await socat(
        served.port,
        [
            ":SYST:ALAR?",
            ":OUTP?",
            ":SYST:INT?",
            ":OUTP ON",
            ":SYST:ERR?",
            ":SYST:ALAR:CLE",
            ":SYST:ALAR?",
        ],
    )
    assert replies == [
        "INTERLOCK_OPEN",
        "0",
        "0,0,0",
        '-221,"Settings conflict;alarm active; clear alarms first"',
        "NONE",
    ]


async def test_socat_loads_a_wafer_back_up_and_reads_the_face_up(served: Served):
    replies = await socat(
        served.port,
        [
            ":ENCL:DOOR OPEN",
            ':WAFer:LOAD "LOT7-W03",BACK',
            ":WAF:FACE?",
            ":WAF:FLIP",
            ":WAF:FACE?",
            ":WAF:UNL",
            ':WAF:LOAD "LOT7-W03",SIDEWAYS',
            ":SYST:ERR?",
            ':WAF:LOAD "LOT7-W03"',
            ":WAFer:FACE?",
        ],
    )
    assert replies == [
        "BACK",
        "FRON",
        '-224,"Illegal parameter value;:WAF:LOAD SIDEWAYS: expected FRONt, BACK"',
        "FRON",
    ]


async def test_socat_waits_a_change_of_atmosphere_out_with_opc(served: Served):
    """`:PROC:ATM` is overlapped: `*OPC?` is answered once the new atmosphere has settled (the
    nitrogen purge, 30 s of process time, the virtual clock jumping over it); after `:ABOR` it
    is answered at once, the gas going on settling."""
    replies = await socat(served.port, [":PROC:ATM NITR", "*OPC?", ":PROC:ATM:READ?", ":SYST:ERR?"])
    assert replies == ["1", "1", '0,"No error"']
    assert served.clock.now() >= 30.0
    settled_s = served.clock.now()
    replies = await socat(served.port, [":PROC:ATM VAC", ":ABOR", "*OPC?", ":PROC:ATM:READ?"])
    assert replies == ["1", "0"]  # the pump-down takes 60 s
    assert served.clock.now() < settled_s + 60.0


async def test_socat_reads_the_job_replies_before_any_job_and_of_an_aborted_clean(served: Served):
    """The job replies as the page declares them, field by field: before the first job an
    idle progress and a result of no kind (`NONE`); a clean aborted as it starts, its state
    `ABOR`, its kind `CLE`, nothing scanned."""
    replies = await socat(
        served.port,
        [
            ":JOB:PROG?",
            ":JOB:RES?",
            ":ENCL:DOOR OPEN",
            ':WAF:LOAD "LOT7-W03"',
            ":ENCL:DOOR CLOS",
            ":JOB:SIT:ADD 0,1,2",
            ":OUTP ON",
            ":OUTP:SHUT OPEN",
            ":JOB:STAR CLE",
            ":SYST:ERR?",
            ":ABOR",
            ":JOB:PROGress?",
            ":JOB:RESult?",
        ],
    )
    assert replies == [
        "IDLE,0,0,0.000,0.000",
        "NONE,IDLE,0,0,0.000",
        '0,"No error"',
        "ABOR,0,3,0.000,0.000",
        "CLE,ABOR,0,0,0.000",
    ]


async def test_socat_sees_emission_and_the_shutter_refused_with_the_enclosure_open(served):
    """With the door open the laser refuses `:OUTP ON` and `:OUTP:SHUT OPEN` in the words of
    the interlock they declare, which their rows of the page's commands table give
    (`ScpiCommand.meaning`); `OFF` and `CLOSe` are taken whatever the enclosure."""
    replies = await socat(
        served.port,
        [
            ":ENCL:DOOR OPEN",
            ":OUTP ON",
            ":SYST:ERR?",
            ":OUTP:SHUT OPEN",
            ":SYST:ERR?",
            ":OUTP OFF;:OUTP:SHUT CLOS",
            ":SYST:ERR?",
        ],
    )
    refused = '-221,"Settings conflict;enclosure open"'
    assert replies == [refused, refused, '0,"No error"']
    for name in ("emission", "shutter"):
        row = command(SPEC, name).meaning(SPEC)
        assert row.endswith("with its interlock open: -221 `enclosure open`")
