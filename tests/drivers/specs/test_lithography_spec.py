"""The litho cell's page is the contract: its example exchange runs, its materials are the cell's.

(Its tables are checked against the spec with every kind's, in `test_pages.py`.) The example
exchange of docs/protocols/lithography.md is replayed against the simulated cell
(each `>` line sent, each `<` line expected) and against the driver (the same lines as an
expected_protocol script, produced by the driver's own calls).
"""

from __future__ import annotations

from pathlib import Path

from packline.clock import VirtualClock
from packline.drivers.links import open_link
from packline.drivers.lithography import AsciiLithography
from packline.drivers.roles.lithography import MATERIALS, RETICLES, CoatMaterial, Tone
from packline.drivers.specs.pages import example_exchange
from packline.sim_instruments.lithography import SimLithography
from packline.sim_instruments.twin import TwinStore
from packline.testing import expected_protocol
from packline.testing.host_link import line_script, refusal_codes, replay_example

PAGE = Path(__file__).parents[3] / "docs" / "protocols" / "lithography.md"


def page() -> str:
    return PAGE.read_text(encoding="utf-8")


def test_every_material_has_its_facts_and_the_page_names_it_and_every_reticle():
    assert set(MATERIALS) == set(CoatMaterial)
    text = page()
    for material in CoatMaterial:
        assert f"| `{material.value}` |" in text
    for name in RETICLES:
        assert f"`{name}`" in text


async def test_the_example_exchange_runs_on_the_simulator():
    clock = VirtualClock()
    sim = SimLithography("litho", TwinStore(), clock)
    await replay_example(page(), sim.handle, clock)


async def test_the_example_exchange_is_what_the_driver_sends():
    steps = example_exchange(page())
    script = line_script(steps)
    refused = [s.command for s in steps[-2:]]
    async with expected_protocol(script, transport="pty") as peer:  # a line that holds no reply
        link = open_link(peer.address("serial"), tool="litho", clock=VirtualClock())
        async with AsciiLithography(link, poll_interval_s=120.0) as cell:  # type: ignore[arg-type]
            await cell.load("W1")
            coated = await cell.coat(CoatMaterial.PR_THICK, 4000)
            await cell.bake(110, 90)
            await cell.expose("wiring-level-1", 450)
            pattern = await cell.develop(Tone.POSITIVE, 120)
            codes = await refusal_codes(cell, refused)
    assert coated.thickness_um == 12.59
    assert pattern.all_cleared
    assert pattern.cd_um == 15.45
    assert codes == ["3", "8"]
