"""The oven's contract: a batch cure and reflow oven on one RS-485 line
(docs/protocols/oven.md).

The oven's own unit is a PLC on the Modbus PLC family's map: the door, the slots of the batch,
the nitrogen purge and its residual-oxygen reading, the heater supply (a run) and the summary
alarms. Each heating zone is a temperature controller of the Eurotherm 3200 map
(`families/temperature_controller.py`) on the same line, at the unit ids the PLC names
(`FIRST_ZONE_UNIT` and the `ZONE_COUNT - 1` after it). The zones' setpoints (a segment's
temperature and ramp rate) are declared here with their limits, though they travel to the
zone controllers and not to the PLC.
"""

from __future__ import annotations

from ..families.batch_map import (
    batch_refusals,
    door_status,
    slot_commands,
    slot_ids,
    slot_parameters,
    slot_status,
)
from ..families.plc_map import (
    ALARM_AND_INTERLOCK_STATUS,
    BitAlarm,
    BitInterlock,
    NamedRefusal,
    PlcCommand,
    PlcMap,
    PlcSetpoint,
    PlcStatus,
    command_error_status,
    enum_codes,
    serial_number_status,
)
from ..families.temperature_controller import EUROTHERM_3200
from ..roles.clean_room import AMBIENT_C
from ..roles.oven import LastResult, OvenState
from .core import ExpectedIdentity, Made, Range, Setpoint, ToolSpec

MAX_SLOTS = 12
#: The load temperature below which the door may open (the `load_cool` interlock), degC (est).
DOOR_OPEN_BELOW_C = 60.0

