"""The workpiece twin: the simulated line's physical model of every wafer and panel."""

from packline.drivers.equipment import validate_wafer_id

from .store import TwinStore, WaferAlreadyProcessed
from .workpiece import ProcessEvent, Support, WaferSpec, Workpiece, die_grid, new_wafer

__all__ = [
    "ProcessEvent",
    "Support",
    "TwinStore",
    "WaferAlreadyProcessed",
    "WaferSpec",
    "Workpiece",
    "die_grid",
    "new_wafer",
    "validate_wafer_id",
]
