"""An independent client: socat talks to the simulated dispenser by the protocol page."""

from __future__ import annotations

import shutil

import pytest

from packline.clock import VirtualClock
from packline.sim_instruments.dispenser import SimDispenser
from packline.sim_instruments.twin import PanelSpec, TwinStore
from packline.testing.clients import socat_session
from packline.testing.twin import drill_holes

pytestmark = pytest.mark.skipif(shutil.which("socat") is None, reason="socat is not installed")

COMMANDS = (
    b"IDN?\nFILL? \nLOAD P7\nILK?\nFILL AG-PASTE 80 0\nFILL AG-PASTE 3e-1 0\n"
    b"fill snbi 0.3 0.25\nSTAT?\nSEAL EPOXY 400\nSTOP\nFILL?\nSEAL TAR 400\nSEAL EPOXY 400\n"
    b"UNLOAD P8\nSQUIRT\r\n"
)
REPLIES = [
    "OK packline,DP-1,DP-1-0001,1.0",
    "OK NONE",
    "OK",
    "OK DOOR=1 AIR=1",
    "ERR 3 fill volume 80 nl outside 0.01-50",
    "ERR 2 FILL: fill volume '3e-1' is not a decimal number",
    "OK",
    "OK STATE=FILLING WAFER=P7 LEFT=12.4 JOBS=0",
    "ERR 5 not allowed while FILLING",
    "OK",
    "OK WAFER=P7 MATERIAL=SNBI HOLES=0 HOLE=0.000 FILL=0.000 TERMINAL=0.250 OVER=0 UNDER=0 "
    "WORST=0.000",
    "ERR 2 SEAL: resin 'TAR' is not one of EPOXY, SILICONE",
    "ERR 9 panel P7 carries no die",
    "ERR 7 wafer P7 is loaded, not P8",
    "ERR 1 unknown command SQUIRT",
]


@pytest.mark.parametrize("transport", ["socket", "pty"])
async def test_socat_talks_to_the_simulated_dispenser(transport):
    # On a virtual clock no process time passes while socat talks: the stopped fill reached
    # no hole.
    store = TwinStore(PanelSpec(rows=1, columns=2, holes_per_die_side=6))
    drill_holes(store.receive("P7"), 100)
    sim = SimDispenser("disp", store, VirtualClock(), transport=transport)
    assert await socat_session(sim, COMMANDS) == REPLIES
    assert sim.wafer_id == "P7"
    assert sim.job is None
    assert store.get("P7").operations() == ["fill holes"]
