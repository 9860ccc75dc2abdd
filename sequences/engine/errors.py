"""The engine's own errors: bad input (nothing touched) and the ways a wafer or a run stops."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, NamedTuple

from packline.drivers.errors import (
    PacklineError,
    ToolError,
    WrongTool,
    address_line_text,
    swapped_text,
)

if TYPE_CHECKING:
    from packline.drivers.equipment import Equipment


class BadInput(PacklineError):
    """The user asked for something that cannot run (unknown method, bad recipe, bad station,
    unknown run); the message names what and where. Nothing was touched."""


class RecipeError(BadInput):
    """A recipe file is unreadable or does not validate; the message names each field path,
    a line each, and `problems` holds each field's `path` and `message`, and the `line` of
    the file it is on where known (`validate --json`; none for a file that is no recipe at
    all)."""

    def __init__(self, message: str, problems: Sequence[Mapping[str, object]] = ()) -> None:
        super().__init__(message)
        self.problems = [dict(problem) for problem in problems]

    @classmethod
    def of_fields(cls, source: str, problems: Sequence[Mapping[str, object]]) -> RecipeError:
        """The refusal of the recipe `source` (its file, named) for the fields' `problems`:
        a line each, its message after the source's name and the line of the file it is on
        (`source: line 6: steps.0.gas = 02: ...`), where the problem has one; in the order of
        the file's lines (a trial's recipe's problems had read in the order the checks ran),
        those of no line after them as they came."""
        ordered = sorted(problems, key=_file_order)
        return cls("\n".join(map(partial(_problem_line, source), ordered)), ordered)


def _file_order(problem: Mapping[str, object]) -> tuple[bool, int]:
    """Where a recipe's problem sits in its file: by its line; one of no line last."""
    line = problem.get("line")
    return (True, 0) if not isinstance(line, int) else (False, line)


def _problem_line(source: str, problem: Mapping[str, object]) -> str:
    """One problem of a recipe's refusal (`RecipeError.of_fields`), after its source."""
    line = problem.get("line")
    at = "" if line is None else f"line {line}: "
    return f"{source}: {at}{problem['message']}"


#: What every refusal of a run or a resume says it left undone, whatever refused it: no tool
#: was commanded and the records hold nothing new (`packline runs` lists no run of it).
NOTHING_RUN = "nothing was run and nothing was recorded"


class RunRefused(BadInput):
    """A run, or a resume, refused before it was recorded, for bad input (`error`: its recipe,
    its station file, its options, its tools held by another run) found before any tool was
    contacted: `error`'s message, then a line saying so (`what` refused: `NOTHING_RUN`), so
    the operator knows no tool moved; `problems` are `error`'s (a recipe's, each field's)."""

    def __init__(self, error: BadInput, what: str) -> None:
        super().__init__(f"{error}\n{what} refused: {NOTHING_RUN}; no tool was contacted")
        self.problems: list[dict[str, object]] | None = getattr(error, "problems", None)


class RunNotStarted(PacklineError):
    """A run refused once its tools were connected, before it started: a tool it could not
    drive as the station file says (refused, timed out, gone, another kind at its address, found
    working), or the station file saying what its tools or its line do not (a `capacity`, a
    `time_scale`). Every tool it reached was closed and released, and nothing was run or
    recorded (`NOTHING_RUN`); the message names each problem, and the line of the station file
    that gives it, and how to go on."""


class ToolRefusal(NamedTuple):
    """Why a method's check of its connected tools refuses one of them for its recipe
    (`Method.tools_check`, decision 0118): the tool by its station name and its address,
    beside the `reason` (the recipe's field and value, the tool's own figure, the claim), so
    that what reads a refusal (`Method.served_line_advice`) knows the tool without reading its
    words. Its text is the refusal's line, `NAME at ADDRESS: reason`. A named tuple, not a
    dataclass: `packline runs` reads this module and loads no `dataclasses`."""

    tool: str
    address: str
    reason: str

    @classmethod
    def of(cls, driver: Equipment, reason: str) -> ToolRefusal:
        """The refusal of the connected tool `driver` (a tools check is handed drivers) for
        `reason`."""
        return cls(driver.name, driver.address, reason)

    def __str__(self) -> str:
        return f"{self.tool} at {self.address}: {self.reason}"


class ToolsRefuseRecipe(PacklineError):
    """What a run's recipe needs of its tools that the tools it connected say they do not
    have (its method's `tools_check`: a grinder's gauge coarser than the grind tolerance, a
    laser whose source does not drill the holes),
    found before any tool was commanded: the message names each tool, the recipe's field and
    value, the tool's figure and the claim, a line each (decision 0118); `refusals` keeps each
    one's tool beside its reason (`ToolRefusal`)."""

    def __init__(self, refusals: Sequence[ToolRefusal]) -> None:
        super().__init__("\n".join(map(str, refusals)))
        self.refusals = tuple(refusals)


class ResumeNotStarted(RunNotStarted):
    """A resume refused as its tools were connected (`RunNotStarted`): no session was started
    and nothing was recorded, so the run stays as its last session left it."""


