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
aborted: by `ABOR`, `*RST`, the output switched off, a protection trip (`abort`) or the
inhibit input. `*TRG` with no list waiting for it queues -211 (Trigger ignored).

The rear inhibit input (`set_inhibit`, driven by the owner) holds the output off as
`OUTP:INH:MODE` says: while it is asserted (`LIVE`, the factory's mode: the output, still set
on, comes back on when the input is released), until `OUTP:PROT:CLE` once it has been asserted
(`LATC`), or not at all (`OFF`); an output it holds off ends the transient, and
`STAT:QUES:COND?` has its INH bit (512) set meanwhile.

The load is whatever the supply is wired to: its owner (the plating cell) sets `load`, and
`advance_hook` brings the owner's model to the present before the supply changes; an owner
that integrates the current steps to the list's end (`list_ends_s`) and ends it there
(`end_list`), else the supply ends it when it next looks. A held `*OPC?` looks at the supply
when its list ends, or sooner when `owner_next_change_s` says the owner changes it (a plating
cell's charge reaching its target asserts the inhibit).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial

from packline.clock import Clock
from packline.drivers.families.scpi_wire import command
from packline.drivers.specs.dc_supply import (
    CURRENT_MODES,
    INHIBIT_LATCHED,
    INHIBIT_MODES,
    PROTECTION_TRIPPED,
    QUESTIONABLE_BITS,
    SPEC,
    TRANSIENT_INITIATED,
    TRIGGER_SOURCES,
)

from .families.scpi import (
    Handler,
    Header,
    ScpiSimTool,
    count,
    first_unmet_refusal,
    flag,
    switch,
)
from .families.scpi_session import ScpiError
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
        serial_number: str = "DCS-30-50-0001",
    ) -> None:
        super().__init__(name, twin, clock, address_form)
        self.serial_number = serial_number
        #: The load, or None for an open circuit (the owner wires it).
        self.load: Callable[[], Load | None] = lambda: None
        #: Brings the owner's model to now before the output changes.
        self.advance_hook: Callable[[], None] = lambda: None
        #: When the owner's model changes the supply next by itself (from `now`), s of process
        #: time: a plating cell's charge reaching its target; never for a supply served alone.
        self.owner_next_change_s: Callable[[float], float] = lambda now: math.inf
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
        #: What the inhibit input does; kept through `*RST` (live, as from the factory).
        self.inhibit_mode = "LIVE"
        #: The rear inhibit input is asserted (the owner drives it, `set_inhibit`).
        self.inhibit_asserted = False
        #: The inhibit latched the output off, until `OUTP:PROT:CLE` with the input released.
        self.inhibit_latched = False
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
        """The running list's end, or the owner's next change if sooner (a plating cell's
        charge end); the family's look while no list runs."""
        if self.list_ends_s is None:
            return super().next_change_s(now)
        return min(self.list_ends_s, self.owner_next_change_s(now))

    def operation_pending(self) -> bool:
        """The transient is initiated: `*OPC?` waits for the list's end or its abort."""
        return self.armed or self.list_ends_s is not None

    def end_list(self) -> None:
        """The list is done: the immediate current setting again."""
        self.list_ends_s = None
        self.check_protection()

    def inhibited(self) -> bool:
        """The inhibit input holds the output off: latched, or asserted in a mode that heeds
        it (the questionable status's INH bit)."""
        return self.inhibit_latched or (self.inhibit_asserted and self.inhibit_mode != "OFF")

    def set_inhibit(self, asserted: bool) -> None:
        """The rear inhibit input asserted or released by the owner (a plating cell's
        ampere-hour controller and alarm output). Asserted, it holds the output off (its
        setting stays, `OUTP?` answers it) and ends the transient; latched until
        `OUTP:PROT:CLE` in `LATC` mode, only while asserted in `LIVE` mode (the output comes
        back on when it is released), not at all in `OFF` mode."""
        self.inhibit_asserted = asserted
        if asserted and self.inhibit_mode == "LATCHING":
            self.inhibit_latched = True
        if self.inhibited():
            self._end_transient()
        self.check_protection()

    def questionable_condition(self) -> int:
        """`STAT:QUES:COND?`: a bit for each thing that disables the output now."""
        conditions = {*self.tripped, *(["INHIBITED"] if self.inhibited() else [])}
        return sum(QUESTIONABLE_BITS[condition] for condition in conditions)

    def operating_point(self) -> OperatingPoint:
        """What flows now, from the settings (the list's current while it runs) and the load."""
        if not self.output_on or self.inhibited():
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
        """Output off and the transient aborted: the family's `ABOR`, `*RST`, `OUTP OFF`, a
        protection trip."""
        self.output_on = False
        self._end_transient()

    def _end_transient(self) -> None:
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
            self.choice_header(self.header("inhibit_mode"), "inhibit_mode", INHIBIT_MODES),
            Header(
                self.header("questionable_condition"),
                lambda _: str(self.questionable_condition()),
            ),
            Header(
                self.header("over_current"),
                lambda _: flag(self.over_current_on),
                changed(self._over_current),
            ),
            Header(
                self.header("measure_current"),
                lambda _: command(SPEC, "measure_current").reply_value(
                    self.operating_point().current_a
                ),
            ),
            Header(
                self.header("measure_voltage"),
                lambda _: command(SPEC, "measure_voltage").reply_value(
                    self.operating_point().voltage_v
                ),
            ),
            Header(
                self.header("over_voltage_tripped"),
                lambda _: flag("OVER_VOLTAGE" in self.tripped),
            ),
            Header(
                self.header("over_current_tripped"),
                lambda _: flag("OVER_CURRENT" in self.tripped),
            ),
            level("list_current_a", partial(self._refuse_unmet, "list_current_a")),
            self.setpoint_header(
                "list_dwell_s", "list_dwell_s", partial(self._refuse_unmet, "list_dwell_s")
            ),
            self.setpoint_header(
                "list_count", "list_count", partial(self._refuse_unmet, "list_count")
            ),
            self.choice_header(
                self.header("current_mode"),
                "current_mode",
                CURRENT_MODES,
                partial(self._refuse_unmet, "current_mode"),
            ),
            self.choice_header(
                self.header("trigger_source"),
                "trigger_source",
                TRIGGER_SOURCES,
                partial(self._refuse_unmet, "trigger_source"),
            ),
            Header(self.header("initiate"), None, self._initiate),
            Header(self.header("trigger"), None, self._trigger),
            Header(self.header("clear_protection"), None, self._clear_protection),
        ]

    def _refuse_unmet(self, name: str) -> None:
        """Refuse the command `name` when the supply's state leaves one of the preconditions
        its spec declares of it unmet: the first, in their order, in its words."""
        unmet_now = {
            TRANSIENT_INITIATED: self.operation_pending(),
            PROTECTION_TRIPPED: bool(self.tripped),
            INHIBIT_LATCHED: self.inhibit_latched,
        }
        tripped = ",".join(sorted(self.tripped))
        if refusal := first_unmet_refusal(command(SPEC, name), unmet_now, tripped=tripped):
            raise refusal

    def _initiate(self, arguments: list[str]) -> None:
        """`INIT`: the list runs now (`TRIG:SOUR IMM`) or at `*TRG`; in `CURR:MODE FIX` the
        transient has nothing to do and is done at once."""
        count(self.short("initiate"), arguments, 0)
        self._refuse_unmet("initiate")
        if self.current_mode == "LIST":
            self.armed = True
            if self.trigger_source == "IMMEDIATE":
                self._start_list()

    def _trigger(self, arguments: list[str]) -> None:
        """`*TRG`: an initiated list starts; -211 (Trigger ignored) when none waits for it."""
        count("*TRG", arguments, 0)
        if not self.armed:
            raise ScpiError(-211, "no initiated list waits for a bus trigger")
        self._start_list()

    def _start_list(self) -> None:
        self.armed = False
        self.list_ends_s = self.clock.now() + self.list_dwell_s * self.list_count
        self.check_protection()

    def _output(self, arguments: list[str]) -> None:
        if not switch(self.short("output"), arguments):
            self.abort()  # the transient ends with the output
            return
        self._refuse_unmet("output")  # what the spec declares refuses `ON`
        self.output_on = True
        self.check_protection()

    def _over_current(self, arguments: list[str]) -> None:
        self.over_current_on = switch(self.short("over_current"), arguments)

    def _clear_protection(self, arguments: list[str]) -> None:
        """`OUTP:PROT:CLE`: the trips cleared, and the inhibit's latch once its input is
        released (an output set on is on again)."""
        count(self.short("clear_protection"), arguments, 0)
        self.clear_alarms()
        if not self.inhibit_asserted:
            self.inhibit_latched = False
        self.check_protection()
