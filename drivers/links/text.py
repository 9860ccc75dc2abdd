"""Links that exchange lines of text (SCPI and ASCII command sets over VISA or serial): the
terminations, the encoding, and a bound on how long a reply line may grow.
"""

from __future__ import annotations

import codecs
from abc import abstractmethod

from ..errors import ProtocolError
from .base import Link

#: The largest `max_line_bytes` a text link takes: a reply line of 16 MiB is not a status.
MAX_LINE_BYTES = 16 * 1024 * 1024


class TextLink(Link):
    """A link that exchanges lines of text: SCPI and ASCII command sets (VISA or serial).

    A reply is at most `max_line_bytes` bytes before its termination; a longer one is a
    `ProtocolError`, raised as soon as that many bytes arrived without the termination (a tool
    that floods is cut off there, not when memory runs out).
    """

    def __init__(
        self,
        address: str,
        *,
        read_termination: str = "\n",
        write_termination: str = "\n",
        encoding: str = "ascii",
        max_line_bytes: int = 65536,
        **options: object,
    ) -> None:
        super().__init__(address, **options)  # type: ignore[arg-type]
        if (
            isinstance(max_line_bytes, bool)
            or not isinstance(max_line_bytes, int)
            or not 1 <= max_line_bytes <= MAX_LINE_BYTES
        ):
            raise ValueError(
                f"{self.tool} at {address}: max_line_bytes must be a whole number "
                f"1..{MAX_LINE_BYTES}, got {max_line_bytes!r}"
            )
        if not read_termination:
            raise ValueError(f"{self.tool} at {address}: read_termination must not be empty")
        try:
            codecs.lookup(encoding)
        except (LookupError, TypeError):
            raise ValueError(
                f"{self.tool} at {address}: encoding {encoding!r} is not a text encoding "
                "(e.g. 'ascii', 'latin-1')"
            ) from None
        self.read_termination = read_termination
        self.write_termination = write_termination
        self.encoding = encoding
        self.max_line_bytes = max_line_bytes

    async def query(self, command: str, *, idempotent: bool = False, held_s: float = 0.0) -> str:
        """Send `command` and return the tool's one-line reply, without its termination.

        `idempotent=True` says the command only reads (a status or identity query): if the
        tool does not answer at all it is asked again, up to `read_retries` times, before
        `ToolTimeout`. Leave it False for anything that changes the tool, which is never sent
        twice. A reply that is the command itself (a tool echoing its input) is a
        `ProtocolError`, and the connection is dropped, since its real answer may follow.
        `held_s`: the tool may hold its reply that long (a bounded blocking wait,
        `Link.exchange`).
        """

        async def answer(raw: bytes) -> str:
            reply = self._decode(command, raw)
            self.log_wire("<", reply)
            if reply == command:
                await self._drop(by_link=True)
                raise ProtocolError(
                    self.tool,
                    self.address,
                    command,
                    "the tool echoed the command instead of answering it (is its echo on?)",
                )
            return reply

        async def operation() -> str:
            self.log_wire(">", command)
            if not held_s:
                return await answer(await self._query(command))
            with self.clock.activity():
                await self._write(command)
            return await answer(await self._read(command))

        return await self.exchange(
            command, operation, idempotent=idempotent, held_s=held_s, answer=answer
        )

    async def write(self, command: str) -> None:
        """Send `command` that the protocol answers with nothing."""

        async def operation() -> None:
            self.log_wire(">", command)
            await self._write(command)

        await self.exchange(command, operation)

    def _encode(self, command: str) -> bytes:
        """`command` with its write termination, as bytes; a `ProtocolError` if it cannot be."""
        try:
            return (command + self.write_termination).encode(self.encoding)
        except UnicodeEncodeError as error:
            raise ProtocolError(
                self.tool, self.address, command, f"cannot encode as {self.encoding}"
            ) from error

    def _decode(self, command: str, raw: bytes) -> str:
        """The reply `raw` (its termination included) as text, without the termination."""
        try:
            text = raw.decode(self.encoding)
        except UnicodeDecodeError as error:
            raise ProtocolError(
                self.tool, self.address, command, f"undecodable reply {raw!r} ({error.reason})"
            ) from None
        if not text.endswith(self.read_termination):
            raise ProtocolError(self.tool, self.address, command, f"unterminated reply {raw!r}")
        return text[: len(text) - len(self.read_termination)]

    def _reply_length(self, data: bytes) -> int:
        """A reply line ends at the read termination, within `max_line_bytes`."""
        termination = self.read_termination.encode(self.encoding)
        end = data.find(termination, 0, self.max_line_bytes + len(termination))
        return end + len(termination) if end >= 0 else 0

    def _too_long(self, command: str) -> ProtocolError:
        """The error for a reply that reached `max_line_bytes` without its termination."""
        return ProtocolError(
            self.tool,
            self.address,
            command,
            f"no {self.read_termination!r} within {self.max_line_bytes} bytes",
        )

    @abstractmethod
    async def _query(self, command: str) -> bytes:
        """Write `command` (`_encode`d) and read one reply, its termination included.

        Bytes of a reply that has not completed are kept in `_reply_so_far` as they arrive;
        a reply that reaches `max_line_bytes` without its termination raises `_too_long`.
        """

    @abstractmethod
    async def _read(self, command: str) -> bytes:
        """Read the reply to `command` (already written), as `_query` reads it."""

    @abstractmethod
    async def _write(self, command: str) -> None:
        """Write `command` (`_encode`d) with its termination."""
