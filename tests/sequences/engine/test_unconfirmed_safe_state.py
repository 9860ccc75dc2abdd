"""An abort whose safe-state command the tool never answers (sequences/engine: `execute_step`,
`ToolKeeper.shutdown`, `left_on_tools`, `launch.nothing_to_resume`): the plasma chamber frozen
behind a proxy mid-clean, then the run aborted. The records say the tool's safe state is
unconfirmed, the batch is cut off by the abort (never `failed` with the ABORT's timeout as
its reason), its wafers are left in the chamber, and the run's resume, though every wafer is
held, recovers the chamber: it commands the safe state again and takes them off."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import pytest

from packline.cli import main
from packline.clock import ScaledClock
from packline.drivers.families.modbus_plc import ModbusPlcDriver
from packline.drivers.plasma_cleaner import ModbusPlasmaCleaner
from packline.sequences.engine import RunRequest, open_resume, open_run, prepare
from packline.sequences.engine.clearances import UNCONFIRMED_SAFE_STATE, unconfirmed_safe_states
from packline.sequences.engine.events import SAFE_STATE_UNCONFIRMED
from packline.sequences.engine.left_on_tools import left_on_tools, left_report, left_text
from packline.sequences.engine.progress import PlainLog
from packline.sim_instruments.line import SimulatedLine

from ..helpers import station_lot
from ..test_resume_station import confirm_yes, station_file
from .test_left_on_tools import terminated_out_of_service

#: The chamber's link timeout in these tests: each unanswered command costs this much wall time.
TIMEOUT_S = 0.3


class FreezingProxy:
    """A TCP proxy in front of one tool that can be frozen: from then on nothing either side
    sends reaches the other (the tool's controller hung, a switch port dead), the connections
    staying open; thawed, what is sent afterwards passes again. Or cut (`cut`): every
    connection closed and none taken any more (the tool powered off)."""

    def __init__(self, host: str, port: int) -> None:
        self._upstream = (host, port)
        self.frozen = False
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def __aenter__(self) -> FreezingProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()
        for pipe in self._pipes:
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)
        await self._server.wait_closed()

    def cut(self) -> None:
        """Close every connection and take no more: connects to the port are refused."""
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        tool_reader, tool_writer = await asyncio.open_connection(*self._upstream)
        self._writers += [writer, tool_writer]
        for source, sink in ((reader, tool_writer), (tool_reader, writer)):
            pipe = asyncio.create_task(self._pipe(source, sink))
            self._pipes.add(pipe)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await source.read(4096):
                if not self.frozen:
                    sink.write(data)
                    await sink.drain()
        sink.close()


@contextlib.asynccontextmanager
async def frozen_chamber_line(tmp_path) -> AsyncIterator[tuple[SimulatedLine, FreezingProxy, str]]:
    """A served plasma chamber behind a `FreezingProxy`, and a station file that reaches it
    through the proxy with a short link timeout."""
    async with SimulatedLine(ScaledClock(1000), kinds=["plasma_cleaner"]) as line:
        entry = line.station.tools["plasma_cleaner"]
        host, _, port = str(entry.address).rpartition("/")[2].rpartition(":")
        async with FreezingProxy(host, int(port)) as proxy:
            path = station_file(
                tmp_path,
                line,
                "line.yaml",
                plasma_cleaner={
                    "address": f"modbus+tcp://127.0.0.1:{proxy.port}",
                    "options": {**entry.options, "timeout_s": TIMEOUT_S},
                },
            )
            yield line, proxy, path


async def aborted_mid_clean(
    store,
    path: str,
    proxy: FreezingProxy,
    monkeypatch: pytest.MonkeyPatch,
    fault: Callable[[FreezingProxy], None] = lambda proxy: None,
) -> str:
    """plasma-clean for a lot of 2 through `proxy`, aborted once the chamber has started its
    recipe (RF on), just after `fault` is done to the proxy (frozen, the ABORT the cancelled
    clean sends gets no reply, nor does the one the run sends every tool at its end; cut, no
    ABORT reaches the chamber). The run's id."""
    box: list = []
    command = ModbusPlcDriver.command

    async def abort_after_start(self, action: str, name: str, **parameters) -> None:
        await command(self, action, name, **parameters)
        if name == "START_RECIPE" and len(box) == 1:
            box.append(name)
            fault(proxy)
            box[0].request("abort", "test operator")

    monkeypatch.setattr(ModbusPlcDriver, "command", abort_after_start)
    request = station_lot(path)
    async with open_run(store, prepare(request), confirm=confirm_yes) as engine:
        box.append(engine)
        assert await engine.run() == "aborted"
    monkeypatch.setattr(ModbusPlcDriver, "command", command)
    return engine.run_id


async def test_an_unanswered_abort_is_recorded_and_its_resume_recovers_the_chamber(
    store, tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    async with frozen_chamber_line(tmp_path) as (line, proxy, path):
        chamber = line.tools["plasma_cleaner"]
        run_id = await aborted_mid_clean(store, path, proxy, monkeypatch, freeze)
        wafers = [w["wafer_id"] for w in store.wafers(run_id)]
        assert sorted(chamber.loaded()) == sorted(wafers)

        # the clean is cut off by the abort for both wafers, its error the abort's failure
        cleans = [s for s in store.table("steps", run_id) if s["name"] == "plasma clean"]
        assert [(s["wafer_id"], s["status"]) for s in cleans] == [
            (w, "interrupted") for w in wafers
        ]
        for step in cleans:
            assert step["error"].startswith("cut off by the abort, whose safe-state command failed")
            assert "no reply" in step["error"] or "timed out" in step["error"]
        # both held alike: the irreversible step, the abort and the unconfirmed safe state
        reasons = {w["wafer_id"]: w["reason"] for w in store.wafers(run_id)}
        assert [w["status"] for w in store.wafers(run_id)] == ["held", "held"]
        assert len(set(reasons.values())) == 1
        (reason,) = set(reasons.values())
        assert reason.startswith("irreversible step 'plasma clean' was interrupted")
        assert "(abort requested by test operator" in reason or "(test operator" in reason
        assert reason.endswith(
            "; the abort left plasma_cleaner's safe state unconfirmed (its "
            "safe-state-unconfirmed event says why): the wafer may be in a live tool"
        )
        assert "failed:" not in reason.partition(";")[0]

        # the event says it, naming the tool, each failure and the resume; out of service
        events = store.events(run_id)
        (unconfirmed,) = [e for e in events if e["kind"] == SAFE_STATE_UNCONFIRMED]
        assert unconfirmed["tool"] == "plasma_cleaner"
        assert unconfirmed["message"].startswith(
            "plasma_cleaner: its safe state was not confirmed as the run was aborted (as the "
            "abort cut its step off: "
        )
        assert "; at the run's end: " in unconfirmed["message"]
        assert f"`packline resume {run_id}" in unconfirmed["message"]
        assert SAFE_STATE_UNCONFIRMED in PlainLog.KINDS  # a log without a live view says it
        assert [f.split(":")[0] for f in unconfirmed["data"]["failures"]] == [
            "as the abort cut its step off",
            "at the run's end",
        ]
        (out,) = [e for e in events if e["kind"] == "tool-out-of-service"]
        assert out["data"] == {
            "cause": UNCONFIRMED_SAFE_STATE,
            "until_cleared": False,
            "failures": unconfirmed["data"]["failures"],
        }
        assert out["message"].startswith("plasma_cleaner: safe state unconfirmed: as the abort")
        assert list(unconfirmed_safe_states(store, run_id)) == ["plasma_cleaner"]

        # the wafers count as left in the chamber; summary and show say so, and the tool
        assert left_on_tools(store, run_id) == {"plasma_cleaner": wafers}
        left = left_report(store, run_id)
        assert left is not None
        assert list(left["safe_state_unconfirmed"]) == ["plasma_cleaner"]
        text = left_text(left)
        assert text.startswith(
            "the safe state of plasma_cleaner was not confirmed when the run was aborted (as "
            "the abort cut its step off"
        )
        assert f"treat it as live until `packline resume {run_id}" in text
        assert f"left on the tools when the run stopped: {', '.join(wafers)} in plasma_cleaner" in (
            text
        )
        assert main(["show", run_id, "--db", str(store.path)]) == 0
        shown = capsys.readouterr().out
        assert "the safe state of plasma_cleaner was not confirmed" in shown
        assert "safe-state-unconfirmed" in shown

        # a clear cannot vouch for it
        assert main(["clear-tool", run_id, "plasma_cleaner", "--by", "ana"]) == 2
        refused = capsys.readouterr().err
        assert "its safe state was not confirmed when the run was aborted" in refused

        # the next run on the line finds the wafers and names the run whose they are
        proxy.frozen = False
        second, held = await terminated_out_of_service(store, path)
        assert f"of run {run_id}, whose resume takes them off (`packline resume {run_id}" in (
            held.message
        )
        assert "engineering workpiece" not in held.message

        # every wafer is held, yet the resume recovers the chamber and takes them off
        async with open_resume(store, run_id, confirm=confirm_yes) as resumed:
            assert await resumed.run() == "held"
        assert chamber.loaded() == []
    recovered = [e for e in store.events(run_id) if e["kind"] == "tool-recovered"]
    assert [(e["session"], e["tool"]) for e in recovered] == [(2, "plasma_cleaner")]
    assert left_on_tools(store, run_id) == {}
    assert unconfirmed_safe_states(store, run_id) == {}
    assert left_report(store, run_id) is None
    assert second != run_id


def freeze(proxy: FreezingProxy) -> None:
    """The chamber hangs: nothing it is sent is answered."""
    proxy.frozen = True


async def test_a_tool_gone_at_the_abort_is_recorded_unconfirmed(
    store, tmp_path, monkeypatch: pytest.MonkeyPatch
):
    """The chamber's link goes down as the abort comes (the tool powered off, its cable
    pulled): the abort cannot reach it, in the cancelled step nor at the run's end, where its
    link, not connected, had been skipped without a word. Both failures are recorded."""
    async with frozen_chamber_line(tmp_path) as (line, proxy, path):
        run_id = await aborted_mid_clean(store, path, proxy, monkeypatch, FreezingProxy.cut)
        assert sorted(line.tools["plasma_cleaner"].loaded()) == sorted(
            w["wafer_id"] for w in store.wafers(run_id)
        )
    (unconfirmed,) = [e for e in store.events(run_id) if e["kind"] == SAFE_STATE_UNCONFIRMED]
    cut_off, at_the_end = unconfirmed["data"]["failures"]
    assert cut_off.startswith("as the abort cut its step off: plasma_cleaner at ")
    assert at_the_end.startswith("at the run's end: plasma_cleaner at ")
    assert "connect" in at_the_end
    cleans = [s for s in store.table("steps", run_id) if s["name"] == "plasma clean"]
    assert {s["status"] for s in cleans} == {"interrupted"}
    left = left_report(store, run_id)
    assert left is not None
    assert list(left["safe_state_unconfirmed"]) == ["plasma_cleaner"]


async def test_an_abort_whose_safe_state_was_confirmed_records_no_doubt(
    store, tmp_path, monkeypatch: pytest.MonkeyPatch
):
    """The same abort with the chamber answering its ABORT: nothing is said to be
    unconfirmed, and the tool is not taken out of service."""
    async with frozen_chamber_line(tmp_path) as (_, proxy, path):
        run_id = await aborted_mid_clean(store, path, proxy, monkeypatch)
    kinds = [e["kind"] for e in store.events(run_id)]
    assert SAFE_STATE_UNCONFIRMED not in kinds
    assert "tool-out-of-service" not in kinds
    assert unconfirmed_safe_states(store, run_id) == {}
    steps = [s for s in store.table("steps", run_id) if s["name"] == "plasma clean"]
    assert {s["status"] for s in steps} == {"interrupted"}
    assert all("safe state" not in (w["reason"] or "") for w in store.wafers(run_id))
    left = left_report(store, run_id)
    assert left is not None
    assert left["safe_state_unconfirmed"] == {}
    assert not left_text(left).startswith("the safe state")


async def test_a_dry_runs_abort_that_raises_anything_is_recorded_and_the_tools_closed(
    store, monkeypatch: pytest.MonkeyPatch
):
    """A driver whose safe-state command fails with an error no tool sends (a bug) at the
    run's end: the abort of every tool had discarded it; now it is recorded as any other
    failure, and the run still ends, aborted, its tools closed."""
    closed: list[str] = []
    close = ModbusPlcDriver.close

    async def safe_state_bug(self) -> None:
        raise RuntimeError("register map out of step")

    async def closing(self) -> None:
        closed.append(self.name)
        await close(self)

    monkeypatch.setattr(ModbusPlasmaCleaner, "_command_safe_state", safe_state_bug)
    monkeypatch.setattr(ModbusPlcDriver, "close", closing)
    box: list = []

    def abort_at_the_clean(event) -> None:
        if event.kind == "step-started" and event.step == "plasma clean" and len(box) == 1:
            box.append(event)
            box[0].request("abort", "test operator")

    async with open_run(
        store, prepare(RunRequest("plasma-clean", lot=2)), observers=[abort_at_the_clean]
    ) as engine:
        box.append(engine)
        assert await engine.run() == "aborted"
    assert closed == ["plasma_cleaner"]
    (unconfirmed,) = [e for e in store.events(engine.run_id) if e["kind"] == SAFE_STATE_UNCONFIRMED]
    assert unconfirmed["data"]["failures"] == [
        "as the abort cut its step off: register map out of step",
        "at the run's end: register map out of step",
    ]
    cleans = [s for s in store.table("steps", engine.run_id) if s["name"] == "plasma clean"]
    assert {s["status"] for s in cleans} == {"interrupted"}
    text = left_text(left_report(store, engine.run_id))
    assert text.startswith("the safe state of plasma_cleaner was not confirmed when the run")
    assert "left on the simulated tools when the run stopped: W01, W02 in plasma_cleaner" in text


async def test_a_tool_in_doubt_with_nothing_on_it_is_resumed_though_every_wafer_is_held(
    store, tmp_path, monkeypatch: pytest.MonkeyPatch
):
    """The held lot's resume took its wafers off the chamber, and was aborted as the chamber
    went away: nothing is left on it, every wafer is held, and the chamber's safe state is in
    doubt. A resume had been refused as having nothing to do; now it recovers the chamber."""
    async with frozen_chamber_line(tmp_path) as (line, proxy, path):
        run_id = await aborted_mid_clean(store, path, proxy, monkeypatch, freeze)
        proxy.frozen = False
        box: list = []

        def cut_once_recovered(event) -> None:
            if event.kind == "tool-recovered" and len(box) == 1:
                box.append(event)
                proxy.cut()
                box[0].request("abort", "test operator")

        async with open_resume(
            store, run_id, observers=[cut_once_recovered], confirm=confirm_yes
        ) as engine:
            box.append(engine)
            assert await engine.run() == "aborted"
        assert left_on_tools(store, run_id) == {}
        assert [w["status"] for w in store.wafers(run_id)] == ["held", "held"]
        assert list(unconfirmed_safe_states(store, run_id)) == ["plasma_cleaner"]
        direct = station_file(tmp_path, line, "direct.yaml")  # the chamber, no proxy
        async with open_resume(store, run_id, station_path=direct, confirm=confirm_yes) as again:
            assert await again.run() == "held"
    assert unconfirmed_safe_states(store, run_id) == {}
    recovered = [e for e in store.events(run_id) if e["kind"] == "tool-recovered"]
    assert [e["session"] for e in recovered] == [2, 3]


async def test_a_tool_lost_in_a_step_is_recovered_by_the_resume_though_every_wafer_is_held(
    store, tmp_path, monkeypatch: pytest.MonkeyPatch
):
    """The chamber goes away mid-clean (its link cut, no abort): the clean fails, its recovery
    fails (nothing answers), the wafers are held and the chamber is out of service until a
    recovery. A new user's resume was refused ('is held: nothing to resume ... release or
    rework a held wafer first'), and after a scrap 'is completed': the chamber, maybe live
    with the wafers in it, was never recovered. Now the resume recovers it."""
    async with frozen_chamber_line(tmp_path) as (line, proxy, path):
        box: list = []
        command = ModbusPlcDriver.command

        async def cut_after_start(self, action: str, name: str, **parameters) -> None:
            await command(self, action, name, **parameters)
            if name == "START_RECIPE" and not box:
                box.append(name)
                proxy.cut()

        monkeypatch.setattr(ModbusPlcDriver, "command", cut_after_start)
        request = station_lot(path)
        async with open_run(store, prepare(request), confirm=confirm_yes) as engine:
            assert await engine.run() == "held"
        monkeypatch.setattr(ModbusPlcDriver, "command", command)
        run_id = engine.run_id
        assert [w["status"] for w in store.wafers(run_id)] == ["held", "held"]
        (out,) = [e for e in store.events(run_id) if e["kind"] == "tool-out-of-service"]
        assert out["data"]["cause"] == "recovery failed"
        direct = station_file(tmp_path, line, "direct.yaml")  # the chamber back, no proxy
        async with open_resume(store, run_id, station_path=direct, confirm=confirm_yes) as again:
            assert await again.run() == "held"
        assert list(line.tools["plasma_cleaner"].loaded()) == []  # taken off by the recovery
    recovered = [e for e in store.events(run_id) if e["kind"] == "tool-recovered"]
    assert [e["session"] for e in recovered] == [2]
