"""The flip-chip bonder driver, pinned byte for byte to docs/protocols/flip-chip-bonder.md (no
simulator)."""

from __future__ import annotations

from dataclasses import replace
from typing import Final

import pytest

from packline.clock import VirtualClock
from packline.drivers.equipment import HOLD_S, ToolState
from packline.drivers.errors import (
    CommandRefused,
    InterlockOpen,
    LimitViolation,
    ProtocolError,
    ToolAlarm,
    ToolTimeout,
)
from packline.drivers.flip_chip_bonder import (
    MOTION_ALLOWANCE_S,
    RUN_MARGIN_S,
    SLOWEST_HEAD_C_S,
    AsciiFlipChipBonder,
    run_allowance_s,
)
from packline.drivers.links import open_link
from packline.drivers.roles.clean_room import AMBIENT_C
from packline.drivers.roles.flip_chip_bonder import (
    BondRecipe,
    FrameRecipe,
    FrameResult,
    SolderTransfer,
    TransferAlloy,
    TransferResult,
)
from packline.testing import expected_protocol
from packline.testing.host_link import compound

ALL_CLOSED = (b"ILK?\n", b"OK DOOR=1 VACUUM=1 AIR=1\n")
RECIPE = BondRecipe(
    head_temperature_c=320, stage_temperature_c=120, bond_force_n=12.5, bond_time_s=2
)
RESULT = (
    b"RESULT?\n",
    b"OK SUBSTRATE=P7 SOURCE=W3 DIES=4 BONDED=3 TERMINALS=96 SEATED=96 JOINED=90 OFFSET=4.7 "
    b"ROT=18.2 FILLMIN=96.5 FILLMAX=104.1 SPILLED=7\n",
)


def stat(state: str = "IDLE", done: int = 0, total: int = 0, runs: int = 0, stage: float = 22.0):
    return (
        b"STAT?\n",
        f"OK STATE={state} SUBSTRATE=P7 SOURCE=W3 LEFT=40 DONE={done} TOTAL={total} "
        f"STAGE={stage:.1f} REMAIN=0.0 RUNS={runs}\n".encode(),
    )


CONNECT = [(b"IDN?\n", b"OK packline,FC-1,FC-1-0001,1.0\n"), stat(), (b"ALM?\n", b"OK NONE\n")]
#: The transport of a test that pins a run's polls at an interval shorter than the hold: a
#: tty's line, which holds no reply, so the driver polls it every poll interval.
POLLED: Final = "pty"


def bonder_at(address: str, poll_interval_s: float = 2 * HOLD_S) -> AsciiFlipChipBonder:
    link = open_link(address, tool="fc", clock=VirtualClock(), timeout_s=1.0)
    # polled every interval, longer than a hold: each poll of a run is one `STAT?`
    return AsciiFlipChipBonder(link, poll_interval_s=poll_interval_s)  # type: ignore[arg-type]


async def test_a_run_polls_until_its_counter_advances_and_reads_the_inspection():
    script = [
        *CONNECT,
        compound(ALL_CLOSED, stat(runs=2)),
        compound((b"BOND 8 4 320.0 120.0 12.50 2.0\n", b"OK 4\n"), stat("HEATING", 0, 4, 2, 60.0)),
        stat("BONDING", 2, 4, 2, 120.0),
        stat("IDLE", 4, 4, 3, 120.0),
        RESULT,
    ]
    async with (
        expected_protocol(script, transport=POLLED) as peer,
        bonder_at(peer.address("serial"), 60.0) as bonder,
    ):
        result = await bonder.bond_dies(RECIPE, first_unit=8, unit_count=4)
        assert bonder.state is ToolState.IDLE
    assert (result.substrate_id, result.source_id) == ("P7", "W3")
    assert (result.dies_placed, result.dies_bonded, result.terminals_joined) == (4, 3, 90)
    assert (result.max_offset_um, result.fill_level_max_percent) == (4.7, 104.1)
    assert result.holes_spilled == 7  # a level in tolerance, the spill beside it
    assert not result.every_die_bonded
    assert result.every_terminal_seated
    assert [r.value for r in bonder.readings if r.name == "dies_done"] == [0, 2, 4]
    assert [r.value for r in bonder.readings if r.name == "stage_temperature"] == [60, 120, 120]
    assert [r.value for r in bonder.readings if r.name == "terminals_seated"] == [96]


