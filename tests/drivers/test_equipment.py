"""The equipment interface every driver shares, exercised through the plasma cleaner."""

from __future__ import annotations

import asyncio
import math
import re
from dataclasses import dataclass, replace

import pytest

from packline.clock import VirtualClock
from packline.drivers.equipment import (
    E10State,
    Equipment,
    Identity,
    Limit,
    ToolState,
    check_limit,
    held_pace,
    poll_hold_s,
)
from packline.drivers.equipment.states import TRANSITIONS, StateModel
from packline.drivers.errors import (
    CommandRefused,
    InterlockOpen,
    LimitViolation,
    ProtocolError,
    SetupRefused,
    ToolAlarm,
    ToolConnectionError,
    ToolStateError,
    ToolTimeout,
    WorkpieceHeld,
)
from packline.drivers.laser import ScpiLaser
from packline.drivers.links import ModbusLink, SerialLink, open_link
from packline.drivers.links.base import Link
from packline.drivers.plasma_cleaner import Command, ModbusPlasmaCleaner
from packline.drivers.registry import TOOL_KINDS
from packline.drivers.roles.laser import LaserSource
from packline.drivers.roles.plasma_cleaner import Gas, PlasmaStep
from packline.sim_instruments.laser import SimLaser
from packline.sim_instruments.plasma_cleaner import SimPlasmaCleaner
from packline.sim_instruments.twin import TwinStore
from packline.testing import expected_protocol
from packline.testing.modbus_frames import identification, read, refused, text


def test_every_tool_state_maps_to_one_e10_state():
    assert {state.e10 for state in ToolState} == set(E10State)


def test_limits_are_ranges_with_units():
    assert Limit(1, 2, "W").contains(1.5)
    assert not Limit(1, 2, "W").contains(2.5)
    with pytest.raises(ValueError, match="minimum 3 is above maximum 2"):
        Limit(3, 2, "W")


def test_a_value_at_a_bound_by_a_unit_conversions_rounding_is_taken_and_sent_as_the_bound():
    # "3 mJ/mm^2" converts to 0.30000000000000004 J/cm2, a unit in the last place past 0.3
    fluence = Limit(0.05, 0.3, "J/cm2")
    assert fluence.contains(0.30000000000000004)
    assert fluence.contains(0.049999999999999996)
    assert check_limit("laser", "tcp", "clean", "fluence", fluence, 0.30000000000000004) == 0.3
    assert check_limit("laser", "tcp", "clean", "fluence", fluence, 0.049999999999999996) == 0.05
    assert check_limit("laser", "tcp", "clean", "fluence", fluence, 0.2) == 0.2
    # a value really past the bound, if only in its 14th digit, is refused as before
    assert not fluence.contains(0.30000000000001)
    assert not fluence.contains(0.04999999999999)
    with pytest.raises(LimitViolation, match="is outside the limits"):
        check_limit("laser", "tcp", "clean", "fluence", fluence, 0.3000000000001)


@dataclass(frozen=True)
class Power:
    """A record whose field is named otherwise than the setpoint it is sent as."""

    w: float


def test_a_record_is_held_to_its_setpoints_limits_field_by_field():
    # a station's narrower bound, where a recipe's own hold (to the widest driver's) is none
    link = ModbusLink("modbus+tcp://127.0.0.1:9", tool="plasma")
    plasma = ModbusPlasmaCleaner(link, name="plasma", limits={"rf_power_w": (100, 600)})
    step = PlasmaStep(Gas.O2, 50, 300, math.nextafter(600, math.inf), 60)
    held = plasma.held_setpoints("clean step 1", step, ("flow_sccm", "rf_power_w"))
    assert held == replace(step, rf_power_w=600)
    # a field named otherwise than its setpoint is mapped to it
    renamed = plasma.held_setpoints("clean", Power(math.nextafter(100, 0)), {"w": "rf_power_w"})
    assert renamed == Power(100)
    with pytest.raises(LimitViolation, match=r"clean step 1: rf_power_w = 601 W is outside"):
        plasma.held_setpoints("clean step 1", replace(step, rf_power_w=601), ("rf_power_w",))


def test_a_driver_refuses_a_link_it_does_not_speak():
    with pytest.raises(TypeError, match="speaks over ModbusLink, not SerialLink"):
        ModbusPlasmaCleaner(SerialLink("socket://127.0.0.1:9"), name="plasma")


