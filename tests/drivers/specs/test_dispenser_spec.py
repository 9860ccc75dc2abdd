"""The dispenser's page is the contract: its example exchange runs on the simulator and is
what the driver sends (its tables are checked with every kind's, in `test_pages.py`)."""

from __future__ import annotations

from pathlib import Path

from packline.clock import VirtualClock
from packline.drivers.dispenser import AsciiDispenser
from packline.drivers.links import open_link
from packline.drivers.roles.dispenser import FillMaterial
from packline.drivers.specs.pages import example_exchange
from packline.sim_instruments.dispenser import SimDispenser
from packline.sim_instruments.twin import PanelSpec, TwinStore
from packline.testing import expected_protocol
from packline.testing.host_link import line_script, refusal_codes, replay_example
from packline.testing.twin import drill_holes

PAGE = Path(__file__).parents[3] / "docs" / "protocols" / "dispenser.md"


def page() -> str:
    return PAGE.read_text(encoding="utf-8")


async def test_the_example_exchange_runs_on_the_simulator():
    clock = VirtualClock()
    store = TwinStore(PanelSpec())
    drill_holes(store.receive("P1"), 100)
    sim = SimDispenser("disp", store, clock)
    await replay_example(page(), sim.handle, clock)


async def test_the_example_exchange_is_what_the_driver_sends():
    steps = example_exchange(page())
    script = line_script(steps)
    refused = [s.command for s in steps[-2:]]
    async with expected_protocol(script, transport="pty") as peer:  # a line that holds no reply
        link = open_link(peer.address("serial"), tool="disp", clock=VirtualClock())
        async with AsciiDispenser(link, poll_interval_s=60.0) as disp:  # type: ignore[arg-type]
            await disp.load("P1")
            filled = await disp.fill_holes(FillMaterial.AG_PASTE, 0.3, 0.289)
            codes = await refusal_codes(disp, refused)
    assert (filled.holes, filled.hole_volume_nl, filled.fill_volume_nl) == (2400, 0.589, 0.3)
    assert (filled.overfilled, filled.underfilled) == (0, 0)
    assert codes == ["9", "3"]
