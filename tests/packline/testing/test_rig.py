"""`open_rig`: a simulated tool served on loopback with the real driver connected to it."""

from __future__ import annotations

import pytest

from packline.clock import VirtualClock
from packline.drivers.plasma_cleaner import ModbusPlasmaCleaner
from packline.drivers.wire_bonder import AsciiWireBonder
from packline.sim_instruments.plasma_cleaner import SimPlasmaCleaner
from packline.sim_instruments.twin import TwinStore
from packline.testing import open_rig


async def test_the_rig_connects_over_the_address_the_server_gives_and_closes_both():
    sim = SimPlasmaCleaner("plasma", TwinStore(), VirtualClock())
    rig = await open_rig(sim, ModbusPlasmaCleaner, limits={"rf_power_w": (100, 600)})
    assert rig.driver.address == sim.address
    assert rig.driver.clock is sim.clock
    assert rig.twin is sim.twin
    assert rig.driver.limits["rf_power_w"].maximum == 600
    await rig.close()
    with pytest.raises(RuntimeError, match="not being served"):
        _ = sim.address


async def test_a_driver_that_cannot_speak_the_link_leaves_nothing_served():
    sim = SimPlasmaCleaner("plasma", TwinStore(), VirtualClock())
    with pytest.raises(
        TypeError, match=r"takes a visa or serial address, but .* is a modbus address"
    ):
        await open_rig(sim, AsciiWireBonder)
    with pytest.raises(RuntimeError, match="not being served"):
        _ = sim.address
