"""secsgem's GEM host runs an E40 process job on the simulated GEM bonder: the recipe stored
with secsgem's S7F3, the job's state events received through secsgem's own report machinery
(S2F33/35/37, S6F11). secsgem 0.3.0 has no stream 16: its S16F11/S16F12 and S16F19/S16F20
are declared here on its message class, from its own item types (and data items where it has
them: DATAID, ACKA, ERRCODE), so that the bytes are secsgem's encoding and decoding, not
packline's."""

from __future__ import annotations

import asyncio

import secsgem.secs
import secsgem.secs.data_items
from secsgem.secs.data_items.base import DataItemBase

from packline.sim_instruments.twin import TwinStore

variables = secsgem.secs.variables


def data_item(name: str, kind: type, *allowed: type) -> type:
    """A secsgem data item E40 names and secsgem 0.3.0 lacks."""
    fields: dict = {"name": name, "__type__": kind}
    if allowed:
        fields["__allowedtypes__"] = list(allowed)
    return type(name, (DataItemBase,), fields)


PRJOBID = data_item("PRJOBID", variables.String)
MF = data_item("MF", variables.Binary)
MID = data_item("MID", variables.String)
PRRECIPEMETHOD = data_item("PRRECIPEMETHOD", variables.U1)
RCPSPEC = data_item("RCPSPEC", variables.String)
RCPPARNM = data_item("RCPPARNM", variables.String)
RCPPARVAL = data_item("RCPPARVAL", variables.Dynamic, variables.U1, variables.F8, variables.String)
PRPROCESSSTART = data_item("PRPROCESSSTART", variables.Boolean)
PRPAUSEEVENT = data_item("PRPAUSEEVENT", variables.U4)
ERRTEXT = data_item("ERRTEXT", variables.String)
PRSTATE = data_item("PRSTATE", variables.U1)


class S16F11(secsgem.secs.functions.SecsStreamFunction):
    """PRJobCreateEnh."""

    _stream, _function = 16, 11
    _to_host, _to_equipment, _has_reply, _is_reply_required = False, True, True, True
    _data_format = """
    < L
      < DATAID >
      < PRJOBID >
      < MF >
      < L < MID > >
      < L
        < PRRECIPEMETHOD >
        < RCPSPEC >
        < L < L < RCPPARNM > < RCPPARVAL > > >
      >
      < PRPROCESSSTART >
      < L < PRPAUSEEVENT > >
    >
    """


class S16F12(secsgem.secs.functions.SecsStreamFunction):
    """PRJobCreateEnh acknowledge."""

    _stream, _function = 16, 12
    _to_host, _to_equipment, _has_reply, _is_reply_required = True, False, False, False
    _data_format = """
    < L
      < PRJOBID >
      < L
        < ACKA >
        < L < L < ERRCODE > < ERRTEXT > > >
      >
    >
    """


class S16F19(secsgem.secs.functions.SecsStreamFunction):
    """PRGetAllJobs (header only)."""

    _stream, _function = 16, 19
    _to_host, _to_equipment, _has_reply, _is_reply_required = False, True, True, True
    _data_format = None


class S16F20(secsgem.secs.functions.SecsStreamFunction):
    """PRGetAllJobs data."""

    _stream, _function = 16, 20
    _to_host, _to_equipment, _has_reply, _is_reply_required = True, False, False, False
    _data_format = """
    < L < L < PRJOBID > < PRSTATE > > >
    """


E40_ITEMS = (PRJOBID, MF, MID, PRRECIPEMETHOD, RCPSPEC, RCPPARNM, RCPPARVAL)
E40_ITEMS += (PRPROCESSSTART, PRPAUSEEVENT, ERRTEXT, PRSTATE)


async def test_secsgem_host_runs_a_process_job_on_the_simulated_gem_wire_bonder(
    secsgem_drives, monkeypatch
) -> None:
    for data in E40_ITEMS:  # where secsgem's message format reads item names (undone after)
        monkeypatch.setattr(secsgem.secs.data_items, data.name, data, raising=False)
    twin = TwinStore()
    twin.receive("W01")
    model, _, peer = await secsgem_drives("wire_bonder", twin)
    host = peer.host
    for function in (S16F11, S16F12, S16F19, S16F20):
        host.settings.streams_functions.update(function)

    def ask(request):
        return host.settings.streams_functions.decode(host.send_and_waitfor_response(request))

    def create(prjobid: str, recipe: str, stack: int) -> list:
        body = [0, prjobid, b"\x0e", ["W01"], [2, recipe, [["STACK", stack]]], True, []]
        return ask(S16F11(body)).get()

    await asyncio.to_thread(host.send_process_program, "BUMP-2", "stack two studs")
    await asyncio.to_thread(host.subscribe_collection_event, 3100, [9006, 9007], 31)
    refused = await asyncio.to_thread(create, "PJ1", "NONE", 2)
    assert refused["PRJOBID"] == "PJ1"
    assert refused["DATA"]["ACKA"] is False
    assert [error["ERRCODE"] for error in refused["DATA"]["DATA"]] == [21]  # no such recipe
    created = await asyncio.to_thread(create, "PJ1", "BUMP-2", 2)
    assert created == {"PRJOBID": "PJ1", "DATA": {"ACKA": True, "DATA": []}}
    listed = (await asyncio.to_thread(ask, S16F19())).get()
    assert listed == [{"PRJOBID": "PJ1", "PRSTATE": 0}]  # queued: its wafer is not there
    assert await peer.command("LOAD", [["WAFERID", "W01"]]) == 0
    states = []
    while not states or states[-1] != 4:
        assert await peer.arrived()
        event = peer.events[len(states)]  # (several may have come since the last look)
        values = {value["dvid"]: value["value"] for value in event["values"]}
        assert values[9006] == "PJ1"
        states.append(values[9007])
    assert states == [0, 1, 3, 4]  # queued, setting up, processing, process complete
    assert (await asyncio.to_thread(ask, S16F19())).get() == []
    assert model.tool.twin.get("W01").bumps.height_um.max() > 0
