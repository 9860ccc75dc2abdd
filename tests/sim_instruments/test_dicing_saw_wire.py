"""An independent client: socat talks to the simulated dicing saw by the protocol page."""

from __future__ import annotations

import shutil

import pytest

from packline.clock import VirtualClock
from packline.drivers.families.ascii_host_wire import MAX_REPLY_BYTES
from packline.sim_instruments.dicing_saw import SimDicingSaw
from packline.sim_instruments.twin import TwinStore
from packline.testing.clients import socat_session

pytestmark = pytest.mark.skipif(shutil.which("socat") is None, reason="socat is not installed")

COMMANDS = (
    b"IDN?\nMOUNT W7\nWORK?\nILK?\nSPINDLE 75000\nFEED 30.0\nJUMP\nSTAT?\n"
    # compound lines, as the page's example sends them: a cut's settings with the status
    # after them, then their read backs on one line
    b"FEED 30.0;INDEX 1 10.0000 0.0000;INDEX 2 10.0000 0.0000;DEPTH 30.0;STAT?\n"
    b"FEED?;DEPTH?;INDEX? 1\n"
)
REPLIES = [
    "OK packline,DS-2,DS-2-0001,1.0",
    "OK",
    "OK ID=W7 DIE_X=10.0000 DIE_Y=10.0000 DIAMETER=200.000 STACK=725.0",
    "OK COVER=1 WATER=1 AIR=1 VACUUM=1",
    "ERR 3 spindle speed 75000 rpm outside 20000-60000 rpm",
    "OK",
    "ERR 1 unknown command JUMP",
    "OK STATE=IDLE WORK=W7 LINE=0 LINES=0 SPINDLE=0 SPINDLE_SET=0 CUTS=0 DRESSES=0",
    "OK;OK;OK;OK;OK STATE=IDLE WORK=W7 LINE=0 LINES=0 SPINDLE=0 SPINDLE_SET=0 CUTS=0 DRESSES=0",
    "OK 30.0;OK 30.0;OK 1 10.0000 0.0000",
]


@pytest.mark.parametrize("transport", ["socket", "pty"])
async def test_socat_talks_to_the_simulated_saw(transport):
    sim = SimDicingSaw("saw", TwinStore(), transport=transport)
    assert await socat_session(sim, COMMANDS) == REPLIES
    assert sim.received == COMMANDS.decode().splitlines()
    assert sim.workpiece_id == "W7"


#: The host-link rules of conventions.md as a client reads them on the page: CR LF, the line
#: limit, the number grammar, the read-back queries.
RULES = b"IDN?\r\n" + b"X" * 10_000 + b"\nSPINDLE 30000.5\nFEED nan\nFEED 45.5\r\nFEED?\nDEPTH?\n"
RULE_REPLIES = [
    "OK packline,DS-2,DS-2-0001,1.0",
    "ERR 1 line too long",
    "ERR 2 SPINDLE: spindle speed '30000.5' is not a whole number",
    "ERR 2 FEED: feed 'nan' is not a decimal number",
    "OK",
    "OK 45.5",
    "OK 30.0",
]


@pytest.mark.parametrize("transport", ["socket", "pty"])
async def test_socat_finds_the_host_link_rules_of_the_page(transport):
    sim = SimDicingSaw("saw", TwinStore(), transport=transport)
    assert await socat_session(sim, RULES) == RULE_REPLIES
    assert sim.settings.feed_mm_s == 45.5


async def test_socat_reads_a_compound_lines_reply_within_its_2048_bytes():
    """The tester's line, `STAT?` 42 times (its 3,695-byte reply had passed the limit): as
    many status replies as leave room for the refusal within 2048 bytes, then the refusal."""
    sim = SimDicingSaw("saw", TwinStore(), transport="socket")
    (reply,) = await socat_session(sim, b";".join([b"STAT?"] * 42) + b"\n")
    status = "OK STATE=IDLE WORK=- LINE=0 LINES=0 SPINDLE=0 SPINDLE_SET=0 CUTS=0 DRESSES=0"
    refusal = "ERR 1 reply too long"
    # each reply with its `;`, then the refusal and the line's LF
    fit = (MAX_REPLY_BYTES - len(refusal) - len("\n")) // (len(status) + len(";"))
    assert reply == ";".join([status] * fit + [refusal])
    assert len(reply) + len("\n") <= MAX_REPLY_BYTES


