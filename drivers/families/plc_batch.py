"""The driver of a PLC tool that takes a batch in slots behind a door (decisions 0008, 0010):
the plasma chamber, the oven.

`BatchPlcDriver` reads the slots (`batch_map.py`), opens and closes the door and loads and
unloads wafers slot by slot. Its simulated side is `sim_instruments/families/plc_batch.py`.
"""

from __future__ import annotations

from ..equipment import READY_STATES
from ..links.registers import registers_to_ascii
from .modbus_plc import ModbusPlcDriver, Status
from .plc_map import PlcStatus


class BatchPlcDriver(ModbusPlcDriver[Status]):
    """A PLC tool that takes a batch in slots behind a door (the plasma chamber, the oven).

    Its map has `SLOT_CAPACITY` and `SLOTS_OCCUPIED` in adjacent status registers, the slot
    ids in the repeated text block `SLOT_WAFER_ID`, and the commands `OPEN_DOOR`,
    `CLOSE_DOOR`, `LOAD_WAFER` (slot, wafer id; as a rework `RELOAD_WAFER`, for the wafers
    `reloading` names) and `UNLOAD_WAFER` (slot).
    """

    async def request_slots(self) -> list[str | None]:
        """The wafer id in each slot (None for an empty slot)."""
        capacity, occupied = await self.link.read_holding_registers(
            self.map.status_address(self.spec, "SLOT_CAPACITY"), 2
        )
        block = self.spec.status_by_name["SLOT_WAFER_ID"]
        assert isinstance(block, PlcStatus)
        if not 1 <= capacity <= block.repeat:
            raise self._protocol_error(
                "read slots", f"slot capacity {capacity} out of 1-{block.repeat}"
            )
        first, size = block.address(), block.stride
        ids = await self.link.read_holding_registers(first, size * capacity)
        slots: list[str | None] = []
        for slot in range(capacity):
            if not occupied >> slot & 1:
                slots.append(None)
                continue
            try:
                slots.append(registers_to_ascii(ids[slot * size : (slot + 1) * size]))
            except ValueError as error:
                raise self._protocol_error("read slots", f"slot {slot} id: {error}") from None
        return slots

    async def open_door(self) -> None:
        self.require_state("open door", *READY_STATES)
        await self.command("open door", "OPEN_DOOR")

    async def close_door(self) -> None:
        self.require_state("close door", *READY_STATES)
        await self.command("close door", "CLOSE_DOOR")

    async def load(self, wafer_id: str, slot: int | None = None) -> int:
        """Place a wafer in a slot (the first free one unless given); returns the slot."""
        action = f"load wafer {wafer_id}"
        self.require_state(action, *READY_STATES)
        self.check_wafer_id(wafer_id)
        self.encode(action, "wafer_id", wafer_id)  # refuses an id that does not fit
        slots = await self.request_slots()
        if wafer_id in slots:
            raise ValueError(
                f"{self.name}: wafer {wafer_id} is already in slot {slots.index(wafer_id)}"
            )
        if slot is None:
            if None not in slots:
                raise ValueError(f"{self.name}: all {len(slots)} slots are full, cannot {action}")
            slot = slots.index(None)
        elif not 0 <= slot < len(slots):
            raise ValueError(f"{self.name}: slot {slot} does not exist (0-{len(slots) - 1})")
        command = "RELOAD_WAFER" if wafer_id in self.reworks else "LOAD_WAFER"  # `reloading`
        await self.command(action, command, slot=slot, wafer_id=wafer_id)
        return slot

    async def unload(self, wafer_id: str) -> None:
        """Take a wafer out of its slot."""
        action = f"unload wafer {wafer_id}"
        self.require_state(action, *READY_STATES)
        slots = await self.request_slots()
        if wafer_id not in slots:
            raise ValueError(f"{self.name}: wafer {wafer_id} is not in any slot")
        await self.command(action, "UNLOAD_WAFER", slot=slots.index(wafer_id))
