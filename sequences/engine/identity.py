"""Which tool a session drove: each tool's identity, recorded at connect and checked on resume.

A resumed run may meet its line rewired, a station file pointing at the wrong address, or a
tool swapped for a repaired one. Before anything is sent to a tool, the identity it gave at
connect is compared with the one the run recorded for that tool name: another vendor or model
is refused (`BadInput` naming both); the same model with a new serial number is accepted and
noted (the engine's `tool-replaced` event).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from .errors import BadInput
from .tools import Tool


def identity_row(
    run_id: str,
    session: int,
    tool: Tool,
    driver_name: str,
    sim_options: Mapping[str, float] | None,
) -> dict[str, Any]:
    """The `tools` record of a connected tool, with the options a dry run's command gave it
    (`sim_options`, `--sim-option`: JSON, null where none was given), so that a session's
    records say what the simulated tool was (a grinder whose gauge reads to 0.5 um)."""
    identity = tool.driver.identity
    assert identity is not None, "a connected driver has read its identity"
    return {
        "run_id": run_id,
        "session": session,
        "name": tool.name,
        "role": tool.role,
        "driver": driver_name,
        "address": tool.driver.address,
        "vendor": identity.vendor,
        "model": identity.model,
        "serial_number": identity.serial_number,
        "firmware": identity.firmware,
        "wall": time.time(),
        "sim_options": json.dumps(dict(sim_options)) if sim_options else None,
    }


def sim_options_text(options: Mapping[str, float]) -> str:
    """The options a dry run's command gave a simulated tool, as it gave them:
    'gauge_resolution_um=0.5'; '' for none."""
    return ", ".join(f"{name}={value:g}" for name, value in options.items())


def compare_identity(run_id: str, now: dict[str, Any], before: dict[str, Any] | None) -> str | None:
    """Compare a tool's identity now (an `identity_row`) with the run's last record of it:
    `BadInput` for another vendor or model; a note for a new serial number; else None."""
    if before is None:
        return None  # the tool is new to the run's records (an older schema recorded none)
    was, model = f"{before['vendor']} {before['model']}", f"{now['vendor']} {now['model']}"
    if was != model:
        raise BadInput(
            f"tool {now['name']} at {now['address']} is a {model} (s/n {now['serial_number']}); "
            f"session {before['session']} of run {run_id} drove a {was} there: not resuming "
            "on a different tool (check the station file's address)"
        )
    if before["serial_number"] != now["serial_number"]:
        return (
            f"{now['name']}: {model} s/n {now['serial_number']}, was s/n "
            f"{before['serial_number']} in session {before['session']}"
        )
    return None
