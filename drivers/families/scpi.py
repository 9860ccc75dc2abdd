"""The SCPI family's driver base: settings checked through the error queue, queries decoded,
alarms and interlocks read as the tool's spec declares them (the grammar and the spec
binding are `scpi_wire.py`), and an overlapped command (a job, a cycle) waited out with
IEEE 488.2's `*OPC?`, which the tool answers when it ends (`ScpiDriver.wait_operation`).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar, TypeVar

from ..equipment import Equipment, Identity, poll_hold_s
from ..errors import CommandRefused, ProtocolError, ToolTimeout
from ..links import TextLink
from .scpi_wire import (
    MAX_MESSAGE_CHARS,
    NO_ERROR,
    ScpiWire,
    command,
    mnemonic_value,
    scpi_wire,
    short_form,
    split_outside_quotes,
)

if TYPE_CHECKING:
    from ..specs.core import ToolSpec


T = TypeVar("T")

_ERROR_REPLY = re.compile(r'^([+-]?\d+),"(.*)"$')


def parse_error(tool: Equipment, action: str, reply: str) -> tuple[int, str]:
    """One error-queue entry `<code>,"<text>"`: doubled quotes unescaped, and the SCPI
    `text;detail` form written `text: detail`."""
    match = _ERROR_REPLY.match(reply)
    if match is None:
        raise ProtocolError(
            tool.name, tool.address, action, f'error queue reply {reply!r} is not <code>,"<text>"'
        )
    return int(match[1]), match[2].replace('""', '"').replace(";", ": ", 1)


def compound_message(units: Iterable[str]) -> str:
    """Program message units as one IEEE 488.2 compound message: joined by `;`, each header but
    a common command's given its leading colon, so no device reads one relative to the one
    before."""
    return ";".join(unit if unit.startswith(("*", ":")) else ":" + unit for unit in units)


class ScpiDriver(Equipment):
    """The driver base of the SCPI tools: settings checked through the error queue, queries
    decoded, alarms and interlocks read as the spec declares them, the safe state commanded.

    A tool's driver sets `spec` and keeps only its process logic.
    """

    spec: ClassVar[ToolSpec[ScpiWire]]
    link_type = TextLink
    link: TextLink

    @property
    def wire(self) -> ScpiWire:
        return scpi_wire(self.spec)

    # ----------------------------------------------------------------- exchanges

    async def send(self, action: str, *commands: str) -> None:
        """Send settings as program messages, as many units to a message as the tool's line
        takes (`MAX_MESSAGE_CHARS`; several: a compound one, `compound_message`), reading the
        error queue after each: any error refuses the lot, and no message after it is sent
        (with no commands, only the queue is read). Which units after a refused one in its
        message the tool ran depends on the error (a compound's rules,
        docs/protocols/conventions.md), so a group holds settings only: what moves or
        energises goes in a message of its own, sent once the settings were taken."""
        messages: list[list[str]] = []
        for unit in commands:
            if messages and len(compound_message([*messages[-1], unit])) <= MAX_MESSAGE_CHARS:
                messages[-1].append(unit)
            else:
                messages.append([unit])
        checked = [  # every message checked before the first is sent
            self._checked(units, units[0] if len(units) == 1 else compound_message(units))
            for units in messages
        ]
        for message in checked:
            await self.link.write(message)
            await self.check_error_queue(action)
        if not checked:
            await self.check_error_queue(action)

    def _checked(self, units: Sequence[str], message: str) -> str:
        """`message`, the program message of `units`, refused before anything is sent if the
        tool would not read it as those units: a unit with a line end, a `;` outside its
        strings or a string left open (which would take in what follows it), or a message
        longer than the tool takes (`MAX_MESSAGE_CHARS`)."""
        for unit in units:
            ends = [end for end in ("\r", "\n") if end in unit]
            if unit.count('"') % 2:
                ends.append('"')
            elif len(split_outside_quotes(unit, ";")) > 1:
                ends.append(";")
            if ends:
                raise ValueError(
                    f"{self.name}: SCPI unit {unit!r} contains {ends[0]!r}, which would end it "
                    "in its message; nothing was sent"
                )
        if len(message) > MAX_MESSAGE_CHARS:
            raise ValueError(
                f"{self.name}: a program message of {len(message)} characters "
                f"({message[:40]}…) is longer than the {MAX_MESSAGE_CHARS} a tool takes; "
                "nothing was sent"
            )
        return message

    async def check_error_queue(self, action: str) -> None:
        """Read the error queue until it is empty (at most its depth + 1 reads); every queued
        error is joined into one `CommandRefused` carrying the first error's code."""
        errors: list[tuple[int, str]] = []
        for _ in range(self.wire.queue_depth + 1):
            code, text = parse_error(
                self, action, await self.link.query(short_form(self.wire.error_query) + "?")
            )
            if code == NO_ERROR:
                break
            errors.append((code, text))
        if errors:
            detail = "; ".join(text for _, text in errors)
            raise CommandRefused(self.name, self.address, action, detail, str(errors[0][0]))

    def garbled(
        self, action: str, reply: str, expected: str, query: str | None = None
    ) -> ProtocolError:
        """A reply (to `query`, when named) that is not what the page says it is."""
        said = f"{query} answered {reply!r}, not" if query else f"reply {reply!r} is not"
        return ProtocolError(self.name, self.address, action, f"{said} {expected}")

    async def query_number(self, action: str, query: str) -> float:
        reply = await self.link.query(self._checked((query,), query), idempotent=True)
        return self.number_reply(action, reply)

    async def query_flag(self, action: str, query: str) -> bool:
        return self.flag_reply(
            action, await self.link.query(self._checked((query,), query), idempotent=True)
        )

    async def query_units(self, action: str, *queries: str) -> list[str]:
        """Ask several queries in one exchange, a compound message (`compound_message`); their
        replies, in order, from the one reply line (joined by `;`)."""
        message = self._checked(queries, compound_message(queries))
        reply = await self.link.query(message, idempotent=True)
        replies = split_outside_quotes(reply, ";")
        if len(replies) != len(queries):
            raise self.garbled(action, reply, f"{len(queries)} replies joined by ;", message)
        return replies

    async def query_named(self, action: str, names: Sequence[str]) -> dict[str, str]:
        """The queries of the spec's commands `names` in one exchange (`query_units`): each
        command's name -> its reply."""
        queries = (command(self.spec, name).query for name in names)
        replies = await self.query_units(action, *queries)
        return dict(zip(names, replies, strict=True))

    def number_reply(self, action: str, reply: str) -> float:
        """A query's reply as a number; a `ProtocolError` if it is not one."""
        try:
            return float(reply)
        except ValueError:
            raise self.garbled(action, reply, "a number") from None

    def flag_reply(self, action: str, reply: str) -> bool:
        """A query's reply as a flag (`0` or `1`); a `ProtocolError` if it is not one."""
        if reply not in ("0", "1"):
            raise self.garbled(action, reply, "0 or 1")
        return reply == "1"

    def mnemonic(self, action: str, reply: str, choices: Mapping[T, str]) -> T:
        """The value whose mnemonic `reply` is (short or long form: `mnemonic_value`)."""
        value = mnemonic_value(choices, reply)
        if value is not None:
            return value
        expected = " or ".join(short_form(m) for m in choices.values())
        raise self.garbled(action, reply, expected)

    def trace(self, status: str, value: float) -> None:
        """Record a reading of the spec's status variable `status` under its trace name and
        unit (a variable the spec does not trace is not recorded)."""
        variable = self.spec.status_by_name[status]
        if variable.trace is not None:
            self.record_reading(variable.trace, value, variable.unit)

    async def request_identity(self) -> Identity:
        """Clear the error queue (every error read later answers this driver), read who the
        tool is (`*IDN?`: vendor, model, serial number, firmware, none empty)."""
        await self.link.write("*CLS")
        reply = await self.link.query("*IDN?", idempotent=True)
        fields = [field.strip() for field in reply.split(",")]
        if len(fields) != 4 or not all(fields):
            raise self.garbled("read identity", reply, "vendor,model,serial,firmware")
        return Identity(*fields)

    # ----------------------------------------------------------------- alarms and interlocks

    async def request_alarms(self) -> dict[str, str]:
        """`SYST:ALAR?`: `NONE` or alarm codes, each explained by the spec."""
        reply = await self.link.query(short_form(self.wire.alarm_query) + "?", idempotent=True)
        if reply == self.wire.no_alarm:
            return {}
        codes = [code.strip() for code in reply.split(",")]
        if not all(re.fullmatch(r"[A-Z][A-Z0-9_]*", code) for code in codes):
            raise self.garbled("read alarms", reply, "NONE or comma-separated alarm codes")
        text = self.spec.alarm_text
        return {code: text.get(code, "alarm code not on the protocol page") for code in codes}

    async def request_interlocks(self) -> dict[str, bool]:
        """`SYST:INT?`, in the spec's reply form: every declared interlock, True = closed."""
        query = short_form(self.wire.interlock_query) + "?"
        return self.interlocks_from(await self.link.query(query, idempotent=True))

    async def interlocks_with(
        self, action: str, *queries: str
    ) -> tuple[dict[str, bool], list[str]]:
        """The interlocks (`request_interlocks`) and the replies to `queries`, read in one
        compound query (`query_units`)."""
        query = short_form(self.wire.interlock_query) + "?"
        interlocks, *replies = await self.query_units(action, query, *queries)
        return self.interlocks_from(interlocks), replies

    def interlocks_from(self, reply: str) -> dict[str, bool]:
        """The interlock query's reply read: every declared interlock, True = closed."""
        action = "read interlocks"
        names = self.spec.interlock_names
        query = short_form(self.wire.interlock_query) + "?"
        if self.wire.interlock_reply == "flags":
            flags = reply.split(",")
            if len(flags) != len(names) or any(f not in ("0", "1") for f in flags):
                raise self.garbled(action, reply, f"{len(names)} 0/1 flags", query)
            return {name: flag == "1" for name, flag in zip(names, flags, strict=True)}
        interlocks: dict[str, bool] = {}
        for pair in reply.split(","):
            name, _, flag = pair.partition("=")
            if flag not in ("0", "1"):
                raise self.garbled(action, reply, "name=0|1 pairs", query)
            interlocks[name] = flag == "1"
        missing = [name for name in names if name not in interlocks]
        if missing:
            raise self.garbled(action, reply, "naming " + ", ".join(missing), query)
        return interlocks

    async def _clear_alarms(self) -> None:
        await self.send("reset alarms", short_form(self.wire.alarm_clear))

    async def _command_safe_state(self) -> None:
        """`ABOR`, confirmed by `*OPC?` (the tool acts on it at once)."""
        await self.link.write(short_form(self.wire.abort))
        await self.request_operation_complete("abort")

    # ----------------------------------------------------------------- overlapped commands

    async def request_operation_complete(self, action: str, held_s: float = 0.0) -> None:
        """`*OPC?`: returns once the tool answers `1`, which it does when no overlapped
        command of it (a job, a cycle) is at work any more; `held_s`, s of process time the
        tool may hold the reply that long (then the link's timeout), 0 for one that is due
        at once."""
        reply = await self.link.query("*OPC?", held_s=held_s)
        if reply != "1":
            raise self.garbled(action, reply, "1", "*OPC?")

    async def wait_operation(
        self,
        action: str,
        poll: Callable[[], Awaitable[T | None]],
        timeout_s: float,
        still: Callable[[], str],
        *,
        abort_on_timeout: bool = True,
        owner: Equipment | None = None,
    ) -> T:
        """`wait_until` for an overlapped command the tool has started (a job, a cycle), on
        the tool's own wait: after the first `poll`, each poll asks `*OPC?` first, which the
        tool holds until the command has ended, an alarm ending it too, so the wait costs
        three exchanges rather than one per poll interval and sees the end, or the alarm, as
        it comes (docs/decisions/0041). `*OPC?` names no bound, so the link bounds it: held
        until `UNBOUNDED_TAIL_S` before the wait's deadline (`wait_until(hold_s=None)`); one
        not answered by then drops the connection and the last `UNBOUNDED_TAIL_S` are polled
        every interval, so an overrun is stopped as before. On a link that cannot carry a held
        reply (a tty), and after a `*OPC?` answered while `poll` still finds the command at
        work (a tool whose `*OPC?` does not wait for it), it polls every interval.

        `owner`: the tool whose wait it is when this is a device of it (the plating cell's
        supply): the wait is its `wait_until`, a timeout commanding its safe state."""
        first, trusted = True, True

        async def poll_when_complete() -> T | None:
            nonlocal first, trusted
            held_s = poll_hold_s()
            if first or held_s is None:  # wait_until sleeps between unheld polls itself
                first = False
                return await poll()
            if not trusted:
                await self.clock.sleep(self.poll_interval_s)
                return await poll()
            try:
                await self.request_operation_complete(action, held_s)
            except ToolTimeout:  # held to its bound (the link dropped the connection): poll on
                return None
            result = await poll()
            trusted = result is not None
            return result

        return await (owner or self).wait_until(
            action,
            poll_when_complete,
            timeout_s,
            still,
            abort_on_timeout=abort_on_timeout,
            held_by_tool=self.link.holds_replies,
            hold_s=None,
        )