@pytest.mark.parametrize(
    ("old", "new", "error"),
    [
        (b"SUBSTRATE=P7", b"SUBSTRATE=P8", r"bond dies: .*bonder reports .*P8"),
        # without the page's spill count, a report is not read as no spill
        (b" SPILLED=7", b"", r"read bond result: reply .* lacks SPILLED"),
    ],
)
async def test_a_report_not_of_the_run_or_not_whole_is_a_protocol_error(
    old: bytes, new: bytes, error: str
):
    """The bonder ends a run on P7 and reports one on P8, or leaves a field of the page out:
    its report does not follow the run, and nothing of it is recorded."""
    script = [
        *CONNECT,
        compound(ALL_CLOSED, stat(runs=2)),
        compound((b"BOND 8 4 320.0 120.0 12.50 2.0\n", b"OK 4\n"), stat("IDLE", 4, 4, 3, 120.0)),
        (RESULT[0], RESULT[1].replace(old, new)),
    ]
    async with expected_protocol(script) as peer, bonder_at(peer.address("serial")) as bonder:
        with pytest.raises(ProtocolError, match=error):
            await bonder.bond_dies(RECIPE, first_unit=8, unit_count=4)
    assert not [r for r in bonder.readings if r.name == "terminals_seated"]


TRANSFER_ON_W9 = TransferResult("W9", TransferAlloy.SN63PB37, 4, 96, 96, 11.0, 12.0, 217.0)
FRAMES_ON_P9 = FrameResult("P9", 4, 4, 16, 16, 16, 3.0, 98.0, 101.0, 0)


@pytest.mark.parametrize(
    ("accept", "report", "workpiece", "reading"),
    [
        ("accept_transfer", TRANSFER_ON_W9, "W1", "bumps_coated"),
        ("accept_transfer", None, "W1", "bumps_coated"),
        ("accept_frames", FRAMES_ON_P9, "P1", "columns_joined"),
        ("accept_frames", None, "P1", "columns_joined"),
    ],
)
def test_a_transfer_or_frame_report_of_another_workpiece_is_a_protocol_error(
    accept: str, report: object, workpiece: str, reading: str
):
    """As for a bond: no report, or one of another workpiece than the run's, after a transfer
    or a frame run is refused and nothing of it is recorded."""
    bonder = bonder_at("TCPIP0::127.0.0.1::9::SOCKET")  # never connected: no exchange needed
    with pytest.raises(ProtocolError, match=r"run: bonder reports"):
        getattr(bonder, accept)("run", report, workpiece)
    assert not [r for r in bonder.readings if r.name == reading]


async def test_a_run_to_the_last_unit_asks_the_substrate_map_first():
    script = [
        *CONNECT,
        compound(ALL_CLOSED, stat()),
        (b"UNITS?\n", b"OK 12\n"),
        compound((b"BOND 8 4 320.0 120.0 12.50 2.0\n", b"OK 4\n"), stat("IDLE", 4, 4, 1)),
        RESULT,
    ]
    async with expected_protocol(script) as peer, bonder_at(peer.address("serial")) as bonder:
        result = await bonder.bond_dies(RECIPE, first_unit=8)
    assert result.dies_placed == 4


