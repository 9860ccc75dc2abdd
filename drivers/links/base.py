"""What every link to a tool guarantees, whatever the wire.

A link owns one connection to one tool. It serialises exchanges (a query is a write and its
read, never interleaved with another), bounds each with a wall-clock timeout over the whole
exchange (not per chunk of bytes), logs every exchange to the `packline.wire` logger when a user
switches it on, turns library exceptions into the driver error hierarchy, and after a lost
connection reconnects on the next exchange according to its `ReconnectPolicy`. A timed-out
exchange drops the connection, because a late reply would otherwise be read as the answer to
the next question; a tty is the same line when reopened, so there the link drops that reply as
it comes (`_drop_late_reply`). An exchange that only reads (`idempotent`) and got no reply at
all is tried `read_retries` more times before the timeout is raised; one that changes the tool
never is.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
import os
import socket
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import serial

from packline.clock import Clock, WallClock
from packline.memory_wires import MemoryTransport, MemoryWires
from packline.plain_words import one_of
from packline.spelling import did_you_mean

from ..errors import ConnectionLost, ProtocolError, ToolConnectionError, ToolError, ToolTimeout
from .deadline import ExchangeDeadline

T = TypeVar("T")

wire_log = logging.getLogger("packline.wire")
log = logging.getLogger(__name__)

#: The longest a link waits for one reply or one connection: a tool that has not answered in
#: ten minutes is lost, and a longer timeout would only hide it.
MAX_TIMEOUT_S = 600.0

#: The most retries a link allows for a read that got no reply: each costs up to `timeout_s`.
MAX_READ_RETRIES = 3

#: How many bytes of a garbled or incomplete reply an error message quotes.
_QUOTED_REPLY_BYTES = 32


def quote_reply(data: bytes | bytearray) -> str:
    """`data` for an error message: its size and its first bytes, however large it is."""
    head = bytes(data[:_QUOTED_REPLY_BYTES])
    more = "..." if len(data) > _QUOTED_REPLY_BYTES else ""
    return f"{len(data)} byte(s) {head!r}{more}"


def read_waiting(
    source: asyncio.BaseTransport | socket.socket | serial.Serial | None, limit: int
) -> bytes:
    """Up to `limit` bytes that the OS holds for `source` and nobody has read yet, taken
    without waiting (a transport's are taken from under it: for a connection about to close,
    or bytes the caller frames itself). Nothing when there is nothing or the wire is gone."""
    try:
        if isinstance(source, MemoryTransport):
            return source.take_unread(limit)
        if isinstance(source, asyncio.BaseTransport):
            if (transport_socket := source.get_extra_info("socket")) is not None:
                sock: socket.socket = transport_socket.dup()
                with sock:
                    return sock.recv(limit, socket.MSG_DONTWAIT)
            source = source.get_extra_info("serial")
        if isinstance(source, socket.socket):
            return source.recv(limit, socket.MSG_DONTWAIT)
        if isinstance(source, serial.Serial) and source.is_open and source.in_waiting:
            return bytes(source.read(limit))
    except (OSError, serial.SerialException):  # nothing waiting, or not connected any more
        pass
    return b""


def reaches_a_tty(port: str) -> bool:
    """Whether pyserial's `port` (a device path or a URL) opens a tty, as opposed to a TCP
    connection to a serial device server's raw TCP port (`socket://`)."""
    return not port.startswith("socket://")


def socket_url_endpoint(port: str) -> tuple[str, int] | None:
    """The host and port pyserial's `port` reaches when it is a `socket://host:port` URL (raw
    TCP, as to a serial device server); None for any other port."""
    if not port.startswith("socket://"):
        return None
    url = urlsplit(port)
    return url.hostname or "", url.port or 0


