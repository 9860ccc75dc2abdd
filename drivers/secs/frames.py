"""The HSMS frame (SEMI E37 section 8): its bytes, its control types and their status codes.

Every HSMS message is a 4-byte length, a 10-byte header (session id, stream and W-bit or
control status, function or reason, PType, SType, and the system bytes that pair a reply with
its request) and the SECS-II body. Control messages (SType 1-9) select and deselect the
session, test the link, reject what cannot be handled and separate (end) the session. This
module turns messages into frames and a TCP byte stream back into frames; what a frame means
to the session is `HsmsLink`'s (`hsms.py`).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from enum import IntEnum
from typing import NamedTuple

from .items import encode
from .messages import SecsMessage

#: The largest message the link accepts; a longer length prefix is taken as a broken peer
#: (E37 allows up to 4 GiB, no tool sends that much in one message).
MAX_MESSAGE_BYTES = 64 * 1024 * 1024

#: The 4-byte length and the 10-byte header, big-endian.
_PREFIX = struct.Struct(">IHBBBBI")
_HEADER = struct.Struct(">HBBBBI")
HEADER_BYTES = _HEADER.size

#: The session id of control messages (E37.1: all ones).
CONTROL_SESSION = 0xFFFF


class SType(IntEnum):
    """HSMS session types (header byte 9)."""

    DATA = 0
    SELECT_REQ = 1
    SELECT_RSP = 2
    DESELECT_REQ = 3
    DESELECT_RSP = 4
    LINKTEST_REQ = 5
    LINKTEST_RSP = 6
    REJECT_REQ = 7
    SEPARATE_REQ = 9


#: Reject.req reason codes (E37 section 8.3.21).
REJECT_REASONS: dict[int, str] = {
    1: "session type not supported",
    2: "presentation type not supported",
    3: "transaction not open",
    4: "entity not selected",
}

#: Select.rsp status codes (E37 section 8.3.5; 1-3 are E37's, others the peer's own).
SELECT_STATUS: dict[int, str] = {
    0: "selected",
    1: "communication already active",
    2: "connection not ready",
    3: "connection exhausted",
}

#: Deselect.rsp status codes.
DESELECT_STATUS: dict[int, str] = {0: "deselected", 1: "communication not established", 2: "busy"}

#: Each session type's name in the wire log and in errors (`select.req`).
CONTROL_NAMES: dict[int, str] = {stype: stype.name.lower().replace("_", ".") for stype in SType}


class Header(NamedTuple):
    """The 10 bytes after the length: bytes 2 and 3 are stream and function of a data message,
    status or reason of a control message."""

    session: int
    byte2: int
    byte3: int
    ptype: int
    stype: int
    system: int


def unpack_header(frame: bytes) -> Header:
    """The header at the start of `frame` (a frame without its length prefix)."""
    return Header(*_HEADER.unpack_from(frame))


def data_frame(message: SecsMessage, system: int, session: int) -> bytes:
    """`message` as the bytes on the wire, length prefix included."""
    body = b"" if message.body is None else encode(message.body)
    return (
        _PREFIX.pack(
            HEADER_BYTES + len(body),
            session,
            message.stream | (0x80 if message.reply_expected else 0),
            message.function,
            0,
            SType.DATA,
            system,
        )
        + body
    )


def control_frame(stype: SType, system: int, byte2: int = 0, byte3: int = 0) -> bytes:
    """A control message as the bytes on the wire, length prefix included."""
    return _PREFIX.pack(HEADER_BYTES, CONTROL_SESSION, byte2, byte3, 0, stype, system)


class MalformedFrame(Exception):
    """A length prefix no HSMS frame has: the peer is broken, the connection must go."""


class FrameReader:
    """Cuts a TCP byte stream into frames (header and body, without the length prefix)."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    @property
    def incomplete(self) -> bool:
        """Whether bytes of a message that has not fully arrived are waiting (T8 runs)."""
        return bool(self._buffer)

    def clear(self) -> None:
        """Forget what arrived: the connection it came on has ended."""
        self._buffer.clear()

    def frames(self, data: bytes) -> Iterator[bytes]:
        """Take `data` and yield each complete frame, one at a time (a caller that stops
        leaves the rest in the buffer); `MalformedFrame` at a length below a header or above
        `MAX_MESSAGE_BYTES`."""
        buffer = self._buffer
        buffer += data
        while len(buffer) >= 4:
            length = int.from_bytes(buffer[:4], "big")
            if length < HEADER_BYTES or length > MAX_MESSAGE_BYTES:
                raise MalformedFrame(f"malformed HSMS frame: length {length}")
            if len(buffer) < 4 + length:
                return
            frame = bytes(buffer[4 : 4 + length])
            del buffer[: 4 + length]
            yield frame
