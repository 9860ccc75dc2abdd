"""Byte-level tests: the deposition driver against docs/protocols/deposition.md.

Each test lists the exact Modbus TCP frames the page prescribes, built here from the page's
addresses and codes (not from the driver's constants), and runs the real link and driver
against a scripted peer.
"""

from __future__ import annotations

import pytest

from packline.clock import VirtualClock
from packline.drivers.deposition import ModbusDepositionTool
from packline.drivers.equipment import HOLD_S
from packline.drivers.errors import LimitViolation, ProtocolError
from packline.drivers.links import ModbusLink
from packline.drivers.roles.deposition import (
    DepositionRecipe,
    DepositionStep,
    Material,
    Method,
    ProcessGas,
)
from packline.testing import expected_protocol, modbus_frames
from packline.testing.modbus_frames import identification, read, text, write_many, write_one
from packline.units import to_magnitude

SERIAL = text("TF-3-0001", 8)
#: Registers 104-127: sputter (1) Ti, TiW, Cu, Ni, Au; evaporate (2) Ti, Cu; cvd (3) SiO2.
SOURCES = [1, 1, 1, 2, 1, 3, 1, 4, 1, 5, 2, 1, 2, 3, 3, 6] + [0] * 8
CU_SPUTTER = DepositionStep(
    Method.SPUTTER,
    Material.CU,
    time_s=120,
    power_w=1000,
    pressure_mtorr=3,
    gas=ProcessGas.AR,
    flow_sccm=40,
)

#: A held read's hold, in the hold register's 0.1 s, of a wait longer than `HOLD_S`.
HOLD = round(HOLD_S * 10)


def connect_script() -> list[tuple[bytes, bytes]]:
    """Identity (FC43 + serial registers 30-37) then the alarm register 1."""
    return [
        identification(1, "packline", "TF-3", "1.0"),
        read(2, 30, SERIAL),
        read(3, 0, status(0)),
        read(4, 1, [0]),
    ]


def status(
    chamber: int, *, high_vacuum: int = 100_000, completed: int = 0, base: bool = True
) -> list[int]:
    """Registers 0-24: the chamber state, the interlocks (`base`: `base_pressure`, bit 1,
    closed when evacuated), the ion gauge (0.01 uTorr), the run counter."""
    regs = [0] * 25
    regs[0] = chamber
    regs[2] = (0b111101 | base << 1) if chamber == 2 else 0b011101
    regs[5:7] = [high_vacuum >> 16, high_vacuum & 0xFFFF]
    regs[17] = completed
    regs[19] = 1
    regs[20] = 4
    regs[24] = 100
    return regs


def make_driver(address: str, clock: VirtualClock | None = None) -> ModbusDepositionTool:
    link = ModbusLink(address, tool="deposition", timeout_s=1.0, clock=clock)
    return ModbusDepositionTool(link, name="deposition")


async def test_connect_reads_identity_and_alarms():
    async with expected_protocol(connect_script()) as peer:
        driver = make_driver(peer.address("modbus+tcp"))
        await driver.connect()
        assert str(driver.identity) == "packline TF-3 s/n TF-3-0001 fw 1.0"
        await driver.close()


async def test_the_crystal_monitors_thickness_is_register_15_in_tenths_of_a_nm():
    async with expected_protocol([*connect_script(), read(5, 15, [523])]) as peer:
        driver = make_driver(peer.address("modbus+tcp"))
        await driver.connect()
        assert await driver.request_film_thickness_nm() == 52.3
        await driver.close()


async def test_a_source_code_off_the_map_is_a_protocol_error():
    async with expected_protocol([*connect_script(), read(5, 104, [1, 9] + [0] * 22)]) as peer:
        driver = make_driver(peer.address("modbus+tcp"))
        await driver.connect()
        with pytest.raises(ProtocolError, match="source material 9 is not in the register map"):
            await driver.request_sources()
        await driver.close()


