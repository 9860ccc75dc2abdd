"""`packline dashboard`: the records in a browser, the runs in progress updating live.

A read-only web page over one run database (docs/dashboard.md): the runs a live process
drives, each wafer's status and step, each tool's state and its alarms (those still
standing apart from those a clear dealt with, each once however many wafers), pushed to the
page by server-sent events whenever they change; the past runs, each with its report
(`report.render_report`, made when asked); a measurement's SPC chart (`spcpage`). It serves
GET requests only and commands nothing: it opens the database as every reader does.

Built on Starlette, served by uvicorn (docs/decisions/0025). On the loopback interface it
needs no login; bound to another interface it needs a token, given once as `?token=` (it is
then kept in a cookie for the session), so a page reached from the line's network is not open
to anyone on it.
"""

from __future__ import annotations

import asyncio
import hmac
import html
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

import pandas as pd
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from packline.sequences.engine import BadInput, RunStore
from packline.sequences.engine.clearances import clear_wait, out_of_service
from packline.sequences.engine.control import terminating_json
from packline.sequences.engine.eta import Schedules, eta_text, run_eta
from packline.sequences.engine.injected_faults import faults_injected
from packline.sequences.engine.left_on_tools import left_brief, left_report, left_text
from packline.sequences.engine.liveness import DRIVEN, listed_run, listed_status
from packline.sequences.engine.progress import wall_text
from packline.sequences.engine.records import db_option
from packline.sequences.engine.stage import HOLDING_KINDS
from packline.sequences.engine.wafer_status import recorded_wafer_status

from .alarms import run_failures
from .reader import RunRecords
from .tooltime import tool_names

#: Interfaces on which the dashboard needs no token.
LOOPBACK = ("127.0.0.1", "::1", "localhost")
#: The cookie that keeps a token once given.
COOKIE = "packline_token"
#: How many past runs the page lists, and of a run in progress, how many of its latest
#: alarms that a clear dealt with (those still standing are all listed).
PAST_RUNS, LATEST_CLEARED_ALARMS = 50, 5
#: The live state while the run database holds no run, or does not exist yet.
NO_RUN_STATE: dict[str, list[str]] = {"live": [], "ended": []}
#: Seconds between two keep-alive comments on an event stream with nothing new.
KEEP_ALIVE_S = 15.0

Endpoint = Callable[[Request], Awaitable[Response]]


def needs_token(host: str) -> bool:
    """Whether a dashboard bound to `host` must ask for a token (any interface but loopback)."""
    return host not in LOOPBACK


def create_app(
    db: Path,
    *,
    token: str | None = None,
    poll_s: float = 1.0,
    stopping: asyncio.Event | None = None,
) -> Starlette:
    """The dashboard of run database `db`; every request must carry `token` when one is given;
    runs in progress are read again every `poll_s` seconds, each against the schedule found
    for it once (`eta.Schedules`). Once `stopping` is set, the live streams end, so that the
    server stops at once rather than cancel them (`packline dashboard`'s Ctrl-C)."""
    schedules = Schedules()
    stopping = stopping or asyncio.Event()

    def read_live(store: RunStore) -> dict[str, Any]:
        return live_state(store, schedules)

    def guarded(endpoint: Endpoint) -> Endpoint:
        async def checked(request: Request) -> Response:
            given = request.query_params.get("token") or request.cookies.get(COOKIE) or ""
            if token is not None and not hmac.compare_digest(given, token):
                return Response("a token is needed: open the address packline printed", 401)
            response = await endpoint(request)
            if token is not None and "token" in request.query_params:
                response.set_cookie(COOKIE, token, httponly=True, samesite="strict")
            return response

        return checked

    async def page(request: Request) -> Response:
        past = await run_in_threadpool(_read, db, listed_runs, [])
        return HTMLResponse(_page(past, db))

    async def state(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(_read, db, read_live, NO_RUN_STATE))

    async def events(request: Request) -> Response:
        async def stream() -> AsyncIterator[str]:
            sent, quiet_s = None, 0.0
            while not stopping.is_set() and not await request.is_disconnected():
                current = await run_in_threadpool(_read, db, read_live, NO_RUN_STATE)
                if current != sent:
                    sent, quiet_s = current, 0.0
                    yield f"data: {json.dumps(current)}\n\n"
                elif quiet_s >= KEEP_ALIVE_S:
                    quiet_s = 0.0
                    yield ": still here\n\n"
                with suppress(TimeoutError):  # the poll interval, cut short by a stop
                    await asyncio.wait_for(stopping.wait(), poll_s)
                quiet_s += poll_s

        return StreamingResponse(stream(), media_type="text/event-stream")

    async def report(request: Request) -> Response:
        from .report import render_report

        run_id = request.path_params["run"]

        def render(store: RunStore) -> str:
            return render_report(RunRecords(store, store.resolve_run(run_id)))

        return await _page_or_error(lambda: _read(db, render))

    async def spc(request: Request) -> Response:
        from .spc import control_chart, measurement_values
        from .spcpage import render_spc

        query = request.query_params

        def render(store: RunStore) -> str:
            name, method = query.get("measurement", ""), query.get("method", "")
            values = measurement_values(store, name, method)
            chart = control_chart(
                values, measurement=name, method=method, chart=query.get("chart", "xbar-r")
            )
            return render_spc(chart, values)

        return await _page_or_error(lambda: _read(db, render))

    return Starlette(
        routes=[
            Route("/", guarded(page)),
            Route("/state", guarded(state)),
            Route("/events", guarded(events)),
            Route("/runs/{run}/report", guarded(report)),
            Route("/spc", guarded(spc)),
        ]
    )


