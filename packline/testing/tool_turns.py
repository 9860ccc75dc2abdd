"""Under pytest-xdist, the station tests take turns at each tool: one test drives it at a time.

The pytest that starts xdist's workers holds every tool of the `--station` file against runs
and other sessions (`packline.line_lock`); its workers share that hold. Spread over them, the
tests of one tool ran at the same moment: two processes opened the oven's RS-485 port and their
bytes interleaved, and on any tool one worker's safe state would abort another's dry job
mid-motion. So each test takes the tools it drives, for its whole duration, in a lock folder
of the session's own that the controlling pytest hands to every worker (`WORKER_INPUT_KEY`),
whatever the `--dist` mode: tests of different tools still run side by side.

A test takes its tools before it drives any, all at once or none (`ToolTurns.take`): the
tool of its `station_tool` parameter and those its `station_tools` marker names, when the
`station` fixture is set up; else the tool it first opens (`station.open_tool`). Waiting for
them, it holds none: no two tests can each wait for a tool the other holds, whatever order
they name them in. A test that already holds a tool and opens another takes it only if it is
free (`ToolTurns.take_now`), failing at once otherwise, naming the marker that would have taken
both together. A wait goes in a queue per tool (a second lock held while waiting), so a
worker whose next test wants the tool it just released queues behind the one waiting for it;
it ends after `--station-tool-wait` seconds, failing the test naming the tool, the worker that
holds it and its test.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Collection
from pathlib import Path

import pytest
from pydantic import PrivateAttr

from packline.clock import Clock
from packline.drivers.equipment import Equipment
from packline.line_lock import Holder, LineBusy, hold_tools, tool_addresses
from packline.station import Station

#: The key of xdist's `workerinput` that hands each worker the session's folder of tool turns.
WORKER_INPUT_KEY = "packline_tool_turns"
#: How long a test waits for its turn at a tool by default (`--station-tool-wait`): three times
#: the longest dry job of packline's checks, an oven's ten-minute nitrogen purge, so that
#: queueing behind another worker's test of the tool never reaches it on a sound line, while a
#: test stuck on a tool fails the one waiting within half an hour instead of hanging the run.
DEFAULT_WAIT_S = 1800.0
#: How often a waiting test tries its turn again.
POLL_S = 0.1
#: What a holder of a tool's turn says to the test that waits for it.
UNTIL_ITS_TEST_ENDS = (
    "it drives the tool until that test ends (`--station-tool-wait` says how long to wait)"
)


class ToolTurns:
    """The tools one test of an xdist worker holds, each until the test ends (`release`)."""

    def __init__(
        self, station: Station, folder: Path, worker: str, test: str, wait_s: float
    ) -> None:
        self.station, self.wait_s = station, wait_s
        self._folder, self._queue = folder, folder / "queue"
        self._queue.mkdir(exist_ok=True)
        self._holder = Holder.here(f"worker {worker} in test {test}", UNTIL_ITS_TEST_ENDS)
        self._held_tools: set[str] = set()
        self._held = contextlib.ExitStack()

    def take(self, names: Collection[str]) -> None:
        """Take the tools `names` for the rest of the test, every one or none, waiting for them
        in each one's queue (holding a place in it, never a tool) at most `wait_s`; past it,
        fail the test naming the tool, who holds it and their test."""
        addresses = self._addresses(names)
        deadline = time.monotonic() + self.wait_s
        with contextlib.ExitStack() as place:
            self._wait(addresses, deadline, self._queue, place)
            self._wait(addresses, deadline, self._folder, self._held)
        self._held_tools.update(names)

    def take_to_open(self, name: str) -> None:
        """The turn of the tool `name`, which the test opens: nothing more if it holds it;
        waited for if it holds no tool; else taken only if free (`take_now`)."""
        if name in self._held_tools:
            return
        if self._held_tools:
            self.take_now(name)
        else:
            self.take([name])

    def take_now(self, name: str) -> None:
        """Take the tool `name` if no other test holds it or waits for it; else fail the test
        at once: it holds tools already, and a test holding a tool that waited for another
        could wait for a test waiting for one of its own."""
        addresses = self._addresses([name])
        try:
            with hold_tools(addresses, self._holder, self._queue):
                self._held.enter_context(hold_tools(addresses, self._holder, self._folder))
        except LineBusy as busy:
            together = ", ".join(repr(tool) for tool in sorted({*self._held_tools, name}))
            pytest.fail(
                f"{self._who_has(addresses, busy)}; this test holds "
                f"{', '.join(sorted(self._held_tools))} already, and a test holding a tool "
                "never waits for another (two tests could each wait for one the other holds): "
                f"name every tool it drives, @pytest.mark.station_tools({together}), to take "
                "them together before it starts",
                pytrace=False,
            )
        self._held_tools.add(name)

    def release(self) -> None:
        """Hand every tool this test took on to the next test that waits for it."""
        self._held.close()
        self._held_tools.clear()

    def _addresses(self, names: Collection[str]) -> dict[str, str]:
        """Each address of the tools `names` -> its tool's name."""
        every = tool_addresses(self.station)
        return {address: tool for address, tool in every.items() if tool in names}

    def _wait(
        self,
        addresses: dict[str, str],
        deadline: float,
        folder: Path,
        into: contextlib.ExitStack,
    ) -> None:
        """Hold `addresses` in `folder` into `into`, trying until `deadline`."""
        while True:
            try:
                into.enter_context(hold_tools(addresses, self._holder, folder))
                return
            except LineBusy as busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    pytest.fail(self._waited_too_long(addresses, busy), pytrace=False)
                time.sleep(min(POLL_S, left))

    def _waited_too_long(self, addresses: dict[str, str], busy: LineBusy) -> str:
        return (
            f"waited {self.wait_s:g} s (--station-tool-wait) for its turn: "
            f"{self._who_has(addresses, busy)}"
        )

    def _who_has(self, addresses: dict[str, str], busy: LineBusy) -> str:
        """Who has the tools at `addresses` that `busy` refused: the test that drives one
        (tried again now, as a place in the queue names only the waiter ahead), else the test
        next in its queue."""
        try:
            with hold_tools(addresses, self._holder, self._folder):
                pass
        except LineBusy as driven:
            return str(driven)
        return f"tool {busy.tool} is wanted next by {busy.holder.what}"


class StationInTurns(Station):
    """The `--station` station as a test on an xdist worker has it: `open_tool` takes the
    tool's turn (`ToolTurns.take_to_open`) before it builds the driver."""

    _turns: ToolTurns = PrivateAttr()

    @classmethod
    def of(cls, station: Station, turns: ToolTurns) -> StationInTurns:
        """`station`, its tools opened in `turns`."""
        taking = cls.model_construct(station.model_fields_set, **dict(station))
        if taking.__pydantic_private__ is not None and station.__pydantic_private__ is not None:
            taking.__pydantic_private__.update(
                station.__pydantic_private__
            )  # what it was read from
        taking._turns = turns
        return taking

    def open_tool(self, name: str, clock: Clock | None = None) -> Equipment:
        driver = super().open_tool(name, clock)  # an unknown name refused first
        self._turns.take_to_open(name)
        return driver
