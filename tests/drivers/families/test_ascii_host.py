"""The host-link driver base's waits on the tool (`HostLinkDriver.wait_held`, decision 0028),
against the simulated wire bonder on a virtual clock: few exchanges, no slower alarms."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import AsyncIterator

import pytest

from packline.clock import VirtualClock
from packline.drivers.equipment import HOLD_S
from packline.drivers.errors import CommandRefused, ProtocolError, ToolAlarm
from packline.drivers.families.ascii_host_wire import (
    HostCommand,
    HostLink,
    HostPrecondition,
    HostReply,
    accepted_in,
    check_host_spec,
)
from packline.drivers.links import ReconnectPolicy, open_link
from packline.drivers.lithography import AsciiLithography
from packline.drivers.roles.dicing_saw import BladeStatus
from packline.drivers.roles.flip_chip_bonder import TransferAlloy, TransferResult
from packline.drivers.roles.lithography import CoatMaterial, Film, FilmLayer, Tone
from packline.drivers.roles.wire_bonder import BonderState, BondProgram, WireMaterial
from packline.drivers.specs import dicing_saw, lithography, wet_bench
from packline.drivers.specs.core import ToolSpec
from packline.drivers.specs.flip_chip_bonder import TRANSFER_REPLY
from packline.drivers.specs.pages import rendered_tables
from packline.drivers.wire_bonder import AsciiWireBonder
from packline.sim_instruments.lithography import SimLithography
from packline.sim_instruments.twin import TwinStore, WaferSpec
from packline.sim_instruments.wire_bonder import SimWireBonder
from packline.testing import Rig, expected_protocol, open_rig, run_until

PROGRAM = BondProgram(WireMaterial.AU, 25, 150, 35, 60, 12)
WALL_LIMIT_S = 20.0  # bounds each test's waits in wall time
#: What the litho cell's driver asks as it connects, and the replies.
LITHO_CONNECT = (
    ("IDN?", b"OK packline,LC-1,LC-1-0001,1.0\n"),
    ("STAT?", b"OK STATE=IDLE WAFER=- SPIN=0 HOTPLATE=23.0 SHOT=0 SHOTS=0 LEFT=0.0 JOBS=0\n"),
    ("ALM?", b"OK NONE\n"),
)


@pytest.fixture(params=["socket", "pty"])
async def rig(request) -> AsyncIterator[Rig[SimWireBonder, AsciiWireBonder]]:
    """A bonder (2352 pads: a run of about 180 s, bumping longer than `HOLD_S`) with W1
    loaded, on TCP or on a tty."""
    twin = TwinStore(WaferSpec(diameter_mm=100, pads_per_die_side=12))
    sim = SimWireBonder("bonder", twin, VirtualClock(), transport=request.param)
    rig = await open_rig(sim, AsciiWireBonder, reconnect=ReconnectPolicy(attempts=0))
    try:
        await rig.driver.load("W1")
        sim.received.clear()
        yield rig
    finally:
        await rig.close()


def status_reads(sim: SimWireBonder) -> list[str]:
    return [line for line in sim.received if line.split()[0] in ("STAT?", "WAIT?")]


async def test_a_run_is_waited_out_with_the_tool_holding_the_status(rig, request):
    on_tcp = request.node.callspec.params["rig"] == "socket"
    assert rig.driver.link.holds_replies is on_tcp
    async with asyncio.timeout(WALL_LIMIT_S):
        result = await rig.driver.form_stud_bumps(PROGRAM)
    run_s = rig.sim.clock.now()
    assert result.bumps_formed == 2352
    reads = status_reads(rig.sim)
    if on_tcp:
        # one read per state (heating, bumping) and per HOLD_S, not one per poll interval
        assert f"WAIT? HEATING {HOLD_S:g}" in reads
        assert len(reads) <= 2 + run_s / HOLD_S + 2
    else:  # a tty's line: polled every interval, as before
        assert all(line == "STAT?" for line in reads)
        assert len(reads) >= run_s / rig.driver.poll_interval_s
    progress = [r.value for r in rig.driver.readings if r.name == "progress"]
    assert progress == sorted(progress)
    assert any(0 < p < 100 for p in progress)  # recorded while bumping, not only at the ends
    assert progress[-1] == 100.0


@pytest.mark.parametrize("offset_s", [0.3, 4.0, 9.7])
async def test_an_alarm_during_a_long_wait_is_seen_within_the_poll_interval(rig, offset_s):
    sim, driver = rig.sim, rig.driver
    task = asyncio.create_task(driver.form_stud_bumps(PROGRAM))
    await run_until(task, lambda: sim.state is BonderState.BUMPING, sim, timeout_s=WALL_LIMIT_S)
    async with asyncio.timeout(WALL_LIMIT_S):
        await sim.clock.sleep(offset_s)
        sim.inject_fault("wire_break")
        latched_s = sim.clock.now()
        with pytest.raises(ToolAlarm, match="WIRE_BREAK"):
            await task
    assert sim.clock.now() - latched_s <= driver.poll_interval_s


async def test_a_job_waited_from_the_status_it_started_with_holds_the_next_read():
    """`start_job` reads the status the job started with on the job's line, and `wait_job`
    judges it first (`first`): the next read is already the tool's held wait for its `STATE`."""
    twin = TwinStore(WaferSpec(diameter_mm=100, pads_per_die_side=4))
    sim = SimLithography("litho", twin, VirtualClock(), transport="socket")
    rig = await open_rig(sim, AsciiLithography, poll_interval_s=2.0, timeout_s=1.0)
    try:
        async with asyncio.timeout(WALL_LIMIT_S):
            await rig.driver.load("W1")
            await rig.driver.coat(CoatMaterial.PBO_P, 1500)
            await rig.driver.bake(110, 90)
            sim.received.clear()
            await rig.driver.expose("openings", 300)
    finally:
        await rig.close()
    # the status the job started with (its shot count the allowance needs) is on the job's
    # line, and the wait is held from the first read after it
    after = sim.received[sim.received.index("EXPOSE 300.0;STAT?") + 1 :]
    assert after[0] == f"WAIT? EXPOSING {HOLD_S:g}"


