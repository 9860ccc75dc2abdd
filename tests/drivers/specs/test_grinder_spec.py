"""The grinder's page is the contract: its tables are the spec's, its example exchange is real.

The marked tables of docs/protocols/grinder.md must be what `drivers/specs/grinder.py` renders, and
the page's "Example exchange" is replayed line by line against the simulated tool (over its
socket) and against the driver (as an expected_protocol script, driven by the role calls the
page names).
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from packline.clock import VirtualClock
from packline.drivers.errors import CommandRefused
from packline.drivers.families.scpi_wire import command
from packline.drivers.grinder import ScpiGrinder
from packline.drivers.links import VisaLink
from packline.drivers.roles.grinder import (
    CycleResult,
    GrinderStatus,
    GrindPhase,
    GrindRecipe,
    GrindSide,
)
from packline.drivers.specs.grinder import GAUGE_READING, SPEC, STATUS_REPLY
from packline.drivers.specs.pages import (
    example_exchange,
    marked_tables,
    rendered_tables,
    stale_tables,
)
from packline.sim_instruments.grinder import SimGrinder
from packline.sim_instruments.twin import TwinStore
from packline.testing import expected_protocol

PAGE = Path(__file__).parents[3] / "docs" / "protocols" / "grinder.md"
MARKERS = {"common", "commands", "setpoints", "alarms", "interlocks", "refusals", "replies"}


def test_the_pages_tables_are_rendered_from_the_spec():
    page = PAGE.read_text(encoding="utf-8")
    assert set(marked_tables(page)) == MARKERS
    assert stale_tables(page, rendered_tables(SPEC)) == []


def test_a_table_edited_by_hand_is_stale():
    page = PAGE.read_text(encoding="utf-8").replace("| 1000-6000 |", "| 1000-7000 |", 1)
    assert stale_tables(page, rendered_tables(SPEC)) == ["setpoints"]


def test_a_status_field_edited_by_hand_is_stale():
    page = PAGE.read_text(encoding="utf-8").replace("| 9 | `GrinderStatus.cycle_count`", "| 9 | x")
    assert stale_tables(page, rendered_tables(SPEC)) == ["replies"]


def test_the_pages_status_example_reads_with_the_declared_fields():
    """The example `GRIN:STAT?` reply under the fields table, and each one of the example
    exchange, reads field by field as `STATUS_REPLY` declares them (the driver's and the GEM
    face's reading); a reply one field short, or with a word that is no token, does not."""
    page = PAGE.read_text(encoding="utf-8")
    (example,) = re.findall(r"^Example: `([^`]+)`\.$", page, re.MULTILINE)
    assert STATUS_REPLY.read(example) == GrinderStatus(
        GrindPhase.COARSE, 512.3, 4500, 200, 8, 58.0, 50.0, 33.2, 0, CycleResult.NONE
    )
    query = SPEC.command_by_name["status"]
    replies = [step.reply for step in example_exchange(page) if step.command == "GRIN:STAT?"]
    assert len(replies) == 3
    assert [STATUS_REPLY.read(reply).phase for reply in replies] == [
        GrindPhase.IDLE,
        GrindPhase.COARSE,
        GrindPhase.IDLE,
    ]
    assert query.reply == "`" + ",".join(f"<{f.name}>" for f in STATUS_REPLY.fields) + "`"
    with pytest.raises(ValueError, match="9 fields, not 10"):
        STATUS_REPLY.read(example.rsplit(",", 1)[0])
    with pytest.raises(ValueError, match="field 1, phase: 'GRINDING' is not on the protocol page"):
        STATUS_REPLY.read(example.replace("COARSE", "GRINDING"))


def test_a_failed_gauges_thickness_reads_as_none_and_is_written_as_not_a_number():
    status = STATUS_REPLY.read("FAULT,9.91E+37,0,0,0,0.0,0.0,12.0,1,FAULTED")
    assert status.thickness_um is None
    assert STATUS_REPLY.render(status) == "FAULT,9.91E+37,0,0,0,0.0,0.0,12.0,1,FAULTED"


def test_the_thickness_is_written_to_its_gauges_decimals_as_the_page_says():
    """The page's value of the thickness had read `number, 1 decimal`, where a 1 um gauge
    writes `725`: it says the decimals are the gauge's step's, and a reply is rendered to
    those of a field that declares them, by its name; a name of another field (or none) is
    refused naming the fields that have decimals of their own."""
    (thickness,) = [field for field in STATUS_REPLY.fields if field.name == "thickness_um"]
    assert thickness.reads_as.startswith(
        "number, to the decimals of the gauge's step (1 of the finest, 0.1 µm; 0 of 1 µm); "
    )
    status = GrinderStatus(GrindPhase.IDLE, 725.0, 0, 0, 0, 0.0, 0.0, 0.0, 0, CycleResult.NONE)
    assert STATUS_REPLY.render(status, thickness_um=0).split(",")[1] == "725"
    with pytest.raises(ValueError, match="no field thickness is written to decimals of its own"):
        STATUS_REPLY.render(status, thickness=0)


def test_the_gauge_queries_answer_as_the_status_writes_its_thickness():
    """`MEAS:THIC?` and `MEAS:SUBS?` answer a gauge's reading as `GRIN:STAT?` writes its
    thickness, one declaration (`GAUGE_READING`): their command table's form is its decimals,
    and not-a-number, a failed gauge's, reads as none, as in the status."""
    assert GAUGE_READING in STATUS_REPLY.fields
    for query in ("thickness", "substrate"):
        assert command(SPEC, query).decimals == GAUGE_READING.decimals
    assert GAUGE_READING.read("9.91E+37") is None
    assert GAUGE_READING.read("725") == 725.0


def test_a_count_written_in_another_scpi_number_form_reads_as_the_whole_number():
    """A real grinder may write its cycle count as SCPI NR2 or NR3 (`3.0`, `+3.000E+00`), as the
    family's numbers are NRf (conventions.md): the count reads 3, as the driver read it before
    the fields were declared; one with a fraction is refused naming the field."""
    for count in ("3", "3.0", "+3.000E+00"):
        status = STATUS_REPLY.read(f"IDLE,700.0,0,0,0,0.0,100.0,61.5,{count},COMPLETED")
        assert status.cycle_count == 3
        assert isinstance(status.cycle_count, int)
    with pytest.raises(ValueError, match=r"field 9, cycle_count: '3\.5' is not a whole number"):
        STATUS_REPLY.read("IDLE,700.0,0,0,0,0.0,100.0,61.5,3.5,COMPLETED")
    with pytest.raises(ValueError, match="field 9, cycle_count: 'three' is not an integer"):
        STATUS_REPLY.read("IDLE,700.0,0,0,0,0.0,100.0,61.5,three,COMPLETED")


async def test_the_simulated_tool_answers_the_example_exchange():
    clock = VirtualClock()
    sim = SimGrinder("grinder", TwinStore(), clock)
    port = int((await sim.start()).split("::")[2])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for step in example_exchange(PAGE.read_text(encoding="utf-8")):
            await clock.sleep(step.after_s)
            writer.write(step.command.encode() + b"\n")
            if step.reply is not None:
                answer = await asyncio.wait_for(reader.readline(), 5)
                assert (step.command, answer.decode().rstrip("\n")) == (step.command, step.reply)
        assert 300.0 <= sim.twin.get("W01").geometry.thickness_um < 300.1
    finally:
        writer.close()
        await sim.stop()


async def test_the_driver_speaks_the_example_exchange():
    script = [
        (step.command.encode() + b"\n", None if step.reply is None else step.reply.encode() + b"\n")
        for step in example_exchange(PAGE.read_text(encoding="utf-8"))
    ]
    async with expected_protocol(script) as peer:
        link = VisaLink(peer.address("visa"), tool="grinder", timeout_s=1.0, clock=VirtualClock())
        grinder = ScpiGrinder(link, name="grinder", poll_interval_s=300)
        await grinder.connect()
        await grinder.load("W01", GrindSide.BACK)
        await grinder.apply_chuck_vacuum()
        result = await grinder.grind(GrindRecipe(300))
        assert (result.start_thickness_um, result.final_thickness_um) == (725.0, 300.0)
        with pytest.raises(CommandRefused, match="chuck vacuum is on"):
            await grinder.unload()
        await grinder.close()
