"""Byte-level tests: the laminator driver against docs/protocols/laminator.md.

Each test lists the exact Modbus TCP frames the page prescribes, built here from the page's
addresses and codes (not from the driver's constants), and runs the real link and driver
against a scripted peer.
"""

from __future__ import annotations

import pytest

from packline.clock import VirtualClock
from packline.drivers.equipment import HOLD_S
from packline.drivers.errors import (
    CommandRefused,
    InterlockOpen,
    LimitViolation,
    ProtocolError,
    ToolAlarm,
    ToolStateError,
)
from packline.drivers.laminator import ModbusLaminator
from packline.drivers.links import ModbusLink
from packline.drivers.roles.laminator import (
    LaminationJob,
    LaminatorPhase,
    PressRecipe,
    ResinSheet,
    SupportKind,
)
from packline.testing import expected_protocol
from packline.testing.modbus_frames import (
    held_read,
    identification,
    read,
    refused,
    text,
    write_many,
    write_one,
)

#: A held read's hold, in the hold register's 0.1 s, of a wait longer than `HOLD_S`.
HOLD = round(HOLD_S * 10)


def connect_script(serial: list[int] | None = None, alarm_word: int = 0) -> list:
    """Identity (FC43 + serial registers 20-27) then the alarm register 1."""
    return [
        identification(1, "packline", "VL-2", "1.0"),
        read(2, 20, serial if serial is not None else text("VL-2-0001")),
        read(3, 0, status(0)),
        read(4, 1, [alarm_word]),
    ]


def status(
    phase: int,
    *,
    temperature_dc: int = 250,
    pressure_pa: int = 101_325,
    press_kpa: int = 0,
    elapsed_ds: int = 0,
    progress: int = 0,
    completed: int = 0,
    result: int = 0,
    loaded: int = 1,
    support: int = 0,
) -> list[int]:
    """Registers 0-19 as the page lays them out."""
    regs = [0] * 20
    regs[0] = phase
    regs[2] = 0b111 if loaded else 0b101
    regs[3] = temperature_dc
    regs[4:6] = [pressure_pa >> 16, pressure_pa & 0xFFFF]
    regs[6] = press_kpa
    regs[8:10] = [elapsed_ds >> 16, elapsed_ds & 0xFFFF]
    regs[10] = progress
    regs[11] = completed
    regs[12] = result
    regs[13] = loaded
    regs[14] = support
    regs[15] = 400
    return regs


JOB = LaminationJob(
    ResinSheet(resin_thickness_um=45, support=SupportKind.FILM),
    PressRecipe(
        vacuum_pa=100,
        vacuum_hold_s=20,
        temperature_c=100,
        press_pressure_mpa=0.5,
        press_time_s=60,
        cool_to_c=35,
    ),
)
JOB_REGISTERS = [450, 1, 100, 20, 1000, 500, 60, 350, 0]  # a film support: no foil


def make_driver(address: str, clock: VirtualClock | None = None, **options) -> ModbusLaminator:
    link = ModbusLink(address, tool="laminator", timeout_s=1.0, clock=clock)
    return ModbusLaminator(link, name="laminator", **options)


async def test_connect_reads_identity_and_alarms():
    async with expected_protocol(connect_script()) as peer:
        driver = make_driver(peer.address("modbus+tcp"))
        await driver.connect()
        assert str(driver.identity) == "packline VL-2 s/n VL-2-0001 fw 1.0"
        assert driver.state.value == "idle"
        await driver.close()


async def test_active_alarm_at_connect_puts_the_tool_in_fault():
    async with expected_protocol(connect_script(alarm_word=0b10)) as peer:
        driver = make_driver(peer.address("modbus+tcp"))
        await driver.connect()
        assert driver.state.value == "fault"
        assert list(driver.active_alarms) == ["OVER_TEMPERATURE"]
        await driver.close()


async def test_load_writes_the_wafer_id_then_the_command():
    script = [
        *connect_script(),
        read(5, 13, [0]),  # no wafer on the platen
        write_many(6, 301, text("LOT1-W07")),
        write_one(7, 300, 1),
    ]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("modbus+tcp"))
        await driver.connect()
        await driver.load("LOT1-W07")
        await driver.close()


