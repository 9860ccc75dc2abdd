"""`packline run|resume --sim --sim-option TOOL:OPTION=VALUE`: an option of a dry run's
simulated tool (`SimulatedTool.options`: a grinder's gauge resolution), so that a user can
rehearse a run on a tool unlike the line's default one (a grinder whose gauge is coarser than a
recipe's grind tolerance, which the run refuses before its first step); `packline sim serve
--sim-option` gives it to a served line's tool, for a station run. Each part is checked, and
the value against the tool's own range, before any tool moves."""

from __future__ import annotations

import math
import shlex
from collections.abc import Callable, Mapping

from packline.sequences.engine.errors import BadInput
from packline.sim_instruments.tool import SimulatedTool
from packline.sim_instruments.twin import TwinStore
from packline.spelling import did_you_mean

#: The simulated line's tool options a dry run is given: role -> option -> value.
SimOptions = dict[str, dict[str, float]]


def read_sim_options(
    texts: list[str],
    simulators: Mapping[str, type[SimulatedTool]],
    unknown_tool: Callable[[str, str], str | None],
) -> SimOptions:
    """The `--sim-option` options, each checked against the simulated tools of the line they
    are for (`simulators`, role -> simulated tool: a dry run's, of the roles its recipe drives,
    or a served line's), the options its tool takes and the range the tool takes its value in
    (the simulated tool built with it, then dropped); BadInput naming every option that is
    wrong, a line each, as it can be given again (quoted for the shell), what it may be and
    what it may have meant. `unknown_tool(option, tool)` says why a tool is refused (which line
    has none of that name, and the tools it has), None for one of `simulators`; the refusal of
    a tool ends with every option the line's tools take (`options_text`), what a user who
    mistyped one looks for, and of an option too where other tools take any."""
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
        elif (tool_problem := unknown_tool(option, tool)) is not None:
            problems.append(f"{tool_problem}; {options_text(simulators)}")
        elif name not in simulators[tool].options:
            problems.append(f"{option}: {_no_option_text(tool, name, simulators)}")
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


def options_text(simulators: Mapping[str, type[SimulatedTool]]) -> str:
    """Every option the simulated tools `simulators` take, as given (`the tools' options:
    grinder:gauge_resolution_um`), or that none takes any."""
    given = [
        f"{tool}:{name}" for tool, simulator in simulators.items() for name in simulator.options
    ]
    if not given:
        return "none of the tools takes an option"
    return f"the tools' options: {', '.join(given)}"


def _no_option_text(tool: str, name: str, simulators: Mapping[str, type[SimulatedTool]]) -> str:
    """Why option `name` of `tool` is refused: the options the tool takes, what `name` may
    have meant (`did_you_mean`), one of them spelt close to it, else another tool's as
    TOOL:OPTION (given to the wrong tool: `dicing_saw:gauge_resolution_um` ->
    `grinder:gauge_resolution_um`), and, where other tools of the line take options, every
    option there is (`options_text`)."""
    known = simulators[tool].options
    others = [
        f"{each}:{option}"
        for each, simulator in simulators.items()
        if each != tool
        for option in simulator.options
    ]
    meant = did_you_mean(name, known) or did_you_mean(name, others)
    every = f"; {options_text(simulators)}" if others else ""
    return (
        f"the simulated {tool} has no option {name!r}; its options: {', '.join(known) or 'none'}"
        f"{meant}{every}"
    )


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
