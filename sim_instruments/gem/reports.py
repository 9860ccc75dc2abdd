"""The event reports a host sets up on the simulated GEM equipment (E30 4.2.1.1).

The host defines reports (S2F33: RPTID -> VIDs), links them to collection events (S2F35:
CEID -> RPTIDs) and enables the events (S2F37); the equipment then sends each enabled event
with its linked reports' values (S6F11). Each request is all or none: a refused one changes
nothing, and its acknowledge code says why.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from packline.drivers.secs.items import B, Item

from .bodies import ids_of, list_of, scalar


class EventReports:
    """The reports, links and enabled events, over the dictionary's SVIDs and CEIDs."""

    def __init__(self, svids: Collection[Any], ceids: Collection[Any]) -> None:
        self._svids = svids
        self._ceids = ceids
        self.reports: dict[Any, tuple[Any, ...]] = {}
        self.links: dict[Any, tuple[Any, ...]] = {}
        self.enabled_events: set[Any] = set()

    def linked(self, ceid: Any) -> list[tuple[Any, tuple[Any, ...]]]:
        """The reports linked to `ceid`, in order: each RPTID with its VIDs."""
        return [(rptid, self.reports[rptid]) for rptid in self.links.get(ceid, ())]

    def define(self, body: Item | None) -> Item:
        """S2F33 in, its DRACK out."""
        _, definitions = list_of(body, 2)
        rows = [list_of(row, 2) for row in list_of(definitions)]
        if not rows:
            self.reports.clear()
            self.links.clear()
            return B(b"\x00")
        new: dict[Any, tuple[Any, ...]] = {}
        for rptid_item, vids in rows:
            rptid, vid_list = scalar(rptid_item), tuple(ids_of(vids))
            if vid_list and rptid in self.reports:
                return B(b"\x03")  # RPTID already defined
            if any(vid not in self._svids for vid in vid_list):
                return B(b"\x04")  # a VID does not exist
            new[rptid] = vid_list
        for rptid, vid_list in new.items():
            if vid_list:
                self.reports[rptid] = vid_list
            else:
                self.reports.pop(rptid, None)
                for ceid, linked in list(self.links.items()):
                    self.links[ceid] = tuple(r for r in linked if r != rptid)
        return B(b"\x00")

    def link(self, body: Item | None) -> Item:
        """S2F35 in, its LRACK out."""
        _, links = list_of(body, 2)
        rows = [list_of(row, 2) for row in list_of(links)]
        for ceid_item, rptids in rows:
            ceid, rptid_list = scalar(ceid_item), ids_of(rptids)
            if ceid not in self._ceids:
                return B(b"\x04")
            if any(rptid not in self.reports for rptid in rptid_list):
                return B(b"\x05")
            if rptid_list and self.links.get(ceid):
                return B(b"\x03")
        for ceid_item, rptids in rows:
            self.links[scalar(ceid_item)] = tuple(ids_of(rptids))
        return B(b"\x00")

    def enable(self, body: Item | None) -> Item:
        """S2F37 in, its ERACK out."""
        ceed, ceids = list_of(body, 2)
        enable, ids = bool(scalar(ceed)), ids_of(ceids) or list(self._ceids)
        if any(ceid not in self._ceids for ceid in ids):
            return B(b"\x01")
        if enable:
            self.enabled_events.update(ids)
        else:
            self.enabled_events.difference_update(ids)
        return B(b"\x00")