def deposit_script(
    *base_pressure_wait: tuple[bytes, bytes], base: int = 50, held: bool = True
) -> list[tuple[bytes, bytes]]:
    """A deposit of CU_SPUTTER on one wafer: the recipe written (`base`, register 201 in
    0.1 uTorr), the base-pressure wait's reads (transaction ids 10 on), the run started and
    ended (its wait's reads held, or by FC3 from a PLC that does not hold)."""
    tid = 11 + len(base_pressure_wait)
    run_wait = (
        [
            modbus_frames.held_read(tid + 2, 0, 0, 5, status(3, high_vacuum=100_000)),
            modbus_frames.held_read(tid + 3, 5, HOLD, 6, status(2, completed=1)),
        ]
        if held
        else [
            read(tid + 2, 0, status(3, high_vacuum=100_000)),
            read(tid + 3, 0, status(2, completed=1)),
        ]
    )
    return [
        *connect_script(),
        read(5, 104, SOURCES),
        read(6, 20, [4, 0b1]),  # capacity 4, slot 0 occupied
        read(7, 40, text("W01", 8) + [0] * 24),
        read(8, 0, status(2)),  # completed-run counter 0
        write_many(9, 200, [1, base]),  # one step, the base pressure
        # sputter Cu, 1000 W, rate 0, 3.0 mTorr, Ar, 40 sccm, 120.0 s, timed
        write_many(10, 210, [1, 3, 1000, 0, 30, 1, 40, 1200, 0]),
        *base_pressure_wait,
        read(tid, 2, [0b111111]),  # interlocks all closed
        write_one(tid + 1, 300, 3),
        *run_wait,
        read(tid + 4, 18, [1]),  # last result: completed
        read(tid + 5, 13, [0, 1200]),  # elapsed 120.0 s
        read(tid + 6, 128, [1800] + [0] * 7),  # step 1: 180.0 nm
    ]


async def deposit(
    script: list[tuple[bytes, bytes]], clock: VirtualClock, base_pressure_utorr: float = 5.0
) -> ModbusDepositionTool:
    """The driver after CU_SPUTTER's deposit at `base_pressure_utorr`, as `script` answers
    it."""
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("modbus+tcp"), clock)
        await driver.connect()
        recipe = DepositionRecipe((CU_SPUTTER,), base_pressure_utorr=base_pressure_utorr)
        result = await driver.deposit(recipe)
        await driver.close()
    assert result.wafer_ids == ("W01",)
    assert result.process_time_s == 120.0
    assert result.thickness_nm == (180.0,)
    return driver


async def test_deposit_writes_the_recipe_waits_for_base_pressure_starts_and_polls():
    clock = VirtualClock()
    # the base-pressure wait's held reads: at once, then held (30.0 s) until the
    # `base_pressure` interlock closes, a counted change (STATUS_CHANGES 4 -> 5)
    script = deposit_script(
        modbus_frames.held_read(11, 0, 0, 4, status(2, high_vacuum=800, base=False)),  # 8.00
        modbus_frames.held_read(12, 4, HOLD, 5, status(2, high_vacuum=500)),  # 5.00: reached
    )
    driver = await deposit(script, clock)
    # no poll interval waited: the held reads answered as the interlock closed and as the
    # run ended
    assert clock.now() == 0.0
    assert {"high_vacuum", "film_thickness", "deposition_rate"} <= {
        reading.name for reading in driver.readings
    }
    waited = [r.value for r in driver.readings if r.name == "high_vacuum"][:2]
    assert waited == [8.0, 5.0]  # the wait's start and the pressure it reached


async def test_a_plc_that_answers_the_held_read_at_once_is_read_every_10_s_for_the_base():
    """A PLC that cannot hold (FC23 answered at once, nothing counted changed) is read in the
    base-pressure wait as that wait polls, every 10 s of process time, not every second."""
    clock = VirtualClock()
    script = deposit_script(
        modbus_frames.held_read(11, 0, 0, 4, status(2, high_vacuum=800, base=False)),
        modbus_frames.held_read(12, 4, HOLD, 4, status(2, high_vacuum=700, base=False)),
        modbus_frames.held_read(13, 4, HOLD, 5, status(2, high_vacuum=500)),  # at 10 s
    )
    await deposit(script, clock)
    assert clock.now() == 10.0


async def test_a_plc_that_refuses_the_held_read_is_read_by_fc3_every_10_s_for_the_base():
    """A PLC that does not serve FC23 (exception 1, illegal function) is read by FC3 at once
    instead, then every 10 s of process time in the base-pressure wait (the wait's interval),
    and every second (the poll interval) in the run's wait after it."""
    clock = VirtualClock()
    refused_held = modbus_frames.held_read(11, 0, 0, 4, status(2, high_vacuum=800, base=False))
    script = deposit_script(
        modbus_frames.refused(refused_held, code=1),
        read(12, 0, status(2, high_vacuum=800, base=False)),
        read(13, 0, status(2, high_vacuum=700, base=False)),  # at 10 s
        read(14, 0, status(2, high_vacuum=500)),  # at 20 s: reached
        held=False,
    )
    await deposit(script, clock)
    assert clock.now() == 21.0


