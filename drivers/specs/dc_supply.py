"""A programmable DC power supply's contract (`docs/protocols/dc-supply.md`), on the SCPI family.

The plating cell's supply (the `supply` device of the electroplater) speaks the standard SCPI
power-supply tree that bench supplies share (SCPI-99 volume 2, the `SOURce`, `OUTPut` and
`MEASure` subsystems, and the protection headers of common bench supplies):
`[SOURce:]CURRent`, `[SOURce:]VOLTage`, `[SOURce:]VOLTage:PROTection`, `OUTPut[:STATe]`,
`MEASure:CURRent?`, `MEASure:VOLTage?`, the trip queries and `OUTPut:PROTection:CLEar`; the
transient (trigger) system of SCPI-99's `LIST` subsystem, `[SOURce:]CURRent:MODE LIST`,
`[SOURce:]LIST:CURRent`, `LIST:DWELl`, `LIST:COUNt`, `TRIGger[:SEQuence]:SOURce`,
`INITiate[:IMMediate]` (overlapped: `*OPC?` answers once the list is done or aborted) and
`ABORt`; the rear inhibit input's mode (`OUTPut:INHibit:MODE`) and the questionable status
condition (`STATus:QUEStionable:CONDition?`) of the Keysight N6700/E36300 supplies; and the
IEEE 488.2 common commands (`*TRG` among them). The driver uses nothing else,
so a real bench supply of that range can take the simulator's place. It is a device of a
tool, not a tool kind of its own: the registry knows the electroplater, whose spec module
names this one as its `supply`.
"""

from __future__ import annotations

from ..families.scpi_wire import (
    ScpiCommand,
    ScpiPrecondition,
    ScpiSetpoint,
    ScpiWire,
    short_form,
    standard_refusals,
)
from .core import Alarm, ExpectedIdentity, Range, Refusal, StatusVariable, ToolSpec

CURRENT = "[SOURce:]CURRent[:LEVel][:IMMediate][:AMPLitude]"
VOLTAGE = "[SOURce:]VOLTage[:LEVel][:IMMediate][:AMPLitude]"
OVER_VOLTAGE = "[SOURce:]VOLTage:PROTection[:LEVel]"
#: The current mode's mnemonics: the immediate level, or the list while the transient runs.
CURRENT_MODES = {"FIXED": "FIXed", "LIST": "LIST"}
#: The trigger sources: the list starts at `INIT`, or at `*TRG` after it.
TRIGGER_SOURCES = {"IMMEDIATE": "IMMediate", "BUS": "BUS"}
#: What the rear inhibit input does: switch the output off until `OUTP:PROT:CLE` (latching),
#: only while it is asserted (live: the output comes back on when it is released), nothing.
INHIBIT_MODES = {"LATCHING": "LATChing", "LIVE": "LIVE", "OFF": "OFF"}
#: The questionable status condition's bits (Keysight N6700 numbering): the output disabled by
#: the over-voltage protection, the over-current protection, the inhibit input.
QUESTIONABLE_BITS = {"OVER_VOLTAGE": 1, "OVER_CURRENT": 2, "INHIBITED": 512}

#: The list's dwell, timed in whole ms (`resolution`), as the driver rounds a plating's up to.
LIST_DWELL = ScpiSetpoint(
    name="list_dwell_s", unit="s", machine_range=Range(0, 262.144),
    header="[SOURce:]LIST:DWELl", tool_default=0.001, resolution=0.001,
    doc="how long the list's step lasts",
)  # fmt: skip

