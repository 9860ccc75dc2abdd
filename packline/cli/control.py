"""Orders to a run another process drives (`pause`, `terminate`, `abort`, `clear-tool`) and
the decision for a held wafer (`disposition`)."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from packline.sequences.engine.clearances import (
    check_tool,
    record_clearance,
    refuse_in_service,
)
from packline.sequences.engine.control import CLEAR_TOOL, Order
from packline.sequences.engine.dispositions import (
    Decision,
    after_a_decision,
    disposition_command,
    record_disposition,
    resume_command,
    undecided_wafers,
)
from packline.sequences.engine.errors import BadInput
from packline.sequences.engine.left_on_tools import scrapped_on_a_tool
from packline.sequences.engine.liveness import is_alive, shown_status
from packline.sequences.engine.method import get_method
from packline.sequences.engine.plan import dry_run_release_warning
from packline.sequences.engine.records import RunStore, db_option

from .output import EXIT_OK, open_store, print_json
from .parser import add_by, add_common, add_run_ref, ordered_by


def _driven_run(store: RunStore, ref: str, otherwise: str) -> str:
    """The id of run `ref`, which a live process must be driving; else BadInput saying so
    and what that means (`otherwise`)."""
    run_id = store.resolve_run(ref)
    run = store.run(run_id)
    if not is_alive(run):
        raise BadInput(
            f"run {run_id} is not being driven by any process "
            f"(status {shown_status(run)}); {otherwise}"
        )
    return run_id


def refuse_while_faulted(run: dict[str, Any], tool: str, db: str | Path) -> None:
    """Refuse a clear of `tool` of `run` (a runs row of database `db`) while the served
    simulated line the run drives (its station's `control:` socket) says the tool still
    suffers a fault, as an operator's console reads a tool's fault before it takes a clear:
    cleared, it would be back in service to alarm again on the wafers it runs; the refusal
    names the `sim fault --clear` that repairs it, complete with `--db` (it finds the run in
    `db`). A line that cannot be asked (stopped, or real tools: no socket) is not: a clear is
    then the operator's word, and the recovery that follows it (the resume's, or the run's
    own for a foreign workpiece) the check."""
    from packline.sequences.engine.launch import recorded_station
    from packline.sim_instruments.servers.control import (
        ControlError,
        ControlUnreachable,
        request_control,
    )

    from .sim import CONTROL_TIMEOUT_S

    control = recorded_station(run).control
    if control is None:
        return
    asked = {"command": "faults", "tool": tool}
    try:
        faults = asyncio.run(request_control(Path(control), asked, CONTROL_TIMEOUT_S))["faults"]
    except ControlUnreachable:
        return  # not served any more (a line served again starts without faults)
    except ControlError as refused:  # asked and not told: the clear is not vouched for
        raise BadInput(
            f"run {run['id']}: the served line would not say whether {tool} suffers a fault "
            f"({refused}); nothing cleared"
        ) from None
    if faults:
        suffered = "; ".join(f"{fault} ({what})" for fault, what in faults.items())
        repairs = "; ".join(
            f"`packline sim fault {tool} {fault} --run {run['id']} --clear{db_option(db)}`"
            for fault in faults
        )
        raise BadInput(
            f"run {run['id']}: {tool} still suffers {suffered} on the served line: cleared, it "
            f"would be back in service to alarm again on the wafers it runs; repair it first "
            f"({repairs}), then clear it; nothing cleared"
        )


def cmd_clear_tool(args: argparse.Namespace) -> int:
    """Clear a tool of a run: ordered from the process that drives it, or recorded at once
    for a stopped run, for its resume to read (`clearances.record_clearance`); refused for a
    tool the run does not have, before the line is asked anything about it, for a tool the
    records say is in service (`clearances.refuse_in_service`: of a running run too, whose
    order would clear nothing), and while a served simulated line says the tool still
    suffers a fault (`refuse_while_faulted`)."""
    store = open_store(args, create=False)
    try:
        run_id = store.resolve_run(args.run)
        check_tool(store.run(run_id), args.tool)
        if is_alive(store.run(run_id)):  # a stopped run's clear checks it as it records it
            refuse_in_service(store, run_id, args.tool)
        refuse_while_faulted(store.run(run_id), args.tool, store.path)
        recorded = record_clearance(store, run_id, args.tool, args.by)
        if recorded is None:
            order = Order(CLEAR_TOOL, by=args.by, tool=args.tool)
            store.post_control(run_id, order.text(), time.time())
        db = db_option(store.path)
        resume = resume_command(store, run_id, db_option=db)
        if undecided := undecided_wafers(store, run_id):
            resume = (  # a resume goes on without them, and leaves them held
                f"{', '.join(undecided)} held: a resume runs them only once each is decided "
                f"({disposition_command(run_id, db_option=db)}); then {resume}"
            )
    finally:
        store.close()
    if args.json:
        print_json(
            {"run_id": run_id, "requested": "clear-tool", "tool": args.tool, "by": args.by}
            if recorded is None
            else {"run_id": run_id, "recorded": "clear-tool", "tool": args.tool, "by": args.by}
        )
    elif recorded is None:
        print(
            f"clear-tool {args.tool} requested for run {run_id} by {args.by}; the run records "
            f"it as a tool-cleared event (packline show {run_id}{db})"
        )
    else:
        print(f"{recorded['message']} (recorded in run {run_id}; {resume})")
    return EXIT_OK


def cmd_control(args: argparse.Namespace) -> int:
    """Order a run another process drives to pause, terminate or abort, in the name of `--by`
    (default: the login name), which the run's event records and its live view shows."""
    args.by = ordered_by(args)
    store = open_store(args, create=False)
    try:
        run_id = _driven_run(store, args.run, f"nothing to {args.command}")
        store.post_control(run_id, Order(args.command, by=args.by).text(), time.time())
    finally:
        store.close()
    if args.json:
        print_json({"run_id": run_id, "requested": args.command, "by": args.by})
    else:
        print(f"{args.command} requested for run {run_id} by {args.by}")
    return EXIT_OK


