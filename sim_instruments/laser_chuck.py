"""The simulated laser's chuck: the wafer on it, the face it has up, and the sites a job scans.

The laser (`sim_instruments/laser.py`) keeps the wire, the enclosure and the beam; the chuck
keeps what it holds. It refuses in the SCPI family's terms: a load onto a held wafer, or a
wafer this tool processed before, and anything done without a wafer, as conflicts (-221); a
site off the wafer as out of range (-222), a site selected twice as illegal (-224). A new
wafer, a flip or a new selection starts from no site selected.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from packline.drivers.roles.laser import FaceUp

from .families.scpi import ScpiError, conflict
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
    site_list: np.ndarray = field(default_factory=_no_sites)

    def workpiece(self) -> Workpiece:
        """The wafer on the chuck; a conflict when there is none."""
        if self.wafer_id is None:
            raise conflict("no wafer on the chuck")
        return self.twin.get(self.wafer_id)

    def load(self, wafer_id: str, face_up: FaceUp, *, rework: bool, rework_command: str) -> None:
        """Take the wafer onto the chuck; a wafer this tool processed last only as a `rework`,
        the conflict otherwise naming `rework_command`."""
        if self.wafer_id is not None:
            raise conflict(f"wafer {self.wafer_id} already on the chuck")
        try:
            self.twin.load(wafer_id, self.tool, rework=rework)
        except WaferAlreadyProcessed as error:
            raise conflict(f"{error} ({rework_command})") from None
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
        self.all_sites, self.site_list = False, _no_sites()

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
        return self.site_list

    def add_sites(self, added: np.ndarray) -> None:
        """Add `added` to the selection: each on the wafer (-222), none twice (-224)."""
        count = self.workpiece().geometry.site_count
        outside = added[(added < 0) | (added >= count)]
        if outside.size:
            raise ScpiError(-222, f"site {outside[0]} not on wafer {self.wafer_id} (0-{count - 1})")
        selected = np.zeros(count, bool)  # not a sort of the whole list for every line sent
        selected[self.site_list] = True
        if selected[added].any() or np.unique(added).size != added.size:
            raise ScpiError(-224, "site selected twice")
        self.all_sites, self.site_list = False, np.concatenate([self.site_list, added])
