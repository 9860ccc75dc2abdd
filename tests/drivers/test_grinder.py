"""Byte-level tests: the grinder driver against docs/protocols/grinder.md.

Each test lists the exact lines the page prescribes, written out here from the page (not from
the driver's constants), and runs the real VISA link and driver against a scripted peer.
"""

from __future__ import annotations

import pytest

from packline.clock import VirtualClock
from packline.drivers.equipment import ToolState
from packline.drivers.errors import (
    CommandRefused,
    InterlockOpen,
    LimitViolation,
    ProtocolError,
    ToolAlarm,
    ToolStateError,
    ToolTimeout,
)
from packline.drivers.grinder import ScpiGrinder
from packline.drivers.links import VisaLink
from packline.drivers.roles.grinder import (
    CycleResult,
    GrinderStatus,
    GrindPhase,
    GrindRecipe,
    GrindSide,
    WaferOnChuck,
)
from packline.testing import expected_protocol

Exchange = tuple[bytes, bytes | None]

NO_ERROR = b'0,"No error"\n'
ALL_CLOSED = b"chuck_vacuum=1,wafer_present=1,grinding_water=1\n"
RECIPE = GrindRecipe(300)


def line(text: str) -> bytes:
    return text.encode() + b"\n"


def connect_script(alarms: str = "NONE") -> list[Exchange]:
    """Identity, the cycle's phase (at rest), the alarms, then the error queue emptied."""
    return [
        (b"*IDN?\n", b"packline,GR-2,GR-2-0001,1.0\n"),
        (b"GRIN:STAT?\n", b"IDLE,725.0,0,0,0,0.0,0.0,0.0,0,NONE\n"),
        (b"SYST:ALAR?\n", line(alarms)),
        (b"*CLS\n", None),
    ]


def before_start(
    thickness: str = "725.0",
    substrate: str = "725.0",
    status: str = "IDLE,725.0,0,0,0,0.0,0.0,0.0,0,NONE",
) -> list[Exchange]:
    """What `grind` reads before it sends anything that changes the tool: the interlocks,
    the chuck and the gauges, then the gauge's resolution and the cycle's `status`."""
    return [
        (
            b":SYST:INT?;:WAF?;:MEAS:THIC?;:MEAS:SUBS?\n",
            ALL_CLOSED.removesuffix(b"\n") + line(f';"W01",BACK;{thickness};{substrate}'),
        ),
        (b":GAUG:RES?;:GRIN:STAT?\n", line(f"0.1;{status}")),
    ]


#: The recipe's settings, one program message (IEEE 488.2 compound: each unit given its
#: leading colon), then the error queue.
RECIPE_LINES: list[Exchange] = [
    (
        b":SPIN:SPEE 4500;:CHUC:SPEE 200;:GRIN:COAR:FEED 8;:GRIN:FINE:FEED 0.3;"
        b":GRIN:FINE:ALL 30;:POL:ALL 2;:GRIN:TARG 300\n",
        None,
    ),
    (b"SYST:ERR?\n", NO_ERROR),
]


def through_the_start() -> list[Exchange]:
    """A grind of `RECIPE` from connecting to its cycle started (none done before)."""
    return [
        *connect_script(),
        *before_start(),
        *RECIPE_LINES,
        (b"GRIN:STAR\n", None),
        (b"SYST:ERR?\n", NO_ERROR),
    ]


def make_driver(address: str, clock: VirtualClock | None = None, **options) -> ScpiGrinder:
    link = VisaLink(address, tool="grinder", timeout_s=1.0, clock=clock)
    return ScpiGrinder(link, name="grinder", **options)


async def test_connect_reads_identity_alarms_and_clears_the_error_queue():
    async with expected_protocol(connect_script()) as peer:
        driver = make_driver(peer.address("visa"))
        await driver.connect()
        assert str(driver.identity) == "packline GR-2 s/n GR-2-0001 fw 1.0"
        assert driver.state is ToolState.IDLE
        await driver.close()