SETPOINTS = (
    ScpiSetpoint(
        name="current_a", unit="A", machine_range=Range(0, 50), header=CURRENT, tool_default=0,
        doc="output current setting: the constant current while the load can take it",
    ),
    ScpiSetpoint(
        name="voltage_v", unit="V", machine_range=Range(0, 30), process_limit=Range(0, 20),
        header=VOLTAGE, tool_default=0,
        doc="output voltage setting: the compliance limit of a constant-current cell (est)",
    ),
    ScpiSetpoint(
        name="over_voltage_v", unit="V", machine_range=Range(1, 33),
        process_limit=Range(1, 25), header=OVER_VOLTAGE, tool_default=33,
        doc="over-voltage protection: the output trips off above it (est)",
    ),
    ScpiSetpoint(
        name="list_current_a", unit="A", machine_range=Range(0, 50),
        header="[SOURce:]LIST:CURRent[:LEVel]", tool_default=0,
        doc="the list's current: what flows while the transient runs in `CURR:MODE LIST`",
    ),
    LIST_DWELL,
    ScpiSetpoint(
        name="list_count", unit="runs", machine_range=Range(1, 4096), integer=True,
        header="[SOURce:]LIST:COUNt", tool_default=1,
        doc="how many times the list runs before the transient is done",
    ),
)  # fmt: skip

#: The supply's fixed headers (`ABOR` ends the transient).
WIRE = ScpiWire(interlock_error=-221, interlock_reply="flags")
#: The header that clears a tripped protection and the inhibit's latch.
CLEAR_PROTECTION = "OUTPut:PROTection:CLEar"
#: The list's settings, which the transient runs from and so keeps while it is initiated.
LIST_SETTINGS = ("list_current_a", "list_dwell_s", "list_count")

#: What the supply's state must allow (`ScpiCommand.preconditions`), each a settings conflict
#: (-221) in its words: the transient not initiated (for `INIT` and the list's settings), and
#: for `OUTP ON` no protection tripped (`{tripped}`: the tripped protections' alarms,
#: comma-separated, sorted) and the inhibit not latched.
TRANSIENT_INITIATED = ScpiPrecondition(
    code=-221, detail=f"transient initiated, {short_form(WIRE.abort)} ends it"
)
PROTECTION_TRIPPED = ScpiPrecondition(
    code=-221,
    detail=f"protection tripped ({{tripped}}), clear it with {short_form(CLEAR_PROTECTION)} first",
)
INHIBIT_LATCHED = ScpiPrecondition(
    code=-221, detail=f"inhibit latched, clear it with {short_form(CLEAR_PROTECTION)} first"
)

#: Decimals of the supply's measured current and voltage (`MEAS:CURR?`, `MEAS:VOLT?`).
MEASURE_DECIMALS = 5

