"""`packline report`: one self-contained HTML page with the run's sections and data."""

from __future__ import annotations

import html
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from packline.cli import main
from packline.records import RunRecords
from packline.records.markup import wall_time
from packline.records.report import SECTIONS, render_report
from packline.records.sections import (
    alarms_section,
    claims_section,
    measurements_section,
    run_clock_fact,
    run_section,
    tool_time_section,
)
from packline.records.tooltime import bottleneck, tool_time
from packline.sequences.engine import BadInput, RunStore
from packline.sequences.engine.claim_check import margin_text
from packline.sequences.engine.progress import clock_text, moment_text

from .conftest import create_run, stage_row


class Page(HTMLParser):
    """The parts of a page the tests look at: every start tag with its attributes, the
    sections in order with their headings, and the text of the scripts."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.sections: list[str] = []
        self.headings: list[str] = []
        self.scripts: list[str] = []
        self._in: str | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "section":
            self.sections.append(dict(attrs)["id"])
        self._in = tag

    def handle_data(self, data):
        if self._in == "h2":
            self.headings.append(data)
        elif self._in == "script":
            self.scripts.append(data)

    def handle_endtag(self, tag):
        self._in = None


@pytest.fixture(scope="module")
def page(run_db: Path) -> str:
    store = RunStore(run_db, create=False)
    try:
        return render_report(RunRecords(store, store.resolve_run("last")))
    finally:
        store.close()


def test_the_page_parses_into_every_section_in_order(page):
    parsed = Page(page)
    assert parsed.sections == list(SECTIONS)
    assert parsed.headings == list(SECTIONS.values())
    assert page.startswith("<!DOCTYPE html>")


def test_what_came_of_the_run_comes_first_and_the_recipe_last_folded(page, records):
    """A newcomer's report opened with some 200 lines of recipe, as written and as validated,
    before the claim check and the results. The run's outcome, its claim check and its
    wafers come first, then the maps, measurements and traces, then the tools' time, and the
    recipe last, each text folded in a `<details>` closed until the reader opens it."""
    assert Page(page).sections == [
        "run",
        "claims",
        "wafers",
        "maps",
        "measurements",
        "traces",
        "timeline",
        "tool-time",
        "alarms",
        "recipe",
    ]
    start = page.index('<section id="recipe">')
    written = html.escape(records.header()["recipe_text"])
    assert written.strip()
    assert written in page[start:]
    assert written not in page[:start]
    folded = [attrs for tag, attrs in Page(page[start:]).tags if tag == "details"]
    assert folded == [{}, {}]  # as written and as validated, neither open


def test_the_page_holds_the_runs_data(page, records):
    header = records.header()
    assert header["id"] in page
    assert header["recipe_hash"] in page
    for wafer_id in records.wafers()["wafer_id"]:
        assert wafer_id in page
    checks = records.claim_checks()
    for condition in checks["condition"]:
        assert html.escape(condition) in page
    # the claim table shows the margin the claim check recorded, not the share passing
    margins = checks.dropna(subset=["margin"])
    assert not margins.empty
    for condition in margins.to_dict("records"):
        assert html.escape(margin_text(condition)) in page
    for tool, name in set(zip(records.traces()["tool"], records.traces()["name"], strict=True)):
        assert f"{tool}: {name}" in page  # every trace has its chart
    for name in set(records.measurements()["name"]):
        assert name in page
    for serial in records.tools()["serial_number"]:
        assert serial in page
    times = tool_time(records)
    assert f"Bottleneck: <b>{bottleneck(times)}</b>" in page
    # the maps: the bumps laid by the bonder, the resin by the laminator, on one data source
    assert "after form bumps: bumps.height_um" in page
    assert "after laminate resin film:\\\\nresins.layers[0].thickness_um" in page  # wrapped


def test_headings_are_words_and_run_clock_times_read_as_hours_minutes_seconds(page, records):
    assert "<th>sites checked</th>" in page
    assert "<th>failing wafers</th>" in page
    assert "_" not in "".join(re.findall(r"<th>([^<]*)</th>", page))
    last = records.measurements()["t"].iloc[-1]
    assert f'<td class="num">{clock_text(float(last))}</td>' in page


def test_the_run_clock_says_which_clock_and_a_served_lines_process_time():
    """A new user's report read `4.10 h` (a dry run) and `0.02 h` (a station's) without
    saying simulated or wall, nor the served line's time scale (`runs` says which)."""
    dry = {"started_t": 0.0, "stopped_t": 14754.0, "simulated": 1, "station_yaml": "name: x"}
    assert run_clock_fact(dry, 14754.0, cut_off=False) == "4:05:54 simulated"
    served = {**dry, "simulated": 0, "stopped_t": 67.0, "station_yaml": "time_scale: 10.0"}
    assert run_clock_fact(served, 67.0, cut_off=False) == (
        "0:01:07 wall, process time on the line 0:11:10 (served at time x10)"
    )
    assert run_clock_fact({**served, "station_yaml": "name: x"}, 67.0, cut_off=False) == (
        "0:01:07 wall"
    )
    # no end recorded: where its records end when cut off, or so far, as the summary says,
    # where it had read "still running" of a run cut off hours before
    unended = {**served, "stopped_t": None}
    assert run_clock_fact(unended, 61.0, cut_off=True) == (
        "0:01:01 wall, process time on the line 0:10:10 (served at time x10) when cut off"
    )
    assert run_clock_fact(unended, 61.0, cut_off=False).endswith("(served at time x10) so far")


