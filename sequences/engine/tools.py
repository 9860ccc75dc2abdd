"""Tools as shared resources: each has a capacity (station `capacity`), wafers queue for them.

A wafer holds one unit of a tool while it uses it (`Wafer.use`); a batch holds all of them.
Waiters are served first come, first served among those the freed tool can serve, which is
what makes a lot pipeline through the line: wafer 2 takes the first tool the moment wafer 1
leaves it. A tool out of service (its recovery failed, it alarmed, it holds a workpiece the
run did not put there) gets no job: a wafer that asks for a kind with no tool in service,
waiting or asking later, is refused at once (`ToolUnavailable`, its wafer held naming the kind
and each tool's reason), on real tools as in a dry run, where nobody could clear the tool
during a wait. An operator's clear (`packline clear-tool`) puts the tool back, and the wafers
held for want of it run again (`Engine`, or the run's next resume: `plan.py`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar, cast

from packline.clock import Clock, ClockTimeout, wait_for
from packline.drivers.equipment import Equipment

from .errors import StepError, ToolUnavailable

E = TypeVar("E", bound=Equipment)
#: A role interface (`Laminator`): a class, annotated as what builds an `E` because mypy
#: refuses an abstract class where `type[E]` is expected.
Role = Callable[..., E]


@dataclass(eq=False)
class Tool:
    """One connected tool of the run."""

    name: str
    role: str
    driver: Equipment
    capacity: int
    free: int = 0
    out_of_service: str | None = None
    #: Out of service until an operator clears it (an alarm), not lost for the run.
    awaiting_clear: bool = False
    #: The step running on the tool now (its traces are filed under it).
    step_id: int | None = None
    #: How many requests the tool has been given to: a queue that moves is not a stuck tool.
    grants: int = 0

    def __post_init__(self) -> None:
        self.free = self.capacity


@dataclass(eq=False)
class Waiter:
    #: What the request named: a role, or one tool by its name.
    asked: str
    tools: list[Tool]
    whole: bool
    future: asyncio.Future[Tool] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    used: bool = False  # the request ended: the tool was taken (and will be released) or given back

    def units(self, tool: Tool) -> int:
        return tool.capacity if self.whole else 1


class ToolPool:
    """The run's tools, by name and by role."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.tools: dict[str, Tool] = {}
        self._waiters: list[Waiter] = []
        #: Why the pool stopped serving (the run is being terminated), once it has.
        self._stopped: BaseException | None = None

    def add(self, tool: Tool) -> None:
        """Make a connected tool available to the run's requests."""
        self.tools[tool.name] = tool

    def candidates(self, tool_or_role: str) -> list[Tool]:
        """The tools a request names: the tool of that name, else every tool of that role."""
        if tool_or_role in self.tools:
            return [self.tools[tool_or_role]]
        tools = [tool for tool in self.tools.values() if tool.role == tool_or_role]
        if not tools:
            raise StepError(
                f"no tool or role {tool_or_role!r} in this run; tools: {', '.join(self.tools)} "
                "(a run connects the tools of the roles its recipe drives: `Method.tools_for`)"
            )
        return tools

    def request(self, tool_or_role: str, *, whole: bool) -> Waiter:
        """Queue for a unit (or all) of a tool now; `wait` for it later. Queue order is service
        order, so a batch that closed first gets the tool first. Once the pool has stopped
        (`stop_waiting`), a request ends at once with the same error: a wafer that asks after a
        terminate does not wait for a tool that is out of service."""
        waiter = Waiter(tool_or_role, self.candidates(tool_or_role), whole)
        if self._stopped is not None:
            waiter.future.set_exception(self._stopped)
            return waiter
        self._waiters.append(waiter)
        self._dispatch()
        return waiter

    async def wait(self, waiter: Waiter, *, timeout_s: float) -> Tool:
        """Wait for a queued request until its tools have served nobody for `timeout_s` of
        process time: a long queue for a busy tool (a lot of 200 behind one bonder) waits
        its turn, a tool that stopped serving (out of service, held by a stuck step) does not
        keep its waiters for ever."""
        try:
            while True:
                grants = self._grants(waiter)
                try:
                    tool = await wait_for(
                        self.clock, asyncio.shield(waiter.future), timeout_s, "waiting for a tool"
                    )
                    break
                except ClockTimeout:
                    if self._grants(waiter) == grants:
                        raise
            waiter.used = True
            return tool
        except BaseException as error:
            self.cancel(waiter)
            if isinstance(error, ClockTimeout):
                names = ", ".join(
                    t.name
                    if t.out_of_service is None
                    else f"{t.name}, out of service: {t.out_of_service}"
                    for t in waiter.tools
                )
                raise ToolUnavailable(
                    f"no free tool ({names}): none was given to a request for {timeout_s:g} s",
                    [t.name for t in waiter.tools if t.out_of_service is not None],
                ) from None
            raise

    @staticmethod
    def _grants(waiter: Waiter) -> int:
        return sum(tool.grants for tool in waiter.tools)

    def cancel(self, waiter: Waiter) -> None:
        """Give up a queued request that was never used; a tool granted meanwhile is given back."""
        if waiter.used:
            return
        waiter.used = True
        if waiter in self._waiters:
            self._waiters.remove(waiter)
        future = waiter.future
        if future.done() and not future.cancelled() and future.exception() is None:
            self.release(future.result(), whole=waiter.whole)
        elif not future.done():
            future.cancel()

    async def acquire(self, tool_or_role: str, *, whole: bool, timeout_s: float) -> Tool:
        return await self.wait(self.request(tool_or_role, whole=whole), timeout_s=timeout_s)

    def release(self, tool: Tool, *, whole: bool) -> None:
        tool.free += tool.capacity if whole else 1
        self._dispatch()

    def put_out_of_service(self, tool: Tool, reason: str, *, until_cleared: bool = False) -> None:
        """Take `tool` out of service: for the rest of the run, or `until_cleared`."""
        tool.out_of_service = reason
        tool.awaiting_clear = until_cleared
        self._dispatch()

    def stop_waiting(self, error: BaseException) -> None:
        """End every queued request, and every later one, with `error` (the run is being
        terminated)."""
        self._stopped = error
        for waiter in list(self._waiters):
            if not waiter.future.done():
                waiter.future.set_exception(error)
        self._waiters.clear()

    def return_to_service(self, tool: Tool) -> None:
        tool.out_of_service = None
        tool.awaiting_clear = False
        self._dispatch()

    def _dispatch(self) -> None:
        for waiter in list(self._waiters):
            if waiter.future.done():
                self._waiters.remove(waiter)
                continue
            serving = [t for t in waiter.tools if t.out_of_service is None]
            if not serving:
                names = [t.name for t in waiter.tools]
                waiter.future.set_exception(ToolUnavailable(_none_in_service(waiter), names))
                self._waiters.remove(waiter)
                continue
            for tool in serving:
                if tool.free >= waiter.units(tool):
                    tool.free -= waiter.units(tool)
                    tool.grants += 1
                    waiter.future.set_result(tool)
                    self._waiters.remove(waiter)
                    break


