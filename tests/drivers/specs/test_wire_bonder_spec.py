"""The wire bonder's page is the contract: its tables are the spec's, its example exchange runs.

The example exchange of docs/protocols/wire-bonder.md is replayed against the simulated bonder
(each `>` line sent, each `<` line expected) and against the driver (the same lines as an
expected_protocol script, produced by the driver's own calls).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from packline.clock import VirtualClock
from packline.drivers.errors import CommandRefused
from packline.drivers.families.ascii_host_wire import refusal_code
from packline.drivers.links import open_link
from packline.drivers.registry import TOOL_KINDS
from packline.drivers.roles.wire_bonder import BondProgram, WireMaterial
from packline.drivers.specs.pages import (
    example_exchange,
    marked_tables,
    rendered_tables,
    stale_tables,
)
from packline.drivers.specs.wire_bonder import SPEC
from packline.drivers.wire_bonder import AsciiWireBonder
from packline.sim_instruments.twin import TwinStore, WaferSpec
from packline.sim_instruments.wire_bonder import SimWireBonder
from packline.testing import expected_protocol
from packline.testing.host_link import line_script, replay_example

PAGE = Path(__file__).parents[3] / "docs" / "protocols" / "wire-bonder.md"
MARKERS = {"commands", "setpoints", "status", "alarms", "interlocks", "refusals", "replies"}


def page() -> str:
    return PAGE.read_text(encoding="utf-8")


def test_the_page_has_every_table_of_the_spec_between_markers():
    assert set(marked_tables(page())) == MARKERS
    assert set(rendered_tables(SPEC)) >= MARKERS


def test_the_pages_tables_are_not_stale():
    assert stale_tables(page(), rendered_tables(SPEC)) == []


def test_a_stale_table_is_seen():
    edited = page().replace("| `bond_force_gf` | `<force_gf>` | 15-60 gf", "| `bond_force_gf` | x")
    assert stale_tables(edited, rendered_tables(SPEC)) == ["setpoints"]


async def test_the_example_exchange_runs_on_the_simulator():
    clock = VirtualClock()
    sim = SimWireBonder("bonder", TwinStore(WaferSpec(diameter_mm=100, pads_per_die_side=4)), clock)
    await replay_example(page(), sim.handle, clock)


async def test_the_example_exchange_is_what_the_driver_sends():
    steps = example_exchange(page())
    script = line_script(steps)
    refused_line = steps[-1].command
    async with expected_protocol(script) as peer:
        link = open_link(peer.address("serial"), tool="bonder", clock=VirtualClock())
        async with AsciiWireBonder(link, poll_interval_s=5.0) as bonder:  # type: ignore[arg-type]
            await bonder.load("W01")
            program = BondProgram(WireMaterial.AU, 25, 150, 35, 60, 12)
            result = await bonder.form_stud_bumps(
                program, sites=[*range(100), 150, *range(200, 210)], stack_count=2
            )
            assert result.bumps_formed == 111
            summary = await bonder.request_bump_height_summary()
            heights = await bonder.request_bump_heights(0, 3)
            with pytest.raises(CommandRefused, match="bond_force_gf 100 gf outside 15-60"):
                await bonder.ask("set program", refused_line)
    assert summary.mean_um == 72.53
    np.testing.assert_allclose(heights, [72.7, 73.0, 70.4])


def test_the_pages_state_the_codes_the_host_link_tools_give():
    """conventions.md names each host-link tool's WRONG_STATE, INTERLOCK_OPEN and ALARM_ACTIVE
    code, which differ between the wire bonder and the others: it says what the specs say."""
    text = " ".join((PAGE.parent / "conventions.md").read_text(encoding="utf-8").split())
    bonder = [
        refusal_code(SPEC, name) for name in ("WRONG_STATE", "INTERLOCK_OPEN", "ALARM_ACTIVE")
    ]
    assert bonder == [4, 5, 9]
    assert "`WRONG_STATE` 4, `INTERLOCK_OPEN` 5 and `ALARM_ACTIVE` 9" in text
    assert "`INTERLOCK_OPEN` 4, `WRONG_STATE` 5 and `ALARM_ACTIVE` 6" in text
    for name, kind in TOOL_KINDS.items():
        spec = kind.load_spec()
        if spec.family == "ascii_host" and name != "wire_bonder":
            others = [
                refusal_code(spec, r) for r in ("INTERLOCK_OPEN", "WRONG_STATE", "ALARM_ACTIVE")
            ]
            assert others == [4, 5, 6], name