async def test_an_alarm_at_connect_puts_the_tool_in_fault():
    async with expected_protocol(connect_script("GAUGE_FAULT,WHEEL_LOAD")) as peer:
        driver = make_driver(peer.address("visa"))
        await driver.connect()
        assert driver.state is ToolState.FAULT
        assert list(driver.active_alarms) == ["GAUGE_FAULT", "WHEEL_LOAD"]
        await driver.close()


async def test_load_and_chuck_vacuum_each_check_the_error_queue():
    script = [
        *connect_script(),
        (b'WAF:LOAD "W01",FRONT\n', None),
        (b"SYST:ERR?\n", NO_ERROR),
        (b"CHUC:VAC ON\n", None),
        (b"SYST:ERR?\n", NO_ERROR),
        (b"CHUC:VAC OFF\n", None),
        (b"SYST:ERR?\n", NO_ERROR),
        (b"WAF:UNL\n", None),
        (b"SYST:ERR?\n", NO_ERROR),
    ]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("visa"))
        await driver.connect()
        await driver.load("W01", GrindSide.FRONT)
        await driver.apply_chuck_vacuum()
        await driver.release_chuck_vacuum()
        await driver.unload()
        await driver.close()


async def test_queries_parse_the_documented_replies():
    script = [
        *connect_script(),
        (b"WAF?\n", b'"W01",FRONT\n'),
        (b"WAF?\n", b"NONE\n"),
        (b"GAUG:RES?\n", b"0.5\n"),
        (b"SYST:INT?\n", b"chuck_vacuum=0,wafer_present=1,grinding_water=1\n"),
        (b"GRIN:STAT?\n", b"FINE,331.4,4500,200,0.3,50.0,92.6,70.2,3,COMPLETED\n"),
    ]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("visa"))
        await driver.connect()
        assert await driver.request_wafer() == WaferOnChuck("W01", GrindSide.FRONT)
        assert await driver.request_wafer() is None
        assert await driver.request_gauge_resolution_um() == 0.5
        assert await driver.request_interlocks() == {
            "chuck_vacuum": False,
            "wafer_present": True,
            "grinding_water": True,
        }
        assert await driver.request_status() == GrinderStatus(
            phase=GrindPhase.FINE,
            thickness_um=331.4,
            spindle_rpm=4500,
            chuck_rpm=200,
            feed_um_s=0.3,
            spindle_load_pct=50.0,
            progress_pct=92.6,
            cycle_time_s=70.2,
            cycle_count=3,
            last_result=CycleResult.COMPLETED,
        )
        await driver.close()


async def test_grind_sends_the_recipe_starts_and_waits_the_cycle_out_on_opc():
    clock = VirtualClock()
    script = [
        *through_the_start(),
        (b"GRIN:STAT?\n", b"COARSE,718.6,4500,200,8,58.0,1.5,1.0,0,NONE\n"),
        (b"*OPC?\n", b"1\n"),  # the tool answers when the cycle has ended
        (b"GRIN:STAT?\n", b"IDLE,300.0,0,0,0,0.0,100.0,235.8,1,COMPLETED\n"),
        (b"MEAS:THIC?\n", b"300.0\n"),
    ]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("visa"), clock)
        await driver.connect()
        result = await driver.grind(RECIPE)
        await driver.close()
    assert result.final_thickness_um == 300.0
    assert result.removed_um == 425.0
    assert result.process_time_s == 235.8
    assert result.gauge_resolution_um == 0.1
    assert clock.now() == 0.0  # no poll interval: the status is read as *OPC? is answered
    thickness = [(r.value, r.time_s) for r in driver.readings if r.name == "thickness"]
    assert thickness == [(718.6, 0.0), (300.0, 0.0)]
    assert [r.value for r in driver.readings if r.name == "spindle_load"] == [58.0, 0.0]
    assert [r.value for r in driver.readings if r.name == "progress"] == [1.5, 100.0]


