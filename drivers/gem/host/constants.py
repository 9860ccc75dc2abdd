"""S2's settings of the equipment: its constants (ECs) and its clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from ...secs.data_items import format_time, parse_time
from ...secs.items import A, Item, L
from ..records import EquipmentConstant, GemId
from .session import HostSession


class ConstantMessages(HostSession):
    """S2F13/15/29 equipment constants, S2F17/31 the equipment's clock."""

    async def request_equipment_constants(self, ecids: Sequence[GemId]) -> list[Item]:
        """S2F13: the values of `ecids`, in that order (an empty list asks for every EC)."""
        action = "S2F13 equipment constants"
        body = await self._transact(2, 13, L(*(self.id_item(ecid) for ecid in ecids)))
        values = list(self._replies.list_of(action, body))
        if ecids and len(values) != len(ecids):
            raise self._replies.malformed(
                action, f"asked {len(ecids)} ECs, got {len(values)} values"
            )
        return values

    async def set_equipment_constants(self, values: Mapping[GemId, Item]) -> None:
        """S2F15: set equipment constants, all or none; EAC 1-3 is a `CommandRefused`
        (EAC 3: a value outside the constant's range)."""
        action = "S2F15 set equipment constants"
        body = L(*(L(self.id_item(ecid), value) for ecid, value in values.items()))
        code = self._replies.ack(action, await self._transact(2, 15, body), "EAC")
        self._replies.refuse_unless(action, "EAC", code)

    async def request_equipment_constant_namelist(
        self, ecids: Sequence[GemId] = ()
    ) -> dict[GemId, EquipmentConstant]:
        """S2F29: each EC's name, range, default and unit, by ECID (empty: every EC)."""
        action = "S2F29 equipment constant namelist"
        body = await self._transact(2, 29, L(*(self.id_item(ecid) for ecid in ecids)))
        constants: dict[GemId, EquipmentConstant] = {}
        for row in self._replies.list_of(action, body):
            ecid, name, minimum, maximum, default, unit = self._replies.list_of(action, row, 6)
            key = self._replies.id_of(action, ecid)
            text = self._replies.scalar(action, name), self._replies.scalar(action, unit)
            if not isinstance(text[0], str) or not isinstance(text[1], str):
                raise self._replies.malformed(action, "ECNAME and UNITS must be text")
            constants[key] = EquipmentConstant(key, text[0], minimum, maximum, default, text[1])
        return constants

    async def request_clock(self) -> dt.datetime:
        """S2F17: the equipment's date and time."""
        action = "S2F17 date and time"
        body = await self._transact(2, 17, None)
        if body is None:
            raise self._replies.malformed(action, "no TIME")
        text = self._replies.scalar(action, body)
        try:
            return parse_time(text)  # type: ignore[arg-type]
        except (ValueError, TypeError) as error:
            raise self._replies.malformed(action, str(error)) from None

    async def set_clock(self, moment: dt.datetime) -> None:
        """S2F31: set the equipment's clock to `moment`; TIACK 1 is a `CommandRefused`."""
        action = "S2F31 set date and time"
        code = self._replies.ack(
            action, await self._transact(2, 31, A(format_time(moment))), "TIACK"
        )
        self._replies.refuse_unless(action, "TIACK", code)
