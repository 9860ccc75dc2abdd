"""The control channel of a served simulated line: faults injected from another process.

`packline sim serve` listens on a Unix socket in a directory of its own (mode 0700: only its
user reaches it), names the socket in the station file it prints (`control:`), and removes
both when it stops. `packline sim fault TOOL FAULT` (or `--clear`) sends one request and reads
one reply, each a line of JSON:

    {"command": "inject", "tool": "plasma_cleaner", "fault": "rf_mismatch", "by": "ana"}
    {"ok": true, "message": "plasma_cleaner: fault rf_mismatch injected (...)", "wall": 1.7e9}

`by` (optional) is who ordered it; the line keeps it and when it did it (`wall`, Unix time, as
the reply says) for a run that connects later (`injected`, below).

`packline clear-tool` asks which faults a tool suffers now (no `fault` in the request), as an
operator's console reads a tool's fault before taking a clear:

    {"command": "faults", "tool": "oven"}
    {"ok": true, "message": "oven: faults zone_sensor_break", "faults": {"zone_sensor_break": "…"}}

A run on the line's station file asks the line how fast it is served, which the file's
`time_scale` must say (else the run's process times read that many times wrong):

    {"command": "line"}
    {"ok": true, "message": "served at time x60", "time_scale": 60.0}

A run (or a resume) on the line asks, as it connects, which faults are injected on every tool
and who injected each and when (`null` where the line does not know: a fault a test injected
on the tool itself, or again after a clear), and who last cleared each fault and when, so that
it records a fault injected (or cleared) while no run was live as it records one injected
during it, and `packline station check` names them (decision 0117). A fault the tool cleared
itself, as a dicing saw's new blade cures its crack (`SimulatedTool.cure_fault`), is kept as
its clear too, by nobody (`null`), with what did it (`on_tool`), said on the line's
terminal and told to `on_cured` (`packline sim serve` tells the runs live on the line), so
that a run connecting later records when it went (decision 0119):

    {"command": "injected"}
    {"ok": true, "message": "faults injected: plasma_cleaner rf_mismatch",
     "injected": {"plasma_cleaner": {"rf_mismatch": {"what": "…", "wall": 1.7e9, "by": "ana"}}},
     "cleared": {"oven": {"n2_supply": {"wall": 1.7e9, "by": "bo"}},
                 "dicing_saw": {"blade_crack": {"wall": 1.7e9, "by": null,
                                                "on_tool": "a new blade installed"}}}}

A tool or fault the line does not have is refused naming those it has, and a clear of a fault
not injected naming those that are (or `nothing`) and when the fault was last cleared, and how
(`injected on it: nothing; blade_crack cleared on the tool at 14:58:03 (a new blade
installed)`); nothing changes.
The socket is local: a line served for another machine (`--host`) takes faults on its own.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

from packline.spelling import did_you_mean
from packline.who_when import by_whom, clock_time

from .base import cancel_and_wait

if TYPE_CHECKING:
    from ..tool import SimulatedTool

#: What a request may ask: a fault injected or cleared, the faults a tool suffers now, how
#: fast the line is served, or the faults injected on every tool and who did it when.
CONTROL_COMMANDS = ("inject", "clear", "faults", "line", "injected")
#: The longest request line (a tool and a fault name fit many times over).
MAX_REQUEST_BYTES = 4096


class ControlError(Exception):
    """A request the line refused, or a line that could not be reached; the message says why."""


class ControlUnreachable(ControlError):
    """A line whose control socket could not be reached, or did not answer in time."""


class LineControl:
    """Serves a simulated line's control socket at `path`: each request line is one fault
    injected or cleared on one of `tools` (name -> simulated tool), reported to `report`, or
    a question (the faults a tool suffers; the line's `time_scale`)."""

    def __init__(
        self,
        tools: Mapping[str, SimulatedTool],
        path: Path,
        report: Callable[[str], None],
        time_scale: float = 1.0,
        on_cured: Callable[[str, str, Done], None] | None = None,
    ) -> None:
        self.tools = tools
        self.path = path
        self.report = report
        #: Told each fault a tool cleared itself, as the line keeps its clear (tool, fault,
        #: when and how): `packline sim serve` tells the runs live on the line (decision 0119).
        self.on_cured = on_cured
        #: Process time on the line per second of wall time, as `packline sim serve` serves it.
        self.time_scale = time_scale
        #: Who injected each fault through this socket and when (`Done`), by tool and fault,
        #: while it is injected: its clear forgets it, so that a fault on the tool later, not
        #: through the socket, is not told as that old injection.
        self._injections: dict[str, dict[str, Done]] = {}
        #: Who cleared each fault through this socket and when, or when the tool cleared it
        #: itself and how (`SimulatedTool.cure_fault`): the latest clear of each.
        self._clears: dict[str, dict[str, Done]] = {}
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        for tool in tools.values():
            tool.fault_listeners.append(self._cured)

    async def start(self) -> None:
        """Listen at `path` (readable and writable by this user alone)."""
        self._server = await asyncio.start_unix_server(
            self._serve, self.path, limit=MAX_REQUEST_BYTES
        )
        os.chmod(self.path, 0o600)

    async def stop(self) -> None:
        """Stop listening, end every connection and remove the socket; safe to call twice."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        await cancel_and_wait(list(self._connections))
        await server.wait_closed()
        self.path.unlink(missing_ok=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            line = await reader.readline()
            writer.write(json.dumps(self.handle(line)).encode() + b"\n")
            await writer.drain()
        except (ConnectionError, ValueError):  # a client gone, a line beyond the limit
            pass
        except asyncio.CancelledError:
            pass  # stop() ends a connection this way; asyncio logs a cancelled handler
        finally:
            self._connections.discard(task)
            writer.close()

    def handle(self, line: bytes) -> dict[str, Any]:
        """The reply to one request line: done (`ok`, `message`) or refused (`error`)."""
        try:
            request = json.loads(line)
            command = request["command"]
            if command == "line":
                pace = "wall clock" if self.time_scale == 1.0 else f"time x{self.time_scale:g}"
                return {"ok": True, "message": f"served at {pace}", "time_scale": self.time_scale}
            if command == "injected":
                return self._injected()
            tool_name, fault, by = request["tool"], request.get("fault"), request.get("by")
        except (ValueError, TypeError, KeyError, AttributeError):
            return {"ok": False, "error": f"not a control request: {line[:200]!r}"}
        if command not in CONTROL_COMMANDS:
            return {
                "ok": False,
                "error": f"no command {command!r}; commands: {', '.join(CONTROL_COMMANDS)}",
            }
        if command != "faults" and fault is None:
            return {"ok": False, "error": f"the {command} request names no fault: {line[:200]!r}"}
        tool = self.tools.get(tool_name)
        if tool is None:
            return {"ok": False, "error": unknown_tool_text(str(tool_name), self.tools)}
        if command == "faults":
            present = {name: tool.faults[name] for name in sorted(tool.injected)}
            named = ", ".join(present) or "none"
            return {"ok": True, "message": f"{tool_name}: faults {named}", "faults": present}
        if fault not in tool.faults:
            return {
                "ok": False,
                "error": f"the simulated {tool_name} has no fault {fault!r}; its faults: "
                f"{', '.join(tool.faults)}{did_you_mean(str(fault), tool.faults)}",
            }
        if command == "inject" and fault in tool.injected:
            # refused, as a clear of nothing is: a second injection would move the time the
            # line keeps, and a run connecting then would read a clear that never happened
            since = self._injections.get(tool_name, {}).get(fault)
            return {
                "ok": False,
                "error": f"{tool_name} has fault {fault} injected already{_since(since)}; "
                "nothing changed",
            }
        if command == "inject":
            tool.inject_fault(fault)
            done = self._injections.setdefault(tool_name, {})[fault] = _done(by)
            message = f"{tool_name}: fault {fault} injected ({tool.faults[fault]})"
        elif fault not in tool.injected:  # refused: a repair of nothing is no repair
            injected = ", ".join(sorted(tool.injected)) or "nothing"
            last = self._clears.get(tool_name, {}).get(fault)
            return {
                "ok": False,
                "error": f"{tool_name} has no fault {fault} injected (injected on it: "
                f"{injected}{_last_cleared(fault, last)}); nothing cleared",
            }
        else:
            tool.clear_fault(fault)
            self._injections.get(tool_name, {}).pop(fault, None)
            done = self._clears.setdefault(tool_name, {})[fault] = _done(by)
            message = f"{tool_name}: fault {fault} cleared"
        self.report(message)
        return {"ok": True, "message": message, "wall": done["wall"]}

    def _cured(self, tool_name: str, fault: str, how: str) -> None:
        """The tool cleared injected `fault` itself (`how`: a dicing saw's new blade cures
        its crack): kept as the fault's latest clear, when and how, by nobody's order, and
        its injection forgotten, as a clear through the socket is; said on the line's
        terminal and to `on_cured`, which tells the runs live on the line. A run that connects
        later records the clear at that time (decision 0119), not at its own."""
        self._injections.get(tool_name, {}).pop(fault, None)
        done: Done = {**_done(None), "on_tool": how}
        self._clears.setdefault(tool_name, {})[fault] = done
        self.report(f"{tool_name}: fault {fault} cleared on the tool ({how})")
        if self.on_cured is not None:
            self.on_cured(tool_name, fault, done)

    def _injected(self) -> dict[str, Any]:
        """The reply to `injected`: the faults every tool suffers now, each with what it does
        and who injected it when (`null` for one injected on the tool itself, not through
        this socket), and the latest clear of each fault cleared through it."""
        injected = {
            name: {
                fault: {
                    "what": tool.faults[fault],
                    **self._injections.get(name, {}).get(fault, {"wall": None, "by": None}),
                }
                for fault in sorted(tool.injected)
            }
            for name, tool in self.tools.items()
            if tool.injected
        }
        named = [f"{tool} {fault}" for tool, faults in injected.items() for fault in faults]
        return {
            "ok": True,
            "message": f"faults injected: {', '.join(named)}" if named else "no fault injected",
            "injected": injected,
            "cleared": self._clears,
        }


def unknown_tool_text(tool: str, tools: Iterable[str]) -> str:
    """Why `tool` is refused on a served line of `tools`: the tools it has, and the one
    `tool` may mean (`did_you_mean`)."""
    tools = list(tools)
    return f"the served line has no tool {tool!r}; its tools: {', '.join(tools)}" + did_you_mean(
        tool, tools
    )


class Done(TypedDict):
    """Who had the line inject (or clear) a fault (`None`: the request did not say, or the
    tool cleared it itself) and when it did it (Unix time); of a clear the tool made itself,
    what did it (`on_tool`)."""

    wall: float
    by: str | None
    on_tool: NotRequired[str]


def _since(done: Done | None) -> str:
    """When, and by whom where the line was told, a fault was injected: ' (at 14:58:03 by
    ana)'; nothing for one injected on the tool itself."""
    if done is None:
        return ""
    return f" (at {clock_time(done['wall'])}{by_whom(done['by'])})"


