"""The wet bench driver, pinned byte for byte to docs/protocols/wet-bench.md (no simulator)."""

from __future__ import annotations

from typing import Final

import pytest

from packline.clock import VirtualClock
from packline.drivers.equipment import ToolState
from packline.drivers.errors import (
    CommandRefused,
    InterlockOpen,
    LimitViolation,
    ToolAlarm,
    ToolTimeout,
)
from packline.drivers.links import open_link
from packline.drivers.roles.wet_bench import DipResult, Tank
from packline.drivers.wet_bench import AsciiWetBench
from packline.testing import expected_protocol
from packline.testing.host_link import compound

ALL_CLOSED = (b"ILK?\n", b"OK SASH=1 EXHAUST=1 LEVEL=1\n")
#: The transport of a test that pins a job's polls: a tty's line, which holds no reply, so the
#: driver polls it every poll interval whatever the hold (`HOLD_S`) a held wait would ask.
POLLED: Final = "pty"


def stat(state: str = "IDLE", tank: str = "-", left: float = 0.0, jobs: int = 0):
    return (
        b"STAT?\n",
        f"OK STATE={state} WAFER=W1 TANK={tank} LEFT={left:.1f} JOBS={jobs}\n".encode(),
    )


CONNECT = [(b"IDN?\n", b"OK packline,WS-1,WS-1-0001,1.0\n"), stat(), (b"ALM?\n", b"OK NONE\n")]


STRIPPED = b"OK WAFER=W1 TANK=STRIP TIME=300.0 TEMP=60.0 CHANGE=-11.060 LEFT=0 OPENED=0\n"
PLATED = b"OK WAFER=W1 TANK=CU-ELESS TIME=600.0 TEMP=60.0 CHANGE=0.600 LEFT=200 OPENED=0\n"


def bench_at(address: str) -> AsciiWetBench:
    link = open_link(address, tool="wet", clock=VirtualClock(), timeout_s=1.0)
    return AsciiWetBench(link, poll_interval_s=60.0)  # type: ignore[arg-type]


async def test_the_last_dip_is_none_before_the_first_and_read_by_the_specs_reply():
    script = [
        *CONNECT,
        (b"RESULT?\n", b"OK NONE\n"),
        (
            b"RESULT?\n",
            b"OK WAFER=W1 TANK=TI-ETCH TIME=42.5 TEMP=40.0 CHANGE=-0.125 LEFT=17 OPENED=2\n",
        ),
    ]
    async with expected_protocol(script) as peer, bench_at(peer.address("serial")) as bench:
        assert await bench.request_last_dip() is None
        last = await bench.request_last_dip()
    assert last == DipResult("W1", Tank.TI_ETCH, 42.5, 40.0, -0.125, 17, 2)


async def test_etch_dips_polls_and_reads_the_log():
    script = [
        *CONNECT,
        compound(ALL_CLOSED, stat()),
        compound((b"DIP CU-ETCH 60.0\n", b"OK\n"), stat("DIPPING", "CU-ETCH", 150.0)),
        stat("RINSING", "CU-ETCH", 90.0),
        stat("IDLE", "CU-ETCH", jobs=1),
        (
            b"RESULT?\n",
            b"OK WAFER=W1 TANK=CU-ETCH TIME=60.0 TEMP=30.0 CHANGE=-0.600 LEFT=200 OPENED=3\n",
        ),
    ]
    async with (
        expected_protocol(script, transport=POLLED) as peer,
        bench_at(peer.address("serial")) as bench,
    ):
        result = await bench.etch(Tank.CU_ETCH, 60)
        assert bench.state is ToolState.IDLE
    assert (result.tank, result.change_um, result.left_sites, result.opened_sites) == (
        Tank.CU_ETCH,
        -0.6,
        200,
        3,
    )
    assert [r.value for r in bench.readings if r.name == "dip_remaining"] == [150.0, 90.0, 0.0]


async def test_strip_and_electroless_dip_in_their_tanks():
    script = [
        *CONNECT,
        compound(ALL_CLOSED, stat()),
        compound((b"DIP STRIP 300.0\n", b"OK\n"), stat("IDLE", "STRIP", jobs=1)),
        (
            b"RESULT?\n",
            b"OK WAFER=W1 TANK=STRIP TIME=300.0 TEMP=60.0 CHANGE=-11.060 LEFT=0 OPENED=0\n",
        ),
        compound(ALL_CLOSED, stat("IDLE", "STRIP", jobs=1)),
        compound((b"DIP CU-ELESS 600.0\n", b"OK\n"), stat("IDLE", "CU-ELESS", jobs=2)),
        (
            b"RESULT?\n",
            b"OK WAFER=W1 TANK=CU-ELESS TIME=600.0 TEMP=60.0 CHANGE=0.600 LEFT=200 OPENED=0\n",
        ),
    ]
    async with expected_protocol(script) as peer, bench_at(peer.address("serial")) as bench:
        stripped = await bench.strip_resist(300)
        plated = await bench.plate_electroless(600)
    assert (stripped.change_um, stripped.left_sites) == (-11.06, 0)
    assert plated.change_um == 0.6


