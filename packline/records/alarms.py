"""Alarms across runs: per tool, how often it failed, how long it was down, and its MTBF.

An alarm in the records is a tool alarm that failed a step (docs/results.md, the `alarms`
table): each is a **failure** in SEMI E10's sense, an unplanned interruption of the tool's
work, and it happens in productive time (it failed a step the tool was doing). So over the
runs chosen:

* a **failure** is one alarm of a tool at one time (a batch's wafers each record the alarm
  that failed their step: one failure, its `wafers` several);
* an **injected** failure is one a test raised: its alarm followed a fault injected on the
  tool in its run (a dry run's `--fault`, `packline sim fault`; `alarms.injected_fault`,
  decision 0110), not one the tool raised of its own;
* **MTBF** is E10's mean productive time between failures, MTBF(p): the tool's productive
  time (`tooltime`: while a stage held it) summed over the runs, over its own failures (not
  the injected ones: a test's fault says nothing of the tool's rate); none for a tool that
  did not fail of its own (its productive time is then the figure to read);
* **downtime** is its unscheduled downtime summed over the runs (`tooltime`: from the alarm,
  or a recovery that failed, to the `tool-cleared` event that put it back in service, else
  to the run's end): what the runs lost, on their clocks;
* **MTTR** is the mean time to restore of its failures that were **restored** (a clear put
  the tool back in service), each from its alarm to that clear (decision 0064): by the run
  clock for a clear made while the run was driven, by the wall clock for one made while it
  was stopped (the run clock stood still through the repair: such a clear had counted the
  second between the alarm and the run's stop). A failure no clear followed restored
  nothing and is left out. E10's MTTR counts the repair alone; the records know when the
  tool was cleared, not when its repair began, so this is the time to restore, waiting
  included.

Each run's times are its own run clock: simulated seconds in a dry run, wall seconds on a
line (the wall time a session drove the run: it stands still while the run is stopped). A
figure never adds two clocks: a tool's row is one **clock** (`simulated`, `wall`, or for a
line served faster than real time `wall x60`, its scale named, whose process ran that many
times as long as its wall seconds and which real tools' wall seconds never join: `served_clock`),
the runs of that clock and their failures, each restored one counted on the row that holds its
alarm, and a code's row likewise. A row's MTTR is on the clock its restores were timed on
(`mttr_clock`): a dry run's failure cleared while the run was stopped (nobody clears a tool
while its clock jumps) is restored by the wall clock, so its simulated row's MTTR is wall
time, said so, and so is a served line's (its wall seconds, not its process time); a row
whose restores were timed on both clocks has no MTTR, the two never averaged. How many of a
row's restores were timed across a stop is `restored_while_stopped`: their time counts in the
MTTR, by the wall clock, and not in the downtime, which the run clock counts, so the terminal
says the MTTR is the wall clock's there (a line's downtime of 1 s had stood beside its MTTR of
0:30:00, the repair made while the run stood stopped, neither naming its clock).
A run still going counts to its last record. `alarm_history` reads them from the records of
every run started since a date, so the figures read the same in the terminal, in `--json` and
in Python.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from packline.sequences.engine import BadInput, RunStore
from packline.sequences.engine.recorded_station import time_scale_of

from .reader import RunRecords, runs_since
from .tooltime import FAILURE, Window, down_periods, run_window, tool_time

#: The clocks a time is on: a dry run's run clock, and a line's (or a repair's) wall clock.
SIMULATED, WALL = "simulated", "wall"
#: The columns of `AlarmHistory.tools`.
TOOL_COLUMNS = (
    "tool", "clock", "runs", "productive_s", "alarms", "injected", "restored",
    "restored_while_stopped", "downtime_s", "mtbf_s", "mttr_s", "mttr_clock", "last_alarm_wall",
)  # fmt: skip
#: The columns of `AlarmHistory.alarms`.
ALARM_COLUMNS = (
    "tool", "code", "clock", "message", "count", "injected", "wafers", "runs", "downtime_s",
    "first_wall", "last_wall",
)  # fmt: skip


@dataclass(frozen=True)
class AlarmHistory:
    """The alarms of the runs chosen: `tools`, one row per tool and clock (`TOOL_COLUMNS`, the
    tools that failed first, then by name), `alarms`, one row per tool, alarm code and clock
    (`ALARM_COLUMNS`, most frequent first), and the ids of the `runs` read."""

    tools: pd.DataFrame
    alarms: pd.DataFrame
    runs: list[str]


def alarm_history(
    store: RunStore, *, since_wall: float | None = None, tool: str | None = None
) -> AlarmHistory:
    """The alarms, downtime and MTBF of every tool (or of `tool` alone) over the runs of
    `store` started at or after Unix time `since_wall` (see the module docstring). BadInput
    when `tool` is named but no run chosen had it."""
    runs = runs_since(store, since_wall=since_wall)
    times, failures = [], []
    for run in runs:
        records = RunRecords(store, run["id"])
        window = run_window(records)
        clock = SIMULATED if run["simulated"] else served_clock(time_scale_of(records.header()))
        times.append(tool_time(records).assign(run_id=run["id"], clock=clock))
        alarms = run_failures(records, window).assign(run_id=run["id"], clock=clock)
        # a line's run clock is the wall clock while it is driven: only a dry run's is not
        alarms["restore_clock"] = [
            WALL if wall or clock != SIMULATED else clock for wall in alarms["restored_by_wall"]
        ]
        failures.append(alarms)
    used = pd.concat(times, ignore_index=True) if times else pd.DataFrame(columns=["tool", "clock"])
    alarmed = pd.concat(failures, ignore_index=True) if failures else _no_alarms()
    if tool is not None:
        if tool not in set(used["tool"]):
            known = ", ".join(sorted(set(used["tool"]))) or "none"
            raise BadInput(f"--tool {tool}: no run chosen had that tool (their tools: {known})")
        used = used[used["tool"] == tool]
        alarmed = alarmed[alarmed["tool"] == tool]
    return AlarmHistory(
        _per_tool(used, alarmed), _per_code(alarmed), [str(run["id"]) for run in runs]
    )


def run_failures(records: RunRecords, window: Window | None = None) -> pd.DataFrame:
    """The failures of one run, in the order they happened: one row per tool, code and moment
    (`tooltime.FAILURE`: the wafers of a batch each record the alarm that failed their step;
    it is one failure), the columns of its first alarm record (`RunRecords.alarms`) with
    `wafer_ids`, the wafers it failed, in the order recorded, and `wafers`, how many;
    `downtime_s`, how long it kept its tool out of service within `window` (`down_periods`);
    and `restore_s`, its time to restore (decision 0064: from the alarm to the clear that first
    followed it, `restored_by_wall` when that clear was made while the run was stopped), None
    for a failure no clear has followed: one that still stands. `packline alarms` and the
    dashboard read a run's alarms so."""
    down = down_periods(records, window).dropna(subset=["alarm_id"])
    down = down.set_axis(down["alarm_id"].astype(int))
    alarms = records.alarms()
    alarms["downtime_s"] = alarms["id"].map(down["stop_t"] - down["start_t"])
    alarms["restore_s"] = alarms["id"].map(down["restore_s"])
    alarms["restored_by_wall"] = alarms["id"].map(down["restored_by_wall"]).astype(bool)
    failed = alarms.groupby(list(FAILURE), sort=False)["wafer_id"].agg(
        lambda wafers: list(dict.fromkeys(wafers))
    )
    failures = alarms.drop_duplicates(list(FAILURE)).copy()
    failures["wafer_ids"] = [
        failed[key] for key in zip(*(failures[column] for column in FAILURE), strict=True)
    ]
    failures["wafers"] = failures["wafer_ids"].map(len)
    return failures


