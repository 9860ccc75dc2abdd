"""The ASCII host-link rules (docs/protocols/conventions.md), on both tools, by raw sockets.

Each test talks to a simulated tool as a client that only read the pages would: bytes on a
TCP socket (the `socket://` serial server) or on the pty, no packline link in between.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import tty
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from packline.clock import VirtualClock
from packline.drivers.families.ascii_host_wire import (
    MAX_LINE_CHARS,
    MAX_REPLY_BYTES,
    ROOM_TO_CHANGE_BYTES,
    HostSetpoint,
    encode,
    host_commands,
    precondition,
    refusal_code,
    syntax,
)
from packline.drivers.specs.dicing_saw import SPEC as SAW
from packline.drivers.specs.wire_bonder import SPEC as BONDER
from packline.sim_instruments.dicing_saw import SimDicingSaw
from packline.sim_instruments.families.ascii_host import HostLinkTool
from packline.sim_instruments.twin import TwinStore, WaferSpec
from packline.sim_instruments.wet_bench import SimWetBench
from packline.sim_instruments.wire_bonder import SimWireBonder
from packline.testing.clients import socat_session

#: A command every tool answers the same way whatever its state: its identity.
IDENTITY = {"bonder": b"ID?", "saw": b"IDN?"}
REPLY_OF_IDENTITY = {
    "bonder": b"OK packline,WB-1,WB-1-0001,1.0",
    "saw": b"OK packline,DS-2,DS-2-0001,1.0",
}


def make_tool(kind: str, transport: str) -> HostLinkTool:
    twin = TwinStore(WaferSpec(diameter_mm=100, pads_per_die_side=4))
    if kind == "bonder":
        return SimWireBonder("bonder", twin, VirtualClock(), transport=transport)  # type: ignore[arg-type]
    return SimDicingSaw("saw", twin, VirtualClock(), transport=transport)  # type: ignore[arg-type]


class RawClient:
    """Bytes in, reply lines out, over the tool's TCP port or its pty."""

    def __init__(self, reader: asyncio.StreamReader, send: Callable[[bytes], object]) -> None:
        self.reader = reader
        self.send = send

    async def ask(self, data: bytes) -> bytes:
        """Send `data` (with its line end) and return the reply line, its LF included."""
        self.send(data)
        async with asyncio.timeout(5):
            return await self.reader.readline()


