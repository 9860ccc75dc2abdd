"""What a run's recorded station says of itself, read from its YAML as recorded (a run of an
earlier release included, whose station today's parser might refuse): its time scale and its
tools. The station as a whole, parsed, is `launch.recorded_station`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, overload

import yaml


def time_scale_of(run: Mapping[str, Any]) -> float:
    """How many times faster than process time a recorded run's clock passed: 1 for a dry run
    (simulated process time), the station's `time_scale` for a served line."""
    if run["simulated"]:
        return 1.0
    return float(_station(run).get("time_scale", 1.0))


@overload
def process_time(seconds: float, time_scale: float) -> float: ...
@overload
def process_time(seconds: float | None, time_scale: float) -> float | None: ...
def process_time(seconds: float | None, time_scale: float) -> float | None:
    """`seconds` of a run's clock as process time on its line, the line served at
    `time_scale` (`time_scale_of`): 1 for a dry run, whose clock is simulated process time,
    and for real tools, whose wall clock it is; a line served 60 x faster than real time ran a
    minute of its process in each second of the run's clock. None (no time) stays None. How
    `show`, the summary, the report and `diff` put a served run beside a dry run."""
    return None if seconds is None else seconds * time_scale


def clock_label(run: Mapping[str, Any]) -> str:
    """Which clock a recorded run's times are on, as a table of them names it: `simulated
    time` (a dry run), `wall clock` (a station), and for a line served faster than real time
    `wall clock; the line's process time ran 60 x as fast` (its tools' time per state is the
    controller's wall time, 1/60 of their process time)."""
    if run["simulated"]:
        return "simulated time"
    scale = time_scale_of(run)
    if scale == 1.0:
        return "wall clock"
    return f"wall clock; the line's process time ran {scale:g} x as fast"


#: The line of a dry run, as `line_text` names it: the bundled simulated line `--sim` starts in
#: the run's own process (docs/engine.md, *Dry runs and simulated time*).
DRY_RUN_LINE = "in-process sim"
#: What `line_text` adds to the name of a station that is a simulated line another process
#: serves (`packline sim serve`).
SERVED_LINE = " (sim serve)"


def line_text(run: Mapping[str, Any]) -> str:
    """The line a recorded run drove, as `runs` (its `line` column), `show`, `wafer` and the
    report name it: a dry run's `in-process sim` (`--sim`: the bundled simulated line in the
    run's own process; short, so `runs` fits a terminal); a station by its name, and one that
    is a simulated line another process serves saying so, `simulated-line (sim serve)` (its
    station file names the line's `control:` socket, which real tools' lack). Both simulated
    lines call themselves `simulated-line`: a dry run read `simulated` beside a run on a served
    line that read `simulated-line`, as if one kind of run were named two ways."""
    if run["simulated"]:
        return DRY_RUN_LINE
    if _station(run).get("control"):
        return f"{run['station_name']}{SERVED_LINE}"
    return str(run["station_name"])


def recorded_tools(run: Mapping[str, Any]) -> dict[str, Any]:
    """The tools of the station `run` (a runs row) drove, by name, as recorded."""
    return dict(_station(run).get("tools") or {})


def _station(run: Mapping[str, Any]) -> dict[str, Any]:
    return yaml.safe_load(run["station_yaml"]) or {}
