"""What every link to a tool guarantees, whatever the wire.

A link owns one connection to one tool. It serialises exchanges (a query is a write and its
read, never interleaved with another), bounds each with a wall-clock timeout, logs every
exchange to the `packline.wire` logger when a user switches it on, turns library exceptions
into the driver error hierarchy, and after a lost connection reconnects on the next exchange
according to its `ReconnectPolicy`. A timed-out exchange drops the connection, because a late
reply would otherwise be read as the answer to the next question.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from packline.clock import Clock, WallClock

from ..errors import ConnectionLost, ToolConnectionError, ToolError, ToolTimeout

T = TypeVar("T")

wire_log = logging.getLogger("packline.wire")

#: The longest a link waits for one reply or one connection: a tool that has not answered in
#: ten minutes is lost, and a longer timeout would only hide it.
MAX_TIMEOUT_S = 600.0


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
        if self.attempts < 0:
            raise ValueError(f"ReconnectPolicy.attempts must be >= 0, got {self.attempts}")
        if self.delay_s < 0:
            raise ValueError(f"ReconnectPolicy.delay_s must be >= 0, got {self.delay_s}")


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
        clock: Clock | None = None,
    ) -> None:
        for option, value in (("timeout_s", timeout_s), ("connect_timeout_s", connect_timeout_s)):
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or not 0 < value <= MAX_TIMEOUT_S
            ):
                raise ValueError(
                    f"{tool} at {address}: {option} must be a positive number of seconds, "
                    f"got {value!r} (at most {MAX_TIMEOUT_S:g} s)"
                )
        if isinstance(reconnect, Mapping):
            # A station file (YAML) spells the policy as a mapping: {attempts: 3, delay_s: 0.5}.
            try:
                reconnect = ReconnectPolicy(**reconnect)
            except TypeError:
                raise ValueError(
                    f"{tool} at {address}: reconnect takes attempts and delay_s, "
                    f"got {', '.join(map(str, reconnect))}"
                ) from None
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
        self.clock: Clock = clock or WallClock()
        self._lock = asyncio.Lock()
        self._connected = False
        self._ever_connected = False
        #: The link itself dropped the connection (a timed-out or cancelled exchange): the
        #: wire was not lost, so the next exchange reopens it at least once, whatever `reconnect`
        #: says. Otherwise `attempts=0` would leave a cancelled operation unable to send the
        #: abort that makes the tool safe.
        self._dropped_by_link = False

    @property
    def connected(self) -> bool:
        return self._connected

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

    async def exchange(self, action: str, operation: Callable[[], Awaitable[T]]) -> T:
        """Run one exchange under the link's lock, timeout, reconnect policy and error mapping.

        `action` says what was asked (it goes into every error message); `operation` does the
        I/O on the open connection.
        """
        async with self._lock:
            # The whole exchange, a reconnect (and its wall-clock delays) included, is wire
            # work that a virtual clock must not jump over.
            with self.clock.activity():
                if not self._connected or not self._is_open():
                    await self._drop()
                    await self._reconnect(action)
                try:
                    async with asyncio.timeout(self.timeout_s):
                        return await operation()
                except TimeoutError:
                    await self._drop(by_link=True)
                    raise ToolTimeout(
                        self.tool, self.address, action, f"no reply within {self.timeout_s:g} s"
                    ) from None
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
        try:
            async with asyncio.timeout(self.connect_timeout_s):
                await self._open()
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
        except (*self.connection_errors, ValueError) as error:
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
        await self._close()

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
        """Release the wire connection; must not raise and must tolerate being called twice."""


class TextLink(Link):
    """A link that exchanges lines of text: SCPI and ASCII command sets (VISA or serial)."""

    def __init__(
        self,
        address: str,
        *,
        read_termination: str = "\n",
        write_termination: str = "\n",
        encoding: str = "ascii",
        **options: object,
    ) -> None:
        super().__init__(address, **options)  # type: ignore[arg-type]
        self.read_termination = read_termination
        self.write_termination = write_termination
        self.encoding = encoding

    async def query(self, command: str) -> str:
        """Send `command` and return the tool's one-line reply, without its termination."""

        async def operation() -> str:
            self.log_wire(">", command)
            reply = await self._query(command)
            self.log_wire("<", reply)
            return reply

        return await self.exchange(command, operation)

    async def write(self, command: str) -> None:
        """Send `command` that the protocol answers with nothing."""

        async def operation() -> None:
            self.log_wire(">", command)
            await self._write(command)

        await self.exchange(command, operation)

    @abstractmethod
    async def _query(self, command: str) -> str:
        """Write `command` with its termination and read one terminated reply."""

    @abstractmethod
    async def _write(self, command: str) -> None:
        """Write `command` with its termination."""