def test_the_run_section_shows_an_error_only_when_the_run_has_one(page, records):
    """A new user read the empty `error` row of a completed run as something gone wrong."""
    assert records.header()["error"] is None
    assert "<th>error</th>" not in page
    failed = run_section(records, {**records.header(), "error": "laser: no reply"})
    assert "<tr><th>error</th><td>laser: no reply</td></tr>" in failed


def test_the_tool_time_table_reads_h_mm_ss_and_leaves_out_states_no_tool_was_in(alarmed_run):
    """The table had read hours (`7.391e-05 h`) where the CLI reads H:MM:SS, and a column of
    zeros for each E10 state no tool was in, wider than a 1400 px page."""
    section = tool_time_section(alarmed_run, {})
    headings = re.findall(r"<th>([^<]*)</th>", section)
    assert headings[:4] == ["tool", "productive", "standby", "unscheduled downtime"]
    assert "engineering" not in headings
    assert "duration" not in headings
    assert "(h)" not in section
    assert "<td>0:00:50</td>" in section  # the oven's 50 s productive
    assert "no tool was in engineering, scheduled downtime, non-scheduled time" in section
    assert "<p>The clock of these times: wall clock.</p>" in section  # as `tools` names it


def test_the_tool_time_bars_read_h_mm_ss_as_the_table_beside_them():
    """The bars beside the H:MM:SS table were in hours (`0.01 h` for the oven's 50 s): their
    axis and hover read H:MM:SS, ticked at whole minutes for a run of minutes."""
    from bokeh.models import AdaptiveTicker, NumeralTickFormatter

    from packline.drivers.equipment import E10State
    from packline.records.figures import CLOCK_FORMAT, tool_time_bars
    from packline.records.tooltime import state_column

    times = pd.DataFrame({"tool": ["oven", "laminator"]}).assign(
        **{state_column(state): [0.0, 0.0] for state in E10State}
    )
    times[state_column(E10State.PRODUCTIVE)] = [50.0, 1500.0]
    plot = tool_time_bars(times)
    (axis,) = plot.xaxis
    assert isinstance(axis.formatter, NumeralTickFormatter)
    assert axis.formatter.format == CLOCK_FORMAT == "00:00:00"
    assert isinstance(axis.ticker, AdaptiveTicker)
    assert axis.ticker.base == 60
    assert plot.hover[0].tooltips == "$name: @$name{00:00:00}"
    bars = {renderer.name: renderer.data_source.data for renderer in plot.renderers}
    assert bars["productive"]["productive"] == [1500.0, 50.0]  # seconds, laminator first


def test_the_page_loads_nothing_from_elsewhere(page):
    parsed = Page(page)
    for tag, attrs in parsed.tags:
        assert tag != "link"
        for name in ("src", "href"):
            value = attrs.get(name) or ""
            assert not value or value.startswith("#"), (tag, name, value)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", page)
    assert not re.search(r"@import", page)
    library = max(parsed.scripts, key=len)
    assert "Bokeh" in library
    assert len(library) > 500_000  # the library itself, inlined
    assert len(page.encode()) < 10_000_000


