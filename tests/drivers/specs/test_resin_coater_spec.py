"""The resin coater's page is the contract: its example exchange runs on the simulator and is
what the driver sends (its tables are checked with every kind's, in `test_pages.py`)."""

from __future__ import annotations

from pathlib import Path

from packline.clock import VirtualClock
from packline.drivers.links import open_link
from packline.drivers.resin_coater import AsciiResinCoater
from packline.drivers.roles.resin_coater import CoatResin, CoatStep
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
    async with expected_protocol(script) as peer:
        link = open_link(peer.address("serial"), tool="coat", clock=VirtualClock())
        async with AsciiResinCoater(link, poll_interval_s=60.0) as coater:  # type: ignore[arg-type]
            await coater.load("W1")
            coated = await coater.coat_resin(CoatResin.THERMOSET, 2000, 30)
            baked = await coater.soft_bake(100, 120)
            codes = await refusal_codes(coater, refused)
    assert (coated.step, coated.field_um, coated.edge_um) == (CoatStep.SPIN, 17.8, 23.14)
    assert (baked.step, baked.field_um, baked.solvent) == (CoatStep.BAKE, 14.88, 0.003)
    assert codes == ["3", "2"]
