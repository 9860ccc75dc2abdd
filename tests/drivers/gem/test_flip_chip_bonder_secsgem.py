"""secsgem's GEM host drives the simulated GEM flip-chip bonder by its dictionary's page alone:
the independent client of docs/protocols/gem-flip-chip-bonder.md."""

from __future__ import annotations

import asyncio

from packline.sim_instruments.twin import TwinStore
from packline.testing.twin import bumped_dies, filled_panel


async def test_secsgem_host_drives_the_simulated_gem_flip_chip_bonder(secsgem_drives) -> None:
    twin = TwinStore()
    filled_panel(twin, "P1")
    bumped_dies(twin, "W1")
    model, _, peer = await secsgem_drives("flip_chip_bonder", twin)  # a run of ~120 s
    host = peer.host
    sv = (await asyncio.to_thread(host.request_svs, [1001, 1010, 1062])).get()
    assert sv == ["FC-1-0001", 0, True]
    await asyncio.to_thread(host.set_ec, 2001, 260.0)
    assert model.recipe["head_temperature_c"] == 260.0
    assert (await asyncio.to_thread(host.request_ec, 2001)).get() == [260.0]
    await asyncio.to_thread(host.subscribe_collection_event, 3001, [1010, 1042, 1043], 9)
    assert await peer.command("LOAD", [["SUBSTRATE", "P1"]]) == 0
    assert await peer.command("SRC_LOAD", [["SOURCE", "W1"]]) == 0
    assert (await asyncio.to_thread(host.request_svs, [1013, 1019])).get() == [88, 6]
    assert await peer.command("BOND", [["FIRST", 0], ["COUNT", 3]]) == 4
    assert await peer.arrived()
    assert peer.events[0]["ceid"].get() == 3001
    done = {value["dvid"]: value["value"] for value in peer.events[0]["values"]}
    assert done == {1010: 0, 1042: 3, 1043: 3}  # idle, three dies placed and bonded
    assert twin.get("P1").dies.bonded.tolist() == [True] * 3
    assert await peer.command("BOND", [["FIRST", 2], ["COUNT", 1]]) == 2  # unit 2 has a die
    assert await peer.command("BOND", [["FIRST", 3], ["HURRY", 1]]) == 3  # no such parameter