async def test_a_compound_reply_is_one_reply_per_command_and_a_refusal_ends_it():
    """`ask_compound`: a refusal's text keeps its `;`; a reply short of or beyond one per
    command, or one neither `OK` nor `ERR`, is a protocol error."""
    not_one_each = (b"OK COVER=1 EXHAUST=1 VACUUM=1 LAMP=1", b"OK COVER=1;OK STATE=IDLE;OK")
    script = [
        *((f"{query}\n".encode(), reply) for query, reply in LITHO_CONNECT),
        (b"RETICLE pads;RETICLE?\n", b"ERR 8 wafer W7 has no film; COAT first\n"),
        *((b"ILK?;STAT?\n", reply + b"\n") for reply in not_one_each),
        (b"ILK?;STAT?\n", b"OK COVER=1;STATE=IDLE\n"),
    ]
    async with expected_protocol(script) as peer:
        link = open_link(peer.address("serial"), tool="litho", clock=VirtualClock(), timeout_s=1.0)
        async with AsciiLithography(link) as cell:  # type: ignore[arg-type]
            with pytest.raises(CommandRefused, match="has no film; COAT first") as refused:
                await cell.ask_compound("set reticle", "RETICLE pads", "RETICLE?")
            assert refused.value.code == "8"
            for _ in range(2):
                with pytest.raises(ProtocolError, match="not one reply per command"):
                    await cell.ask_compound("read", "ILK?", "STAT?")
            with pytest.raises(ProtocolError, match="neither OK nor ERR"):
                await cell.ask_compound("read", "ILK?", "STAT?")


@pytest.mark.parametrize("end", [";", "\n", "\r"])
async def test_a_command_that_would_be_more_than_one_on_the_line_is_refused_unsent(end):
    """A `;` or a line end inside a command (an argument's) would run what follows it as a
    command of its own: `ask`, `ask_compound` and the litho's mask refuse it, sending nothing."""
    async with expected_protocol(
        [(f"{query}\n".encode(), reply) for query, reply in LITHO_CONNECT]
    ) as peer:
        link = open_link(peer.address("serial"), tool="litho", clock=VirtualClock(), timeout_s=1.0)
        async with AsciiLithography(link) as cell:  # type: ignore[arg-type]
            command = f"RETICLE openings{end}RST"
            with pytest.raises(
                ValueError, match=re.escape(f"command {command!r} contains {end!r}")
            ):
                await cell.ask("set reticle", command)
            with pytest.raises(
                ValueError,
                match=re.escape(
                    f"contains {end!r}, which ends a command on the line; nothing was sent"
                ),
            ):
                await cell.ask_compound("set reticle", "ILK?", command, "RETICLE?")
            with pytest.raises(ValueError, match=r"mask name|ends a command"):
                await cell.expose(f"openings{end}RST", 300)


