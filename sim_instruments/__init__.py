"""The bundled simulated line: simulated tools on the wire, changing the workpiece twin.

Simulated tools of each kind live in their own modules (`packline.sim_instruments.plasma_cleaner`)
and are found through `packline.drivers.registry`.
"""

from typing import TYPE_CHECKING

from packline.lazy import load_on_use

if TYPE_CHECKING:
    from .line import SimulatedLine
    from .tool import SimulatedTool
    from .twin import PanelSpec, TwinStore, WaferSpec, Workpiece

__all__ = ["PanelSpec", "SimulatedLine", "SimulatedTool", "TwinStore", "WaferSpec", "Workpiece"]

load_on_use(__name__)
