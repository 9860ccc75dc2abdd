"""Independent clients drive the simulated plating cell from its pages alone: Debian's mbpoll
the cell controller (docs/protocols/electroplater.md), PyVISA the DC supply
(docs/protocols/dc-supply.md), its list waited out on `*OPC?` too. Current flows only while
the wafer is in the bath, and the cell's shunt sees what the supply drives."""

from __future__ import annotations

import asyncio
import math
import shutil
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from packline.drivers.links.registers import ascii_to_registers
from packline.sim_instruments.electroplater import SimElectroplater
from packline.sim_instruments.physics.electroplater import PlatingPhysics
from packline.sim_instruments.twin import TwinStore
from packline.sim_instruments.twin.parts import Film, FilmMaterial
from packline.testing.clients import mbpoll, mbpoll_registers, visa

pytestmark = pytest.mark.skipif(shutil.which("mbpoll") is None, reason="mbpoll is not installed")
pytest.importorskip("pyvisa")


@pytest_asyncio.fixture
async def cell() -> AsyncIterator[tuple[SimElectroplater, str, str]]:
    """A served cell whose holder moves at once (wall clock): its sim, cell port, supply address."""
    physics = PlatingPhysics(immerse_time_s=0, withdraw_time_s=0)
    sim = SimElectroplater("electroplater", TwinStore(), physics=physics)
    await sim.start()
    address = sim.station_address
    yield sim, address["cell"].rsplit(":", 1)[1], address["supply"]
    await sim.stop()


async def test_mbpoll_reads_the_status_block_of_a_ready_cell(cell):
    _, port, _ = cell
    code, out, _ = await mbpoll(port, "-r", "0", "-c", "12")
    assert code == 0
    values = mbpoll_registers(out)
    assert values[0] == 0  # PHASE ready
    assert values[2] == 0b0011  # INTERLOCKS: lid closed, bath level; no wafer, not immersed
    assert values[3] == 2  # HEATER_UNIT: the bath heater answers unit 2
    code, out, _ = await mbpoll(port, "-r", "1", "-c", "5", unit=2)  # Eurotherm 3200 map
    assert code == 0
    heater = mbpoll_registers(out)
    assert (heater[1], heater[2], heater[5]) == (250, 250, 250)  # PV.IN, TG.SP, WKG.SP
    assert values[10] == 1  # BATH_METAL Cu
    assert values[11] == 0  # WAFER_LOADED
    code, out, _ = await mbpoll(port, "-r", "200", "-c", "1")
    assert (values[4], mbpoll_registers(out)[200]) == (0, 0)  # the paddle still, as 200 reads


async def test_mbpoll_and_pyvisa_plate_together(cell):
    sim, port, supply = cell
    count = sim.twin.get("W07").geometry.site_count  # a sputtered seed to plate on
    sim.twin.get("W07").films.layers.append(Film.blanket(FilmMaterial.CU, 0.2, count))
    wafer_id = [str(v) for v in ascii_to_registers("W07", 8)]
    assert (await mbpoll(port, "-r", "200", "60"))[0] == 0  # paddle 60 rpm
    assert (await mbpoll(port, "-r", "2", "250", unit=2))[0] == 0  # the heater's TG.SP 25.0
    assert (await mbpoll(port, "-r", "301", *wafer_id))[0] == 0
    assert (await mbpoll(port, "-r", "300", "1"))[0] == 0  # LOAD_WAFER
    replies = await asyncio.to_thread(
        visa, supply, ["*IDN?", "CURR 1.5", "VOLT 5", "OUTP ON", "MEAS:CURR?", "SYST:ERR?"]
    )
    assert replies == ["packline,DCS-30-50,DCS-30-50-0001,1.0", "0.00000", '0,"No error"']  # open
    assert (await mbpoll(port, "-r", "300", "3"))[0] == 0  # IMMERSE
    _, out, _ = await mbpoll(port, "-r", "0", "-c", "14")
    values = mbpoll_registers(out)
    assert (values[0], values[2]) == (2, 0b1111)  # immersed, every interlock closed
    assert values[9] == 150  # CATHODE_CURRENT 1.50 A: the shunt sees what the supply drives
    # CATHODE_AREA (12-13, 0.001 cm2): the blanket seed, the usable front inside 3 mm
    area_mcm2 = values[12] << 16 | values[13]
    assert area_mcm2 == round(
        math.pi * ((sim.twin.get("W07").spec.diameter_mm / 2 - 3) / 10) ** 2 * 1000
    )
    lines = ["MEAS:CURR?", "MEAS:VOLT?", "MEAS:CURR?;VOLT?;:VOLT:PROT:TRIP?", "OUTP OFF"]
    replies = await asyncio.to_thread(visa, supply, lines)
    # 0.4 V back-EMF + 1.5 A x 0.08 ohm; the compound query answers on one line
    assert replies == ["1.50000", "0.52000", "1.50000;0.52000;0"]
    assert (await mbpoll(port, "-r", "300", "4"))[0] == 0  # WITHDRAW
    assert sim.twin.get("W07").operations() == ["electroplate"]


