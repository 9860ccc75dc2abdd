"""The simulated DC supply's transient (docs/protocols/dc-supply.md, *The transient*): a list of
one step run by `INIT`, its end on the supply's own clock, and what aborts it; its rear inhibit
input (*The output*) in each of its modes."""

from __future__ import annotations

import pytest

from packline.clock import VirtualClock
from packline.sim_instruments.dc_supply import Load, SimDcSupply
from packline.sim_instruments.twin import TwinStore

LIST = ["CURR 0.5", "VOLT 5", "CURR:MODE LIST", "LIST:CURR 2", "LIST:DWEL 100", "LIST:COUN 3"]


async def supply_running_a_list(*settings: str) -> SimDcSupply:
    """A supply into a 2 V + 0.5 ohm load, its list (2 A for 3 x 100 s, then 0.5 A) run."""
    supply = SimDcSupply("supply", TwinStore(), VirtualClock())
    supply.load = lambda: Load(2.0, 0.5)
    for line in (*LIST, *settings, "OUTP ON", "INIT"):
        assert await supply.handle(line) is None
    return supply


async def test_the_list_runs_its_count_of_dwells_then_the_level_again():
    supply = await supply_running_a_list()
    assert supply.operation_pending()
    assert await supply.handle("MEAS:CURR?") == "2.00000"
    assert supply.next_change_s(0.0) == 300.0  # nothing else changes a supply served alone
    await supply.clock.sleep(299.5)
    assert supply.next_change_s(supply.clock.now()) == 300.0
    assert await supply.handle("MEAS:CURR?") == "2.00000"
    await supply.clock.sleep(0.5)
    assert await supply.handle("MEAS:CURR?") == "0.50000"
    assert not supply.operation_pending()


@pytest.mark.parametrize(
    ("sent", "taken"), [("0.0004", "0"), ("0.0012", "0.001"), ("0.0016", "0.002"), ("2.5", "2.5")]
)
async def test_a_dwell_is_taken_to_the_supplys_1_ms_step(sent: str, taken: str):
    """The supply times its list in whole ms, as its page says: a dwell between steps is taken
    to the nearest, and read back so (not the 0.0004 s it was sent)."""
    supply = SimDcSupply("supply", TwinStore(), VirtualClock())
    assert await supply.handle(f"LIST:DWEL {sent}") is None
    assert await supply.handle("LIST:DWEL?") == taken
    assert await supply.handle("SYST:ERR?") == '0,"No error"'


@pytest.mark.parametrize("line", ["CURR:MODE FIX", "LIST:CURR 1", "LIST:DWEL 1", "INIT"])
async def test_the_lists_settings_are_refused_while_it_runs(line: str):
    supply = await supply_running_a_list()
    await supply.handle(line)
    assert await supply.handle("SYST:ERR?") == (
        '-221,"Settings conflict;transient initiated, ABOR ends it"'
    )
    assert supply.list_ends_s == 300.0


@pytest.mark.parametrize("line", ["ABOR", "*RST", "OUTP OFF", "VOLT:PROT 2.5"])
async def test_the_output_off_or_abor_aborts_the_list(line: str):
    """`ABOR`, `*RST`, `OUTP OFF` and a protection trip (the terminals at 3 V, above a 2.5 V
    protection) end the transient: `*OPC?` is answered at once."""
    supply = await supply_running_a_list()
    await supply.handle(line)
    assert not supply.operation_pending()
    assert await supply.handle("*OPC?") == "1"


async def test_a_bus_triggered_list_waits_for_trg():
    supply = await supply_running_a_list("TRIG:SOUR BUS")
    assert supply.operation_pending()  # initiated, waiting for its trigger
    assert await supply.handle("MEAS:CURR?") == "0.50000"
    await supply.handle("*TRG")
    assert await supply.handle("MEAS:CURR?") == "2.00000"
    assert supply.list_ends_s == 300.0


async def test_init_in_fixed_mode_is_done_at_once():
    supply = SimDcSupply("supply", TwinStore(), VirtualClock())
    assert await supply.handle("INIT") is None
    assert not supply.operation_pending()
    assert await supply.handle("*OPC?") == "1"


async def test_trg_with_no_list_waiting_queues_trigger_ignored():
    supply = SimDcSupply("supply", TwinStore(), VirtualClock())
    await supply.handle("*TRG")
    assert await supply.handle("SYST:ERR?") == (
        '-211,"Trigger ignored;no initiated list waits for a bus trigger"'
    )
    supply = await supply_running_a_list()  # started by INIT itself: no trigger waited for
    await supply.handle("*TRG")
    assert (await supply.handle("SYST:ERR?")).startswith("-211,")
    assert supply.list_ends_s == 300.0


async def test_a_live_inhibit_switches_the_output_back_on_when_released():
    """The factory's mode: the output, still set on, comes back on at the level it had."""
    supply = await supply_running_a_list()
    assert await supply.handle("OUTP:INH:MODE?") == "LIVE"
    supply.set_inhibit(True)
    assert not supply.operation_pending()  # the inhibit ended the list
    assert await supply.handle("MEAS:CURR?;:OUTP?;:STAT:QUES:COND?") == "0.00000;1;512"
    supply.set_inhibit(False)
    assert await supply.handle("MEAS:CURR?;:STAT:QUES:COND?") == "0.50000;0"


async def test_a_released_inhibit_does_not_switch_a_latched_output_back_on():
    """In `LATC` mode the output stays off once the input is released: `OUTP ON` is refused
    until `OUTP:PROT:CLE`, which an input still asserted does not clear; set off before the
    clear, the output stays off after it."""
    supply = await supply_running_a_list("OUTP:INH:MODE LATC")
    supply.set_inhibit(True)
    supply.set_inhibit(False)
    assert not supply.operation_pending()
    assert await supply.handle("MEAS:CURR?;:STAT:QUES:COND?") == "0.00000;512"
    await supply.handle("OUTP ON")
    assert await supply.handle("SYST:ERR?") == (
        '-221,"Settings conflict;inhibit latched, clear it with OUTP:PROT:CLE first"'
    )
    supply.set_inhibit(True)
    await supply.handle("OUTP:PROT:CLE")  # the input still asserted: the latch holds
    assert await supply.handle("STAT:QUES:COND?") == "512"
    supply.set_inhibit(False)
    for line in ("OUTP OFF", "OUTP:PROT:CLE"):
        await supply.handle(line)
    assert await supply.handle("MEAS:CURR?;:STAT:QUES:COND?;:SYST:ERR?") == (
        '0.00000;0;0,"No error"'
    )
    await supply.handle("OUTP ON")
    assert await supply.handle("MEAS:CURR?") == "0.50000"


async def test_an_inhibit_mode_off_ignores_the_input_and_rst_keeps_the_mode():
    supply = await supply_running_a_list("OUTP:INH:MODE OFF")
    supply.set_inhibit(True)
    assert supply.operation_pending()
    assert await supply.handle("MEAS:CURR?;:STAT:QUES:COND?") == "2.00000;0"
    await supply.handle("*RST")
    assert await supply.handle("OUTP:INH:MODE?") == "OFF"
