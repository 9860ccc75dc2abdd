"""socat, a client nobody here wrote, talks to the simulated bonder by its protocol page."""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path

import pytest

from packline.clock import ScaledClock
from packline.drivers.families.ascii_host import MAX_LINE_CHARS
from packline.sim_instruments.families.ascii_host import HostRefused
from packline.sim_instruments.twin import TwinStore, WaferSpec
from packline.sim_instruments.wire_bonder import SimWireBonder
from packline.testing.clients import run_client, socat_session

pytestmark = pytest.mark.skipif(shutil.which("socat") is None, reason="socat is not installed")

SESSION = [
    "ID?",
    "ILK?",
    "LOAD W01",
    "MAP?",
    "ILK?;STAT?",  # a compound line, as the page's example sends it
    "PROG AU 25.0 150.0 35.0 60.0 12.0",
    "PROG?",
    "SEL:CLR",
    "SEL:ADD 0-99,150,200-209",
    "SEL?",
    "PROG AU 25.0 150.0 100.0 60.0 12.0",
]
REPLIES = [
    "OK packline,WB-1,WB-1-0001,1.0",
    "OK COVER=1 VACUUM=0 WIRE=1",
    "OK",
    "OK 784",
    "OK COVER=1 VACUUM=1 WIRE=1;"
    "OK STATE=IDLE WAFER=W01 DONE=0 TOTAL=0 STACK=0 STAGE=22.0 SPOOL=500.000 ELAPSED=0.0 LAST=NONE",
    "OK",
    "OK AU 25.0 150.0 35.0 60.0 12.0",
    "OK 0",
    "OK 111",
    "OK 111",
    "ERR 3 bond_force_gf 100 gf outside 15-60",
]


async def socat(peer: str, lines: list[str]) -> list[str]:
    """Send `lines` through `socat - <peer>` and return the lines it printed."""
    stdin = "".join(f"{line}\n" for line in lines).encode()
    result = await run_client("socat", "-t", "0.5", "-", peer, stdin=stdin)
    assert result.returncode == 0, result.stderr
    return result.lines


@pytest.mark.parametrize(
    ("transport", "peer"),
    [("pty", "{address},raw,echo=0"), ("socket", "TCP:{host}:{port}")],
)
async def test_socat_runs_the_documented_session(transport, peer):
    sim = SimWireBonder(
        "bonder", TwinStore(WaferSpec(diameter_mm=100, pads_per_die_side=4)), transport=transport
    )
    address = await sim.start()
    try:
        host, _, port = address.removeprefix("socket://").partition(":")
        replies = await socat(peer.format(address=address, host=host, port=port), SESSION)
    finally:
        await sim.stop()
    assert replies == REPLIES
    assert sim.received == SESSION
    if transport == "socket":
        assert address.startswith("socket://127.0.0.1:")
    else:
        assert address.startswith("/dev/pts/")


#: The host-link rules of conventions.md as a client reads them on the page: CR LF, the line
#: limit, the number grammar.
RULES = [
    "ID?\r",
    "X" * 10_000,
    "PROG AU nan 150.0 35.0 60.0 12.0",
    "PROG AU 25.0 inf 35.0 60.0 12.0",
    "PROG AU 25 150 35 60 12\r",
    "PROG?",
]
RULE_REPLIES = [
    "OK packline,WB-1,WB-1-0001,1.0",
    "ERR 1 line too long",
    "ERR 2 PROG: wire_diameter_um 'nan' is not a decimal number",
    "ERR 2 PROG: stage_temperature_c 'inf' is not a decimal number",
    "OK",
    "OK AU 25.0 150.0 35.0 60.0 12.0",
]


@pytest.mark.parametrize(
    ("transport", "peer"),
    [("pty", "{address},raw,echo=0"), ("socket", "TCP:{host}:{port}")],
)
async def test_socat_finds_the_host_link_rules_of_the_page(transport, peer):
    sim = SimWireBonder("bonder", TwinStore(), transport=transport)
    address = await sim.start()
    try:
        host, _, port = address.removeprefix("socket://").partition(":")
        replies = await socat(peer.format(address=address, host=host, port=port), RULES)
    finally:
        await sim.stop()
    assert replies == RULE_REPLIES
    assert MAX_LINE_CHARS < len(sim.received[1]) < 10_000  # reached the tool cut short


