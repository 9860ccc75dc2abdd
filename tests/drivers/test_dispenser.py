"""The dispenser driver, pinned byte for byte to docs/protocols/dispenser.md (no simulator)."""

from __future__ import annotations

from typing import Final

import pytest

from packline.clock import VirtualClock
from packline.drivers.dispenser import AsciiDispenser
from packline.drivers.equipment import HOLD_S, ToolState
from packline.drivers.errors import (
    CommandRefused,
    InterlockOpen,
    LimitViolation,
    ToolAlarm,
    ToolTimeout,
)
from packline.drivers.links import open_link
from packline.drivers.roles.dispenser import FillMaterial, FillResult, SealResin, SealResult
from packline.testing import expected_protocol
from packline.testing.host_link import compound

ALL_CLOSED = (b"ILK?\n", b"OK DOOR=1 AIR=1\n")


def stat(state: str = "IDLE", left: float = 0.0, jobs: int = 0):
    return (b"STAT?\n", f"OK STATE={state} WAFER=P1 LEFT={left:.1f} JOBS={jobs}\n".encode())


CONNECT = [(b"IDN?\n", b"OK packline,DP-1,DP-1-0001,1.0\n"), stat(), (b"ALM?\n", b"OK NONE\n")]
#: The transport of a test that pins a job's polls at an interval shorter than the hold: a
#: tty's line, which holds no reply, so the driver polls it every poll interval.
POLLED: Final = "pty"


def dispenser_at(address: str, poll_interval_s: float = 2 * HOLD_S) -> AsciiDispenser:
    link = open_link(address, tool="disp", clock=VirtualClock(), timeout_s=1.0)
    return AsciiDispenser(link, poll_interval_s=poll_interval_s)  # type: ignore[arg-type]


async def test_the_last_jobs_are_none_before_the_first_and_read_by_the_specs_replies():
    script = [
        *CONNECT,
        (b"FILL?\n", b"OK NONE\n"),
        (b"SEAL?\n", b"OK NONE\n"),
        (
            b"FILL?\n",
            b"OK WAFER=P1 MATERIAL=SNBI HOLES=64 HOLE=0.412 FILL=0.305 TERMINAL=0.120 OVER=2 "
            b"UNDER=5 WORST=0.087\n",
        ),
        (b"SEAL?\n", b"OK WAFER=P1 RESIN=SILICONE DIES=4 HEIGHT=612.5 VOLUME=1.25 EXPOSED=1\n"),
    ]
    async with expected_protocol(script) as peer, dispenser_at(peer.address("serial")) as disp:
        assert await disp.request_last_fill() is None
        assert await disp.request_last_seal() is None
        fill = await disp.request_last_fill()
        seal = await disp.request_last_seal()
    assert fill == FillResult("P1", FillMaterial.SNBI, 64, 0.412, 0.305, 0.12, 2, 5, 0.087)
    assert seal == SealResult("P1", SealResin.SILICONE, 4, 612.5, 1.25, 1)


async def test_fill_polls_and_reads_the_camera():
    script = [
        *CONNECT,
        compound(ALL_CLOSED, stat()),
        compound((b"FILL SNBI 0.450 0.150\n", b"OK\n"), stat("FILLING", 40.0)),
        stat("FILLING", 10.0),
        stat("IDLE", jobs=1),
        (
            b"FILL?\n",
            b"OK WAFER=P1 MATERIAL=SNBI HOLES=96 HOLE=0.589 FILL=0.451 TERMINAL=0.150 OVER=3 "
            b"UNDER=0 WORST=0.061\n",
        ),
    ]
    async with (
        expected_protocol(script, transport=POLLED) as peer,
        dispenser_at(peer.address("serial"), 30.0) as disp,
    ):
        result = await disp.fill_holes(FillMaterial.SNBI, 0.45, 0.15)
        assert disp.state is ToolState.IDLE
    assert (result.material, result.holes, result.hole_volume_nl) == (FillMaterial.SNBI, 96, 0.589)
    assert (result.overfilled, result.underfilled, result.worst_error) == (3, 0, 0.061)
    assert [r.value for r in disp.readings if r.name == "job_remaining"] == [40.0, 10.0, 0.0]
    assert [r.value for r in disp.readings if r.name == "holes_overfilled"] == [3]


