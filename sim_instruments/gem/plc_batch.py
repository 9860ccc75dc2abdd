"""The GEM faces of the simulated batch tools on a Modbus PLC: a PLC tool's face (`plc.py`)
with the door and the slots.

A batch tool's face gives the door and the slots as status variables (the tool's own values:
`door_closed`, `slot_capacity`, `slot_0` ...) and takes the load and unload by slot; the face
of a kind adds its process (`run`) and its status values (`tool_status`).
"""

from __future__ import annotations

from typing import Any

from ..families.plc_batch import BatchPlcSimulator
from .plc import GemPlcModel


class GemBatchPlcModel(GemPlcModel):
    """The GEM face of a simulated batch tool on a Modbus PLC, driven through the PLC."""

    tool: BatchPlcSimulator

    def status(self, name: str) -> Any:
        tool = self.tool
        if name == "door_closed":
            tool.advance()
            return tool.door_closed
        if name == "slot_capacity":
            return tool.capacity
        if name.startswith("slot_"):
            tool.advance()
            slot = int(name.removeprefix("slot_"))
            return (tool.slots[slot] or "") if slot < tool.capacity else ""
        return super().status(name)