async def test_a_refused_setpoint_becomes_command_refused_with_the_tools_message():
    script = [
        *connect_script(),
        (b"CHUC:VAC ON\n", None),
        (b"SYST:ERR?\n", b'-221,"Settings conflict;CHUC:VAC not allowed while grinding"\n'),
        (b"SYST:ERR?\n", NO_ERROR),
    ]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("visa"))
        await driver.connect()
        with pytest.raises(CommandRefused) as refused:
            await driver.apply_chuck_vacuum()
        await driver.close()
    assert refused.value.code == "-221"
    assert "apply chuck vacuum: Settings conflict: CHUC:VAC not allowed while grinding" in str(
        refused.value
    )


async def test_every_queued_error_is_read_and_reported():
    script = [
        *connect_script(),
        *before_start(),
        *RECIPE_LINES[:-1],
        (b"SYST:ERR?\n", b'-222,"Data out of range;SPIN:SPEE 4500 outside 1000-4000 rpm"\n'),
        (b"SYST:ERR?\n", b'-222,"Data out of range;GRIN:TARG 300 outside 400-2000 um"\n'),
        (b"SYST:ERR?\n", NO_ERROR),
    ]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("visa"))
        await driver.connect()
        with pytest.raises(CommandRefused, match=r"SPIN:SPEE 4500 .*; .*GRIN:TARG 300") as refused:
            await driver.grind(RECIPE)
        assert refused.value.code == "-222"
        assert driver.state is ToolState.IDLE
        await driver.close()


async def test_out_of_limit_setpoint_is_refused_and_nothing_is_sent():
    async with expected_protocol(connect_script()) as peer:
        driver = make_driver(peer.address("visa"))
        await driver.connect()
        with pytest.raises(LimitViolation, match=r"spindle_rpm = 6000 rpm .* \[3500, 5500\]"):
            await driver.grind(GrindRecipe(300, spindle_rpm=6000))
        with pytest.raises(LimitViolation, match="fine_feed_um_s = 1 um/s"):
            await driver.grind(GrindRecipe(300, fine_feed_um_s=1.0))
        with pytest.raises(LimitViolation, match="target_thickness_um = 20 um"):
            await driver.grind(GrindRecipe(20))
        assert driver.state is ToolState.IDLE
        await driver.close()


async def test_back_grinding_that_would_leave_too_little_silicon_sends_only_queries():
    # 100 um of resin and bumps stand on a 725 um substrate: 120 um total leaves 20 um of silicon
    script = [*connect_script(), *before_start(thickness="825.0", substrate="725.0")]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("visa"))
        await driver.connect()
        with pytest.raises(LimitViolation, match=r"substrate_remaining_um = 20 um .*\[50, 2000\]"):
            await driver.grind(GrindRecipe(120))
        assert driver.state is ToolState.IDLE
        await driver.close()


async def test_a_target_above_the_present_thickness_is_refused():
    script = [*connect_script(), *before_start(thickness="725.0", substrate="725.0")]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("visa"))
        await driver.connect()
        with pytest.raises(LimitViolation, match=r"target_thickness_um = 800 um .*\[50, 725\]"):
            await driver.grind(GrindRecipe(800))
        await driver.close()


