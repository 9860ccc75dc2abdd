"""Reading what the equipment sent: items of the shape E5 gives them, or a clear error.

`Replies` names the tool and its address in every error: a body of the wrong shape is a
`ProtocolError` ("malformed reply: ..."), an acknowledge code that refuses (EAC, DRACK, HCACK,
ACKC7, ...) a `CommandRefused` whose code is `<name> <value>` and whose detail says what the
code means (`drivers/secs/data_items.py`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..errors import CommandRefused, ProtocolError
from ..secs.data_items import ALARM_SET, ack_text
from ..secs.items import Format, Item
from ..secs.transactions import Peer
from .records import AlarmReport, CollectionEvent, GemId, TraceReport


class Replies:
    """The checked reading of message bodies from the equipment `peer` names."""

    def __init__(self, peer: Peer) -> None:
        self._peer = peer

    @property
    def tool(self) -> str:
        return self._peer.tool

    @property
    def address(self) -> str:
        return self._peer.address

    def malformed(self, action: str, detail: str) -> ProtocolError:
        """The error for a reply that does not have the shape E5 gives it."""
        return ProtocolError(self.tool, self.address, action, f"malformed reply: {detail}")

    def scalar(self, action: str, value: Item) -> int | float | bool | str | bytes:
        """The one value of a scalar item."""
        try:
            return value.scalar
        except ValueError as error:
            raise self.malformed(action, str(error)) from None

    def id_of(self, action: str, value: Item) -> GemId:
        """An id item as a Python id (an int, or text for `A` ids)."""
        scalar = self.scalar(action, value)
        if isinstance(scalar, bool) or not isinstance(scalar, int | str):
            raise self.malformed(action, f"an id must be an integer or text, got {value.format}")
        return scalar

    def list_of(
        self, action: str, value: Item | None, length: int | None = None
    ) -> tuple[Item, ...]:
        """The items of a list reply (of `length` items if given), or a malformed-reply error."""
        if value is None or value.format is not Format.L:
            got = "no body" if value is None else f"an {value.format.name} item"
            raise self.malformed(action, f"expected a list, got {got}")
        items: tuple[Item, ...] = value.value  # type: ignore[assignment]
        if length is not None and len(items) != length:
            raise self.malformed(action, f"expected a list of {length}, got {len(items)} items")
        return items

    def ack(self, action: str, value: Item | None, name: str) -> int:
        """The acknowledge code `value` carries (a binary or integer of one element)."""
        if value is None:
            raise self.malformed(action, f"no {name}")
        code = self.scalar(action, value)
        if isinstance(code, bytes):
            if len(code) != 1:
                raise self.malformed(action, f"{name} must be 1 byte, got {len(code)}")
            return code[0]
        if isinstance(code, bool) or not isinstance(code, int):
            raise self.malformed(action, f"{name} must be binary, got {value.format.name}")
        return code

    def refuse_unless(
        self, action: str, name: str, code: int, accepted: Sequence[int] = (0,)
    ) -> None:
        """`CommandRefused` unless acknowledge code `name` = `code` is one of `accepted`."""
        if code not in accepted:
            raise CommandRefused(
                self.tool,
                self.address,
                action,
                f"{name} {code}: {ack_text(name, code)}",
                f"{name} {code}",
            )

    def model(self, action: str, body: Item | None) -> tuple[str, str]:
        """MDLN and SOFTREV (S1F2, S1F14)."""
        items = self.list_of(action, body, 2)
        mdln, softrev = (self.scalar(action, part) for part in items)
        if not isinstance(mdln, str) or not isinstance(softrev, str):
            raise self.malformed(action, "MDLN and SOFTREV must be text")
        return mdln.strip(), softrev.strip()

    def alarm(self, action: str, row: Item) -> AlarmReport:
        """An alarm as S5F1 and each row of S5F6 carry it: ALCD, ALID, ALTX."""
        alcd, alid, altx = self.list_of(action, row, 3)
        code = self.ack(action, alcd, "ALCD")
        text = self.scalar(action, altx) if len(altx) else ""
        if not isinstance(text, str):
            raise self.malformed(action, "ALTX must be text")
        return AlarmReport(self.id_of(action, alid), bool(code & ALARM_SET), code & 0x7F, text)

    def event(
        self, action: str, body: Item | None, reports: Mapping[GemId, tuple[GemId, ...]]
    ) -> CollectionEvent:
        """A collection event as S6F11 and S6F16 carry it (DATAID, CEID, the reports), its
        values paired with the VIDs of the reports the host defined (`reports`)."""
        dataid, ceid, report_list = self.list_of(action, body, 3)
        by_report: dict[GemId, tuple[Item, ...]] = {}
        for report in self.list_of(action, report_list):
            rptid, values = self.list_of(action, report, 2)
            by_report[self.id_of(action, rptid)] = self.list_of(action, values)
        return CollectionEvent(
            dataid=int(self.id_of(action, dataid)),
            ceid=self.id_of(action, ceid),
            reports=by_report,
            values={
                vid: value
                for rptid, values in by_report.items()
                for vid, value in zip(reports.get(rptid, ()), values, strict=False)
            },
        )

    def trace(
        self, action: str, body: Item | None, traces: Mapping[GemId, tuple[GemId, ...]]
    ) -> TraceReport:
        """A trace report as S6F1 carries it (TRID, SMPLN, STIME, the values), its values cut
        into samples of the SVIDs the host asked for that trace (`traces`)."""
        trid_item, number, stime, value_list = self.list_of(action, body, 4)
        trid = self.id_of(action, trid_item)
        svids = traces.get(trid)
        if svids is None:
            raise self.malformed(action, f"trace {trid} was not initialized by this host")
        values = self.list_of(action, value_list)
        if not values or len(values) % len(svids):
            raise self.malformed(
                action, f"{len(values)} values are no whole samples of {len(svids)} SVIDs"
            )
        sample_number, text = self.scalar(action, number), self.scalar(action, stime)
        if isinstance(sample_number, bool) or not isinstance(sample_number, int):
            raise self.malformed(action, f"SMPLN must be an integer, got {number.format.name}")
        if not isinstance(text, str):
            raise self.malformed(action, f"STIME must be text, got {stime.format.name}")
        width = len(svids)
        samples = tuple(values[start : start + width] for start in range(0, len(values), width))
        return TraceReport(trid, sample_number, text, samples)

    def refuse_unless_acka(self, action: str, status: Item) -> None:
        """`CommandRefused` unless an E40 reply's status (ACKA, the errors) accepts: its code
        is the first error's `ERRCODE <n>`, its detail every ERRCODE with its ERRTEXT."""
        acka, errors = self.list_of(action, status, 2)
        if self.scalar(action, acka) is True:
            return
        reasons = []
        for row in self.list_of(action, errors):
            code, text = self.list_of(action, row, 2)
            number = self.ack(action, code, "ERRCODE")
            words = str(text.value) if len(text) else ack_text("ERRCODE", number)
            reasons.append((number, f"ERRCODE {number}: {words}"))
        if not reasons:
            raise self.malformed(action, "ACKA false without an error")
        raise CommandRefused(
            self.tool,
            self.address,
            action,
            "; ".join(reason for _, reason in reasons),
            f"ERRCODE {reasons[0][0]}",
        )
