"""Byte-level tests: the electroplater driver against docs/protocols/electroplater.md and
docs/protocols/dc-supply.md.

Each test lists the exact frames of both devices the pages prescribe, the cell's Modbus TCP
frames built here from the page's addresses and codes and the supply's SCPI lines written out,
and runs the real links and driver against two scripted peers at once.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import replace

import pytest

from packline.clock import VirtualClock
from packline.drivers.electroplater import HOLDER_TIMEOUT_S, ModbusScpiElectroplater
from packline.drivers.equipment import ToolState
from packline.drivers.equipment.limits import StationLimits
from packline.drivers.errors import CommandRefused, LimitViolation, ToolAlarm, ToolError
from packline.drivers.links import ModbusLink, VisaLink
from packline.drivers.roles.electroplater import Metal, PlatingRecipe
from packline.testing import expected_protocol
from packline.testing.modbus_frames import (
    identification,
    read,
    refused,
    text,
    write_many,
    write_one,
)

READY, IMMERSING, IMMERSED, WITHDRAWING, FAULT = range(5)
#: Interlock bits: lid closed 0, bath level 1, cathode contact 2, wafer immersed 3.
CLOSED_OUT_OF_BATH = 0b0111
CLOSED_IN_BATH = 0b1111

#: 2 A/dm2 over 69.4 cm2 (the design's area, which the cell measures) is 1.388 A; 1 um of Cu
#: at 98 % takes 192.683 C (138.82 s).
RECIPE = PlatingRecipe(Metal.CU, current_density_a_dm2=2, thickness_um=1, plated_area_cm2=69.4)


def status(
    phase: int,
    *,
    interlocks: int = CLOSED_OUT_OF_BATH,
    alarms: int = 0,
    charge_mc: int = 0,
    age_cah: int = 0,
    metal: int = 1,
    area_mcm2: int = 0,
    reached: int = 0,
    on_cs: int = 0,
) -> list[int]:
    """The status block, registers 0-19: the heater at unit 2, paddle 60 rpm, a wafer in the
    holder; the seed area measured (`area_mcm2`, 0.001 cm2) once immersed; whether the charge
    reached its target (`reached`) and the current-on time (`on_cs`, 0.01 s)."""
    return [
        phase, alarms, interlocks, 2, 60, age_cah >> 16, age_cah & 0xFFFF,
        charge_mc >> 16, charge_mc & 0xFFFF, 0, metal, 1, area_mcm2 >> 16, area_mcm2 & 0xFFFF,
        reached, on_cs >> 16, on_cs & 0xFFFF, 0, 0, 0,
    ]  # fmt: skip


def line(text_: str) -> bytes:
    return text_.encode() + b"\n"


NO_ERROR = (line("SYST:ERR?"), line('0,"No error"'))
#: What a plating poll asks the supply, in one compound query: current, voltage, protections.
WATCH = ":MEAS:CURR?;:MEAS:VOLT?;:VOLT:PROT:TRIP?;:CURR:PROT:TRIP?"
SUPPLY_CONNECT = [
    (line("*CLS"), None),
    (line("*IDN?"), line("packline,DCS-30-50,DCS-30-50-0001,1.0")),
    # the inhibit input latches the output off until OUTP:PROT:CLE, read back
    (line("OUTP:INH:MODE LATC"), None),
    NO_ERROR,
    (line("OUTP:INH:MODE?"), line("LATC")),
    (line(":VOLT:PROT:TRIP?;:CURR:PROT:TRIP?"), line("0;0")),
    # the supply's output, read once, by the cell with its phase: off, the tool at rest
    (line("OUTP?"), line("0")),
    # the tool's alarms: the cell's and the supply's
    (line(":VOLT:PROT:TRIP?;:CURR:PROT:TRIP?"), line("0;0")),
]
CELL_CONNECT = [
    identification(1, "packline", "EP-1", "1.0"),
    read(2, 20, text("EP-1-0001")),
    read(3, 3, [2]),  # HEATER_UNIT: the bath heater answers unit 2 on the same line
    read(4, 0, status(0)),
    read(5, 1, [0]),
]
HEATER = 2


def bath_at(tid: int, pv_c: float, status: int = 0) -> list:
    """The heater's loop read (Eurotherm 3200 addresses 1-5 at unit 2), then its status (75):
    the process value, a 25.0 degC target and working setpoint, 10 % output."""
    return [
        read(tid, 1, [round(pv_c * 10), 250, 0, 100, 250], unit=HEATER),
        read(tid + 1, 75, [status], unit=HEATER),
    ]


@asynccontextmanager
async def plater(
    cell_script: list,
    supply_script: list,
    poll_interval_s: float = 200.0,
    limits: StationLimits | None = None,
):
    """A connected driver whose cell and supply are scripted peers, its `limits` as a
    station file `line.yaml` narrows them."""
    clock = VirtualClock()
    async with (
        expected_protocol(CELL_CONNECT + cell_script) as cell,
        expected_protocol(SUPPLY_CONNECT + supply_script) as supply,
    ):
        driver = ModbusScpiElectroplater(
            ModbusLink(cell.address("modbus+tcp"), tool="plater", timeout_s=1.0, clock=clock),
            name="plater",
            poll_interval_s=poll_interval_s,
            limits=limits,
            limits_source=lambda key: "station file line.yaml",
            devices={
                "supply": VisaLink(
                    supply.address("visa"), tool="supply", timeout_s=1.0, clock=clock
                )
            },
        )
        await driver.connect()
        yield driver
        await driver.close()


#: The seed area the cell measures once the wafer is in: the recipe's 69.4 cm2, 0.001 cm2.
SEED_MCM2 = 69_400


def until_immersed(area_mcm2: int = SEED_MCM2) -> list:
    """Up to the wafer in the bath (transactions 5-22): the settled status, the wafer, the
    paddle (60 rpm), the bath as it is, the heater (A1 30.0 degC, no ramp, target 25.0 degC,
    auto), the bath at temperature, the interlocks, IMMERSE, immersing, immersed (the cell's
    measured seed area `area_mcm2`), the interlocks again."""
    return [
        read(6, 0, status(READY)),
        read(7, 11, [1]),
        read(8, 30, text("W01")),
        write_many(9, 200, [60]),
        *bath_at(10, 25.0),  # the bath as it is, before the alarm above it is armed
        write_one(12, 13, 300, unit=HEATER),
        write_one(13, 35, 0, unit=HEATER),
        write_one(14, 2, 250, unit=HEATER),
        write_one(15, 199, 0, unit=HEATER),
        read(16, 0, status(READY)),
        *bath_at(17, 25.0),
        read(19, 2, [CLOSED_OUT_OF_BATH]),
        write_one(20, 300, 3),
        read(21, 0, status(IMMERSING)),
        read(22, 0, status(IMMERSED, interlocks=CLOSED_IN_BATH, area_mcm2=area_mcm2)),
        read(23, 2, [CLOSED_IN_BATH]),
    ]


def levels(current_a: str = "1.388") -> list:
    """The supply's levels, set once the cell measured the seed, and checked: the current over
    it, also as a list of one step lasting 1 % longer than the charge's time at that current
    (138.821 s + 1 %, up to the next ms: 140.21 s), the list started by INIT itself; one
    program message (IEEE 488.2 compound)."""
    return [
        (
            line(
                f":CURR {current_a};:VOLT 10;:VOLT:PROT 12;:CURR:MODE LIST;"
                f":LIST:CURR {current_a};:LIST:DWEL 140.21;:LIST:COUN 1;:TRIG:SOUR IMM"
            ),
            None,
        ),
        NO_ERROR,
    ]


LEVELS = levels()
#: The inhibit's latch (the previous charge's end) cleared, checked, and only then the output
#: on and the list run, checked.
RUN_LIST = [
    (line("OUTP:PROT:CLE"), None),
    NO_ERROR,
    (line(":OUTP ON;:INIT"), None),
    NO_ERROR,
]
#: The output off once the charge ended, whatever ended it, checked.
OUTPUT_OFF = [(line("OUTP OFF"), None), NO_ERROR]


#: What the rinse station's XRF head measured (40-49): 9 points at 0.01 um, thinner at the
#: edge; or, a cell without one (its gateway's XRF_POINTS 0), none.
XRF_MEASURED = [9, 101, 100, 100, 99, 100, 97, 96, 97, 98]
XRF_NONE = [0] * 10


def charge_target(charge_mc: int, tid: int = 24) -> list:
    """The charge target (201-202, 0.001 C, high word first), written once the supply's levels
    are set: the cell switches the current off through the supply's inhibit input when its
    counter reaches it."""
    return [write_many(tid, 201, [charge_mc >> 16, charge_mc & 0xFFFF])]


@pytest.mark.parametrize(
    ("area_mcm2", "current_a", "xrf", "measured_um"),
    [
        (SEED_MCM2, "1.388", XRF_MEASURED, (1.01, 1.0, 1.0, 0.99, 1.0, 0.97, 0.96, 0.97, 0.98)),
        (SEED_MCM2, "1.388", XRF_NONE, ()),
        # the mould opened 5 % less than its design: 2 A/dm2 over the 65.93 cm2 measured
        (65_930, "1.3186", XRF_MEASURED, (1.01, 1.0, 1.0, 0.99, 1.0, 0.97, 0.96, 0.97, 0.98)),
    ],
)
async def test_a_plating_step_ends_at_the_cells_charge_target_then_withdraws(
    area_mcm2: int, current_a: str, xrf: list[int], measured_um: tuple[float, ...]
):
    """The current is the recipe's density over the seed the cell measured once the wafer is
    in (current-density control), the supply's list, the cell's charge target the recipe's
    thickness over it; the driver reads the supply, then the cell, as the list starts, waits
    on `*OPC?` (answered once the cell has switched the current off through the supply's
    inhibit input, which ends the list), reads both again, finds the charge reached and sends
    OUTP OFF (the inhibit latched the output off; its setting off too, the inhibit's release
    at the next IMMERSE cannot switch it on). Once withdrawn, the XRF head's points are read
    (none, on a cell without one)."""
    area_cm2 = area_mcm2 / 1000
    charge_mc = round(RECIPE.charge_c(area_cm2) * 1000)
    on_s = RECIPE.charge_c(area_cm2) / float(current_a)
    on_cs = round(on_s * 100)
    immersed = {"interlocks": CLOSED_IN_BATH, "area_mcm2": area_mcm2}
    reached = {**immersed, "charge_mc": charge_mc, "age_cah": 5, "reached": 1, "on_cs": on_cs}
    cell = [
        *until_immersed(area_mcm2),
        *charge_target(charge_mc),
        read(25, 0, status(IMMERSED, **immersed, charge_mc=7)),
        read(26, 0, status(IMMERSED, **reached)),  # once the supply answered *OPC?
        read(27, 0, status(IMMERSED, **reached)),
        *bath_at(28, 25.1),
        write_one(30, 300, 4),
        read(31, 0, status(WITHDRAWING)),
        read(32, 0, status(READY)),
        read(33, 40, xrf),
    ]
    supply = [
        *levels(current_a),
        *RUN_LIST,
        (line(WATCH), line(f"{current_a};0.51104;0;0")),
        (line("*OPC?"), line("1")),  # held until the list ended
        (line(WATCH), line("0.00000;0.00000;0;0")),  # the cell switched the output off
        *OUTPUT_OFF,
    ]
    async with plater(cell, supply) as driver:
        started = driver.clock.now()
        result = await driver.plate(RECIPE)
        assert RECIPE.charge_c(69.4) == pytest.approx(192.683, abs=1e-3)
        assert result.charge_c == charge_mc / 1000
        assert result.supply_charge_c == pytest.approx(RECIPE.charge_c(area_cm2), abs=1e-2)
        assert result.current_on_s == on_cs / 100
        assert result.charge_thickness_um == pytest.approx(1.0, abs=0.001)
        assert (result.plated_area_cm2, result.current_density_a_dm2) == (
            area_cm2,
            pytest.approx(2.0, abs=1e-4),
        )
        assert result.measured_thickness_um == measured_um
        if measured_um:
            assert (result.thickness_min_um, result.thickness_max_um) == (0.96, 1.01)
            assert result.thickness_mean_um == pytest.approx(8.88 / 9)
        assert result.bath_temperature_c == 25.1
        assert (result.wafer_id, result.bath_age_ah, result.peak_voltage_v) == (
            "W01",
            0.05,
            0.51104,
        )
        # the immersion and the withdrawal are each one poll, cut from the interval (200 s) to
        # the holder's timeout, the charge none
        assert driver.clock.now() - started == pytest.approx(2 * HOLDER_TIMEOUT_S)
        assert driver.state is ToolState.IDLE


async def test_a_measured_area_far_from_the_recipes_design_is_withdrawn_unplated():
    """The cell measures 34.7 cm2 of seed (CATHODE_AREA, 12-13) where the recipe's design
    plates 69.4: the driver withdraws (300 = 4) without setting the supply's levels or
    switching its output on, naming both."""
    cell = [
        *until_immersed(area_mcm2=34_700),
        write_one(24, 300, 4),
        read(25, 0, status(WITHDRAWING)),
        read(26, 0, status(READY)),
    ]
    async with plater(cell, []) as driver:
        with pytest.raises(ToolError, match=r"the cell measured 34\.7 cm\^2") as error:
            await driver.plate(RECIPE)
        assert (
            "where the recipe's design plates plated_area_cm2 = 69.4 cm^2: the measured area "
            "is 50% of it, more than 10% off"
        ) in str(error.value)
        assert driver.state is ToolState.IDLE


async def test_a_recipe_outside_the_limits_is_refused_with_nothing_sent():
    async with plater([], []) as driver:
        with pytest.raises(LimitViolation, match="current_density_a_dm2"):
            await driver.plate(PlatingRecipe(Metal.CU, 9, 1, 69.4))
        with pytest.raises(LimitViolation, match="current_a"):  # 8 A/dm2 over the most the
            await driver.plate(PlatingRecipe(Metal.CU, 8, 1, 600))  # cell accepts: 52.8 A
        with pytest.raises(ValueError, match=r"cathode_efficiency 1\.2"):
            await driver.plate(PlatingRecipe(Metal.CU, 2, 1, 69.4, cathode_efficiency=1.2))
        # the heater-only bath cools to the room at the coolest: 18 degC is never reached
        with pytest.raises(
            LimitViolation, match=r"bath_temperature_c = 18 degC is outside .*\[22, 60\] degC"
        ):
            await driver.plate(PlatingRecipe(Metal.CU, 2, 1, 69.4, bath_temperature_c=18))


async def test_a_stations_supply_limits_refuse_a_plating_with_nothing_sent():
    """A station narrows the supply's setpoints under its name: a plating that would drive
    the supply past them (1.53 A, the density over the most the cell accepts; 10 V of
    compliance) is refused naming the supply, the setpoint and the station file, before
    either device is sent anything."""
    supply = {"list_current_a": (0, 0.5), "voltage_v": (0, 3)}
    async with plater([], [], limits={"supply": supply}) as driver:
        with pytest.raises(
            LimitViolation,
            match=r"^plater\.supply at .*: plate 1 um Cu: list_current_a = 1\.5268 A is "
            r"outside .*\[0, 0\.5\] A of station file line\.yaml",
        ):
            await driver.plate(RECIPE)
        with pytest.raises(LimitViolation, match=r"voltage_v = 10 V .*\[0, 3\] V of station"):
            await driver.plate(replace(RECIPE, current_density_a_dm2=0.5))
        assert driver.state is ToolState.IDLE


async def test_a_recipe_for_a_bath_the_cell_lacks_is_refused_at_select_bath():
    """The cell plates in Ni (BATH_METAL 2): the driver selects the recipe's Cu bath (the
    parameter, then SELECT_BATH 8); a cell without one refuses it with NO_SUCH_BATH (9),
    naming register 301, and nothing else is sent."""
    cell = [
        read(6, 0, status(READY, metal=2)),
        write_many(7, 301, [1]),
        refused(write_one(8, 300, 8)),
        read(9, 18, [301, 9]),
    ]
    async with plater(cell, []) as driver:
        with pytest.raises(CommandRefused, match="the cell has no bath of that chemistry"):
            await driver.plate(RECIPE)
        assert driver.state is ToolState.IDLE


@pytest.mark.parametrize(
    "refusal",
    [
        # the output refused: a supply that follows IEEE 488.2 has run INIT after it
        '-221,"Settings conflict;inhibit latched, clear it with OUTP:PROT:CLE first"',
        # INIT refused: the output is on
        '-221,"Settings conflict;transient initiated, ABOR ends it"',
    ],
)
async def test_a_refused_output_or_init_commands_the_supplys_safe_state(refusal: str):
    """`OUTP ON;:INIT` refused: the supply's safe state (output off, the transient aborted)
    is commanded before the refusal is raised, so neither an output left on nor a list
    left running with it off outlives the step."""
    cell = [*until_immersed(), *charge_target(round(RECIPE.charge_c(69.4) * 1000))]
    supply = [
        *LEVELS,
        (line("OUTP:PROT:CLE"), None),
        NO_ERROR,
        (line(":OUTP ON;:INIT"), None),
        (line("SYST:ERR?"), line(refusal)),
        NO_ERROR,
        (line("OUTP OFF"), None),
        (line("ABOR"), None),
        (line("*OPC?"), line("1")),
    ]
    async with plater(cell, supply) as driver:
        with pytest.raises(CommandRefused, match="Settings conflict") as refused:
            await driver.plate(RECIPE)
        assert refused.value.code == "-221"


async def test_a_cell_alarm_while_plating_switches_the_current_off_and_faults():
    cell = [
        *until_immersed(),
        *charge_target(round(RECIPE.charge_c(69.4) * 1000)),
        read(25, 0, status(FAULT, alarms=0b1)),  # OVER_TEMPERATURE: the wafer withdrawn
        read(26, 1, [0b1]),
    ]
    supply = [
        *LEVELS,
        *RUN_LIST,
        (line(WATCH), line("0.00000;10.00000;0;0")),
        (line("OUTP OFF"), None),  # the supply's safe state, before the alarms are read
        (line("ABOR"), None),
        (line("*OPC?"), line("1")),
        (line(":VOLT:PROT:TRIP?;:CURR:PROT:TRIP?"), line("0;0")),
    ]
    async with plater(cell, supply) as driver:
        with pytest.raises(ToolAlarm, match="OVER_TEMPERATURE"):
            await driver.plate(RECIPE)
        assert driver.state is ToolState.FAULT


async def test_a_cell_alarm_during_the_charge_ends_the_held_opc_and_faults():
    """The cell latches OVER_TEMPERATURE while the driver waits on `*OPC?`: its alarm output
    asserts the supply's inhibit input, which ends the list, so `*OPC?` is answered then (no
    poll interval passes); the driver reads the supply (nothing flows), then the cell (in
    fault), switches the output off, aborts the list and raises the alarm."""
    cell = [
        *until_immersed(),
        *charge_target(round(RECIPE.charge_c(69.4) * 1000)),
        read(25, 0, status(IMMERSED, interlocks=CLOSED_IN_BATH, area_mcm2=SEED_MCM2)),
        read(26, 0, status(FAULT, alarms=0b1)),
        read(27, 1, [0b1]),
    ]
    supply = [
        *LEVELS,
        *RUN_LIST,
        (line(WATCH), line("1.388;0.51104;0;0")),
        (line("*OPC?"), line("1")),  # held until the inhibit ended the list
        (line(WATCH), line("0.00000;0.00000;0;0")),
        (line("OUTP OFF"), None),
        (line("ABOR"), None),
        (line("*OPC?"), line("1")),
        (line(":VOLT:PROT:TRIP?;:CURR:PROT:TRIP?"), line("0;0")),
    ]
    async with plater(cell, supply) as driver:
        started = driver.clock.now()
        with pytest.raises(ToolAlarm, match="OVER_TEMPERATURE"):
            await driver.plate(RECIPE)
        assert driver.state is ToolState.FAULT
        # the immersion's poll only, cut from the interval (200 s) to the holder's timeout
        assert driver.clock.now() - started == pytest.approx(HOLDER_TIMEOUT_S)
