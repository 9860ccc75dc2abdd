"""`packline run|resume --sim --sim-option TOOL:OPTION=VALUE`: an option of a dry run's
simulated tool (`SimulatedTool.options`: a grinder's gauge resolution), so that a user can
rehearse a run on a tool unlike the line's default one (a grinder whose gauge is coarser than a
recipe's grind tolerance, which the run refuses before its first step). Each part is checked,
and the value against the tool's own range, before any tool moves."""

from __future__ import annotations

import math
import shlex

from packline.sequences.engine.errors import BadInput
from packline.sequences.engine.method import Method
from packline.sim_instruments.tool import SimulatedTool
from packline.sim_instruments.twin import TwinStore
from packline.spelling import did_you_mean

from .faults import simulated_tools, unknown_tool_problem

#: The simulated line's tool options a dry run is given: role -> option -> value.
SimOptions = dict[str, dict[str, float]]


def read_sim_options(texts: list[str], method: Method, roles: tuple[str, ...]) -> SimOptions:
    """The `--sim-option` options, each checked against the simulated tools of `method`'s dry
    run of a recipe that drives `roles` (`unknown_tool_problem`), the options its tool takes and the
    range the tool takes its value in (the simulated tool built with it, then dropped);
    BadInput naming every option that is wrong, a line each, as it can be given again (quoted
    for the shell), and what it may be."""
    simulators = simulated_tools(method)
    options: SimOptions = {}
    problems = []
    for text in texts:
        option = f"--sim-option {shlex.quote(text)}"
        target, equals, value = text.partition("=")
        tool, colon, name = target.partition(":")
        if not (colon and equals):
            problems.append(
                f"{option}: give it as TOOL:OPTION=VALUE (grinder:gauge_resolution_um=0.5)"
            )
        elif (tool_problem := unknown_tool_problem(option, tool, method, roles)) is not None:
            problems.append(tool_problem)
        elif name not in (known := simulators[tool].options):
            takes = ", ".join(known) or "none"
            problems.append(
                f"{option}: the simulated {tool} has no option {name!r}; its options: "
                f"{takes}{did_you_mean(name, known)}"
            )
        elif name in options.get(tool, {}):
            problems.append(f"{option}: {tool}:{name} is given twice")
        else:
            problem = _value_problem(simulators[tool], tool, name, value)
            if problem is None:
                options.setdefault(tool, {})[name] = float(value)
            else:
                problems.append(f"{option}: {problem}")
    if problems:
        raise BadInput("\n".join(problems))
    return options


def _value_problem(simulator: type[SimulatedTool], tool: str, name: str, value: str) -> str | None:
    """Why `simulator` (the simulated `tool`) does not take `value` for its option `name`:
    not a number, or outside what the tool takes (its constructor's refusal); None where it
    does."""
    try:
        number = float(value)
    except ValueError:
        return f"{value!r} is not a number ({name}: {simulator.options[name]})"
    if not math.isfinite(number):
        return f"{value} is not a finite number ({name}: {simulator.options[name]})"
    try:
        simulator(tool, TwinStore(), None, **{name: number})
    except ValueError as error:  # the tool's own range, which it names
        return str(error)
    return None