def cmd_disposition(args: argparse.Namespace) -> int:
    store = open_store(args, create=False)
    try:
        row = record_disposition(
            store, args.run, args.wafer_id, Decision(args.decision), args.by, args.reason
        )
        renamed_steps = get_method(store.run(row["run_id"])["method"]).renamed_steps
        warning = (
            dry_run_release_warning(store, row["run_id"], row["wafer_id"], renamed_steps)
            if row["decision"] == Decision.RELEASE
            else None
        )
        on_tool = (
            scrapped_on_a_tool(store, row["run_id"], row["wafer_id"], renamed_steps)
            if row["decision"] == Decision.SCRAP
            else None
        )
        after = after_a_decision(
            store, row["run_id"], Decision(row["decision"]), resume_named=on_tool is not None
        )
    finally:
        store.close()
    if warning is not None:
        print(f"packline: warning: {warning}", file=sys.stderr)
    # a decision that replaces one still pending says so, naming who made that one
    replaces = f" (replaces {row['replaces']})" if "replaces" in row else ""
    if args.json:  # a script reading the answer is told the warning, and the tool, in it
        told: dict[str, Any] = {"warning": warning} if warning is not None else {}
        if on_tool is not None:
            told["on_tool"] = {key: value for key, value in on_tool.items() if key != "text"}
        print_json(row | told | {"next": after})
    elif row["decision"] == Decision.SCRAP:
        still = f"; {on_tool['text']}" if on_tool is not None else ""
        print(
            f"wafer {row['wafer_id']} of run {row['run_id']} scrapped by {row['by']}{replaces}"
            f"{still}" + (f"; {after}" if after else "")
        )
    else:
        print(
            f"wafer {row['wafer_id']} of run {row['run_id']}: {row['decision']} by {row['by']}"
            f"{replaces}; {after}"
        )
    return EXIT_OK


def _control_arguments(control: argparse.ArgumentParser) -> None:
    add_common(control)
    add_run_ref(control)
    add_by(control, "who orders it, recorded in the run's event")
    control.set_defaults(handler=cmd_control)


def _clear_tool_arguments(clear: argparse.ArgumentParser) -> None:
    add_common(clear)
    add_run_ref(clear)
    clear.add_argument("tool", help="the tool's name in the station file")
    add_by(clear, "who cleared it (recorded)", required=True)
    clear.set_defaults(handler=cmd_clear_tool)


def _disposition_arguments(disposition: argparse.ArgumentParser) -> None:
    add_common(disposition)
    add_run_ref(disposition)
    disposition.add_argument(
        "wafer_id",
        metavar="WAFER",
        help="the held wafer: its id as `packline show RUN` lists it, or a unique end of it (W03)",
    )
    disposition.add_argument(
        "decision",
        choices=[d.value for d in Decision],
        help="release: it goes on after the held step; rework: the held step is done again; "
        "scrap: it goes no further",
    )
    add_by(disposition, "who decides (recorded)", required=True)
    disposition.add_argument(
        "--reason", required=True, help="why: what was seen on the wafer (recorded)"
    )
    disposition.set_defaults(handler=cmd_disposition)


ARGUMENTS: dict[str, Callable[[argparse.ArgumentParser], None]] = {
    "pause": _control_arguments,
    "terminate": _control_arguments,
    "abort": _control_arguments,
    "clear-tool": _clear_tool_arguments,
    "disposition": _disposition_arguments,
}
