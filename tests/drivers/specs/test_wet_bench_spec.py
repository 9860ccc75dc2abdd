"""The wet bench's page is the contract: its example exchange runs on the simulator and is what
the driver sends (its tables are checked with every kind's, in `test_pages.py`)."""

from __future__ import annotations

from pathlib import Path

from packline.clock import VirtualClock
from packline.drivers.links import open_link
from packline.drivers.roles.wet_bench import Tank
from packline.drivers.specs.pages import example_exchange
from packline.drivers.wet_bench import AsciiWetBench
from packline.sim_instruments.twin import TwinStore
from packline.sim_instruments.wet_bench import SimWetBench
from packline.testing import expected_protocol
from packline.testing.host_link import line_script, refusal_codes, replay_example

PAGE = Path(__file__).parents[3] / "docs" / "protocols" / "wet-bench.md"


def page() -> str:
    return PAGE.read_text(encoding="utf-8")


async def test_the_example_exchange_runs_on_the_simulator():
    clock = VirtualClock()
    sim = SimWetBench("wet", TwinStore(), clock)
    await replay_example(page(), sim.handle, clock)


async def test_the_example_exchange_is_what_the_driver_sends():
    steps = example_exchange(page())
    script = line_script(steps)
    refused = [s.command for s in steps[-2:]]
    async with expected_protocol(script) as peer:
        link = open_link(peer.address("serial"), tool="wet", clock=VirtualClock())
        async with AsciiWetBench(link, poll_interval_s=300.0) as bench:  # type: ignore[arg-type]
            await bench.load("W1")
            plated = await bench.plate_electroless(600)
            await bench.heat_bath(Tank.CU_ETCH, 35)
            result = await bench.etch(Tank.CU_ETCH, 30)
            codes = await refusal_codes(bench, refused)
    assert plated.change_um == 0.6
    assert (result.tank, result.temperature_c, result.change_um) == (Tank.CU_ETCH, 35.0, -0.424)
    assert codes == ["3", "7"]
