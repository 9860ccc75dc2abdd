"""The workpiece twin: the simulated line's physical model of every wafer and panel."""

from .store import WAFER_ID_MAX_LENGTH, TwinStore, validate_wafer_id
from .workpiece import ProcessEvent, Support, WaferSpec, Workpiece, die_grid, new_wafer

__all__ = [
    "WAFER_ID_MAX_LENGTH",
    "ProcessEvent",
    "Support",
    "TwinStore",
    "WaferSpec",
    "Workpiece",
    "die_grid",
    "new_wafer",
    "validate_wafer_id",
]
