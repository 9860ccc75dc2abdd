"""The flip-chip bonder's page is the contract: its example exchange runs on the simulator and is
what the driver sends (its tables are checked with every kind's, in `test_pages.py`)."""

from __future__ import annotations

from pathlib import Path

from packline.clock import VirtualClock
from packline.drivers.flip_chip_bonder import AsciiFlipChipBonder
from packline.drivers.gem.dictionary import load_dictionary
from packline.drivers.links import open_link
from packline.drivers.roles.flip_chip_bonder import BondRecipe
from packline.drivers.specs.flip_chip_bonder import REPLIES
from packline.drivers.specs.pages import example_exchange
from packline.sim_instruments.flip_chip_bonder import SimFlipChipBonder
from packline.sim_instruments.twin import TwinStore
from packline.testing import expected_protocol
from packline.testing.host_link import line_script, refusal_codes, replay_example
from packline.testing.twin import bumped_dies, filled_panel

PAGE = Path(__file__).parents[3] / "docs" / "protocols" / "flip-chip-bonder.md"


def page() -> str:
    return PAGE.read_text(encoding="utf-8")


async def test_the_example_exchange_runs_on_the_simulator():
    clock = VirtualClock()
    twin = TwinStore()
    filled_panel(twin, "P1")
    bumped_dies(twin, "W1")
    sim = SimFlipChipBonder("fc", twin, clock)
    await replay_example(page(), sim.handle, clock)


async def test_the_example_exchange_is_what_the_driver_sends():
    steps = example_exchange(page())
    script = line_script(steps)
    refused = [s.command for s in steps[-4:]]
    async with expected_protocol(script, transport="pty") as peer:  # a line that holds no reply
        link = open_link(peer.address("serial"), tool="fc", clock=VirtualClock())
        async with AsciiFlipChipBonder(link, poll_interval_s=60.0) as bonder:  # type: ignore[arg-type]
            await bonder.load("P1")
            dies = await bonder.load_die_source("W1")
            result = await bonder.bond_dies(BondRecipe(250, 150, 20, 5))
            codes = await refusal_codes(bonder, refused)
    assert dies == 88
    assert (result.dies_placed, result.dies_bonded, result.terminals_seated) == (6, 6, 144)
    assert (result.fill_level_min_percent, result.fill_level_max_percent) == (100.0, 100.0)
    assert codes == ["3", "10", "5", "2"]


#: The GEM format a reply field's status variable carries, by the field's kind.
GEM_FORMATS = {int: "U4", float: "F8"}


def test_each_inspection_reply_is_carried_whole_by_the_gem_dictionary():
    """Every field of the bonder's three inspections (`RESULT?`, `XFER?`, `FRAME?`) is a status
    variable of the GEM bonder's dictionary, of its field's kind (a count U4, a number F8, text
    or a token A), reported in the field's order with the run's end."""
    dictionary = load_dictionary("flip_chip_bonder")
    ended = {"RESULT?": "run_ended", "XFER?": "transfer_ended", "FRAME?": "frame_ended"}
    for reply in REPLIES:
        for field, variable in zip(reply.fields, reply.gem_variables, strict=True):
            found = dictionary.status_variables[variable].format
            assert found == GEM_FORMATS.get(field.kind, "A"), variable
        report = dictionary.collection_events[ended[reply.query]].report
        assert [v for v in report if v in reply.gem_variables] == list(reply.gem_variables)
    assert [reply.query for reply in REPLIES] == ["RESULT?", "FRAME?", "XFER?"]