@contextmanager
def wire_log_to(path: str | Path) -> Iterator[None]:
    """Append every exchange of every link to the file `path` while the block runs.

    The same as switching the `packline.wire` logger to DEBUG with a file handler; the
    command line's `--wire-log FILE` uses it. A new file is readable by the user alone (it
    holds tool addresses, recipes and wafer ids).
    """
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600))
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    level = wire_log.level
    wire_log.addHandler(handler)
    wire_log.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        wire_log.removeHandler(handler)
        wire_log.setLevel(level)
        handler.close()


@dataclass(frozen=True)
class ReconnectPolicy:
    """How a link reconnects after it lost its connection.

    `attempts` reconnects are tried on the next exchange, `delay_s` apart; 0 attempts means a
    lost connection stays lost until `connect()` is called again.
    """

    attempts: int = 2
    delay_s: float = 0.2

    def __post_init__(self) -> None:
        attempts, delay_s = self.attempts, self.delay_s
        if isinstance(attempts, bool) or not isinstance(attempts, int) or not 0 <= attempts <= 100:
            raise ValueError(
                "ReconnectPolicy.attempts must be >= 0 and <= 100, a whole number; "
                f"got {attempts!r}"
            )
        if (
            isinstance(delay_s, bool)
            or not isinstance(delay_s, int | float)
            or not 0 <= delay_s <= MAX_TIMEOUT_S
        ):
            raise ValueError(
                f"ReconnectPolicy.delay_s must be >= 0 and <= {MAX_TIMEOUT_S:g} s, a number; "
                f"got {delay_s!r}"
            )


def is_timeout_s(value: object) -> bool:
    """Whether `value` is a timeout packline takes: a number of seconds, more than 0 and at
    most `MAX_TIMEOUT_S` (not a bool, not NaN)."""
    return (
        not isinstance(value, bool)
        and isinstance(value, int | float)
        and math.isfinite(value)
        and 0 < value <= MAX_TIMEOUT_S
    )


#: The parities a UART takes (pyserial's letters), and what each is called.
PARITY_NAMES = {"N": "none", "E": "even", "O": "odd", "M": "mark", "S": "space"}
PARITIES = tuple(PARITY_NAMES)
#: The data bits a character a UART takes.
BYTESIZES = (5, 6, 7, 8)
#: The stop bits a UART takes.
STOPBITS = (1, 1.5, 2)


def check_line_settings(
    where: str,
    baudrate: int,
    bytesize: int = 8,
    parity: str = "N",
    stopbits: float = 1,
    parities: tuple[str, ...] = PARITIES,
) -> None:
    """Refuse serial line settings no UART takes, or a parity not among `parities` (those the
    link's library takes), naming `where` (the tool and its address); a choice as a station
    file's other choices are refused (`one_of`: `parity: e` -> did you mean 'E'?)."""
    problems = []
    if (
        isinstance(baudrate, bool)
        or not isinstance(baudrate, int)
        or not 50 <= baudrate <= 4_000_000
    ):
        problems.append(f"baudrate must be a whole number of baud 50..4000000, got {baudrate!r}")
    if isinstance(bytesize, bool) or bytesize not in BYTESIZES:
        problems.append(f"bytesize {_number_choice(BYTESIZES)}, got {bytesize!r}")
    if parity not in parities:
        problems.append(f"parity {_parity_choice(parity, parities)}, got {parity!r}")
    if isinstance(stopbits, bool) or stopbits not in STOPBITS:
        problems.append(f"stopbits {_number_choice(STOPBITS)}, got {stopbits!r}")
    if problems:
        raise ValueError(f"{where}: " + "; ".join(problems))


def _number_choice(allowed: tuple[float, ...]) -> str:
    """The refusal of a number none of `allowed`: no number is a slip of another."""
    return one_of(None, [str(choice) for choice in allowed])