async def test_unload_reads_the_id_and_sends_the_command():
    script = [
        *connect_script(),
        read(5, 13, [1]),
        read(6, 30, text("LOT1-W07")),
        write_one(7, 300, 2),
    ]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("modbus+tcp"))
        await driver.connect()
        assert await driver.unload() == "LOT1-W07"
        await driver.close()


async def test_laminate_writes_the_job_starts_and_polls_until_completed():
    clock = VirtualClock()
    script = [
        *connect_script(),
        read(5, 2, [0b011]),  # interlocks: lid closed, wafer present
        read(6, 13, [1]),
        read(7, 30, text("W01")),
        held_read(8, 0, 0, 5, status(0)),  # completed-job counter 0, 5 status changes
        write_many(9, 200, JOB_REGISTERS),
        write_one(10, 300, 3),
        held_read(11, 0, 0, 6, status(4, temperature_dc=1000, pressure_pa=100, press_kpa=500,
                                      progress=60)),  # a wait's first read: at once
        held_read(12, 6, HOLD, 7, status(0, temperature_dc=350, elapsed_ds=3031, completed=1,
                                        result=1, progress=100, support=1)),  # held up to HOLD_S
        # the job's extremes the PLC kept on every scan: an overshoot to 103.2 degC, 96 Pa and
        # 0.512 MPa between the reads, which saw 100 degC, 100 Pa and 0.5 MPa
        read(13, 38, [1032, 0, 96, 512]),
    ]  # fmt: skip
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("modbus+tcp"), clock)
        await driver.connect()
        result = await driver.laminate(JOB)
        await driver.close()
    assert result.wafer_id == "W01"
    assert result.process_time_s == pytest.approx(303.1)
    assert result.peak_temperature_c == 103.2
    assert result.best_vacuum_pa == 96.0
    assert result.peak_press_pressure_mpa == 0.512
    assert clock.now() == 0.0  # the held read answered as the job ended, not a poll later
    traces = {(r.name, r.unit) for r in driver.readings}
    assert traces == {("temperature", "degC"), ("vacuum", "Pa"), ("press_pressure", "MPa"),
                      ("progress", "%")}  # fmt: skip


def job_started(first: int) -> list:
    """A laminate up to START_JOB (interlocks, wafer, its id, the settled status with 5 status
    changes, the job, the command), from transaction `first`."""
    return [
        read(first, 2, [0b011]),
        read(first + 1, 13, [1]),
        read(first + 2, 30, text("W01")),
        held_read(first + 3, 0, 0, 5, status(0)),
        write_many(first + 4, 200, JOB_REGISTERS),
        write_one(first + 5, 300, 3),
    ]


async def test_an_alarm_answers_the_held_read_and_ends_the_wait_at_once():
    clock = VirtualClock()
    script = [
        *connect_script(),
        *job_started(5),
        held_read(11, 0, 0, 6, status(1, pressure_pa=90_000)),  # evacuating
        held_read(12, 6, HOLD, 7, status(8, pressure_pa=800)),  # the PLC alarmed: fault
        read(13, 1, [0b1]),  # VACUUM_NOT_REACHED
    ]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("modbus+tcp"), clock)
        await driver.connect()
        with pytest.raises(ToolAlarm, match="VACUUM_NOT_REACHED"):
            await driver.laminate(JOB)
        assert clock.now() == 0.0  # answered as it alarmed, no poll interval waited
        await driver.close()


async def test_a_plc_that_answers_the_held_read_at_once_unchanged_is_polled_every_interval():
    """No busy loop on a PLC that does not hold: the next read goes a poll interval after."""
    clock = VirtualClock()
    pressing = status(4, temperature_dc=1000, pressure_pa=100, press_kpa=500)
    script = [
        *connect_script(),
        *job_started(5),
        held_read(11, 0, 0, 6, pressing),
        held_read(12, 6, HOLD, 6, pressing),  # at once, no change
        held_read(13, 6, HOLD, 6, pressing),  # again, a poll interval later
        held_read(14, 6, HOLD, 7, status(0, completed=1, result=1, support=1)),
        read(15, 38, [1000, 0, 100, 500]),  # the job's extremes
    ]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("modbus+tcp"), clock)
        await driver.connect()
        await driver.laminate(JOB)
        assert clock.now() == 2.0
        await driver.close()


