"""Byte-level tests: the oven driver against docs/protocols/oven.md.

Each test lists the exact Modbus RTU frames the page prescribes, built here from the page's
units, addresses and codes (not from the driver's constants): the PLC at unit 1 (status 0-19,
serial 20-27, atmosphere 200-201, command 300), the zones from the unit the PLC names, on the
Eurotherm addresses (1-5, 13, 35, 199). The real link and driver run against a scripted peer
on a pty, as on the oven's RS-485 line.
"""

from __future__ import annotations

import pytest

from packline.clock import VirtualClock
from packline.drivers.errors import LimitViolation, SetupRefused
from packline.drivers.links import ModbusLink
from packline.drivers.oven import ModbusOven
from packline.drivers.roles.oven import ProfileSegment, ThermalProfile
from packline.testing import expected_protocol
from packline.testing.modbus_frames import (
    Exchange,
    identification,
    read,
    rtu,
    text,
    write_many,
    write_one,
)


def connect_script(zones: int = 4) -> list[Exchange]:
    """Identity (FC43 + serial 20-27), the zones (9-10: `zones` from unit 2), the status (the
    oven idle), the alarms."""
    return [
        rtu(identification(0, "packline", "BO-4", "1.0")),
        rtu(read(0, 20, text("BO-4-0001", 8))),
        rtu(read(0, 9, [zones, 2])),
        rtu(read(0, 0, status(0))),
        rtu(read(0, 1, [0])),
    ]


def status(state: int, *, load: int = 250, o2: int = 209_000, door: int = 1) -> list[int]:
    """Registers 0-19 of the PLC with the given state, load (0.1 degC) and O2 (ppm)."""
    registers = [0] * 20
    registers[0] = state
    registers[2] = 0b1111 if state in (2, 3) else 0b1011
    registers[4] = load
    registers[5:7] = [o2 >> 16, o2 & 0xFFFF]
    registers[8] = door
    registers[9:12] = [4, 2, 8]
    return registers


def make_oven(address: str, clock: VirtualClock | None = None, **options: float) -> ModbusOven:
    link = ModbusLink(address, tool="oven", timeout_s=1.0, clock=clock)
    return ModbusOven(link, name="oven", **options)


def zone(pv: int, working_setpoint: int, *, target: int, output: int = 500) -> list[int]:
    """Registers 1-5 of a zone: PV, TG.SP, manual output 0, WRK.OP, WKG.SP (0.1 units)."""
    return [pv, target, 0, output, working_setpoint]


#: A run's start on one zone (unit 2), its first segment to 100.0 degC at 60.0 degC/min: the
#: interlocks, the slots and W01 in slot 0, the status (inert), A1 = peak + 25, the rate, the
#: target, auto, START_RUN.
START_ONE_ZONE_TO_100 = [
    rtu(read(0, 2, [0b1111])),  # interlocks for START_RUN
    rtu(read(0, 11, [8, 0b1])),  # slots: capacity 8, slot 0 occupied
    rtu(read(0, 40, text("W01", 8) + [0] * 56)),
    rtu(read(0, 0, status(2, o2=20))),
    rtu(write_one(0, 13, 1250, unit=2)),  # A1 125.0
    rtu(write_one(0, 35, 600, unit=2)),  # SP.RAT 60.0
    rtu(write_one(0, 2, 1000, unit=2)),  # TG.SP 100.0
    rtu(write_one(0, 199, 0, unit=2)),  # IM auto
    rtu(write_one(0, 300, 3)),  # START_RUN
]


async def test_connect_finds_the_zones_the_plc_names():
    async with expected_protocol(connect_script(), transport="pty") as peer:
        oven = make_oven(peer.address("modbus+rtu"))
        await oven.connect()
        assert str(oven.identity) == "packline BO-4 s/n BO-4-0001 fw 1.0"
        assert [zone.device_id for zone in oven.zones] == [2, 3, 4, 5]
        await oven.close()