async def immersed_with_a_charge_target(sim: SimElectroplater, port: str) -> None:
    """By mbpoll: W07 (a sputtered seed) loaded and immersed, the charge target 0.3 C (201-202,
    0.001 C, high word first)."""
    count = sim.twin.get("W07").geometry.site_count
    sim.twin.get("W07").films.layers.append(Film.blanket(FilmMaterial.CU, 0.2, count))
    wafer_id = [str(v) for v in ascii_to_registers("W07", 8)]
    assert (await mbpoll(port, "-r", "301", *wafer_id))[0] == 0
    assert (await mbpoll(port, "-r", "300", "1"))[0] == 0  # LOAD_WAFER
    assert (await mbpoll(port, "-r", "300", "3"))[0] == 0  # IMMERSE
    assert (await mbpoll(port, "-r", "201", "0", "300"))[0] == 0  # charge target 0.300 C


async def test_mbpoll_sets_the_charge_target_and_the_cell_switches_the_current_off(cell):
    """Ampere-hour termination from the page alone: the charge target (201-202, 0.001 C, high
    word first) of 0.3 C, then 1.5 A from PyVISA into the immersed wafer: once the counter
    reaches it the cell holds the output off itself through the supply's inhibit input (`OUTP?`
    still answers the setting, 1; `STAT:QUES:COND?` the INH bit, 512) and reports
    CHARGE_REACHED (14), the charge counted (7-8) and the current-on time (15-16, 0.01 s)."""
    sim, port, supply = cell
    await immersed_with_a_charge_target(sim, port)
    _, out, _ = await mbpoll(port, "-r", "201", "-c", "2")
    assert mbpoll_registers(out) == {201: 0, 202: 300}
    replies = await asyncio.to_thread(visa, supply, ["CURR 1.5", "VOLT 5", "OUTP ON", "OUTP?"])
    assert replies == ["1"]
    await asyncio.sleep(0.3)  # the charge takes 0.2 s; the cell steps to now when read
    values = mbpoll_registers((await mbpoll(port, "-r", "0", "-c", "17"))[1])
    assert values[14] == 1  # CHARGE_REACHED
    assert values[7] << 16 | values[8] == 300  # IMMERSION_CHARGE 0.300 C, not a count more
    assert values[15] << 16 | values[16] == 20  # CURRENT_ON_TIME 0.20 s at 1.5 A
    assert values[9] == 0  # CATHODE_CURRENT: none flows now
    replies = await asyncio.to_thread(visa, supply, ["OUTP?", "MEAS:CURR?", "STAT:QUES:COND?"])
    assert replies == ["1", "0.00000", "512"]


async def test_pyvisa_waits_the_charge_out_on_opc_the_cell_ending_the_list(cell):
    """The supply's transient from the pages alone: the charge target 0.3 C by mbpoll, then
    from PyVISA 1.5 A as the level and as a list of one 60 s step started by `INIT` (each group
    of settings one compound message, as the driver and dc-supply.md's example send it); the held
    `*OPC?` is answered once the cell's ampere-hour controller switches the output off through
    the inhibit input (after 0.2 s of current, the moment the cell told the supply), which
    aborts the list: long before its 60 s, with the charge at the target (the session's own
    opening, seconds on a loaded machine, counts in the time taken)."""
    sim, port, supply = cell
    await immersed_with_a_charge_target(sim, port)
    lines = [":CURR 1.5;:VOLT 5;:CURR:MODE LIST;:LIST:CURR 1.5;:LIST:DWEL 60;:LIST:COUN 1;"]
    lines[0] += ":TRIG:SOUR IMM"
    lines += ["SYST:ERR?", ":OUTP ON;:INIT", "SYST:ERR?"]
    lines += ["LIST:COUN 2", "SYST:ERR?", "*OPC?", "STAT:QUES:COND?", "CURR:MODE?"]
    lines += ["LIST:DWEL?"]
    started = asyncio.get_running_loop().time()
    replies = await asyncio.to_thread(visa, supply, lines)
    waited_s = asyncio.get_running_loop().time() - started
    assert replies == [
        '0,"No error"',
        '0,"No error"',
        '-221,"Settings conflict;transient initiated, ABOR ends it"',  # the list is running
        "1",  # *OPC?: the transient ended
        "512",  # INH: the inhibit holds the output off
        "LIST",
        "60",
    ]
    assert waited_s < 30
    values = mbpoll_registers((await mbpoll(port, "-r", "0", "-c", "17"))[1])
    assert values[14] == 1  # CHARGE_REACHED
    assert values[7] << 16 | values[8] == 300  # IMMERSION_CHARGE 0.300 C


