"""The litho cell driver, pinned byte for byte to docs/protocols/lithography.md (no simulator)."""

from __future__ import annotations

from typing import Final

import pytest

from packline.clock import VirtualClock
from packline.drivers.equipment import ToolState
from packline.drivers.errors import (
    CommandRefused,
    InterlockOpen,
    LimitViolation,
    ProtocolError,
    ToolAlarm,
    ToolTimeout,
)
from packline.drivers.links import open_link
from packline.drivers.lithography import AsciiLithography
from packline.drivers.roles.lithography import (
    CoatMaterial,
    Feature,
    Film,
    FilmLayer,
    PatternReport,
    Reticle,
    Tone,
)
from packline.testing import expected_protocol
from packline.testing.host_link import compound

ALL_CLOSED = (b"ILK?\n", b"OK COVER=1 EXHAUST=1 VACUUM=1 LAMP=1\n")


def stat(state: str = "IDLE", jobs: int = 0, spin: int = 0, shot: int = 0, shots: int = 0,
         left: float = 0.0, plate: float = 23.0) -> tuple[bytes, bytes]:  # fmt: skip
    return (
        b"STAT?\n",
        f"OK STATE={state} WAFER=W1 SPIN={spin} HOTPLATE={plate:.1f} SHOT={shot} SHOTS={shots} "
        f"LEFT={left:.1f} JOBS={jobs}\n".encode(),
    )


CONNECT = [(b"IDN?\n", b"OK packline,LC-1,LC-1-0001,1.0\n"), stat(), (b"ALM?\n", b"OK NONE\n")]
#: The transport of a test that pins a job's polls: a tty's line, which holds no reply, so the
#: driver polls it every poll interval whatever the hold (`HOLD_S`) a held wait would ask.
POLLED: Final = "pty"


def film(thick: str = "12.59", solvent: str = "12.1", dose: str = "0.0", developed: int = 0):
    return (
        b"FILM?\n",
        f"OK MAT=PR-THICK TONE=POS LAYER=RESIST THICK={thick} SOLVENT={solvent} E0=377.6 "
        f"DEVNOM=120.0 DOSE={dose} DEVELOPED={developed}\n".encode(),
    )