async def test_seal_reads_the_dies_sealed():
    script = [
        *CONNECT,
        compound(ALL_CLOSED, stat(jobs=4)),
        compound((b"SEAL EPOXY 350.0\n", b"OK\n"), stat("SEALING", 90.0, jobs=4)),
        stat("IDLE", jobs=5),
        (
            b"SEAL?\n",
            b"OK WAFER=P1 RESIN=EPOXY DIES=6 HEIGHT=350.0 VOLUME=28.00 EXPOSED=0\n",
        ),
    ]
    async with expected_protocol(script) as peer, dispenser_at(peer.address("serial")) as disp:
        result = await disp.seal_dies(SealResin.EPOXY, 350)
    assert (result.resin, result.dies, result.height_um, result.volume_ul, result.exposed) == (
        SealResin.EPOXY,
        6,
        350.0,
        28.0,
        0,
    )


async def test_refusals_limits_and_interlocks():
    script = [
        *CONNECT,
        compound((b"ILK?\n", b"OK DOOR=1 AIR=0\n"), stat()),
        compound(ALL_CLOSED, stat()),
        (b"SEAL SILICONE 300.0;STAT?\n", b"ERR 9 panel P1 carries no die\n"),
        (b"FILL?\n", b"OK NONE\n"),
    ]
    async with expected_protocol(script) as peer, dispenser_at(peer.address("serial")) as disp:
        with pytest.raises(LimitViolation, match="fill_volume_nl"):
            await disp.fill_holes(FillMaterial.AG_PASTE, 25, 0)
        with pytest.raises(LimitViolation, match="seal_height_um"):
            await disp.seal_dies(SealResin.EPOXY, 2500)
        with pytest.raises(InterlockOpen, match="jet_air"):
            await disp.fill_holes(FillMaterial.AG_PASTE, 0.3, 0.3)
        with pytest.raises(CommandRefused, match="no die") as refused:
            await disp.seal_dies(SealResin.SILICONE, 300)
        assert refused.value.code == "9"
        assert disp.state is ToolState.IDLE
        assert await disp.request_last_fill() is None


async def test_an_alarm_during_a_fill_faults_the_driver():
    script = [
        *CONNECT,
        compound(ALL_CLOSED, stat()),
        compound((b"FILL CU-PASTE 0.300 0.300\n", b"OK\n"), stat("FAULT")),
        (b"ALM?\n", b"OK AIR_LOST\n"),
    ]
    async with expected_protocol(script) as peer, dispenser_at(peer.address("serial")) as disp:
        with pytest.raises(ToolAlarm, match="AIR_LOST"):
            await disp.fill_holes(FillMaterial.CU_PASTE, 0.3, 0.3)
        assert disp.state is ToolState.FAULT


async def test_an_overrunning_seal_is_stopped():
    script = [
        *CONNECT,
        compound(ALL_CLOSED, stat()),
        compound((b"SEAL EPOXY 400.0\n", b"OK\n"), stat("SEALING", 100.0)),
        stat("SEALING", 100.0),
        (b"STOP\n", b"OK\n"),
        (b"STAT?\n", b"OK STATE=IDLE\n"),  # the safe state shows
    ]
    async with expected_protocol(script) as peer, dispenser_at(peer.address("serial")) as disp:
        with pytest.raises(ToolTimeout, match=r"still sealing \(100 s left\)"):
            await disp.seal_dies(SealResin.EPOXY, 400, timeout_s=30)


async def test_transfers_and_recover():
    script = [
        *CONNECT,
        (b"ILK?\n", b"OK DOOR=1 AIR=0\n"),
        (b"LOAD P1\n", b"OK\n"),
        (b"STOP\n", b"OK\n"),
        (b"STAT?\n", b"OK STATE=IDLE\n"),  # the safe state shows
        stat(),  # what it holds: only what recover was told is its caller's
        (b"ALM?\n", b"OK NONE\n"),
        stat(),
        (b"UNLOAD P1\n", b"OK\n"),
    ]
    async with expected_protocol(script) as peer, dispenser_at(peer.address("serial")) as disp:
        await disp.load("P1")
        await disp.recover(("P1",))
        assert disp.state is ToolState.IDLE
