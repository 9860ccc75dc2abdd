"""The faults each simulated tool kind can suffer, and the options a user may give it, as
docs/simulated-line.md tables them.

The tables between the page's `<!-- spec:faults -->` and `<!-- spec:tool-options -->` markers
are rendered from each kind's simulator (`SimulatedTool.faults` and `SimulatedTool.options`,
each name and what it does), so the page a user reads to pick `packline sim fault TOOL FAULT`,
`run --fault TOOL:FAULT` or `run --sim-option TOOL:OPTION=VALUE` lists every one there is (a
test fails on a stale one):

    python -m packline.sim_instruments.faults_table docs/simulated-line.md
"""

from __future__ import annotations

import sys
from pathlib import Path

from packline.drivers.registry import TOOL_KINDS
from packline.drivers.specs.pages import render_page, table

#: The name of the page's marked table of faults.
FAULTS_TABLE = "faults"
#: The name of the page's marked table of tool options.
OPTIONS_TABLE = "tool-options"


def faults_table() -> str:
    """Every registered tool kind's simulated faults: kind, fault, what it does."""
    rows = [
        (f"`{kind.name}`", f"`{fault}`", what)
        for kind in TOOL_KINDS.values()
        for fault, what in kind.load_simulator().faults.items()
    ]
    return table(("tool kind", "fault", "what it does"), rows)


def options_table() -> str:
    """Every registered tool kind's options a user may give its simulated tool: kind, option,
    what it sets."""
    rows = [
        (f"`{kind.name}`", f"`{option}`", what)
        for kind in TOOL_KINDS.values()
        for option, what in kind.load_simulator().options.items()
    ]
    return table(("tool kind", "option", "what it sets"), rows)


def page_tables() -> dict[str, str]:
    """Both of the page's marked tables, by name, as the simulators give them now."""
    return {FAULTS_TABLE: faults_table(), OPTIONS_TABLE: options_table()}


if __name__ == "__main__":
    page = Path(sys.argv[1])
    page.write_text(render_page(page.read_text(encoding="utf-8"), page_tables()))