#: One site of W01 bumped; once its run is over (the bonder is served at 1000 times the wall
#: clock: the stage heats in some 20 ms), W01 unloaded and W02 loaded: the status read then is
#: of W02, which has no run yet.
BUMP_ONE_SITE = ["LOAD W01", "PROG AU 25.0 100.0 35.0 60.0 12.0", "SEL:ADD 0", "BUMP 1"]
NEXT_WAFER = ["STAT?", "UNLOAD W01", "LOAD W02", "STAT?"]


async def test_the_status_after_a_load_is_of_the_wafer_loaded_not_the_run_before():
    sim = SimWireBonder(
        "bonder",
        TwinStore(WaferSpec(diameter_mm=100, pads_per_die_side=4)),
        ScaledClock(1000),
        transport="socket",
    )
    address = await sim.start()
    try:
        peer = "TCP:" + address.removeprefix("socket://")
        assert await socat(peer, BUMP_ONE_SITE) == ["OK", "OK", "OK 1", "OK 1"]
        await asyncio.sleep(0.5)  # 500 s of the bonder's time: the run is over
        ended, *replies = await socat(peer, NEXT_WAFER)
    finally:
        await sim.stop()
    assert ended.startswith("OK STATE=IDLE WAFER=W01 DONE=1 TOTAL=1 STACK=1 STAGE=100.0 ")
    assert ended.endswith(" LAST=COMPLETED")
    assert replies == [
        "OK",
        "OK",
        "OK STATE=IDLE WAFER=W02 DONE=0 TOTAL=0 STACK=0 STAGE=100.0 SPOOL=500.000 ELAPSED=0.0 "
        "LAST=NONE",
    ]


async def test_socat_is_refused_a_load_onto_a_loaded_chuck_as_the_page_says():
    """The page's `accepted in` of `LOAD` and `RELOAD`: with a wafer on the chuck `ERR 4` in
    the bonder's words, naming that wafer, whichever wafer is sent; once it is unloaded the
    chuck takes another."""
    sim = SimWireBonder("bonder", TwinStore(), transport="socket")
    replies = await socat_session(
        sim, b"LOAD W01\nLOAD W02\nRELOAD W01\nUNLOAD W01\nRELOAD W02\nLOAD W01\n"
    )
    assert replies == [
        "OK", "ERR 4 wafer W01 is on the chuck", "ERR 4 wafer W01 is on the chuck",
        "OK", "OK", "ERR 4 wafer W02 is on the chuck",
    ]  # fmt: skip
    assert sim.wafer_id == "W02"


#: The page's rule for a wafer id, in its command set.
WAFER_ID_RULE = re.search(
    r"`<wafer>` is 1-16 printable ASCII characters.*?\)\.",
    (Path(__file__).parents[2] / "docs" / "protocols" / "wire-bonder.md").read_text(),
    re.DOTALL,
)


def test_the_page_names_every_character_a_wafer_id_may_not_hold():
    """The page had said "without spaces"; the bonder refuses a comma, a semicolon and a
    double quote as well (`ERR 2`), and takes every other printable character."""
    assert WAFER_ID_RULE is not None
    rule = WAFER_ID_RULE.group()
    named = set(re.findall(r"`(.)`", rule)) | ({" "} if "a space" in rule else set())
    bonder = SimWireBonder("bonder", TwinStore())
    refused: dict[str, str] = {}  # a character -> the refusal's name
    for character in map(chr, range(ord(" "), ord("~") + 1)):
        try:
            bonder.answer(f"LOAD W{character}1")
        except HostRefused as refusal:
            refused[character] = refusal.name
        else:
            bonder.answer(f"UNLOAD W{character}1")
    assert refused == dict.fromkeys(named, "BAD_ARGUMENT")