@pytest.mark.parametrize(
    ("read", "refusal", "words"),
    [
        (
            b'chuck_vacuum=0,wafer_present=1,grinding_water=0;"W01",BACK;725.0;725.0\n',
            InterlockOpen,
            "interlock open: chuck_vacuum, grinding_water",
        ),
        # the grinder checks an empty chuck (203) before its interlocks (201): with the
        # grinding water off too, the driver names the empty chuck, in the tool's words
        (
            b"chuck_vacuum=0,wafer_present=0,grinding_water=0;NONE;0.0;0.0\n",
            ToolStateError,
            "grind: No wafer on chuck$",
        ),
    ],
)
async def test_a_grind_the_tool_would_refuse_is_refused_before_anything_moves(
    read: bytes, refusal: type[Exception], words: str
):
    """Judged in the tool's order from what it reads; nothing else is sent."""
    script = [
        *connect_script(),
        (b":SYST:INT?;:WAF?;:MEAS:THIC?;:MEAS:SUBS?\n", read),
        (b":GAUG:RES?;:GRIN:STAT?\n", b"0.1;IDLE,725.0,0,0,0,0.0,0.0,0.0,0,NONE\n"),
    ]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("visa"))
        await driver.connect()
        with pytest.raises(refusal, match=words):
            await driver.grind(RECIPE)
        assert driver.state is ToolState.IDLE
        await driver.close()


async def test_garbled_replies_are_protocol_errors():
    script = [
        (b"*IDN?\n", b"hello\n"),
        (b"*IDN?\n", b"packline,GR-2,GR-2-0001,1.0\n"),
        (b"GRIN:STAT?\n", b"IDLE,725.0,0,0,0,0.0,0.0,0.0,0,NONE\n"),
        (b"SYST:ALAR?\n", b"NONE\n"),
        (b"*CLS\n", None),
        (b"GRIN:STAT?\n", b"COARSE,718.6,4500\n"),
        (b"SYST:INT?\n", b"chuck_vacuum=yes\n"),
        (b"MEAS:THIC?\n", b"thick\n"),
    ]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("visa"))
        with pytest.raises(ProtocolError, match=r"\*IDN\? answered 'hello'"):
            await driver.connect()
        await driver.connect()
        with pytest.raises(ProtocolError, match="3 fields, not 10"):
            await driver.request_status()
        with pytest.raises(ProtocolError, match="SYST:INT"):
            await driver.request_interlocks()
        with pytest.raises(ProtocolError, match="not a number"):
            await driver.request_thickness_um()
        await driver.close()


async def test_a_failed_gauge_reading_reports_the_tools_alarm():
    script = [
        *connect_script(),
        (b"MEAS:THIC?\n", b"9.91E+37\n"),
        (b"SYST:ALAR?\n", b"GAUGE_FAULT\n"),
    ]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("visa"))
        await driver.connect()
        with pytest.raises(ToolAlarm, match="GAUGE_FAULT"):
            await driver.request_thickness_um()
        assert driver.state is ToolState.FAULT
        await driver.close()


async def test_abort_and_reset():
    script = [
        *connect_script("WHEEL_LOAD"),
        (b"ABOR\n", None),
        (b"*OPC?\n", b"1\n"),
        (b"SYST:ALAR:CLE\n", None),
        (b"SYST:ERR?\n", NO_ERROR),
        (b"SYST:ALAR?\n", b"NONE\n"),
    ]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("visa"))
        await driver.connect()
        await driver.abort()
        await driver.reset()
        assert driver.state is ToolState.IDLE
        assert [alarm.code for alarm in driver.alarm_history] == ["WHEEL_LOAD"]
        await driver.close()


async def test_a_cycle_ended_by_someone_else_is_not_a_success():
    clock = VirtualClock()
    script = [
        *connect_script(),
        *before_start(status="IDLE,725.0,0,0,0,0.0,0.0,0.0,4,COMPLETED"),
        *RECIPE_LINES,
        (b"GRIN:STAR\n", None),
        (b"SYST:ERR?\n", NO_ERROR),
        (b"GRIN:STAT?\n", b"IDLE,690.2,0,0,0,0.0,8.2,5.4,5,ABORTED\n"),
    ]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("visa"), clock)
        await driver.connect()
        with pytest.raises(ToolAlarm, match="cycle ended aborted"):
            await driver.grind(RECIPE)
        assert driver.state is ToolState.FAULT
        await driver.close()