def _parity_choice(given: object, parities: tuple[str, ...]) -> str:
    """The refusal of `given`, none of `parities`: a letter in the other case is offered as a
    slip (`e`: 'E'), a parity's name with its letter (`even`: 'E')."""
    words = one_of(given, parities)
    letters = {name: letter for letter, name in PARITY_NAMES.items() if letter in parities}
    if isinstance(given, str) and given.lower() in letters:
        words += f" (the letter of {given.lower()} parity is {letters[given.lower()]!r})"
    return words


class Link(ABC):
    """One connection to one tool; subclasses provide the wire, this class the guarantees."""

    #: The library or OS errors that mean the connection is gone.
    connection_errors: tuple[type[BaseException], ...] = (ConnectionError, OSError, EOFError)

    def __init__(
        self,
        address: str,
        *,
        tool: str = "tool",
        timeout_s: float = 2.0,
        connect_timeout_s: float = 5.0,
        reconnect: ReconnectPolicy | Mapping[str, float] = ReconnectPolicy(),
        read_retries: int = 1,
        clock: Clock | None = None,
    ) -> None:
        if (
            isinstance(read_retries, bool)
            or not isinstance(read_retries, int)
            or not 0 <= read_retries <= MAX_READ_RETRIES
        ):
            raise ValueError(
                f"{tool} at {address}: read_retries must be a whole number 0..{MAX_READ_RETRIES}, "
                f"got {read_retries!r}"
            )
        for option, value in (("timeout_s", timeout_s), ("connect_timeout_s", connect_timeout_s)):
            if not is_timeout_s(value):
                raise ValueError(
                    f"{tool} at {address}: {option} must be a positive number of seconds, "
                    f"got {value!r} (at most {MAX_TIMEOUT_S:g} s)"
                )
        if isinstance(reconnect, Mapping):
            # A station file (YAML) spells the policy as a mapping: {attempts: 3, delay_s: 0.5};
            # ReconnectPolicy checks each value's type.
            spelled: Mapping[str, Any] = reconnect
            fields = [field.name for field in dataclasses.fields(ReconnectPolicy)]
            unknown = [str(key) for key in spelled if key not in fields]
            if unknown:
                raise ValueError(
                    f"{tool} at {address}: reconnect takes {' and '.join(fields)}, not "
                    + ", ".join(key + did_you_mean(key, fields) for key in unknown)
                )
            try:
                reconnect = ReconnectPolicy(**spelled)
            except ValueError as error:
                raise ValueError(f"{tool} at {address}: {error}") from None
        elif not isinstance(reconnect, ReconnectPolicy):
            raise TypeError(
                f"{tool} at {address}: reconnect must be a ReconnectPolicy or a mapping with "
                f"attempts and delay_s, got {reconnect!r}"
            )
        self.address = address
        self.tool = tool
        self.timeout_s = float(timeout_s)
        self.connect_timeout_s = float(connect_timeout_s)
        self.reconnect = reconnect
        self.read_retries = read_retries
        self.clock: Clock = clock or WallClock()
        self._lock = asyncio.Lock()
        self._connected = False
        self._ever_connected = False
        #: The link itself dropped the connection (a timed-out or cancelled exchange): the
        #: wire was not lost, so the next exchange reopens it at least once, whatever `reconnect`
        #: says. Otherwise `attempts=0` would leave a cancelled operation unable to send the
        #: abort that makes the tool safe.
        self._dropped_by_link = False
        #: The bytes of a reply that began but has not completed, in the exchange running now:
        #: when time runs out they are the answer if they make a complete reply
        #: (`_reply_length`), else they make the error a garbled or incomplete reply, not
        #: silence. `_close` adds what the wire received that the link had not read yet.
        self._reply_so_far: bytes | bytearray = b""
        #: An exchange that expected a reply ended with the link dropping the connection (a
        #: timeout, a cancel, a garbled reply): the tool may still send that reply, late.
        self._reply_owed = False
        self._deadline = ExchangeDeadline()
        #: Whether an exchange marks its wire work (`clock.activity()`): the wall clock's mark
        #: is empty, and not entering it spares every exchange two calls and a `with`.
        self._marks_activity = type(self.clock).activity is not WallClock.activity

    @property
    def connected(self) -> bool:
        return self._connected

    def _wires_serving(self, host: str, port: int) -> MemoryWires | None:
        """The clock's memory wires when they serve `host:port`: a simulated tool of this
        process, which the link reaches in memory (decision 0063); else None."""
        wires = self.clock.wires
        return wires if wires is not None and wires.serves(host, port) else None

    async def connect(self) -> None:
        """Open the connection, within `connect_timeout_s`."""
        async with self._lock:
            # Wire work: a virtual clock must not jump over a connect in flight.
            with self.clock.activity():
                await self._connect_once("connect")
        self._ever_connected = True

    async def close(self) -> None:
        """Close the connection; safe to call twice or on a link that never connected."""
        async with self._lock:
            self._connected = False
            self._dropped_by_link = False
            with self.clock.activity():
                await self._close()

    async def __aenter__(self) -> Link:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def log_wire(self, direction: str, payload: object) -> None:
        """Record one direction of an exchange (`>` sent, `<` received) when wire logging is on."""
        if wire_log.isEnabledFor(logging.DEBUG):
            wire_log.debug("%s %s %s %r", self.tool, self.address, direction, payload)

    async def exchange(
        self,
        action: str,
        operation: Callable[[], Awaitable[T]],
        *,
        idempotent: bool = False,
        held_s: float = 0.0,
        answer: Callable[[bytes], Awaitable[T]] | None = None,
    ) -> T:
        """Run one exchange under the link's lock, timeout, reconnect policy and error mapping.

        `action` says what was asked (it goes into every error message); `operation` does the
        I/O on the open connection. `answer` is what the operation makes of a complete reply
        (its bytes, one frame of the link's framing): given, a reply that was complete when
        time ran out but not yet read (`_reply_length`) is answered by it instead of failing.
        An `idempotent` exchange (a read that changes nothing on
        the tool) that got no reply at all is tried again, up to `read_retries` times, before
        `ToolTimeout` is raised; any other is never repeated.

        `held_s` is for a bounded blocking wait on the tool (a query it answers when something
        changes, or once `held_s` of process time have passed): the reply is then due within
        `held_s` of the clock's time plus `timeout_s`, and the operation marks its own wire
        work as `clock.activity()` (its write), so that a virtual clock can jump while the
        tool holds the reply (docs/decisions/0028-held-replies-on-host-links.md).
        """
        # The lock's own calls rather than `async with`, whose two coroutines cost more.
        await self._lock.acquire()
        try:
            if held_s or not self._marks_activity:
                return await self._attempts(action, operation, idempotent, held_s, answer)
            # The whole exchange, a reconnect (and its wall-clock delays) included, is wire
            # work that a virtual clock must not jump over, and its task goes on after it in
            # the order the exchanges began; a held reply is not.
            async with self.clock.exchange():
                return await self._attempts(action, operation, idempotent, held_s, answer)
        finally:
            self._lock.release()

    async def _attempts(
        self,
        action: str,
        operation: Callable[[], Awaitable[T]],
        idempotent: bool,
        held_s: float,
        answer: Callable[[bytes], Awaitable[T]] | None,
    ) -> T:
        """The attempts at an exchange (under the lock): each reconnects if need be, runs and
        maps errors; a `ToolTimeout` ends them unless the exchange is `idempotent` and has
        retries left. (One coroutine, not one an attempt: a coroutine costs every exchange.)"""
        retries_left = self.read_retries if idempotent else 0
        while True:
            try:
                if not self._connected or not self._is_open():
                    with self.clock.activity():
                        await self._drop()
                        await self._reconnect(action)
                self._reply_so_far = b""
                self._reply_owed = answer is not None
                try:
                    with self._deadline.within(None if held_s else self.timeout_s):
                        if not held_s:
                            return await operation()
                        return await self._held(operation, held_s)
                except TimeoutError:
                    return await self._timed_out(action, held_s, answer)
                except ToolError:
                    raise
                except self.connection_errors as error:
                    await self._drop()
                    raise ConnectionLost(
                        self.tool, self.address, action, f"connection lost ({error!r})"
                    ) from error
                except asyncio.CancelledError:
                    # A half-done exchange leaves the stream out of step: start afresh next time.
                    await self._drop(by_link=True)
                    raise
                finally:
                    if self._connected:
                        self._reply_owed = False
            except ToolTimeout as timeout:
                if not retries_left:
                    raise
                retries_left -= 1
                log.info("%s; a read, so asked again", timeout)

    async def _timed_out(
        self, action: str, held_s: float, answer: Callable[[bytes], Awaitable[T]] | None
    ) -> T:
        """The end of an attempt that ran out of time: the answer to a reply that was complete
        (only its reading was late), else `ProtocolError` for a partial one or `ToolTimeout`."""
        # Drop first: it ends whatever still reads, and keeps what the wire received
        # unread, so the bytes of the reply are all in.
        await self._drop(by_link=True)
        held = bytes(self._reply_so_far)
        if answer is not None and (length := self._reply_length(held)):
            # A starved event loop had not got to it: only the reading was late.
            log.info(
                "%s at %s: %s: the reply was complete when %g s ran out; taken",
                self.tool,
                self.address,
                action,
                self.timeout_s,
            )
            self._reply_owed = False
            return await answer(held[:length])
        within = f"{self.timeout_s:g} s" + (f" after {held_s:g} s held" if held_s else "")
        if held:
            raise ProtocolError(
                self.tool,
                self.address,
                action,
                f"garbled or incomplete reply: no complete reply within "
                f"{within}, only {quote_reply(held)}",
            ) from None
        raise ToolTimeout(self.tool, self.address, action, f"no reply within {within}") from None

    async def _held(self, operation: Callable[[], Awaitable[T]], held_s: float) -> T:
        """Run `operation`; once `held_s` of the clock's time have passed without its end, it
        has `timeout_s` of wall time left (the exchange's deadline is set then)."""
        loop = asyncio.get_running_loop()
        hold = self.clock.timer(held_s)
        running = True

        def arm(hold: asyncio.Future[None]) -> None:
            # Not once the operation has ended (its deadline may be the next exchange's), nor
            # for a clock that refused its jump (its check failed: the reply stays unbounded).
            # The exception is read either way, so none is left unretrieved.
            if not hold.cancelled() and hold.exception() is None and running:
                self._deadline.reschedule(loop.time() + self.timeout_s)

        hold.add_done_callback(arm)
        try:
            return await operation()
        finally:
            running = False
            hold.remove_done_callback(arm)  # stopped, it costs no callback
            hold.cancel()

    async def _reconnect(self, action: str) -> None:
        if not self._ever_connected:
            raise ToolConnectionError(self.tool, self.address, action, "not connected")
        attempts = self.reconnect.attempts
        if self._dropped_by_link:
            attempts = max(attempts, 1)
        last: ToolError | None = None
        for attempt in range(attempts):
            if attempt:
                await asyncio.sleep(self.reconnect.delay_s)
            try:
                await self._connect_once(action)
                return
            except ToolConnectionError as error:
                last = error
        raise ConnectionLost(
            self.tool,
            self.address,
            action,
            f"connection lost and {attempts} reconnect attempt(s) failed"
            + (f": {last.detail}" if last else ""),
        )

    async def _connect_once(self, action: str) -> None:
        # What the line had received of the reply owed when it closed.
        before = bytes(self._reply_so_far)
        try:
            async with asyncio.timeout(self.connect_timeout_s):
                await self._open()
                await self._drop_late_reply(before)
        except TimeoutError:
            await self._close()
            raise ToolConnectionError(
                self.tool,
                self.address,
                action,
                f"no connection within {self.connect_timeout_s:g} s",
            ) from None
        except ToolError:
            await self._close()
            raise
        except (*self.connection_errors, ValueError) as error:  # type: ignore[misc]
            await self._close()
            raise ToolConnectionError(
                self.tool, self.address, action, f"cannot connect ({error})"
            ) from error
        self._connected = True
        self._dropped_by_link = False

    async def _drop(self, *, by_link: bool = False) -> None:
        """Close the wire; `by_link` when the link chose to (the peer did not go away)."""
        if self._connected:
            self._dropped_by_link = by_link
        self._connected = False
        # Wire work a virtual clock must not jump over, even where the exchange it ends was
        # not (a held reply given up): the close may wait for a worker thread.
        with self.clock.activity():
            await self._close()

    async def _drop_late_reply(self, before: bytes) -> None:
        """On a line that reopening does not make anew (`reopens_same_line`), wait for the
        rest of the reply owed (`_reply_owed`) and drop it, so that it never answers the
        next question.

        `before` is what the line had received of that reply when it closed; nothing is
        waited for when that was the whole reply. What arrives is taken until it completes a
        reply (alone, or after `before`), for at most `timeout_s` within half the connect's
        own bound: a tool that never sends it leaves nothing to drop, and nothing that came
        before the next question is its answer.
        """
        owed, self._reply_owed = self._reply_owed, False
        if not owed or not self.reopens_same_line or self._reply_length(before):
            return
        late = bytearray()
        try:
            async with asyncio.timeout(min(self.timeout_s, self.connect_timeout_s / 2)):
                while not (self._reply_length(bytes(late)) or self._reply_length(before + late)):
                    if (arrived := await self._next_arrival()) is None:
                        break  # the line ended
                    late += arrived
        except TimeoutError:
            pass
        if late:
            log.info(
                "%s at %s: dropped a late reply: %s", self.tool, self.address, quote_reply(late)
            )

    @property
    def reopens_same_line(self) -> bool:
        """Whether reopening the connection reopens the same line (a tty: a reply the tool
        sends late reaches whoever listens next) rather than making a new one (a TCP
        connection, which no late reply of the old one reaches)."""
        return False

    @property
    def holds_replies(self) -> bool:
        """Whether a reply the tool holds (`exchange(held_s=...)`) is safe on this link: one
        whose connection the link drops when it gives an exchange up, so that a reply abandoned
        in flight never reaches a later exchange (TCP). A tty's line stays the same line
        (`reopens_same_line`): a reply the tool sent as the host gave up, long after, would
        answer the host's next request."""
        return not self.reopens_same_line

    async def _next_arrival(self) -> bytes | None:
        """Wait for bytes on the line just opened, before anything is asked on it, and take
        them (no exchange sees them); b"" may mean nothing yet, None means the line ended.

        Called only on a line that `reopens_same_line`, so every link that can be one
        overrides it.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot tell what its line received")

    def _reply_length(self, data: bytes) -> int:
        """How many bytes of `data` (what the link holds of a reply) make one complete reply
        by the link's framing, from its start; 0 while it is incomplete or not one at all.
        A link without a framing of its own never completes a reply this way."""
        return 0

    def _is_open(self) -> bool:
        """Whether the wire is still up, as far as can be told without I/O.

        A link whose library notices a peer closing while idle overrides this, so that the
        next exchange reconnects at once instead of failing with `ConnectionLost` first.
        """
        return True

    @abstractmethod
    async def _open(self) -> None:
        """Open the wire connection (called under the lock, inside the connect timeout)."""

    @abstractmethod
    async def _close(self) -> None:
        """Release the wire connection; must not raise and must tolerate being called twice.

        What the wire received that the link has not read yet is added to `_reply_so_far`
        (without waiting) before the connection goes, as far as the wire can tell.
        """
