"""The wire bonder driver pinned byte for byte to docs/protocols/wire-bonder.md (no simulator)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import numpy as np
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
    WorkpieceHeld,
)
from packline.drivers.links import open_link
from packline.drivers.roles.wire_bonder import (
    BonderState,
    BondProgram,
    HeightSummary,
    RunResult,
    WireMaterial,
)
from packline.drivers.specs.wire_bonder import (
    MAX_SELECTION_CHARS,
    encode_site_ranges,
    parse_site_ranges,
)
from packline.drivers.wire_bonder import AsciiWireBonder
from packline.testing import expected_protocol
from packline.testing.host_link import compound

PROGRAM = BondProgram(WireMaterial.AU, 25, 150, 35, 60, 12)
ILK_READY = (b"ILK?\n", b"OK COVER=1 VACUUM=1 WIRE=1\n")


def status(state: str, done: int, total: int, last: str = "NONE", wafer: str = "W01") -> bytes:
    return (
        f"OK STATE={state} WAFER={wafer} DONE={done} TOTAL={total} STACK=1 STAGE=150.0 "
        f"SPOOL=499.000 ELAPSED=12.5 LAST={last}\n"
    ).encode()


CONNECT = [
    (b"ID?\n", b"OK packline,WB-1,WB-1-0001,1.0\n"),
    (b"STAT?\n", status("IDLE", 0, 0)),
    (b"ALM?\n", b"OK NONE\n"),
]


@asynccontextmanager
async def bonder_on(
    script: Sequence[tuple[bytes, bytes | None]], **options: object
) -> AsyncIterator[AsciiWireBonder]:
    """A connected driver on a pty peer that plays CONNECT + `script`, on a virtual clock."""
    async with expected_protocol([*CONNECT, *script], transport="pty") as peer:
        link = open_link(peer.address("serial"), tool="bonder", clock=VirtualClock())
        async with AsciiWireBonder(link, poll_interval_s=5, **options) as bonder:  # type: ignore[arg-type]
            yield bonder


async def test_identity_and_connect():
    async with bonder_on([]) as bonder:
        assert bonder.identity is not None
        assert str(bonder.identity) == "packline WB-1 s/n WB-1-0001 fw 1.0"
        assert bonder.state is ToolState.IDLE


async def test_status_is_parsed():
    async with bonder_on([(b"STAT?\n", status("BUMPING", 30, 120))]) as bonder:
        got = await bonder.request_status()
    assert got.state is BonderState.BUMPING
    assert (got.wafer_id, got.bumps_done, got.bumps_total) == ("W01", 30, 120)
    assert got.progress_percent == 25.0
    assert (got.stage_temperature_c, got.wire_remaining_m, got.elapsed_s) == (150.0, 499.0, 12.5)
    assert got.last_result is RunResult.NONE


async def test_empty_wafer_field_is_no_wafer():
    async with bonder_on([(b"STAT?\n", status("IDLE", 0, 0, wafer=""))]) as bonder:
        assert (await bonder.request_status()).wafer_id is None


async def test_load_and_unload_check_the_cover_first():
    script = [
        (b"ILK?\n", b"OK COVER=1 VACUUM=0 WIRE=1\n"),
        (b"LOAD W01\n", b"OK\n"),
        ILK_READY,
        (b"UNLOAD W01\n", b"OK\n"),
    ]
    async with bonder_on(script) as bonder:
        await bonder.load("W01")
        await bonder.unload("W01")


async def test_open_cover_refuses_load_with_nothing_sent():
    script = [(b"ILK?\n", b"OK COVER=0 VACUUM=0 WIRE=1\n")]
    async with bonder_on(script) as bonder:
        with pytest.raises(InterlockOpen, match="interlock open: cover_closed"):
            await bonder.load("W01")


async def test_form_stud_bumps_on_every_site():
    script = [
        compound(ILK_READY, (b"STAT?\n", status("IDLE", 0, 0))),
        (
            b"PROG AU 25.0 150.0 35.0 60.0 12.0;SEL:ALL;BUMP 1;STAT?\n",
            b"OK;OK 120;OK 120;" + status("HEATING", 0, 120),
        ),
        (b"STAT?\n", status("BUMPING", 60, 120)),
        (b"STAT?\n", status("IDLE", 120, 120, "COMPLETED")),
    ]
    async with bonder_on(script) as bonder:
        result = await bonder.form_stud_bumps(PROGRAM)
        assert bonder.state is ToolState.IDLE
    assert (result.wafer_id, result.sites_requested, result.bumps_formed) == ("W01", 120, 120)
    assert result.process_time_s == 12.5
    progress = [r.value for r in bonder.readings if r.name == "progress"]
    assert progress == [0.0, 50.0, 100.0]


async def test_form_stud_bumps_on_a_site_list_sends_ranges():
    script = [
        compound(ILK_READY, (b"STAT?\n", status("IDLE", 0, 0))),
        (b"PROG CU 20.0 180.0 40.0 80.0 10.0\n", b"OK\n"),
        (b"MAP?\n", b"OK 120\n"),
        (b"SEL:CLR\n", b"OK 0\n"),
        (b"SEL:ADD 0-3,10,12-13\n", b"OK 7\n"),
        compound((b"BUMP 2\n", b"OK 7\n"), (b"STAT?\n", status("IDLE", 7, 7, "COMPLETED"))),
    ]
    program = BondProgram(WireMaterial.CU, 20, 180, 40, 80, 10)
    async with bonder_on(script) as bonder:
        result = await bonder.form_stud_bumps(
            program, sites=[13, 0, 1, 2, 3, 10, 12, 2], stack_count=2
        )
    assert (result.sites_requested, result.bumps_formed, result.stack_count) == (7, 7, 2)


async def test_site_beyond_the_map_is_refused_before_selecting():
    script = [
        compound(ILK_READY, (b"STAT?\n", status("IDLE", 0, 0))),
        (b"PROG AU 25.0 150.0 35.0 60.0 12.0\n", b"OK\n"),
        (b"MAP?\n", b"OK 120\n"),
    ]
    async with bonder_on(script) as bonder:
        with pytest.raises(ValueError, match=r"site 120 is not on the wafer map \(sites 0-119\)"):
            await bonder.form_stud_bumps(PROGRAM, sites=[5, 120])
        assert bonder.state is ToolState.IDLE


async def test_out_of_limit_program_is_refused_with_nothing_sent():
    async with bonder_on([]) as bonder:
        too_hard = BondProgram(WireMaterial.AU, 25, 150, 100, 60, 12)
        with pytest.raises(LimitViolation, match=r"bond_force_gf = 100 gf .* \[15, 60\] gf"):
            await bonder.form_stud_bumps(too_hard)
        with pytest.raises(LimitViolation, match=r"stack_count = 5 studs"):
            await bonder.form_stud_bumps(PROGRAM, stack_count=5)
        with pytest.raises(ValueError, match="site -1 is negative"):
            await bonder.form_stud_bumps(PROGRAM, sites=[-1, 3])
        assert bonder.state is ToolState.IDLE


async def test_tool_refusal_is_command_refused_with_its_reason():
    script = [
        ILK_READY,
        (b"LOAD W02\n", b"ERR 4 wafer W02 was processed here; rework it\n"),
        (b"STAT?\n", status("IDLE", 0, 0, wafer="")),  # not refused for a wafer on the chuck
    ]
    async with bonder_on(script) as bonder:
        with pytest.raises(
            CommandRefused, match=r"load wafer W02: wafer W02 was processed here.*\(tool error 4\)"
        ) as refused:
            await bonder.load("W02")
    assert refused.value.code == "4"


async def test_a_load_refused_while_a_wafer_is_on_the_chuck_names_it():
    script = [
        ILK_READY,
        (b"LOAD W02\n", b"ERR 2 cannot perform now\n"),
        (b"STAT?\n", status("IDLE", 0, 0, wafer="GEMW02")),
    ]
    async with bonder_on(script) as bonder:
        with pytest.raises(
            WorkpieceHeld, match=r"load wafer W02: the tool already holds GEMW02: unload it"
        ) as held:
            await bonder.load("W02")
    assert held.value.workpieces == ("GEMW02",)
    assert "cannot perform now (tool error 2)" in str(held.value)


async def test_no_wafer_on_the_chuck_is_a_state_error():
    script = [compound(ILK_READY, (b"STAT?\n", status("IDLE", 0, 0, wafer="")))]
    async with bonder_on(script) as bonder:
        with pytest.raises(ToolStateError, match="no wafer on the chuck"):
            await bonder.form_stud_bumps(PROGRAM)
        assert bonder.state is ToolState.IDLE


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        (b"HELLO\n", "is neither OK nor ERR <code> <text>"),
        (b"ERR x\n", "is neither OK nor ERR <code> <text>"),
        (b"OK STATE=IDLE\n", "missing WAFER"),
        (
            b"OK STATE=NAPPING WAFER= DONE=0 TOTAL=0 STACK=0 STAGE=25.0 SPOOL=1 "
            b"ELAPSED=0 LAST=NONE\n",
            "not a status",
        ),
        (b"OK STATE IDLE\n", "'STATE' in 'STATE IDLE' is not KEY=value"),
    ],
)
async def test_garbled_status_is_protocol_error(reply, why):
    async with bonder_on([(b"STAT?\n", reply)]) as bonder:
        with pytest.raises(ProtocolError, match=why):
            await bonder.request_status()


async def test_garbled_alarm_list_is_protocol_error():
    async with bonder_on([(b"ALM?\n", b"OK GREMLINS\n")]) as bonder:
        with pytest.raises(ProtocolError, match="unknown alarm GREMLINS"):
            await bonder.request_alarms()


async def test_alarm_stops_the_run_and_reset_clears_it():
    script = [
        compound(ILK_READY, (b"STAT?\n", status("IDLE", 0, 0))),
        (
            b"PROG AU 25.0 150.0 35.0 60.0 12.0;SEL:ALL;BUMP 1;STAT?\n",
            b"OK;OK 120;OK 120;" + status("FAULT", 42, 120, "ALARM"),
        ),
        (b"ALM?\n", b"OK NSOP\n"),
        (b"ALM:CLR\n", b"OK\n"),
        (b"ALM?\n", b"OK NONE\n"),
    ]
    async with bonder_on(script) as bonder:
        with pytest.raises(ToolAlarm, match=r"stopped after 42 of 120 sites.*NSOP \(non-stick"):
            await bonder.form_stud_bumps(PROGRAM)
        assert bonder.state is ToolState.FAULT
        await bonder.reset()
        assert bonder.state is ToolState.IDLE


async def test_run_aborted_at_the_tool_is_reported():
    script = [
        compound(ILK_READY, (b"STAT?\n", status("IDLE", 0, 0))),
        (
            b"PROG AU 25.0 150.0 35.0 60.0 12.0;SEL:ALL;BUMP 1;STAT?\n",
            b"OK;OK 120;OK 120;" + status("IDLE", 10, 120, "ABORTED"),
        ),
    ]
    async with bonder_on(script) as bonder:
        with pytest.raises(ToolAlarm, match="run ended aborted after 10 of 120 sites"):
            await bonder.form_stud_bumps(PROGRAM)


async def test_abort_sends_abort():
    async with bonder_on([(b"ABORT\n", b"OK\n"), (b"STAT?\n", b"OK STATE=IDLE\n")]) as bonder:
        await bonder.abort()
        assert bonder.state is ToolState.IDLE


async def test_heights_are_read_in_chunks():
    first = ",".join(["45.0"] * 200)
    script = [
        (b"HGT? 0 200\n", f"OK 0 {first}\n".encode()),
        (b"HGT? 200 3\n", b"OK 200 44.5,0.0,46.1\n"),
    ]
    async with bonder_on(script) as bonder:
        heights = await bonder.request_bump_heights(0, 203)
    assert heights.shape == (203,)
    assert np.all(heights[:200] == 45.0)
    assert list(heights[200:]) == [44.5, 0.0, 46.1]


async def test_heights_to_the_last_site_ask_for_the_map():
    script = [(b"MAP?\n", b"OK 12\n"), (b"HGT? 10 2\n", b"OK 10 45.0,45.5\n")]
    async with bonder_on(script) as bonder:
        assert list(await bonder.request_bump_heights(10)) == [45.0, 45.5]


async def test_heights_of_the_wrong_sites_are_protocol_error():
    async with bonder_on([(b"HGT? 0 2\n", b"OK 5 45.0,45.5\n")]) as bonder:
        with pytest.raises(ProtocolError, match="expected 2 heights from site 0"):
            await bonder.request_bump_heights(0, 2)


async def test_height_summary():
    script = [(b"HGT:STAT?\n", b"OK BUMPS=784 MIN=42.1 MEAN=45.02 MAX=47.9 STD=0.91\n")]
    async with bonder_on(script) as bonder:
        summary = await bonder.request_bump_height_summary()
    assert summary == HeightSummary(784, 42.1, 45.02, 47.9, 0.91)
    assert [r.name for r in bonder.readings] == ["bump_height_mean", "bump_height_std"]


async def test_height_summary_with_no_wafer_is_refused_as_the_page_says():
    """`HGT:STAT?` with the chuck empty is `ERR 6`, as the page's command table says (nothing
    to measure; zeros would read as a wafer with no bump): the driver raises it, no summary."""
    script = [(b"HGT:STAT?\n", b"ERR 6 no wafer on the chuck\n")]
    async with bonder_on(script) as bonder:
        with pytest.raises(CommandRefused, match="no wafer on the chuck") as refused:
            await bonder.request_bump_height_summary()
    assert refused.value.code == "6"
    assert not bonder.readings


async def test_program_reads_back():
    script = [(b"PROG?\n", b"OK CU 20.0 180.0 40.0 80.0 10.0\n")]
    async with bonder_on(script) as bonder:
        assert await bonder.request_program() == BondProgram(WireMaterial.CU, 20, 180, 40, 80, 10)


def test_site_ranges_round_trip_and_split_lines():
    sites = list(range(0, 10_000, 2))  # no two consecutive: the longest encoding
    count, last, lines = encode_site_ranges(sites)
    assert (count, last) == (5000, 9998)
    assert all(len(line) <= MAX_SELECTION_CHARS for line in lines)
    assert np.array_equal(np.concatenate([parse_site_ranges(line) for line in lines]), sites)
    assert encode_site_ranges(range(5000)) == (5000, 4999, ["0-4999"])


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "1-240 characters"),
        ("3-1", "runs backwards"),
        ("1,x", "'x' is not a site"),
        ("-2", "is not a site"),
    ],
)
def test_bad_site_ranges_are_refused(text, why):
    with pytest.raises(ValueError, match=why):
        parse_site_ranges(text)


def test_empty_or_fractional_site_set_is_refused():
    with pytest.raises(ValueError, match="empty"):
        encode_site_ranges([])
    with pytest.raises(ValueError, match="integer indices"):
        encode_site_ranges([1.5])


@pytest.mark.parametrize(
    ("after_bump", "failed"),
    [
        (b"OK 120;ERR 9 status unavailable\n", "'STAT?' failed"),
        (b"OK 120;OK STATE=BUMPING\n", "'STAT?' failed"),
        (b"OK many;" + status("HEATING", 0, 120), "'BUMP 1' failed"),
    ],
)
async def test_a_failure_on_the_run_s_line_after_bump_was_taken_stops_the_run(after_bump, failed):
    """A status refused or garbled, or BUMP's count garbled, once the bonder took BUMP: the
    run is stopped (ABORT) before the error is raised, which names the unit that failed and
    those taken before it; the bonder is not left moving with the driver idle."""
    script = [
        compound(ILK_READY, (b"STAT?\n", status("IDLE", 0, 0))),
        (b"PROG AU 25.0 150.0 35.0 60.0 12.0;SEL:ALL;BUMP 1;STAT?\n", b"OK;OK 120;" + after_bump),
        (b"ABORT\n", b"OK\n"),
        (b"STAT?\n", b"OK STATE=IDLE\n"),  # the safe state shows
    ]
    async with bonder_on(script) as bonder:
        with pytest.raises(ProtocolError, match="after the tool took") as error:
            await bonder.form_stud_bumps(PROGRAM)
        assert failed in str(error.value)
        assert "'SEL:ALL', 'BUMP 1'" in str(error.value)
        assert "the run was stopped (abort)" in str(error.value)
        assert bonder.state is ToolState.IDLE


async def test_a_garbled_selection_count_stops_the_run_it_went_with():
    """SEL:ALL's count is read after BUMP was taken on the same line: a garbled one stops the
    run."""
    script = [
        compound(ILK_READY, (b"STAT?\n", status("IDLE", 0, 0))),
        (
            b"PROG AU 25.0 150.0 35.0 60.0 12.0;SEL:ALL;BUMP 1;STAT?\n",
            b"OK;OK all;OK 120;" + status("HEATING", 0, 120),
        ),
        (b"ABORT\n", b"OK\n"),
        (b"STAT?\n", b"OK STATE=IDLE\n"),  # the safe state shows
    ]
    async with bonder_on(script) as bonder:
        with pytest.raises(ProtocolError, match=r"'SEL:ALL' failed after .*expected a count"):
            await bonder.form_stud_bumps(PROGRAM)


async def test_a_refusal_before_bump_stops_nothing():
    """A unit refused before BUMP ends the line there: BUMP never ran, nothing is aborted."""
    script = [
        compound(ILK_READY, (b"STAT?\n", status("IDLE", 0, 0))),
        (
            b"PROG AU 25.0 150.0 35.0 60.0 12.0;SEL:ALL;BUMP 1;STAT?\n",
            b"OK;ERR 7 no program; load one\n",
        ),
    ]
    async with bonder_on(script) as bonder:
        with pytest.raises(CommandRefused, match="no program; load one"):
            await bonder.form_stud_bumps(PROGRAM)
        assert bonder.state is ToolState.IDLE
