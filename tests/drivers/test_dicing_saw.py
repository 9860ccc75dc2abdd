"""The dicing saw driver, pinned byte for byte to docs/protocols/dicing-saw.md (no simulator)."""

from __future__ import annotations

import pytest

from packline.clock import VirtualClock
from packline.drivers.dicing_saw import AsciiDicingSaw
from packline.drivers.equipment import HOLD_S, E10State, ToolState
from packline.drivers.errors import (
    CommandRefused,
    InterlockOpen,
    LimitViolation,
    ProtocolError,
    ToolAlarm,
    ToolStateError,
    ToolTimeout,
    WorkpieceHeld,
)
from packline.drivers.links import open_link
from packline.drivers.roles.dicing_saw import (
    BladeStatus,
    CutOutcome,
    DicingRecipe,
    DicingResult,
    StreetMap,
)
from packline.testing import expected_protocol
from packline.testing.host_link import compound

ALL_CLOSED = b"OK COVER=1 WATER=1 AIR=1 VACUUM=1\n"
#: `BLADE?` of a blade that is whole, then of one that is broken.
WHOLE_BLADE = (
    b"OK THICKNESS=20.0 KERF=23.0 SINCE_DRESS=10.0 INTERVAL=20000.0 RADIAL_WEAR=5.10 BROKEN=0\n"
)
BROKEN_BLADE = WHOLE_BLADE.replace(b"BROKEN=0", b"BROKEN=1")


def stat(state: str = "IDLE", line: int = 0, lines: int = 0, rpm: int = 0, set_rpm: int = 0,
         cuts: int = 0, dresses: int = 0) -> bytes:  # fmt: skip
    return (
        f"OK STATE={state} WORK=W1 LINE={line} LINES={lines} SPINDLE={rpm} SPINDLE_SET={set_rpm} "
        f"CUTS={cuts} DRESSES={dresses}\n"
    ).encode()


CONNECT = [
    (b"IDN?\n", b"OK packline,DS-2,DS-2-0001,1.0\n"),
    (b"STAT?\n", stat()),
    (b"ALM?\n", b"OK NONE\n"),
]


