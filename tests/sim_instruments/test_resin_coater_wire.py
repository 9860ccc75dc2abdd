"""An independent client: socat talks to the simulated resin coater by the protocol page."""

from __future__ import annotations

import shutil

import pytest

from packline.clock import VirtualClock
from packline.sim_instruments.resin_coater import SimResinCoater
from packline.sim_instruments.twin import TwinStore
from packline.testing.clients import socat_session

pytestmark = pytest.mark.skipif(shutil.which("socat") is None, reason="socat is not installed")

COMMANDS = (
    b"IDN?\nLOAD W7\nILK?\nSPIN THERMOSET 8000 30\nSPIN THERMOSET 2e3 30\n"
    b"spin stress-relief 4000 10\nSTAT?\nBAKE 100 60\nSTOP\nRESULT?\nSLOT PHOTO 200\n"
    b"BAKE 100 60\nJUMP\r\n"
)
REPLIES = [
    "OK packline,RC-1,RC-1-0001,1.0",
    "OK",
    "OK LID=1 EXHAUST=1",
    "ERR 3 spin speed 8000 rpm outside 300-6000",
    "ERR 2 SPIN: spin speed '2e3' is not a decimal number",
    "OK",
    "OK STATE=COATING WAFER=W7 LEFT=25.8 JOBS=0",
    "ERR 5 not allowed while COATING",
    "OK",
    "OK WAFER=W7 STEP=SPIN RESIN=STRESS-RELIEF FIELD=9.19 COVER=9.19 EDGE=11.95 SOLVENT=0.254",
    "OK",
    "ERR 5 not allowed while COATING",
    "ERR 1 unknown command JUMP",
]


@pytest.mark.parametrize("transport", ["socket", "pty"])
async def test_socat_talks_to_the_simulated_coater(transport):
    # On a virtual clock no process time passes while socat talks.
    sim = SimResinCoater("coat", TwinStore(), VirtualClock(), transport=transport)
    assert await socat_session(sim, COMMANDS) == REPLIES
    assert sim.wafer_id == "W7"
    assert sim.job is not None  # the slot-die coat runs
    assert [layer.kind.value for layer in sim.twin.get("W7").resins.layers] == ["stress-relief"]
