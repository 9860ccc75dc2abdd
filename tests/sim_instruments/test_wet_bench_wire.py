"""An independent client: socat talks to the simulated wet bench by the protocol page."""

from __future__ import annotations

import shutil

import pytest

from packline.clock import VirtualClock
from packline.sim_instruments.twin import TwinStore
from packline.sim_instruments.wet_bench import SimWetBench
from packline.testing.clients import socat_session

pytestmark = pytest.mark.skipif(shutil.which("socat") is None, reason="socat is not installed")

COMMANDS = (
    b"IDN?\nTANK? STRIP\nLOAD W7\nILK?\nDIP CU-ETCH 5000\nDIP CU-ETCH 30.5e1\n"
    b"dip ti-etch 30\nSTAT?\nDIP STRIP 10\nSTOP\nRESULT?\nTEMP STRIP 70\nTANK? strip\nJUMP\r\n"
)
REPLIES = [
    "OK packline,WS-1,WS-1-0001,1.0",
    "OK TANK=STRIP TEMP=60.0 SET=60.0 DIPS=0",
    "OK",
    "OK SASH=1 EXHAUST=1 LEVEL=1",
    "ERR 3 dip time 5000 s outside 1-3600",
    "ERR 2 DIP: dip time '30.5e1' is not a decimal number",
    "OK",
    "OK STATE=DIPPING WAFER=W7 TANK=TI-ETCH LEFT=120.0 JOBS=0",
    "ERR 5 not allowed while DIPPING",
    "OK",
    "OK WAFER=W7 TANK=TI-ETCH TIME=0.0 TEMP=40.0 CHANGE=0.000 LEFT=0 OPENED=0",
    "OK",
    "OK TANK=STRIP TEMP=60.0 SET=70.0 DIPS=0",
    "ERR 1 unknown command JUMP",
]


@pytest.mark.parametrize("transport", ["socket", "pty"])
async def test_socat_talks_to_the_simulated_bench(transport):
    # On a virtual clock no process time passes while socat talks.
    sim = SimWetBench("wet", TwinStore(), VirtualClock(), transport=transport)
    assert await socat_session(sim, COMMANDS) == REPLIES
    assert sim.wafer_id == "W7"
    assert sim.job is None


#: Compound lines (conventions.md) as the page's example sends them: a bath's setting with its
#: reading, the interlocks with the status, a dip with the status it started with; a refused
#: command ends its line.
COMPOUND = (
    b"LOAD W7\nTEMP CU-ETCH 35.0;TANK? CU-ETCH\nILK?;STAT?\nDIP CU-ETCH 30.0;STAT?\n"
    b"DIP STRIP 10;STAT?\n"
)
COMPOUND_REPLIES = [
    "OK",
    "OK;OK TANK=CU-ETCH TEMP=30.0 SET=35.0 DIPS=0",
    "OK SASH=1 EXHAUST=1 LEVEL=1;OK STATE=IDLE WAFER=W7 TANK=- LEFT=0.0 JOBS=0",
    "ERR 8 CU-ETCH is at 30.0 degC, set 35.0",
    "OK;OK STATE=DIPPING WAFER=W7 TANK=STRIP LEFT=100.0 JOBS=0",
]


@pytest.mark.parametrize("transport", ["socket", "pty"])
async def test_socat_sends_the_pages_compound_lines(transport):
    sim = SimWetBench("wet", TwinStore(), VirtualClock(), transport=transport)
    assert await socat_session(sim, COMPOUND) == COMPOUND_REPLIES