async def test_refused_job_value_is_explained_with_its_register():
    script = [
        *connect_script(),
        read(5, 2, [0b011]),
        read(6, 13, [1]),
        read(7, 30, text("W01")),
        held_read(8, 0, 0, 5, status(0)),
        refused(write_many(9, 200, JOB_REGISTERS)),
        read(10, 18, [204, 4]),  # register 204, reason 4: value out of range
    ]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("modbus+tcp"))
        await driver.connect()
        with pytest.raises(CommandRefused) as error:
            await driver.laminate(JOB)
        assert error.value.code == "ILLEGAL_DATA_VALUE"
        assert "write job: value out of range: temperature_c (register 204)" in str(error.value)
        assert driver.state.value == "idle"
        await driver.close()


async def test_refused_command_names_the_open_interlock():
    script = [
        *connect_script(),
        write_many(5, 301, [350]),
        refused(write_one(6, 300, 5)),
        read(7, 18, [300, 3]),  # reason 3: an interlock is open
        read(8, 2, [0b110]),  # lid open
    ]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("modbus+tcp"))
        await driver.connect()
        with pytest.raises(
            CommandRefused, match="cool to 35 degC: an interlock is open: lid_closed"
        ):
            await driver.cool(35)
        await driver.close()


async def test_a_refusal_other_than_exception_3_is_reported_without_a_stale_reason():
    """Registers 18-19 explain exception 3 only; after exception 2 they hold an older reason."""
    script = [
        *connect_script(),
        write_many(5, 301, [350]),
        refused(write_one(6, 300, 5), code=2),  # no read of 18-19 follows
    ]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("modbus+tcp"))
        await driver.connect()
        with pytest.raises(
            CommandRefused, match=r"cool to 35 degC: .*ILLEGAL_DATA_ADDRESS"
        ) as info:
            await driver.cool(35)
        assert info.value.code == "ILLEGAL_DATA_ADDRESS"
        await driver.close()


async def test_cool_commands_forced_cooling_and_polls_until_ready():
    clock = VirtualClock()
    script = [
        *connect_script(),
        write_many(5, 301, [350]),
        write_one(6, 300, 5),
        held_read(7, 0, 0, 5, status(6, temperature_dc=520)),
        held_read(8, 5, HOLD, 6, status(0, temperature_dc=349)),
    ]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("modbus+tcp"), clock)
        await driver.connect()
        assert await driver.cool(35) == pytest.approx(34.9)
        await driver.close()


async def test_peel_checks_the_support_and_the_interlock_then_peels():
    clock = VirtualClock()
    script = [
        *connect_script(),
        held_read(5, 0, 0, 5, status(0, temperature_dc=340, support=1)),
        read(6, 2, [0b111]),
        write_one(7, 300, 6),
        held_read(8, 0, 0, 6, status(7, temperature_dc=340, support=1)),
        held_read(9, 6, HOLD, 7, status(0, temperature_dc=339, support=0)),
    ]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("modbus+tcp"), clock)
        await driver.connect()
        await driver.peel_support()
        await driver.close()


async def test_peel_while_hot_is_refused_with_nothing_sent():
    script = [
        *connect_script(),
        held_read(5, 0, 0, 5, status(0, temperature_dc=600, support=1)),
        read(6, 2, [0b011]),  # peel temperature interlock open
    ]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("modbus+tcp"))
        await driver.connect()
        with pytest.raises(InterlockOpen, match="peel support: interlock open: peel_temperature"):
            await driver.peel_support()
        await driver.close()


async def test_a_metal_film_support_is_never_peeled():
    script = [*connect_script(), held_read(5, 0, 0, 5, status(0, support=2))]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("modbus+tcp"))
        await driver.connect()
        with pytest.raises(ToolStateError, match="metal film, which stays on the wafer"):
            await driver.peel_support()
        assert driver.state.value == "idle"
        await driver.close()