def test_unknown_limit_overrides_name_the_known_setpoints():
    link = ModbusLink("modbus+tcp://127.0.0.1:9", tool="plasma")
    with pytest.raises(SetupRefused, match=r"no setpoint 'power_w'.*rf_power_w") as refused:
        ModbusPlasmaCleaner(link, name="plasma", limits={"power_w": (1, 2)})
    # structured: the tool apart from the problem, which a station file names by its own path
    assert refused.value.tool == "plasma"
    assert refused.value.problem.startswith(
        "no setpoint 'power_w' to limit (did you mean 'rf_power_w'?); known setpoints: "
    )
    assert str(refused.value) == f"plasma: {refused.value.problem}"


async def test_abort_finishes_commanding_the_safe_state_when_its_caller_is_cancelled():
    clock = VirtualClock()
    sim = SimPlasmaCleaner("plasma", TwinStore(), clock)
    address = await sim.start()
    driver = ModbusPlasmaCleaner(ModbusLink(address, tool="plasma", clock=clock), name="plasma")
    try:
        await driver.connect()
        aborting = asyncio.create_task(driver.abort())
        await asyncio.sleep(0)  # abort has started its exchange
        aborting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await aborting
        assert sim.received == [f"FC6 write 300 [{Command.ABORT.value}]"]
    finally:
        await driver.close()
        await sim.stop()


async def test_readings_reach_listeners_with_process_time():
    clock = VirtualClock()
    link = ModbusLink("modbus+tcp://127.0.0.1:9", tool="plasma", clock=clock)
    driver = ModbusPlasmaCleaner(link, name="plasma")
    seen = []
    driver.add_reading_listener(seen.append)
    await clock.sleep(12)
    reading = driver.record_reading("pressure", 100, "mTorr")
    driver.remove_reading_listener(seen.append)
    driver.record_reading("pressure", 90, "mTorr")
    assert seen == [reading]
    assert (reading.tool, reading.time_s, reading.unit) == ("plasma", 12, "mTorr")
    assert len(driver.readings) == 2


@pytest.mark.parametrize(
    ("bounds", "problem"),
    [
        (600, "got 600"),
        ((600, 100), "got [600, 100] (limit minimum 600 is above maximum 100)"),
        ((1, "x"), "'x'"),
    ],
)
def test_malformed_limit_overrides_name_the_setpoint_and_its_unit(bounds, problem):
    link = ModbusLink("modbus+tcp://127.0.0.1:9", tool="plasma")
    with pytest.raises(
        ValueError, match=r"plasma: limits\.rf_power_w must be \[minimum, maximum\] in W"
    ) as error:
        ModbusPlasmaCleaner(link, name="plasma", limits={"rf_power_w": bounds})
    assert problem in str(error.value)


@pytest.mark.parametrize("bounds", [(100, 2000), (50, 2000), (5, 600)])
def test_a_limit_override_may_not_reach_outside_the_drivers_range(bounds):
    link = ModbusLink("modbus+tcp://127.0.0.1:9", tool="plasma")
    with pytest.raises(
        ValueError,
        match=rf"plasma: limits\.rf_power_w \[{bounds[0]}, {bounds[1]}\] W reaches outside "
        r"the driver's range \[100, 1000\] W; a station's limits may only narrow it",
    ):
        ModbusPlasmaCleaner(link, name="plasma", limits={"rf_power_w": bounds})


def test_a_limit_override_narrows_the_drivers_range_up_to_its_edges():
    link = ModbusLink("modbus+tcp://127.0.0.1:9", tool="plasma")
    driver = ModbusPlasmaCleaner(link, name="plasma", limits={"rf_power_w": (100, 600)})
    assert (driver.limits["rf_power_w"].minimum, driver.limits["rf_power_w"].maximum) == (100, 600)
    assert ModbusPlasmaCleaner.limits["rf_power_w"].maximum == 1000  # the class keeps its own


async def test_a_failed_connect_leaves_the_tool_offline_and_the_link_closed():
    script = [
        identification(1, "packline", "PC-4", "1.0"),
        read(2, 20, text("PC-4-0001", 8)),
        read(3, 0, [0] * 20),  # the status block: vented, at rest
        refused(read(4, 1, [0]), code=4),  # the alarm register cannot be read
    ]
    async with expected_protocol(script) as peer:
        link = ModbusLink(peer.address("modbus+tcp"), tool="plasma", timeout_s=1.0)
        driver = ModbusPlasmaCleaner(link, name="plasma")
        with pytest.raises(CommandRefused, match="SERVER_DEVICE_FAILURE"):
            await driver.connect()
        assert driver.state is ToolState.OFFLINE
        assert driver.e10_state is E10State.NON_SCHEDULED
        assert not link.connected


