"""A programmable DC supply on SCPI, the plating cell's `supply` (`docs/protocols/dc-supply.md`).

Wire format: one SCPI line per message, LF-terminated, over a TCP socket (VISA
`TCPIP0::<host>::5025::SOCKET`) or any VISA resource. Only the standard power-supply tree and
the IEEE 488.2 common commands are sent, so a bench supply of that range can stand in:

    *CLS / *IDN?                       identity, errors cleared
    OUTP:INH:MODE LATC / OUTP:INH:MODE?
                                       the inhibit input latches the output off until
                                       OUTP:PROT:CLE (set and read back at connect)
    CURR 2.5 / VOLT 10 / VOLT:PROT 12  settings, each group checked with SYST:ERR? until 0
    CURR:MODE LIST / LIST:CURR 2.5 / LIST:DWEL 130.5 / LIST:COUN 1 / TRIG:SOUR IMM
                                       a charge's time as a list of one step (the transient)
    OUTP:PROT:CLE, OUTP ON / INIT      the inhibit's latch cleared, the output on, the list
                                       run (overlapped)
    *OPC?                              held until the list is done or aborted (the cell's
                                       inhibit, a protection trip)
    OUTP OFF / OUTP?                   the output (off after every charge)
    :VOLT:PROT:TRIP?;:CURR:PROT:TRIP?  the protections (the supply's alarms), one compound query
    :MEAS:CURR?;:MEAS:VOLT?;:VOLT:PROT:TRIP?;:CURR:PROT:TRIP?
                                       what flows at the terminals and the protections, in
                                       one compound query: what a plating charge is read by
    OUTP:PROT:CLE                      clear a tripped protection
    OUTP OFF, ABOR, *OPC?              the safe state

The supply is a device of a tool, not a tool of the line: it has no workpiece and no
interlock; the tool that owns it (the electroplater) decides when its output may be on.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from .equipment import Identity
from .errors import ToolError, WrongTool
from .families.scpi import ScpiDriver
from .families.scpi_wire import command, setpoint, short_form
from .specs.dc_supply import INHIBIT_MODES, LIST_DWELL, SPEC

#: The spec's measurement queries: current, then voltage.
_MEASURED = ("measure_current", "measure_voltage")
#: The protections read together: alarm code -> the spec's trip query.
_PROTECTIONS = {"OVER_VOLTAGE": "over_voltage_tripped", "OVER_CURRENT": "over_current_tripped"}
#: The inhibit input's mode the driver runs the supply in: the output stays off once the input
#: has switched it off, until `OUTP:PROT:CLE`, so its release cannot switch the current on.
_INHIBIT_MODE = "LATCHING"


class ScpiDcSupply(ScpiDriver):
    """Drives a programmable DC supply through the standard SCPI power-supply tree."""

    spec = SPEC
    limits = SPEC.limits()

    #: The output header's short form (`OUTP`).
    _output = short_form(command(SPEC, "output").header)
    #: What clears a tripped protection and the inhibit's latch (`OUTP:PROT:CLE`).
    _clear_protection = short_form(command(SPEC, "clear_protection").header)

    def _query(self, name: str) -> str:
        return command(SPEC, name).query

    async def _read_setup(self) -> None:
        """The inhibit input set to latch (`OUTP:INH:MODE LATC`) and read back: in the
        factory's live mode, the input's release at the cell's next IMMERSE would switch the
        output on again at the levels it had, before the driver set the next wafer's."""
        action = "set inhibit mode"
        mnemonic = INHIBIT_MODES[_INHIBIT_MODE]
        inhibit_mode = command(SPEC, "inhibit_mode")
        await self.send(action, f"{inhibit_mode.short} {short_form(mnemonic)}")
        reply = await self.link.query(inhibit_mode.query, idempotent=True)
        if self.mnemonic(action, reply, INHIBIT_MODES) != _INHIBIT_MODE:
            raise ToolError(
                self.name,
                self.address,
                action,
                f"{inhibit_mode.query} answered {reply} after {inhibit_mode.short} "
                f"{short_form(mnemonic)}: the inhibit input would not latch the output off",
            )

    async def set_output_levels(
        self, action: str, current_a: float, voltage_v: float, over_voltage_v: float
    ) -> None:
        """Current, compliance voltage and over-voltage protection, each checked against the
        limits before anything is sent, then sent as one group (any refusal refuses it)."""
        levels = {"current_a": current_a, "voltage_v": voltage_v, "over_voltage_v": over_voltage_v}
        await self.send(action, *self._setting_lines(action, levels))

    def _setting_lines(self, action: str, values: dict[str, float]) -> list[str]:
        """The setting line of each setpoint (name -> value), each checked against the
        limits first, so that nothing is sent when any is outside."""
        return [
            setpoint(SPEC, name).encode(self.check_limit(action, name, value))
            for name, value in values.items()
        ]

    async def set_current_list(
        self,
        action: str,
        current_a: float,
        duration_s: float,
        voltage_v: float,
        over_voltage_v: float,
    ) -> None:
        """`current_a` at the immediate level and as a list of one step lasting at least
        `duration_s` (a dwell of at most the tool's longest, repeated by `LIST:COUN`, rounded
        up to its step), the compliance voltage and the over-voltage protection: the current
        is the same through the transient and after it, and the transient, which `*OPC?`
        waits for, lasts that long unless something ends it first. Each value is checked
        against the limits before anything is sent, then all are sent as one group (any
        refusal refuses it)."""
        count = math.ceil(duration_s / LIST_DWELL.machine_range.maximum)
        levels = {
            "current_a": current_a,
            "voltage_v": voltage_v,
            "over_voltage_v": over_voltage_v,
            "list_current_a": current_a,
            "list_dwell_s": LIST_DWELL.resolved(duration_s / count, up=True),
            "list_count": count,
        }
        lines = self._setting_lines(action, levels)
        await self.send(
            action,
            *lines[:3],
            f"{command(SPEC, 'current_mode').short} LIST",
            *lines[3:],
            f"{command(SPEC, 'trigger_source').short} IMM",
        )

    async def run_list(self, action: str) -> None:
        """The inhibit's latch cleared (`OUTP:PROT:CLE`: the previous charge's end left it
        set; the output is off, so nothing flows) and checked through the error queue, then
        `OUTP ON` and `INIT` (the list runs at once), checked: a message of their own, so
        that no instrument, whatever it runs after a refused unit, switches the output on
        after a clear it refused. When that message is refused, the safe state (output off,
        the transient aborted) is commanded before the error is raised: a refused `INIT`
        leaves the output on, and after a refused `OUTP ON` (an execution error) a device
        that follows IEEE 488.2 runs `INIT`, its list then running with the output off
        (docs/protocols/conventions.md). Best effort, as the laser's: the refusal is the
        error to report, and a safe state that could not be confirmed faults the driver."""
        await self.send(action, self._clear_protection)
        async with self.safe_state_on_error():
            await self.send(action, f"{self._output} ON", command(SPEC, "initiate").short)

    async def switch_output(self, action: str, on: bool) -> None:
        """`OUTP ON` or `OUTP OFF`, checked through the error queue."""
        await self.send(action, f"{self._output} {'ON' if on else 'OFF'}")

    async def request_output(self) -> bool:
        return await self.query_flag("read output", self._query("output"))

    async def request_activity(self) -> str | None:
        """'output on' while the output is on (current may flow), else None."""
        return "output on" if await self.request_output() else None

    async def measure_watched(self, action: str) -> tuple[float, float, dict[str, str]]:
        """What a process watches of the supply, in one exchange (a compound query): the
        output current (A) and voltage (V), recorded as the cell's traces, and the tripped
        protections, as `request_alarms` reads them."""
        reply = await self.query_named(action, (*_MEASURED, *_PROTECTIONS.values()))
        current_a, voltage_v = (self.number_reply(action, reply[name]) for name in _MEASURED)
        self.trace("current_a", current_a)
        self.trace("voltage_v", voltage_v)
        return current_a, voltage_v, self._tripped(action, reply)

    def _tripped(self, action: str, reply: Mapping[str, str]) -> dict[str, str]:
        """The protections whose trip query answered 1 in `reply` (by query name), as the
        spec's alarms."""
        return {
            code: SPEC.alarm_text[code]
            for code, name in _PROTECTIONS.items()
            if self.flag_reply(action, reply[name])
        }

    def _check_identity(self, identity: Identity) -> None:
        """Refuse a device that says it is a tool kind of the line (a grinder at the supply's
        address); any supply model is accepted."""
        from .registry import kind_of_identity  # the registry loads drivers

        other = kind_of_identity(identity.vendor, identity.model)
        if other is not None:
            raise WrongTool(
                self.name,
                self.address,
                "connect",
                f"the device says it is a {identity.vendor} {identity.model}, a {other}, not a "
                "DC supply (check the station file's supply address)",
            )

    async def request_alarms(self) -> dict[str, str]:
        """The tripped protections (`VOLT:PROT:TRIP?`, `CURR:PROT:TRIP?`, one compound query),
        as the spec's alarms."""
        action = "read protections"
        return self._tripped(action, await self.query_named(action, tuple(_PROTECTIONS.values())))

    async def request_interlocks(self) -> dict[str, bool]:
        """A supply has none: the tool that owns it guards its output."""
        return {}

    async def _clear_alarms(self) -> None:
        await self.send("clear protection", self._clear_protection)

    async def _command_safe_state(self) -> None:
        """Output off and the transient aborted (`ABOR`: a supply whose list runs on while
        its output is off would hold `*OPC?` to the list's end), confirmed by `*OPC?`."""
        await self.link.write(f"{self._output} OFF")
        await super()._command_safe_state()

    async def request_workpieces(self) -> tuple[str, ...]:
        """A supply holds no workpiece (the plating cell it feeds holds the wafer)."""
        return ()

    async def _unload_everything(self) -> None:
        """A supply holds no workpiece: with its output off it is empty."""
