"""E30 data collection: event reports (S2F33/35/37, S6F15) and traces (S2F23)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ...errors import CommandRefused
from ...secs.data_items import format_period
from ...secs.items import BOOLEAN, A, Format, L, item
from ..records import CollectionEvent, GemId
from .session import HostSession


class DataCollectionMessages(HostSession):
    """Reports defined, linked to events and enabled; an event's report on demand; traces."""

    async def define_reports(
        self, reports: Mapping[GemId, Sequence[GemId]], dataid: int = 0
    ) -> None:
        """S2F33: define each report (RPTID -> its VIDs); DRACK 1-4 is a `CommandRefused`.

        An empty mapping deletes every report the equipment holds (E30), and the host forgets
        its own record of them.
        """
        action = "S2F33 define reports"
        body = L(
            item(self.id_format, dataid),
            L(
                *(
                    L(self.id_item(rptid), L(*(self.id_item(vid) for vid in vids)))
                    for rptid, vids in reports.items()
                )
            ),
        )
        code = self._replies.ack(action, await self._transact(2, 33, body), "DRACK")
        self._replies.refuse_unless(action, "DRACK", code)
        if not reports:
            self.reports.clear()
        for rptid, vids in reports.items():
            if vids:
                self.reports[rptid] = tuple(vids)
            else:
                self.reports.pop(rptid, None)

    async def link_event_reports(
        self, links: Mapping[GemId, Sequence[GemId]], dataid: int = 0
    ) -> None:
        """S2F35: link reports to collection events (CEID -> RPTIDs; empty unlinks);
        LRACK 1-5 is a `CommandRefused`."""
        action = "S2F35 link event reports"
        body = L(
            item(self.id_format, dataid),
            L(
                *(
                    L(self.id_item(ceid), L(*(self.id_item(rptid) for rptid in rptids)))
                    for ceid, rptids in links.items()
                )
            ),
        )
        code = self._replies.ack(action, await self._transact(2, 35, body), "LRACK")
        self._replies.refuse_unless(action, "LRACK", code)

    async def enable_events(self, ceids: Sequence[GemId], enable: bool = True) -> None:
        """S2F37: enable (or disable) the reports of `ceids` (empty: every event);
        ERACK 1 is a `CommandRefused`."""
        action = "S2F37 enable events" if enable else "S2F37 disable events"
        body = L(BOOLEAN(enable), L(*(self.id_item(ceid) for ceid in ceids)))
        code = self._replies.ack(action, await self._transact(2, 37, body), "ERACK")
        self._replies.refuse_unless(action, "ERACK", code)

    async def initialize_trace(
        self,
        trid: GemId,
        svids: Sequence[GemId],
        *,
        period_s: float,
        total_samples: int,
        group_size: int = 1,
    ) -> None:
        """S2F23: sample `svids` every `period_s` on the equipment, `total_samples` times, and
        send them `group_size` samples to an S6F1 (trace listeners get each); a trace of the
        same TRID is replaced. TIAACK 1-5 is a `CommandRefused`; a period DSPER cannot say is
        a `ValueError` before anything is sent."""
        action = f"S2F23 initialize trace {trid}"
        if not svids or total_samples < 1 or group_size < 1:
            raise ValueError(
                f"{self.tool} at {self.address}: {action}: a trace takes at least one SVID, one "
                f"sample and a group of one (got {len(svids)}, {total_samples}, {group_size})"
            )
        dsper = format_period(period_s)
        await self._trace_request(action, trid, svids, dsper, total_samples, group_size)
        self.traces[trid] = tuple(svids)

    async def stop_trace(self, trid: GemId) -> None:
        """S2F23 with no samples (TOTSMP 0): end trace `trid` on the equipment, which first
        sends the samples it has not reported."""
        await self._trace_request(f"S2F23 stop trace {trid}", trid, (), "000000", 0, 1)
        self.traces.pop(trid, None)

    async def _trace_request(
        self,
        action: str,
        trid: GemId,
        svids: Sequence[GemId],
        dsper: str,
        total_samples: int,
        group_size: int,
    ) -> None:
        body = L(
            self.id_item(trid),
            A(dsper),
            item("U4", total_samples),
            item("U4", group_size),
            L(*(self.id_item(svid) for svid in svids)),
        )
        code = self._replies.ack(action, await self._transact(2, 23, body), "TIAACK")
        self._replies.refuse_unless(action, "TIAACK", code)

    async def request_event_report(self, ceid: GemId) -> CollectionEvent:
        """S6F15: collection event `ceid`'s linked reports with their values now, as its S6F11
        would carry them (whether the event is enabled or not). A CEID the equipment does not
        know (E5: an empty list) is a `CommandRefused`."""
        action = f"S6F15 event report {ceid}"
        body = await self._transact(6, 15, self.id_item(ceid))
        if body is not None and body.format is Format.L and not len(body):
            raise CommandRefused(
                self.tool, self.address, action, f"no collection event {ceid} on the tool", "CEID"
            )
        try:
            return self._replies.event(action, body, self.reports)
        except ValueError as error:
            raise self._replies.malformed(action, str(error)) from None