async def test_a_purge_writes_the_atmosphere_then_starts_and_waits_for_inert():
    script = [
        *connect_script(),
        rtu(read(0, 2, [0b0011])),  # interlocks: door closed, N2 supply present
        rtu(write_many(0, 200, [400, 100])),  # 40.0 slm, 100 ppm
        rtu(write_one(0, 300, 1)),  # START_PURGE
        rtu(read(0, 0, status(1, o2=5_000))),  # purging
        rtu(read(0, 0, status(2, o2=98))),  # inert
    ]
    async with expected_protocol(script, transport="pty") as peer:
        oven = make_oven(peer.address("modbus+rtu"), VirtualClock())
        await oven.connect()
        assert await oven.purge(n2_flow_slm=40, o2_limit_ppm=100) == 98.0
        assert [r.name for r in oven.readings][:3] == ["load_temperature", "o2", "n2_flow"]
        await oven.close()


async def test_a_setpoint_beyond_the_limits_is_refused_with_nothing_sent():
    async with expected_protocol(connect_script(), transport="pty") as peer:
        oven = make_oven(peer.address("modbus+rtu"))
        await oven.connect()
        with pytest.raises(LimitViolation, match="n2_flow_slm"):
            await oven.purge(n2_flow_slm=80, o2_limit_ppm=100)
        profile = ThermalProfile((ProfileSegment(400, 10),))
        with pytest.raises(LimitViolation, match="temperature_c"):
            await oven.run_profile(profile)
        for bad in (0.0, -5.0, float("nan")):
            with pytest.raises(ValueError, match="timeout_s must be a positive number"):
                await oven.run_profile(ThermalProfile((ProfileSegment(100, 10),)), bad)
        await oven.close()


async def test_the_zone_temperatures_are_read_from_each_unit():
    script = [
        *connect_script(),
        *(rtu(read(0, 1, [1500 + unit, 1500, 0, 300, 1500], unit=unit)) for unit in (2, 3, 4, 5)),
    ]
    async with expected_protocol(script, transport="pty") as peer:
        oven = make_oven(peer.address("modbus+rtu"))
        await oven.connect()
        assert await oven.request_zone_temperatures_c() == [150.2, 150.3, 150.4, 150.5]
        await oven.close()


async def test_a_profile_run_sets_every_zone_then_the_heater_supply():
    """One zone (unit 2), one segment to 100.0 degC at 60.0 degC/min: A1 = peak + 25, the
    rate, the target, auto; START_RUN; a poll that finds it there; END_RUN; standby."""
    running = status(3, load=1000, o2=20)
    script = [
        *connect_script(zones=1),
        *START_ONE_ZONE_TO_100,
        rtu(read(0, 0, running)),
        rtu(read(0, 1, [1000, 1000, 0, 250, 1000], unit=2)),
        rtu(write_one(0, 300, 4)),  # END_RUN
        rtu(write_one(0, 199, 2, unit=2)),  # IM standby
        rtu(read(0, 14, [1])),  # LAST_RESULT completed
        rtu(read(0, 15, [0, 1234])),  # RUN_TIME 123.4 s
    ]
    async with expected_protocol(script, transport="pty") as peer:
        oven = make_oven(peer.address("modbus+rtu"), VirtualClock())
        await oven.connect()
        result = await oven.run_profile(ThermalProfile((ProfileSegment(100, 60),)))
        assert result.wafer_ids == ("W01",)
        assert result.process_time_s == pytest.approx(123.4)
        assert result.peak_c == 100.0
        assert result.time_above_liquidus_s is None
        assert [r.name for r in oven.readings][-2:] == ["zone 1 temperature", "zone 1 output"]
        await oven.close()


async def test_cool_down_cuts_the_heaters_puts_every_zone_in_standby_and_waits():
    script = [
        *connect_script(zones=2),
        rtu(write_one(0, 300, 5)),  # ABORT: heater supply off
        rtu(read(0, 0, status(2))),  # confirmed: inert, no longer running
        rtu(write_one(0, 199, 2, unit=2)),
        rtu(write_one(0, 199, 2, unit=3)),
        rtu(read(0, 2, [0b0011])),  # load not cool yet
        rtu(read(0, 2, [0b1011])),  # load cool
    ]
    async with expected_protocol(script, transport="pty") as peer:
        oven = make_oven(peer.address("modbus+rtu"), VirtualClock())
        await oven.connect()
        await oven.cool_down(600)
        await oven.close()


