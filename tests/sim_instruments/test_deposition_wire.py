"""An independent client: Debian's mbpoll drives the simulated deposition tool by its page.

The tool runs on a clock 2000 times as fast as the wall clock, so its pump-down and a deposition
pass while mbpoll polls it, as they would for a client of a real tool.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from packline.clock import ScaledClock
from packline.drivers.links.registers import ascii_to_registers
from packline.sim_instruments.deposition import SimDepositionTool
from packline.sim_instruments.twin import TwinStore
from packline.testing.clients import mbpoll, mbpoll_registers

pytestmark = pytest.mark.skipif(shutil.which("mbpoll") is None, reason="mbpoll is not installed")

#: Step 0 of the page's recipe block (210-218): sputter (1) Cu (3), 1000 W, rate 0, 3.0 mTorr,
#: Ar (1), 40 sccm, 120.0 s, timed (thickness 0).
CU_STEP = [1, 3, 1000, 0, 30, 1, 40, 1200, 0]


@pytest_asyncio.fixture
async def tool() -> AsyncIterator[tuple[SimDepositionTool, str]]:
    sim = SimDepositionTool("deposition", TwinStore(), ScaledClock(2000))
    address = await sim.start()
    yield sim, address.rsplit(":", 1)[1]
    await sim.stop()


async def write(port: str, address: int, *values: int) -> None:
    code, _, err = await mbpoll(port, "-r", str(address), *(str(v) for v in values))
    assert code == 0, err


async def read(port: str, address: int, count: int = 1) -> list[int]:
    code, out, err = await mbpoll(port, "-r", str(address), "-c", str(count))
    assert code == 0, err
    return list(mbpoll_registers(out).values())


async def poll_until(port: str, address: int, done, what: str) -> None:
    """Read register `address` until `done(value)`, as a client watching the tool would (at
    most 500 reads, 20 ms apart)."""
    for _ in range(500):
        if done((await read(port, address))[0]):
            return
        await asyncio.sleep(0.02)
    pytest.fail(f"register {address}: {what} did not come")


async def load_and_evacuate(port: str, wafer_id: str) -> None:
    await write(port, 301, 0, *ascii_to_registers(wafer_id, 8))  # slot 0 + wafer id
    await write(port, 300, 8)  # LOAD_WAFER
    await write(port, 300, 6)  # CLOSE_DOOR
    await write(port, 300, 1)  # PUMP_DOWN
    await poll_until(port, 0, lambda state: state == 2, "evacuated")


async def test_mbpoll_reads_the_status_block_and_the_sources_of_a_vented_chamber(tool):
    _, port = tool
    values = await read(port, 0, 25)
    assert values[0] == 0  # CHAMBER_STATE vented
    assert (values[3] << 16) | values[4] == 7_600_000  # PRESSURE 0.1 mTorr, high word first
    assert (values[5] << 16) | values[6] == 100_000  # HIGH_VACUUM at the ion gauge's top
    assert (values[20], values[24]) == (4, 100)  # SLOT_CAPACITY, CRYSTAL_LIFE
    sources = await read(port, 104, 24)
    pairs = list(zip(sources[::2], sources[1::2], strict=True))
    assert pairs[:5] == [(1, 1), (1, 2), (1, 3), (1, 4), (1, 5)]  # sputter Ti TiW Cu Ni Au
    assert pairs[9:] == [(3, 6), (3, 7), (0, 0)]  # cvd SiO2, SiN; no twelfth source


async def test_mbpoll_runs_a_deposition_from_the_page_alone(tool):
    sim, port = tool
    await load_and_evacuate(port, "LOT7-W03")
    await write(port, 200, 1, 50)  # one step, base pressure 5.0 uTorr
    await write(port, 210, *CU_STEP)
    await poll_until(port, 2, lambda bits: bits & 0b10, "base pressure interlock closed")
    await write(port, 300, 3)  # START_RECIPE
    await poll_until(port, 17, lambda completed: completed == 1, "run finished")
    assert await read(port, 18) == [1]  # LAST_RESULT completed
    (thickness,) = await read(port, 128)  # the crystal's step 0, 0.1 nm
    assert thickness == pytest.approx(10 * 1.5 / 1.1 * 120, abs=2)  # 163.6 nm of Cu
    (film,) = sim.twin.get("LOT7-W03").films.layers
    assert film.thickness_um.max() * 10_000 == pytest.approx(thickness, abs=2)


async def test_mbpoll_sees_the_tools_own_refusals_of_a_step(tool):
    _, port = tool
    await load_and_evacuate(port, "W01")
    await write(port, 200, 1, 500)  # base pressure 50.0 uTorr
    # evaporate (2) Cu with 1000 W of DC power: the step does not fit its method
    await write(port, 210, 2, 3, 1000, 100, 0, 0, 0, 1200, 0)
    await poll_until(port, 2, lambda bits: bits & 0b10, "base pressure interlock closed")
    code, _, err = await mbpoll(port, "-r", "300", "3")
    assert code != 0
    assert "Illegal data value" in err
    assert await read(port, 22, 2) == [210, 10]  # REFUSED_REGISTER, STEP_MISMATCH
    # evaporate TiW (2) at 1 nm/s fits the method, but no pocket holds TiW
    await write(port, 210, 2, 2, 0, 100, 0, 0, 0, 1200, 0)
    code, _, _ = await mbpoll(port, "-r", "300", "3")
    assert code != 0
    assert await read(port, 22, 2) == [210, 9]  # NO_SOURCE
    code, _, err = await mbpoll(port, "-r", "213", "600")  # 6 nm/s: beyond the machine range
    assert "Illegal data value" in err
    assert await read(port, 22, 2) == [213, 4]
