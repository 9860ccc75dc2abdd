"""What the GEM role drivers of batch tools share: slots behind a door.

A batch tool's GEM face (the plasma cleaner's, the oven's) is a PLC tool's (`plc.py`: its
interlocks, its run's end, its traces) that gives its slots as one status variable each
(`slot_0`, ... with `slot_capacity`) and the door and the transfers as remote commands answered
at once (`open_door`, `close_door`, `load` with `slot`, `wafer_id` and `rework`, `unload` with
`slot`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from ..equipment import READY_STATES
from ..roles.batch import BatchTool
from .equipment import SAFE_STATE_COMMANDS
from .plc import GemPlcTool

#: The remote commands every batch tool's face has, with their parameters (a `GemNeeds`'s).
BATCH_COMMANDS: dict[str, tuple[str, ...]] = {
    **SAFE_STATE_COMMANDS,
    "open_door": (),
    "close_door": (),
    "load": ("slot", "wafer_id", "rework"),
    "unload": ("slot",),
}


def slot_names(capacity: int) -> tuple[str, ...]:
    """The status variables of the wafer id in each slot, by slot."""
    return tuple(f"slot_{slot}" for slot in range(capacity))


class GemBatchTool(GemPlcTool, BatchTool):
    """Base of the GEM role drivers of batch tools (slots, door)."""

    #: The status variables of the slots, by slot (as many as the kind's most slots).
    slots: ClassVar[tuple[str, ...]]

    async def request_slots(self) -> list[str | None]:
        return self.slots_of(await self.request_values("read slots", *self.slot_variables()))

    @classmethod
    def slot_variables(cls) -> tuple[str, ...]:
        """The status variables `slots_of` reads: the capacity, then each slot's."""
        return ("slot_capacity", *cls.slots)

    def slots_of(self, values: Sequence[Any]) -> list[str | None]:
        """The wafer id in each slot (None: empty), from the values of `slot_variables`."""
        capacity, *ids = values
        return [wafer_id or None for wafer_id in ids[: int(capacity)]]

    async def open_door(self) -> None:
        self.require_state("open door", *READY_STATES)
        await self.command("open_door")

    async def close_door(self) -> None:
        self.require_state("close door", *READY_STATES)
        await self.command("close_door")

    async def load(self, wafer_id: str, slot: int | None = None) -> int:
        """Place a wafer in a slot (the first free one unless given); returns the slot."""
        action = f"load wafer {wafer_id}"
        self.require_state(action, *READY_STATES)
        self.check_wafer_id(wafer_id)
        slots = await self.request_slots()
        if wafer_id in slots:
            raise ValueError(
                f"{self.name}: wafer {wafer_id} is already in slot {slots.index(wafer_id)}"
            )
        if slot is None and None not in slots:
            raise ValueError(f"{self.name}: all {len(slots)} slots are full, cannot {action}")
        slot = slots.index(None) if slot is None else slot
        if not 0 <= slot < len(slots):
            raise ValueError(f"{self.name}: slot {slot} does not exist (0-{len(slots) - 1})")
        await self.load_workpiece("load", "wafer_id", wafer_id, slot=slot)
        return slot

    async def unload(self, wafer_id: str) -> None:
        """Take a wafer out of its slot."""
        self.require_state(f"unload wafer {wafer_id}", *READY_STATES)
        slots = await self.request_slots()
        if wafer_id not in slots:
            raise ValueError(f"{self.name}: wafer {wafer_id} is not in any slot")
        await self.command("unload", slot=slots.index(wafer_id))