def test_a_reply_is_its_results_fields_in_order_and_writes_each_in_its_form():
    """A host-link reply states each key of a result's fields once: a declaration whose fields
    are not the result's, in its order, is refused naming both; one that is (the bonder's
    `XFER?`) writes floats to their decimals and tokens by their value, and (the litho cell's
    `FILM?`) a flag as 1 or 0."""
    wafer, alloy, *rest = TRANSFER_REPLY.fields
    with pytest.raises(ValueError, match=r"reply of XFER\?: fields \['alloy', 'wafer_id'"):
        HostReply(query="XFER?", result=TransferResult, fields=(alloy, wafer, *rest), gem_prefix="")
    result = TransferResult("W1", TransferAlloy("SAC305"), 2, 48, 47, 8.125, 9.5, 231.04)
    assert TRANSFER_REPLY.render(result) == (
        "WAFER=W1 ALLOY=SAC305 DIES=2 BUMPS=48 COATED=47 LAYERMIN=8.12 LAYERMEAN=9.50 "
        "JOINTMAX=231.0"
    )
    assert TRANSFER_REPLY.gem_variables[:2] == ("transfer_wafer_id", "transfer_alloy")
    film = Film(CoatMaterial.PR_THIN, Tone.POSITIVE, FilmLayer.RESIST, 4.5, 0, 120, 60, 0, True)
    assert lithography.FILM_REPLY.render(film).endswith(" DOSE=0.0 DEVELOPED=1")  # a flag: 1/0


def test_a_flag_of_a_reply_reads_as_its_text_says_on_a_gem_face():
    """A GEM face answering from the host link reads a reply's flag `0` as False (`bool("0")`
    is True) and `1` as True, a token as its text and a number as its kind."""
    with_gem = dataclasses.replace(lithography.FILM_REPLY, gem_prefix="film_")
    sources = with_gem.status_sources
    read = {variable: reader for variable, (_, _, reader) in sources.items()}
    assert (read["film_developed"]("0"), read["film_developed"]("1")) == (False, True)
    assert read["film_tone"]("POSITIVE") == "POSITIVE"


def test_a_reply_of_a_tool_with_no_gem_face_names_no_status_variable():
    """The wet bench has no GEM face: its `RESULT?` reply has no GEM prefix, asking for its
    status variables is refused, and its page's table has no GEM column (the saw's has, and
    a meaning column: its fields say what they are)."""
    with pytest.raises(ValueError, match=r"reply of RESULT\?: the tool has no GEM face"):
        _ = wet_bench.RESULT_REPLY.gem_variables
    bench = rendered_tables(wet_bench.SPEC)["replies"].splitlines()
    saw = rendered_tables(dicing_saw.SPEC)["replies"].splitlines()
    assert bench[0] == "| query | key | driver's field | value |"
    assert bench[2] == "| `RESULT?` | `WAFER` | `DipResult.wafer_id` | text |"
    assert saw[0] == "| query | key | driver's field | value | meaning | GEM status variable |"


def saw_spec_with(changed: HostCommand) -> ToolSpec[HostLink]:
    """The dicing saw's spec with its command of `changed`'s name declared as `changed`."""
    commands = tuple(
        changed if command.name == changed.name else command for command in dicing_saw.SPEC.commands
    )
    return dataclasses.replace(dicing_saw.SPEC, commands=commands)


