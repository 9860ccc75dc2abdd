"""How much each link adds to the library call under it, on loopback: `python bench/links.py`.

For Modbus TCP, VISA (TCPIP SOCKET) and serial (`socket://`), the median and p99 latency of one
query through the link is measured next to the raw library call on the same simulated server in
the same run. The servers run in a process of their own, so a blocking raw call (PyVISA,
pyserial) never stalls them, and a server never holds the GIL that the call it answers needs
(a server thread in the measuring process could, up to the 5 ms switch interval). Variants
are measured in interleaved rounds so that drift of the machine affects them alike.

PyVISA blocks, so `VisaLink` must hop to a worker thread; the fair baseline for it is the raw
call through the same kind of hop, printed as well (`to_thread` and a dedicated one-thread
executor, the latter being what `VisaLink` uses).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from typing import Any, NamedTuple, TypeVar

import pyvisa
import serial
import serial_asyncio_fast
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.simulator import DataType, SimData, SimDevice

from packline.drivers.links import ModbusLink, SerialLink, VisaLink
from packline.sim_instruments.servers import ModbusToolServer, TextToolServer

T = TypeVar("T")

IDN = "ACME,BENCH,0,1.0"

#: Issue 17, goal 3: each link's query at most this many times the raw library call's, both
#: median and p99 (VISA against the raw call through the same thread hop).
GOAL_RATIO = 1.10


async def scpi(line: str) -> str | None:
    return IDN if line == "*IDN?" else None


class ServerThread:
    """An event loop in a background thread that runs the simulated tools."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="servers", daemon=True)

    def __enter__(self) -> ServerThread:
        self.thread.start()
        return self

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=10)

    def __exit__(self, *exc_info: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()


class Addresses(NamedTuple):
    """Where the servers of `serve` listen."""

    modbus_port: int
    modbus: str
    visa: str
    serial: str


def serve(connection: Connection) -> None:
    """The servers' process: start them, send their `Addresses`, serve until told to stop."""

    async def run() -> None:
        modbus, visa, serial_ = servers = await start_servers()
        connection.send(Addresses(modbus.port, modbus.address, visa.address, serial_.address))
        await asyncio.get_running_loop().run_in_executor(None, connection.recv)
        await stop_servers(servers)

    asyncio.run(run())


class ServerProcess:
    """The simulated tools served by a process of their own (`serve`)."""

    def __init__(self) -> None:
        self.connection, child_end = multiprocessing.Pipe()
        self.process = multiprocessing.get_context("fork").Process(
            target=serve, args=(child_end,), name="servers", daemon=True
        )

    def __enter__(self) -> Addresses:
        self.process.start()
        if not self.connection.poll(10):
            raise RuntimeError("the servers' process did not start within 10 s")
        addresses: Addresses = self.connection.recv()
        return addresses

    def __exit__(self, *exc_info: object) -> None:
        self.connection.send(None)
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()


async def start_servers() -> tuple[ModbusToolServer, TextToolServer, TextToolServer]:
    device = SimDevice(
        id=1, simdata=[SimData(100, count=10, values=7, datatype=DataType.REGISTERS)]
    )
    servers = (
        ModbusToolServer(device),
        TextToolServer(scpi, address_form="visa"),
        TextToolServer(scpi, address_form="serial"),
    )
    for server in servers:
        await server.start()
    return servers


async def stop_servers(servers: tuple[Any, ...]) -> None:
    for server in servers:
        await server.stop()


Call = Callable[[], Awaitable[object]]


class Samples(NamedTuple):
    """What `measure` found of each variant, in microseconds: every call's latency, and each
    round's CPU per call (this process's, its threads' included: the servers run in another)."""

    latency: dict[str, list[float]]
    cpu: dict[str, list[float]]


async def measure(variants: dict[str, Call], iterations: int, rounds: int) -> Samples:
    """Each variant measured in interleaved rounds after a warm-up. The CPU a call costs is
    what the other processes of a shared machine change least: a link's p99 there is the
    scheduler's more than the link's."""
    samples = Samples({name: [] for name in variants}, {name: [] for name in variants})
    for call in variants.values():
        for _ in range(200):
            await call()
    per_round = max(1, iterations // rounds)
    for _ in range(rounds):
        for name, call in variants.items():
            times = samples.latency[name]
            cpu_started = time.process_time()
            for _ in range(per_round):
                started = time.perf_counter()
                await call()
                times.append((time.perf_counter() - started) * 1e6)
            samples.cpu[name].append((time.process_time() - cpu_started) / per_round * 1e6)
    return samples


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


def header(calls: int, goal: str = "") -> str:
    """The first line of a table of `report`s, with the `goal` the ratios have, if any."""
    return (
        f"{'':<46} {'median':>8} {'p99':>8} {'ratio':>7} {'p99 r.':>7} {'cpu':>7} {'cpu r.':>7}"
        f"   (µs, loopback, {calls} calls{'; goal: ' + goal if goal else ''})"
    )


def report(title: str, samples: Samples, baseline: str, names: tuple[str, ...] = ()) -> list[str]:
    """A table of the variants `names` (default: all) against `baseline`; cpu is the median
    of the rounds' CPU per call."""
    latency, cpu = samples.latency, samples.cpu
    base_median, base_p99 = statistics.median(latency[baseline]), p99(latency[baseline])
    base_cpu = statistics.median(cpu[baseline])
    lines = [title]
    for name in names or tuple(latency):
        median, tail = statistics.median(latency[name]), p99(latency[name])
        work = statistics.median(cpu[name])
        lines.append(
            f"  {name:<44} {median:8.1f} {tail:8.1f} {median / base_median:7.2f}"
            f" {tail / base_p99:7.2f} {work:7.1f} {work / base_cpu:7.2f}"
            + ("  (baseline)" if name == baseline else "")
        )
    return lines


async def bench(servers: Addresses, args: argparse.Namespace) -> None:
    out = [header(args.n, f"ratios at most {GOAL_RATIO:.2f}")]

    # ---- Modbus TCP -------------------------------------------------------------------------
    raw = AsyncModbusTcpClient("127.0.0.1", port=servers.modbus_port, retries=0)
    await raw.connect()
    async with ModbusLink(servers.modbus, tool="bench") as link:
        samples = await measure(
            {
                "pymodbus read_holding_registers (raw)": lambda: raw.read_holding_registers(
                    100, count=2, device_id=1
                ),
                "ModbusLink.read_holding_registers": lambda: link.read_holding_registers(100, 2),
            },
            args.n,
            args.rounds,
        )
    raw.close()
    out += report("Modbus TCP", samples, "pymodbus read_holding_registers (raw)")

    # ---- VISA TCPIP SOCKET ------------------------------------------------------------------
    manager = pyvisa.ResourceManager("@py")
    resource = manager.open_resource(
        servers.visa, read_termination="\n", write_termination="\n", timeout=2000
    )
    executor = ThreadPoolExecutor(1)
    loop = asyncio.get_running_loop()

    async def blocking_in_loop() -> object:
        return resource.query("*IDN?")

    async with VisaLink(servers.visa, tool="bench") as link:
        samples = await measure(
            {
                "PyVISA query, blocking (raw)": blocking_in_loop,
                "PyVISA query via asyncio.to_thread": lambda: asyncio.to_thread(
                    resource.query, "*IDN?"
                ),
                "PyVISA query via one-thread executor": lambda: loop.run_in_executor(
                    executor, resource.query, "*IDN?"
                ),
                "VisaLink.query": lambda: link.query("*IDN?"),
            },
            args.n,
            args.rounds,
        )
    resource.close()
    executor.shutdown()
    out += report("VISA TCPIP SOCKET", samples, "PyVISA query, blocking (raw)")
    out += report(
        "VISA, against the fair async baseline (same thread hop as VisaLink)",
        samples,
        "PyVISA query via one-thread executor",
        ("PyVISA query via one-thread executor", "VisaLink.query"),
    )

    # ---- serial socket:// -------------------------------------------------------------------
    port = serial.serial_for_url(servers.serial, timeout=2)
    reader, writer = await serial_asyncio_fast.open_serial_connection(url=servers.serial)

    async def pyserial_blocking() -> object:
        port.write(b"*IDN?\n")
        return port.read_until(b"\n")

    async def asyncio_fast_raw() -> object:
        writer.write(b"*IDN?\n")
        return await reader.readuntil(b"\n")

    async with SerialLink(servers.serial, tool="bench") as link:
        samples = await measure(
            {
                "pyserial-asyncio-fast write+readuntil (raw)": asyncio_fast_raw,
                "pyserial write+read_until, blocking": pyserial_blocking,
                "SerialLink.query": lambda: link.query("*IDN?"),
            },
            args.n,
            args.rounds,
        )
    writer.close()
    port.close()
    out += report("serial socket://", samples, "pyserial-asyncio-fast write+readuntil (raw)")

    print("\n".join(out))
    print(
        "\nratio = median / baseline median, p99 r. = p99 / baseline p99,"
        "\ncpu = this process's CPU per call (its threads' too), cpu r. = cpu / baseline cpu."
        "\nVisaLink must leave the loop for a worker thread"
        "\n(PyVISA blocks), so its fair baseline is the raw call through the same hop;"
        "\nthe blocking raw call is what a script without asyncio would see."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5000, help="calls per variant (default 5000)")
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds (default 10)")
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}")
    with ServerProcess() as servers:
        asyncio.run(bench(servers, args))


if __name__ == "__main__":
    main()
