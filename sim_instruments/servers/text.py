"""A line-oriented ASCII/SCPI tool on TCP: an instrument's socket port, or a serial device
behind a `socket://` serial server (pyserial's `socket://` is raw TCP, so one server serves both).
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Callable
from typing import Literal

from packline.clock import Clock
from packline.tasks import step_now

from .base import (
    LineHandler,
    ToolServer,
    cancel_and_wait,
    log,
    reader_limit,
    serve_lines,
    write_as_wire_work,
)

AddressForm = Literal["visa", "serial"]


def abort_connection(writer: asyncio.StreamWriter | asyncio.WriteTransport) -> None:
    """Drop a TCP connection with a reset, the way a tool that loses power is seen.

    A plain close sends FIN, which pyvisa-py does not notice (it reads nothing until its
    timeout); a reset is reported at once as a lost connection by every client library.
    """
    transport = writer.transport if isinstance(writer, asyncio.StreamWriter) else writer
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


class _LineProtocol(asyncio.StreamReaderProtocol):
    """What `asyncio.start_server` makes for a connection (a stream reader, and `_serve` in a
    task of its own given it and a writer), but the task awaiting the bytes that arrive goes
    on in the callback that delivers them, not on the loop's next pass (`step_now`): a line
    is answered in the pass it arrives in, as a simulated Modbus tool's request is (decision
    0075), its reply on its way in that pass (docs/decisions/0089)."""

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        # CPython's StreamReaderProtocol keeps the task it started for the connection's
        # `_serve` as `_task` (private, 3.8 on); without it the task runs in its turn
        step_now(getattr(self, "_task", None))


class TextToolServer(ToolServer):
    """Serve a `LineHandler` on TCP, one handler call per received line.

    `address_form` chooses the address `start()` returns: `"visa"` gives
    `TCPIP0::127.0.0.1::PORT::SOCKET`, `"serial"` gives `socket://127.0.0.1:PORT`. After
    `stop()`, `start()` binds the same port again, so a client can reconnect to a tool that
    came back.
    """

    def __init__(
        self,
        handler: LineHandler,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        address_form: AddressForm = "visa",
        read_termination: str = "\n",
        write_termination: str = "\n",
        encoding: str = "ascii",
        max_line_bytes: int | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(clock)
        if address_form not in ("visa", "serial"):
            raise ValueError(f"address_form must be 'visa' or 'serial', got {address_form!r}")
        self.handler = handler
        self.host = host
        self.port = port
        self.address_form = address_form
        self.read_termination = read_termination
        self.write_termination = write_termination
        self.encoding = encoding
        self.max_line_bytes = max_line_bytes
        self._server: asyncio.Server | None = None
        self._connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}
        self._stopping = False

    @property
    def connections(self) -> int:
        return len(self._connections)

    async def _start(self) -> str:
        self._stopping = False
        self._server = await asyncio.get_running_loop().create_server(
            self._protocol, self.host, self.port
        )
        self.port = self._server.sockets[0].getsockname()[1]
        if (wires := self.clock.wires) is not None:
            wires.listen(self.host, self.port, self._protocol)
        if self.address_form == "visa":
            return f"TCPIP0::{self.host}::{self.port}::SOCKET"
        return f"socket://{self.host}:{self.port}"

    def _writer_of(self, writer: asyncio.StreamWriter) -> Callable[[bytes], None]:
        """How a reply goes out on `writer`'s connection (`write_as_wire_work`)."""

        def write(data: bytes) -> None:
            write_as_wire_work(self.clock, writer.transport, lambda: writer.write(data))

        return write

    def _protocol(self) -> _LineProtocol:
        """The protocol of a connection, accepted by the listening socket or made in memory
        (`Clock.wires`)."""
        reader = asyncio.StreamReader(**reader_limit(self.max_line_bytes))
        return _LineProtocol(reader, self._serve)

    async def _stop(self) -> None:
        assert self._server is not None
        self._stopping = True
        if (wires := self.clock.wires) is not None:
            wires.stop_listening(self.host, self.port)
        self._server.close()
        for writer in self._connections.values():
            abort_connection(writer)
        await cancel_and_wait(list(self._connections))
        await self._server.wait_closed()
        self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        if self._stopping:
            # Accepted just before stop() closed the server, whose cancel missed this task.
            abort_connection(writer)
            return
        self._connections[task] = writer
        self.clock.watch_served(writer.transport)
        peer = writer.get_extra_info("peername")
        self._tell_connection(peer, opened=True)
        try:
            await serve_lines(
                reader,
                self._writer_of(writer),
                self.handler,
                read_termination=self.read_termination,
                write_termination=self.write_termination,
                encoding=self.encoding,
                max_line_bytes=self.max_line_bytes,
            )
        except (ConnectionError, asyncio.LimitOverrunError) as error:
            log.info("%s: connection dropped: %r", self._address, error)
        except Exception:
            log.exception("simulated tool at %s failed; dropping the connection", self._address)
        except asyncio.CancelledError:
            # Only stop() cancels a connection; end quietly, since asyncio's stream server
            # reports a connection task that ends cancelled as an error (Python 3.11).
            pass
        finally:
            del self._connections[task]
            writer.close()
            self._tell_connection(peer, opened=False)