def live_state(store: RunStore, schedules: Schedules | None = None) -> dict[str, Any]:
    """The runs a live process drives: each run's id, method, status, lot, start (Unix time),
    its ETA with its basis (as the live view finds it; on a station the time of day, which
    stays the same while the run keeps to its schedule, so the state does not change every
    second), its wafers (status as the live view shows it: queued, running, waiting, paused,
    then completed, held, terminated or scrapped; the step running on each and its tool), its
    tools' states
    (`running` while a stage holds it, `down` from an alarm until it is cleared, else `idle`),
    its alarms still standing (`alarms`: no clear has followed them, `run_failures`) and the
    latest it had that a clear dealt with (`cleared_alarms`), each alarm once however many
    wafers of a batch it failed (`_alarm_lines`); with the names of the runs that ended since
    (`ended`, newest first). `schedules` keeps each run's schedule from one call to the next
    (it forgets those of runs no longer driven)."""
    schedules = schedules or Schedules()
    runs = past_runs(store)
    live = []
    for run in runs:
        if run["status"] not in DRIVEN:
            continue
        records = RunRecords(store, run["id"])
        steps = records.steps()
        running = steps[steps["status"] == "running"]
        latest = store.run(run["id"])["sessions"]  # a wafer's first step is of this session
        wafers = []
        for wafer in store.wafers(run["id"]):
            own = running[(running["wafer_id"] == wafer["wafer_id"])]
            inner = own[~own["kind"].isin(HOLDING_KINDS)]
            current = inner if not inner.empty else own
            recorded = steps[steps["wafer_id"] == wafer["wafer_id"]]
            status = recorded_wafer_status(
                wafer["status"],
                recorded[["session", "status", "kind"]].to_dict("records"),
                latest,
                run["status"],
            )
            wafers.append(
                {
                    "wafer": wafer["wafer_id"],
                    "status": status,
                    "step": None if current.empty else str(current["name"].iloc[-1]),
                    "tool": None if current.empty else _text(current["tool"].iloc[-1]),
                }
            )
        held = set(running.loc[running["kind"].isin(HOLDING_KINDS), "tool"].dropna())
        out = out_of_service(store, run["id"])  # not cleared yet
        failures = run_failures(records)
        standing = failures["restore_s"].isna()
        live.append(
            {
                "id": run["id"],
                "method": run["method"],
                "status": listed_status(run),
                "lot": run["lot_size"],
                "completed": run["completed"],
                "held": run["held"],
                "started_wall": run["started_wall"],
                "eta": eta_text(
                    *run_eta(store, run["id"], schedules=schedules),
                    simulated=run["simulated"],
                    left=False,
                ),
                "wafers": wafers,
                "tools": {
                    tool: "down" if tool in out else "running" if tool in held else "idle"
                    for tool in tool_names(records)
                },
                "alarms": _alarm_lines(failures[standing]),
                "cleared_alarms": [
                    f"{line} (cleared)"
                    for line in _alarm_lines(failures[~standing].tail(LATEST_CLEARED_ALARMS))
                ],
            }
        )
    schedules.keep(run["id"] for run in live)
    ended = [run["id"] for run in runs if run["status"] not in DRIVEN]
    return {"live": live, "ended": ended}