def saw_at(address: str, **options: object) -> AsciiDicingSaw:
    link = open_link(address, tool="saw", clock=VirtualClock(), timeout_s=1.0)
    return AsciiDicingSaw(link, poll_interval_s=2.0, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("transport", ["tcp", "pty"])
async def test_identity_on_connect(transport):
    async with (
        expected_protocol(CONNECT, transport=transport) as peer,
        saw_at(peer.address("serial")) as saw,
    ):
        assert str(saw.identity) == "packline DS-2 s/n DS-2-0001 fw 1.0"
        assert saw.state is ToolState.IDLE


async def test_mount_and_unmount():
    script = [
        *CONNECT,
        (b"MOUNT W1\n", b"OK\n"),
        (b"WORK?\n", b"OK ID=W1 DIE_X=10.0000 DIE_Y=8.0000 DIAMETER=200.000 STACK=825.0\n"),
        (b"UNMOUNT\n", b"OK\n"),
        (b"WORK?\n", b"OK NONE\n"),
    ]
    async with expected_protocol(script) as peer, saw_at(peer.address("serial")) as saw:
        mounted = await saw.mount("W1")
        assert (mounted.die_width_mm, mounted.die_height_mm, mounted.stack_um) == (10, 8, 825)
        await saw.unmount()
        assert await saw.request_workpiece() is None


async def test_the_last_cut_is_none_before_the_first_and_read_by_the_specs_reply():
    script = [
        *CONNECT,
        (b"RESULT?\n", b"OK NONE\n"),
        (
            b"RESULT?\n",
            b"OK WORK=W1 OUTCOME=FAULTED LINES=12 TOTAL=40 LENGTH=1890.0 KERF=23.0 DEPTH=-1.5 "
            b"FRONT=5.8 BACK=11.6 UNITS=0 TIME=71.2\n",
        ),
    ]
    async with expected_protocol(script) as peer, saw_at(peer.address("serial")) as saw:
        assert await saw.request_last_cut() is None
        last = await saw.request_last_cut()
    assert last == DicingResult(
        "W1", CutOutcome.FAULTED, 12, 40, 1890.0, 23.0, -1.5, 5.8, 11.6, 0, 71.2
    )


async def test_dice_with_default_pitches_from_the_die_size():
    script = [
        *CONNECT,
        (b"WORK?\n", b"OK ID=W1 DIE_X=10.0000 DIE_Y=8.0000 DIAMETER=200.000 STACK=725.0\n"),
        compound((b"BLADE?\n", WHOLE_BLADE), (b"ILK?\n", ALL_CLOSED), (b"STAT?\n", stat())),
        (
            b"FEED 30.0;INDEX 1 8.0000 0.0000;INDEX 2 10.0000 0.0500;DEPTH 25.0\n",
            b"OK;OK;OK;OK\n",
        ),
        compound((b"SPINDLE 30000\n", b"OK\n"), (b"STAT?\n", stat(rpm=20000, set_rpm=30000))),
        (b"STAT?\n", stat(rpm=30000, set_rpm=30000)),
        compound((b"CUT\n", b"OK\n"), (b"STAT?\n", stat("CUTTING", 10, 40, 30000, 30000))),
        (f"WAIT? CUTTING {HOLD_S:g}\n".encode(), stat("IDLE", 40, 40, 30000, 30000, cuts=1)),
        (
            b"RESULT?\n",
            b"OK WORK=W1 OUTCOME=COMPLETED LINES=40 TOTAL=40 LENGTH=6304.8 KERF=23.0 DEPTH=26.8 "
            b"FRONT=5.8 BACK=11.6 UNITS=261 TIME=240.0\n",
        ),
    ]
    recipe = DicingRecipe(30, 30, StreetMap(ch2_offset_mm=0.05, depth_into_tape_um=25))
    async with expected_protocol(script) as peer, saw_at(peer.address("serial")) as saw:
        result = await saw.dice(recipe)
        assert saw.state is ToolState.IDLE
    assert result.outcome is CutOutcome.COMPLETED
    assert (result.lines_cut, result.singulated_units, result.kerf_width_um) == (40, 261, 23.0)
    progress = [r.value for r in saw.readings if r.name == "progress"]
    assert progress == [25.0, 100.0]
    assert [r.name for r in saw.readings][-5:] == [
        "kerf_width", "cut_depth_into_tape", "chipping_front", "chipping_back", "singulated_units",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("blade", "interlocks", "refusal", "match"),
    [
        (WHOLE_BLADE, b"OK COVER=0 WATER=1 AIR=1 VACUUM=1\n", InterlockOpen,
         r"dice: interlock open: cover_closed$"),
        (BROKEN_BLADE, b"OK COVER=1 WATER=0 AIR=1 VACUUM=1\n", ToolStateError,
         r"dice: blade is broken; install a new blade$"),
    ],
    ids=["cover open", "broken blade and water off"],
)  # fmt: skip
async def test_dice_judges_its_cut_before_any_setting(blade, interlocks, refusal, match):
    """`dice` reads the blade, the interlocks and the status on one line before any setting and
    judges its cut in the saw's order (conventions.md, error precedence): an open interlock
    refuses it, and a broken blade with the cutting water off refuses it naming the blade, as
    the saw's `CUT` is (`ERR 8`). Nothing is sent after that line. The spindle at rest is no
    refusal: `dice` brings it to speed."""
    script = [
        *CONNECT,
        (b"WORK?\n", b"OK ID=W1 DIE_X=10.0000 DIE_Y=10.0000 DIAMETER=200.000 STACK=725.0\n"),
        compound((b"BLADE?\n", blade), (b"ILK?\n", interlocks), (b"STAT?\n", stat())),
    ]
    async with expected_protocol(script) as peer, saw_at(peer.address("serial")) as saw:
        with pytest.raises(refusal, match=match):
            await saw.dice(DicingRecipe(30, 30))
        assert saw.state is ToolState.IDLE


async def test_dice_without_a_workpiece_is_a_state_error():
    script = [*CONNECT, (b"WORK?\n", b"OK NONE\n")]
    async with expected_protocol(script) as peer, saw_at(peer.address("serial")) as saw:
        with pytest.raises(ToolStateError, match="no workpiece is mounted"):
            await saw.dice(DicingRecipe(30, 30, StreetMap(10, 10)))


async def test_alarm_during_the_cut_then_reset():
    script = [
        *CONNECT,
        (b"WORK?\n", b"OK ID=W1 DIE_X=10.0000 DIE_Y=10.0000 DIAMETER=200.000 STACK=725.0\n"),
        compound(
            (b"BLADE?\n", WHOLE_BLADE),
            (b"ILK?\n", ALL_CLOSED),
            (b"STAT?\n", stat(rpm=30000, set_rpm=30000)),
        ),
        (
            b"FEED 30.0;INDEX 1 10.0000 0.0000;INDEX 2 10.0000 0.0000;DEPTH 30.0\n",
            b"OK;OK;OK;OK\n",
        ),
        compound((b"CUT\n", b"OK\n"), (b"STAT?\n", stat("FAULT", 1, 40))),
        (b"ALM?\n", b"OK CUT_DEPTH\n"),
        (b"RST\n", b"OK\n"),
        (b"ALM?\n", b"OK NONE\n"),
    ]
    async with expected_protocol(script) as peer, saw_at(peer.address("serial")) as saw:
        with pytest.raises(ToolAlarm, match=r"CUT_DEPTH \(height check: the cut did not reach"):
            await saw.dice(DicingRecipe(30, 30))
        assert saw.state is ToolState.FAULT
        assert saw.e10_state is E10State.UNSCHEDULED_DOWNTIME
        await saw.reset()
        assert saw.state is ToolState.IDLE
        assert [a.code for a in saw.alarm_history] == ["CUT_DEPTH"]


async def test_dress_blade_waits_for_the_dressing_counter():
    script = [
        *CONNECT,
        compound(
            (b"BLADE?\n", WHOLE_BLADE),
            (b"ILK?\n", ALL_CLOSED),
            (b"STAT?\n", stat(rpm=30000, set_rpm=30000)),
        ),
        compound((b"DRESS\n", b"OK\n"), (b"STAT?\n", stat("DRESSING", rpm=30000, set_rpm=30000))),
        (f"WAIT? DRESSING {HOLD_S:g}\n".encode(), stat(rpm=30000, set_rpm=30000, dresses=1)),
        (
            b"BLADE?\n",
            b"OK THICKNESS=20.0 KERF=23.0 SINCE_DRESS=0.0 INTERVAL=20000.0 RADIAL_WEAR=5.15 "
            b"BROKEN=0\n",
        ),
    ]
    async with expected_protocol(script) as peer, saw_at(peer.address("serial")) as saw:
        blade = await saw.dress_blade()
    assert blade.cut_since_dressing_mm == 0.0
    assert blade.wear_ratio == 0.0


async def test_a_cut_that_cut_no_line_has_no_kerf_depth_nor_chipping():
    """A cut faulted at its first line measured nothing: `RESULT?` gives `KERF=-`, `DEPTH=-`,
    `FRONT=-` and `BACK=-` (the page's replies table), read as None and recorded as no
    reading, where 0 would read as a line cut to the top of the tape with no chipping (a new
    user's trial: `FRONT=0.0 BACK=0.0`); a `-` of a field that always has a value stays
    garbled."""
    script = [
        *CONNECT,
        (
            b"RESULT?\n",
            b"OK WORK=W1 OUTCOME=FAULTED LINES=0 TOTAL=40 LENGTH=0.0 KERF=- DEPTH=- "
            b"FRONT=- BACK=- UNITS=0 TIME=3.0\n",
        ),
        (
            b"RESULT?\n",
            b"OK WORK=W1 OUTCOME=FAULTED LINES=0 TOTAL=40 LENGTH=- KERF=- DEPTH=- "
            b"FRONT=- BACK=- UNITS=0 TIME=3.0\n",
        ),
    ]
    async with expected_protocol(script) as peer, saw_at(peer.address("serial")) as saw:
        last = await saw.request_last_cut()
        with pytest.raises(ProtocolError, match="LENGTH='-'"):
            await saw.request_last_cut()
    assert last == DicingResult(
        "W1", CutOutcome.FAULTED, 0, 40, 0.0, None, None, None, None, 0, 3.0
    )
    saw.record_result(last)
    assert [reading.name for reading in saw.readings] == ["singulated_units"]


async def test_a_broken_blade_is_named_before_an_open_interlock():
    """A dressing and a spindle start judge the blade before the interlocks, as the saw does
    (conventions.md, error precedence: what the command works on, then its interlocks): with
    the blade broken and the cover open, each is refused naming the blade, read on one line
    with the interlocks and the status, and nothing is sent after it."""
    script = [
        *CONNECT,
        *[
            compound(
                (b"BLADE?\n", BROKEN_BLADE),
                (b"ILK?\n", b"OK COVER=0 WATER=1 AIR=1 VACUUM=1\n"),
                (b"STAT?\n", stat()),
            )
        ]
        * 2,
    ]
    async with expected_protocol(script) as peer, saw_at(peer.address("serial")) as saw:
        broken = "blade is broken; install a new blade$"
        with pytest.raises(ToolStateError, match=f"dress blade: {broken}"):
            await saw.dress_blade()
        with pytest.raises(ToolStateError, match=f"start spindle: {broken}"):
            await saw.start_spindle(30)
        assert saw.state is ToolState.IDLE


async def test_the_blade_with_the_spindle_stopped_cuts_no_kerf():
    """`BLADE?` with the spindle set to stop gives `KERF=-`: a blade at rest cuts nothing."""
    script = [
        *CONNECT,
        (
            b"BLADE?\n",
            b"OK THICKNESS=20.0 KERF=- SINCE_DRESS=0.0 INTERVAL=20000.0 RADIAL_WEAR=0.00 "
            b"BROKEN=0\n",
        ),
    ]
    async with expected_protocol(script) as peer, saw_at(peer.address("serial")) as saw:
        assert await saw.request_blade() == BladeStatus(20.0, None, 0.0, 20000.0, 0.0, False)


async def test_the_blade_is_read_by_the_specs_reply_and_its_none_is_garbled():
    """`BLADE?` reads every field (`BROKEN=1` a flag); the saw always has a blade, so a
    `NONE` is no answer of the page's."""
    script = [
        *CONNECT,
        (
            b"BLADE?\n",
            b"OK THICKNESS=30.0 KERF=32.5 SINCE_DRESS=812.4 INTERVAL=15000.0 RADIAL_WEAR=0.41 "
            b"BROKEN=1\n",
        ),
        (b"BLADE?\n", b"OK NONE\n"),
    ]
    async with expected_protocol(script) as peer, saw_at(peer.address("serial")) as saw:
        assert await saw.request_blade() == BladeStatus(30.0, 32.5, 812.4, 15000.0, 0.41, True)
        with pytest.raises(ProtocolError, match=r"reply 'OK NONE' to 'BLADE\?': the page gives"):
            await saw.request_blade()


async def test_blade_spindle_and_interval_commands():
    script = [
        *CONNECT,
        (b"BLADE 40.0\n", b"OK\n"),
        (b"INTERVAL 15000.0\n", b"OK\n"),
        compound((b"BLADE?\n", WHOLE_BLADE), (b"ILK?\n", ALL_CLOSED), (b"STAT?\n", stat())),
        compound((b"SPINDLE 45000\n", b"OK\n"), (b"STAT?\n", stat(rpm=45000, set_rpm=45000))),
        compound((b"SPINDLE OFF\n", b"OK\n"), (b"STAT?\n", stat(rpm=15000))),
        (b"STAT?\n", stat()),
    ]
    async with expected_protocol(script) as peer, saw_at(peer.address("serial")) as saw:
        await saw.install_blade(40)
        await saw.set_dressing_interval(15000)
        await saw.start_spindle(45)
        await saw.stop_spindle()
    assert [r.value for r in saw.readings if r.name == "spindle_speed"] == [45, 15, 0]


async def test_refusal_becomes_command_refused_with_the_tools_reason():
    script = [
        *CONNECT,
        (b"MOUNT W2\n", b"ERR 5 W1 is mounted; UNMOUNT first\n"),
        (b"WORK?\n", b"OK NONE\n"),  # refused for another reason than a workpiece held
    ]
    async with expected_protocol(script) as peer, saw_at(peer.address("serial")) as saw:
        with pytest.raises(CommandRefused, match=r"mount W2: W1 is mounted; UNMOUNT first") as info:
            await saw.mount("W2")
    assert info.value.code == "5"


async def test_a_mount_refused_while_a_workpiece_is_mounted_names_it():
    script = [
        *CONNECT,
        (b"MOUNT W2\n", b"ERR 5 busy\n"),
        (b"WORK?\n", b"OK ID=W1 DIE_X=10.0000 DIE_Y=8.0000 DIAMETER=200.000 STACK=825.0\n"),
    ]
    async with expected_protocol(script) as peer, saw_at(peer.address("serial")) as saw:
        with pytest.raises(
            WorkpieceHeld,
            match=r"mount W2: the tool already holds W1: unload it, or have it taken off and the "
            r"tool cleared, before loading another \(the tool said: busy \(tool error 5\)\)$",
        ) as held:
            await saw.mount("W2")  # the saw's own words kept, whatever they are
    assert held.value.workpieces == ("W1",)
    cause = held.value.__cause__
    assert isinstance(cause, CommandRefused)
    assert (cause.reason, cause.code) == ("busy", "5")  # the tool's own reply


@pytest.mark.parametrize(
    ("reply", "match"),
    [
        (b"YES\n", "neither OK nor ERR"),
        (b"OK STATE=IDLE WORK=W1\n", "lacks LINE, LINES"),
        (b"OK STATE=SLEEPING WORK=W1 LINE=0 LINES=0 SPINDLE=0 SPINDLE_SET=0 CUTS=0 DRESSES=0\n",
         "STATE='SLEEPING' is not on the protocol page"),
        (b"OK STATE=IDLE WORK=W1 LINE=x LINES=0 SPINDLE=0 SPINDLE_SET=0 CUTS=0 DRESSES=0\n",
         "LINE='x' is not an integer"),
    ],
)  # fmt: skip
async def test_garbled_reply_is_a_protocol_error(reply, match):
    script = [*CONNECT, (b"STAT?\n", reply)]
    async with expected_protocol(script) as peer, saw_at(peer.address("serial")) as saw:
        with pytest.raises(ProtocolError, match=match):
            await saw.request_status()


@pytest.mark.parametrize(
    ("recipe", "setpoint"),
    [
        (DicingRecipe(70, 30), "spindle_krpm"),
        (DicingRecipe(30, 150), "feed_mm_s"),
        (DicingRecipe(30, 30, StreetMap(depth_into_tape_um=80)), "depth_into_tape_um"),
        (DicingRecipe(30, 30, StreetMap(ch1_pitch_mm=150)), "pitch_mm"),
    ],
)
async def test_out_of_limit_setpoint_is_refused_with_nothing_sent(recipe, setpoint):
    async with expected_protocol(CONNECT) as peer, saw_at(peer.address("serial")) as saw:
        with pytest.raises(LimitViolation, match=f"dice.*: {setpoint} = ") as info:
            await saw.dice(recipe)
        with pytest.raises(LimitViolation, match="spindle_krpm = 19"):
            await saw.start_spindle(19)
        with pytest.raises(LimitViolation, match="blade_thickness_um = 80"):
            await saw.install_blade(80)
        assert saw.state is ToolState.IDLE
    assert info.value.setpoint == setpoint


async def test_bad_workpiece_id_is_refused_with_nothing_sent():
    async with expected_protocol(CONNECT) as peer, saw_at(peer.address("serial")) as saw:
        with pytest.raises(ValueError, match="1-16 printable ASCII"):
            await saw.mount("W 1")


async def test_abort_commands_the_safe_state_and_waits_for_the_spindle_to_stop():
    """STOP, then STAT? polled (every 2 s) while the spindle coasts down from 30 krpm at the
    page's 10 krpm/s: the abort returns once it reads 0."""
    script = [
        *CONNECT,
        (b"STOP\n", b"OK\n"),
        (b"STAT?\n", stat(rpm=30000)),
        (b"STAT?\n", stat(rpm=10000)),
        (b"STAT?\n", stat(rpm=0)),
    ]
    async with expected_protocol(script) as peer, saw_at(peer.address("serial")) as saw:
        await saw.abort()
        assert saw.state is ToolState.IDLE
        assert saw.clock.now() == 4.0


async def test_an_abort_whose_spindle_never_stops_raises_naming_it():
    """A spindle still turning 20 s after STOP (its brake failed): the abort raises
    `ToolTimeout` naming it, STOP not sent again, and the driver is in fault."""
    turning = (b"STAT?\n", stat(rpm=12000))
    script = [*CONNECT, (b"STOP\n", b"OK\n"), *[turning] * 11]  # t = 0, 2, ... 20
    async with expected_protocol(script) as peer, saw_at(peer.address("serial")) as saw:
        with pytest.raises(
            ToolTimeout,
            match=r"^saw at .*: abort: safe state not confirmed: spindle at 12000 rpm after 20 s$",
        ):
            await saw.abort()
        assert saw.state is ToolState.FAULT


async def test_an_abort_whose_job_goes_on_raises_naming_the_state():
    cutting = (b"STAT?\n", stat("CUTTING", line=3, lines=40, rpm=30000, set_rpm=30000))
    script = [*CONNECT, (b"STOP\n", b"OK\n"), *[cutting] * 11]
    async with expected_protocol(script) as peer, saw_at(peer.address("serial")) as saw:
        with pytest.raises(
            ToolTimeout, match=r"safe state not confirmed: still cutting, spindle at 30000 rpm"
        ):
            await saw.abort()


async def test_a_spindle_that_never_reaches_speed_is_stopped_before_the_timeout():
    # 30 s allowance, polled every 2 s: 16 polls at 20 krpm, then STOP, then the timeout
    slow = (b"STAT?\n", stat(rpm=20000, set_rpm=30000))
    script = [
        *CONNECT,
        compound((b"BLADE?\n", WHOLE_BLADE), (b"ILK?\n", ALL_CLOSED), (b"STAT?\n", stat())),
        compound((b"SPINDLE 30000\n", b"OK\n"), slow),  # the first of the 16
        *[slow] * 15,
        (b"STOP\n", b"OK\n"),
        (b"STAT?\n", b"OK STATE=IDLE SPINDLE=0\n"),  # the safe state shows
    ]
    async with expected_protocol(script) as peer, saw_at(peer.address("serial")) as saw:
        with pytest.raises(ToolTimeout, match=r"after 30 s; aborted"):
            await saw.start_spindle(30)
        assert saw.state is ToolState.IDLE