def served_clock(time_scale: float) -> str:
    """The clock of a line's runs, as a row names it: `wall`, and for a line served faster
    than real time (`time_scale`) `wall x60`, a clock of its own: its wall seconds are a
    sixtieth of its process, never added to real tools' wall seconds."""
    return WALL if time_scale == 1.0 else f"{WALL} x{time_scale:g}"


def _per_tool(used: pd.DataFrame, alarmed: pd.DataFrame) -> pd.DataFrame:
    """A row per tool and clock: its runs of that clock, their productive time, failures,
    downtime and restored failures, with their MTTR on the clock they were timed on
    (`mttr_clock`; none when they were timed on both)."""
    used_on = zip(used["tool"], used["clock"], strict=True)
    alarmed_on = zip(alarmed["tool"], alarmed["clock"], strict=True)
    keys = sorted({(str(tool), str(clock)) for tool, clock in (*used_on, *alarmed_on)})
    rows = []
    for name, clock in keys:
        own = used[(used["tool"] == name) & (used["clock"] == clock)]
        productive = float(own["productive_s"].sum())
        failed = alarmed[(alarmed["tool"] == name) & (alarmed["clock"] == clock)]
        count = len(failed)
        injected = int(failed["injected_fault"].notna().sum())
        restores = failed.dropna(subset=["restore_s"])
        clocks = set(restores["restore_clock"])
        mttr_clock = clocks.pop() if len(clocks) == 1 else None
        rows.append(
            {
                "tool": name,
                "clock": clock,
                "runs": int(own["run_id"].nunique()),
                "productive_s": productive,
                "alarms": count,
                "injected": injected,
                "restored": len(restores),
                "restored_while_stopped": int(restores["restored_by_wall"].sum()),
                "downtime_s": float(own["unscheduled_downtime_s"].sum()),
                "mtbf_s": productive / (count - injected) if count > injected else None,
                "mttr_s": float(restores["restore_s"].mean()) if mttr_clock else None,
                "mttr_clock": mttr_clock,
                "last_alarm_wall": float(failed["wall"].max()) if count else None,
            }
        )
    table = pd.DataFrame(rows, columns=list(TOOL_COLUMNS))
    return table.sort_values(["alarms", "tool"], ascending=[False, True], kind="stable")


def _per_code(alarmed: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (name, code, clock), own in alarmed.groupby(["tool", "code", "clock"], sort=True):
        rows.append(
            {
                "tool": str(name),
                "code": str(code),
                "clock": str(clock),
                "message": str(own.sort_values("wall")["message"].iloc[-1]),
                "count": len(own),
                "injected": int(own["injected_fault"].notna().sum()),
                "wafers": int(own["wafers"].sum()),
                "runs": int(own["run_id"].nunique()),
                "downtime_s": float(own["downtime_s"].sum()),
                "first_wall": float(own["wall"].min()),
                "last_wall": float(own["wall"].max()),
            }
        )
    table = pd.DataFrame(rows, columns=list(ALARM_COLUMNS))
    return table.sort_values(["count", "tool", "code"], ascending=[False, True, True])


def _no_alarms() -> pd.DataFrame:
    return pd.DataFrame(
        columns=[
            "run_id",
            "tool",
            "code",
            "message",
            "wall",
            "injected_fault",
            "wafers",
            "downtime_s",
            "restore_s",
            "restored_by_wall",
            "clock",
            "restore_clock",
        ]
    )
