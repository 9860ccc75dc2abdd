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