async def test_socat_reads_nothing_measured_of_a_cut_that_cut_no_line():
    """A cracked blade breaks at the cut's first line: socat reads `RESULT?` with `KERF=-`,
    `DEPTH=-`, `FRONT=-` and `BACK=-` (nothing measured, the page's replies table), and
    `BLADE?` with the spindle stopped by the alarm `KERF=-`; a new blade at speed has a kerf
    again."""
    clock = VirtualClock()
    sim = SimDicingSaw("saw", TwinStore(), clock, transport="socket")
    for line in ("MOUNT W7", "BLADE 20.0", "SPINDLE 30000"):
        assert await sim.handle(line) == "OK"
    await clock.sleep(10)
    sim.inject_fault("blade_crack")
    assert await sim.handle("CUT") == "OK"
    await clock.sleep(1)
    replies = await socat_session(sim, b"ALM?\nRESULT?\nBLADE?\n")
    assert replies == [
        "OK BLADE_BROKEN",
        "OK WORK=W7 OUTCOME=FAULTED LINES=0 TOTAL=40 LENGTH=0.0 KERF=- DEPTH=- FRONT=- "
        "BACK=- UNITS=0 TIME=1.0",
        "OK THICKNESS=20.0 KERF=- SINCE_DRESS=0.0 INTERVAL=20000.0 RADIAL_WEAR=0.00 BROKEN=1",
    ]
    await clock.sleep(10)
    for line in ("RST", "BLADE 20.0", "SPINDLE 30000"):
        assert await sim.handle(line) == "OK"
    assert await sim.handle("BLADE?") == (
        "OK THICKNESS=20.0 KERF=23.0 SINCE_DRESS=0.0 INTERVAL=20000.0 RADIAL_WEAR=0.00 BROKEN=0"
    )


async def test_socat_is_refused_what_needs_a_workpiece_or_a_blade_as_the_page_says():
    """The page's `accepted in`: with the chuck empty `UNMOUNT` and `CUT` are `ERR 7`; once a
    cracked blade broke on a cut, `SPINDLE`, `DRESS` and `CUT` are `ERR 8`, the empty chuck
    still refusing `CUT` first, and a new blade takes the spindle again."""
    clock = VirtualClock()
    sim = SimDicingSaw("saw", TwinStore(), clock, transport="socket")
    empty = await socat_session(sim, b"UNMOUNT\nCUT\n")
    assert empty == ["ERR 7 no workpiece is mounted"] * 2
    for line in ("MOUNT W7", "SPINDLE 30000"):
        assert await sim.handle(line) == "OK"
    await clock.sleep(10)
    sim.inject_fault("blade_crack")
    assert await sim.handle("CUT") == "OK"
    await clock.sleep(1)
    assert await sim.handle("ALM?") == "OK BLADE_BROKEN"  # at its first line
    await clock.sleep(10)  # the spindle, stopped by the alarm, coasts down
    replies = await socat_session(
        sim, b"RST\nUNMOUNT\nCUT\nSPINDLE 30000\nDRESS\nMOUNT W8\nCUT\nBLADE 20.0\nSPINDLE 30000\n"
    )
    broken = "ERR 8 blade is broken; install a new blade"
    assert replies == [
        "OK", "OK", "ERR 7 no workpiece is mounted", broken, broken, "OK", broken, "OK", "OK"
    ]  # fmt: skip


async def test_socat_is_refused_what_needs_the_chuck_or_the_spindle_as_the_page_says():
    """The page's `accepted in`, `ERR 5` in the saw's words: `MOUNT` and `REMOUNT` with a
    workpiece mounted, `CUT` and `DRESS` with the spindle stopped or still ramping, `BLADE`
    with the spindle set to turn; once at speed the saw cuts."""
    clock = VirtualClock()
    sim = SimDicingSaw("saw", TwinStore(), clock, transport="socket")
    replies = await socat_session(
        sim, b"MOUNT W7\nMOUNT W8\nREMOUNT W8\nDRESS\nSPINDLE 30000\nCUT\nBLADE 20.0\n"
    )
    mounted = "ERR 5 W7 is mounted; UNMOUNT first"
    not_at_speed = "ERR 5 spindle is not at speed"
    assert replies == [
        "OK", mounted, mounted, not_at_speed, "OK", not_at_speed,
        "ERR 5 spindle is turning; SPINDLE OFF first",
    ]  # fmt: skip
    await clock.sleep(10)
    assert await socat_session(sim, b"CUT\n") == ["OK"]
