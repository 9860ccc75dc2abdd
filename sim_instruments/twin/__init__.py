"""The workpiece twin: the simulated line's physical model of every wafer and panel."""

from typing import TYPE_CHECKING

from packline.lazy import load_on_use

if TYPE_CHECKING:
    from packline.drivers.equipment import validate_wafer_id

    from .incoming import (
        die_grid,
        farthest_pad_radius_fraction,
        most_incoming_residue_nm,
        new_panel,
        new_wafer,
        new_workpiece,
        pad_pitch_um,
        wafer_site_count,
    )
    from .parts import Face, ResinKind, ResinLayer, Support
    from .specs import PanelSpec, WaferSpec
    from .store import Incoming, TwinStore, WaferAlreadyProcessed
    from .workpiece import JobEnd, ProcessEvent, Workpiece

__all__ = [
    "Face",
    "Incoming",
    "JobEnd",
    "PanelSpec",
    "ProcessEvent",
    "ResinKind",
    "ResinLayer",
    "Support",
    "TwinStore",
    "WaferAlreadyProcessed",
    "WaferSpec",
    "Workpiece",
    "die_grid",
    "farthest_pad_radius_fraction",
    "most_incoming_residue_nm",
    "new_panel",
    "new_wafer",
    "new_workpiece",
    "pad_pitch_um",
    "validate_wafer_id",
    "wafer_site_count",
]

load_on_use(__name__)
