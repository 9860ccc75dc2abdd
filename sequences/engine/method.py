"""Methods: a sequence script and what the engine must know about it, and the registry of them.

A method is declared next to its script with `@method(...)`: its name on the command line,
a title, the claim ids it carries out, its recipe model and default recipe, the tool roles it
may drive and which of them a given recipe drives (`recipe_tools`: a run connects, holds and
needs in its station only those, decision 0093), which of its steps are irreversible (never
repeated on resume: a grind, a cut), the failure policy it runs with unless the user says
otherwise (a tool's safe, empty state is its role's `recover()`, not the method's), and, when
its lot is not of wafers, its incoming material (`incoming`: a function of the recipe, e.g.
the tape panel claim 000 starts from), the options of the simulated tools its recipe
needs (`sim_tools`: a CO2 laser; `packline sim serve --method` serves that line for a station
run), and what a recipe needs of its tools that only the tools tell (`tools_check`: a
grinder's gauge fine enough for the grind tolerance, a laser's source that drills the holes),
asked once a run has connected them, before any is commanded (decision 0118).
For the claims it declares `claim_checks` (the conditions its product must meet, checked on
the twin after a dry run) and `claim_map` (claim id -> what implements it, shown by `packline
claims`). Every claim id must be in the catalogue `packline.claims.CLAIMS`: a wrong one fails
the method's import.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from importlib import resources
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from packline.claims import CLAIMS, Claim
from packline.spelling import did_you_mean

from .claim_check import Condition
from .database import DEFAULT_RECIPE, METHOD_DEFAULTS, REFERENCE_RECIPE
from .errors import BadInput
from .recipe import METHOD_RECIPES, Recipe, parse_recipe, read_recipe_text
from .recipe_fields import CLAIM_ID, scalar_text
from .report import measurement_attempts, measurement_labels, step_keys, step_labels

if TYPE_CHECKING:
    from packline.sim_instruments.twin import Incoming
    from packline.station import Station

    from .errors import ToolRefusal
    from .tools import ConnectedTools
    from .wafer import Wafer

SequenceFn = Callable[["Wafer", Any], Awaitable[None]]
#: The conditions a method's product must meet, for a given recipe (see claim_check.py).
ClaimChecksFn = Callable[[Any], Sequence[Condition]]
#: The incoming material a method's lot is made of, for a given recipe (a tape panel of the
#: recipe's size for claim 000, or a function of the id: the panels and their die wafers);
#: the simulated line of a dry run receives its workpieces so.
IncomingFn = Callable[[Any], "Incoming"]
#: The options of the simulated line's tools a recipe needs (role -> keyword arguments of its
#: simulated tool: a CO2 laser's `source`), for a given recipe.
SimToolsFn = Callable[[Any], Mapping[str, Mapping[str, Any]]]
#: The tool roles a recipe drives (some of the method's `tools`), for a given recipe.
RecipeToolsFn = Callable[[Any], Iterable[str]]
#: A method's check of the tools a run connected against its recipe, given the recipe and
#: the tools (`ConnectedTools`): why the recipe cannot be carried out on them, a refusal a
#: tool (`ToolRefusal`: the tool and its address beside the reason, which names the recipe's
#: field and value, the tool's own figure and the claim; empty: it can). It asks the tools,
#: commanding nothing.
ToolsCheckFn = Callable[[Any, "ConnectedTools"], Awaitable[Sequence["ToolRefusal"]]]
#: The workpieces beside a lot wafer that its steps work on, given the wafer's id (a tape
#: panel's die wafer, the board a wafer's chips are mounted on).
SideWorkpiecesFn = Callable[[str], tuple[str, ...]]


def sim_options_text(options: Mapping[str, Any]) -> str:
    """A simulated tool's options as the served line names them (`source CO2_10600`): a
    number as given, a choice by its name, anything else by its kind (a model's physics)."""
    return ", ".join(f"{option} {_sim_option_text(value)}" for option, value in options.items())


def _sim_option_text(value: object) -> str:
    """One option's value, as `sim_options_text` names it."""
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, int | float):
        return f"{value:g}"
    return type(value).__name__


class FailurePolicy(StrEnum):
    """What a failed step of one wafer does to the rest of the lot."""

    HOLD = "hold"  # hold the wafer, the lot goes on
    PAUSE = "pause"  # hold the wafer and pause the run for an operator
    STOP = "stop"  # hold the wafer and terminate the run (tools to their safe state)


