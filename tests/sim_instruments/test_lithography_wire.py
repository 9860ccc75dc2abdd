"""An independent client: socat talks to the simulated litho cell by the protocol page."""

from __future__ import annotations

import shutil

import pytest

from packline.clock import VirtualClock
from packline.sim_instruments.lithography import SimLithography
from packline.sim_instruments.twin import TwinStore
from packline.testing.clients import socat_session

pytestmark = pytest.mark.skipif(shutil.which("socat") is None, reason="socat is not installed")

COMMANDS = (
    b"IDN?\nMASKS?\nRETICLE openings\nRETICLE?\nLOAD W7\nILK?\nEXPOSE 200.0\n"
    b"COAT PR-THICK 9000 30.0\ncoat pbo-p 1500 30\nSTAT?\nEXPOSE 200.0\nSTOP\nFILM?\nJUMP\n"
)
REPLIES = [
    "OK packline,LC-1,LC-1-0001,1.0",
    "OK pads,openings,terminal-vias,wiring-level-1,wiring-level-2,ball-lands,interconnect-lands,"
    "land-openings",
    "OK",
    "OK NAME=openings FEATURE=HOLE SIZE=40.0 SPACE=60.0 PAD=0.0 LENGTH=0.0",
    "OK",
    "OK COVER=1 EXHAUST=1 VACUUM=1 LAMP=1",
    "ERR 8 wafer W7 has no film; COAT first",
    "ERR 3 spin speed 9000 rpm outside 100-8000",
    "OK",
    "OK STATE=COATING WAFER=W7 SPIN=1500 HOTPLATE=22.0 SHOT=0 SHOTS=0 LEFT=45.3 JOBS=0",
    "ERR 5 not allowed while COATING",
    "OK",
    "OK NONE",
    "ERR 1 unknown command JUMP",
]


@pytest.mark.parametrize("transport", ["socket", "pty"])
async def test_socat_talks_to_the_simulated_cell(transport):
    # On a virtual clock no process time passes while socat talks: the coat has just begun.
    sim = SimLithography("litho", TwinStore(), VirtualClock(), transport=transport)
    assert await socat_session(sim, COMMANDS) == REPLIES
    assert sim.received == COMMANDS.decode().splitlines()
    assert sim.wafer_id == "W7"
    assert sim.job is None


#: The host-link rules of conventions.md as a client reads them on the page: CR LF, the line
#: limit, the number grammar, tokens in any case, the read-back queries.
RULES = (
    b"IDN?\r\n" + b"X" * 10_000 + b"\nLOAD W8\nCOAT PR-THIN 3000.5 30\nBAKE nan 60\n"
    b"COAT PR-MEDIUM 3000 30\nRETICLE Openings\nDEVELOP pos 60\n"
)
RULE_REPLIES = [
    "OK packline,LC-1,LC-1-0001,1.0",
    "ERR 1 line too long",
    "OK",
    "ERR 2 COAT: spin speed '3000.5' is not a whole number",
    "ERR 2 BAKE: hotplate temperature 'nan' is not a decimal number",
    "ERR 2 COAT: material 'PR-MEDIUM' is not one of PR-THIN, PR-THICK, NR-THICK, PBO-P, PI-N",
    "ERR 2 RETICLE: mask 'Openings' is not in the library "
    "(pads, openings, terminal-vias, wiring-level-1, wiring-level-2, ball-lands, "
    "interconnect-lands, land-openings)",
    "ERR 8 wafer W8 has no film; COAT first",
]


@pytest.mark.parametrize("transport", ["socket", "pty"])
async def test_socat_finds_the_host_link_rules_of_the_page(transport):
    sim = SimLithography("litho", TwinStore(), transport=transport)
    assert await socat_session(sim, RULES) == RULE_REPLIES
    assert sim.job is None
    assert sim.reticle is None


#: Compound lines (conventions.md) as the page's example sends them: the interlocks with the
#: status, a job with the status it started with, a setting with its read back; a refused
#: command ends its line, and the wait query stands alone.
COMPOUND = (
    b"LOAD W7\nILK?;STAT?\nCOAT PR-THICK 4000 30.0;STAT?\nRETICLE openings;RETICLE?\n"
    b"STAT?;EXPOSE 200.0;STAT?\nILK?;WAIT? COATING 5\n"
)
COATING = "STATE=COATING WAFER=W7 SPIN=4000 HOTPLATE=22.0 SHOT=0 SHOTS=0 LEFT=45.8 JOBS=0"
COMPOUND_REPLIES = [
    "OK",
    "OK COVER=1 EXHAUST=1 VACUUM=1 LAMP=1;"
    "OK STATE=IDLE WAFER=W7 SPIN=0 HOTPLATE=22.0 SHOT=0 SHOTS=0 LEFT=0.0 JOBS=0",
    f"OK;OK {COATING}",
    "ERR 5 not allowed while COATING",
    f"OK {COATING};ERR 5 not allowed while COATING",
    "OK COVER=1 EXHAUST=1 VACUUM=1 LAMP=1;ERR 1 WAIT? stands alone on a line",
]


@pytest.mark.parametrize("transport", ["socket", "pty"])
async def test_socat_sends_the_pages_compound_lines(transport):
    sim = SimLithography("litho", TwinStore(), VirtualClock(), transport=transport)
    assert await socat_session(sim, COMPOUND) == COMPOUND_REPLIES
    assert sim.reticle is None  # its line was refused while coating
