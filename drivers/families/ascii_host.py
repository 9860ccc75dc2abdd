"""ASCII host links' driver base: line commands answered `OK [payload]` or `ERR <code> <text>`.

Used by tools whose controllers speak a line protocol of their own over RS-232 or TCP (the wire
bonder, the dicing saw, the dispenser, the resin coater, the litho cell, the wet bench, the
flip-chip bonder). The family's rules (docs/protocols/conventions.md, "ASCII host links") are
written once: the spec binding (`HostLink`, the `Host*` entries and the spec building blocks)
and the number grammar in `ascii_host_wire.py`, and here the driver base `HostLinkDriver`,
which turns a spec into identity, alarm, interlock and limit handling and waits a job out
(`STAT?` polled until the tool is idle with its job counter advanced). A few names of the
binding are exported here too, for the simulated tools that import them here. The simulated
tools' side of the same rules is `packline.sim_instruments.families.ascii_host`."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import ClassVar, Protocol, TypeVar, cast

from ..equipment import Equipment, Identity, ToolState, poll_hold_s
from ..errors import CommandRefused, ProtocolError, ToolError
from ..links import TextLink
from ..specs.core import R, ToolSpec
from .ascii_host_wire import (
    COMPOUND_SEPARATOR,
    MAX_LINE_CHARS,
    HostLink,
    HostReply,
    HostReplyField,
    check_host_spec,
    encode,
    host_interlocks,
    host_status,
    is_query,
    plain,
    render_status,
)

__all__ = [
    "MAX_LINE_CHARS",
    "TRANSFER_STATES",
    "HostLinkDriver",
    "OneWaferDriver",
    "encode",
    "host_interlocks",
    "parse_fields",
    "reading_first",
    "render_status",
]

_REFUSAL = re.compile(r"ERR (\d+) (.+)")
#: What ends a command on the line: the compound separator and the line ends.
_COMMAND_ENDS = (COMPOUND_SEPARATOR, "\r", "\n")


@dataclass
class _Seen:
    """A wait under way (`HostLinkDriver.wait_held`): the `STATE` the tool last reported."""

    state: str | None = None


#: The wait of the task asking, if it is in one.
_SEEN: ContextVar[_Seen | None] = ContextVar("packline_host_seen", default=None)

C = TypeVar("C", bound=Enum)


class JobStatus(Protocol):
    """A status query's reading of a tool that runs jobs: its `STATE` token, `IDLE` and
    `FAULT` among them (every host-link page names them so)."""

    @property
    def state(self) -> StrEnum: ...


class CountedJobStatus(JobStatus, Protocol):
    """A status that counts the jobs done (`JOBS`) and tells the time left of the one under
    way (`LEFT`)."""

    @property
    def remaining_s(self) -> float: ...

    @property
    def jobs_completed(self) -> int: ...


S = TypeVar("S", bound=JobStatus)
T = TypeVar("T")
J = TypeVar("J", bound=CountedJobStatus)


# --------------------------------------------------------------------- the driver base


def reading_first(first: T, read: Callable[[], Awaitable[T]]) -> Callable[[], Awaitable[T]]:
    """`read`, whose first call gives `first` instead: a reading in hand (read with the
    command that began a wait), which the wait's first poll judges without reading it again."""
    unread = [first]

    async def next_reading() -> T:
        return unread.pop() if unread else await read()

    return next_reading


def parse_fields(
    tool: Equipment, action: str, payload: str, keys: Iterable[str] = ()
) -> dict[str, str]:
    """A payload of `KEY=value` words as a dict; every key of `keys` must be there."""
    fields: dict[str, str] = {}
    for word in payload.split(" "):
        key, equals, value = word.partition("=")
        if not key or not equals:
            raise ProtocolError(
                tool.name, tool.address, action, f"{word!r} in {payload!r} is not KEY=value"
            )
        fields[key] = value
    missing = [key for key in keys if key not in fields]
    if missing:
        raise ProtocolError(
            tool.name, tool.address, action, f"reply {payload!r} lacks {', '.join(missing)}"
        )
    return fields


