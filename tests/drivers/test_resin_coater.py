"""The resin coater driver, pinned byte for byte to docs/protocols/resin-coater.md (no
simulator)."""

from __future__ import annotations

from typing import Final

import pytest

from packline.clock import VirtualClock
from packline.drivers.equipment import HOLD_S, ToolState
from packline.drivers.errors import (
    CommandRefused,
    InterlockOpen,
    LimitViolation,
    ToolAlarm,
    ToolTimeout,
)
from packline.drivers.links import open_link
from packline.drivers.resin_coater import AsciiResinCoater
from packline.drivers.roles.resin_coater import CoatResin, CoatResult, CoatStep
from packline.testing import expected_protocol
from packline.testing.host_link import compound

ALL_CLOSED = (b"ILK?\n", b"OK LID=1 EXHAUST=1\n")


def stat(state: str = "IDLE", left: float = 0.0, jobs: int = 0):
    return (b"STAT?\n", f"OK STATE={state} WAFER=W1 LEFT={left:.1f} JOBS={jobs}\n".encode())


CONNECT = [(b"IDN?\n", b"OK packline,RC-1,RC-1-0001,1.0\n"), stat(), (b"ALM?\n", b"OK NONE\n")]
#: The transport of a test that pins a job's polls at an interval shorter than the hold: a
#: tty's line, which holds no reply, so the driver polls it every poll interval.
POLLED: Final = "pty"


def coater_at(address: str, poll_interval_s: float = 2 * HOLD_S) -> AsciiResinCoater:
    link = open_link(address, tool="coat", clock=VirtualClock(), timeout_s=1.0)
    return AsciiResinCoater(link, poll_interval_s=poll_interval_s)  # type: ignore[arg-type]


async def test_the_last_coat_is_none_before_the_first_and_read_by_the_specs_reply():
    script = [
        *CONNECT,
        (b"RESULT?\n", b"OK NONE\n"),
        (
            b"RESULT?\n",
            b"OK WAFER=W1 STEP=BAKE RESIN=PHOTO FIELD=7.25 COVER=3.10 EDGE=9.05 SOLVENT=0.042\n",
        ),
    ]
    async with expected_protocol(script) as peer, coater_at(peer.address("serial")) as coater:
        assert await coater.request_last_coat() is None
        last = await coater.request_last_coat()
    assert last == CoatResult("W1", CoatStep.BAKE, CoatResin.PHOTO, 7.25, 3.1, 9.05, 0.042)


async def test_spin_coat_polls_and_reads_the_gauge():
    script = [
        *CONNECT,
        compound(ALL_CLOSED, stat()),
        compound((b"SPIN STRESS-RELIEF 3000.0 20.0\n", b"OK\n"), stat("COATING", 35.6)),
        stat("COATING", 5.6),
        stat("IDLE", jobs=1),
        (
            b"RESULT?\n",
            b"OK WAFER=W1 STEP=SPIN RESIN=STRESS-RELIEF FIELD=10.61 COVER=2.50 EDGE=13.80 "
            b"SOLVENT=0.215\n",
        ),
    ]
    async with (
        expected_protocol(script, transport=POLLED) as peer,
        coater_at(peer.address("serial"), 30.0) as coater,
    ):
        result = await coater.coat_resin(CoatResin.STRESS_RELIEF, 3000, 20)
        assert coater.state is ToolState.IDLE
    assert (result.step, result.resin, result.field_um, result.min_cover_um) == (
        CoatStep.SPIN,
        CoatResin.STRESS_RELIEF,
        10.61,
        2.5,
    )
    assert [r.value for r in coater.readings if r.name == "step_remaining"] == [35.6, 5.6, 0.0]
    assert [r.value for r in coater.readings if r.name == "film_min_cover"] == [2.5]