@dataclass(frozen=True)
class Method:
    """A claimed method as the engine runs it."""

    name: str
    title: str
    claims: tuple[str, ...]
    recipe_model: type[Recipe]
    sequence: SequenceFn
    #: Every tool role a recipe of the method may drive (`packline methods` lists them).
    tools: tuple[str, ...]
    irreversible: frozenset[str] = frozenset()
    default_recipe: str | None = None
    failure_policy: FailurePolicy = FailurePolicy.HOLD
    #: Twin metrics (name -> (unit, function of a Workpiece)) recorded before and after each
    #: wafer in a dry run, so the summary shows what the method did to the simulated product.
    twin_metrics: Mapping[str, tuple[str, Callable[[Any], float]]] = field(default_factory=dict)
    #: The conditions of the claim checked on the twin after a dry run, given the recipe.
    claim_checks: ClaimChecksFn | None = None
    #: Claim id -> what implements it ("step 'plasma clean'", "recipe option steps[].gas = Ar",
    #: "claim check: no oxide on the exposed metal"), for `packline claims`.
    claim_map: Mapping[str, str] = field(default_factory=dict)
    #: The incoming material, given the recipe; None: the simulated line's wafers.
    incoming: IncomingFn | None = None
    #: The simulated line's tool options, given the recipe; None: its default tools.
    sim_tools: SimToolsFn | None = None
    #: The workpieces a lot wafer's steps make or change beside it, given its id; a dry run
    #: records their twins with each of the wafer's completed steps, so a resume restores
    #: them as it restores the wafer. None: the wafer's steps change only the lot's wafers.
    side_workpieces: SideWorkpiecesFn | None = None
    #: Steps an earlier release of the script called by another name, old name -> new: a
    #: resume reads a step recorded by its old name as the step of its new name, at the same
    #: occurrence (`plan.Plan.from_records`), so a run recorded before the rename resumes
    #: without doing a completed step again or skipping a reworked one (decision 0060). The
    #: new name must be one the earlier script did not call, or the occurrences differ.
    renamed_steps: Mapping[str, str] = field(default_factory=dict)
    #: Measurements an earlier release of the script recorded by another name, old name ->
    #: (name, unit) now: the same quantity, its count's unit perhaps another word (chips,
    #: devices). A figure across runs (`packline diff`, `packline spc`) reads a recorded one
    #: by its name now, so the runs on either side of the rename line up (decision 0062).
    renamed_measurements: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    #: The roles of `tools` a recipe drives, given the recipe, declared beside the script and
    #: following its branches (a plasma clean or a laser clean; no dicing, no saw); None:
    #: every one of `tools`, whatever the recipe.
    recipe_tools: RecipeToolsFn | None = None
    #: What the recipe needs of its tools that only they tell (a gauge's resolution), asked
    #: by every session once it has connected them, before any tool is commanded; a reason
    #: refuses the session, nothing run or recorded (decision 0118). None: nothing.
    tools_check: ToolsCheckFn | None = None

    def tools_for(self, recipe: Recipe) -> tuple[str, ...]:
        """The tool roles a run of `recipe` drives, in the order of `tools`: the tools it
        connects and holds, and the roles its station must have (decision 0093). A role the
        declaration names that is not one of `tools` is a mistake in the method (ValueError)."""
        if self.recipe_tools is None:
            return self.tools
        named = set(self.recipe_tools(recipe))
        if stray := sorted(named - set(self.tools)):
            raise ValueError(
                f"method {self.name!r}: its recipe_tools names role(s) {', '.join(stray)}, "
                f"which are not among its tools ({', '.join(self.tools)})"
            )
        return tuple(role for role in self.tools if role in named)

    def incoming_material(self, recipe: Recipe) -> Incoming | None:
        """What the lot's workpieces are when they arrive, for this recipe (None: wafers)."""
        return None if self.incoming is None else self.incoming(recipe)

    def sim_tool_options(self, recipe: Recipe) -> Mapping[str, Mapping[str, Any]]:
        """The options of the dry run's simulated tools for this recipe (role -> keyword
        arguments), but those of a role of the method the recipe does not drive (its line
        has no such tool: `tools_for`); on real tools the station has what it has, and the
        drivers check it. A role that is none of the method's is kept, for the line to
        refuse (a mistake in `sim_tools`)."""
        if self.sim_tools is None:
            return {}
        undriven = set(self.tools) - set(self.tools_for(recipe))
        return {
            role: options
            for role, options in self.sim_tools(recipe).items()
            if role not in undriven
        }

    def served_line_advice(
        self, station: Station, recipe: Recipe, refused_tools: Collection[str]
    ) -> str | None:
        """The line to serve instead, where this method's tools check refused the tools
        `refused_tools` (by name) of `station` for `recipe`, a simulated line `packline sim
        serve` serves but not for this method: its tools are the line's defaults (a UV laser),
        and the method gives its dry run's tools for this recipe options
        (`sim_tool_options`: tape-substrate's CO2 laser), a line `sim serve --method` serves.
        Only where a refused tool is one given options, each named with what the method's
        line gives it: a grinder whose gauge `--sim-option` made coarse, which the method
        gives nothing, refuses on its line too. None on real tools, and where no refused tool
        is one the method's line changes."""
        if not station.served_without_method(self.name):
            return None
        given = self.sim_tool_options(recipe)
        changed = [
            f"its {name} given {sim_options_text(given[entry.role])}"
            for name, entry in station.tools.items()
            if name in refused_tools and entry.role in given
        ]
        if not changed:
            return None
        return (
            f"{station.name} is served with the simulated line's default tools: `packline sim "
            f"serve --method {self.name}` serves the line {self.name}'s dry run builds, "
            f"{', '.join(changed)}"
        )

    def default_recipe_text(self) -> tuple[str, str]:
        """The shipped default recipe: (text, where it came from, as a run records it: its
        `recipe_source`); without one, the recipe model's defaults (an error lists the
        options that have none)."""
        if self.default_recipe is None:
            return "{}\n", f"{METHOD_DEFAULTS} {self.name}"
        ref = resources.files("packline.sequences").joinpath("recipes", self.default_recipe)
        return ref.read_text(encoding="utf-8"), f"{DEFAULT_RECIPE} {self.default_recipe}"

    def reference_recipes(self) -> list[str]:
        """The names of the reference recipes shipped with the method (its default and one
        per major variant, `sequences/recipes/METHOD.yaml` and `METHOD-VARIANT.yaml`), without
        `.yaml`: what `--recipe NAME` runs from wherever packline is installed."""
        shipped = resources.files("packline.sequences").joinpath("recipes").iterdir()
        names = (e.name.removesuffix(".yaml") for e in shipped if e.name.endswith(".yaml"))
        return sorted(n for n in names if n == self.name or n.startswith(f"{self.name}-"))

    def reference_named(self, given: str) -> str | None:
        """The reference recipe `given` names (`bump-seal-clean-laser`, with or without
        `.yaml`), or None."""
        name = given.removesuffix(".yaml")
        return name if name in self.reference_recipes() else None

    def reference_recipe_text(self, name: str) -> tuple[str, str]:
        """The reference recipe `name` (one of `reference_recipes`): (text, where it came
        from)."""
        file = f"{name}.yaml"
        ref = resources.files("packline.sequences").joinpath("recipes", file)
        return ref.read_text(encoding="utf-8"), f"{REFERENCE_RECIPE} {file}"

    def read_recorded_recipe(self, run_id: str, recorded: dict[str, Any]) -> Recipe:
        """The recipe run `run_id` was recorded with (`recorded`, its JSON read) as this
        release reads it: under the names of its keys now, a 0 recorded for a setting not
        given as left out (`parse_recipe(recorded=True)`, decision 0060). RecipeError when a
        check added since refuses it."""
        return parse_recipe(
            self.recipe_model, recorded, f"run {run_id} recorded recipe", recorded=True
        )

    def claims_proved_on_the_sim(self) -> dict[str, str]:
        """The claims `PROOF_TEST` proves of this method, each with how: a step the claim map
        names recorded under the claim's id, a condition of the claim passing in the claim
        check of every reference recipe that has it, or (a product claim judged by other
        conditions) the conditions its claim-map entry cites passing. That test runs every
        reference recipe on the simulated line and fails when any of these does not hold."""
        checked: set[str] = set()
        if self.claim_checks is not None:
            for name in self.reference_recipes():
                text, source = self.reference_recipe_text(name)
                recipe = read_recipe_text(self.recipe_model, text, source)
                checked |= {condition.claim for condition in self.claim_checks(recipe)}
        proved = {}
        for claim_id, where in self.claim_map.items():
            hows = []
            if STEP_NAMED.search(where):
                hows.append("its step recorded under its id")
            if claim_id in checked:
                hows.append("its claim check passing")
            cited = [
                c
                for c in (c.rstrip(".-") for c in CLAIM_ID.findall(where))
                if c != claim_id and c in checked
            ]
            if cited and claim_id not in checked:
                hows.append(f"the claim checks of {', '.join(cited)} passing")
            if hows:
                proved[claim_id] = " and ".join(hows)
        return proved

    def load_default_recipe(self) -> tuple[Recipe, str]:
        text, source = self.default_recipe_text()
        return read_recipe_text(self.recipe_model, text, source), text

    def options(self) -> dict[str, str]:
        """The recipe's options and their defaults as a recipe writes them ("film", 600.0),
        for `packline methods`: 'required', 'none' (left out unless given), or 'default
        section' (a section with defaults of its own; `packline methods METHOD` shows them)."""
        out = {}
        for name, info in self.recipe_model.model_fields.items():
            default = None if info.is_required() else info.get_default(call_default_factory=True)
            if info.is_required():
                out[name] = "required"
            elif default is None:
                out[name] = "none"
            elif isinstance(default, BaseModel):
                out[name] = "default section"
            else:
                out[name] = scalar_text(default.value if isinstance(default, Enum) else default)
        return out


