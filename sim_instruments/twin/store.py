"""Every workpiece on the simulated line, shared by all simulated tools.

A real line knows a wafer by the id on its carrier; the simulated tools look the same id up
here. A wafer never seen before is received as fresh incoming material of the store's spec,
so a standalone simulated line works with any wafer id a user types.
"""

from __future__ import annotations

import threading

from packline.drivers.equipment import validate_wafer_id

from .workpiece import WaferSpec, Workpiece, new_wafer


class TwinStore:
    """The workpiece twin of a simulated line: id -> `Workpiece`."""

    def __init__(self, incoming: WaferSpec | None = None) -> None:
        self.incoming = incoming or WaferSpec()
        self._workpieces: dict[str, Workpiece] = {}
        self._lock = threading.Lock()

    def receive(self, wafer_id: str, spec: WaferSpec | None = None) -> Workpiece:
        """Bring a fresh wafer onto the line (replacing none: an id is received once)."""
        validate_wafer_id(wafer_id)
        with self._lock:
            if wafer_id in self._workpieces:
                raise ValueError(f"wafer {wafer_id!r} is already on the simulated line")
            workpiece = new_wafer(wafer_id, spec or self.incoming)
            self._workpieces[wafer_id] = workpiece
            return workpiece

    def get(self, wafer_id: str) -> Workpiece:
        """The workpiece with this id, received as fresh incoming material if new."""
        validate_wafer_id(wafer_id)
        with self._lock:
            workpiece = self._workpieces.get(wafer_id)
        return workpiece if workpiece is not None else self.receive(wafer_id)

    def __contains__(self, wafer_id: object) -> bool:
        return wafer_id in self._workpieces

    def __iter__(self):
        return iter(list(self._workpieces.values()))

    def __len__(self) -> int:
        return len(self._workpieces)
