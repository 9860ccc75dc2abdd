"""What the equipment pushes to the GEM host, answered: S1F1, S1F13, S5F1, S6F1, S6F11, S10F1.

E30 lets the equipment open transactions too: are-you-there and establish-communication,
alarm reports (S5F1), trace data (S6F1), collection event reports (S6F11) and terminal
messages (S10F1). Each is acknowledged (a body of the wrong shape with the refusing code,
logged, never raised), then alarms, trace reports and events go to their listeners, in the
order they were added, and terminal messages into `terminal_messages`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TypeVar

from ..errors import ProtocolError
from ..secs.items import B, L
from ..secs.messages import SecsMessage
from .records import AlarmListener, EventListener, GemId, TraceListener
from .replies import Replies

log = logging.getLogger(__name__)

T = TypeVar("T")


class PushedMessages:
    """The host's answers to the equipment's primary messages.

    `reports` is the host's record of the reports it defined (RPTID -> VIDs), read to pair an
    S6F11's values with their VIDs; `traces` its record of the traces it initialized (TRID ->
    SVIDs), read to cut an S6F1's values into samples.
    """

    def __init__(
        self,
        replies: Replies,
        reports: Mapping[GemId, tuple[GemId, ...]],
        traces: Mapping[GemId, tuple[GemId, ...]],
    ) -> None:
        self._replies = replies
        self._reports = reports
        self._traces = traces
        #: Terminal messages from the equipment (S10F1), oldest first: (TID, text).
        self.terminal_messages: list[tuple[int, str]] = []
        self.event_listeners: list[EventListener] = []
        self.alarm_listeners: list[AlarmListener] = []
        self.trace_listeners: list[TraceListener] = []

    async def answer(self, message: SecsMessage) -> SecsMessage | None:
        """Answer a primary message of the equipment; None (the link sends S9F5) if unknown."""
        key = (message.stream, message.function)
        if key == (1, 1):
            return SecsMessage(1, 2, L())
        if key == (1, 13):
            return SecsMessage(1, 14, L(B(b"\x00"), L()))
        if key == (5, 1):
            return self._alarm_received(message)
        if key == (6, 1):
            return self._trace_received(message)
        if key == (6, 11):
            return self._event_received(message)
        if key == (10, 1):
            return self._terminal_received(message)
        return None

    def _alarm_received(self, message: SecsMessage) -> SecsMessage:
        return self._hand_on(
            message,
            lambda: self._replies.alarm("S5F1 alarm report", message.body or L()),
            self.alarm_listeners,
        )

    def _event_received(self, message: SecsMessage) -> SecsMessage:
        return self._hand_on(
            message,
            lambda: self._replies.event("S6F11 event report", message.body, self._reports),
            self.event_listeners,
        )

    def _trace_received(self, message: SecsMessage) -> SecsMessage:
        return self._hand_on(
            message,
            lambda: self._replies.trace("S6F1 trace data", message.body, self._traces),
            self.trace_listeners,
        )

    @staticmethod
    def _hand_on(
        message: SecsMessage, read: Callable[[], T], listeners: list[Callable[[T], None]]
    ) -> SecsMessage:
        """Read a pushed message with `read` and hand what it says to `listeners`; the reply
        acknowledges it with code 0, or 1 (logged) when its body is of the wrong shape."""
        reply = message.function + 1
        try:
            record = read()
        except (ProtocolError, ValueError) as error:
            log.warning("%s", error)
            return SecsMessage(message.stream, reply, B(b"\x01"))
        for listener in listeners:
            listener(record)
        return SecsMessage(message.stream, reply, B(b"\x00"))

    def _terminal_received(self, message: SecsMessage) -> SecsMessage:
        action = "S10F1 terminal request"
        replies = self._replies
        try:
            tid, text = replies.list_of(action, message.body, 2)
            terminal, words = replies.ack(action, tid, "TID"), replies.scalar(action, text)
        except ProtocolError as error:
            log.warning("%s", error)
            return SecsMessage(10, 2, B(b"\x01"))
        if not isinstance(words, str):
            log.warning("%s at %s: %s without text", replies.tool, replies.address, action)
            return SecsMessage(10, 2, B(b"\x01"))
        self.terminal_messages.append((terminal, words))
        log.info("%s at %s: terminal %d: %s", replies.tool, replies.address, terminal, words)
        return SecsMessage(10, 2, B(b"\x00"))