async def test_out_of_limit_setpoint_is_refused_before_anything_is_sent():
    async with expected_protocol(connect_script()) as peer:
        driver = make_driver(peer.address("modbus+tcp"))
        await driver.connect()
        too_hot = LaminationJob(JOB.sheet, PressRecipe(100, 20, 150, 0.5, 60))
        with pytest.raises(
            LimitViolation, match=r"temperature_c = 150 degC is outside the limits \[60, 130\] degC"
        ):
            await driver.laminate(too_hot)
        with pytest.raises(LimitViolation, match="cool_to_c = 20 degC"):
            await driver.cool(20)
        assert driver.state.value == "idle"
        await driver.close()


async def test_station_limits_narrow_the_defaults():
    async with expected_protocol(connect_script()) as peer:
        driver = make_driver(peer.address("modbus+tcp"), limits={"press_pressure_mpa": (0.2, 0.4)})
        await driver.connect()
        with pytest.raises(LimitViolation, match=r"press_pressure_mpa = 0\.5 MPa"):
            await driver.laminate(JOB)
        await driver.close()


async def test_phase_outside_the_map_is_a_protocol_error():
    script = [*connect_script(), read(5, 0, [99] + [0] * 19)]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("modbus+tcp"))
        await driver.connect()
        with pytest.raises(ProtocolError, match="phase 99 is not in the register map"):
            await driver.request_status()
        await driver.close()


async def test_garbled_serial_number_is_a_protocol_error_at_connect():
    async with expected_protocol(connect_script(serial=[0xFFFF] * 8)[:2]) as peer:
        driver = make_driver(peer.address("modbus+tcp"))
        with pytest.raises(ProtocolError, match="read identity: serial number"):
            await driver.connect()
        assert driver.state.value == "offline"


async def test_status_decodes_every_field():
    regs = status(
        LaminatorPhase.PRESSING,
        temperature_dc=1234,
        pressure_pa=70_000,
        press_kpa=800,
        elapsed_ds=70_000,
        progress=55,
        completed=3,
        result=1,
        support=1,
    )
    regs[7] = 125
    async with expected_protocol([*connect_script(), read(5, 0, regs)]) as peer:
        driver = make_driver(peer.address("modbus+tcp"))
        await driver.connect()
        got = await driver.request_status()
        await driver.close()
    assert got.phase is LaminatorPhase.PRESSING
    assert got.platen_temperature_c == pytest.approx(123.4)
    assert got.chamber_pressure_pa == 70_000  # above 65535: both words count
    assert got.press_pressure_mpa == pytest.approx(0.8)
    assert got.step_remaining_s == pytest.approx(12.5)
    assert got.job_time_s == pytest.approx(7000.0)
    assert (got.progress_pct, got.jobs_completed, got.wafer_loaded) == (55, 3, True)
    assert got.support_on_wafer is SupportKind.FILM
    assert got.peel_below_c == 40.0


async def test_abort_writes_the_abort_command_and_waits_until_vented():
    clock = VirtualClock()
    script = [
        *connect_script(),
        write_one(5, 300, 4),
        held_read(6, 0, 0, 5, status(5, pressure_pa=60_000)),  # venting
        # held until the phase changes, at most a poll interval (10 in 0.1 s)
        held_read(7, 5, 10, 6, status(0)),  # ready: the safe state is reached
    ]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("modbus+tcp"), clock)
        await driver.connect()
        await driver.abort()
        assert driver.state.value == "idle"
        await driver.close()


async def test_abort_of_a_faulted_tool_does_not_wait_for_a_reset():
    script = [
        *connect_script(alarm_word=0b10),
        write_one(5, 300, 4),
        held_read(6, 0, 0, 5, status(8)),
    ]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("modbus+tcp"))
        await driver.connect()
        await driver.abort()
        assert driver.state.value == "fault"
        await driver.close()


async def test_reset_sends_the_reset_command_and_waits_until_ready():
    clock = VirtualClock()
    script = [
        *connect_script(alarm_word=0b1),
        write_one(5, 300, 7),
        held_read(6, 0, 0, 5, status(5, pressure_pa=60_000)),  # venting
        held_read(7, 5, HOLD, 6, status(0)),
        read(8, 1, [0]),
    ]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("modbus+tcp"), clock)
        await driver.connect()
        assert driver.state.value == "fault"
        await driver.reset()
        assert driver.state.value == "idle"
        await driver.close()