_METHODS: dict[str, Method] = {}


def method(
    *,
    name: str,
    title: str,
    claims: tuple[str, ...],
    recipe: type[Recipe],
    tools: tuple[str, ...],
    recipe_tools: RecipeToolsFn | None = None,
    irreversible: tuple[str, ...] = (),
    default_recipe: str | None = None,
    failure_policy: FailurePolicy = FailurePolicy.HOLD,
    twin_metrics: Mapping[str, tuple[str, Callable[[Any], float]]] | None = None,
    claim_checks: ClaimChecksFn | None = None,
    claim_map: Mapping[str, str] | None = None,
    incoming: IncomingFn | None = None,
    sim_tools: SimToolsFn | None = None,
    side_workpieces: SideWorkpiecesFn | None = None,
    renamed_steps: Mapping[str, str] | None = None,
    renamed_measurements: Mapping[str, tuple[str, str]] | None = None,
    tools_check: ToolsCheckFn | None = None,
) -> Callable[[SequenceFn], SequenceFn]:
    """Declare and register the sequence script below as method `name`. A claim id (in
    `claims` or `claim_map`) that is not in the catalogue is a ValueError."""
    unknown = sorted((set(claims) | set(claim_map or {})) - set(CLAIMS))
    if unknown:
        raise ValueError(f"method {name!r} names claim ids not in the catalogue: {unknown}")

    def register(sequence: SequenceFn) -> SequenceFn:
        if name in _METHODS and _METHODS[name].sequence is not sequence:
            raise ValueError(f"method {name!r} is declared twice")
        recipe.method_name = name
        METHOD_RECIPES[name] = recipe
        _METHODS[name] = Method(
            name=name,
            title=title,
            claims=tuple(claims),
            recipe_model=recipe,
            sequence=sequence,
            tools=tuple(tools),
            irreversible=frozenset(irreversible),
            default_recipe=default_recipe,
            failure_policy=FailurePolicy(failure_policy),
            twin_metrics=dict(twin_metrics or {}),
            claim_checks=claim_checks,
            claim_map=dict(claim_map or {}),
            incoming=incoming,
            sim_tools=sim_tools,
            side_workpieces=side_workpieces,
            renamed_steps=dict(renamed_steps or {}),
            renamed_measurements=dict(renamed_measurements or {}),
            recipe_tools=recipe_tools,
            tools_check=tools_check,
        )
        return sequence

    return register


