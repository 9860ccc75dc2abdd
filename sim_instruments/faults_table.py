"""The faults each simulated tool kind can suffer, as docs/simulated-line.md tables them.

The table between the page's `<!-- spec:faults -->` markers is rendered from each kind's
simulator (`SimulatedTool.faults`, the fault's name and what it does), so the page a user reads
to pick `packline sim fault TOOL FAULT` or `run --fault TOOL:FAULT` lists every fault there is
(a test fails on a stale one):

    python -m packline.sim_instruments.faults_table docs/simulated-line.md
"""

from __future__ import annotations

import sys
from pathlib import Path

from packline.drivers.registry import TOOL_KINDS
from packline.drivers.specs.pages import render_page, table

#: The name of the page's marked table.
FAULTS_TABLE = "faults"


def faults_table() -> str:
    """Every registered tool kind's simulated faults: kind, fault, what it does."""
    rows = [
        (f"`{kind.name}`", f"`{fault}`", what)
        for kind in TOOL_KINDS.values()
        for fault, what in kind.load_simulator().faults.items()
    ]
    return table(("tool kind", "fault", "what it does"), rows)


if __name__ == "__main__":
    page = Path(sys.argv[1])
    page.write_text(render_page(page.read_text(encoding="utf-8"), {FAULTS_TABLE: faults_table()}))