def past_runs(store: RunStore) -> list[dict[str, Any]]:
    """The newest runs, as `packline runs` lists them (`listed_run`), each with its wait for
    a clear, if it waits (`clear_wait`), the terminate it is carrying out, if one is under way
    (`terminating`), and the faults injected on its tools (`faults_injected`), which its status
    in words says (`listed_status`)."""
    runs = [listed_run(run) for run in store.runs(PAST_RUNS)]
    injected = faults_injected(store, [run["id"] for run in runs])
    for run in runs:
        wait = clear_wait(store, run)
        run["waiting_for_clear"] = None if wait is None else wait.as_json()
        run["terminating"] = terminating_json(store, run)
        run["faults_injected"] = injected.get(run["id"], [])
    return runs


def listed_runs(store: RunStore) -> list[dict[str, Any]]:
    """The page's list of runs: the newest (`past_runs`), each with what it left on its tools
    if it stopped so (`left_on_tools`: `left_report`, as `runs --json`, its summary and `show`
    give it; None when nothing)."""
    return [{**run, "left_on_tools": left_report(store, run["id"])} for run in past_runs(store)]


def no_run_yet(db: Path) -> str:
    """What the page and `packline dashboard` say of run database `db` while it holds no run
    (it may not exist yet: the first run makes it): how to start one, which the page then
    shows as it starts."""
    return (
        f"no run yet in {db}: start one with `packline run METHOD{db_option(db)}` (`packline "
        "methods` lists the methods; `--sim` for a dry run), which the page shows as it starts"
    )


def _read(db: Path, read: Callable[[RunStore], Any], none_yet: Any = None) -> Any:
    """`read` on the run database, opened for this call alone (a worker thread's own); while
    there is none, `none_yet` when given (the page and its live state, before the first run
    makes the database: a reader does not create it), else the refusal naming it (BadInput)."""
    if none_yet is not None and not db.exists():
        return none_yet
    store = RunStore(db, create=False)
    try:
        return read(store)
    finally:
        store.close()


async def _page_or_error(render: Callable[[], str]) -> Response:
    """A page made in a worker thread, or the bad input that stopped it, as 404."""
    try:
        return HTMLResponse(await run_in_threadpool(render))
    except BadInput as error:
        return Response(str(error), 404, media_type="text/plain")


def _alarm_lines(failures: pd.DataFrame) -> list[str]:
    """Each failure of `failures` (`run_failures`) as one line: its tool, code, the wafers it
    failed and its message, `plasma_cleaner REFLECTED_POWER on W01, W02: ...` (a batch's
    wafers each record the alarm: it had read once per wafer, a full chamber's four times)."""
    return [
        f"{tool} {code} on {', '.join(wafers)}: {message}"
        for tool, code, wafers, message in zip(
            failures["tool"],
            failures["code"],
            failures["wafer_ids"],
            failures["message"],
            strict=True,
        )
    ]


def _text(value: Any) -> str | None:
    return None if value is None or value != value else str(value)


