"""The alarms of the simulated GEM equipment (E30 4.3; S5F1, S5F3, S5F5, S5F7).

The dictionary says which alarm codes of the tool the host sees, by ALID; the model says which
are set now. The host enables the reports of each (S5F3) and lists them (S5F5: every alarm or
those named, S5F7: the enabled ones), each row with whether it is set (ALCD bit 8) and its text;
the equipment reports each enabled alarm set or cleared since its last report (S5F1).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from packline.drivers.gem.dictionary import GemDictionary
from packline.drivers.secs.data_items import ALARM_SET
from packline.drivers.secs.items import A, B, Item, L

from .bodies import ids_of, list_of, scalar
from .model import GemModel


class Alarms:
    """The dictionary's alarms: enabled by the host, set by the model, each change reported
    once. `id_item(id)` is an id as the dictionary's id format has it."""

    def __init__(
        self, dictionary: GemDictionary, model: GemModel, id_item: Callable[[Any], Item]
    ) -> None:
        self._dictionary = dictionary
        self._model = model
        self._id = id_item
        #: The ALID of each alarm code the dictionary names.
        self.ids = {code: alarm.id for code, alarm in dictionary.alarms.items()}
        #: The ALIDs the host enabled (S5F3).
        self.enabled: set[Any] = set()
        self._reported: set[str] = set()

    def set_now(self) -> list[Any]:
        """The ALIDs set now, in order (the standard status variable `alarms_set`)."""
        return sorted(self.ids[code] for code in self._model.alarms() if code in self.ids)

    def changes(self) -> list[Item]:
        """The S5F1 bodies of the enabled alarms set (first) or cleared since the last call."""
        now = set(self._model.alarms())
        changes = [(code, True) for code in sorted(now - self._reported)]
        changes += [(code, False) for code in sorted(self._reported - now)]
        self._reported = now
        return [
            L(B(bytes([ALARM_SET if is_set else 0])), self._id(alid), A(self.text(code)))
            for code, is_set in changes
            if (alid := self.ids.get(code)) is not None and alid in self.enabled
        ]

    def text(self, code: str) -> str:
        """Alarm `code`'s text: the dictionary's, else the tool spec's, else the code."""
        text = self._dictionary.alarms[code].text
        if text:
            return text
        from packline.drivers.registry import tool_kind

        return tool_kind(self._dictionary.kind).load_spec().alarm_text.get(code, code)

    def enable(self, body: Item | None) -> Item:
        """S5F3 in, its ACKC5 out (1: an ALID the dictionary does not name)."""
        aled, alid_item = list_of(body, 2)
        alid = scalar(alid_item)
        if alid not in self.ids.values():
            return B(b"\x01")
        code = scalar(aled)
        enabled = bool((code[0] if isinstance(code, bytes) else int(code)) & ALARM_SET)
        if enabled:
            self.enabled.add(alid)
        else:
            self.enabled.discard(alid)
        return B(b"\x00")

    def listing(self, body: Item | None) -> Item:
        """S5F5 in (no ALID: every alarm), S5F6 out."""
        requested = [] if body is None else ids_of(body)
        return self._rows(requested or list(self.ids.values()))

    def listing_enabled(self) -> Item:
        """S5F8: the enabled alarms' rows."""
        return self._rows([alid for alid in self.ids.values() if alid in self.enabled])

    def _rows(self, alids: list[Any]) -> Item:
        codes = {alid: code for code, alid in self.ids.items()}
        set_now = set(self._model.alarms())
        rows = []
        for alid in alids:
            code = codes.get(alid)
            if code is None:
                continue
            alcd = ALARM_SET if code in set_now else 0
            rows.append(L(B(bytes([alcd])), self._id(alid), A(self.text(code))))
        return L(*rows)