def test_a_failing_claim_is_marked_and_its_wafer_mapped(tmp_path, capsys):
    db = str(tmp_path / "runs.db")
    run = ["run", "plasma-clean", "--sim", "--lot", "2", "--quiet", "--db", db]
    # the chamber's RF generator delivers a third of its setpoint: the product violates 003:11
    assert main([*run, "--fault", "plasma_cleaner:rf_calibration"]) == 1
    capsys.readouterr()
    out = tmp_path / "r.html"
    assert main(["report", "last", "--db", db, "--out", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["report"] == str(out)
    page = out.read_text()
    assert 'Claim check <span class="fail">failed</span>' in page
    # the run's status as `show` gives it: it had read plain `completed`
    status = "completed, claim check failed; fault injected: plasma_cleaner rf_calibration"
    assert f"<tr><th>status</th><td>{status}</td></tr>" in page
    assert "claim 003:11: no oxide on the exposed\\\\nmetal" in page  # its map, failing in red
    assert "Wafer <b>W01</b>" in page
    assert (
        main(["report", "last", "--db", db, "--to", str(out), "--wafer", "W02"]) == 0
    )  # as export
    assert "Wafer <b>W02</b>" in out.read_text()


def faulted_report(tmp_path: Path, method: str, fault: str, lot: int = 1) -> str:
    """The report of a dry run of `method`, a lot of `lot`, with `fault` injected (its wafer
    held: the run exits 1)."""
    db = str(tmp_path / "runs.db")
    run = ["run", method, "--sim", "--lot", str(lot), "--quiet", "--db", db]
    assert main([*run, "--fault", fault]) == 1
    out = tmp_path / "r.html"
    assert main(["report", "last", "--db", db, "--to", str(out)]) == 0
    return out.read_text()


def test_an_alarm_an_injected_fault_raised_is_marked_as_the_faults(tmp_path):
    """A dry run's `--fault plasma_cleaner:rf_mismatch` raises the chamber's REFLECTED_POWER:
    the report marks the alarm as the fault's, as `show` does (decision 0110), gives the
    run's status as `show` does, and its events their tool (`fault-injected` had read with
    its fault and no tool)."""
    page = faulted_report(tmp_path, "plasma-clean", "plasma_cleaner:rf_mismatch")
    assert "<td>REFLECTED_POWER (injected fault rf_mismatch)</td>" in page
    assert "<tr><th>status</th><td>held; fault injected: plasma_cleaner rf_mismatch</td>" in page
    assert "<th>kind</th><th>tool</th>" in page
    assert "<td>fault-injected</td><td>plasma_cleaner</td>" in page


def test_the_alarms_heading_counts_alarms_as_tools_does_and_the_wafers_they_failed(
    tmp_path, capsys
):
    """One alarm on a chamber batch of 4 wafers is one failure (`tools` and `alarms` count
    1) recorded for each wafer: the heading read `Alarms (4)` over a row per wafer, four
    alarms by its count; it says it counts one alarm and the four wafers it failed."""
    page = faulted_report(tmp_path, "plasma-clean", "plasma_cleaner:rf_mismatch", lot=4)
    section = page[page.index("<h3>Alarms (1 alarm, 4 wafers)</h3>") :]
    assert section[: section.index("</table>")].count("<td>REFLECTED_POWER") == 4
    capsys.readouterr()
    assert main(["tools", "last", "--db", str(tmp_path / "runs.db"), "--json"]) == 0
    (chamber,) = json.loads(capsys.readouterr().out)["tools"]
    assert chamber["alarms"] == 1


def test_a_wafer_held_before_a_conditions_step_is_reported_with_it_unjudged(tmp_path):
    """A two-process-via wafer held at its laser (a drifting laser) never completes `cure
    resin`, after which three of its conditions are judged: the report had stopped with a
    traceback (`no twin of W01 after step 'cure resin'`, a new user's trial); it is written,
    those conditions named on the map's table as not judged, and why. So is every condition
    of a claim whose steps the wafer did not all complete (its concave portions, where the
    laser held it; its vias' second process, its balls, the product's claims): they had
    counted every site failing on a wafer held before their steps (a tape-substrate panel
    held at its bond, 100 of 100 units failing its seal, its package thickness and its
    dicing, a new user's trial), where the engine judges only wafers that completed the
    method. A condition of claims whose steps are behind the wafer is judged."""
    page = faulted_report(tmp_path, "two-process-via", "laser:power_drift@laser concave portions")
    assert "Wafer <b>W01</b>" in page
    assert page.count("no (judged after cure resin, which W01 did not complete)") == 3
    for claim in ("002:1f", "002:1h", "002:1i", "002:9", "002:6"):
        assert f"no (W01 held before completing the steps of {claim})" in page
    wired = "<td>the interconnects plated to at least 3 um, sound</td>"
    assert f'{wired}<td class="num">8352</td><td class="num">0</td><td>yes</td>' in page


def test_a_claim_of_several_steps_is_judged_on_a_held_wafer_only_once_they_are_all_behind_it(
    tmp_path,
):
    """000:c is carried out by `form terminals` (the studs on the die wafer) and `bond dies`
    (the studs into the panel's holes): a panel held at `form terminals` has no die in its
    holes, and a reviewer found its terminals judged there, every hole failing. Its
    conditions wait for both steps (its claim map names them); 000:a and 000:b, whose steps
    are behind the panel, are judged."""
    page = faulted_report(tmp_path, "tape-substrate", "wire_bonder:wire_break@form terminals")
    assert "no (W01 held before completing the steps of 000:c)" in page
    for judged in ("every hole through the tape, ending on metal", "filler at every hole"):
        assert re.search(f'<td>{judged}[^<]*</td><td class="num">2400</td>', page)


def test_the_lots_wafer_is_mapped_not_the_board_beside_it(tmp_path, capsys):
    """two-process-via records each wafer's board (`BW01`) beside it: the page maps a wafer
    of the lot by default (the board had come first by name, every condition red on it),
    naming where its condition read on the board is mapped; a board asked for is judged by
    the conditions read on it alone (the page had said its twin was not kept, and mapped
    it all the same)."""
    db = str(tmp_path / "runs.db")
    assert main(["run", "two-process-via", "--sim", "--lot", "1", "--quiet", "--db", db]) == 0
    capsys.readouterr()
    out = tmp_path / "r.html"
    assert main(["report", "last", "--db", db, "--out", str(out)]) == 0
    page = out.read_text()
    assert "Wafer <b>W01</b> (of W01, BW01;" in page
    assert "Claim conditions on W01" in page
    assert "on BW01&#x27;s maps (--wafer BW01)" in page
    assert "do not keep" not in page
    assert main(["report", "last", "--db", db, "--out", str(out), "--wafer", "BW01"]) == 0
    page = out.read_text()
    assert "Workpiece <b>BW01</b> beside wafer W01 (of W01, BW01;" in page
    assert "Claim conditions on BW01" in page
    (rows,) = re.findall(
        r"Claim conditions on BW01</h3>\s*<table>.*?<tbody>(.*?)</tbody>", page, re.S
    )
    # the conditions read on the board (its joints), mapped on it, none of the wafer's
    assert rows.count("<tr>") == rows.count("<td>yes</td>") > 0
    assert "a bump on every" not in rows


def test_a_wafer_the_run_does_not_have_is_bad_input(records, run_db, tmp_path, capsys):
    refused = r"has no wafer 'W07'; its wafers: W01, W02 \(did you mean 'W01' or 'W02'\?\)$"
    with pytest.raises(BadInput, match=refused):
        render_report(records, wafer="W07")
    out = tmp_path / "r.html"
    assert main(["report", "last", "--db", str(run_db), "--out", str(out), "--wafer", "W7"]) == 2
    assert capsys.readouterr().err == (
        f"packline: error: run {records.run_id} has no wafer 'W7'; its wafers: W01, W02\n"
    )
    assert not out.exists()


def test_a_station_runs_report_refuses_a_wafer_it_does_not_have(tmp_path, add_run, capsys):
    """A run on real tools has no twin to map, but `--wafer` is still checked as the dry run's
    is (it had written the report as if nothing were wrong), and a unique end of an id names
    its wafer, as `disposition` and `wafer` take it."""
    db, out = tmp_path / "runs.db", tmp_path / "r.html"
    store = RunStore(db)
    wafers = [f"131009-3f5e-W0{n}" for n in range(1, 5)]
    add_run(store, "20261203-131009-3f5e", wafers)
    store.close()
    report = ["report", "last", "--db", str(db), "--out", str(out)]
    assert main([*report, "--wafer", "W99"]) == 2
    assert capsys.readouterr().err == (
        "packline: error: run 20261203-131009-3f5e has no wafer 'W99'; its wafers: "
        f"{', '.join(wafers)}\n"
    )
    assert not out.exists()
    assert main([*report, "--wafer", "W3"]) == 2
    assert capsys.readouterr().err.endswith("-W04 (did you mean 'W03'?)\n")
    assert not out.exists()
    assert main([*report, "--wafer", "W03", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["report"] == str(out)


def test_the_events_say_the_tool_state_changes_they_leave_out(run_db, records, capsys):
    """The report's `Events (29)` and `show`'s list left out the tools' state changes (44
    events in `export` and `show --json`) without a word: both say how many they leave out
    and where they are."""
    kinds = records.events()["kind"]
    states = int((kinds == "tool-state").sum())
    assert states > 0
    said = f"{states} tool state changes not listed"
    section = alarms_section(records)
    assert f"<h3>Events ({len(kinds) - states}; {said})</h3>" in section
    assert "<p>Not listed: the tools&#x27; own states, tool-state events:" in section
    assert main(["show", "last", "--db", str(run_db)]) == 0
    shown = " ".join(capsys.readouterr().out.split())
    assert f"{said} (the tools' own states, tool-state events:" in shown
    assert main(["show", "last", "--db", str(run_db), "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["events"]) == len(kinds)


def test_tools_names_the_bottleneck(run_db, records, capsys):
    assert main(["tools", "last", "--db", str(run_db), "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    best = max(answer["tools"], key=lambda row: row["utilisation"])
    assert answer["bottleneck"] == best["tool"] == "wire_bonder"
    assert answer["clock"] == "simulated time"
    assert main(["tools", "last", "--db", str(run_db)]) == 0
    out = capsys.readouterr().out
    assert f"tool time, run {answer['run_id']} (simulated time)" in out
    assert "bottleneck: wire_bonder (highest utilisation)" in out
    assert "utilisation" in out


def test_a_run_on_a_served_simulated_line_is_not_said_to_be_on_real_tools(tmp_path):
    """A trial's report of a run on a line `packline sim serve` served said `No workpiece twin
    in this run (real tools)`, where `runs` and `show` named the line `simulated-line (sim
    serve)`: the maps section names the line as they do."""
    store = RunStore(tmp_path / "runs.db")
    try:
        served = "name: simulated-line\ncontrol: /tmp/sim/control\ntools: {}\n"
        create_run(store, "r1", ["W01"], station_name="simulated-line", station_yaml=served)
        page = render_report(RunRecords(store, "r1"))
    finally:
        store.close()
    assert "No workpiece twin in this run (it drove simulated-line (sim serve), whose" in page
    assert "real tools" not in page


def test_a_run_on_real_tools_shows_what_the_tools_measured(alarmed_run):
    page = render_report(alarmed_run)
    assert Page(page).sections == list(SECTIONS)
    # no twin: the claim check says what was judged instead, not that the claims hold
    assert "no twin to check the claim conditions on;" in page
    assert "not every condition of the claims" in page
    # named as `runs` names the line: a served simulated line's twin stays in its process (a
    # trial's report had called one `real tools`)
    assert "No workpiece twin in this run (it drove line, whose workpieces" in page
    assert "zone temperature" in page  # the tool's measurement, failing its limits
    assert '<td class="fail">fail</td>' in page
    assert "<td>hot</td>" in page  # the alarm
    assert "oven alarm E1" in page  # why the wafer is held
    assert "Bottleneck: <b>oven</b>" in page
    assert "not listed: the station&#x27;s other tool, unused by this run: saw" in page


def test_a_served_lines_records_are_listed_at_process_time_as_show_lists_them(alarmed_run):
    """A trial's report of a run on a line served 60 x faster than real time listed its
    events by the run clock (wall seconds), where `show` gives process time: the same event
    read `0:00:37` in one and `0:37:13` in the other. On a line served at time x10, W1's
    alarm and measurement at 100 s of the run clock read 0:16:40, the clear at 400 s 1:06:40;
    a run at scale 1 lists the run clock, as before."""
    run_clock = render_report(alarmed_run)
    assert "<th>at (run clock)</th>" in run_clock
    assert "at (process time)" not in run_clock
    alarmed_run.store.update_run("R1", station_yaml="name: line\ntime_scale: 10\ntools: {}\n")
    page = render_report(alarmed_run)
    assert "<th>at (run clock)</th>" not in page
    assert page.count("<th>at (process time)</th>") == 3  # measurements, alarms, events
    for row in ("<td>hot</td>", '<td class="fail">fail</td>', "oven back in service"):
        (listed,) = [line for line in page.split("<tr>") if row in line]
        clock = "1:06:40" if row == "oven back in service" else "0:16:40"
        assert f'<td class="num">{clock}</td>' in listed


def test_an_event_recorded_of_the_stopped_run_says_when_it_was_made(alarmed_run):
    """A trial's report listed a disposition made between sessions at the run clock's end
    alone, where `show` says `[0:16:40 at 08:57:50]`: the report gives the time of day too."""
    store = alarmed_run.store
    made = store.add_stopped_run_event(
        store.run("R1"), "disposition", "W1 scrap by eve: arcing marks", wafer_id="W1"
    )
    page = render_report(alarmed_run)
    (listed,) = [row for row in page.split("<tr>") if "W1 scrap by eve" in row]
    assert f"<td>{moment_text(1000.0, made['wall'])}</td>" in listed
    assert " at " in moment_text(1000.0, made["wall"])


def test_the_dispositions_table_says_when_each_was_decided(alarmed_run):
    """A trial's report listed the operators' dispositions with no time: which came first,
    and whether before or after a session, was left to `show`; and a decision replaced
    before a resume read as made, beside the one carried out."""
    from packline.sequences.engine import Decision, record_disposition

    store = alarmed_run.store
    record_disposition(store, "R1", "W1", Decision.REWORK, "eve", "bake again")
    record_disposition(store, "R1", "W1", Decision.SCRAP, "eve", "arcing marks")
    page = render_report(alarmed_run)
    listed = page[page.index("Dispositions of held wafers (2)") :]
    assert "<th>decided</th><th>held reason</th>" in listed
    for row in store.table("dispositions", "R1"):
        decided = f"<td>W1</td><td>{html.escape(wall_time(row['wall']))}</td>"
        assert f"{decided}<td>oven alarm E1</td><td>{row['decision']}</td>" in listed
    # the rework, which the scrap replaced before any resume, says so
    assert "<th>reason</th><th>replaced by</th>" in listed
    assert "<td>bake again</td><td>scrap by eve: arcing marks</td></tr>" in listed
    assert "<td>arcing marks</td><td></td></tr>" in listed


def test_a_command_an_event_advises_names_the_reports_database(alarmed_run):
    """The report listed a `tool-out-of-service` event's clear without `--db` where `show`
    gave it (a trial pasted it to the default database)."""
    store = alarmed_run.store
    advice = "oven: alarmed; clear it with `packline clear-tool R1 oven --by NAME` once fixed"
    store.add_rows(
        "events",
        [
            {
                "run_id": "R1",
                "session": 1,
                "kind": "tool-out-of-service",
                "tool": "oven",
                "message": advice,
                "t": 120.0,
                "wall": 0.0,
            }
        ],
    )
    page = render_report(alarmed_run)
    told = html.escape(f"`packline clear-tool R1 oven --by NAME --db {store.path}`")
    assert told in page


def test_a_name_two_steps_take_is_a_column_each_in_the_measurement_chart(alarmed_run):
    """The oven's 'zone temperature' at W1's first stage (412 degC) and at a bake (300 degC)
    are two processes: two columns of the chart (they had been one)."""
    store = alarmed_run.store
    (bake,) = store.start_steps([stage_row("oven", "W1", 500.0, use=1, name="bake")])
    store.finish_steps([bake], "completed", 550.0, 0.0, None)
    measured = {"name": "zone temperature", "value": 300.0, "unit": "degC", "low": 20.0}
    where = {"run_id": "R1", "wafer_id": "W1", "step_id": bake, "t": 550.0, "wall": 0.0}
    store.add_rows(
        "measurements", [{**where, **measured, "high": 350.0, "passed": 1, "source": "tool"}]
    )
    charts: dict = {}
    measurements_section(alarmed_run, charts)
    assert list(charts["measurements"].x_range.factors) == [
        "zone temperature at use oven (degC)",
        "zone temperature at bake (degC)",
    ]


def test_a_measurement_without_limits_reads_recorded_not_pass(alarmed_run):
    """Nothing judged a value recorded without limits: its verdict cell reads 'recorded',
    uncoloured (it had read a green 'pass')."""
    where = {"run_id": "R1", "wafer_id": "W1", "step_id": None, "t": 600.0, "wall": 0.0}
    measured = {"name": "zone dwell", "value": 4.99998, "unit": "s", "low": None, "high": None}
    alarmed_run.store.add_rows(
        "measurements", [{**where, **measured, "passed": 1, "source": "tool"}]
    )
    section = measurements_section(alarmed_run, {})
    assert (
        '<td>zone dwell</td><td class="num">5</td><td>s</td><td class="num"></td>'
        '<td class="num"></td><td>recorded</td>' in section
    )
    assert '<td class="fail">fail</td>' in section  # the zone temperature, judged


def test_the_measurement_table_names_the_step_that_took_each(page, records):
    """A measurement is recorded as its step ends, the instant the next steps start: the
    table names its step rather than leave its time to point at those, by the name a reader
    knows it by (`form bumps`, not the records' key `form bumps#0`)."""
    steps = records.steps().set_index("id")["name"]
    measured = records.measurements()
    assert not measured.empty
    for row in measured.to_dict("records"):
        cells = [row["wafer_id"], steps[row["step_id"]], row["name"]]
        assert "".join(f"<td>{html.escape(c)}</td>" for c in cells) in page


def test_a_low_limit_the_value_had_to_pass_reads_as_one_in_the_measurement_table(reflowed_db, page):
    """A reflow's peak had to pass the balls' liquidus, not reach it (decision 0129): its low
    limit reads `> 314` in the table, and the text above it says what that means; a limit
    the value may reach, the time above the liquidus's 20 s, reads as it did, and the text
    of a run with none to pass (`page`'s) says nothing of them."""
    store = RunStore(reflowed_db, create=False)
    try:
        reflowed = render_report(RunRecords(store, store.resolve_run("last")))
    finally:
        store.close()
    cell = '</td><td class="num">[^<]*</td><td>{unit}</td><td class="num">{low}</td>'
    assert re.search("<td>reflow peak" + cell.format(unit="degC", low="&gt; 314"), reflowed)
    assert re.search("<td>time above liquidus" + cell.format(unit="s", low="20"), reflowed)
    assert "A low limit written &gt; L is one the value had to pass, not reach" in reflowed
    assert "A low limit written" not in page


def test_a_trace_across_three_decades_is_drawn_on_a_log_axis():
    """A chamber pumped from atmosphere to 100 mTorr: on a linear axis the process and its
    limits lie flat at zero."""
    from bokeh.models import LinearScale, LogScale

    from packline.records.figures import trace_panel

    samples = pd.DataFrame(
        {
            "t": [0.0, 60.0, 120.0, 0.0, 60.0, 120.0],
            "name": ["pressure"] * 3 + ["rf_power"] * 3,
            "unit": ["mTorr"] * 3 + ["W"] * 3,
            "value": [760_000.0, 200.0, 100.0, 0.0, 300.0, 300.0],
        }
    )
    grid = trace_panel("plasma_cleaner", samples, {})
    plots = {plot.title.text: plot for plot, _, _ in grid.children}
    assert isinstance(plots["plasma_cleaner: pressure (mTorr)"].y_scale, LogScale)
    assert isinstance(plots["plasma_cleaner: rf_power (W)"].y_scale, LinearScale)


def test_a_maps_long_title_is_wrapped_to_its_width_not_cut():
    """A new user's maps read `after laser concave portions#0: openings.layers[` on one line,
    cut off at the map's edge: the title is wrapped to `MAP_TITLE_CHARACTERS` a line."""
    from packline.records.figures import MAP_TITLE_CHARACTERS, site_maps

    sites = pd.DataFrame(
        {"site": [0, 1], "unit": [0, 0], "x_mm": [0.0, 1.0], "y_mm": [0.0, 1.0], "left": [2.0, 6.0]}
    )
    title = "after laser concave portions#0: openings.layers[0].stages[0].left_um"
    ((plot, _, _),) = site_maps(sites, [(title, "left")], [], ("pad", "die")).children
    lines = plot.title.text.split("\n")
    assert lines == ["after laser concave portions#0:", "openings.layers[0].stages[0].left_um"]
    assert all(len(line) <= MAP_TITLE_CHARACTERS for line in lines)


def test_hovering_a_site_names_it_and_its_unit_as_the_claim_check_names_its_worst_site():
    """A new user could not find a margin's `(W01 site 1092)` on the report's maps, whose
    hover gave x and y alone: every map's hover names the site and its unit by number, in
    the workpiece's words (a wafer's pad and die), a failing condition's map too."""
    from bokeh.models import HoverTool

    from packline.records.claimsites import ConditionSites
    from packline.records.figures import site_maps

    sites = pd.DataFrame(
        {"site": [0, 1, 2], "unit": [0, 0, 1], "x_mm": [0.0, 1.0, 2.0], "y_mm": [0.0, 1.0, 2.0]}
    ).assign(um=[2.0, 6.0, 4.0])
    failing = ConditionSites("001:1b", "tips project", np.ones(3, bool), np.array([1, 0, 1], bool))
    grid = site_maps(sites, [("height", "um")], [failing], ("pad", "die"))
    (height, _, _), (red, _, _) = grid.children
    for plot in (height, red):
        (hover,) = [tool for tool in plot.tools if isinstance(tool, HoverTool)]
        assert hover.tooltips[0] == ("pad (die)", "@site (@unit)")
    source = height.renderers[0].data_source
    assert list(source.data["site"]) == [0, 1, 2]
    assert list(source.data["unit"]) == [0, 0, 1]


def test_a_yes_or_no_map_is_two_colours_not_a_scale():
    """A new user's board maps of `dies.seated` showed a 0-1 colour scale: a yes/no layer is
    drawn in two colours, named in its title, with no colour bar; a measured one keeps its
    scale and bar."""
    from bokeh.models import ColorBar

    from packline.records.figures import NO_COLOUR, YES_COLOUR, site_maps

    sites = pd.DataFrame(
        {
            "site": [0, 1],
            "unit": [0, 0],
            "x_mm": [0.0, 1.0],
            "y_mm": [0.0, 1.0],
            "seated": [True, False],
            "um": [2.0, 6.0],
        }
    )
    grid = site_maps(sites, [("seated", "seated"), ("height", "um")], [], ("site", "unit"))
    (seated, _, _), (height, _, _) = grid.children
    assert seated.title.text == "seated (yes: blue, no: grey)"
    assert seated.renderers[0].glyph.fill_color.transform.palette == [NO_COLOUR, YES_COLOUR]
    assert not [item for item in seated.right if isinstance(item, ColorBar)]
    assert [item for item in height.right if isinstance(item, ColorBar)]


def test_a_tools_alarms_are_marked_on_its_traces():
    """The traces had not shown when an alarm latched: each of the tool's alarm times is a
    solid vertical line on every chart of its traces, at its run clock minute."""
    from bokeh.models import Span

    from packline.records.figures import ALARM_COLOUR, trace_panel

    samples = pd.DataFrame(
        {
            "t": [0.0, 60.0, 120.0, 0.0, 60.0, 120.0],
            "name": ["pressure"] * 3 + ["rf_reflected"] * 3,
            "unit": ["mTorr"] * 3 + ["W"] * 3,
            "value": [200.0, 200.0, 200.0, 5.0, 80.0, 0.0],
        }
    )
    panel = trace_panel("plasma_cleaner", samples, {}, alarms_t=[90.0])
    for plot, _, _ in panel.children:
        marks = [s for s in plot.center if isinstance(s, Span) and s.dimension == "height"]
        assert [(s.location, s.line_color) for s in marks] == [(1.5, ALARM_COLOUR)]
    unmarked = trace_panel("plasma_cleaner", samples, {})
    assert not any(isinstance(s, Span) for plot, _, _ in unmarked.children for s in plot.center)


def test_every_confirmation_asked_is_in_the_report_answered_or_not(asked_run):
    """The report's confirmations were the answered ones alone: the one the run was
    terminated at, unanswered, which is what an auditor looks for, was not there. Every one
    asked has its row, its outcome in words, and the heading counts those nobody answered:
    no operator was there for one, the run stopped while the other waited."""
    page = render_report(asked_run)
    section = page[page.index("<h3>Operator confirmations (3, 2 unanswered)</h3>") :]
    section = section[: section.index("</table>")]
    rows = re.findall(r"<tr>(.*?)</tr>", section)[1:]
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in rows]
    assert [(row[3], row[4]) for row in cells] == [
        ("W1 on the oven&#x27;s tray", "confirmed by ana, answered at the terminal"),
        ("W1 seated", "declined: no operator was there to answer it"),
        (
            "W1 taken off the oven",
            "unanswered: the run was terminated (terminate requested by bo)",
        ),
    ]
    assert [row[0] for row in cells] == ["0:01:00", "0:02:30", "0:15:00"]  # when each ended
    # each asked, in the events, says what became of it, as `show` lists it (its status had
    # been empty, as if nobody had answered)
    events = page[page.index("<h3>Events (") :]
    asked = [
        re.findall(r"<td[^>]*>(.*?)</td>", row)
        for row in re.findall(r"<tr>(.*?)</tr>", events)
        if "confirmation-asked" in row
    ]
    assert [(row[0], row[5]) for row in asked] == [
        ("0:01:00", "confirmed by ana, answered at the terminal"),
        ("0:02:30", "declined: no operator was there to answer it"),
    ]


def test_the_confirmations_say_in_words_who_answered_and_how(alarmed_run):
    """The report's confirmations table read `confirmed 1` (the records' value): each answer
    says in words who gave it and how, as `show` does, at the step that asked it."""
    where = {"run_id": "R1", "wafer_id": "W1", "wall": 0.0, "t": 50.0, "prompt": "W1 seated"}
    step = alarmed_run.steps()["id"].iloc[-1]
    alarmed_run.store.add_rows(
        "confirmations",
        [
            {
                **where,
                "step_id": int(step),
                "confirmed": 1,
                "by": "ana (in advance, --confirmed-by)",
            },
            {**where, "step_id": None, "confirmed": 0, "by": "no operator"},
        ],
    )
    page = render_report(alarmed_run)
    section = page[page.index("<h3>Operator confirmations (2, 1 unanswered)</h3>") :]
    section = section[: section.index("</table>")]
    assert "<th>answer</th>" in section
    assert "<th>confirmed</th>" not in section
    assert "<td>confirmed by ana in advance (--confirmed-by ana)</td>" in section
    assert "<td>declined: no operator was there to answer it</td>" in section
    assert "<td>use oven</td>" in section  # the step that asked it


async def test_a_stage_a_resume_passed_is_drawn_where_it_was_done_and_marked_passed(tmp_path):
    """bump-seal-clean, a lot of 2, terminated as W02 starts its lamination and resumed: the
    resume passes W01's bonder and laminator stages and W02's bonder stage, done in session 1
    (decision 0122). The Gantt chart drew each pass, and every step in it, as bars of no
    width at the resume's time, as if the wafer had been on the tool then: each stage's bar
    is session 1's, and each pass a mark on its tool naming when it was done."""
    from bokeh.models import GlyphRenderer, HBar, Scatter

    from packline.records.figures import gantt
    from packline.records.tooltime import tool_intervals
    from packline.sequences.engine import open_resume

    from ..sequences.engine.test_wafer import lot_of
    from ..sequences.helpers import stopped_at

    store = RunStore(tmp_path / "runs.db")
    run_id = await stopped_at(store, lot_of(2), "load on laminator", wafer="W02")
    async with open_resume(store, run_id) as resumed:
        assert await resumed.run() == "completed"
    records = RunRecords(store, run_id)
    chart = gantt(tool_intervals(records), records.steps())
    drawn = [r for r in chart.renderers if isinstance(r, GlyphRenderer)]
    bars = [r.data_source.data for r in drawn if isinstance(r.glyph, HBar) and r.glyph.height < 0.9]
    (marks,) = [r.data_source.data for r in drawn if isinstance(r.glyph, Scatter)]
    store.close()
    assert all("skipped" not in list(bar["status"]) for bar in bars)
    stage_bars = list(zip(bars[0]["wafer_id"], bars[0]["label"], bars[0]["session"], strict=True))
    assert ("W01", "use wire_bonder", 1) in stage_bars
    assert ("W01", "use wire_bonder", 2) not in stage_bars
    passed = list(zip(marks["wafer_id"], marks["label"], marks["done"], strict=True))
    assert [(wafer, label) for wafer, label, _ in passed] == [
        ("W01", "use wire_bonder"),
        ("W01", "use laminator"),
        ("W02", "use wire_bonder"),
    ]
    assert all(done.startswith("in session 1, ") for _, _, done in passed)
    assert set(marks["why"]) == {"completed before: passed without taking its tool"}


def _recipe_part(page: str) -> str:
    """The recipe section's opening, before its folded texts."""
    start = page.index('<section id="recipe">')
    return page[start : page.index("<details>", start)]


def test_the_recipe_section_opens_with_what_differs_from_the_shipped_recipe(tmp_path):
    """The recipe section held the recipe whole, folded, where `show` names what differs from
    the shipped recipe: it opens with the same comparison, each value beside the shipped one,
    read from the records (the recipe file deleted since is compared too), the texts still
    folded below it."""
    db = str(tmp_path / "runs.db")
    shipped = Path("sequences/recipes/plasma-clean.yaml").read_text(encoding="utf-8")
    changed = tmp_path / "longer.yaml"
    changed.write_text(shipped.replace("time_s: 60 s", "time_s: 90 s"), encoding="utf-8")
    for recipe in (["--recipe", str(changed)], []):  # the file's, then the default
        assert main(["run", "plasma-clean", "--sim", *recipe, "--quiet", "--db", db]) == 0
    changed.unlink()
    store = RunStore(Path(db), create=False)
    try:
        edited, as_shipped = (
            render_report(RunRecords(store, run["id"])) for run in store.runs()[::-1]
        )
    finally:
        store.close()
    opening = _recipe_part(edited)
    assert f"{changed}: 1 value differs from default recipe plasma-clean.yaml</p>" in opening
    assert "<li>steps.0.time_s: 90 s (default recipe plasma-clean.yaml: 60 s)</li>" in opening
    start = edited.index('<section id="recipe">')
    folded = [attrs for tag, attrs in Page(edited[start:]).tags if tag == "details"]
    assert folded == [{}, {}]
    assert "default recipe plasma-clean.yaml: as shipped</p>" in _recipe_part(as_shipped)
    assert "<li>" not in _recipe_part(as_shipped)


def test_a_run_of_a_method_this_release_lacks_gets_its_recipe_section_saying_so(tmp_path):
    """A run of a method this release does not have has no shipped recipe to be read
    against: its report still comes, the recipe section saying why it is not compared."""
    store = RunStore(tmp_path / "runs.db")
    try:
        create_run(store, "r1", ["W01"], method="retired-method", recipe_text="a: 1\n")
        page = render_report(RunRecords(store, "r1"))
    finally:
        store.close()
    opening = _recipe_part(page)
    assert "not compared with a shipped recipe: this release has no method retired-method" in (
        opening
    )
    assert "recipe shown as recorded, by its names then: unknown method" in opening
    assert "a: 1" in page[page.index('<section id="recipe">') :]


def test_a_dry_run_of_a_method_this_release_lacks_gets_its_maps_saying_why_unjudged(tmp_path):
    """A dry run's maps judge the claim's conditions, which its method states: a dry run of a
    method this release does not have got no report at all (BadInput from the conditions).
    Its maps are drawn, saying why its conditions are not mapped."""
    db = tmp_path / "runs.db"
    assert main(["run", "bump-seal-clean", "--sim", "--lot", "1", "--quiet", "--db", str(db)]) == 0
    store = RunStore(db)
    try:
        (run,) = store.runs()
        with store.transaction() as records:
            records.execute("UPDATE runs SET method = 'retired-method'")
        page = render_report(RunRecords(store, run["id"]))
    finally:
        store.close()
    assert (
        "Not mapped: this release cannot state the claim's conditions for the run's recorded "
        "recipe (unknown method &#x27;retired-method&#x27;"
    ) in page


def test_the_claim_checks_worst_site_is_named_where_it_is_and_diff_compares_figures(
    tmp_path, capsys, monkeypatch
):
    """Each margin of the claim check ends with where its worst site is, the wafer and its
    pad (decision 0127), in the run's summary, `show` and the report alike; `diff` compares
    the figures alone (two runs' worst sites lie where their draws put them)."""
    monkeypatch.setenv("COLUMNS", "400")  # a table's cell on one line
    db = str(tmp_path / "runs.db")
    run = ["run", "sprout-bump-csp", "--sim", "--lot", "1", "--db", db]
    assert main(run) == 0
    summary = capsys.readouterr().out
    found = r"smallest tip projection [^│]*? to spare \(W01 (pad \d+ on die \d+)\)"
    projection = re.search(found, summary)
    assert projection is not None
    pad = projection.group(1)
    assert main(["show", "last", "--db", db]) == 0
    assert f"to spare (W01 {pad})" in capsys.readouterr().out
    out = tmp_path / "r.html"
    assert main(["report", "last", "--db", db, "--out", str(out)]) == 0
    assert f"to spare (W01 {pad})</td>" in out.read_text()
    assert main([*run, "--quiet"]) == 0
    capsys.readouterr()
    assert main(["diff", "last", "last", "--json", "--db", db]) == 0
    assert "(W01 pad" not in capsys.readouterr().out


def test_a_claim_check_of_the_wafers_that_completed_names_the_others(run_db, tmp_path):
    """A new user read the page's `Claim check passed` of a lot whose second wafer was held
    as the lot's pass; it says, as the command line does, that it judged the wafers that
    completed only, and names the others."""
    db = tmp_path / "runs.db"
    shutil.copy(run_db, db)
    store = RunStore(db, create=False)
    try:
        records = RunRecords(store, store.resolve_run("last"))
        assert 'Claim check <span class="pass">passed</span>: each' in claims_section(
            records, store.run(records.run_id)
        )
        store.update_wafer(records.run_id, "W02", status="held", reason="oven alarm E1")
        page = claims_section(records, store.run(records.run_id))
    finally:
        store.close()
    assert (
        'Claim check <span class="pass">passed</span> for the wafers that completed only '
        "(not checked, did not complete: W02): each"
    ) in page
