"""The simulated laser's chuck: the wafer on it, the face it has up, and the sites a job scans.

The laser (`sim_instruments/laser.py`) keeps the wire, the enclosure and the beam; the chuck
keeps what it holds. It refuses in the SCPI family's terms: a load onto a held wafer, a load
of a wafer this tool processed last, and anything done without a wafer as the spec declares
them (`WAFER_ON_CHUCK`, `PROCESSED_LAST`, `NO_WAFER`, raised by the family's `unmet`); a site
off the wafer as out of range (-222), a site selected twice as illegal (-224). A new wafer, a
flip or a new selection starts from no site selected.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from packline.drivers.roles.laser import FaceUp
from packline.drivers.specs.laser import NO_WAFER, PROCESSED_LAST, WAFER_ON_CHUCK

from .families.scpi import ScpiError, unmet
from .twin import TwinStore, WaferAlreadyProcessed, Workpiece


def _no_sites() -> np.ndarray:
    return np.zeros(0, np.int64)


@dataclass
class Chuck:
    """The laser's chuck: the wafer of `twin` on it (loaded by tool `tool`) and the selection."""

    twin: TwinStore
    tool: str
    wafer_id: str | None = None
    face_up: FaceUp = FaceUp.FRONT
    all_sites: bool = False
    #: the site lists added since the selection started, in order (`selected_sites` joins them)
    added_lists: list[np.ndarray] = field(default_factory=list)
    #: bool per site of the wafer: added to the selection (empty until a list is added), kept
    #: from line to line so a line is checked for a site selected twice without going over
    #: every site selected before it
    added_mask: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))

    def workpiece(self) -> Workpiece:
        """The wafer on the chuck; refused (`NO_WAFER`) when there is none."""
        if self.wafer_id is None:
            raise unmet(NO_WAFER)
        return self.twin.get(self.wafer_id)

    def load(self, wafer_id: str, face_up: FaceUp, *, rework: bool) -> None:
        """Take the wafer onto the chuck, which must be empty (`WAFER_ON_CHUCK`); a wafer this
        tool processed last only as a `rework` (`PROCESSED_LAST` otherwise, in the twin's
        words of what this tool did to it)."""
        if self.wafer_id is not None:
            raise unmet(WAFER_ON_CHUCK, wafer=self.wafer_id)
        try:
            self.twin.load(wafer_id, self.tool, rework=rework)
        except WaferAlreadyProcessed as error:
            raise unmet(PROCESSED_LAST, processed=error) from None
        self.wafer_id, self.face_up = wafer_id, face_up
        self.clear_selection()

    def unload(self) -> None:
        self.workpiece()
        self.wafer_id, self.face_up = None, FaceUp.FRONT
        self.clear_selection()

    def flip(self) -> None:
        """Turn the wafer over."""
        self.workpiece()
        self.face_up = FaceUp.BACK if self.face_up is FaceUp.FRONT else FaceUp.FRONT
        self.clear_selection()

    # ----------------------------------------------------------------- the sites a job scans

    def clear_selection(self) -> None:
        self.all_sites, self.added_lists = False, []
        self.added_mask = np.zeros(0, bool)

    def select_all(self) -> None:
        self.workpiece()
        self.clear_selection()
        self.all_sites = True

    def selected_sites(self) -> np.ndarray:
        """The sites selected, in the order added (none without a wafer)."""
        if self.wafer_id is None:
            return _no_sites()
        if self.all_sites:
            return np.arange(self.workpiece().geometry.site_count, dtype=np.int64)
        if len(self.added_lists) > 1:  # joined once, however many lines added them
            self.added_lists = [np.concatenate(self.added_lists)]
        return self.added_lists[0] if self.added_lists else _no_sites()

    def add_sites(self, added: np.ndarray) -> None:
        """Add `added` to the selection: each on the wafer (-222), none twice (-224), in this
        list or one added before; a refused list adds nothing."""
        count = self.workpiece().geometry.site_count
        outside = added[(added < 0) | (added >= count)]
        if outside.size:
            raise ScpiError(-222, f"site {outside[0]} not on wafer {self.wafer_id} (0-{count - 1})")
        if self.added_mask.size != count:
            self.added_mask = np.zeros(count, bool)
        if self.added_mask[added].any() or np.unique(added).size != added.size:
            raise ScpiError(-224, "site selected twice")
        self.added_mask[added] = True
        self.all_sites = False
        self.added_lists.append(added)