async def test_connect_twice_is_refused_without_touching_the_link():
    clock = VirtualClock()
    sim = SimPlasmaCleaner("plasma", TwinStore(), clock)
    address = await sim.start()
    driver = ModbusPlasmaCleaner(ModbusLink(address, tool="plasma", clock=clock), name="plasma")
    try:
        await driver.connect()
        with pytest.raises(ToolStateError, match="connect: not allowed while idle"):
            await driver.connect()
        assert driver.state is ToolState.IDLE
        assert driver.link.connected
        assert (await driver.request_status()).door_closed is False  # the link still works
    finally:
        await driver.close()
        await sim.stop()


async def test_abort_of_a_driver_that_never_connected_raises_and_stays_offline():
    link = ModbusLink("modbus+tcp://127.0.0.1:9", tool="plasma")
    driver = ModbusPlasmaCleaner(link, name="plasma")
    with pytest.raises(ToolConnectionError, match="not connected"):
        await driver.abort()
    assert driver.state is ToolState.OFFLINE


# ----------------------------------------------------------------- the process wait


class _NoWire(Link):
    async def _open(self) -> None:
        pass

    async def _close(self) -> None:
        pass


class _Oven(Equipment):
    """A tool whose every exchange is a line in `log`, with the clock's time."""

    def __init__(self, clock: VirtualClock) -> None:
        super().__init__(_NoWire("none://oven", tool="oven", clock=clock), poll_interval_s=1.0)
        self.log: list[str] = []
        self.alarms: dict[str, str] = {}
        self.held: tuple[str, ...] = ()

    async def request_identity(self) -> Identity:
        return Identity("packline", "oven", "1", "1.0")

    async def request_activity(self) -> str | None:
        return None

    async def request_alarms(self) -> dict[str, str]:
        self.log.append(f"alarms at {self.clock.now():g}")
        return self.alarms

    async def request_interlocks(self) -> dict[str, bool]:
        return {}

    async def _clear_alarms(self) -> None:
        self.alarms = {}

    async def request_workpieces(self) -> tuple[str, ...]:
        self.log.append(f"workpieces at {self.clock.now():g}")
        return self.held

    async def _unload_everything(self) -> None:
        self.log.append(f"unload everything at {self.clock.now():g}")

    async def _command_safe_state(self) -> None:
        self.log.append(f"safe state at {self.clock.now():g}")

    async def heat(self, temperatures: list[float], timeout_s: float, **options: bool) -> float:
        """Wait until 100 degC, reading one temperature a poll; -1 is the tool's fault state."""
        temperature = 0.0

        async def poll() -> float | None:
            nonlocal temperature
            temperature = temperatures.pop(0)
            self.log.append(f"read {temperature:g} at {self.clock.now():g}")
            if temperature < 0:
                await self.refresh_alarms()
                raise self.alarm_error("heat")
            return temperature if temperature >= 100 else None

        return await self.wait_until(
            "heat", poll, timeout_s, lambda: f"still at {temperature:g} degC", **options
        )


async def test_a_wait_polls_on_the_clock_until_done_and_returns_the_result():
    clock = VirtualClock()
    oven = _Oven(clock)
    assert await oven.heat([20, 60, 100, 130], timeout_s=10) == 100
    assert oven.log == ["read 20 at 0", "read 60 at 1", "read 100 at 2"]
    assert clock.now() == 2


async def test_a_fault_during_a_wait_raises_the_alarm_without_aborting():
    clock = VirtualClock()
    oven = _Oven(clock)
    oven.alarms = {"OVER_TEMPERATURE": "heater tripped"}
    with pytest.raises(ToolAlarm, match=r"oven at none://oven: heat: alarm OVER_TEMPERATURE"):
        await oven.heat([20, -1, 100], timeout_s=10)
    assert oven.log == ["read 20 at 0", "read -1 at 1", "alarms at 1"]
    assert oven.state is ToolState.FAULT


