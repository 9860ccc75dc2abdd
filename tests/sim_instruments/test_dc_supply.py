"""The simulated DC supply's transient (docs/protocols/dc-supply.md, *The transient*): a list of
one step run by `INIT`, its end on the supply's own clock, and what aborts it."""

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
    assert supply.next_change_s(0.0) == 1.0  # the family's look, before the list's end
    await supply.clock.sleep(299.5)
    assert supply.next_change_s(supply.clock.now()) == 300.0
    assert await supply.handle("MEAS:CURR?") == "2.00000"
    await supply.clock.sleep(0.5)
    assert await supply.handle("MEAS:CURR?") == "0.50000"
    assert not supply.operation_pending()


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