async def test_slot_coat_and_bake():
    script = [
        *CONNECT,
        compound(ALL_CLOSED, stat()),
        compound((b"SLOT SOLDER-RESIST 120.0\n", b"OK\n"), stat("IDLE", jobs=1)),
        (
            b"RESULT?\n",
            b"OK WAFER=W1 STEP=SLOT RESIN=SOLDER-RESIST FIELD=60.00 COVER=60.00 EDGE=60.00 "
            b"SOLVENT=0.400\n",
        ),
        compound(ALL_CLOSED, stat(jobs=1)),
        compound((b"BAKE 110.0 600.0\n", b"OK\n"), stat("IDLE", jobs=2)),
        (
            b"RESULT?\n",
            b"OK WAFER=W1 STEP=BAKE RESIN=SOLDER-RESIST FIELD=36.00 COVER=36.00 EDGE=36.00 "
            b"SOLVENT=0.000\n",
        ),
    ]
    async with expected_protocol(script) as peer, coater_at(peer.address("serial")) as coater:
        coated = await coater.coat_resin_slot(CoatResin.SOLDER_RESIST, 120)
        baked = await coater.soft_bake(110, 600)
    assert (coated.step, coated.field_um, coated.solvent) == (CoatStep.SLOT, 60.0, 0.4)
    assert (baked.step, baked.field_um, baked.solvent) == (CoatStep.BAKE, 36.0, 0.0)


async def test_refusals_limits_and_interlocks():
    script = [
        *CONNECT,
        compound((b"ILK?\n", b"OK LID=0 EXHAUST=1\n"), stat()),
        compound(ALL_CLOSED, stat()),
        (b"BAKE 100.0 60.0;STAT?\n", b"ERR 8 wafer W1 carries no film this coater coated\n"),
    ]
    async with expected_protocol(script) as peer, coater_at(peer.address("serial")) as coater:
        with pytest.raises(LimitViolation, match="spin_rpm"):
            await coater.coat_resin(CoatResin.THERMOSET, 5500, 30)
        with pytest.raises(LimitViolation, match="bake_temperature_c"):
            await coater.soft_bake(180, 60)
        with pytest.raises(InterlockOpen, match="lid_closed"):
            await coater.coat_resin(CoatResin.THERMOSET, 2000, 30)
        with pytest.raises(CommandRefused, match="no film") as refused:
            await coater.soft_bake(100, 60)
        assert refused.value.code == "8"
        assert coater.state is ToolState.IDLE


async def test_an_alarm_during_a_coat_faults_the_driver():
    script = [
        *CONNECT,
        compound(ALL_CLOSED, stat()),
        compound((b"SPIN PHOTO 1500.0 30.0\n", b"OK\n"), stat("FAULT")),
        (b"ALM?\n", b"OK LID_OPENED\n"),
    ]
    async with expected_protocol(script) as peer, coater_at(peer.address("serial")) as coater:
        with pytest.raises(ToolAlarm, match="LID_OPENED"):
            await coater.coat_resin(CoatResin.PHOTO, 1500, 30)
        assert coater.state is ToolState.FAULT


async def test_an_overrunning_bake_is_stopped():
    script = [
        *CONNECT,
        compound(ALL_CLOSED, stat()),
        compound((b"BAKE 90.0 60.0\n", b"OK\n"), stat("BAKING", 40.0)),
        stat("BAKING", 40.0),
        (b"STOP\n", b"OK\n"),
        (b"STAT?\n", b"OK STATE=IDLE\n"),  # the safe state shows
    ]
    async with expected_protocol(script) as peer, coater_at(peer.address("serial")) as coater:
        with pytest.raises(ToolTimeout, match=r"still baking \(40 s left\)"):
            await coater.soft_bake(90, 60, timeout_s=30)


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
    async with expected_protocol(script) as peer, coater_at(peer.address("serial")) as coater:
        await coater.load("W1")
        await coater.recover(("W1",))
        assert coater.state is ToolState.IDLE
