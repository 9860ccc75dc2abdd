"""The resin coater's page is the contract: its example exchange runs on the simulator and is
what the driver sends (its tables are checked with every kind's, in `test_pages.py`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from packline.clock import VirtualClock
from packline.drivers.links import open_link
from packline.drivers.resin_coater import AsciiResinCoater
from packline.drivers.roles.resin_coater import (
    EDGE_BEAD_FACTOR,
    EDGE_BEAD_MM,
    CoatResin,
    CoatStep,
    spun_layer_um,
)
from packline.drivers.specs.pages import example_exchange
from packline.sim_instruments.resin_coater import SimResinCoater
from packline.sim_instruments.twin import TwinStore
from packline.testing import expected_protocol
from packline.testing.host_link import line_script, refusal_codes, replay_example

PAGE = Path(__file__).parents[3] / "docs" / "protocols" / "resin-coater.md"


def page() -> str:
    return PAGE.read_text(encoding="utf-8")


async def test_the_example_exchange_runs_on_the_simulator():
    clock = VirtualClock()
    sim = SimResinCoater("coat", TwinStore(), clock)
    await replay_example(page(), sim.handle, clock)


async def test_the_example_exchange_is_what_the_driver_sends():
    steps = example_exchange(page())
    script = line_script(steps)
    refused = [s.command for s in steps[-2:]]
    async with expected_protocol(script, transport="pty") as peer:  # a line that holds no reply
        link = open_link(peer.address("serial"), tool="coat", clock=VirtualClock())
        async with AsciiResinCoater(link, poll_interval_s=60.0) as coater:  # type: ignore[arg-type]
            await coater.load("W1")
            coated = await coater.coat_resin(CoatResin.THERMOSET, 2000, 30)
            baked = await coater.soft_bake(100, 120)
            codes = await refusal_codes(coater, refused)
    assert (coated.step, coated.field_um, coated.edge_um) == (CoatStep.SPIN, 17.8, 23.14)
    assert (baked.step, baked.field_um, baked.solvent) == (CoatStep.BAKE, 14.88, 0.003)
    assert codes == ["3", "2"]


def test_the_page_s_spin_keeps_the_edge_bead_as_the_process_model_does():
    """The page's SPIN row said the spin removes the edge bead, while the process model (the
    line's `spun_layer_um`, which validate's dry-etch check and the simulated coater work by)
    keeps it EDGE_BEAD_FACTOR times the field within EDGE_BEAD_MM of the rim: the row, rendered
    from the command's description, says the bead stays, as the page's process model does."""
    assert EDGE_BEAD_FACTOR > 1
    field = spun_layer_um(CoatResin.THERMOSET, 2000, 30, 120, 120, 0.0, in_edge_bead=False)
    bead = spun_layer_um(CoatResin.THERMOSET, 2000, 30, 120, 120, 0.0, in_edge_bead=True)
    assert bead == pytest.approx(EDGE_BEAD_FACTOR * field)
    (row,) = [line for line in page().splitlines() if line.startswith("| `SPIN ")]
    assert "removes the edge bead" not in row
    assert "the edge bead stays, no edge-bead removal" in row
    assert (
        f"No edge-bead removal: within {EDGE_BEAD_MM:g} mm of the rim the film is "
        f"{EDGE_BEAD_FACTOR:g} times thicker."
    ) in " ".join(page().split())