class HostLinkDriver(Equipment):
    """The driver side of the family: everything a host-link tool's spec says, on the wire.

    A tool's driver sets `spec` and keeps only its process logic. Every reply is `OK
    [payload]` or `ERR <code> <text>` (raised as `CommandRefused` with the tool's code and
    text); anything else is a `ProtocolError`.
    """

    spec: ClassVar[ToolSpec[HostLink]]
    link_type = TextLink
    link: TextLink

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "spec" in cls.__dict__:
            cls.limits = check_host_spec(cls.spec).limits()

    @property
    def wire(self) -> HostLink:
        wire = self.spec.wire
        assert wire is not None
        return wire

    @property
    def status_keys(self) -> tuple[str, ...]:
        """The keys of the status query's `KEY=value` words, as the spec lists them."""
        return tuple(status.key for status in host_status(self.spec))

    # ----------------------------------------------------------------- the exchange

    async def ask(self, action: str, command: str) -> str:
        """Send `command`; return its `OK` payload ('' for a bare `OK`). A query (its word ends
        in `?`: it only reads) that meets a stall is asked once more; a command never is.

        In a wait (`wait_held`) the status query goes out as the wait query once the tool's
        `STATE` is known, the tool holding the reply while it stays in that state, on a link
        that can carry a held reply (`TextLink.holds_replies`; a tty's line is polled)."""
        self._check_command(command)
        seen = _SEEN.get() if command == self.wire.status_query else None
        held_s = poll_hold_s() or 0.0
        if seen is not None and seen.state is not None and held_s and self.link.holds_replies:
            command = f"{self.wire.wait_query} {seen.state} {plain(held_s)}"
        else:
            held_s = 0.0
        reply = await self.link.query(command, idempotent=is_query(command), held_s=held_s)
        payload = self._payload(action, command, reply)
        if seen is not None and payload:
            seen.state = parse_fields(self, action, payload).get("STATE")
        return payload

    async def ask_compound(
        self,
        action: str,
        *commands: str,
        checks: Mapping[str, Callable[[str], object]] | None = None,
        moves: str | None = None,
    ) -> list[str]:
        """Send `commands` on one compound line (`ILK?;STAT?`); their `OK` payloads in order.
        The first one refused raises `CommandRefused` (the tool ran those before it, not those
        after it); the line is asked once more on a stall only if every one is a query.
        `checks`: by command, a check of its payload (raising if it does not read as the page
        says), made as it is read.

        `moves`: the command of the line that starts the tool moving (a job, a run, a cut).
        Anything that fails on a line whose `moves` the tool took or may have taken (a unit
        after it refused, a unit's reply garbled or failing its check, before or after it, the
        reply lost or cut short) commands the safe state (`abort`) before it is raised, the
        error naming the unit that failed and the units the tool took: nothing is left moving
        unwatched."""
        for command in commands:
            self._check_command(command)
        line = COMPOUND_SEPARATOR.join(commands)
        try:
            reply = await self.link.query(line, idempotent=all(map(is_query, commands)))
        except ToolError:
            if moves is not None:  # the tool may have taken it before the reply was lost
                await self._stop_quietly()
            raise
        answers: list[str] = []
        rest: str | None = reply
        while rest is not None and len(answers) < len(commands):
            if rest.startswith("ERR "):  # a refusal ends the line: its text is all the rest
                answer, rest = rest, None
            else:
                answer, separator, rest = rest.partition(COMPOUND_SEPARATOR)
                rest = rest if separator else None
            answers.append(answer)
        ran = [c for c, answer in zip(commands, answers, strict=False) if answer[:4] != "ERR "]
        # `moves` did not run if the tool refused it or a command before it (which ends the
        # line); without its answer otherwise, it may have
        refused = len(ran) < len(answers) and moves not in ran
        payloads: list[str] = []
        unit: str | None = None  # the command whose reply is being read
        try:
            for unit, answer in zip(commands, answers, strict=False):
                payloads.append(self._payload(action, unit, answer))
                if checks and unit in checks:
                    checks[unit](payloads[-1])
            unit = None
            if rest is not None or len(payloads) != len(commands):
                raise ProtocolError(
                    self.name,
                    self.address,
                    action,
                    f"reply {reply!r} to {line!r} is not one reply per command joined by "
                    f"{COMPOUND_SEPARATOR!r}",
                )
        except ToolError as error:
            if moves is None or refused:
                raise
            stopped = await self._stop_quietly()
            failed = "the reply" if unit is None else f"{unit!r}"
            raise ProtocolError(
                self.name,
                self.address,
                action,
                f"{failed} failed after the tool took {', '.join(map(repr, ran))} on one "
                f"line, so the run was stopped ({stopped}): {error.detail}",
            ) from error
        return payloads

    async def _stop_quietly(self) -> str:
        """Command the safe state after a line that may have started the tool moving failed:
        how it went, for the error that is raised (the line's error, not the abort's)."""
        try:
            await self.abort()
        except ToolError as error:
            return f"abort failed: {error.detail}"
        return "abort"

    def _check_command(self, command: str) -> None:
        """Refuse, before anything is sent, a command that the tool would read as more than
        one: a compound separator or a line end inside it (an argument's `;` would run the
        words after it as a command of their own)."""
        for end in _COMMAND_ENDS:
            if end in command:
                raise ValueError(
                    f"{self.name}: command {command!r} contains {end!r}, which ends a command "
                    "on the line; nothing was sent"
                )

    def _payload(self, action: str, command: str, reply: str) -> str:
        """The `OK` payload of the reply to `command` ('' for a bare `OK`); `CommandRefused`
        for an `ERR`, a `ProtocolError` for anything else."""
        if reply == "OK":
            return ""
        if reply.startswith("OK "):
            return reply[3:]
        if match := _REFUSAL.fullmatch(reply):
            code, text = match.groups()
            raise CommandRefused(self.name, self.address, action, text, code)
        raise ProtocolError(
            self.name,
            self.address,
            action,
            f"reply {reply!r} to {command!r} is neither OK nor ERR <code> <text>",
        )

    async def do(self, action: str, command: str) -> None:
        """Send a command whose reply must be a bare `OK`."""
        self._bare_ok(action, command)(await self.ask(action, command))

    async def do_and_ask(self, action: str, commands: Sequence[str], *queries: str) -> list[str]:
        """Send `commands`, each of whose replies must be a bare `OK`, with `queries` after them
        on their line (`ask_compound`); the queries' payloads, read as the commands were taken."""
        checks = {command: self._bare_ok(action, command) for command in commands}
        payloads = await self.ask_compound(action, *commands, *queries, checks=checks)
        return payloads[len(commands) :]

    async def start_motion(self, action: str, command: str, status_from: Callable[[str], T]) -> T:
        """Send `command`, which starts the tool moving (a job, a cut, the spindle), with the
        status query after it on its line (`<command>;STAT?`); the status it started with,
        read by `status_from`. A status refused or garbled once the tool took the command
        stops the tool (`ask_compound`'s `moves`)."""
        query = self.wire.status_query
        _, started = await self.ask_compound(
            action,
            command,
            query,
            checks={command: self._bare_ok(action, command), query: status_from},
            moves=command,
        )
        return status_from(started)

    def _bare_ok(self, action: str, command: str) -> Callable[[str], None]:
        """The check that `command`'s payload is empty: its reply a bare `OK`."""

        def check(payload: str) -> None:
            if payload:
                raise self.garbled(action, command, payload, "expected a bare OK")

        return check

    async def ask_fields(self, action: str, query: str, keys: Iterable[str] = ()) -> dict[str, str]:
        """Ask `query`; its payload of `KEY=value` words, every key of `keys` present."""
        return parse_fields(self, action, await self.ask(action, query), keys)

    async def ask_count(self, action: str, command: str) -> int:
        return self.count_from(action, command, await self.ask(action, command))

    def count_from(self, action: str, command: str, payload: str) -> int:
        """`command`'s payload read as a count."""
        if not payload.isdigit():
            raise self.garbled(action, command, payload, "expected a count")
        return int(payload)

    def garbled(self, action: str, command: str, payload: str, why: str) -> ProtocolError:
        """The error for an `OK` payload that does not read as the page says."""
        return ProtocolError(
            self.name, self.address, action, f"reply 'OK {payload}' to {command!r}: {why}"
        )

    def number_field(self, action: str, fields: Mapping[str, str], key: str) -> float:
        """Field `key` of a reply as a number; a `ProtocolError` if it is not one."""
        return cast(float, self._field_as(action, fields, key, float))

    def integer_field(self, action: str, fields: Mapping[str, str], key: str) -> int:
        """Field `key` of a reply as a whole number; a `ProtocolError` if it is not one."""
        return cast(int, self._field_as(action, fields, key, int))

    def flag_field(self, action: str, fields: Mapping[str, str], key: str) -> bool:
        """Field `key` of a reply as a flag, `1` or `0`; a `ProtocolError` if it is neither."""
        return cast(bool, self._field_as(action, fields, key, bool))

    def choice_field(self, action: str, fields: Mapping[str, str], key: str, kind: type[C]) -> C:
        """Field `key` of a reply as one of the page's tokens (`kind`, an enum of them)."""
        return cast(C, self._field_as(action, fields, key, kind))

    def _field_as(
        self, action: str, fields: Mapping[str, str], key: str, kind: type[object]
    ) -> object:
        """Field `key` of a reply, one no `HostReply` declares, read as `kind` the way a
        declared one is (`reply_value`, `ReplyField.read`), so both read and refuse alike."""
        return self.reply_value(action, fields, HostReplyField(key=key, name=key, kind=kind))

    async def request_reply(self, action: str, reply: HostReply[R]) -> R | None:
        """`reply`'s query asked, its answer read into the role's result, each field as its
        kind (`reply_value`); None while the tool answers `NONE` (no result yet)."""
        return self.reply_from(action, reply, await self.ask(action, reply.query))

    def reply_from(self, action: str, reply: HostReply[R], payload: str) -> R | None:
        """`payload`, the answer to `reply`'s query (asked alone or on a compound line), read
        into the role's result; None for `NONE`, a `ProtocolError` from a tool that always has
        a result (`HostReply.answers_none` False)."""
        if payload == "NONE":
            if reply.answers_none:
                return None
            raise self.garbled(action, reply.query, payload, "the page gives it no NONE")
        fields = parse_fields(self, action, payload, reply.keys)
        values = {field.name: self.reply_value(action, fields, field) for field in reply.fields}
        return reply.result(**values)

    def reply_value(self, action: str, fields: Mapping[str, str], field: HostReplyField) -> object:
        """A reply's `field` read as its kind (`ReplyField.read`): a whole number, a number, a
        flag, one of the page's tokens or the text as it is; None for `NO_VALUE` of a field the
        page says may have none (`HostReplyField.absent_when`); a `ProtocolError` if it is not
        one."""
        text = fields[field.key]
        try:
            return field.read(text)
        except ValueError as why:
            raise ProtocolError(
                self.name, self.address, action, f"{field.key}={text!r} {why}"
            ) from None

    def setting(self, action: str, setpoint: str, value: float) -> str:
        """`value` checked against the driver's limit of `setpoint`, in its wire form: the
        value as it is sent (`check_limit`: one past a bound by rounding is the bound)."""
        return encode(self.spec, setpoint, self.check_limit(action, setpoint, value))

    # ----------------------------------------------------------------- what every tool has

    async def request_identity(self) -> Identity:
        query = self.wire.identity_query
        payload = await self.ask("read identity", query)
        fields = payload.split(",")
        if len(fields) != 4 or not all(fields):
            raise self.garbled("read identity", query, payload, "not vendor,model,serial,firmware")
        return Identity(*fields)

    async def request_alarms(self) -> dict[str, str]:
        """Active alarms by code, each with its text from the spec; a code not in the spec is
        a protocol error (the page lists every alarm)."""
        query = self.wire.alarm_query
        payload = await self.ask("read alarms", query)
        if payload == "NONE":
            return {}
        codes = payload.split(",")
        texts = self.spec.alarm_text
        unknown = [code for code in codes if code not in texts]
        if unknown:
            raise self.garbled("read alarms", query, payload, f"unknown alarm {', '.join(unknown)}")
        return {code: texts[code] for code in codes}

    async def request_interlocks(self) -> dict[str, bool]:
        return self.interlocks_from(await self.ask("read interlocks", self.wire.interlock_query))

    def interlocks_from(self, payload: str) -> dict[str, bool]:
        """The interlock query's payload read: closed or not, by the driver's names."""
        action, query = "read interlocks", self.wire.interlock_query
        interlocks = host_interlocks(self.spec)
        fields = parse_fields(self, action, payload)
        if set(fields) != {i.key for i in interlocks} or not set(fields.values()) <= {"0", "1"}:
            raise self.garbled(
                action,
                query,
                " ".join(f"{key}={value}" for key, value in fields.items()),
                "expected " + " ".join(f"{i.key}=0|1" for i in interlocks),
            )
        return {interlock.name: fields[interlock.key] == "1" for interlock in interlocks}

    async def require_command_interlocks(self, action: str, command: str) -> None:
        """Refuse with `InterlockOpen`, before `command` is sent, if one it needs is open."""
        await self.require_interlocks(action, self.spec.command_by_name[command].interlocks)

    async def status_when_closed(
        self, action: str, command: str, status_from: Callable[[str], T]
    ) -> T:
        """The status (its payload read by `status_from`), read on one line with the
        interlocks (`ILK?;STAT?`) once those `command` needs are seen closed: the
        `InterlockOpen` of `require_command_interlocks` otherwise."""
        wire = self.wire
        interlocks, status = await self.ask_compound(
            action, wire.interlock_query, wire.status_query
        )
        needed = self.spec.command_by_name[command].interlocks
        self.require_closed(action, self.interlocks_from(interlocks), needed)
        return status_from(status)

    # ----------------------------------------------------------------- jobs

    async def wait_idle(
        self,
        action: str,
        request_status: Callable[[], Awaitable[S]],
        ended: Callable[[S], bool],
        timeout_s: float,
        *,
        record: Callable[[S], object],
        progress: Callable[[S], str],
        first: S | None = None,
        fault_action: Callable[[S], str] | None = None,
    ) -> S:
        """Poll the status until the tool is `IDLE` with `ended(status)` (its job counter past
        the one read before the job); the status that showed it.

        Every status read is recorded (`record`); `first`, the status read as the job started,
        is judged first, and the wait for its `STATE` follows it (`wait_held`). `FAULT` reads
        the tool's alarms and raises them (for the action `fault_action(status)` names,
        `action` by default); past `timeout_s` the job is stopped (`wait_until` aborts) and the
        timeout says `still <state> (<progress(status)>)`.
        """
        status = first

        async def judge(read: S) -> S | None:
            nonlocal status
            status = read
            record(status)
            if status.state == "FAULT":
                await self.refresh_alarms()
                raise self.alarm_error(fault_action(status) if fault_action else action)
            if status.state == "IDLE" and ended(status):
                return status
            return None

        def still() -> str:
            assert status is not None  # wait_until polls once before it can time out
            return f"still {status.state.value.lower()} ({progress(status)})"

        return await self.wait_held(action, request_status, judge, timeout_s, still, first=first)

    async def wait_held(
        self,
        action: str,
        read: Callable[[], Awaitable[S]],
        judge: Callable[[S], Awaitable[T | None]],
        timeout_s: float,
        still: Callable[[], str],
        *,
        first: S | None = None,
    ) -> T:
        """`wait_until` on the tool's own wait, each poll judging (`judge`) the status it reads
        (`read`): once a status was read, each next status read is the wait query for the
        `STATE` just read, which the tool answers when its state changes (a job's end, an
        alarm) or after the wait's hold (`Equipment.wait_until(held_by_tool=True)`), so polls
        follow the tool instead of the poll interval (docs/decisions/0028). On a link that
        cannot carry a held reply (a tty) it polls every interval. `first`: the status read
        as the wait began, with the command that began it (`start_job`): the first poll judges
        it without reading it again (`reading_first`), and the first status read after it is
        already the wait query for its `STATE` (its enum member's name, the page's token)."""
        next_status = read if first is None else reading_first(first, read)

        async def poll() -> T | None:
            return await judge(await next_status())

        token = _SEEN.set(_Seen(None if first is None else first.state.name))
        held = self.link.holds_replies
        try:
            return await self.wait_until(action, poll, timeout_s, still, held_by_tool=held)
        finally:
            _SEEN.reset(token)

    async def start_job(
        self, action: str, command: str, status_from: Callable[[str], J]
    ) -> tuple[int, J]:
        """Send the job `command` once the interlocks its word needs are closed
        (`status_when_closed`), with the status query after it on its line (`<command>;STAT?`);
        the tool's job count before it and the status it started with, for `wait_job` (its
        `before` and `first`; `start_motion`)."""
        before = await self.status_when_closed(action, command.split(" ", 1)[0], status_from)
        return before.jobs_completed, await self.start_motion(action, command, status_from)

    async def wait_job(
        self,
        action: str,
        request_status: Callable[[], Awaitable[J]],
        before: int,
        timeout_s: float,
        *,
        record: Callable[[J], object],
        first: J | None = None,
    ) -> J:
        """Wait until the tool is idle with its job count past `before` (`wait_idle`); the
        timeout tells the time the job had left."""
        return await self.wait_idle(
            action,
            request_status,
            lambda status: status.jobs_completed != before,
            timeout_s,
            record=record,
            progress=lambda status: f"{status.remaining_s:g} s left",
            first=first,
        )

    async def _clear_alarms(self) -> None:
        await self.ask("reset alarms", self.wire.alarm_reset)

    def unsafe(self, fields: Mapping[str, str]) -> str | None:
        """What the status query's fields show that is not the safe state `STOP` brings: a
        `STATE` other than the role's at rest (`at_rest`, their names the page's tokens: idle,
        the job ended and what it moved stopped; fault, an alarm stopped it); None when they
        show none. A tool kind whose safe state is more adds it (the saw's spindle coasting
        down)."""
        state = fields["STATE"]
        at_rest = {rest.name for rest in self.at_rest}
        return None if state in at_rest else f"still {state.lower()}"

    async def _command_safe_state(self) -> None:
        """`STOP`, answered with a bare `OK`, then the status query polled (not held: what
        the safe state waits for may not change `STATE`) until it shows the safe state
        (`unsafe`) within `safe_state_timeout_s`; past it `ToolTimeout` says what still
        shows, without stopping again (this is the abort)."""
        await self.do("abort", self.wire.safe_state)
        await self.confirm_safe_state(
            lambda: self.ask_fields("abort", self.wire.status_query, ("STATE",)), self.unsafe
        )


#: Tool states in which a one-wafer tool takes a wafer transfer.
TRANSFER_STATES = (ToolState.IDLE, ToolState.ENGINEERING, ToolState.FAULT)


class OneWaferDriver(HostLinkDriver):
    """A host-link tool that holds one wafer at a time (the litho cell, the wet bench): it
    takes the wafer with `LOAD <wafer>` (`RELOAD <wafer>` as a rework: `reloading`), once the
    interlocks that command needs are closed, and returns it with `UNLOAD <wafer>`."""

    async def load(self, wafer_id: str) -> None:
        action = f"load wafer {wafer_id}"
        self.check_wafer_id(wafer_id)
        self.require_state(action, *TRANSFER_STATES)
        command = "RELOAD" if wafer_id in self.reworks else "LOAD"
        await self.require_command_interlocks(action, command)
        async with self.loading(action):
            await self.do(action, f"{command} {wafer_id}")

    async def unload(self, wafer_id: str) -> None:
        action = f"unload wafer {wafer_id}"
        self.check_wafer_id(wafer_id)
        self.require_state(action, *TRANSFER_STATES)
        await self.do(action, f"UNLOAD {wafer_id}")
