"""secsgem's GEM host drives the simulated GEM plasma cleaner by its dictionary's page alone:
the independent client of docs/protocols/gem-plasma-cleaner.md."""

from __future__ import annotations

import asyncio

from secsgem.secs.variables import F8, U1

from packline.sim_instruments.twin import TwinStore


async def test_secsgem_host_drives_the_simulated_gem_plasma_cleaner(secsgem_drives) -> None:
    twin = TwinStore()
    twin.receive("W1")
    model, _, peer = await secsgem_drives("plasma_cleaner", twin)  # a cycle of ~4 min
    host = peer.host
    sv = (await asyncio.to_thread(host.request_svs, [1001, 1010, 1030, 1060])).get()
    assert sv == ["PC-4-0001", 0, 4, False]  # vented, 4 slots, the door open
    await asyncio.to_thread(host.subscribe_collection_event, 3001, [1010, 1011], 11)
    await asyncio.to_thread(host.subscribe_collection_event, 3004, [1010, 1020, 1018], 14)
    assert await peer.command("LOAD", [["SLOT", 1], ["WAFER", "W1"]]) == 0
    assert (await asyncio.to_thread(host.request_svs, [1041])).get() == ["W1"]
    assert await peer.command("UNLOAD", [["SLOT", 0]]) == 3  # slot 0 is empty: [SLOT, 2]
    assert await peer.command("DOOR_CLOSE", []) == 0
    assert await peer.command("START", []) == 2  # vented: cannot perform now
    assert await peer.command("PUMP", []) == 4
    assert await peer.arrived()
    assert peer.events[0]["ceid"].get() == 3001
    pumped = {value["dvid"]: value["value"] for value in peer.events[0]["values"]}
    assert pumped[1010] == 2  # evacuated
    assert pumped[1011] <= 50
    recipe = [
        [2001, U1([1, 2])],  # O2, then Ar
        [2002, F8([100.0, 80.0])],
        [2003, F8([200.0, 150.0])],
        [2004, F8([300.0, 200.0])],
        [2005, F8([60.0, 45.0])],
    ]
    assert await asyncio.to_thread(host.set_ecs, recipe) == 0
    assert model.recipe["step_gas"] == ("O2", "Ar")
    assert await asyncio.to_thread(host.set_ecs, [[2004, F8([300.0, 1500.0])]]) == 3
    assert await peer.command("START", []) == 4
    assert await peer.arrived()
    assert peer.events[1]["ceid"].get() == 3004
    ended = {value["dvid"]: value["value"] for value in peer.events[1]["values"]}
    assert ended == {1010: 2, 1020: 1, 1018: 105.0}  # evacuated, completed, 105 s
    assert "plasma clean" in [event.operation for event in twin.get("W1").history]
