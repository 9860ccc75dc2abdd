"""A simulated GEM wire bonder on HSMS and the GEM host driver connected to it, in virtual time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from packline.clock import VirtualClock
from packline.drivers.gem.dictionary import load_dictionary
from packline.drivers.gem.wire_bonder import GemWireBonder
from packline.drivers.links import open_link
from packline.sim_instruments.gem.equipment import GemEquipment
from packline.sim_instruments.gem.wire_bonder import GemWireBonderModel
from packline.sim_instruments.twin import TwinStore, WaferSpec

SMALL = WaferSpec(diameter_mm=100, pads_per_die_side=4)  # 784 pads: a run of about 80 s


@dataclass
class GemBench:
    """One simulated GEM bonder and the drivers connected to it, on one virtual clock."""

    clock: VirtualClock = field(default_factory=lambda: VirtualClock(checks=True))
    twin: TwinStore = field(default_factory=lambda: TwinStore(SMALL))
    equipment: GemEquipment | None = None
    drivers: list[GemWireBonder] = field(default_factory=list)

    @property
    def model(self) -> GemWireBonderModel:
        assert self.equipment is not None
        model = self.equipment.model
        assert isinstance(model, GemWireBonderModel)
        return model

    async def serve(self) -> str:
        model = GemWireBonderModel("bonder", self.twin, self.clock)
        self.equipment = GemEquipment(load_dictionary("wire_bonder"), model, clock=self.clock)
        return await self.equipment.start()

    async def driver(self, connect: bool = True, **options: object) -> GemWireBonder:
        address = self.equipment.address if self.equipment else await self.serve()
        options.setdefault("timeout_s", 2.0)
        link = open_link(address, tool="bonder", clock=self.clock, **options)
        driver = GemWireBonder(link, dictionary="wire_bonder")  # type: ignore[arg-type]
        self.drivers.append(driver)
        if connect:
            await driver.connect()
        return driver

    async def close(self) -> None:
        for driver in self.drivers:
            await driver.close()
        if self.equipment is not None:
            await self.equipment.stop()


@pytest.fixture
async def bench() -> AsyncIterator[GemBench]:
    bench = GemBench()
    yield bench
    await bench.close()


# secsgem as the independent peer: the HSMS tests' fixtures (they carry the workarounds for
# secsgem 0.3.0's thread races, described there).
from ..secs.conftest import free_port, raw_server, secsgem_handler  # noqa: E402, F401
