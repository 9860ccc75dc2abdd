"""The status variables and equipment constants of the simulated GEM equipment (E30 4.2.1,
4.2.5; S1F3, S1F11, S2F13, S2F15, S2F29).

What the ids mean comes from the dictionary, what the values are from the equipment: its
`status(name)` is a status variable's role value (the model's, or E30's standard ones the
equipment answers itself), and the model holds the constants with their ranges. An SV or EC the
dictionary lacks is answered with an empty item (E30), and so is an SV the tool cannot give now
(`StatusUnavailable`: a measurement of a wafer with none on the chuck); S2F15 sets all
constants or none.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from packline.drivers.gem.dictionary import GemDictionary
from packline.drivers.secs.items import A, B, Item, L

from .bodies import ids_of, list_of, scalar
from .model import GemModel, GemRefused, StatusUnavailable

log = logging.getLogger(__name__)


class Variables:
    """The dictionary's SVs and ECs by id, their values read (and the constants set) by name.

    `id_item(id)` is an id as the dictionary's id format has it; `tool` names the tool in logs.
    """

    def __init__(
        self,
        dictionary: GemDictionary,
        model: GemModel,
        *,
        status: Callable[[str], Any],
        id_item: Callable[[Any], Item],
        tool: str,
    ) -> None:
        self._model = model
        self._status = status
        self._id = id_item
        self._tool = tool
        self.sv_by_id = {sv.id: (name, sv) for name, sv in dictionary.status_variables.items()}
        self._ec_by_id = {ec.id: (name, ec) for name, ec in dictionary.equipment_constants.items()}
        #: Each constant's default (S2F29's ECDEF): the dictionary's, else its value at power-up.
        self.defaults = {
            name: model.constant(name) if ec.default is None else ec.default
            for name, ec in dictionary.equipment_constants.items()
        }

    def value(self, svid: Any) -> Item:
        """The item of status variable `svid`: an empty list for one the tool lacks (E30), and
        for one it cannot give now (`StatusUnavailable`)."""
        if svid not in self.sv_by_id:
            return L()
        name, variable = self.sv_by_id[svid]
        try:
            return variable.to_wire(self._status(name))
        except StatusUnavailable as unavailable:
            log.debug("%s: no value of %s now: %s", self._tool, name, unavailable.text)
            return L()

    def status_variables(self, body: Item | None) -> Item:
        """S1F3 in (no SVID: every SV), S1F4 out."""
        svids = ids_of(body)
        return L(*(self.value(svid) for svid in (svids or list(self.sv_by_id))))

    def status_namelist(self, body: Item | None) -> Item:
        """S1F11 in (no SVID: every SV), S1F12 out: each SV's id, name and unit."""
        rows = []
        for svid in ids_of(body) or list(self.sv_by_id):
            name, variable = self.sv_by_id.get(svid, ("", None))
            unit = variable.unit if variable is not None else ""
            rows.append(L(self._id(svid), A(name), A(unit)))
        return L(*rows)

    def constants(self, body: Item | None) -> Item:
        """S2F13 in (no ECID: every EC), S2F14 out."""
        values = []
        for ecid in ids_of(body) or list(self._ec_by_id):
            if ecid not in self._ec_by_id:
                values.append(L())
                continue
            name, constant = self._ec_by_id[ecid]
            values.append(constant.to_wire(self._model.constant(name)))
        return L(*values)

    def set_constants(self, body: Item | None) -> Item:
        """S2F15 in, its EAC out (1: an unknown ECID, 2: the tool cannot take them now, 3: a
        value out of range); a refusal sets none."""
        changes: dict[str, Any] = {}
        for row in list_of(body):
            ecid_item, value = list_of(row, 2)
            ecid = scalar(ecid_item)
            if ecid not in self._ec_by_id:
                return B(b"\x01")  # at least one constant does not exist
            name, constant = self._ec_by_id[ecid]
            try:
                changes[name] = constant.to_role(value)
            except ValueError:
                return B(b"\x03")
            if not self._model.accepts_constant(name, changes[name]):
                return B(b"\x03")  # at least one constant out of range
        try:
            self._model.set_constants(changes)
        except GemRefused as refusal:  # the tool cannot take them now (a cycle runs)
            log.info("%s: constants refused: %s", self._tool, refusal.text)
            return B(b"\x02")
        return B(b"\x00")

    def constant_namelist(self, body: Item | None) -> Item:
        """S2F29 in (no ECID: every EC), S2F30 out: each EC's name, range (an array's: each
        element's), default (`defaults`) and unit."""
        rows = []
        for ecid in ids_of(body) or list(self._ec_by_id):
            if ecid not in self._ec_by_id:
                rows.append(L(self._id(ecid), A(), A(), A(), A(), A()))
                continue
            name, constant = self._ec_by_id[ecid]
            bounds = self._model.constant_range(name)
            default = constant.to_wire(self.defaults[name])
            # an array's range is each element's, an item of one element
            low, high = (
                (A(), A())
                if bounds is None
                else (constant.to_wire((bounds[0],)), constant.to_wire((bounds[1],)))
                if constant.array
                else (constant.to_wire(bounds[0]), constant.to_wire(bounds[1]))
            )
            rows.append(L(self._id(ecid), A(name), low, high, default, A(constant.unit)))
        return L(*rows)
