"""An independent client: Debian's mbpoll drives the simulated ball-mount cell by its protocol
page, through a whole flux, mount and inspection on a loaded wafer."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from packline.clock import VirtualClock
from packline.drivers.links.registers import ascii_to_registers
from packline.sim_instruments.ball_mounter import SimBallMounter
from packline.sim_instruments.twin import TwinStore, WaferSpec
from packline.testing.clients import mbpoll, mbpoll_registers

pytestmark = pytest.mark.skipif(shutil.which("mbpoll") is None, reason="mbpoll is not installed")


@pytest_asyncio.fixture
async def tool() -> AsyncIterator[tuple[SimBallMounter, str]]:
    twin = TwinStore(WaferSpec(diameter_mm=60, die_size_mm=(4.0, 4.0), pads_per_die_side=4))
    sim = SimBallMounter("ball_mounter", twin, VirtualClock())
    address = await sim.start()
    yield sim, address.rsplit(":", 1)[1]
    await sim.stop()


def pair(values: dict[int, int], address: int) -> int:
    """A 32-bit value, high word first."""
    return (values[address] << 16) | values[address + 1]


async def test_mbpoll_reads_the_status_block_of_an_empty_cell(tool):
    _, port = tool
    code, out, _ = await mbpoll(port, "-r", "0", "-c", "22")
    assert code == 0
    values = mbpoll_registers(out)
    assert values[0] == 0  # PHASE ready
    assert values[2] == 0b101  # INTERLOCKS: door closed, balls in the reservoir, no workpiece
    assert values[8] == 0  # WAFER_LOADED


async def test_mbpoll_runs_flux_mount_and_inspection_by_the_page(tool):
    sim, port = tool
    wafer_id = [str(v) for v in ascii_to_registers("W03", 8)]
    assert (await mbpoll(port, "-r", "301", *wafer_id))[0] == 0
    assert (await mbpoll(port, "-r", "300", "1"))[0] == 0  # LOAD_WAFER
    # the whole job block: 200 um SAC305 on the front, positions 0-15, printed flux 60.0 um
    block = ["200", "1", "1", "65535", *["0"] * 15, "1", "600"]
    assert (await mbpoll(port, "-r", "200", *block))[0] == 0
    for command, phase in (("3", 1), ("4", 2), ("5", 3)):  # APPLY_FLUX, MOUNT_BALLS, INSPECT
        assert (await mbpoll(port, "-r", "300", command))[0] == 0
        _, out, _ = await mbpoll(port, "-r", "0")
        assert mbpoll_registers(out) == {0: phase}
        assert sim.cycle is not None
        await sim.clock.sleep(sim.cycle.ends_s - sim.clock.now())
    _, out, _ = await mbpoll(port, "-r", "0", "-c", "20")
    values = mbpoll_registers(out)
    sites = sim.twin.get("W03").geometry.site_count
    assert (values[0], values[6], values[7], values[9]) == (0, 3, 1, 1)  # ready, 3 cycles, done
    assert pair(values, 10) == sites  # BALLS_PLACED
    assert pair(values, 12) == sites  # SITES_INSPECTED
    assert (pair(values, 14), pair(values, 16)) == (0, 0)  # missing, extra
    assert pair(values, 18) == 0  # bridged: 200 um balls clear the corner pads' 283 um


async def test_mbpoll_sees_the_documented_refusals(tool):
    _, port = tool
    code, _, err = await mbpoll(port, "-r", "200", "900")  # 900 um, above 760 um
    assert code != 0
    assert "Illegal data value" in err
    _, out, _ = await mbpoll(port, "-r", "20", "-c", "2")
    assert mbpoll_registers(out) == {20: 200, 21: 4}  # refused register, out of range
    code, _, err = await mbpoll(port, "-r", "300", "5")  # INSPECT with no workpiece
    assert code != 0
    _, out, _ = await mbpoll(port, "-r", "21")
    assert mbpoll_registers(out) == {21: 3}  # an interlock is open: wafer_present
