"""An independent client: socat talks to the simulated flip-chip bonder by the protocol page."""

from __future__ import annotations

import shutil

import pytest

from packline.clock import VirtualClock
from packline.sim_instruments.flip_chip_bonder import SimFlipChipBonder
from packline.sim_instruments.twin import TwinStore
from packline.testing.clients import socat_session
from packline.testing.twin import bumped_dies, filled_panel

pytestmark = pytest.mark.skipif(shutil.which("socat") is None, reason="socat is not installed")

COMMANDS = (
    b"IDN?\nBOND 0 1 250 150 20 5\nLOAD P1\nsrc:load W1\nILK?;STAT?\nUNITS?\n"
    b"BOND 0 7 250 150 20 5\nBOND 0 2 250 150 20 5.;STAT?\nBOND 0 2 250 150 20 1e1\n"
    b"BOND 0 2.0 250 150 20 5\nBOND 0 2 250 150 0.05 5\nBOND 0 2 250 150 20 5\nSTAT?\n"
    b"UNLOAD P1\nSTOP\nRESULT?\nSRC:UNLOAD W1\nJUMP\r\n"
)
REPLIES = [
    "OK packline,FC-1,FC-1-0001,1.0",
    "ERR 7 no wafer loaded",
    "OK",
    "OK 88",
    "OK DOOR=1 VACUUM=1 AIR=1;"  # compound lines, as the page's example sends them
    "OK STATE=IDLE SUBSTRATE=P1 SOURCE=W1 LEFT=88 DONE=0 TOTAL=0 STAGE=22.0 REMAIN=0.0 RUNS=0",
    "OK 6",
    "ERR 10 units 0-6 are not 0-5",
    "OK 2;"
    "OK STATE=HEATING SUBSTRATE=P1 SOURCE=W1 LEFT=88 DONE=0 TOTAL=2 STAGE=22.0 REMAIN=82.0 RUNS=0",
    "ERR 2 BOND: bond time '1e1' is not a decimal number",
    "ERR 2 BOND: '2.0' is not a whole number",
    "ERR 3 bond force 0.05 N outside 0.1-500",
    "ERR 5 not allowed while HEATING",
    "OK STATE=HEATING SUBSTRATE=P1 SOURCE=W1 LEFT=88 DONE=0 TOTAL=2 STAGE=22.0 REMAIN=82.0 RUNS=0",
    "ERR 5 not allowed while HEATING",
    "OK",
    "OK SUBSTRATE=P1 SOURCE=W1 DIES=0 BONDED=0 TERMINALS=0 SEATED=0 JOINED=0 OFFSET=0.0 "
    "ROT=0.0 FILLMIN=0.0 FILLMAX=0.0 SPILLED=0",
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
    assert await socat_session(sim, COMMANDS) == REPLIES
    assert sim.wafer_id == "P1"
    assert sim.source_id is None
    assert sim.run is None  # stopped while the stage heated: no die placed
    assert twin.get("W1").singulation.picked == []


TRANSFER_COMMANDS = (
    b"LOAD P1\nXFER 0 1 SN63PB37 20 230 100 10 3\nUNLOAD P1\nLOAD W1\n"
    b"XFER 0 1 sn63pb37 150 230 100 10 3\nXFER 0 1 Sn99 20 230 100 10 3\n"
    b"XFER 0 1 sn63pb37 20 230 100 10 3\nSTAT?\nXFER?\n"
)
TRANSFER_REPLIES = [
    "OK",
    "ERR 12 wafer P1 carries no bumps",
    "OK",
    "OK",
    "ERR 3 film 150 um outside 1-100",
    "ERR 2 XFER: alloy 'Sn99' is not one of Sn63Pb37, SAC305, Sn42Bi58",
    "OK 1",
    "OK STATE=HEATING SUBSTRATE=W1 SOURCE=- LEFT=0 DONE=0 TOTAL=1 STAGE=22.0 REMAIN=46.3 RUNS=0",
    "OK NONE",
]


async def test_socat_starts_a_solder_transfer_by_the_page():
    twin = TwinStore()
    filled_panel(twin, "P1")
    bumped_dies(twin, "W1", material="Pb95Sn5")
    sim = SimFlipChipBonder("fc", twin, VirtualClock())
    assert await socat_session(sim, TRANSFER_COMMANDS) == TRANSFER_REPLIES
    assert sim.run is not None  # the transfer runs: the stage heats for it
    assert sim.run.transfer is not None