def cell_at(address: str, **options: object) -> AsciiLithography:
    link = open_link(address, tool="litho", clock=VirtualClock(), timeout_s=1.0)
    return AsciiLithography(link, poll_interval_s=60.0, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("transport", ["tcp", "pty"])
async def test_identity_on_connect(transport):
    async with (
        expected_protocol(CONNECT, transport=transport) as peer,
        cell_at(peer.address("serial")) as cell,
    ):
        assert str(cell.identity) == "packline LC-1 s/n LC-1-0001 fw 1.0"
        assert cell.state is ToolState.IDLE


async def test_load_and_unload():
    script = [
        *CONNECT,
        (b"ILK?\n", b"OK COVER=1 EXHAUST=1 VACUUM=0 LAMP=1\n"),
        (b"LOAD W1\n", b"OK\n"),
        (b"UNLOAD W1\n", b"OK\n"),
    ]
    async with expected_protocol(script) as peer, cell_at(peer.address("serial")) as cell:
        await cell.load("W1")
        await cell.unload("W1")


async def test_coat_polls_to_the_end_and_reads_the_film():
    script = [
        *CONNECT,
        compound(ALL_CLOSED, stat()),
        compound((b"COAT PR-THICK 4000 30.0\n", b"OK\n"), stat("COATING", spin=4000, left=45.8)),
        stat(jobs=1),
        film(),
    ]
    async with (
        expected_protocol(script, transport=POLLED) as peer,
        cell_at(peer.address("serial")) as cell,
    ):
        coated = await cell.coat(CoatMaterial.PR_THICK, 4000)
        assert cell.state is ToolState.IDLE
    assert (coated.material, coated.tone, coated.layer) == (
        CoatMaterial.PR_THICK,
        Tone.POSITIVE,
        FilmLayer.RESIST,
    )
    assert (coated.thickness_um, coated.clearing_dose_mj_cm2, coated.developed) == (
        12.59,
        377.6,
        False,
    )
    assert [r.value for r in cell.readings if r.name == "spin_speed"] == [4000, 0]
    assert cell.readings[-1].name == "film_thickness"


async def test_bake_sends_temperature_and_time():
    script = [
        *CONNECT,
        compound(  # a bake needs the cover only
            (b"ILK?\n", b"OK COVER=1 EXHAUST=0 VACUUM=0 LAMP=0\n"), stat(jobs=1)
        ),
        compound((b"BAKE 110.0 90.0\n", b"OK\n"), stat("BAKING", jobs=1, left=107.4)),
        stat(jobs=2, plate=110.0),
        film("11.06", "0.0"),
    ]
    async with (
        expected_protocol(script, transport=POLLED) as peer,
        cell_at(peer.address("serial")) as cell,
    ):
        baked = await cell.bake(110, 90)
    assert (baked.thickness_um, baked.residual_solvent_percent) == (11.06, 0.0)


async def test_expose_selects_the_reticle_then_exposes_every_die():
    script = [
        *CONNECT,
        (
            b"RETICLE wiring-level-1;RETICLE?\n",
            b"OK;OK NAME=wiring-level-1 FEATURE=LINE SIZE=15.0 SPACE=10.0 PAD=250.0 "
            b"LENGTH=1200.0\n",
        ),
        compound(ALL_CLOSED, stat(jobs=2)),
        compound(  # the status the allowance and the first poll read
            (b"EXPOSE 450.0\n", b"OK\n"), stat("EXPOSING", jobs=2, shots=261, left=202.7)
        ),
        stat("EXPOSING", jobs=2, shot=142, shots=261, left=82.7),
        stat(jobs=3, shot=261, shots=261),
        film("11.06", "0.0", "450.0"),
    ]
    async with (
        expected_protocol(script, transport=POLLED) as peer,
        cell_at(peer.address("serial")) as cell,
    ):
        exposed = await cell.expose("wiring-level-1", 450)
    assert exposed.dose_mj_cm2 == 450.0
    assert [r.value for r in cell.readings if r.name == "shots_done"] == [0, 142, 261]


async def test_develop_returns_the_metrology():
    script = [
        *CONNECT,
        compound(ALL_CLOSED, stat(jobs=3)),
        compound((b"DEVELOP POS 120.0\n", b"OK\n"), stat("DEVELOPING", jobs=3, left=150.0)),
        stat(jobs=4),
        compound(
            film("10.94", "0.0", "450.0", 1),
            (
                b"PATTERN?\n",
                b"OK MASK=wiring-level-1 SITES=8352 CLEARED=8352 DEPTH=11.06 RESIDUAL=0.00 "
                b"CD=15.45 BRIDGED=0 CLOSED=0\n",
            ),
        ),
    ]
    async with (
        expected_protocol(script, transport=POLLED) as peer,
        cell_at(peer.address("serial")) as cell,
    ):
        pattern = await cell.develop(Tone.POSITIVE, 120)
    assert pattern.all_cleared
    assert (pattern.sites, pattern.cd_um, pattern.residual_um) == (8352, 15.45, 0.0)
    names = [r.name for r in cell.readings][-4:]
    assert names == ["openings_cleared", "opening_cd", "opening_residual", "openings_bridged"]


async def test_a_refused_develop_is_command_refused_with_the_cells_code():
    script = [
        *CONNECT,
        compound(ALL_CLOSED, stat(jobs=3)),
        (b"DEVELOP NEG 60.0;STAT?\n", b"ERR 10 PR-THICK is POS, not NEG\n"),
    ]
    async with expected_protocol(script) as peer, cell_at(peer.address("serial")) as cell:
        with pytest.raises(CommandRefused, match="PR-THICK is POS") as refused:
            await cell.develop(Tone.NEGATIVE, 60)
        assert refused.value.code == "10"
        assert cell.state is ToolState.IDLE


async def test_limits_are_checked_before_anything_is_sent():
    async with expected_protocol(CONNECT) as peer, cell_at(peer.address("serial")) as cell:
        with pytest.raises(LimitViolation, match="spin_rpm"):
            await cell.coat(CoatMaterial.PR_THIN, 7000)
        with pytest.raises(ValueError, match=r"spin_rpm = 2500\.5 must be a whole number"):
            await cell.coat(CoatMaterial.PR_THIN, 2500.5)  # type: ignore[arg-type]
        with pytest.raises(LimitViolation, match="dose_mj_cm2"):
            await cell.expose("pads", 5)
        with pytest.raises(LimitViolation, match="develop_time_s"):
            await cell.develop(Tone.POSITIVE, 400)
        with pytest.raises(ValueError, match="mask name"):
            await cell.expose("two words", 100)


async def test_an_open_interlock_sends_no_job():
    script = [*CONNECT, compound((b"ILK?\n", b"OK COVER=1 EXHAUST=0 VACUUM=1 LAMP=1\n"), stat())]
    async with expected_protocol(script) as peer, cell_at(peer.address("serial")) as cell:
        with pytest.raises(InterlockOpen, match="cup_exhaust"):
            await cell.coat(CoatMaterial.PR_THICK, 4000)
        assert cell.state is ToolState.IDLE


async def test_an_alarm_during_the_exposure_faults_the_driver():
    script = [
        *CONNECT,
        (
            b"RETICLE pads;RETICLE?\n",
            b"OK;OK NAME=pads FEATURE=HOLE SIZE=80.0 SPACE=1000.0 PAD=0.0 LENGTH=0.0\n",
        ),
        compound(ALL_CLOSED, stat()),
        compound((b"EXPOSE 300.0\n", b"OK\n"), stat("EXPOSING", shots=261)),
        stat("FAULT", shot=57, shots=261),
        (b"ALM?\n", b"OK LAMP_FAILURE\n"),
    ]
    async with (
        expected_protocol(script, transport=POLLED) as peer,
        cell_at(peer.address("serial")) as cell,
    ):
        with pytest.raises(ToolAlarm, match="LAMP_FAILURE"):
            await cell.expose("pads", 300)
        assert cell.state is ToolState.FAULT


async def test_an_overrunning_coat_is_stopped():
    script = [
        *CONNECT,
        compound(ALL_CLOSED, stat()),
        compound((b"COAT PR-THIN 3000 20.0\n", b"OK\n"), stat("COATING", spin=3000, left=30.0)),
        stat("COATING", spin=3000, left=30.0),
        (b"STOP\n", b"OK\n"),
        (b"STAT?\n", b"OK STATE=IDLE\n"),  # the safe state shows
    ]
    async with expected_protocol(script) as peer, cell_at(peer.address("serial")) as cell:
        with pytest.raises(ToolTimeout, match="still coating"):
            await cell.coat(CoatMaterial.PR_THIN, 3000, spin_time_s=20, timeout_s=30)
        assert cell.state is ToolState.IDLE


async def test_queries_of_an_empty_cell_and_a_garbled_film():
    script = [
        *CONNECT,
        (b"FILM?\n", b"OK NONE\n"),
        (b"PATTERN?\n", b"OK NONE\n"),
        (b"RETICLE?\n", b"OK NONE\n"),
        (b"MASKS?\n", b"OK pads,openings\n"),
        (b"FILM?\n", b"OK MAT=PR-THICK TONE=POS\n"),
    ]
    async with expected_protocol(script) as peer, cell_at(peer.address("serial")) as cell:
        assert await cell.request_film() is None
        assert await cell.request_pattern() is None
        assert await cell.request_reticle() is None
        assert await cell.request_masks() == ("pads", "openings")
        with pytest.raises(ProtocolError, match="lacks LAYER"):
            await cell.request_film()


async def test_reticle_film_and_pattern_are_read_by_the_specs_replies():
    """Each full reply reads every field (`NONE` reads None: the test above); a film's
    DEVELOPED other than 0 or 1 is a protocol error naming it and, read after a job, the job."""
    script = [
        *CONNECT,
        (
            b"RETICLE?\n",
            b"OK NAME=wiring-level-1 FEATURE=LINE SIZE=15.0 SPACE=10.0 PAD=250.0 LENGTH=1200.0\n",
        ),
        film("8.42", "3.5", "300.0", developed=1),
        (
            b"PATTERN?\n",
            b"OK MASK=openings SITES=8352 CLEARED=8340 DEPTH=7.46 RESIDUAL=0.35 CD=32.67 "
            b"BRIDGED=4 CLOSED=8\n",
        ),
        compound(ALL_CLOSED, stat()),
        compound((b"COAT PR-THICK 4000 30.0\n", b"OK\n"), stat("IDLE", jobs=1)),
        film(developed=2),
    ]
    async with expected_protocol(script) as peer, cell_at(peer.address("serial")) as cell:
        reticle = await cell.request_reticle()
        developed = await cell.request_film()
        pattern = await cell.request_pattern()
        with pytest.raises(ProtocolError, match=r"coat PR-THICK.*DEVELOPED='2' not 0/1"):
            await cell.coat(CoatMaterial.PR_THICK, 4000)
    assert reticle == Reticle("wiring-level-1", Feature.LINE, 15.0, 10.0, 250.0, 1200.0)
    assert developed == Film(
        CoatMaterial.PR_THICK, Tone.POSITIVE, FilmLayer.RESIST, 8.42, 3.5, 377.6, 120.0, 300.0, True
    )
    assert pattern == PatternReport("openings", 8352, 8340, 7.46, 0.35, 32.67, 4, 8)


async def test_recover_stops_resets_and_unloads():
    script = [
        *CONNECT,
        (b"STOP\n", b"OK\n"),
        (b"STAT?\n", b"OK STATE=IDLE\n"),  # the safe state shows
        stat("IDLE"),  # what it holds: only what recover was told is its caller's
        (b"ALM?\n", b"OK DISPENSE_FAILED\n"),
        (b"RST\n", b"OK\n"),
        (b"ALM?\n", b"OK NONE\n"),
        stat("IDLE"),
        (b"UNLOAD W1\n", b"OK\n"),
    ]
    async with expected_protocol(script) as peer, cell_at(peer.address("serial")) as cell:
        await cell.recover(("W1",))
        assert cell.state is ToolState.IDLE


@pytest.mark.parametrize(
    "status", [b"ERR 99 status busy\n", b"OK STATE=COATING WAFER=W1\n", b"OK STATE=SPINNING\n"]
)
async def test_a_job_whose_status_fails_after_the_job_was_taken_is_stopped(status):
    """`<job>;STAT?`: the cell took the job; a status refused or garbled on its line stops it
    (STOP) before the error, which names STAT? and the job, reaches the caller."""
    script = [
        *CONNECT,
        compound(ALL_CLOSED, stat()),
        (b"COAT PR-THIN 3000 20.0;STAT?\n", b"OK;" + status),
        (b"STOP\n", b"OK\n"),
        (b"STAT?\n", b"OK STATE=IDLE\n"),  # the safe state shows
    ]
    async with expected_protocol(script) as peer, cell_at(peer.address("serial")) as cell:
        with pytest.raises(
            ProtocolError, match=r"'STAT\?' failed after the tool took 'COAT PR-THIN 3000 20.0'"
        ):
            await cell.coat(CoatMaterial.PR_THIN, 3000, spin_time_s=20)
        assert cell.state is ToolState.IDLE


async def test_a_job_whose_reply_is_lost_after_it_was_sent_is_stopped():
    """`<job>;STAT?` met no reply: the cell may have taken the job, so it is stopped (STOP)
    before the timeout reaches the caller; nothing is left moving unwatched."""
    script = [
        *CONNECT,
        compound(ALL_CLOSED, stat()),
        (b"COAT PR-THIN 3000 20.0;STAT?\n", None),
        (b"STOP\n", b"OK\n"),
        (b"STAT?\n", b"OK STATE=IDLE\n"),  # the safe state shows
    ]
    async with expected_protocol(script) as peer, cell_at(peer.address("serial")) as cell:
        with pytest.raises(ToolTimeout):
            await cell.coat(CoatMaterial.PR_THIN, 3000, spin_time_s=20)
        assert cell.state is ToolState.IDLE