def _discover() -> None:
    """Import every sequence module of `packline.sequences` so their methods register."""
    package = importlib.import_module("packline.sequences")
    for info in pkgutil.iter_modules(package.__path__):
        if info.name == "engine" or info.name.startswith("_"):
            continue
        module = f"packline.sequences.{info.name}"
        try:
            importlib.import_module(module)
        except Exception as error:
            raise BadInput(f"sequence module {module} does not import: {error}") from error


def all_methods() -> list[Method]:
    """Every registered method, by name."""
    _discover()
    return [_METHODS[name] for name in sorted(_METHODS)]


def get_method(name: str) -> Method:
    """The method `name`, or BadInput listing the known ones."""
    method = known_method(name)
    if method is None:
        known = sorted(_METHODS)
        raise BadInput(
            f"unknown method {name!r}{did_you_mean(name, known)}; known methods: "
            f"{', '.join(known) or 'none'}"
        )
    return method


def known_method(name: str) -> Method | None:
    """The method `name`, None for one this release does not have (records of another
    install's, or of a retired method), which what reads records takes as it was recorded."""
    _discover()
    return _METHODS.get(name)


def renamed_steps_of(method: str) -> Mapping[str, str]:
    """The step renames of method `method` (`Method.renamed_steps`); none for a method this
    release does not have (`known_method`), whose step names stay as recorded."""
    known = known_method(method)
    return {} if known is None else known.renamed_steps


