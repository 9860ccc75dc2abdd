"""The GEM host's session with one equipment: the link, the ids' wire format, one transaction,
and what the equipment pushes, handed to its listeners.

Each group of the host's E30 messages (`status.py`, `constants.py`, `data_collection.py`, ...)
is a `HostSession`; `GemHost` (`__init__.py`) is all of them.
"""

from __future__ import annotations

from ...secs.hsms import HsmsLink
from ...secs.items import A, Format, Item, item
from ...secs.messages import SecsMessage
from ..pushed import PushedMessages
from ..records import AlarmListener, EventListener, GemId, TraceListener
from ..replies import Replies


class HostSession:
    """The host side of one GEM session: E30's messages over `link`, replies checked.

    `id_format` is the format of SVIDs, ECIDs, CEIDs, RPTIDs, ALIDs and DATAIDs on the wire
    (a `Format` name: U4, U2, I4, ...); text ids always travel as `A`. Listeners added with
    `add_event_listener` / `add_alarm_listener` are called on the loop, in the order added,
    when an S6F11 or S5F1 arrives (after the host has acknowledged it).
    """

    def __init__(self, link: HsmsLink, *, id_format: str = "U4") -> None:
        try:
            self.id_format = Format[id_format.upper()]
        except KeyError:
            raise ValueError(
                f"{link.tool} at {link.address}: id format {id_format!r} is not a SECS-II "
                "integer format (U1, U2, U4, U8, I1, I2, I4, I8)"
            ) from None
        if self.id_format.name[0] not in "UI":
            raise ValueError(
                f"{link.tool} at {link.address}: id format {id_format!r} is not an integer format"
            )
        self.link = link
        #: The VIDs of every report this host defined, by RPTID (to read S6F11 values).
        self.reports: dict[GemId, tuple[GemId, ...]] = {}
        #: The SVIDs of every trace this host initialized and has not stopped, by TRID (to cut
        #: S6F1 values into samples).
        self.traces: dict[GemId, tuple[GemId, ...]] = {}
        self._id_items: dict[GemId, Item] = {}
        self._replies = Replies(link)
        self._pushed = PushedMessages(self._replies, self.reports, self.traces)
        link.on_message = self._on_message

    @property
    def tool(self) -> str:
        return self.link.tool

    @property
    def address(self) -> str:
        return self.link.address

    def id_item(self, value: GemId) -> Item:
        """`value` as an id item: text as `A`, a number in `id_format` (items are immutable, so
        each id's is made once)."""
        made = self._id_items.get(value)
        if made is None:
            made = A(value) if isinstance(value, str) else item(self.id_format, value)
            self._id_items[value] = made
        return made

    async def _transact(self, stream: int, function: int, body: Item | None) -> Item | None:
        """Send `S<stream>F<function> W` and return its reply's body (the link checks the pair
        and names the message in its errors)."""
        reply = await self.link.request(SecsMessage(stream, function, body, reply_expected=True))
        return reply.body

    @property
    def terminal_messages(self) -> list[tuple[int, str]]:
        """Terminal messages from the equipment (S10F1), oldest first: (TID, text)."""
        return self._pushed.terminal_messages

    def add_event_listener(self, listener: EventListener) -> None:
        self._pushed.event_listeners.append(listener)

    def add_alarm_listener(self, listener: AlarmListener) -> None:
        self._pushed.alarm_listeners.append(listener)

    def add_trace_listener(self, listener: TraceListener) -> None:
        self._pushed.trace_listeners.append(listener)

    def remove_trace_listener(self, listener: TraceListener) -> None:
        self._pushed.trace_listeners.remove(listener)

    async def _on_message(self, message: SecsMessage) -> SecsMessage | None:
        """Answer a primary message of the equipment; None (the link sends S9F5) if unknown."""
        return await self._pushed.answer(message)