SPEC: ToolSpec[PlcMap] = ToolSpec(
    kind="oven",
    role="oven",
    family="modbus_plc",
    identity=ExpectedIdentity(vendor="packline", model="BO-4", firmware="1.0"),
    doc="batch cure and reflow oven under N2: a PLC and Eurotherm-map zone controllers on "
    "one Modbus RTU line",
    status=(
        PlcStatus(name="OVEN_STATE", register=0, codes=enum_codes(OvenState)),
        *ALARM_AND_INTERLOCK_STATUS,
        command_error_status(3),
        PlcStatus(
            name="LOAD_TEMPERATURE",
            register=4,
            unit="degC",
            scale=10,
            trace="load_temperature",
            doc="the batch's temperature (load thermocouple)",
        ),
        PlcStatus(
            name="O2",
            register=5,
            words=2,
            unit="ppm",
            trace="o2",
            doc="residual oxygen (air = 209000)",
        ),
        PlcStatus(name="N2_FLOW", register=7, unit="slm", scale=10, trace="n2_flow"),
        door_status(8),
        PlcStatus(name="ZONE_COUNT", register=9, doc="heating zones on the line (1-8)"),
        PlcStatus(
            name="FIRST_ZONE_UNIT",
            register=10,
            doc="unit id of zone 1; zone i is at FIRST_ZONE_UNIT + i - 1",
        ),
        *slot_status(11, MAX_SLOTS),
        PlcStatus(
            name="RUNS_COMPLETED",
            register=13,
            doc="counter of finished runs (any result), wraps at 65536",
        ),
        PlcStatus(name="LAST_RESULT", register=14, codes=enum_codes(LastResult)),
        PlcStatus(
            name="RUN_TIME",
            register=15,
            words=2,
            unit="s",
            scale=10,
            doc="heater-on time of the current/last run",
        ),
        serial_number_status(20),
        slot_ids(40, MAX_SLOTS, "wafer or panel"),
    ),
    setpoints=(
        PlcSetpoint(
            name="n2_flow_slm",
            unit="slm",
            machine_range=Range(1, 100),
            process_limit=Range(5, 60),
            scale=10,
            register=200,
            doc="N2_FLOW_SETPOINT: nitrogen purge flow (est)",
        ),
        PlcSetpoint(
            name="o2_limit_ppm",
            unit="ppm",
            machine_range=Range(10, 5000),
            process_limit=Range(20, 1000),
            integer=True,
            register=201,
            doc="O2_LIMIT: residual O2 at or below which the atmosphere is inert (est)",
        ),
        Setpoint(
            name="temperature_c",
            unit="degC",
            machine_range=EUROTHERM_3200.accepts("TG.SP"),
            # the oven heats and cools by its loss to the room: no lower target is reached
            process_limit=Range(AMBIENT_C, 350),
            doc="a profile segment's zone target (TG.SP of every zone), from the "
            f"{AMBIENT_C:g} degC room the oven cools to (est)",
            floor=f"{AMBIENT_C:g} degC is the room the oven cools to",
        ),
        Setpoint(
            name="ramp_rate_c_per_min",
            unit="degC/min",
            machine_range=Range(0.1, EUROTHERM_3200.accepts("SP.RAT").maximum),
            process_limit=Range(0.5, 180),
            doc="a profile segment's ramp rate (SP.RAT of every zone) (est)",
        ),
    ),
    parameters=slot_parameters("the wafer's or panel's id"),
    commands=(
        PlcCommand(
            name="START_PURGE",
            code=1,
            allowed_in=("idle",),
            interlocks=("door_closed", "n2_supply"),
            effect="N2 at N2_FLOW_SETPOINT: purging → inert when O2 ≤ O2_LIMIT",
        ),
        PlcCommand(
            name="STOP_PURGE",
            code=2,
            allowed_in=("purging", "inert"),
            effect="N2 off → idle (air comes back)",
        ),
        PlcCommand(
            name="START_RUN",
            code=3,
            allowed_in=("inert",),
            interlocks=("door_closed", "n2_supply", "atmosphere_inert"),
            conditions="a wafer in a slot (9)",
            effect="heater supply on → running; the zones follow their setpoints",
        ),
        PlcCommand(
            name="END_RUN",
            code=4,
            allowed_in=("running",),
            effect="heater supply off → inert; RUNS_COMPLETED +1, LAST_RESULT 1",
        ),
        PlcCommand(
            name="ABORT",
            code=5,
            while_alarmed=True,
            effect="heater supply off; a run ends with LAST_RESULT 2 (N2 keeps flowing)",
        ),
        PlcCommand(
            name="OPEN_DOOR",
            code=6,
            allowed_in=("idle",),
            interlocks=("load_cool",),
            effect="door open",
        ),
        PlcCommand(name="CLOSE_DOOR", code=7, allowed_in=("idle",), effect="door closed"),
        PlcCommand(
            name="RESET_ALARMS",
            code=8,
            while_alarmed=True,
            effect="clears latched alarms and the zones' (ACK); a faulted oven goes to "
            "purging with N2 on, or idle",
        ),
        *slot_commands(9, ("idle",)),
    ),
    alarms=(
        BitAlarm(
            code="O2_HIGH",
            bit=0,
            text="residual O2 above twice its limit during a run; heater supply off",
        ),
        BitAlarm(
            code="ZONE_ALARM",
            bit=1,
            text="a zone controller alarms (over-temperature or sensor break); heater supply off",
        ),
    ),
    interlocks=(
        BitInterlock(name="door_closed", made=Made.STEP, bit=0, doc="the door is closed"),
        BitInterlock(
            name="n2_supply", made=Made.SUPPLY, bit=1, doc="nitrogen supply pressure is present"
        ),
        BitInterlock(
            name="atmosphere_inert", made=Made.STEP, bit=2, doc="residual O2 at or below O2_LIMIT"
        ),
        BitInterlock(
            name="load_cool",
            made=Made.STEP,
            bit=3,
            doc=f"the load is below {DOOR_OPEN_BELOW_C:g} degC (est)",
        ),
    ),
    refusals=batch_refusals(
        "the oven's present state",
        "processed",
        NamedRefusal(name="NO_LOAD", code=9, text="no wafer in the oven"),
    ),
    wire=PlcMap(
        status_registers=20,
        command_register=300,
        parameter_register=301,
        setpoint_block="atmosphere",
    ),
)