def _page(past: list[dict[str, Any]], db: Path) -> str:
    """The dashboard's page of run database `db`: the live section, filled by the script from
    the event stream, and the past runs (`listed_runs`; none: how to start one, `no_run_yet`)
    with links to their reports, their wafers by outcome as
    `runs` counts them (a lot of 2 with one scrapped had read `completed 1, held 0`), each
    stopped run with what it left on its tools in a few words (`left_brief`; all `show` says
    of it, and the resume that takes them off, when the pointer rests on it: `left_text`)."""
    rows = "".join(
        "<tr>"
        f'<td><a href="runs/{html.escape(run["id"])}/report">{html.escape(run["id"])}</a></td>'
        f"<td>{html.escape(run['method'])}</td><td>{html.escape(listed_status(run))}</td>"
        f"<td>{run['lot_size']}</td><td>{run['completed']}</td><td>{run['held']}</td>"
        f"<td>{run['scrapped']}</td><td>{run['terminated']}</td>"
        f'<td class="held" title="{html.escape(left_text(run["left_on_tools"]))}">'
        f"{html.escape(left_brief(run['left_on_tools']))}</td>"
        f"<td>{wall_text(run['started_wall'])}</td>"
        "</tr>"
        for run in past
    )
    methods = sorted({run["method"] for run in past})
    options = "".join(f"<option>{html.escape(m)}</option>" for m in methods)
    none = f'<p id="no-run">{html.escape(no_run_yet(db))}</p>' if not past else ""
    return PAGE.replace("{{rows}}", rows).replace("{{methods}}", options).replace("{{none}}", none)


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>packline dashboard</title>
<style>
body { font-family: system-ui, sans-serif; margin: 0 2em 3em; color: #222; }
table { border-collapse: collapse; margin: .5em 0 1em; font-size: 90%; }
th, td { border: 1px solid #ccc; padding: 2px 8px; text-align: left; }
th { background: #f3f3f3; }
.run { border: 1px solid #ccc; border-radius: 6px; padding: .5em 1em; margin: .5em 0; }
.running { color: #070; } .down { color: #b00; font-weight: bold; } .idle { color: #777; }
.completed { color: #070; } .held { color: #b00; } .queued { color: #777; }
.waiting { color: #03a; } .paused { color: #a60; font-weight: bold; } .cleared { color: #777; }
#connection { font-size: 85%; color: #777; }
</style></head><body>
<h1>packline dashboard</h1>
<section id="live-section"><h2>In progress</h2>
<p id="connection">connecting...</p>
<div id="live" data-updates="0"><p>no run in progress</p></div>
</section>
<section id="past"><h2>Runs</h2>
<p>Each run's report opens from its id (made when asked: a lot of 25 takes a few seconds).
Reload the page for runs that ended since.</p>
<table><thead><tr><th>run</th><th>method</th><th>status</th><th>wafers</th>
<th>completed</th><th>held</th><th>scrapped</th><th>terminated</th>
<th>left on tools</th><th>started</th></tr></thead>
<tbody>{{rows}}</tbody></table>{{none}}
</section>
<section id="spc"><h2>SPC</h2>
<form action="spc" method="get">
<label>method <select name="method">{{methods}}</select></label>
<label>measurement <input name="measurement" required></label>
<label>chart <select name="chart"><option>xbar-r</option><option>individuals</option></select>
</label> <button>chart</button></form>
</section>
<script>
"use strict";
function cell(text, css) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "" : String(text);
  if (css) td.className = css;
  return td;
}
function table(headers, rows) {
  const t = document.createElement("table");
  const head = t.createTHead().insertRow();
  for (const h of headers) {
    const th = document.createElement("th");
    th.textContent = h;
    head.appendChild(th);
  }
  const body = t.createTBody();
  for (const row of rows) { const tr = body.insertRow(); for (const c of row) tr.appendChild(c); }
  return t;
}
function clock(s) {
  const h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60), r = s % 60;
  return h + ":" + String(m).padStart(2, "0") + ":" + String(r).padStart(2, "0");
}
function show(state) {
  const live = document.getElementById("live");
  live.replaceChildren();
  if (state.live.length === 0) {
    const p = document.createElement("p");
    p.textContent = "no run in progress";
    live.appendChild(p);
  }
  for (const run of state.live) {
    const box = document.createElement("div");
    box.className = "run";
    box.dataset.run = run.id;
    const title = document.createElement("h3");
    title.textContent = run.method + " " + run.id + ": " + run.status + ", " +
      run.completed + " of " + run.lot + " wafers completed, " + run.held + " held, ";
    const since = document.createElement("span");
    since.className = "since";
    since.dataset.started = String(run.started_wall);
    title.appendChild(since);
    box.appendChild(title);
    const eta = document.createElement("p");
    eta.className = "eta";
    eta.textContent = run.eta;
    box.appendChild(eta);
    box.appendChild(table(["wafer", "status", "step", "tool"],
      run.wafers.map((w) =>
        [cell(w.wafer), cell(w.status, w.status), cell(w.step), cell(w.tool)])));
    box.appendChild(table(["tool", "state"],
      Object.entries(run.tools).map(([tool, s]) => [cell(tool), cell(s, s)])));
    for (const [alarms, css] of [[run.alarms, "down"], [run.cleared_alarms, "cleared"]]) {
      for (const alarm of alarms) {
        const p = document.createElement("p");
        p.className = css;
        p.textContent = alarm;
        box.appendChild(p);
      }
    }
    live.appendChild(box);
  }
  tick();
  live.dataset.updates = String(Number(live.dataset.updates) + 1);
  live.dataset.ended = state.ended.join(",");
}
function tick() {
  for (const since of document.querySelectorAll(".since")) {
    const s = Math.max(0, Math.round(Date.now() / 1000 - Number(since.dataset.started)));
    since.textContent = clock(s) + " so far";
  }
}
setInterval(tick, 1000);
const source = new EventSource("events" + location.search);
source.onopen = () => { document.getElementById("connection").textContent = "live"; };
source.onerror = () => { document.getElementById("connection").textContent = "reconnecting..."; };
source.onmessage = (event) => show(JSON.parse(event.data));
</script>
</body></html>
"""