def _last_cleared(fault: str, done: Done | None) -> str:
    """When `fault` was last cleared (`done`), for a clear refused as one of nothing: `;
    blade_crack cleared on the tool at 14:58:03 (a new blade installed)`, or `... cleared at
    14:58:03 by bo`; nothing when it never was."""
    if done is None:
        return ""
    at = clock_time(done["wall"])
    if "on_tool" in done:
        return f"; {fault} cleared on the tool at {at} ({done['on_tool']})"
    return f"; {fault} cleared at {at}{by_whom(done['by'])}"


def _done(by: object) -> Done:
    """A fault injected (or cleared) now by order of `by` (as the request gave it)."""
    return {"wall": time.time(), "by": None if by is None else str(by)}


async def request_control(
    path: Path, request: Mapping[str, str], timeout_s: float
) -> dict[str, Any]:
    """Send one request to the control socket at `path`; the line's reply (its `message`,
    and a `faults` request's `faults`, an `injected` request's `injected` and `cleared`), or
    `ControlError` with its refusal (`ControlUnreachable` with why it could not be
    reached)."""
    try:
        async with asyncio.timeout(timeout_s):
            reader, writer = await asyncio.open_unix_connection(path)
            try:
                writer.write(json.dumps(dict(request)).encode() + b"\n")
                await writer.drain()
                line = await reader.readline()
            finally:
                writer.close()
                await writer.wait_closed()
    except TimeoutError:
        raise ControlUnreachable(
            f"control socket {path}: no answer within {timeout_s:g} s"
        ) from None
    except OSError as error:
        raise ControlUnreachable(
            f"control socket {path}: cannot reach it ({error.strerror or error}); is "
            "`packline sim serve` still running?"
        ) from None
    try:
        reply = json.loads(line)
    except ValueError:
        raise ControlError(f"control socket {path}: not a reply: {line[:200]!r}") from None
    if not reply.get("ok"):
        raise ControlError(str(reply.get("error")))
    return dict(reply)
