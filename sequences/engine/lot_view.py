"""Drawing the live view of a lot (`live_view.py`) within the terminal's width and height.

The frame is a title line with what the run is doing (running, PAUSED and why, terminating),
a table, a line counting the wafers by state (while the run connects to its tools, before any
wafer is told, no table and the lot its command gives), and the footer: the run clock and the
time the lot has left, with its ETA and what that is based on. The table has a row per wafer, its
progress bar against the wafer's own steps in the line's schedule, followed by a line per
tool out of service; when those rows do not fit the terminal's height it has a row per tool
instead (which wafers are on it, or why it is out of service), followed by the held wafers as
far as they fit. The footer is never cut off: when it is wider than the terminal the run
clock moves up beside the counts (a lot of 25 fits 100 x 30 with a scaled schedule's basis),
and failing that it takes a second line; a frame taller than the terminal would be cropped
from the bottom, so the layout is chosen by the height it takes.
"""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.text import Text

from packline.rendering import DataTable

from .eta import CONNECTING, eta_text
from .lot_state import LotState, WaferState
from .progress import clock_text
from .recorded_station import process_time
from .wafer_status import FINAL, UNDER_WAY

STYLES = {
    "completed": "green",
    "held": "bold red",
    "terminated": "yellow",
    "scrapped": "red",
    "running": "cyan",
    "waiting": "blue",
    "paused": "bold yellow",
    "queued": "dim",
}
ORDER = (*UNDER_WAY, *FINAL)
BAR_WIDTH = 12
#: The lines of the wafer frame besides its rows: title, table header, counts, footer.
WAFER_FRAME_LINES = 4
#: What parts the run clock from what stands beside it on a line.
FOOTER_GAP = "   "
#: The narrowest a table's widest column (a wafer's step, a tool's wafers) is made.
MIN_FLEX = 8


def render_lot(
    console: Console, state: LotState, now: float, width: int, height: int, time_scale: float
) -> RenderableType:
    """The frame for a terminal of `width` x `height`: the wafer table if it fits (one line
    is the cursor's), else the tool table; each wafer's time on the line on the process clock
    of its line, served at `time_scale` (`_wafer_table`)."""
    with state.lock:
        top, (counts, bottom) = _title(state, width), _footer(state, now, width)
        clears = _clear_lines(state, width)
        down = [*_out_of_service_lines(state, width), *clears]
        if len(state.wafers) + len(down) + WAFER_FRAME_LINES < height:  # else not worth drawing
            # no wafer told yet (the run connects to its tools): no table of none
            table = [_wafer_table(state, now, width, time_scale)] if state.wafers else []
            frame = Group(top, *table, counts, *down, bottom)
            if _height(console, frame, width) < height:
                return frame
        tools = _tool_table(state, width)
        room = height - 1 - _height(console, Group(top, tools, counts, *clears, bottom), width)
        return Group(top, tools, counts, *clears, *_held_lines(state, room, width), bottom)


def _height(console: Console, renderable: RenderableType, width: int) -> int:
    return len(console.render_lines(renderable, console.options.update(width=width), pad=False))


def _line(text: Text, width: int) -> Text:
    """`text` on one line of `width`: no line of the frame wraps, or the frame's height would
    change unseen."""
    text.no_wrap, text.overflow = True, "ellipsis"
    text.truncate(width, overflow="ellipsis")
    return text


def _title(state: LotState, width: int) -> Text:
    text = Text(state.title, style="bold")
    label = {
        "paused": "PAUSED",
        "terminating": "TERMINATING",
        "aborting": "ABORTING",
        "waiting for a clear": "WAITING FOR A CLEAR",
    }
    if state.finished:
        text.append("  finished", style="bold")
    elif state.run_state in label:
        text.append(f"  {label[state.run_state]}", style=STYLES["paused"])
        if state.run_note:
            text.append(f": {state.run_note}")
    return _line(text, width)


def _footer(state: LotState, now: float, width: int) -> tuple[Text, Text]:
    """The line counting the wafers, and the footer: the run clock and the ETA with its basis,
    on as many lines as it takes (never cut). A footer wider than the terminal (a scaled
    basis names its run and lot) puts the clock after the counts where it fits there, so a
    lot of 25 still fits 30 lines."""
    label = "simulated" if state.simulated else "wall clock"
    clock = f"run clock {clock_text(now)} ({label})"  # across sessions, as the records
    remaining = None if state.estimate is None else state.estimate.remaining_s(now)
    eta = eta_text(remaining, state.schedule_note, state.holding(), simulated=state.simulated)
    counts = _counts(state)
    footer = clock + FOOTER_GAP + eta
    if len(footer) > width >= len(counts) + len(FOOTER_GAP + clock):
        return counts.append(FOOTER_GAP + clock, style="bold"), Text(eta, style="bold")
    return _line(counts, width), Text(footer, style="bold")


def _counts(state: LotState) -> Text:
    """The wafers by status; while the run connects to its tools (`LotState.connecting`), the
    lot it will run, as its command gives it (no wafer is told before it starts, and `0
    wafers` had read as an empty lot), and that it is connecting."""
    shown = [w.shown_status(state.run_state) for w in state.wafers.values()]
    parts = ", ".join(f"{shown.count(s)} {s}" for s in ORDER if s in shown)
    if not state.connecting:
        return Text(f"{len(shown)} wafers: {parts}")
    lot = f" of lot {state.lot_id}" if state.lot_id else ""
    return Text(f"{state.lot_size} wafers{lot}: {parts or 'none started'}; the run is {CONNECTING}")