@pytest.fixture(params=[("bonder", "socket"), ("saw", "socket"), ("bonder", "pty"), ("saw", "pty")])
async def client(request) -> AsyncIterator[tuple[str, HostLinkTool, RawClient]]:
    kind, transport = request.param
    tool = make_tool(kind, transport)
    address = await tool.start()
    try:
        if transport == "socket":
            reader, writer = await asyncio.open_connection(*address[9:].split(":"))
            yield kind, tool, RawClient(reader, writer.write)
            writer.close()
            await writer.wait_closed()
        else:
            fd = os.open(address, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
            tty.setraw(fd)
            reader = asyncio.StreamReader(limit=1 << 20)
            loop = asyncio.get_running_loop()
            loop.add_reader(fd, lambda: reader.feed_data(os.read(fd, 65536)))
            try:
                yield kind, tool, RawClient(reader, lambda data: os.write(fd, data))
            finally:
                loop.remove_reader(fd)
                os.close(fd)
    finally:
        await tool.stop()


async def test_cr_lf_and_lf_both_end_a_line(client):
    kind, _, raw = client
    assert await raw.ask(IDENTITY[kind] + b"\r\n") == REPLY_OF_IDENTITY[kind] + b"\n"
    assert await raw.ask(IDENTITY[kind] + b"\n") == REPLY_OF_IDENTITY[kind] + b"\n"
    assert await raw.ask(IDENTITY[kind].lower() + b"  \r\n") == REPLY_OF_IDENTITY[kind] + b"\n"


async def test_an_overlong_line_is_refused_short_and_the_link_goes_on(client):
    kind, _, raw = client
    assert await raw.ask(b"A" * 10_000 + b"\n") == b"ERR 1 line too long\n"
    assert await raw.ask(b"B" * (MAX_LINE_CHARS + 1) + b"\r\n") == b"ERR 1 line too long\n"
    assert await raw.ask(IDENTITY[kind] + b"\n") == REPLY_OF_IDENTITY[kind] + b"\n"


async def test_a_line_of_the_maximum_length_is_read_whole(client):
    _, tool, raw = client
    line = b"X" * MAX_LINE_CHARS
    reply = await raw.ask(line + b"\r\n")
    assert reply.startswith(b"ERR 1 unknown command")
    assert tool.received[-1].removesuffix("\r") == line.decode()


@pytest.mark.skipif(shutil.which("socat") is None, reason="socat is not installed")
@pytest.mark.parametrize("transport", ["socket", "pty"])
@pytest.mark.parametrize("kind", ["bonder", "saw"])
async def test_an_unknown_command_is_said_one_way_its_bytes_outside_ascii_escaped(kind, transport):
    """The saw had quoted the word (`'FOO'`), the bonder not; a byte outside ASCII had come
    back as `?`, which a user could not tell from the `?` that ends a query."""
    tool = make_tool(kind, transport)
    replies = await socat_session(tool, b"FOO\nSTAT\xff?\nSTAT\xa0?\nDRE\xdf\n")
    assert replies == [
        "ERR 1 unknown command FOO",
        "ERR 1 unknown command STAT\\xff?",
        "ERR 1 unknown command STAT\\xa0?",  # no word break: a byte outside ASCII, shown
        "ERR 1 unknown command DRE\\xdf",  # not the saw's DRESS, which `ß` upper case is
    ]


NOT_FINITE = {
    "bonder": ["PROG AU nan 150 35 60 12", "PROG AU 25 inf 35 60 12", "PROG AU 25 150 1e1 60 12"],
    "saw": ["FEED nan", "DEPTH inf", "INDEX 1 -inf 0", "INTERVAL 1e5"],
}
NOT_WHOLE = {
    "bonder": ["BUMP 2.0", "BUMP 1.5", "HGT? 0 2.5"],
    "saw": ["SPINDLE 30000.5", "SPINDLE 3e4"],
}


async def test_one_number_grammar(client):
    kind, tool, raw = client
    for line in NOT_FINITE[kind] + NOT_WHOLE[kind]:
        assert (await raw.ask(line.encode() + b"\n")).startswith(b"ERR 2 "), line
    if isinstance(tool, SimWireBonder):
        assert tool.program is None
    else:
        assert isinstance(tool, SimDicingSaw)
        assert tool.spindle.target == 0.0


async def test_range_is_judged_before_state_and_state_before_interlocks(client):
    kind, tool, raw = client
    if kind == "bonder":
        tool.inject_fault("cover_open")
        tool.state = tool.state.BUMPING  # type: ignore[attr-defined]
        reply = await raw.ask(b"PROG AU 25 150 100 60 12\n")
        assert reply == b"ERR 3 bond_force_gf 100 gf outside 15-60\n"
        assert await raw.ask(b"BUMP 1\n") == b"ERR 4 not allowed while BUMPING\n"
    else:
        assert await raw.ask(b"SPINDLE 30000\n") == b"OK\n"
        await tool.clock.sleep(3)
        assert await raw.ask(b"DRESS\n") == b"OK\n"
        reply = await raw.ask(b"SPINDLE 75000\n")
        assert reply == b"ERR 3 spindle speed 75000 rpm outside 20000-60000 rpm\n"
        assert await raw.ask(b"SPINDLE 30000\n") == b"ERR 5 not allowed while DRESSING\n"


async def test_an_open_interlock_is_refused_in_one_dialect(client):
    kind, tool, raw = client
    tool.inject_fault("cover_open")
    if kind == "bonder":
        code, line = b"5", b"LOAD W1\n"
    else:
        tool.inject_fault("air_loss")
        code, line = b"4", b"SPINDLE 30000\n"
    reply = await raw.ask(line)
    assert reply.startswith(b"ERR " + code + b" interlock open: cover_closed")
    if kind == "saw":
        assert reply == b"ERR 4 interlock open: cover_closed, spindle_air\n"


async def test_the_longest_reply_fits_the_documented_size(client):
    kind, tool, raw = client
    if kind == "bonder":
        await raw.ask(b"LOAD W1\n")
        tool.twin.get("W1").bumps.height_um[:] = 123.4
        reply = await raw.ask(b"HGT? 0 200\n")
    else:
        reply = await raw.ask(b"BLADE?\n")
    assert reply.startswith(b"OK ")
    assert len(reply) <= MAX_REPLY_BYTES


@pytest.mark.parametrize("spec", [BONDER, SAW], ids=["bonder", "saw"])
def test_every_setting_has_a_query_that_reads_it_back(spec):
    setpoints = {s.name for s in spec.setpoints if isinstance(s, HostSetpoint)}
    for command in host_commands(spec):
        if setpoints & set(command.parameters):
            assert command.query in spec.command_by_name, command.name


async def test_the_saw_reads_back_feed_depth_and_index():
    saw = make_tool("saw", "socket")
    for line in ("MOUNT W1", "FEED 45.5", "DEPTH 22.5", "INDEX 2 5.0000 0.2500"):
        assert await saw.handle(line) == "OK", line
    assert await saw.handle("FEED?") == "OK 45.5"
    assert await saw.handle("DEPTH?") == "OK 22.5"
    assert await saw.handle("INDEX? 2") == "OK 2 5.0000 0.2500"
    assert await saw.handle("INDEX? 1") == "OK 1 10.0000 0.0000"  # the die size until INDEX
    assert await saw.handle("UNMOUNT") == "OK"
    assert await saw.handle("INDEX? 1") == "OK 1 - 0.0000"
    assert await saw.handle("INDEX? 3") == "ERR 2 INDEX?: channel '3' is not 1 or 2"


#: For each command the specs guard with interlocks: the lines that make every other
#: condition of it hold, then the command.
GUARDED = {
    ("bonder", "LOAD"): ([], "LOAD W1"),
    ("bonder", "UNLOAD"): (["LOAD W1"], "UNLOAD W1"),
    ("bonder", "BUMP"): (["LOAD W1", "PROG AU 25 150 35 60 12", "SEL:ALL"], "BUMP 1"),
    ("saw", "SPINDLE"): ([], "SPINDLE 30000"),
    ("saw", "DRESS"): (["SPINDLE 30000"], "DRESS"),
    ("saw", "CUT"): (["MOUNT W1", "SPINDLE 30000"], "CUT"),
}


@pytest.mark.parametrize(("kind", "command"), sorted(GUARDED))
async def test_every_interlock_the_spec_names_refuses_its_command(kind, command):
    setup, line = GUARDED[kind, command]
    probe = make_tool(kind, "socket")
    fault_of = {name: fault for fault, name in probe.fault_opens.items()}
    guarded_by = probe.spec.command_by_name[command].interlocks
    assert guarded_by
    for interlock in [name for name in guarded_by if name in fault_of]:
        tool = make_tool(kind, "socket")
        for step in setup:
            assert await tool.handle(step) == "OK" or step.startswith("SEL"), step
        tool.inject_fault(fault_of[interlock])
        reply = await tool.handle(line)
        if tool.alarms:  # the open interlock stopped what runs: the state refuses first
            alarms = ",".join(tool.alarms)
            assert reply == f"ERR {refusal_code(tool.spec, 'ALARM_ACTIVE')} alarm active: {alarms}"
        else:
            assert (
                reply
                == f"ERR {refusal_code(tool.spec, 'INTERLOCK_OPEN')} interlock open: {interlock}"
            )


# ------------------------------------------------------------------ preconditions

#: A valid word for each argument of a tool's commands, by parameter or setpoint name.
ARGUMENT_WORDS = {
    "bonder": {
        "wafer": "W01",
        "material": "AU",
        "ranges": "0-9",
        "first": "0",
        "count": "3",
        "while_state": "BUMPING",
        "wait_s": "1",
        **{s.name: encode(BONDER, s.name, s.machine_range.minimum) for s in BONDER.setpoints},
    },
    "saw": {
        "workpiece": "W01",
        "channel": "1",
        "while_state": "CUTTING",
        "wait_s": "1",
        **{s.name: encode(SAW, s.name, s.machine_range.minimum) for s in SAW.setpoints},
    },
}
PROGRAM = "PROG AU 25 150 35 60 12"
#: The saw's blade broken by a cut (a cracked blade breaks at its first line), its alarm reset
#: and the workpiece it cut unmounted: the chuck empty, the blade broken, the spindle stopped
#: by the alarm still coasting down.
BLADE_BROKEN = ["MOUNT W09", "SPINDLE 30000", 10.0, "blade_crack", "CUT", 1.0, "RST", "UNMOUNT"]
#: For each tool, states a fresh tool is put in (lines sent, seconds of process time let pass,
#: faults injected), each with the preconditions of the spec it leaves unmet.
STATES: dict[str, list[tuple[list[str | float], set[str]]]] = {
    "bonder": [
        ([], {"NO_WAFER", "NO_PROGRAM", "NO_SELECTION"}),
        ([PROGRAM], {"NO_WAFER", "NO_SELECTION"}),
        (["LOAD W01"], {"ALREADY_LOADED", "NO_PROGRAM", "NO_SELECTION"}),
        (["LOAD W01", "SEL:ALL"], {"ALREADY_LOADED", "NO_PROGRAM"}),
        (["LOAD W01", PROGRAM], {"ALREADY_LOADED", "NO_SELECTION"}),
        (["LOAD W01", PROGRAM, "SEL:ALL"], {"ALREADY_LOADED"}),
    ],
    "saw": [
        ([], {"NO_WORKPIECE", "SPINDLE_NOT_AT_SPEED"}),
        (["MOUNT W01"], {"ALREADY_MOUNTED", "SPINDLE_NOT_AT_SPEED"}),
        (["SPINDLE 30000"], {"NO_WORKPIECE", "SPINDLE_TURNING", "SPINDLE_NOT_AT_SPEED"}),
        (["MOUNT W01", "SPINDLE 30000", 10.0], {"ALREADY_MOUNTED", "SPINDLE_TURNING"}),
        (BLADE_BROKEN, {"NO_WORKPIECE", "BLADE_BROKEN", "SPINDLE_TURNING", "SPINDLE_NOT_AT_SPEED"}),
        (
            [*BLADE_BROKEN, "MOUNT W01"],
            {"ALREADY_MOUNTED", "BLADE_BROKEN", "SPINDLE_TURNING", "SPINDLE_NOT_AT_SPEED"},
        ),
    ],
}


#: What the tool fills in a precondition's words (`HostPrecondition.words`) in a state of
#: `STATES`: the id on its chuck, the one every state loads or mounts.
ON_THE_CHUCK = {"wafer": "W01", "workpiece": "W01"}


async def put_in(tool: HostLinkTool, steps: list[str | float]) -> None:
    """Bring `tool` to a state of `STATES` (its clock a virtual one): each line answered `OK`."""
    for step in steps:
        if isinstance(step, float):
            await tool.clock.sleep(step)
        elif step in tool.faults:
            tool.inject_fault(step)
        else:
            assert (await tool.handle(step) or "").startswith("OK"), step


@pytest.mark.parametrize("kind", ["bonder", "saw"])
async def test_a_command_answers_the_preconditions_its_declaration_says(kind):
    """In each state, each command whose declared preconditions (the page's `accepted in`) are
    not all met answers the refusal of the first unmet one, in the order declared (the bonder's
    `HGT:STAT?` with no wafer `ERR 6`, the saw's `CUT` with no workpiece `ERR 7`, with a broken
    blade `ERR 8`, with the spindle not at speed `ERR 5`), in the precondition's words (a code
    alone cannot tell the saw's spindle not at speed from another of its `ERR 5`s), and a
    command whose preconditions are met answers none of them: the spec, and so the page, says
    what the tool refuses. Every declared precondition is unmet in some state."""
    spec = make_tool(kind, "socket").spec
    declared = {name for c in host_commands(spec) for name in c.preconditions}
    assert declared == set().union(*(unmet for _, unmet in STATES[kind]))

    def code(name: str) -> int:
        return refusal_code(spec, precondition(spec, name).refusal)

    def refusal(name: str) -> str:
        return f"ERR {code(name)} {precondition(spec, name).words.format(**ON_THE_CHUCK)}"

    codes = {code(name) for name in declared}
    assert codes == {"bonder": {4, 6, 7, 11}, "saw": {5, 7, 8}}[kind]
    refusals = {refusal(name) for name in declared}
    for steps, unmet in STATES[kind]:
        for command in host_commands(spec):
            tool = make_tool(kind, "socket")
            await put_in(tool, steps)
            words = ARGUMENT_WORDS[kind]
            line = " ".join([command.name, *(words[name] for name in command.parameters)])
            reply = await tool.handle(line)
            assert reply is not None, line
            answered = int(reply.split()[1]) if reply.startswith("ERR ") else None
            failing = [name for name in command.preconditions if name in unmet]
            where = f"{syntax(spec, command)} after {steps}: {reply}"
            if failing:
                assert answered == code(failing[0]), where
                assert reply == refusal(failing[0]), where
            else:
                assert answered not in codes, where
                assert reply not in refusals, where


async def test_the_pages_precondition_refusals_word_what_is_missing():
    bonder, saw = make_tool("bonder", "socket"), make_tool("saw", "socket")
    assert await bonder.handle("HGT:STAT?") == "ERR 6 no wafer on the chuck"
    await put_in(bonder, ["LOAD W01"])
    assert await bonder.handle("RELOAD W02") == "ERR 4 wafer W01 is on the chuck"
    assert await saw.handle("CUT") == "ERR 7 no workpiece is mounted"
    assert await saw.handle("DRESS") == "ERR 5 spindle is not at speed"
    await put_in(saw, BLADE_BROKEN)
    assert await saw.handle("SPINDLE 30000") == "ERR 8 blade is broken; install a new blade"
    assert await saw.handle("BLADE 20.0") == "ERR 5 spindle is turning; SPINDLE OFF first"
    await put_in(saw, ["MOUNT W01"])
    assert await saw.handle("REMOUNT W01") == "ERR 5 W01 is mounted; UNMOUNT first"


# ------------------------------------------------------------------ the wait query

#: The status query of every host-link tool (the family's rules).
STATUS = b"STAT?\n"


async def test_the_wait_query_holds_the_status_while_the_state_stays(client):
    _, tool, raw = client
    status = await raw.ask(STATUS)
    assert status.startswith(b"OK STATE=IDLE ")
    start_s = tool.clock.now()
    assert await raw.ask(b"WAIT? IDLE 5\n") == status  # nothing changes: held 5 s
    assert tool.clock.now() - start_s == 5.0


async def test_the_wait_query_answers_at_once_in_another_state(client):
    _, tool, raw = client
    start_s = tool.clock.now()
    assert await raw.ask(b"wait? BUMPING 500\n") == await raw.ask(STATUS)
    assert tool.clock.now() == start_s


async def test_a_change_made_by_a_fault_ends_the_wait_at_once(client):
    kind, tool, raw = client
    tool.state = tool.state.FAULT if kind == "saw" else tool.state.BUMPING  # type: ignore[attr-defined]
    held = asyncio.ensure_future(raw.ask(b"WAIT? " + tool.phase().encode() + b" 500\n"))
    await tool.clock.sleep(2.5)  # off the tool's own rescan grid (HOLD_SCAN_S)
    tool.state = tool.state.IDLE  # type: ignore[attr-defined]
    tool.inject_fault("cover_open")  # a fault wakes the wait: it looks at the tool again
    assert (await held).startswith(b"OK STATE=IDLE ")
    assert tool.clock.now() == 2.5  # at once, not at the next rescan


async def test_a_line_during_the_wait_ends_it_without_a_reply(client):
    kind, tool, raw = client
    raw.send(b"WAIT? IDLE 500\n" + IDENTITY[kind] + b"\n")
    async with asyncio.timeout(5):
        assert await raw.reader.readline() == REPLY_OF_IDENTITY[kind] + b"\n"
    assert tool.clock.now() < 500


@pytest.mark.parametrize("wait", [b"0", b"-1", b"601", b"nan", b"1e2", b""])
async def test_a_wait_out_of_its_range_is_a_bad_argument(client, wait: bytes):
    _, tool, raw = client
    reply = await raw.ask(b"WAIT? IDLE " + wait + b"\n")
    assert reply.startswith(b"ERR 2 ")
    assert tool.clock.now() == 0.0


#: conventions.md's Alarms rule, which names each tool's alarm reset.
ALARMS_RULE = re.search(
    r"^\* \*\*Alarms\.\*\*.*?(?=^\* )",
    (Path(__file__).parents[3] / "docs" / "protocols" / "conventions.md").read_text(),
    re.DOTALL | re.MULTILINE,
)


@pytest.mark.parametrize("kind", ["bonder", "saw"])
async def test_the_alarm_reset_conventions_md_names_is_the_tools_own(kind):
    """The page had named `RST` the family's reset, which the wire bonder answers `ERR 1`."""
    assert ALARMS_RULE is not None
    tool = make_tool(kind, "socket")
    reset = tool.wire.alarm_reset
    assert f"`{reset}`" in ALARMS_RULE.group()
    tool.latch(tool.spec.alarms[0].code)
    assert await tool.handle(reset) == "OK"
    assert tool.alarms == []


# ------------------------------------------------------------------ compound lines

#: A command of each tool that changes it, refused out of range, and one it takes at once.
OUT_OF_RANGE = {"bonder": b"PROG AU 25 150 100 60 12", "saw": b"SPINDLE 75000"}
TAKEN = {"bonder": b"PROG AU 25 150 35 60 12", "saw": b"SPINDLE 30000"}


async def test_a_compound_line_is_answered_on_one_line_in_order(client):
    kind, _, raw = client
    identity, interlocks, status = IDENTITY[kind], b"ILK?", b"STAT?"
    alone = [(await raw.ask(query + b"\n")).removesuffix(b"\n") for query in (interlocks, status)]
    reply = await raw.ask(identity + b";" + interlocks + b";" + status + b"\r\n")
    assert reply == b";".join([REPLY_OF_IDENTITY[kind], *alone]) + b"\n"


async def test_a_command_and_a_query_after_it_see_it_taken(client):
    kind, tool, raw = client
    reply = await raw.ask(TAKEN[kind] + b";STAT?\n")
    accepted, status = reply.removesuffix(b"\n").split(b";")
    assert accepted == b"OK"
    assert status == (await raw.ask(STATUS)).removesuffix(b"\n")
    if isinstance(tool, SimWireBonder):
        assert tool.program is not None
    else:
        assert isinstance(tool, SimDicingSaw)
        assert tool.spindle.target > 0.0


async def test_a_refused_command_ends_the_line_and_what_follows_it_is_not_run(client):
    kind, tool, raw = client
    line = b"STAT?;" + OUT_OF_RANGE[kind] + b";" + TAKEN[kind] + b"\n"
    status = (await raw.ask(STATUS)).removesuffix(b"\n")
    reply = await raw.ask(line)
    assert reply.startswith(status + b";ERR 3 ")
    assert reply.count(b";") == 1
    if isinstance(tool, SimWireBonder):
        assert tool.program is None
    else:
        assert isinstance(tool, SimDicingSaw)
        assert tool.spindle.target == 0.0


@pytest.mark.parametrize("line", [b"STAT?;", b";STAT?", b"STAT?;;ILK?"])
async def test_an_empty_command_of_a_compound_line_is_unknown(client, line: bytes):
    _, _, raw = client
    assert b"ERR 1 empty command\n" in await raw.ask(line + b"\n")


async def test_the_wait_query_stands_alone_on_its_line(client):
    _, tool, raw = client
    reply = await raw.ask(b"STAT?;WAIT? IDLE 5\n")
    assert reply.endswith(b";ERR 1 WAIT? stands alone on a line\n")
    assert tool.clock.now() == 0.0  # nothing held


async def test_the_line_limit_is_the_whole_compound_lines(client):
    _, _, raw = client
    units = b";".join([b"STAT?"] * (MAX_LINE_CHARS // 6 + 1))
    assert len(units) > MAX_LINE_CHARS
    assert await raw.ask(units + b"\n") == b"ERR 1 line too long\n"


async def test_a_compound_lines_reply_fits_and_a_query_past_it_is_refused(client):
    """The tester's line: `STAT?` 42 times (251 characters) had been answered in 3695 bytes."""
    _, _, raw = client
    status = (await raw.ask(STATUS)).removesuffix(b"\n")
    reply = await raw.ask(b";".join([b"STAT?"] * 42) + b"\n")
    assert len(reply) <= MAX_REPLY_BYTES
    *answered, refused = reply.removesuffix(b"\n").split(b";")
    assert refused == b"ERR 1 reply too long"
    assert answered == [status] * len(answered)
    # as many as fit: one more and the refusal after it would not have
    assert len(b";".join([*answered, status, refused]) + b"\n") > MAX_REPLY_BYTES


async def test_a_command_that_changes_the_tool_runs_only_with_room_for_its_reply(client):
    kind, tool, raw = client
    status = (await raw.ask(STATUS)).removesuffix(b"\n")
    alarms = (await raw.ask(b"ALM?\n")).removesuffix(b"\n")
    # Each reply costs its length and a `;` of what the line's reply has before its LF.
    statuses = (MAX_REPLY_BYTES - 1 - ROOM_TO_CHANGE_BYTES) // (len(status) + 1)
    room = MAX_REPLY_BYTES - 1 - statuses * (len(status) + 1)
    short_of_room = (room - ROOM_TO_CHANGE_BYTES) // (len(alarms) + 1) + 1
    padding = [b"STAT?"] * statuses + [b"ALM?"] * short_of_room
    refused = await raw.ask(b";".join([*padding, TAKEN[kind]]) + b"\n")
    expected = [status] * statuses + [alarms] * short_of_room + [b"ERR 1 reply too long"]
    assert refused == b";".join(expected) + b"\n"
    if isinstance(tool, SimWireBonder):
        assert tool.program is None
    else:
        assert isinstance(tool, SimDicingSaw)
        assert tool.spindle.target == 0.0
    taken = await raw.ask(b";".join([*padding[:-1], TAKEN[kind]]) + b"\n")
    assert taken.startswith(b";".join(expected[:-2]) + b";OK")
    assert len(taken) <= MAX_REPLY_BYTES
    if isinstance(tool, SimWireBonder):
        assert tool.program is not None
    else:
        assert isinstance(tool, SimDicingSaw)
        assert tool.spindle.target > 0.0


def test_a_word_of_a_fixed_list_is_taken_in_any_case_an_id_keeps_its_own():
    """conventions.md, Words: a wire material or a tank is taken in any case; a wafer id is not."""
    bonder = SimWireBonder("bonder", TwinStore(), VirtualClock())
    bonder.answer("PROG au 25 150 35 60 12")
    assert bonder.answer("PROG?").startswith("AU ")
    bonder.twin.receive("W1")
    bonder.answer("LOAD W1")
    assert bonder.answer("STAT?").split()[1] == "WAFER=W1"
    bench = SimWetBench("bench", TwinStore(), VirtualClock())
    assert bench.answer("TEMP cu-etch 30") == bench.answer("TEMP CU-ETCH 30")