async def test_the_die_source_goes_in_and_out():
    script = [
        *CONNECT,
        ALL_CLOSED,
        (b"SRC:LOAD W3\n", b"OK 88\n"),
        (b"SRC:UNLOAD W3\n", b"OK\n"),
        ALL_CLOSED,
        (b"SRC:LOAD W4\n", b"ERR 9 wafer W4 is not diced into its 88 dies (0 cut free)\n"),
        (
            b"STAT?\n",
            b"OK STATE=IDLE SUBSTRATE=P7 SOURCE=- LEFT=0 DONE=0 TOTAL=0 "
            b"STAGE=22.0 REMAIN=0.0 RUNS=0\n",
        ),  # no source held: the refusal stands
    ]
    async with expected_protocol(script) as peer, bonder_at(peer.address("serial")) as bonder:
        assert await bonder.load_die_source("W3") == 88
        await bonder.unload_die_source("W3")
        with pytest.raises(CommandRefused, match="not diced") as refused:
            await bonder.load_die_source("W4")
    assert refused.value.code == "9"


async def test_limits_and_interlocks_refuse_before_anything_is_sent():
    script = [*CONNECT, compound((b"ILK?\n", b"OK DOOR=1 VACUUM=1 AIR=0\n"), stat())]
    async with expected_protocol(script) as peer, bonder_at(peer.address("serial")) as bonder:
        with pytest.raises(LimitViolation, match="head_temperature_c"):
            await bonder.bond_dies(BondRecipe(440, 120, 12.5, 2))
        with pytest.raises(LimitViolation, match="bond_force_n"):
            await bonder.bond_dies(BondRecipe(320, 120, 400, 2))
        with pytest.raises(ValueError, match="unit_count"):
            await bonder.bond_dies(RECIPE, unit_count=0)
        with pytest.raises(InterlockOpen, match="head_air"):
            await bonder.bond_dies(RECIPE)
        assert bonder.state is ToolState.IDLE


async def test_an_alarm_during_a_run_faults_the_driver():
    script = [
        *CONNECT,
        compound(ALL_CLOSED, stat()),
        compound((b"BOND 0 4 320.0 120.0 12.50 2.0\n", b"OK 4\n"), stat("FAULT", 1, 4)),
        (b"ALM?\n", b"OK AIR_LOST\n"),
    ]
    async with expected_protocol(script) as peer, bonder_at(peer.address("serial")) as bonder:
        with pytest.raises(ToolAlarm, match="AIR_LOST"):
            await bonder.bond_dies(RECIPE, unit_count=4)
        assert bonder.state is ToolState.FAULT


async def test_an_overrunning_run_is_stopped():
    script = [
        *CONNECT,
        compound(ALL_CLOSED, stat()),
        compound((b"BOND 0 1 320.0 120.0 12.50 2.0\n", b"OK 1\n"), stat("BONDING", 0, 1)),
        stat("BONDING", 0, 1),
        (b"STOP\n", b"OK\n"),
        (b"STAT?\n", b"OK STATE=IDLE\n"),  # the safe state shows
    ]
    async with expected_protocol(script) as peer, bonder_at(peer.address("serial")) as bonder:
        with pytest.raises(ToolTimeout, match=r"still bonding \(0 of 1 dies\)"):
            await bonder.bond_dies(RECIPE, unit_count=1, timeout_s=30)


async def test_recover_returns_the_substrate_and_the_source():
    script = [
        *CONNECT,
        ALL_CLOSED,
        (b"LOAD P7\n", b"OK\n"),
        (b"STOP\n", b"OK\n"),
        (b"STAT?\n", b"OK STATE=IDLE\n"),  # the safe state shows
        stat(),  # what it holds: only what recover was told is its caller's
        (b"ALM?\n", b"OK NONE\n"),
        stat(),
        (b"UNLOAD P7\n", b"OK\n"),
        (b"SRC:UNLOAD W3\n", b"OK\n"),
    ]
    async with expected_protocol(script) as peer, bonder_at(peer.address("serial")) as bonder:
        await bonder.load("P7")
        await bonder.recover(("P7", "W3"))
        assert bonder.state is ToolState.IDLE