def test_a_declared_replys_command_gives_its_syntax_and_no_hand_written_one():
    """The command table's reply of a declared query is the declaration's: its keys with the
    form of each value, `OK NONE |` where the tool may have no result, a long reply cut to its
    first keys; a spec whose command gives another text for it is refused naming the query."""
    assert dicing_saw.BLADE_REPLY.syntax == (
        "OK THICKNESS=<0.0> KERF=<0.0> SINCE_DRESS=<0.0> INTERVAL=<0.0> RADIAL_WEAR=<0.00> "
        "BROKEN=<0/1>"
    )
    assert dicing_saw.RESULT_REPLY.syntax == (
        "OK NONE | OK WORK=<text> OUTCOME=<NONE/COMPLETED/STOPPED/FAULTED> LINES=<n> TOTAL=<n> …"
    )
    hand_written = saw_spec_with(
        HostCommand(name="WORK?", reply="OK NONE | OK ID=<id> DIE_X=…", doc="mounted workpiece")
    )
    with pytest.raises(ValueError, match=r"spec dicing_saw: the reply of WORK\? is declared"):
        check_host_spec(hand_written)


def test_a_precondition_is_one_of_the_tools_refusals():
    """A command's precondition names a refusal the spec declares (the page gives its code);
    one that names no refusal is refused, naming the command and the name."""
    work = dicing_saw.SPEC.command_by_name["WORK?"]
    assert isinstance(work, HostCommand)
    misnamed = saw_spec_with(dataclasses.replace(work, preconditions=("NO_WAFER",)))
    with pytest.raises(ValueError, match=r"command WORK\? names the precondition NO_WAFER"):
        check_host_spec(misnamed)


def test_a_precondition_a_family_refusal_answers_is_declared_with_its_own_words():
    """The saw's `ERR 5` refusals of what a command needs of the chuck and the spindle are
    preconditions of its host link (`HostPrecondition`): the command table gives each with the
    family refusal's code and what is unmet, after the tool's own ones in their order; one
    answered by no refusal of the tool, or named as a refusal is, is refused."""
    spec = dicing_saw.SPEC
    cut, mount = spec.command_by_name["CUT"], spec.command_by_name["MOUNT"]
    assert isinstance(cut, HostCommand)
    assert isinstance(mount, HostCommand)
    assert accepted_in(spec, cut) == (
        "IDLE; `ERR 7` with an empty chuck; `ERR 8` with a broken blade (`BLADE` installs a new "
        "one); `ERR 5` with the spindle not at speed (stopped, or still ramping to its set speed)"
    )
    assert accepted_in(spec, mount) == "IDLE; `ERR 5` with a workpiece mounted (`UNMOUNT` first)"
    assert spec.wire is not None
    for refusal, name in (
        ("NO_SUCH_REFUSAL", "SPINDLE_NOT_AT_SPEED"),
        ("WRONG_STATE", "NO_WORKPIECE"),
    ):
        stray = HostPrecondition(name=name, refusal=refusal, unmet="it", words="it")
        wire = dataclasses.replace(spec.wire, preconditions=(*spec.wire.preconditions, stray))
        with pytest.raises(ValueError, match=f"precondition {name} must be named apart"):
            check_host_spec(dataclasses.replace(spec, wire=wire))


def test_a_reply_field_a_gem_face_keeps_as_a_constant_is_read_from_it():
    """The saw's GEM face keeps the blade's dressing interval as an equipment constant: the
    blade's status variables leave it out, its table row says so, and the blade is read from
    the variables and the constant together (never None: `BLADE?` answers no NONE)."""
    blade = dicing_saw.BLADE_REPLY
    assert blade.gem_variables == (
        "blade_thickness_um",
        "kerf_um",
        "cut_since_dressing_mm",
        "radial_wear_um",
        "blade_broken",
    )
    assert blade.gem_constants == ("dressing_interval_mm",)
    assert "dressing_interval_mm" not in blade.status_sources
    row = "| `BLADE?` | `INTERVAL` | `BladeStatus.dressing_interval_mm` | number, 1 decimal | "
    meaning = "dressing interval, mm | "
    assert row + meaning + "`dressing_interval_mm` (equipment constant) |" in (
        rendered_tables(dicing_saw.SPEC)["replies"].splitlines()
    )
    values = dict(zip(blade.gem_variables, (20.0, 23.0, 0.0, 0.0, False), strict=True))
    read = blade.from_status_variables(values | {"dressing_interval_mm": 5000.0})
    assert read == BladeStatus(20.0, 23.0, 0.0, 5000.0, 0.0, False)
