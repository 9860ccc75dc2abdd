"""`packline run|resume --sim --fault TOOL:FAULT[@STEP]`: a simulated tool's fault injected
into a dry run (a session of it), when the session starts or when a step of that name first
starts, to see what the method, the failure policy and the operator do about it. The faults
are the simulated tools' own (`SimulatedTool.faults`); the tools and steps, those the steps of
a dry run of the recipe use and start (`schedule.recipe_outline`): a fault on a tool that no
step uses is never met. Each part is checked before any tool moves."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from packline.drivers.registry import kinds_of
from packline.sequences.engine.errors import BadInput
from packline.sequences.engine.events import FAULT_CLEARED, FAULT_INJECTED, Event
from packline.sequences.engine.injected_faults import cleared_on_tool_data, cleared_on_tool_text
from packline.sequences.engine.method import Method
from packline.sim_instruments.line import SimulatedLine
from packline.sim_instruments.tool import SimulatedTool
from packline.spelling import did_you_mean

if TYPE_CHECKING:
    from packline.sequences.engine.schedule import NoOutline, RecipeOutline


@dataclass
class Fault:
    """One `--fault`: the tool (its role on the simulated line), the fault, the step whose
    start injects it (None: the run's start)."""

    text: str
    tool: str
    fault: str
    step: str | None
    injected: bool = False


def read_faults(
    texts: list[str],
    method: Method,
    roles: tuple[str, ...],
    recipe_outline: Callable[[], RecipeOutline | NoOutline],
) -> list[Fault]:
    """The `--fault` options, each checked against the simulated tools of `method`'s dry run
    of a recipe that drives `roles` (`Method.tools_for`: its line serves those alone), then
    against the tools and steps a dry run of its recipe uses and starts (`recipe_outline`,
    asked once, once every option's tool and fault exist or an option names a step;
    `NoOutline`, or its tools None: not known, so not checked, which a warning on stderr says
    of each fault, and why (`_say_unchecked`), and a step that never starts is said not
    injected at the run's end); BadInput naming every option that is wrong, a line each, as
    it can be given again (quoted for the shell), and what it may be."""
    simulators = simulated_tools(method)
    faults = []
    problems = []
    #: each option that names a step, as given for the shell, and the step
    steps: list[tuple[str, str]] = []
    for text in texts:
        option = f"--fault {shlex.quote(text)}"
        target, at, step = text.partition("@")
        tool, colon, fault = target.partition(":")
        if at and step:
            steps.append((option, step))
        if not colon:
            problems.append(f"{option}: give it as TOOL:FAULT[@STEP] (plasma_cleaner:rf_mismatch)")
        elif (tool_problem := unknown_tool_problem(option, tool, method, roles)) is not None:
            problems.append(tool_problem)
        elif fault not in (known := simulators[tool].faults):
            problems.append(
                f"{option}: the simulated {tool} has no fault {fault!r}; its faults: "
                f"{', '.join(known)}{did_you_mean(fault, known)}"
            )
        elif at and not step:
            problems.append(f"{option}: no step named after '@'")
        else:
            faults.append(Fault(text, tool, fault, step or None))
    if problems and not steps:
        raise BadInput("\n".join(problems))
    from packline.sequences.engine.schedule import RecipeOutline

    outline = recipe_outline()
    if not problems:
        _say_unchecked(faults, outline)
    if isinstance(outline, RecipeOutline):
        problems += [
            f"{option}: a dry run of {method.name} on this recipe starts no step {step!r}; its "
            f"steps: {', '.join(outline.steps)}{did_you_mean(step, outline.steps)}"
            for option, step in steps
            if step not in outline.steps
        ]
        problems += [
            f"--fault {shlex.quote(each.text)}: a dry run of {method.name} on this recipe never "
            f"uses tool {each.tool!r}; the tools it uses: {', '.join(outline.tools)}"
            for each in faults
            if outline.tools is not None and each.tool not in outline.tools
        ]
    if problems:
        raise BadInput("\n".join(problems))
    return faults


def simulated_tools(method: Method) -> dict[str, type[SimulatedTool]]:
    """The simulated tool of each role of `method`'s dry runs, by role."""
    return {kind.role: kind.load_simulator() for kind in kinds_of(method.tools)}


def unknown_tool_problem(
    option: str, tool: str, method: Method, roles: tuple[str, ...]
) -> str | None:
    """Why `option` (as given for the shell) names a `tool` the dry run of `method` on a
    recipe that drives `roles` does not have (its line serves those alone: `Method.tools_for`),
    naming the tools it has, those `tool` may mean among them first; None where it has it."""
    if tool not in simulated_tools(method):
        return (
            f"{option}: the dry run of {method.name} has no tool {tool!r}; its tools: "
            f"{', '.join(roles)}{did_you_mean(tool, roles)}"
        )
    if tool not in roles:  # not served on the recipe's line: known without its plan
        return (
            f"{option}: {method.name} on this recipe drives no tool {tool!r} (its dry run has "
            f"none); the tools it drives: {', '.join(roles)}"
        )
    return None


def _say_unchecked(faults: list[Fault], outline: RecipeOutline | NoOutline) -> None:
    """Warn on stderr of each fault whose tool or step cannot be checked against what the
    recipe uses (`NoOutline`: no run of it completed its wafers, nor did its plan, and why;
    its tools None: the run it was read from recorded none of their roles), naming what is not
    checked: a fault on a tool no step uses would go the run's whole way unmet, unsaid."""
    from packline.sequences.engine.schedule import NoOutline

    if isinstance(outline, NoOutline):
        why = f"no run of it completed its wafers, nor {outline.why}"
    elif outline.tools is None:
        why = "the run of it read for this was recorded before schema 3, with no roles of its tools"
    else:
        return
    for each in faults:
        unchecked = f"tool {each.tool!r}"
        if isinstance(outline, NoOutline) and each.step is not None:
            unchecked += f" and step {each.step!r}"
        print(
            f"packline: warning: --fault {each.text}: {unchecked} not checked against the "
            f"recipe: {why}; a tool no step of it uses is never met",
            file=sys.stderr,
        )


class FaultInjector:
    """As the run's `line_ready`, keeps the dry run's simulated line; as an observer of the
    run's events, injects each fault on its tool at its moment, once, and records that it did
    (a `fault-injected` event, through the run's `record`: a reader of the records later
    tells an injected alarm from one the line raised). A fault a tool then clears by its own
    doing (`SimulatedTool.cure_fault`: the dicing saw's new blade, which the run's own blade
    preparation installs) is recorded cleared as it goes (a `fault-cleared` event, decision
    0119), where the run had completed with the crack injected in its records."""

    def __init__(self, faults: list[Fault]) -> None:
        self.faults = faults
        #: The run's event log's `emit`, once the run is open.
        self.record: Callable[..., None] | None = None
        self._line: SimulatedLine | None = None
        #: Whether the session started (a resume refused before it did injects nothing, and
        #: misses nothing).
        self._started = False

    def line_ready(self, line: SimulatedLine) -> None:
        self._line = line
        for tool in line.tools.values():
            tool.fault_listeners.append(self._cured)

    def _cured(self, tool: str, fault: str, how: str) -> None:
        """Record that `tool` cleared `fault` itself (`how`), by nobody's order."""
        if self.record is not None:
            self.record(
                FAULT_CLEARED,
                tool=tool,
                status=fault,
                message=cleared_on_tool_text(fault, how),
                data=cleared_on_tool_data(fault, None, how),
            )

    def __call__(self, event: Event) -> None:
        self._started |= event.kind == "run-started"
        for fault in self.faults:
            due = (
                event.kind == "run-started"
                if fault.step is None
                else (event.kind == "step-started" and event.step == fault.step)
            )
            if due and not fault.injected and self._line is not None:
                self._line.tools[fault.tool].inject_fault(fault.fault)
                fault.injected = True
                if self.record is not None:
                    self.record(
                        FAULT_INJECTED,
                        tool=fault.tool,
                        status=fault.fault,
                        message=f"--fault {fault.text}",
                        data={"fault": fault.fault, "step": fault.step},
                    )

    def report_missed(self) -> None:
        """Say on stderr which faults never came due in a session that started (no step of
        that name started)."""
        for fault in self.faults:
            if self._started and not fault.injected:
                print(
                    f"packline: --fault {fault.text} was not injected: no step "
                    f"{fault.step!r} started",
                    file=sys.stderr,
                )
