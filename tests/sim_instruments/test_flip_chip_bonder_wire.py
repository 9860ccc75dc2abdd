"""An independent client: socat talks to the simulated flip-chip bonder by the protocol page."""

from __future__ import annotations

import shutil

import pytest

from packline.clock import VirtualClock
from packline.sim_instruments.flip_chip_bonder import SimFlipChipBonder
from packline.sim_instruments.twin import TwinStore
from packline.testing.clients import run_client
from packline.testing.twin import bumped_dies, filled_panel

pytestmark = pytest.mark.skipif(shutil.which("socat") is None, reason="socat is not installed")

COMMANDS = (
    b"IDN?\nBOND 0 1 250 150 20 5\nLOAD P1\nsrc:load W1\nILK?\nUNITS?\n"
    b"BOND 0 7 250 150 20 5\nBOND 0 2 250 150 20 5.\nBOND 0 2 250 150 20 1e1\n"
    b"BOND 0 2.0 250 150 20 5\nBOND 0 2 250 150 0.05 5\nBOND 0 2 250 150 20 5\nSTAT?\n"
    b"UNLOAD P1\nSTOP\nRESULT?\nSRC:UNLOAD W1\nJUMP\r\n"
)
REPLIES = [
    "OK packline,FC-1,FC1-0001,1.0",
    "ERR 7 no wafer loaded",
    "OK",
    "OK 88",
    "OK DOOR=1 VACUUM=1 AIR=1",
    "OK 6",
    "ERR 10 units 0-6 are not 0-5",
    "OK 2",
    "ERR 2 BOND: bond time '1e1' is not a decimal number",
    "ERR 2 BOND: '2.0' is not a whole number",
    "ERR 3 bond force 0.05 N outside 0.1-500",
    "ERR 5 not allowed while HEATING",
    "OK STATE=HEATING SUBSTRATE=P1 SOURCE=W1 LEFT=88 DONE=0 TOTAL=2 STAGE=23.0 REMAIN=81.5 RUNS=0",
    "ERR 5 not allowed while HEATING",
    "OK",
    "OK SUBSTRATE=P1 SOURCE=W1 DIES=0 BONDED=0 TERMINALS=0 SEATED=0 JOINED=0 OFFSET=0.0 "
    "ROT=0.0 FILLMIN=0.0 FILLMAX=0.0",
    "OK",
    "ERR 1 unknown command JUMP",
]


@pytest.mark.parametrize("transport", ["socket", "pty"])
async def test_socat_talks_to_the_simulated_bonder(transport):
    # On a virtual clock no process time passes while socat talks.
    twin = TwinStore()
    filled_panel(twin, "P1")
    bumped_dies(twin, "W1")
    sim = SimFlipChipBonder("fc", twin, VirtualClock(), transport=transport)
    address = await sim.start()
    try:
        if transport == "socket":
            target = f"TCP:127.0.0.1:{address.rpartition(':')[2]}"
        else:
            target = f"{address},raw,echo=0"
        result = await run_client("socat", "-t", "1", "-", target, stdin=COMMANDS)
    finally:
        await sim.stop()
    assert result.returncode == 0, result.stderr
    assert result.lines == REPLIES
    assert sim.wafer_id == "P1"
    assert sim.source_id is None
    assert sim.run is None  # stopped while the stage heated: no die placed
    assert twin.get("W1").singulation.picked == []
