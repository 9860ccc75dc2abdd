"""secsgem's GEM host drives the simulated GEM oven by its dictionary's page alone: the
independent client of docs/protocols/gem-oven.md."""

from __future__ import annotations

import asyncio

from secsgem.secs.variables import F8

from packline.sim_instruments.twin import TwinStore


async def test_secsgem_host_drives_the_simulated_gem_oven(secsgem_drives) -> None:
    twin = TwinStore()
    twin.receive("W1")
    model, _, peer = await secsgem_drives("oven", twin)  # a purge and a cure of ~12 min
    host = peer.host
    sv = (await asyncio.to_thread(host.request_svs, [1001, 1010, 1018, 1030, 1060])).get()
    assert sv == ["BO-4-0001", 0, 4, 8, False]  # idle, 4 zones, 8 slots, the door open
    (flow,) = (await asyncio.to_thread(host.list_ecs, [2001])).get()
    assert (flow["ECMIN"], flow["ECMAX"], flow["ECDEF"]) == (1.0, 100.0, 20.0)  # none set yet
    await asyncio.to_thread(host.subscribe_collection_event, 3001, [1010, 1012], 11)
    await asyncio.to_thread(host.subscribe_collection_event, 3004, [1010, 1015, 1016], 14)
    assert await peer.command("LOAD", [["SLOT", 1], ["WAFER", "W1"]]) == 0
    assert (await asyncio.to_thread(host.request_svs, [1041])).get() == ["W1"]
    assert await peer.command("UNLOAD", [["SLOT", 0]]) == 3  # slot 0 is empty: [SLOT, 2]
    assert await peer.command("DOOR_CLOSE", []) == 0
    assert await peer.command("START", []) == 2  # no profile, in air: cannot perform now
    assert await asyncio.to_thread(host.set_ecs, [[2001, F8(60.0)], [2002, F8(100.0)]]) == 0
    assert await asyncio.to_thread(host.set_ecs, [[2001, F8(500.0)]]) == 3  # 1-100 slm
    assert await peer.command("PURGE", []) == 4
    assert await peer.arrived()
    assert peer.events[0]["ceid"].get() == 3001
    purged = {value["dvid"]: value["value"] for value in peer.events[0]["values"]}
    assert purged[1010] == 2  # inert
    assert purged[1012] <= 100
    profile = [
        [2010, F8([80.0, 58.0])],  # to 80 degC, then cool to 58 degC
        [2011, F8([60.0, 60.0])],
        [2012, F8([30.0, 0.0])],
        [2013, F8(105.0)],
    ]
    assert await asyncio.to_thread(host.set_ecs, profile) == 0
    assert model.profile["segment_target_c"] == (80.0, 58.0)
    assert await asyncio.to_thread(host.set_ecs, [[2010, F8([80.0, 2000.0])]]) == 3
    assert await peer.command("START", []) == 4
    assert await peer.arrived()
    assert peer.events[1]["ceid"].get() == 3004
    ended = {value["dvid"]: value["value"] for value in peer.events[1]["values"]}
    assert ended[1010] == 2  # inert again
    assert ended[1015] == 1  # completed
    assert ended[1016] > 30
    assert [event.operation for event in twin.get("W1").history] == ["oven run"]