async def test_a_run_reads_the_plc_every_poll_and_the_zones_only_when_needed():
    """One zone, polls every 1 s, zone trace interval 3 s; a ramp to 100.0 degC held 2 s, then
    a cool to 60.0. The PLC is read every poll; zone 1 (unit 2) at each segment's first poll,
    at every poll with the load in the band until the segment is reached (its working setpoint
    at target: t = 4 not yet, t = 5 reached), and otherwise 3 s after its last read (t = 3);
    not while the reached segment holds (t = 6, 7)."""
    heat, cool = zone(300, 300, target=1000), zone(1000, 1000, target=600)
    script = [
        *connect_script(zones=1),
        *START_ONE_ZONE_TO_100,
        # t = 0: the segment's first poll
        rtu(read(0, 0, status(3, load=300, o2=20))),
        rtu(read(0, 1, heat, unit=2)),
        # t = 1, 2: the PLC alone
        rtu(read(0, 0, status(3, load=400, o2=20))),
        rtu(read(0, 0, status(3, load=500, o2=20))),
        # t = 3: the zone trace interval has passed
        rtu(read(0, 0, status(3, load=600, o2=20))),
        rtu(read(0, 1, zone(600, 600, target=1000), unit=2)),
        # t = 4: the load in the band, the working setpoint not yet at target
        rtu(read(0, 0, status(3, load=990, o2=20))),
        rtu(read(0, 1, zone(990, 995, target=1000), unit=2)),
        # t = 5: reached; its hold starts
        rtu(read(0, 0, status(3, load=1000, o2=20))),
        rtu(read(0, 1, zone(1000, 1000, target=1000), unit=2)),
        # t = 6, 7: holding, the PLC alone; at 7 the hold of 2 s is over
        rtu(read(0, 0, status(3, load=1000, o2=20))),
        rtu(read(0, 0, status(3, load=1000, o2=20))),
        rtu(write_one(0, 35, 600, unit=2)),  # SP.RAT 60.0
        rtu(write_one(0, 2, 600, unit=2)),  # TG.SP 60.0
        # t = 7: the cool's first poll
        rtu(read(0, 0, status(3, load=1000, o2=20))),
        rtu(read(0, 1, cool, unit=2)),
        # t = 8: the PLC alone; t = 9: in the band (from above) and reached, hold 0
        rtu(read(0, 0, status(3, load=800, o2=20))),
        rtu(read(0, 0, status(3, load=610, o2=20))),
        rtu(read(0, 1, zone(610, 600, target=600), unit=2)),
        rtu(write_one(0, 300, 4)),  # END_RUN
        rtu(write_one(0, 199, 2, unit=2)),  # IM standby
        rtu(read(0, 14, [1])),  # LAST_RESULT completed
        rtu(read(0, 15, [0, 90])),  # RUN_TIME 9.0 s
    ]
    async with expected_protocol(script, transport="pty") as peer:
        oven = make_oven(peer.address("modbus+rtu"), VirtualClock(), zone_trace_interval_s=3)
        await oven.connect()
        profile = ThermalProfile((ProfileSegment(100, 60, hold_s=2), ProfileSegment(60, 60)))
        result = await oven.run_profile(profile)
        assert result.peak_c == 100.0
        traces: dict[str, list[float]] = {}
        for reading in oven.readings:
            traces.setdefault(reading.name, []).append(reading.time_s)
        assert traces["load_temperature"] == [0, 1, 2, 3, 4, 5, 6, 7, 7, 8, 9]
        assert traces["zone 1 temperature"] == [0, 3, 4, 5, 7, 9]
        assert traces["zone 1 output"] == traces["zone 1 temperature"]
        await oven.close()


@pytest.mark.parametrize("interval", [-1.0, float("nan"), float("inf")])
def test_a_zone_trace_interval_that_is_no_interval_is_refused(interval: float):
    with pytest.raises(SetupRefused, match="oven: zone_trace_interval_s must be a number of"):
        make_oven("modbus+rtu:/dev/ttyUSB0", zone_trace_interval_s=interval)