async def test_heat_bath_sets_then_polls_the_tank():
    script = [
        *CONNECT,
        (
            b"TEMP CU-ETCH 35.0;TANK? CU-ETCH\n",  # set, and the wait's first reading
            b"OK;OK TANK=CU-ETCH TEMP=30.0 SET=35.0 DIPS=0\n",
        ),
        (b"TANK? CU-ETCH\n", b"OK TANK=CU-ETCH TEMP=35.0 SET=35.0 DIPS=0\n"),
    ]
    async with expected_protocol(script) as peer, bench_at(peer.address("serial")) as bench:
        bath = await bench.heat_bath(Tank.CU_ETCH, 35)
    assert bath.at_temperature
    assert [r.value for r in bench.readings] == [30.0, 35.0]


async def test_a_bath_that_never_gets_there_is_a_timeout_without_a_stop():
    script = [
        *CONNECT,
        (b"TEMP STRIP 80.0;TANK? STRIP\n", b"OK;OK TANK=STRIP TEMP=60.0 SET=80.0 DIPS=0\n"),
        (b"TANK? STRIP\n", b"OK TANK=STRIP TEMP=60.0 SET=80.0 DIPS=0\n"),
    ]
    async with expected_protocol(script) as peer, bench_at(peer.address("serial")) as bench:
        with pytest.raises(ToolTimeout, match="bath at 60 degC, not 80 degC"):
            await bench.heat_bath(Tank.STRIP, 80, timeout_s=30)


async def test_refusals_limits_and_interlocks():
    script = [
        *CONNECT,
        compound((b"ILK?\n", b"OK SASH=1 EXHAUST=0 LEVEL=1\n"), stat()),
        compound(ALL_CLOSED, stat()),
        (b"DIP TI-ETCH 30.0;STAT?\n", b"ERR 8 TI-ETCH is at 23.0 degC, set 40.0\n"),
    ]
    async with expected_protocol(script) as peer, bench_at(peer.address("serial")) as bench:
        with pytest.raises(LimitViolation, match="dip_time_s"):
            await bench.strip_resist(2)
        with pytest.raises(LimitViolation, match="bath_temperature_c"):
            await bench.heat_bath(Tank.STRIP, 90)
        # the heater-only bath cools to the room at the coolest: 20 degC is never reached
        with pytest.raises(
            LimitViolation, match=r"bath_temperature_c = 20 degC is outside .*\[22, 85\] degC"
        ):
            await bench.heat_bath(Tank.STRIP, 20)
        with pytest.raises(ValueError, match="STRIP is no etchant"):
            await bench.etch(Tank.STRIP, 60)
        with pytest.raises(InterlockOpen, match="bench_exhaust"):
            await bench.etch(Tank.TI_ETCH, 30)
        with pytest.raises(CommandRefused, match=r"TI-ETCH is at 23\.0 degC") as refused:
            await bench.etch(Tank.TI_ETCH, 30)
        assert refused.value.code == "8"
        assert bench.state is ToolState.IDLE


async def test_an_alarm_during_a_dip_faults_the_driver():
    script = [
        *CONNECT,
        compound(ALL_CLOSED, stat()),
        compound((b"DIP CU-ETCH 60.0\n", b"OK\n"), stat("FAULT", "CU-ETCH")),
        (b"ALM?\n", b"OK LEVEL_LOW\n"),
    ]
    async with expected_protocol(script) as peer, bench_at(peer.address("serial")) as bench:
        with pytest.raises(ToolAlarm, match="LEVEL_LOW"):
            await bench.etch(Tank.CU_ETCH, 60)
        assert bench.state is ToolState.FAULT


async def test_transfers_and_recover():
    script = [
        *CONNECT,
        ALL_CLOSED,
        (b"LOAD W1\n", b"OK\n"),
        (b"STOP\n", b"OK\n"),
        (b"STAT?\n", b"OK STATE=IDLE\n"),  # the safe state shows
        stat(),  # what it holds: only what recover was told is its caller's
        (b"ALM?\n", b"OK NONE\n"),
        stat(),
        (b"UNLOAD W1\n", b"OK\n"),
    ]
    async with expected_protocol(script) as peer, bench_at(peer.address("serial")) as bench:
        await bench.load("W1")
        await bench.recover(("W1",))
        assert bench.state is ToolState.IDLE