async def test_a_cycle_that_overruns_its_allowance_is_stopped_and_times_out():
    # RECIPE from 725 um is allowed 393/(8*0.25) + 30/(0.3*0.25) + 2/0.01 + 120 = 916.5 s.
    # *OPC? is held until UNBOUNDED_TAIL_S before that, then the link's 1 s timeout (wall
    # clock) drops the connection; the status is read then and, polled every 100 s, once more
    # at the allowance's end (the interval cut to it), where the cycle is stopped.
    clock = VirtualClock()
    still_coarse = b"COARSE,700.0,4500,200,8,58.0,5.9,10.0,0,NONE\n"
    script = [
        *through_the_start(),
        (b"GRIN:STAT?\n", still_coarse),
        (b"*OPC?\n", None),  # held past its bound: the cycle does not end
        *[(b"GRIN:STAT?\n", still_coarse)] * 2,
        (b"ABOR\n", None),
        (b"*OPC?\n", b"1\n"),
    ]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("visa"), clock, poll_interval_s=100.0)
        await driver.connect()
        with pytest.raises(ToolTimeout, match=r"cycle still coarse at 700\.0 um after 916\.5 s"):
            await driver.grind(RECIPE)
        assert clock.now() == 916.5
        assert driver.state is ToolState.IDLE
        await driver.close()


async def test_a_tool_whose_opc_does_not_wait_for_the_cycle_is_polled_every_interval():
    clock = VirtualClock()
    script = [
        *through_the_start(),
        (b"GRIN:STAT?\n", b"COARSE,718.6,4500,200,8,58.0,1.5,1.0,0,NONE\n"),
        (b"*OPC?\n", b"1\n"),  # at once, the cycle still running
        (b"GRIN:STAT?\n", b"COARSE,717.0,4500,200,8,58.0,2.0,1.2,0,NONE\n"),
        (b"GRIN:STAT?\n", b"IDLE,300.0,0,0,0,0.0,100.0,235.8,1,COMPLETED\n"),
        (b"MEAS:THIC?\n", b"300.0\n"),
    ]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("visa"), clock, poll_interval_s=100.0)
        await driver.connect()
        result = await driver.grind(RECIPE)
        await driver.close()
    assert result.final_thickness_um == 300.0
    assert clock.now() == 100.0  # one poll interval, not another *OPC?


@pytest.mark.parametrize(
    ("status", "alarms", "refusal", "words"),
    [
        (  # a cycle someone else started at the tool
            b"COARSE,718.6,4500,200,8,58.0,1.5,1.0,0,NONE",
            [],
            ToolStateError,
            "grind: GRIN:STAR not allowed while grinding$",
        ),
        (  # an alarm latched since the driver last read them
            b"FAULT,725.0,0,0,0,0.0,0.0,0.0,0,NONE",
            [(b"SYST:ALAR?\n", b"GAUGE_FAULT\n")],
            ToolAlarm,
            "grind: alarm GAUGE_FAULT ",
        ),
    ],
    ids=["grinding", "alarm"],
)
async def test_a_grind_is_refused_for_the_grinder_s_phase_before_its_chuck_and_interlocks(
    status: bytes, alarms: list[Exchange], refusal: type[Exception], words: str
):
    """`GRIN:STAR` refuses a cycle running (-221) and an alarm latched (202) before an empty
    chuck and the interlocks: the driver judges the phase it read first, with the chuck empty
    and the grinding water off too, and sends nothing that changes the tool (an alarm's list
    is read, as the driver reads every alarm it meets)."""
    script = [
        *connect_script(),
        (
            b":SYST:INT?;:WAF?;:MEAS:THIC?;:MEAS:SUBS?\n",
            b"chuck_vacuum=0,wafer_present=0,grinding_water=0;NONE;725.0;725.0\n",
        ),
        (b":GAUG:RES?;:GRIN:STAT?\n", b"0.1;" + status + b"\n"),
        *alarms,
    ]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("visa"))
        await driver.connect()
        with pytest.raises(refusal, match=words):
            await driver.grind(RECIPE)
        await driver.close()
