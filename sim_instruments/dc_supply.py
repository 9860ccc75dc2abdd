"""Simulated programmable DC supply: the standard SCPI power-supply tree, into a load.

Speaks `docs/protocols/dc-supply.md` (declared in `drivers/specs/dc_supply.py`; grammar, error
queues and common commands are the SCPI family's wire side). The output is a constant-current /
constant-voltage source: into a load of back-EMF `E` and resistance `R` it drives the current
setting while `E + I R` stays below the voltage setting (CC), else the voltage setting (CV)
with the current the load then takes; into an open circuit it holds the voltage setting and
no current flows. The over-voltage protection trips the output off when the output voltage
rises above its level; the over-current protection, when on, trips it when the supply is in
current limit (CC). A trip latches its alarm and its `TRIP?` flag until `OUTP:PROT:CLE`.

The transient system runs a list of one step (SCPI-99 `LIST`): in `CURR:MODE LIST`, `INIT`
(started at once, or by `*TRG` with `TRIG:SOUR BUS`) makes the current setting `LIST:CURR` for
`LIST:COUN` times `LIST:DWEL`, then the immediate level again. `INIT` is overlapped: `*OPC?`
is held while the transient is initiated (`operation_pending`), until the list is done or
aborted: by `ABOR`, `*RST`, the output switched off, a protection trip or the inhibit input
(`abort`).

The load is whatever the supply is wired to: its owner (the plating cell) sets `load`, and
`advance_hook` brings the owner's model to the present before the supply changes; an owner
that integrates the current steps to the list's end (`list_ends_s`) and ends it there
(`end_list`), else the supply ends it when it next looks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from packline.clock import Clock
from packline.drivers.families.scpi_wire import short_form
from packline.drivers.specs.dc_supply import CURRENT_MODES, SPEC, TRIGGER_SOURCES

from .families.scpi import Handler, Header, ScpiSimTool, conflict, count, flag, switch
from .servers.text import AddressForm
from .twin import TwinStore

SETPOINT_ATTRIBUTES = {
    "current_a": "current_set_a",
    "voltage_v": "voltage_set_v",
    "over_voltage_v": "over_voltage_v",
    "list_current_a": "list_current_a",
    "list_dwell_s": "list_dwell_s",
    "list_count": "list_count",
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
        self.list_current_a = 0.0
        self.list_dwell_s = 0.0
        self.list_count = 1
        self.current_mode = "FIXED"
        self.trigger_source = "IMMEDIATE"
        #: Initiated, the list waiting for `*TRG`.
        self.armed = False
        #: When the running list ends, s of process time (None: no list runs).
        self.list_ends_s: float | None = None
        self.reset_settings()

    # ----------------------------------------------------------------- the model

    def advance(self) -> None:
        """The owner's model to now (which ends a list due by then), then a list due by now
        ended, for a supply whose owner does not."""
        self.advance_hook()
        if self.list_ends_s is not None and self.list_ends_s <= self.clock.now():
            self.end_list()

    def next_change_s(self, now: float) -> float:
        """The running list's end, if it comes before the family's next look."""
        ends_s = math.inf if self.list_ends_s is None else self.list_ends_s
        return min(super().next_change_s(now), ends_s)

    def operation_pending(self) -> bool:
        """The transient is initiated: `*OPC?` waits for the list's end or its abort."""
        return self.armed or self.list_ends_s is not None

    def end_list(self) -> None:
        """The list is done: the immediate current setting again."""
        self.list_ends_s = None
        self.check_protection()

    def operating_point(self) -> OperatingPoint:
        """What flows now, from the settings (the list's current while it runs) and the load."""
        if not self.output_on:
            return OFF
        load = self.load()
        if load is None:
            return OperatingPoint(0.0, self.voltage_set_v, False)
        current_a = self.current_set_a if self.list_ends_s is None else self.list_current_a
        needed_v = load.back_emf_v + current_a * load.resistance_ohm
        if needed_v <= self.voltage_set_v:
            return OperatingPoint(current_a, needed_v, True)
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
        self.abort()
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
        self.current_mode = "FIXED"
        self.trigger_source = "IMMEDIATE"

    def abort(self) -> None:
        """Output off and the transient aborted: the family's `ABOR`, `*RST`, a protection
        trip, and the rear inhibit input its owner drives (a plating cell ending its charge or
        in alarm; `OUTP?` then answers 0)."""
        self.output_on = False
        self.armed = False
        self.list_ends_s = None

    def device_commands(self) -> Iterable[Header]:
        def changed(setting: Handler) -> Handler:
            def apply(arguments: list[str]) -> None:
                setting(arguments)
                self.check_protection()

            return apply

        def level(name: str, guard: Callable[[], None] | None = None) -> Header:
            header = self.setpoint_header(name, SETPOINT_ATTRIBUTES[name], guard)
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
            level("list_current_a", self._not_initiated),
            self.setpoint_header("list_dwell_s", "list_dwell_s", self._not_initiated),
            self.setpoint_header("list_count", "list_count", self._not_initiated),
            self.choice_header(
                self.header("current_mode"), "current_mode", CURRENT_MODES, self._not_initiated
            ),
            self.choice_header(
                self.header("trigger_source"),
                "trigger_source",
                TRIGGER_SOURCES,
                self._not_initiated,
            ),
            Header(self.header("initiate"), None, self._initiate),
            Header(self.header("trigger"), None, self._trigger),
            Header(self.header("clear_protection"), None, self._clear_protection),
        ]

    def _not_initiated(self) -> None:
        if self.operation_pending():
            raise conflict(f"transient initiated, {short_form(self.wire.abort)} ends it")

    def _initiate(self, arguments: list[str]) -> None:
        """`INIT`: the list runs now (`TRIG:SOUR IMM`) or at `*TRG`; in `CURR:MODE FIX` the
        transient has nothing to do and is done at once."""
        count(self.short("initiate"), arguments, 0)
        self._not_initiated()
        if self.current_mode == "LIST":
            self.armed = True
            if self.trigger_source == "IMMEDIATE":
                self._start_list()

    def _trigger(self, arguments: list[str]) -> None:
        """`*TRG`: an initiated list starts (ignored when none waits for it)."""
        count("*TRG", arguments, 0)
        if self.armed and self.list_ends_s is None:
            self._start_list()

    def _start_list(self) -> None:
        self.armed = False
        self.list_ends_s = self.clock.now() + self.list_dwell_s * self.list_count
        self.check_protection()

    def _output(self, arguments: list[str]) -> None:
        on = switch(self.short("output"), arguments)
        if on and self.tripped:
            raise conflict(
                f"protection tripped ({','.join(sorted(self.tripped))}), clear it with "
                f"{self.short('clear_protection')} first"
            )
        if not on:
            self.abort()  # the transient ends with the output
            return
        self.output_on = True
        self.check_protection()

    def _over_current(self, arguments: list[str]) -> None:
        self.over_current_on = switch(self.short("over_current"), arguments)

    def _clear_protection(self, arguments: list[str]) -> None:
        count(self.short("clear_protection"), arguments, 0)
        self.clear_alarms()
