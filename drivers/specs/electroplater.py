"""The electroplater's contract (`docs/protocols/electroplater.md`): a tool of two devices.

The plating cell is reached as two devices on two links (decision 0009):

* `cell`: the bath and wafer-holder controller, a PLC on Modbus TCP/RTU in the family's map
  (`SPEC` below): which of the cell's baths the holder plates in (a bath per chemistry:
  copper wiring, a eutectic solder layer), the paddle setpoint (written straight to its
  register), the selected bath's age as the charge it has passed, the charge counted through
  the cathode during an immersion and the seed area it measured, the wafer holder (load,
  immerse, withdraw and rinse, unload), its interlocks and alarms. The bath's heater is a
  temperature controller of the line's common map (Eurotherm 3200 series,
  `drivers/families/temperature_controller.py`) on the same Modbus line, at the unit id the
  PLC names in `HEATER_UNIT`; its alarm relay is the PLC's OVER_TEMPERATURE input;
* `supply`: a programmable DC supply on the standard SCPI power-supply tree
  (`drivers/specs/dc_supply.py`), which drives the plating current.

The cell's rinse and dry station carries an XRF head, the integrated post-plate thickness
metrology of a production plating tool: after each WITHDRAW it measures the deposit at the
`XRF_POINTS` (`XRF_THICKNESS`), so the line holds a wafer on the metal that is there, not on
the charge that passed.
"""

from __future__ import annotations

from ..families.plc_map import (
    ALARM_AND_INTERLOCK_STATUS,
    BitAlarm,
    BitInterlock,
    NamedRefusal,
    PlcCommand,
    PlcMap,
    PlcParameter,
    PlcSetpoint,
    PlcStatus,
    command_error_status,
    enum_codes,
    refused_register_status,
    serial_number_status,
)
from ..families.stage_map import (
    STAGE_CHANGES,
    stage_commands,
    stage_refusals,
    wafer_id_block,
    wafer_id_parameter,
    wafer_loaded,
)
from ..roles.clean_room import AMBIENT_C
from ..roles.electroplater import XRF_DECIMALS, CellPhase, Metal
from . import dc_supply
from .core import ExpectedIdentity, Made, MeasurementPoint, Range, Setpoint, ToolSpec

#: The bath chemistries as the map codes them (BATH_METAL).
METAL_CODES = tuple((index, metal.value) for index, metal in enumerate(Metal, start=1))

#: Where the rinse station's XRF head measures the deposit: the centre, a ring of four at half
#: the wafer's radius on the axes and a ring of four at 0.85 of it on the diagonals.
XRF_POINTS = (
    MeasurementPoint(radius_share=0, angle_deg=0),
    *(MeasurementPoint(radius_share=0.5, angle_deg=angle) for angle in (0, 90, 180, 270)),
    *(MeasurementPoint(radius_share=0.85, angle_deg=angle) for angle in (45, 135, 225, 315)),
)