COMMANDS = (
    *(
        ScpiCommand(
            name=setpoint.name, header=setpoint.header, form="both", syntax="<n>",
            parameters=(setpoint.name,), doc=f"{setpoint.unit}, {setpoint.meaning}",
            preconditions=(TRANSIENT_INITIATED,) if setpoint.name in LIST_SETTINGS else (),
        )
        for setpoint in SETPOINTS
        if setpoint.header
    ),
    ScpiCommand(
        name="output", header="OUTPut[:STATe]", form="both", syntax="ON|OFF|1|0",
        reply="`1`/`0`",
        preconditions=(PROTECTION_TRIPPED, INHIBIT_LATCHED),
        doc="output on or off (the state set: `1` while the inhibit holds the output off); "
        "`OFF` is always taken",
    ),
    ScpiCommand(
        name="inhibit_mode", header="OUTPut:INHibit:MODE", form="both",
        syntax="LATChing|LIVE|OFF", reply="`LATC`/`LIVE`/`OFF`",
        doc="what the rear inhibit input does: `LATC` switches the output off until "
        "`OUTP:PROT:CLE`, `LIVE` only while the input is asserted (the output comes back on "
        "when it is released), `OFF` ignores it; kept through `*RST` and power-off (`LIVE` "
        "from the factory)",
    ),
    ScpiCommand(
        name="over_current", header="[SOURce:]CURRent:PROTection:STATe", form="both",
        syntax="ON|OFF|1|0", reply="`1`/`0`",
        doc="over-current protection: on, the output trips off when the supply goes into "
        "current limit (off by default: a plating cell runs in constant current)",
    ),
    ScpiCommand(
        name="measure_current", header="MEASure[:SCALar]:CURRent[:DC]", form="query",
        decimals=MEASURE_DECIMALS, doc="output current, A (0 with the output off or an open load)",
    ),
    ScpiCommand(
        name="measure_voltage", header="MEASure[:SCALar]:VOLTage[:DC]", form="query",
        decimals=MEASURE_DECIMALS, doc="output voltage, V, at the terminals",
    ),
    ScpiCommand(
        name="over_voltage_tripped", header="[SOURce:]VOLTage:PROTection:TRIPped",
        form="query", reply="`1`/`0`", doc="the over-voltage protection has tripped",
    ),
    ScpiCommand(
        name="over_current_tripped", header="[SOURce:]CURRent:PROTection:TRIPped",
        form="query", reply="`1`/`0`", doc="the over-current protection has tripped",
    ),
    ScpiCommand(
        name="questionable_condition", header="STATus:QUEStionable:CONDition", form="query",
        reply="`0`-`65535`",
        doc="what disables the output now, a bit each: 1 the over-voltage protection "
        "(tripped), 2 the over-current protection (tripped), 512 the inhibit input (`INH`: "
        "asserted, or latched until `OUTP:PROT:CLE`)",
    ),
    ScpiCommand(
        name="current_mode", header="[SOURce:]CURRent:MODE", form="both",
        syntax="FIXed|LIST", reply="`FIX`/`LIST`", preconditions=(TRANSIENT_INITIATED,),
        doc="what the transient does to the current: nothing (`FIX`, the default), or run the "
        "list (`LIST`)",
    ),
    ScpiCommand(
        name="trigger_source", header="TRIGger[:SEQuence]:SOURce", form="both",
        syntax="IMMediate|BUS", reply="`IMM`/`BUS`", preconditions=(TRANSIENT_INITIATED,),
        doc="what starts the list once initiated: `INIT` itself (`IMM`, the default) or `*TRG`",
    ),
    ScpiCommand(
        name="initiate", header="INITiate[:IMMediate]", overlapped=True,
        doc="initiates the transient: the list runs `LIST:COUN` times `LIST:DWEL` at `LIST:CURR`"
        ", then the current is the immediate level again; it is aborted (the list ends there) "
        "by `ABOR`, `*RST`, the output switched off, a protection trip or the inhibit input",
        preconditions=(TRANSIENT_INITIATED,),
    ),
    ScpiCommand(
        name="trigger", header="*TRG",
        doc="IEEE 488.2 bus trigger: starts an initiated list whose trigger source is `BUS`; "
        "-211 when none waits for it",
    ),
    ScpiCommand(
        name="clear_protection", header=CLEAR_PROTECTION,
        doc="clears a tripped protection (the output stays off) and the inhibit's latch (the "
        "output on again if it was set on, the input released); a cause that persists trips "
        "it again when the output is switched on, an input still asserted keeps the latch",
    ),
)  # fmt: skip

SPEC = ToolSpec(
    kind="dc_supply",
    role="electroplater",
    family="scpi",
    identity=ExpectedIdentity(vendor="packline", model="DCS-30-50", firmware="1.0"),
    doc="programmable DC power supply, 30 V / 50 A, SCPI over a TCP socket",
    setpoints=SETPOINTS,
    status=(
        StatusVariable(name="current_a", unit="A", trace="cell_current", doc="MEAS:CURR?"),
        StatusVariable(name="voltage_v", unit="V", trace="cell_voltage", doc="MEAS:VOLT?"),
    ),
    commands=COMMANDS,
    alarms=(
        Alarm(
            code="OVER_VOLTAGE",
            text="the output voltage rose above the over-voltage protection: output off "
            "(`VOLT:PROT:TRIP?` answers 1)",
        ),
        Alarm(
            code="OVER_CURRENT",
            text="over-current protection on and the supply in current limit: output off "
            "(`CURR:PROT:TRIP?` answers 1)",
        ),
    ),
    refusals=standard_refusals(
        Refusal(code=-211, text="`*TRG` with no initiated list waiting for it (`TRIG:SOUR BUS`)")
    ),
    wire=WIRE,
)
