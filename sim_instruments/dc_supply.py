"""Simulated programmable DC supply: the standard SCPI power-supply tree, into a load.

Speaks `docs/protocols/dc-supply.md` (declared in `drivers/specs/dc_supply.py`; grammar, error
queues and common commands are the SCPI family's wire side). The output is a constant-current /
constant-voltage source: into a load of back-EMF `E` and resistance `R` it drives the current
setting while `E + I R` stays below the voltage setting (CC), else the voltage setting (CV)
with the current the load then takes; into an open circuit it holds the voltage setting and
no current flows. The over-voltage protection trips the output off when the output voltage
rises above its level; the over-current protection, when on, trips it when the supply is in
current limit (CC). A trip latches its alarm and its `TRIP?` flag until `OUTP:PROT:CLE`.

The load is whatever the supply is wired to: its owner (the plating cell) sets `load`, and
`advance_hook` brings the owner's model to the present before the supply changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from packline.clock import Clock
from packline.drivers.specs.dc_supply import SPEC

from .families.scpi import Handler, Header, ScpiSimTool, conflict, count, flag, switch
from .servers.text import AddressForm
from .twin import TwinStore

SETPOINT_ATTRIBUTES = {
    "current_a": "current_set_a",
    "voltage_v": "voltage_set_v",
    "over_voltage_v": "over_voltage_v",
}


@dataclass(frozen=True)
class Load:
    """What the output drives: a back-EMF in series with a resistance."""

    back_emf_v: float
    resistance_ohm: float


@dataclass(frozen=True)
class OperatingPoint:
    """What the output delivers now."""

    current_a: float
    voltage_v: float
    current_limited: bool  # in CC: the current setting is what flows


OFF = OperatingPoint(0.0, 0.0, False)


class SimDcSupply(ScpiSimTool):
    """A simulated 30 V / 50 A programmable DC supply behind a SCPI text server."""

    spec = SPEC
    not_a_number = "{header} {text} is not a number"

    def __init__(
        self,
        name: str,
        twin: TwinStore,
        clock: Clock | None = None,
        address_form: AddressForm = "visa",
        *,
        serial_number: str = "DCS-0001",
    ) -> None:
        super().__init__(name, twin, clock, address_form)
        self.serial_number = serial_number
        #: The load, or None for an open circuit (the owner wires it).
        self.load: Callable[[], Load | None] = lambda: None
        #: Brings the owner's model to now before the output changes.
        self.advance_hook: Callable[[], None] = lambda: None
        self.output_on = False
        self.over_current_on = False
        self.tripped: set[str] = set()
        self.current_set_a = 0.0
        self.voltage_set_v = 0.0
        self.over_voltage_v = 0.0
        self.reset_settings()

    # ----------------------------------------------------------------- the model

    def advance(self) -> None:
        self.advance_hook()

    def operating_point(self) -> OperatingPoint:
        """What flows now, from the settings and the load."""
        if not self.output_on:
            return OFF
        load = self.load()
        if load is None:
            return OperatingPoint(0.0, self.voltage_set_v, False)
        needed_v = load.back_emf_v + self.current_set_a * load.resistance_ohm
        if needed_v <= self.voltage_set_v:
            return OperatingPoint(self.current_set_a, needed_v, True)
        current_a = max((self.voltage_set_v - load.back_emf_v) / load.resistance_ohm, 0.0)
        return OperatingPoint(current_a, self.voltage_set_v, False)

    def check_protection(self) -> None:
        """Trip the output off if a protection sees its condition now."""
        if not self.output_on:
            return
        point = self.operating_point()
        if point.voltage_v > self.over_voltage_v:
            self._trip("OVER_VOLTAGE")
        elif self.over_current_on and point.current_limited:
            self._trip("OVER_CURRENT")

    def _trip(self, alarm: str) -> None:
        self.output_on = False
        self.tripped.add(alarm)
        self.latch(alarm)

    def clear_alarms(self) -> None:
        """Clear the trips (the output stays off); a cause that persists trips again at ON."""
        super().clear_alarms()
        self.tripped.clear()

    # ----------------------------------------------------------------- the command set

    def reset_settings(self) -> None:
        self.reset_setpoints(SETPOINT_ATTRIBUTES)
        self.over_current_on = False

    def abort(self) -> None:
        """Output off: the family's `ABOR`, `*RST`, and the rear shut-off input its owner
        drives (a plating cell ending its charge, `OUTP?` then answers 0)."""
        self.output_on = False

    def device_commands(self) -> Iterable[Header]:
        def changed(setting: Handler) -> Handler:
            def apply(arguments: list[str]) -> None:
                setting(arguments)
                self.check_protection()

            return apply

        def level(name: str) -> Header:
            header = self.setpoint_header(name, SETPOINT_ATTRIBUTES[name])
            assert header.setting is not None
            return Header(header.template, header.query, changed(header.setting))

        return [
            level("current_a"),
            level("voltage_v"),
            level("over_voltage_v"),
            Header(self.header("output"), lambda _: flag(self.output_on), self._output),
            Header(
                self.header("over_current"),
                lambda _: flag(self.over_current_on),
                changed(self._over_current),
            ),
            Header(
                self.header("measure_current"),
                lambda _: f"{self.operating_point().current_a:.5f}",
            ),
            Header(
                self.header("measure_voltage"),
                lambda _: f"{self.operating_point().voltage_v:.5f}",
            ),
            Header(
                self.header("over_voltage_tripped"),
                lambda _: flag("OVER_VOLTAGE" in self.tripped),
            ),
            Header(
                self.header("over_current_tripped"),
                lambda _: flag("OVER_CURRENT" in self.tripped),
            ),
            Header(self.header("clear_protection"), None, self._clear_protection),
        ]

    def _output(self, arguments: list[str]) -> None:
        on = switch(self.short("output"), arguments)
        if on and self.tripped:
            raise conflict(
                f"protection tripped ({','.join(sorted(self.tripped))}), clear it with "
                f"{self.short('clear_protection')} first"
            )
        self.output_on = on
        self.check_protection()

    def _over_current(self, arguments: list[str]) -> None:
        self.over_current_on = switch(self.short("over_current"), arguments)

    def _clear_protection(self, arguments: list[str]) -> None:
        count(self.short("clear_protection"), arguments, 0)
        self.clear_alarms()