SPEC: ToolSpec[PlcMap] = ToolSpec(
    kind="electroplater",
    role="electroplater",
    family="modbus_plc",
    identity=ExpectedIdentity(vendor="packline", model="EP-1", firmware="1.0"),
    doc="single-wafer plating cell: bath and holder controller on Modbus TCP/RTU, DC supply "
    "on SCPI",
    status=(
        PlcStatus(name="PHASE", register=0, codes=enum_codes(CellPhase)),
        *ALARM_AND_INTERLOCK_STATUS,
        PlcStatus(
            name="HEATER_UNIT",
            register=3,
            doc="unit id of the bath's temperature controller on this Modbus line",
        ),
        PlcStatus(name="AGITATION", register=4, unit="rpm", doc="paddle speed"),
        PlcStatus(
            name="BATH_AGE",
            register=5,
            words=2,
            unit="Ah",
            scale=100,
            doc="charge passed through the selected bath since its RESET_BATH_AGE",
        ),
        PlcStatus(
            name="IMMERSION_CHARGE",
            register=7,
            words=2,
            unit="C",
            scale=1000,
            trace="cathode_charge",
            doc="charge counted through the cathode (shunt) since the last IMMERSE",
        ),
        PlcStatus(
            name="CATHODE_CURRENT",
            register=9,
            unit="A",
            scale=100,
            doc="present current through the cathode (shunt)",
        ),
        PlcStatus(
            name="BATH_METAL",
            register=10,
            codes=METAL_CODES,
            doc="the chemistry of the bath the holder plates in (SELECT_BATH)",
        ),
        wafer_loaded(11),
        PlcStatus(
            name="CATHODE_AREA",
            register=12,
            words=2,
            unit="cm2",
            scale=1000,
            doc="the exposed, connected seed area the cell measured at the last IMMERSE (the "
            "cathode's double-layer capacitance), 0 until then",
        ),
        PlcStatus(
            name="CHARGE_REACHED",
            register=14,
            doc="0 no, 1 yes: IMMERSION_CHARGE reached the charge target (`charge_target_c`, "
            "201-202) during this immersion and the cell switched the plating current off (the "
            "supply's inhibit input); 0 from IMMERSE",
        ),
        PlcStatus(
            name="CURRENT_ON_TIME",
            register=15,
            words=2,
            unit="s",
            scale=100,
            doc="the time current flowed through the cathode since the last IMMERSE",
        ),
        refused_register_status(18, "200-202, 300 or 301"),
        command_error_status(19),
        serial_number_status(20),
        wafer_id_block(30, "the id of the wafer in the holder, empty when none"),
        PlcStatus(
            name="XRF_POINTS",
            register=40,
            unit="points",
            doc="the points the rinse station's XRF head measured after the last WITHDRAW "
            f"(*Measurement points*): {len(XRF_POINTS)}, or 0 from IMMERSE until then",
        ),
        PlcStatus(
            name="XRF_THICKNESS",
            register=41,
            stride=1,
            repeat=len(XRF_POINTS),
            unit="um",
            scale=10**XRF_DECIMALS,
            doc=f"the deposit at measurement point i (0-{len(XRF_POINTS) - 1}): what the XRF "
            "reads there after the withdraw less what it read before the immersion (the seed)",
        ),
    ),
    setpoints=(
        PlcSetpoint(
            name="agitation_rpm",
            unit="rpm",
            machine_range=Range(0, 300),
            process_limit=Range(0, 200),
            register=200,
            doc="paddle speed, taken at once (est window); 0 at power-on: the paddle is still "
            "until it is written",
        ),
        PlcSetpoint(
            name="charge_target_c",
            unit="C",
            machine_range=Range(0, 1_000_000),
            register=201,
            words=2,
            scale=1000,
            doc="ampere-hour termination: once IMMERSION_CHARGE reaches it during an "
            "immersion, the cell switches the plating current off itself (the supply's "
            "inhibit input) and sets CHARGE_REACHED (14); 0 none; taken at once",
        ),
        Setpoint(
            name="bath_temperature_c",
            unit="degC",
            machine_range=Range(15, 70),
            # the bath heats and cools by its loss to the room: no lower target is reached
            process_limit=Range(AMBIENT_C, 60),
            doc="sent to the bath heater (its target setpoint `TG.SP`), not to the PLC: the "
            f"bath's working window, from the {AMBIENT_C:g} degC room the bath cools to (est)",
            floor=f"{AMBIENT_C:g} degC is the room the bath cools to",
        ),
        Setpoint(
            name="current_density_a_dm2",
            unit="A/dm2",
            machine_range=Range(0.05, 10),
            process_limit=Range(0.1, 8),
            doc="driver-side check, not sent: the cathode current density of a recipe; each "
            "metal deposits well only in a narrower window (est)",
        ),
        Setpoint(
            name="thickness_um",
            unit="um",
            machine_range=Range(0.01, 200),
            process_limit=Range(0.05, 100),
            doc="driver-side check, not sent: the thickness a recipe plates (est)",
        ),
        Setpoint(
            name="plated_area_cm2",
            unit="cm2",
            machine_range=Range(0.01, 1000),
            doc="driver-side check, not sent: the exposed, connected seed area a recipe's "
            "design plates, what its resist pattern opens (a wiring mould on a 200 mm wafer: "
            "about 6 cm²; a blanket seed on a 300 mm wafer: 707 cm²), which `CATHODE_AREA` "
            "must be within 10 % of",
        ),
    ),
    parameters=(
        wafer_id_parameter("the wafer's id"),
        PlcParameter(name="bath", codes=METAL_CODES, doc="a bath's chemistry"),
    ),
    commands=(
        *stage_commands(
            workpiece="wafer",
            holder="in the holder",
            loaded="wafer in the holder, the contact ring on its seed film",
            emptied="holder empty",
            processed="plated",
        ),
        PlcCommand(
            name="IMMERSE",
            code=3,
            allowed_in=("ready",),
            interlocks=("lid_closed", "bath_level", "cathode_contact"),
            conditions="a wafer in the holder (6)",
            effect="immersing → immersed; IMMERSION_CHARGE starts from 0, CATHODE_AREA is "
            "measured once immersed",
        ),
        PlcCommand(
            name="WITHDRAW",
            code=4,
            allowed_in=("immersing", "immersed"),
            effect="withdrawing (lift, rinse, spin dry) → ready",
        ),
        PlcCommand(
            name="ABORT",
            code=5,
            while_alarmed=True,
            effect="a wafer in the bath is withdrawn and rinsed (withdrawing → ready); heater "
            "and paddle keep their setpoints",
        ),
        PlcCommand(
            name="RESET_ALARMS",
            code=6,
            while_alarmed=True,
            effect="clears latched alarms; a faulted cell is ready again",
        ),
        PlcCommand(
            name="RESET_BATH_AGE",
            code=7,
            allowed_in=("ready",),
            effect="BATH_AGE = 0 (the selected bath was replaced or replenished)",
        ),
        PlcCommand(
            name="SELECT_BATH",
            code=8,
            parameters=("bath",),
            allowed_in=("ready",),
            conditions="the cell has a bath of that chemistry (9)",
            effect="the holder plates in that bath from the next IMMERSE; BATH_METAL and "
            "BATH_AGE are its",
        ),
    ),
    alarms=(
        BitAlarm(
            code="OVER_TEMPERATURE",
            bit=0,
            text="the bath heater's alarm 1 (absolute high at its `A1`): the heater in standby, "
            "the wafer withdrawn from the bath; it latches again after RESET_ALARMS until the "
            "heater's alarm is acknowledged (`ACK`) with the bath back below `A1`",
        ),
        BitAlarm(
            code="LEVEL_LOW",
            bit=1,
            text="bath level lost while a wafer was in it: the wafer withdrawn",
        ),
        BitAlarm(
            code="CONTACT_LOST",
            bit=2,
            text="the contact ring lost the seed film while the wafer was in the bath: the wafer "
            "withdrawn",
        ),
    ),
    interlocks=(
        BitInterlock(name="lid_closed", made=Made.STEP, bit=0, doc="the cell's lid is closed"),
        BitInterlock(
            name="bath_level", made=Made.SUPPLY, bit=1, doc="the bath is at its working level"
        ),
        BitInterlock(
            name="cathode_contact",
            made=Made.STEP,
            bit=2,
            doc="a wafer is in the holder and the contact ring closes a circuit to its seed",
        ),
        BitInterlock(
            name="wafer_immersed",
            made=Made.STEP,
            bit=3,
            doc="the wafer is in the bath (immersed): the host turns the current on only then",
        ),
    ),
    refusals=stage_refusals(
        "the cell's present phase",
        NamedRefusal(name="NO_SUCH_BATH", code=9, text="the cell has no bath of that chemistry"),
        workpiece="wafer",
        holder="in the holder",
        processed="plated",
    ),
    measurement_points=XRF_POINTS,
    wire=PlcMap(
        status_registers=20,
        command_register=300,
        parameter_register=301,
        setpoint_block="bath",
        counted_changes=(*STAGE_CHANGES, "CHARGE_REACHED", "BATH_METAL"),
    ),
)

#: The further devices of the tool, by the names a station entry's address gives them.
DEVICES = {"supply": dc_supply.SPEC}