@dataclass(frozen=True)
class ConnectedTools:
    """The tools a session connected, as a method's check of them against its recipe sees
    them (`Method.tools_check`): their drivers by role interface, for questions only (it runs
    before the first step, and must command nothing), and which steps the session still has
    to run (`runs_step`)."""

    pool: ToolPool
    #: The names of the steps each wafer a resume runs has completed in the sessions before
    #: it (`Plan.completed_step_names`); None in a run's first session.
    completed: Mapping[str, frozenset[str]] | None = None
    #: The names of the tools the check was handed (`of`), which it asked: none, and a check
    #: that refused nothing passed nothing either (`packline station check --method` of a line
    #: whose grinders it could not reach).
    handed: set[str] = field(default_factory=set)

    @property
    def resumed(self) -> bool:
        """Whether the session is a resume's (its recipe cannot change: a refusal asks for
        other tools, not another recipe)."""
        return self.completed is not None

    def runs_step(self, name: str) -> bool:
        """Whether the session has step `name` to run on some wafer: every step, in a run's
        first session; in a resume's, unless each wafer it runs completed that step before
        (a resume of ground panels asks nothing of the grinder's gauge)."""
        return self.completed is None or any(name not in done for done in self.completed.values())

    def of(self, role: Role[E]) -> list[E]:
        """The connected tools of `role`'s role driven through that interface (`Grinder`), in
        station order; none when the recipe drives no tool of it."""
        interface = cast(type[Equipment], role)  # a class, as `Role` says
        tools = [
            tool
            for tool in self.pool.tools.values()
            if tool.role == getattr(role, "role", None) and isinstance(tool.driver, interface)
        ]
        self.handed.update(tool.name for tool in tools)
        return [cast(E, tool.driver) for tool in tools]


def _none_in_service(waiter: Waiter) -> str:
    """Why `waiter` gets no tool: the kind it asked for (a role, or one tool by name) and each
    of its tools out of service with the reason, which says how to bring it back."""
    kind = waiter.asked if waiter.asked == waiter.tools[0].role else f"tool {waiter.asked}"
    reasons = "; ".join(f"{t.name} is out of service: {t.out_of_service}" for t in waiter.tools)
    return f"no {kind} in service: {reasons}"
