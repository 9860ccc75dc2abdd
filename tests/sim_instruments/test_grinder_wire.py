"""An independent client: socat talks SCPI to the simulated grinder by its page's commands."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from packline.clock import VirtualClock
from packline.drivers.roles.grinder import GrindPhase
from packline.drivers.specs.grinder import ALARM_ACTIVE, STATUS_REPLY
from packline.sim_instruments.grinder import SimGrinder
from packline.sim_instruments.twin import TwinStore
from packline.testing.clients import run_client

pytestmark = pytest.mark.skipif(shutil.which("socat") is None, reason="socat is not installed")


@pytest_asyncio.fixture
async def grinder() -> AsyncIterator[tuple[SimGrinder, str, VirtualClock]]:
    clock = VirtualClock()
    sim = SimGrinder("grinder", TwinStore(), clock)
    address = await sim.start()  # TCPIP0::127.0.0.1::PORT::SOCKET
    yield sim, address.split("::")[2], clock
    await sim.stop()


async def socat(port: str, *lines: str) -> list[str]:
    """Send `lines` with `socat - TCP:127.0.0.1:PORT` and return the reply lines."""
    stdin = "".join(line + "\n" for line in lines).encode()
    result = await run_client("socat", "-t", "2", "-", f"TCP:127.0.0.1:{port}", stdin=stdin)
    assert result.returncode == 0, result.stderr
    return result.lines


async def test_socat_reads_identity_loads_chucks_and_sees_the_error_queue(grinder):
    sim, port, _ = grinder
    replies = await socat(
        port,
        "*IDN?",
        'WAF:LOAD "W01",BACK',
        "CHUC:VAC ON",
        ":SYST:INT?;:WAF?",  # compound messages, as the page's example sends them
        "MEAS:THIC?",
        ":GAUG:RES?;:GRIN:STAT?",
        ":SPIN:SPEE 7000;:CHUC:SPEE 200",
        "SYST:ERR?",
        "SYST:ERR?",
        "*OPC?",
    )
    assert replies == [
        "packline,GR-2,GR-2-0001,1.0",
        'chuck_vacuum=1,wafer_present=1,grinding_water=1;"W01",BACK',
        "725.0",
        "0.1;IDLE,725.0,0,0,0,0.0,0.0,0.0,0,NONE",
        '-222,"Data out of range;SPIN:SPEE 7000 outside 1000-6000 rpm"',
        '0,"No error"',
        "1",
    ]
    assert sim.received[:3] == ["*IDN?", 'WAF:LOAD "W01",BACK', "CHUC:VAC ON"]


async def test_socat_runs_a_cycle_with_long_form_headers(grinder):
    sim, port, clock = grinder
    started = await socat(
        port,
        'wafer:load "W02",back',
        ":CHUCK:VACUUM ON",
        "GRIND:TARGET 700",
        "GRIN:COAR:FEED 10",
        "GRIND:FINE:ALLOWANCE 10",
        "POLISH:ALLOWANCE 0",
        "GRIN:STAR",
        "SYST:ERR?",
        "GRINd:STATus?",
    )
    assert started[0] == '0,"No error"'
    phase, thickness, spindle, chuck, feed, load, *_ = started[1].split(",")
    assert (phase, thickness, spindle, chuck, feed, load) == (
        "COARSE", "725.0", "4500", "200", "10", "70.0",
    )  # fmt: skip
    await clock.sleep(600)  # process time passes on the line's clock
    finished = await socat(port, "GRIN:STAT?", "MEAS:THIC?", "SYST:ALAR?", "ABOR", "*OPC?")
    assert finished[0].startswith("IDLE,700.0,0,0,0,0.0,100.0,")
    assert finished[0].endswith(",1,COMPLETED")
    assert finished[1:] == ["700.0", "NONE", "1"]
    assert 700.0 <= sim.twin.get("W02").geometry.thickness_um < 700.1


async def test_socat_reads_the_status_fields_as_the_page_declares_them():
    """`GRIN:STAT?` as socat reads it is the fields the page's table declares (`STATUS_REPLY`):
    the thickness to the gauge's own decimals (a 1 um gauge writes `725`, as `MEAS:THIC?`), and
    not-a-number (`9.91E+37`) once the gauge has failed, which reads as no thickness."""
    sim = SimGrinder("grinder", TwinStore(), VirtualClock(), gauge_resolution_um=1.0)
    port = (await sim.start()).split("::")[2]
    try:
        loaded = await socat(port, 'WAF:LOAD "W03",FRONT', "GRIN:STAT?", "MEAS:THIC?")
        sim.inject_fault("gauge_fault")
        failed = await socat(port, "GRIN:STAT?", "MEAS:THIC?", "MEAS:SUBS?")
    finally:
        await sim.stop()
    assert loaded == ["IDLE,725,0,0,0,0.0,0.0,0.0,0,NONE", "725"]
    assert STATUS_REPLY.read(loaded[0]).thickness_um == 725.0
    assert failed == ["FAULT,9.91E+37,0,0,0,0.0,0.0,0.0,0,NONE", "9.91E+37", "9.91E+37"]
    status = STATUS_REPLY.read(failed[0])
    assert (status.phase, status.thickness_um) == (GrindPhase.FAULT, None)


async def test_socat_sees_a_load_and_a_start_refused_with_the_latched_alarms(grinder):
    """With alarms latched the grinder refuses a load, a rework load and a cycle's start with
    its error 202, the alarms after its message (alphabetical, as `SYST:ALAR?` answers them):
    the bytes of the spec's `ALARM_ACTIVE`, which their rows of the page's commands table give.
    The chuck stays as it was."""
    sim, port, _ = grinder
    sim.latch("WHEEL_LOAD")
    sim.latch("GAUGE_FAULT")
    replies = await socat(
        port,
        'WAF:LOAD "W01",BACK',
        "SYST:ERR?",
        'WAF:REL "W01",BACK',
        "SYST:ERR?",
        "GRIN:STAR",
        "SYST:ERR?",
        "WAF?",
    )
    refused = '202,"Alarm active;GAUGE_FAULT,WHEEL_LOAD"'
    assert replies == [refused, refused, refused, "NONE"]
    assert ALARM_ACTIVE.words(alarms="GAUGE_FAULT,WHEEL_LOAD") == refused.split(",", 1)[1][1:-1]
