"""An independent client: Debian's mbpoll drives the simulated stencil printer by its protocol
page, through a whole print on a bumped wafer."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from packline.clock import VirtualClock
from packline.drivers.links.registers import ascii_to_registers
from packline.sim_instruments.stencil_printer import SimStencilPrinter
from packline.sim_instruments.twin import TwinStore, WaferSpec
from packline.testing.clients import mbpoll, mbpoll_registers
from packline.testing.twin import sealed_solder_bumps

pytestmark = pytest.mark.skipif(shutil.which("mbpoll") is None, reason="mbpoll is not installed")


@pytest_asyncio.fixture
async def tool() -> AsyncIterator[tuple[SimStencilPrinter, str]]:
    twin = TwinStore(WaferSpec(diameter_mm=60, die_size_mm=(4.0, 4.0), pads_per_die_side=4))
    sealed_solder_bumps(twin.receive("W03"), 60.0)  # 27.8 um of tip under the 30 um stencil
    sim = SimStencilPrinter("stencil_printer", twin, VirtualClock())
    address = await sim.start()
    yield sim, address.rsplit(":", 1)[1]
    await sim.stop()


def pair(values: dict[int, int], address: int) -> int:
    """A 32-bit value, high word first."""
    return (values[address] << 16) | values[address + 1]


async def test_mbpoll_reads_the_status_block_of_an_empty_printer(tool):
    _, port = tool
    code, out, _ = await mbpoll(port, "-r", "0", "-c", "21")
    assert code == 0
    values = mbpoll_registers(out)
    assert values[0] == 0  # PHASE ready
    assert values[2] == 0b101  # INTERLOCKS: door closed, stencil clamped, no workpiece
    assert values[8] == 0  # WAFER_LOADED


async def test_mbpoll_runs_a_print_by_the_page(tool):
    sim, port = tool
    wafer_id = [str(v) for v in ascii_to_registers("W03", 8)]
    assert (await mbpoll(port, "-r", "301", *wafer_id))[0] == 0
    assert (await mbpoll(port, "-r", "300", "1"))[0] == 0  # LOAD_WAFER
    # the job: a 30 um stencil, 100 um apertures, 60.0 N, 40 mm/s, 1.0 mm/s, Sn63Pb37
    assert (await mbpoll(port, "-r", "200", "30", "100", "600", "40", "10", "1"))[0] == 0
    assert (await mbpoll(port, "-r", "300", "3"))[0] == 0  # PRINT
    _, out, _ = await mbpoll(port, "-r", "0")
    assert mbpoll_registers(out) == {0: 1}  # printing
    assert sim.cycle is not None
    await sim.clock.sleep(sim.cycle.ends_s - sim.clock.now())
    _, out, _ = await mbpoll(port, "-r", "0", "-c", "19")
    values = mbpoll_registers(out)
    bumps = int(sim.twin.get("W03").bumps.present.sum())
    assert (values[0], values[6], values[7]) == (0, 1, 1)  # ready, one print, completed
    assert pair(values, 9) == bumps  # DEPOSITS
    # the SPI, by the page, against each aperture's whole 236 pl (the printer is told nothing
    # of the tip): the mean deposit, about 123 pl, 91.1 % of the 134 pl the tip leaves open,
    # reads 52.1 %, the smallest 44.2 %; 399 deposits are under 50 % of the aperture
    assert [values[i] for i in range(11, 19)] == [521, 442, 0, 123, 0, 399, 0, 0]


async def test_mbpoll_sees_the_documented_refusals(tool):
    _, port = tool
    code, _, err = await mbpoll(port, "-r", "201", "1200")  # 1200 um, above 1000 um
    assert code != 0
    assert "Illegal data value" in err
    _, out, _ = await mbpoll(port, "-r", "19", "-c", "2")
    assert mbpoll_registers(out) == {19: 201, 20: 4}  # refused register, out of range
    code, _, err = await mbpoll(port, "-r", "300", "3")  # PRINT with no workpiece
    assert code != 0
    _, out, _ = await mbpoll(port, "-r", "20")
    assert mbpoll_registers(out) == {20: 3}  # an interlock is open: wafer_present