async def test_an_off_grid_base_pressure_is_reached_when_the_gauge_reads_it_as_written():
    """5.06 uTorr is written 5.1 (register 201, 0.1 uTorr), which the `base_pressure`
    interlock compares: the held read it answers as it closes, the gauge at 5.10, ends the
    wait (judged against 5.06, it held again while nothing counted changed)."""
    clock = VirtualClock()
    script = deposit_script(
        modbus_frames.held_read(11, 0, 0, 4, status(2, high_vacuum=800, base=False)),
        modbus_frames.held_read(12, 4, HOLD, 5, status(2, high_vacuum=510)),  # 5.10: reached
        base=51,
    )
    driver = await deposit(script, clock, base_pressure_utorr=5.06)
    assert clock.now() == 0.0
    assert [r.value for r in driver.readings if r.name == "high_vacuum"][:2] == [8.0, 5.1]


async def test_a_base_pressure_in_pa_written_rounded_down_is_waited_for_as_written():
    """6.7e-4 Pa is 5.025 uTorr, written 5.0: a read of 5.02 uTorr, below the recipe's
    figure but above the interlock's, does not end the wait (it had ended it, and the start
    was refused with `base_pressure` open); the PLC that answers the held read at once is
    read again 10 s later, at 5.00 and the interlock closed."""
    clock = VirtualClock()
    script = deposit_script(
        modbus_frames.held_read(11, 0, 0, 4, status(2, high_vacuum=800, base=False)),
        modbus_frames.held_read(12, 4, HOLD, 4, status(2, high_vacuum=502, base=False)),
        modbus_frames.held_read(13, 4, HOLD, 5, status(2, high_vacuum=500)),  # at 10 s
        base=50,
    )
    await deposit(script, clock, base_pressure_utorr=to_magnitude("6.7e-4 Pa", "uTorr"))
    assert clock.now() == 10.0


@pytest.mark.parametrize(
    ("step", "words"),
    [
        (
            DepositionStep(Method.EVAPORATE, Material.CU, time_s=60, rate_nm_s=1, power_w=500),
            "deposit step 2: evaporate takes no power_w",
        ),
        (
            DepositionStep(Method.SPUTTER, Material.TI, time_s=60, power_w=500),
            "deposit step 2: sputter needs pressure_mtorr above 0",
        ),
        (
            DepositionStep(
                Method.CVD,
                Material.SIN,
                time_s=60,
                power_w=100,
                pressure_mtorr=900,
                gas=ProcessGas.SIH4_N2O,
                flow_sccm=500,
            ),
            "cvd of SiN flows SiH4/NH3, not SiH4/N2O",
        ),
        (
            DepositionStep(Method.CVD, Material.CU, time_s=60, power_w=100),
            "cvd deposits SiO2 or SiN, not Cu",
        ),
    ],
)
async def test_a_step_that_does_not_fit_its_method_is_refused_with_nothing_sent(step, words):
    async with expected_protocol(connect_script()) as peer:
        driver = make_driver(peer.address("modbus+tcp"))
        await driver.connect()
        with pytest.raises(ValueError, match=words):
            await driver.deposit(DepositionRecipe((CU_SPUTTER, step)))
        await driver.close()


async def test_a_step_without_a_source_is_refused_before_anything_is_written():
    nickel = DepositionStep(Method.EVAPORATE, Material.NI, time_s=60, rate_nm_s=0.5)
    async with expected_protocol([*connect_script(), read(5, 104, SOURCES)]) as peer:
        driver = make_driver(peer.address("modbus+tcp"))
        await driver.connect()
        with pytest.raises(ValueError, match="step 2: no evaporate source of Ni is installed"):
            await driver.deposit(DepositionRecipe((CU_SPUTTER, nickel)))
        await driver.close()


async def test_an_out_of_limit_setpoint_is_refused_before_anything_is_sent():
    async with expected_protocol(connect_script()) as peer:
        driver = make_driver(peer.address("modbus+tcp"))
        await driver.connect()
        with pytest.raises(LimitViolation, match="base_pressure_utorr"):
            await driver.deposit(DepositionRecipe((CU_SPUTTER,), base_pressure_utorr=80))
        await driver.close()
