"""The laser's page is the contract: its tables are the spec's, its example exchange is real.

The marked tables of docs/protocols/laser.md must be what `drivers/specs/laser.py` renders, and
the page's "Example exchange" is replayed line by line against the simulated tool (over its
socket) and against the driver (as an expected_protocol script, driven by the role calls the
page names).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from packline.clock import VirtualClock
from packline.drivers.errors import CommandRefused
from packline.drivers.families.scpi_wire import command
from packline.drivers.laser import ScpiLaser
from packline.drivers.links import VisaLink
from packline.drivers.roles.laser import DrillRecipe, JobKind, JobProgress, JobState
from packline.drivers.specs.laser import (
    JOB_POLL_QUERIES,
    JOB_PROGRESS_REPLY,
    LAST_JOB_REPLY,
    SPEC,
    STATUS_QUERIES,
    LastJob,
)
from packline.drivers.specs.pages import (
    example_exchange,
    marked_tables,
    rendered_tables,
    stale_tables,
)
from packline.sim_instruments.laser import SimLaser
from packline.sim_instruments.twin import ResinKind, TwinStore
from packline.testing import expected_protocol

PAGE = Path(__file__).parents[3] / "docs" / "protocols" / "laser.md"
MARKERS = {"common", "commands", "replies", "setpoints", "alarms", "interlocks", "refusals"}


def test_the_pages_tables_are_rendered_from_the_spec():
    page = PAGE.read_text(encoding="utf-8")
    assert set(marked_tables(page)) == MARKERS
    assert stale_tables(page, rendered_tables(SPEC)) == []


def test_a_table_edited_by_hand_is_stale():
    page = PAGE.read_text(encoding="utf-8").replace("| 0.01-20 |", "| 0.01-25 |", 1)
    assert stale_tables(page, rendered_tables(SPEC)) == ["setpoints"]


async def test_the_simulated_tool_answers_the_example_exchange():
    clock = VirtualClock()
    twin = TwinStore()
    twin.get("LOT7-W03").add_resin(ResinKind.THERMOSET, 50.0)  # as the page's example says
    sim = SimLaser("laser", twin, clock)
    port = int((await sim.start()).split("::")[2])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for step in example_exchange(PAGE.read_text(encoding="utf-8")):
            await clock.sleep(step.after_s)
            writer.write(step.command.encode() + b"\n")
            if step.reply is not None:
                answer = await asyncio.wait_for(reader.readline(), 5)
                assert (step.command, answer.decode().rstrip("\n")) == (step.command, step.reply)
        assert twin.get("LOT7-W03").openings.layers[-1].open[:4].all()
    finally:
        writer.close()
        await sim.stop()


async def test_the_driver_speaks_the_example_exchange():
    script = [
        (step.command.encode() + b"\n", None if step.reply is None else step.reply.encode() + b"\n")
        for step in example_exchange(PAGE.read_text(encoding="utf-8"))
    ]
    async with expected_protocol(script) as peer:
        link = VisaLink(peer.address("visa"), tool="laser", timeout_s=1.0, clock=VirtualClock())
        laser = ScpiLaser(link, name="laser")
        await laser.connect()
        await laser.open_enclosure()
        await laser.load("LOT7-W03")
        await laser.close_enclosure()
        await laser.enable_emission()
        with pytest.raises(CommandRefused, match="emission on"):
            await laser.open_enclosure()
        recipe = DrillRecipe(diameter_um=50, fluence_j_cm2=3, rep_rate_khz=100)
        result = await laser.drill_vias(recipe, [0, 1, 2, 3])
        assert (result.sites, result.vias_open) == (4, 4)
        status = await laser.request_status()
        assert (status.wafer_id, status.job.state, status.job.sites_done) == (
            "LOT7-W03",
            JobState.DONE,
            4,
        )
        await laser.abort()
        await laser.close()


@pytest.mark.parametrize("names", [STATUS_QUERIES, JOB_POLL_QUERIES])
def test_the_compound_reads_name_queries_of_the_command_set(names: tuple[str, ...]):
    """Each unit of the driver's compound reads is a query the commands table lists."""
    assert len(set(names)) == len(names)
    assert all(command(SPEC, name).form in ("query", "both") for name in names)


def test_the_job_replies_write_short_mnemonics_and_read_either_form_in_any_case():
    """A job reply's mnemonics are written in their short form, as every query answers, and
    read in short or long form, any case, as the tool takes them; a result's kind is `NONE`
    before the first job."""
    progress = JobProgress(JobState.RUNNING, 3, 8, 0.5, 1.25)
    assert JOB_PROGRESS_REPLY.render(progress) == "RUNN,3,8,0.500,1.250"
    assert JOB_PROGRESS_REPLY.read("running,3,8,0.5,1.25") == progress
    assert LAST_JOB_REPLY.read("DRILl,DONE,4,4,0.025") == LastJob(
        JobKind.DRILL, JobState.DONE, 4, 4, 0.025
    )
    none_yet = LastJob(None, JobState.IDLE, 0, 0, 0.0)
    assert LAST_JOB_REPLY.render(none_yet) == "NONE,IDLE,0,0,0.000"
    assert LAST_JOB_REPLY.read("NONE,IDLE,0,0,0.000") == none_yet
    with pytest.raises(ValueError, match="field 1, state: 'RUN' is not on the protocol page"):
        JOB_PROGRESS_REPLY.read("RUN,3,8,0.5,1.25")