class ToolsWorking(PacklineError):
    """Station tools a run (or a resume) found working as it connected them, running a
    process it did not start (a run cut off on them, another controller): it sends them
    nothing; the message names each tool, what it is doing and what the operator can do."""


class UnusableTools(PacklineError):
    """Station tools that cannot be driven as the station file says: some answered as other
    kinds than their drivers drive (addresses swapped in the file), some could not be reached
    (refused, timed out, nothing at the address). Every one is named, a line each, those of
    another kind first, not only the first connected, so the file is corrected in one round,
    each with the line of the file that gives its address where known; one tool alone is its
    line. `wrong` holds each one's `WrongTool`, `unreachable` each one's error."""

    def __init__(
        self,
        wrong: Sequence[WrongTool],
        unreachable: Sequence[ToolError],
        swapped: Sequence[tuple[str, str]],
        address_at: Mapping[str, str],
    ) -> None:
        """`swapped`: pairs of the `wrong` tools each of which answered as the other's kind,
        said as such after them (give each the other's address); `address_at`: where the
        station file gives the address of each tool an error names (`Station.address_at`)."""
        self.wrong = list(wrong)
        self.unreachable = list(unreachable)
        lines = [
            address_line_text(str(error), address_at.get(error.tool))
            for error in [*self.wrong, *self.unreachable]
        ]
        lines += [swapped_text(first, second) for first, second in swapped]
        if len(lines) == 1:
            super().__init__(lines[0])
            return
        said = []
        if self.wrong:
            kinds = "tool is another kind" if len(self.wrong) == 1 else "tools are other kinds"
            said.append(f"{len(self.wrong)} {kinds} than the station file says")
        if self.unreachable:
            tools = "" if said else " tool" if len(self.unreachable) == 1 else " tools"
            said.append(f"{len(self.unreachable)}{tools} cannot be reached")
        super().__init__(", and ".join(said) + ":\n" + "\n".join(lines))


class RecordsUnwritable(PacklineError):
    """The run records could not be written: the disk is full, failed or read-only, or
    another process held the database longer than its busy timeout. The transaction was
    rolled back whole, so the records are as they were before it; `path` is the database and
    `cause` what SQLite or the operating system said."""

    def __init__(self, path: str, cause: BaseException) -> None:
        self.path = path
        self.cause = cause
        super().__init__(f"the records at {path} could not be written ({cause})")


class RunNotRecorded(PacklineError):
    """A run stopped because its records could not be written (`RecordsUnwritable`): no
    step started that they do not hold; the message says what happened and how to go on."""


class RunTerminated(Exception):
    """Raised at a step boundary or pause point when the run is being terminated."""


class StepError(PacklineError):
    """A step could not run for an engine reason (no tool in service, a batch never formed,
    an operator said no)."""


class ToolUnavailable(StepError):
    """No tool a wafer asked for was given to it: none in service, or none served anyone for
    the tool wait. Nothing happened to the wafer on that tool, so it runs again once one of
    `tools` (those it asked for that were out of service) is back: cleared while the run goes
    on, or cleared or recovered for a resume."""

    def __init__(self, message: str, tools: Sequence[str]) -> None:
        super().__init__(message)
        self.tools = tuple(tools)


class NoOperator(StepError):
    """An operator confirmation declined because no operator was there to answer it (a run
    without a terminal or `--confirmed-by`): its wafers are held, and a resume without
    `--confirmed-by NAME` holds them at the confirmation again."""


#: Who declined a confirmation nobody was there to answer (the confirmations' `by`).
NO_OPERATOR = "no operator"


class OutOfLimits(StepError):
    """A measurement is outside its limits."""


class StepFailed(PacklineError):
    """A step of a wafer failed (a tool alarm, a timeout, a lost connection, out of limits);
    the wafer is held. The message names the step, the wafer and the cause."""

    #: the wafers the step failed for together (a batch step's members), when known: the
    #: failure policy decides once every one of them is held
    wafers: tuple[str, ...] = ()
    #: the step prepared its tool with nothing of its wafers on it (`Stage.holds_the_wafer`: a
    #: blade dressed before the mount): it did nothing to them, and a release, which vouches
    #: for work on the wafer, cannot accept it as done (`dispositions.py`)
    preparation: bool = False


class StepRefused(StepFailed):
    """A step its tool refused with its own code, or its driver before sending it (an open
    interlock, a setpoint out of limits, the wrong state), before the tool carried out any
    process operation in it (a load, an oven's `run_profile` refused as it starts): it did
    not happen, so the wafer's hold cannot be released as if it had, only reworked (the step
    done again) or scrapped."""


def failure_text(error: BaseException) -> str:
    """What stopped a step or a wafer, as the records and the operator read it: the error's
    message; a cancellation (an abort) is "aborted", an error without a message its type."""
    import asyncio  # loaded already where a step runs; a reader of the records needs it not

    if isinstance(error, asyncio.CancelledError):
        return "aborted"
    return str(error) or type(error).__name__
