"""The stencil printer's page is the contract: its example exchange is real.

The page's "Example exchange" (Modbus TCP frames in hex) is replayed frame by frame against the
simulated printer (over its socket) and against the driver (as an expected_protocol script,
driven by the calls the page names); its tables are checked with every kind's, in
`test_pages.py`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from packline.drivers.errors import CommandRefused
from packline.drivers.families.plc_map import example_frames
from packline.drivers.links import ModbusLink
from packline.drivers.roles.stencil_printer import PrintRecipe, SolderPaste
from packline.drivers.stencil_printer import ModbusStencilPrinter
from packline.sim_instruments.stencil_printer import SimStencilPrinter
from packline.sim_instruments.twin import TwinStore
from packline.testing import expected_protocol

PAGE = Path(__file__).parents[3] / "docs" / "protocols" / "stencil-printer.md"
#: The page's print: Sn63Pb37, 30 um stencil, 100 um apertures, 60 N, 40 mm/s, 1.0 mm/s.
RECIPE = PrintRecipe(SolderPaste.SNPB_EUTECTIC, 30, 100, 60, 40, 1.0)


async def test_the_simulated_printer_answers_the_example_exchange(replay_example):
    sim = SimStencilPrinter("stencil_printer", TwinStore())
    address = await sim.start()
    try:
        await replay_example(address, PAGE.read_text(encoding="utf-8"))
        assert sim.wafer_id == "W01"
        assert sim.cycle is None
    finally:
        await sim.stop()


async def test_the_driver_speaks_the_example_exchange():
    async with expected_protocol(example_frames(PAGE.read_text(encoding="utf-8"))) as peer:
        link = ModbusLink(peer.address("modbus+tcp"), tool="stencil_printer", timeout_s=1.0)
        printer = ModbusStencilPrinter(link, name="stencil_printer")
        await printer.connect()
        status = await printer.request_status()
        assert (status.wafer_loaded, status.cycles_completed) == (False, 0)
        await printer.load("W01")
        with pytest.raises(CommandRefused, match="the workpiece carries no bumps to print on"):
            await printer.print_paste(RECIPE)
        await printer.close()
