"""The dicing saw's page is the contract: its tables are the spec's, its example exchange runs.

The example exchange of docs/protocols/dicing-saw.md is replayed against the simulated saw
(each `>` line sent, each `<` line expected) and against the driver (the same lines as an
expected_protocol script, produced by the driver's own calls).
"""

from __future__ import annotations

import re
from pathlib import Path

from packline.clock import VirtualClock
from packline.drivers.dicing_saw import AsciiDicingSaw
from packline.drivers.families.ascii_host_wire import HostLink, host_status
from packline.drivers.gem.dictionary import load_dictionary
from packline.drivers.links import open_link
from packline.drivers.registry import TOOL_KINDS
from packline.drivers.roles.dicing_saw import CutOutcome, DicingRecipe
from packline.drivers.specs.dicing_saw import AT_SPEED, HOST_COMMANDS, SPEC
from packline.drivers.specs.pages import (
    example_exchange,
    marked_tables,
    render_page,
    rendered_tables,
    stale_tables,
)
from packline.sim_instruments.dicing_saw import SimDicingSaw
from packline.sim_instruments.twin import TwinStore
from packline.testing import expected_protocol
from packline.testing.host_link import line_script, refusal_codes, replay_example

PAGE = Path(__file__).parents[3] / "docs" / "protocols" / "dicing-saw.md"
MARKERS = {"commands", "setpoints", "status", "alarms", "interlocks", "refusals", "replies"}


def page() -> str:
    return PAGE.read_text(encoding="utf-8")


def test_the_page_has_every_table_of_the_spec_between_markers():
    assert set(marked_tables(page())) == MARKERS
    assert set(rendered_tables(SPEC)) >= MARKERS


def test_the_pages_tables_are_not_stale():
    assert stale_tables(page(), rendered_tables(SPEC)) == []


def hand_written_reply_values(text: str) -> list[str]:
    """The `KEY=<number>` words of the saw's declared replies and its status that `text` states
    outside its rendered tables and its example exchange (which the spec tests replay)."""
    prose = render_page(text, dict.fromkeys(marked_tables(text), ""))
    prose = prose.split("## Example exchange")[0]
    keys = {field.key for reply in SPEC.wire.replies for field in reply.fields}
    keys |= {status.key for status in host_status(SPEC)}
    return [
        word for word in re.findall(r"\b([A-Z_]+=-?\d[\d.]*)", prose) if word.split("=")[0] in keys
    ]


def test_the_page_states_no_reply_value_by_hand():
    """Each value of `STAT?`, `WORK?`, `BLADE?` and `RESULT?` is stated by the page's rendered
    tables (its form, decimals, meaning) and shown by the replayed example exchange, never by
    a hand-written example, which would drift from its declaration unseen."""
    assert hand_written_reply_values(page()) == []
    drifted = page().replace("## Identity", "`BLADE?` answers `KERF=23.00`.\n\n## Identity")
    assert hand_written_reply_values(drifted) == ["KERF=23.00"]


def test_a_stale_table_is_seen():
    edited = page().replace("| CUT_DEPTH |", "| CUT_DEEP |")
    assert stale_tables(edited, rendered_tables(SPEC)) == ["alarms"]


async def test_the_example_exchange_runs_on_the_simulator():
    clock = VirtualClock()
    sim = SimDicingSaw("saw", TwinStore(), clock)
    await replay_example(page(), sim.handle, clock)


async def test_the_example_exchange_is_what_the_driver_sends():
    steps = example_exchange(page())
    script = line_script(steps)
    readback = [s.command for s in steps if s.command.endswith(("?", "? 1"))][-3:]
    refused = [s.command for s in steps[-2:]]
    async with expected_protocol(script, transport="pty") as peer:  # a line that holds no reply
        link = open_link(peer.address("serial"), tool="saw", clock=VirtualClock())
        async with AsciiDicingSaw(link, poll_interval_s=60.0) as saw:  # type: ignore[arg-type]
            await saw.mount("W1")
            result = await saw.dice(DicingRecipe(30, 30))
            assert [await saw.ask("read back", query) for query in readback] == [
                "30.0",
                "30.0",
                "1 10.0000 0.0000",
            ]
            codes = await refusal_codes(saw, refused)
    assert result.outcome is CutOutcome.COMPLETED
    assert (result.lines_cut, result.singulated_units) == (40, 261)
    assert codes == ["3", "2"]


def test_a_reply_field_that_may_have_no_value_may_be_empty_on_the_gem_face_alone():
    """A host-link reply's field that may have no value (`KERF=-`) is, on its tool's GEM face,
    a status variable that may be an item of no element (`absent`), and only such a field's:
    the two faces read a value measured or not alike."""
    absent_fields = []
    for name, kind in TOOL_KINDS.items():
        wire = kind.load_spec().wire
        if not isinstance(wire, HostLink) or kind.gem_driver is None:
            continue
        variables = load_dictionary(name).status_variables
        for reply in wire.replies:
            for field in reply.fields:
                if not field.gem_constant:
                    absent = variables[reply.gem_name(field)].absent
                    assert absent == bool(field.absent_when), (name, reply.query, field.key)
                    absent_fields += [f"{reply.query} {field.key}"] * absent
    assert absent_fields == [
        "BLADE? KERF",
        "RESULT? KERF",
        "RESULT? DEPTH",
        "RESULT? FRONT",
        "RESULT? BACK",
    ]


def test_a_cut_needs_all_that_a_spindle_start_needs():
    """`dice` judges its `CUT` before it brings the spindle to speed (`refuse_unmet`'s
    `spins_up`), and its spin-up judges nothing of its own: that holds only while every
    precondition and interlock of `SPINDLE` but the speed is one of `CUT`'s too."""
    spindle, cut = HOST_COMMANDS["SPINDLE"], HOST_COMMANDS["CUT"]
    assert set(spindle.preconditions) - set(AT_SPEED) <= set(cut.preconditions)
    assert set(spindle.interlocks) <= set(cut.interlocks)
