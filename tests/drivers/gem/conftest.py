"""Simulated GEM tools on HSMS and the GEM host driver connected to them, in virtual time."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
import secsgem.gem

from packline.clock import ScaledClock, VirtualClock
from packline.drivers.gem.dictionary import load_dictionary
from packline.drivers.gem.equipment import GemEquipment as GemDriver
from packline.drivers.links import open_link
from packline.drivers.registry import tool_kind
from packline.drivers.secs.link import SecsLink
from packline.sim_instruments.gem.equipment import GemEquipment
from packline.sim_instruments.gem.model import GemModel
from packline.sim_instruments.twin import TwinStore, WaferSpec

SMALL = WaferSpec(diameter_mm=100, pads_per_die_side=4)  # 784 pads: a run of about 80 s


@dataclass
class GemBench:
    """One simulated GEM tool of `kind` and the drivers connected to it, on one virtual clock."""

    kind: str = "wire_bonder"
    clock: VirtualClock = field(default_factory=lambda: VirtualClock(checks=True))
    twin: TwinStore = field(default_factory=lambda: TwinStore(SMALL))
    equipment: GemEquipment | None = None
    drivers: list[GemDriver] = field(default_factory=list)

    @property
    def model(self) -> GemModel:
        assert self.equipment is not None
        return self.equipment.model

    async def serve(self) -> str:
        model = tool_kind(self.kind).load_gem_simulator()(self.kind, self.twin, self.clock)
        self.equipment = GemEquipment(load_dictionary(self.kind), model, clock=self.clock)
        return await self.equipment.start()

    async def driver(self, connect: bool = True, **options: object) -> GemDriver:
        address = self.equipment.address if self.equipment else await self.serve()
        options.setdefault("timeout_s", 2.0)
        link = open_link(address, tool=self.kind, clock=self.clock, **options)
        assert isinstance(link, SecsLink)
        driver = tool_kind(self.kind).load_gem_driver()(link, dictionary=self.kind)
        self.drivers.append(driver)
        if connect:
            await driver.connect()
        return driver

    def events_sent(self) -> list[str]:
        """From now on, the events the equipment sends, in order."""
        assert self.equipment is not None
        sent: list[str] = []
        send_event = self.equipment.send_event

        async def spy(name: str) -> None:
            sent.append(name)
            await send_event(name)

        self.equipment.send_event = spy  # type: ignore[method-assign]
        return sent

    def values_received(self) -> dict[str, Any]:
        """From now on, the last value of each equipment constant (S2F15, a job's S16F11) and
        remote command parameter (S2F41) the tool took, by the role's names, as it read them off
        the wire (a tool behind a PLC rounds them to its registers after)."""
        model = self.model
        received: dict[str, Any] = {}
        set_constants, command = model.set_constants, model.command

        def constants_spy(values: Mapping[str, Any]) -> None:
            set_constants(values)
            received.update(values)

        async def command_spy(name: str, parameters: Mapping[str, Any]) -> int:
            received.update(parameters)
            return await command(name, parameters)

        model.set_constants = constants_spy  # type: ignore[method-assign]
        model.command = command_spy  # type: ignore[method-assign]
        return received

    def heard_at_events(self) -> dict[str, list[str]]:
        """From now on, for each event the equipment sends, what it had received by then (by
        event name; the last message tells whether the driver polled while it waited)."""
        equipment = self.equipment
        assert equipment is not None
        heard: dict[str, list[str]] = {}
        send_event = equipment.send_event

        async def spy(name: str) -> None:
            heard[name] = list(equipment.received)
            await send_event(name)

        equipment.send_event = spy  # type: ignore[method-assign]
        return heard

    async def close(self) -> None:
        for driver in self.drivers:
            await driver.close()
        if self.equipment is not None:
            await self.equipment.stop()


@pytest.fixture
async def bench() -> AsyncIterator[GemBench]:
    """The simulated GEM wire bonder."""
    bench = GemBench()
    yield bench
    await bench.close()


@pytest.fixture
async def saw_bench() -> AsyncIterator[GemBench]:
    """The simulated GEM dicing saw."""
    bench = GemBench("dicing_saw", twin=TwinStore())
    yield bench
    await bench.close()


@pytest.fixture
async def grinder_bench() -> AsyncIterator[GemBench]:
    """The simulated GEM grinder."""
    bench = GemBench("grinder", twin=TwinStore())
    yield bench
    await bench.close()


@pytest.fixture
async def plasma_bench() -> AsyncIterator[GemBench]:
    """The simulated GEM plasma cleaner."""
    bench = GemBench("plasma_cleaner", twin=TwinStore())
    yield bench
    await bench.close()


@pytest.fixture
async def oven_bench() -> AsyncIterator[GemBench]:
    """The simulated GEM oven."""
    bench = GemBench("oven", twin=TwinStore())
    yield bench
    await bench.close()


@pytest.fixture
async def laminator_bench() -> AsyncIterator[GemBench]:
    """The simulated GEM laminator."""
    bench = GemBench("laminator")
    yield bench
    await bench.close()


@pytest.fixture
async def deposition_bench() -> AsyncIterator[GemBench]:
    """The simulated GEM deposition chamber."""
    bench = GemBench("deposition")
    yield bench
    await bench.close()


# secsgem as the independent peer: the HSMS tests' fixtures (they carry the workarounds for
# secsgem 0.3.0's thread races, described there).
from ..secs.conftest import (  # noqa: E402, F401
    HANG_GUARD_TIMERS,
    SECSGEM_HANG_GUARD_S,
    raw_server,
    secsgem_equipment,
    start_secsgem,
    stop_secsgem,
)


class SecsgemHost:
    """secsgem's GEM host, communicating and online with a simulated GEM tool: the events and
    alarms it received, counted as they arrive (on secsgem's threads)."""

    def __init__(self, host: secsgem.gem.GemHostHandler) -> None:
        self.host = host
        self.events: list[dict] = []
        self.alarms: list[dict] = []
        self._arrivals = threading.Semaphore(0)
        host.events.collection_event_received += lambda data: self._arrive(self.events, data)
        host.events.alarm_received += lambda data: self._arrive(self.alarms, data)

    def _arrive(self, where: list[dict], data: dict) -> None:
        where.append(data)
        self._arrivals.release()

    async def arrived(self) -> bool:
        """Wait (10 s at most) for the next event or alarm."""
        return await asyncio.to_thread(self._arrivals.acquire, True, 10)

    async def command(self, rcmd: str, params: list[list[object]]) -> int:
        """S2F41 from secsgem's host; its HCACK."""
        reply = await asyncio.to_thread(self.host.send_remote_command, rcmd, params)
        return int(reply.HCACK.get())


SecsgemDrives = Callable[[str, TwinStore], Awaitable[tuple[GemModel, GemEquipment, SecsgemHost]]]


@pytest.fixture
async def secsgem_drives() -> AsyncIterator[SecsgemDrives]:
    """Serve the simulated GEM tool of a kind on a twin, on a clock 1000 times the wall's (a
    run of minutes of process time takes a fraction of a second), and connect secsgem's GEM
    host to it, communicating and online: its model, its equipment and the host. After the
    test secsgem's host is disabled while the equipment still serves (so that it never retries
    a refused connection, see `stop_secsgem`), then the equipment stops."""
    served: list[GemEquipment] = []
    hosts: list[secsgem.gem.GemHandler] = []

    async def serve(kind: str, twin: TwinStore) -> tuple[GemModel, GemEquipment, SecsgemHost]:
        clock = ScaledClock(1000)
        model = tool_kind(kind).load_gem_simulator()(kind, twin, clock)
        equipment = GemEquipment(
            load_dictionary(kind), model, clock=clock, timers=HANG_GUARD_TIMERS
        )
        served.append(equipment)
        await equipment.start()
        port = int(equipment.address.rsplit(":", 1)[1])
        hosts.append(await start_secsgem(secsgem.gem.GemHostHandler, port, active=True))
        peer = SecsgemHost(hosts[-1])
        assert await asyncio.to_thread(peer.host.waitfor_communicating, SECSGEM_HANG_GUARD_S)
        assert await asyncio.to_thread(peer.host.go_online) is not None
        return model, equipment, peer

    yield serve
    for host in hosts:
        await stop_secsgem(host)
    for equipment in served:
        await equipment.stop()