def _progress(state: LotState, wafer: WaferState) -> Text:
    """The wafer's steps done in the run, in any session (a resumed wafer's earlier ones
    included): a bar against its steps in the schedule and `done/total`, or a count without a
    schedule."""
    total = state.total_steps(wafer)
    if total is None:
        return Text(f"{len(wafer.done)} steps")
    done = total if wafer.status == "completed" else min(len(wafer.done), total)
    filled = round(BAR_WIDTH * done / total) if total else BAR_WIDTH
    bar = Text("━" * filled, style="green" if done == total else "magenta")
    bar.append("━" * (BAR_WIDTH - filled), style="grey23")
    return bar.append(f" {done}/{total}")


def _fitted(width: int, columns: list[tuple[str, int | None]]) -> DataTable:
    """A table of one-line cells within `width`: each column as wide as given, the one given
    None as wide as what is left (at least `MIN_FLEX`)."""
    table = DataTable(*(name for name, _ in columns), box=None, expand=False, pad_edge=False)
    fixed = sum(w for _, w in columns if w is not None) + 2 * (len(columns) - 1)
    for column, (_, given) in zip(table.columns, columns, strict=True):
        column.no_wrap, column.overflow = True, "ellipsis"
        column.width = given if given is not None else max(width - 1 - fixed, MIN_FLEX)
    return table


def _widest(texts: list[str], header: str, most: int | None = None) -> int:
    widest = max([len(header), *map(len, texts)])
    return widest if most is None else min(widest, most)


def _wafer_table(state: LotState, now: float, width: int, time_scale: float) -> DataTable:
    """A row per wafer; its `on line` its time on the line since its first step started on
    the line's process clock, the run clock's times `time_scale` (`process_time`), as the
    summary and `show` give it: on a line served at x60 it had read the run clock's wall time,
    0:00:15 of a wafer the summary then gave 0:15:09."""
    rows = []
    for wafer_id, wafer in state.wafers.items():
        status = wafer.shown_status(state.run_state)
        step = wafer.step()
        end = wafer.stopped_t if wafer.stopped_t is not None else now
        rows.append(
            (
                wafer_id,
                Text(status, style=STYLES.get(status, "")),
                _progress(state, wafer),
                wafer.note if wafer.status in FINAL or step is None else step.name,
                step.tool if step else "",
                ""
                if wafer.started_t is None
                else clock_text(process_time(end - wafer.started_t, time_scale)),
            )
        )
    table = _fitted(
        width,
        [
            ("wafer", _widest([r[0] for r in rows], "wafer")),
            ("status", len("terminated")),
            ("steps", _widest([r[2].plain for r in rows], "steps")),
            ("step", None),
            ("tool", _widest([r[4] for r in rows], "tool", most=16)),
            ("on line", len("10:00:00")),
        ],
    )
    for row in rows:
        table.add_row(*row)
    return table


def _tool_table(state: LotState, width: int) -> DataTable:
    rows = []
    for tool, out_of_service in state.tools.items():
        on = {
            wafer_id: wafer.step()
            for wafer_id, wafer in state.wafers.items()
            if any(step.tool == tool for step in wafer.open.values())
        }
        steps = sorted({step.name for step in on.values() if step is not None})
        if out_of_service:
            shown = Text("out of service", style=STYLES["held"])
        else:
            shown = Text("busy" if on else "idle", style=STYLES["running"] if on else "dim")
        wafers = ", ".join(on) if len(on) < 2 else f"{len(on)}: {', '.join(on)}"
        rows.append((tool, shown, wafers, out_of_service or ", ".join(steps)))
    table = _fitted(
        width,
        [
            ("tool", _widest([r[0] for r in rows], "tool")),
            ("state", len("out of service")),
            ("wafers", None),
            ("step", _widest([r[3] for r in rows], "step", most=30)),
        ],
    )
    for row in rows:
        table.add_row(*row)
    return table


def _out_of_service_lines(state: LotState, width: int) -> list[Text]:
    """A line per tool out of service, with why (the wafer table shows no tools)."""
    return [
        _line(Text(f"out of service {tool}: {why}", style=STYLES["held"]), width)
        for tool, why in state.tools.items()
        if why
    ]


def _clear_lines(state: LotState, width: int) -> list[Text]:
    """A line per tool waiting for a clear with the command that clears it, on a line of its
    own: the reason's line is cut to the width, and the command is what an operator needs."""
    return [
        _line(Text(f"clear {tool} with {command}", style=STYLES["held"]), width)
        for tool, command in state.clearing.items()
    ]


def _held_lines(state: LotState, room: int, width: int) -> list[Text]:
    """A line per held wafer with why, in `room` lines (the last says how many more)."""
    held = [
        _line(Text(f"held {w}: {wafer.note}", style=STYLES["held"]), width)
        for w, wafer in state.wafers.items()
        if wafer.status == "held"
    ]
    if len(held) <= room:
        return held
    if room <= 0:
        return []
    return [*held[: room - 1], Text(f"... {len(held) - room + 1} more held (packline show)")]