def reference_recipe_method(name: str) -> Method | None:
    """The method whose reference recipe `name` (`bump-seal-clean-laser`, with or without
    `.yaml`) is; None for a name no method's is."""
    return next((m for m in all_methods() if m.reference_named(name) is not None), None)


def measurements_now(
    method: str, measurements: Sequence[Mapping[str, Any]], steps: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The `measurements` rows of a run of method `method` (with its `steps` rows) as figures
    across runs read them (decision 0062): each under its name and unit now
    (`Method.renamed_measurements`), with `step`, the name now (`Method.renamed_steps`) of the
    step that took it (None: a wafer's own, taken before its first step or after its last),
    `step_label`, that step's label (`step_labels`: `inspect bump heights #2` for the second
    run of a step the script runs twice), `label`, the measurement's (`measurement_labels`:
    what tells apart the processes that take one name), and `attempt`, which try of its step
    it is where the wafer's rework measured it again (`measurement_attempts`; None where the
    wafer measured it once). A method this release does not have renames nothing."""
    known = known_method(method)
    renamed = {} if known is None else known.renamed_measurements
    steps_renamed = {} if known is None else known.renamed_steps
    steps_now = [{**step, "name": steps_renamed.get(step["name"], step["name"])} for step in steps]
    step_names = {step["id"]: step["name"] for step in steps_now}
    labels = step_labels(steps_now)
    now = []
    for row in measurements:
        name, unit = renamed.get(row["name"], (row["name"], row["unit"]))
        step_id = row["step_id"]
        now.append(
            {
                **row,
                "name": name,
                "unit": unit,
                "step": step_names.get(step_id),
                "step_label": labels.get(step_id),
            }
        )
    taken = measurement_labels([(row["name"], row["step_label"]) for row in now])
    keys = step_keys(steps)
    attempts = measurement_attempts(
        [(row["wafer_id"], row["name"], keys.get(row["step_id"])) for row in now]
    )
    return [
        {**row, "label": label, "attempt": attempt}
        for row, label, attempt in zip(now, taken, attempts, strict=True)
    ]


@dataclass(frozen=True)
class ClaimCoverage:
    """One claim of the catalogue and what implements it: (method name, where) pairs, empty
    when no method implements it yet; and for each such method the test that proves it there
    and how (`Method.claims_proved_on_the_sim`), or None when no test does."""

    claim: Claim
    implemented_by: tuple[tuple[str, str], ...]
    proved_by: tuple[tuple[str, str] | None, ...] = ()


#: The test that proves a method's claims on the simulated line, for the method's name.
PROOF_TEST = (
    "tests/sequences/test_claim_checks.py::"
    "test_claim_map_steps_are_recorded_with_their_claims_on_the_sim[{method}]"
)
#: A step a claim-map entry names.
STEP_NAMED = re.compile(r"step '([^']+)'")


def claim_coverage() -> list[ClaimCoverage]:
    """Every claim of `packline.claims.CLAIMS`, in catalogue order, with the methods whose
    `claim_map` names it (a claim a method lists without a map entry says so)."""
    methods = all_methods()
    proved = {m.name: m.claims_proved_on_the_sim() for m in methods if m.claim_map}
    coverage = []
    for claim_id, claim in CLAIMS.items():
        by = [m for m in methods if claim_id in m.claim_map or claim_id in m.claims]
        coverage.append(
            ClaimCoverage(
                claim,
                tuple(
                    (m.name, m.claim_map.get(claim_id, "listed in its claims; where is not stated"))
                    for m in by
                ),
                tuple(
                    (PROOF_TEST.format(method=m.name), proved[m.name][claim_id])
                    if claim_id in proved.get(m.name, {})
                    else None
                    for m in by
                ),
            )
        )
    return coverage