async def test_a_wait_past_its_deadline_commands_the_safe_state_before_raising_the_timeout():
    clock = VirtualClock()
    oven = _Oven(clock)
    with pytest.raises(ToolTimeout, match=r"heat: still at 40 degC after 2\.5 s; aborted$"):
        await oven.heat([10, 20, 30, 40, 50], timeout_s=2.5)
    # the last poll at the deadline, then the safe state, then (nothing more) the timeout
    assert oven.log == [
        "read 10 at 0",
        "read 20 at 1",
        "read 30 at 2",
        "read 40 at 2.5",
        "safe state at 2.5",
    ]


async def test_a_held_wait_paced_past_its_deadline_polls_last_at_the_deadline():
    """A tool that answers a held read at once without a change is read next an interval
    after it was asked (`HeldPace`), but never after the wait's deadline: an interval (10 s)
    longer than the hold (2 s) and than the wait (5 s) is cut to the deadline (decision
    0086), where it had run to 10 s."""
    clock = VirtualClock()
    oven = _Oven(clock)

    async def poll() -> None:
        oven.log.append(f"read at {clock.now():g}, held {poll_hold_s()}")
        pace = held_pace()
        if pace is not None:
            pace.answered(clock.now(), changed=False)

    with pytest.raises(ToolTimeout, match=r"cure: not cured after 5 s; aborted$"):
        await oven.wait_until(
            "cure", poll, 5.0, lambda: "not cured", interval_s=10.0, held_by_tool=True, hold_s=2.0
        )
    assert oven.log == ["read at 0, held 2.0", "read at 5, held None", "safe state at 5"]


@pytest.mark.parametrize(
    ("timeout_s", "reads"),
    [
        # the last hold is what is left, 1.5 s, held to the deadline, not polled
        (5.5, ["read at 0, held 2.0", "read at 2, held 2.0", "read at 4, held 1.5"]),
        # less than a poll interval (1 s) left: polled up to the deadline
        (
            4.5,
            [
                "read at 0, held 2.0",
                "read at 2, held 2.0",
                "read at 4, held None",
                "read at 4.5, held None",
            ],
        ),
    ],
)
async def test_a_held_wait_holds_its_last_stretch_to_the_deadline(timeout_s, reads):
    """A tool that holds every read to its end (its state never changes): each read is held
    `hold_s` and the last one what is left of the wait, so the tool answers at the deadline,
    where the overrun is stopped (decision 0101); once less than a poll interval is left the
    wait polls, its last poll at the deadline (decision 0086)."""
    clock = VirtualClock()
    oven = _Oven(clock)

    async def poll() -> None:
        held_s = poll_hold_s()
        oven.log.append(f"read at {clock.now():g}, held {held_s}")
        if held_s is not None:
            await clock.sleep(held_s)

    with pytest.raises(ToolTimeout, match=rf"cure: not cured after {timeout_s:g} s; aborted$"):
        await oven.wait_until(
            "cure", poll, timeout_s, lambda: "not cured", held_by_tool=True, hold_s=2.0
        )
    assert oven.log == [*reads, f"safe state at {timeout_s:g}"]


async def test_a_wait_that_leaves_the_abort_to_its_caller_only_times_out():
    clock = VirtualClock()
    oven = _Oven(clock)
    with pytest.raises(ToolTimeout, match=r"heat: still at 20 degC after 1 s$"):
        await oven.heat([10, 20, 30], timeout_s=1, abort_on_timeout=False)
    assert oven.log == ["read 10 at 0", "read 20 at 1"]


async def test_recover_commands_the_safe_state_resets_a_reported_alarm_then_unloads():
    oven = _Oven(VirtualClock())
    await oven.connect()
    oven.log.clear()
    oven.alarms = {"OVER_TEMPERATURE": "zone 2 above its trip"}
    oven.held = ("W01",)
    await oven.recover(("W01", "W02"))
    assert oven.log == [
        "safe state at 0",
        "workpieces at 0",  # only the caller's own: it may take them off
        "alarms at 0",  # the alarm is reported: reset clears it and reads again
        "alarms at 0",
        "unload everything at 0",
    ]
    assert oven.state is ToolState.IDLE
    assert [alarm.code for alarm in oven.alarm_history] == ["OVER_TEMPERATURE"]