async def test_pyvisa_latches_the_inhibit_so_the_next_immerse_switches_nothing_on(cell):
    """The page's inhibit from PyVISA and mbpoll: with `OUTP:INH:MODE LATC` the output the cell
    held off at the charge's end stays off when the next IMMERSE releases the input (`OUTP ON`
    refused); the driver's order, `OUTP OFF` after the charge, `OUTP:PROT:CLE` and `OUTP ON`
    before the next, clears the latch with the output off, then switches it on."""
    sim, port, supply = cell
    await immersed_with_a_charge_target(sim, port)
    lines = ["OUTP:INH:MODE LATC", "OUTP:INH:MODE?", "CURR 1.5", "VOLT 5", "OUTP ON", "*OPC?"]
    assert await asyncio.to_thread(visa, supply, lines) == ["LATC", "1"]
    await asyncio.sleep(0.3)  # the charge takes 0.2 s
    assert await asyncio.to_thread(visa, supply, ["STAT:QUES:COND?"]) == ["512"]
    assert (await mbpoll(port, "-r", "300", "4"))[0] == 0  # WITHDRAW
    assert (await mbpoll(port, "-r", "300", "3"))[0] == 0  # IMMERSE: the input released
    lines = ["MEAS:CURR?", "STAT:QUES:COND?", "OUTP ON", "SYST:ERR?", "OUTP OFF"]
    lines += ["OUTP:PROT:CLE", "STAT:QUES:COND?", "MEAS:CURR?", "OUTP ON", "MEAS:CURR?"]
    assert await asyncio.to_thread(visa, supply, lines) == [
        "0.00000",  # still held off, though the input is released
        "512",
        '-221,"Settings conflict;inhibit latched, clear it with OUTP:PROT:CLE first"',
        "0",  # the latch cleared with the output off: nothing flows
        "0.00000",
        "1.50000",
    ]


async def test_pyvisa_runs_a_list_by_bus_trigger_to_its_end(cell):
    """A list into the open cell, started by `*TRG` (`TRIG:SOUR BUS`): `*OPC?` is held until
    its 2 x 0.25 s are done; then the immediate level again (`CURR 0`: none flows)."""
    sim, _, supply = cell
    lines = ["VOLT 5", "CURR:MODE LIST", "LIST:CURR 1.5", "LIST:DWEL 0.25", "LIST:COUN 2"]
    lines += ["TRIG:SOUR BUS", "OUTP ON", "INIT", "TRIG:SOUR?", "*TRG", "*OPC?", "SYST:ERR?"]
    started = asyncio.get_running_loop().time()
    replies = await asyncio.to_thread(visa, supply, lines)
    waited_s = asyncio.get_running_loop().time() - started
    assert replies == ["BUS", "1", '0,"No error"']
    assert waited_s >= 0.5
    assert sim.supply.output_on
    assert not sim.supply.operation_pending()


async def test_pyvisa_trips_the_over_voltage_protection_and_clears_it(cell):
    sim, _, supply = cell
    lines = ["VOLT 10", "VOLT:PROT 8", "OUTP ON", "VOLT:PROT:TRIP?", "OUTP?", "SYST:ALAR?"]
    lines += ["OUTP ON", "SYST:ERR?", "OUTP:PROT:CLE", "VOLT:PROT:TRIP?"]
    assert await asyncio.to_thread(visa, supply, lines) == [
        "1",  # into the open cell the terminals reach 10 V, above the 8 V protection
        "0",
        "OVER_VOLTAGE",
        '-221,"Settings conflict;protection tripped (OVER_VOLTAGE), clear it with OUTP:PROT:CLE '
        'first"',
        "0",
    ]
    assert not sim.supply.output_on


async def test_mbpoll_sees_the_documented_refusals(cell):
    _, port, _ = cell
    code, _, err = await mbpoll(port, "-r", "200", "400")  # paddle 400 rpm, above 300
    assert code != 0
    assert "Illegal data value" in err
    _, out, _ = await mbpoll(port, "-r", "18", "-c", "2")
    assert mbpoll_registers(out) == {18: 200, 19: 4}  # refused register, out of range
    code, _, err = await mbpoll(port, "-r", "202", "300")  # half of the 32-bit charge target
    assert code != 0
    _, out, _ = await mbpoll(port, "-r", "18", "-c", "2")
    assert mbpoll_registers(out) == {18: 202, 19: 4}  # a 32-bit value is written whole
    code, _, err = await mbpoll(port, "-r", "201", "65535", "65535")  # 4294967.295 C
    assert code != 0
    _, out, _ = await mbpoll(port, "-r", "18", "-c", "2")
    assert mbpoll_registers(out) == {18: 201, 19: 4}  # judged whole: above 1000000 C
    code, _, err = await mbpoll(port, "-r", "300", "3")  # IMMERSE with no wafer
    assert code != 0
    _, out, _ = await mbpoll(port, "-r", "19")
    assert mbpoll_registers(out) == {19: 3}  # the contact interlock is open without a wafer