async def test_a_solder_transfer_polls_and_reads_its_inspection():
    script = [
        *CONNECT,
        compound(ALL_CLOSED, stat(runs=3)),
        compound(
            (b"XFER 0 2 Sn63Pb37 20.0 230.0 100.0 10.00 3.0\n", b"OK 2\n"),
            stat("TRANSFERRING", 1, 2, 3, 100.0),
        ),
        stat("IDLE", 2, 2, 4, 100.0),
        (
            b"XFER?\n",
            b"OK WAFER=P7 ALLOY=Sn63Pb37 DIES=2 BUMPS=48 COATED=47 LAYERMIN=10.00 "
            b"LAYERMEAN=10.00 JOINTMAX=217.0\n",
        ),
    ]
    transfer = SolderTransfer(TransferAlloy.SN63PB37, 20, BondRecipe(230, 100, 10, 3))
    async with (
        expected_protocol(script, transport=POLLED) as peer,
        bonder_at(peer.address("serial"), 60.0) as bonder,
    ):
        with pytest.raises(LimitViolation, match="film_um"):
            await bonder.transfer_solder_layer(replace(transfer, film_um=80))
        result = await bonder.transfer_solder_layer(transfer, unit_count=2)
    assert (result.wafer_id, result.alloy, result.bumps, result.bumps_coated) == (
        "P7",
        TransferAlloy.SN63PB37,
        48,
        47,
    )
    assert not result.every_bump_coated
    assert [r.value for r in bonder.readings if r.name == "bumps_coated"] == [47]
    assert [r.value for r in bonder.readings if r.name == "transfer_joint_max"] == [217.0]


async def test_a_frame_run_reads_its_inspection_with_the_column_holes_spilled():
    script = [
        *CONNECT,
        compound(ALL_CLOSED, stat(runs=1)),
        compound(
            (b"FRAME 0 2 400.0 80.0 50.0 320.0 120.0 12.50 2.0\n", b"OK 2\n"),
            stat("IDLE", 2, 2, 2, 120.0),
        ),
        (
            b"FRAME?\n",
            b"OK SUBSTRATE=P7 FRAMES=2 BONDED=2 COLUMNS=32 SEATED=32 JOINED=32 OFFSET=2.5 "
            b"FILLMIN=99.0 FILLMAX=105.0 SPILLED=12\n",
        ),
    ]
    frame = FrameRecipe(400, 80, 50, RECIPE)
    async with expected_protocol(script) as peer, bonder_at(peer.address("serial")) as bonder:
        result = await bonder.mount_frames(frame, unit_count=2)
    assert result == FrameResult("P7", 2, 2, 32, 32, 32, 2.5, 99.0, 105.0, 12)


def test_a_run_s_allowance_ramps_the_stage_from_the_line_s_room():
    """The stage's ramp is allowed from the line's room, AMBIENT_C (22 degC), the one
    statement of it: a stage kept at the room's temperature takes no ramp (the driver
    had its own 23 degC and allowed 2 s for it)."""
    at_room = BondRecipe(320.0, AMBIENT_C, 10.0, 5.0)
    die_s = MOTION_ALLOWANCE_S + (320.0 - AMBIENT_C) / SLOWEST_HEAD_C_S + 5.0
    assert run_allowance_s(at_room, 1) == pytest.approx(die_s + RUN_MARGIN_S)


async def test_a_run_of_another_size_is_stopped():
    """The bonder took a run of 3 units for the 4 asked: the run is stopped (STOP) before the
    error, which names the run's line, reaches the caller."""
    script = [
        *CONNECT,
        compound(ALL_CLOSED, stat()),
        compound((b"BOND 0 4 320.0 120.0 12.50 2.0\n", b"OK 3\n"), stat("BONDING", 0, 3)),
        (b"STOP\n", b"OK\n"),
        (b"STAT?\n", b"OK STATE=IDLE\n"),  # the safe state shows
    ]
    async with expected_protocol(script) as peer, bonder_at(peer.address("serial")) as bonder:
        with pytest.raises(ProtocolError, match=r"'BOND 0 4 .*' failed .* a run of 4 units"):
            await bonder.bond_dies(RECIPE, unit_count=4)
        assert bonder.state is ToolState.IDLE