async def test_recover_leaves_a_workpiece_its_caller_did_not_put_there_and_resets_nothing():
    oven = _Oven(VirtualClock())
    await oven.connect()
    oven.log.clear()
    oven.alarms = {"OVER_TEMPERATURE": "zone 2 above its trip"}
    await oven.refresh_alarms()
    oven.held = ("W01", "ENG7")
    with pytest.raises(WorkpieceHeld, match=r"none://oven: recover: holds ENG7, not") as held:
        await oven.recover(("W01",))
    assert held.value.workpieces == ("ENG7",)
    assert oven.log == ["alarms at 0", "safe state at 0", "workpieces at 0"]
    assert oven.state is ToolState.FAULT  # not reset: its alarm is still there to be seen


@pytest.mark.parametrize(
    ("driver", "other", "expected"),
    [
        ("laser", "grinder", "the tool says it is a packline GR-2, a grinder; this driver drives a "
         "laser (check the station file's address)"),
        ("laminator", "plasma_cleaner", "a packline PC-4, a plasma_cleaner; this driver drives a "
         "laminator"),
        ("wire_bonder", "dicing_saw", "read identity"),  # another dialect: refused at once
    ],
)  # fmt: skip
async def test_a_driver_refuses_another_kind_of_tool_at_its_address(driver, other, expected):
    sim = TOOL_KINDS[other].load_simulator()(other, TwinStore(), VirtualClock())
    address = await sim.start()
    link = open_link(address, tool=driver, timeout_s=1.0, clock=sim.clock)
    tool = TOOL_KINDS[driver].load_driver()(link, name=driver)
    try:
        with pytest.raises(ProtocolError, match=re.escape(expected)):
            async with asyncio.timeout(5):
                await tool.connect()
        assert tool.state is ToolState.OFFLINE
        assert not link.connected
    finally:
        await sim.stop()


async def test_a_laser_of_any_source_is_a_laser():
    for source in LaserSource:
        sim = SimLaser("laser", TwinStore(), VirtualClock(), source=source)
        address = await sim.start()
        laser = ScpiLaser(open_link(address, tool="laser", clock=sim.clock), name="laser")
        try:
            await laser.connect()
            assert laser.identity is not None
            await laser.close()
        finally:
            await sim.stop()


def test_a_fraction_for_a_whole_number_setpoint_is_refused_never_rounded():
    link = ModbusLink("modbus+tcp://127.0.0.1:9", tool="plasma")
    driver = ModbusPlasmaCleaner(link, name="plasma")
    assert driver.limits["steps"].whole
    assert driver.check_limit("clean", "steps", 3) == 3
    assert driver.check_limit("clean", "steps", 3.0) == 3.0
    with pytest.raises(ValueError, match=r"steps = 2\.5 must be a whole number"):
        driver.check_limit("clean", "steps", 2.5)


def test_every_trigger_of_the_state_machine_is_declared_for_the_type_checker_and_bound():
    triggers = {transition["trigger"] for transition in TRANSITIONS}
    declared = set(StateModel.__annotations__) - {"state"}
    assert declared == triggers
    link = ModbusLink("modbus+tcp://127.0.0.1:9", tool="plasma")
    model = ModbusPlasmaCleaner(link, name="plasma")._state
    assert all(callable(getattr(model, trigger)) for trigger in triggers)


async def test_an_operation_is_carried_out_only_when_it_ends_without_error():
    """`operations_carried_out` counts the operations that ended: one its tool refused (or
    that failed) is not counted, so a step that saw none end changed nothing on the wafer."""
    oven = _Oven(VirtualClock())
    await oven.connect()
    with pytest.raises(InterlockOpen):
        async with oven.operation("bake"):
            raise InterlockOpen("oven", oven.address, "bake", ["n2_supply"])
    assert oven.operations_carried_out == 0
    async with oven.operation("bake"):
        pass
    assert oven.operations_carried_out == 1


async def test_state_listeners_are_told_each_change_of_state_once():
    oven = _Oven(VirtualClock())
    told: list[ToolState] = []
    oven.add_state_listener(told.append)
    await oven.connect()
    await oven.enter_engineering()
    async with oven.operation("bake"):  # engineering stays engineering: no change to tell
        pass
    await oven.leave_engineering()
    async with oven.operation("bake"):
        assert told[-1] is ToolState.BUSY
    oven.alarms = {"OVER_TEMPERATURE": "heater tripped"}
    await oven.refresh_alarms()
    await oven.reset()
    await oven.close()
    assert told == [
        ToolState.IDLE, ToolState.ENGINEERING, ToolState.IDLE, ToolState.BUSY, ToolState.IDLE,
        ToolState.FAULT, ToolState.IDLE, ToolState.OFFLINE,
    ]  # fmt: skip
