"""A run as the user asked for it, checked before anything is touched.

`prepare` validates a `RunRequest` (method, recipe, the recipe's setpoints against the tools'
limits, station, lot, wafer ids, policy) into a `Prepared` run, contacting no tool; a problem
raises `BadInput` naming what and where. `launch.py` opens the run it describes.
"""

from __future__ import annotations

import getpass
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packline.drivers.equipment import Limit, validate_wafer_id
from packline.drivers.registry import kinds_of
from packline.files import yaml_written
from packline.lots import LotError, LotIdentity, load_lot_file, validate_lot_id
from packline.spelling import did_you_mean
from packline.station import Station, StationError, load_station
from packline.units import quantity_text

from .errors import BadInput, RecipeError
from .method import FailurePolicy, Method, get_method, reference_recipe_method
from .recipe import Recipe, load_recipe, path_problem, read_recipe_text
from .recipe_yaml import as_given, located

MAX_LOT = 999


def least_lot(recipe: Recipe) -> int:
    """The smallest lot `recipe` makes (its `lot_problem` refuses none of it): 1 for most, a
    whole stack for a recipe of stacked devices. What a plan of the recipe runs
    (`schedule.plan_recipe`), since a smaller lot would be refused as a run's is; 1 when the
    recipe refuses every lot, which its run says itself."""
    return next((lot for lot in range(1, MAX_LOT + 1) if recipe.lot_problem(lot) is None), 1)


@dataclass
class RunRequest:
    """A new run as the user asked for it."""

    method: str
    simulated: bool = True
    station_path: str | Path | None = None
    recipe_path: str | Path | None = None
    lot: int = 1
    operator: str = field(default_factory=lambda: login_name())
    failure_policy: str | None = None
    #: The wafers' own ids (the lot is as many); None: numbered per run (`lot_wafer_ids`).
    wafer_ids: list[str] | None = None
    #: A dry run serves the tools that have a GEM face as GEM equipment on HSMS (their process
    #: model unchanged), so the run drives them through the GEM host driver.
    gem: bool = False
    #: The lot id the wafers travel under (None: none given).
    lot_id: str | None = None
    #: A lot file (`packline.lots`): the lot id and the wafers' ids, instead of `lot_id` and
    #: `wafer_ids`.
    lot_file: str | Path | None = None


def login_name() -> str:
    """Who runs packline, by default: the login name ($LOGNAME, $USER... else the account's
    name), so that a shell without $USER still records a person, not a placeholder."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "operator"


@dataclass
class Prepared:
    """A validated run request: nothing has been touched yet."""

    method: Method
    recipe: Recipe
    recipe_text: str
    recipe_source: str
    station: Station | None  # None: the in-process simulated line
    lot: int
    wafer_ids: list[str] | None  # None: numbered per run when it opens (`lot_wafer_ids`)
    operator: str
    failure_policy: FailurePolicy
    gem: bool = False  # a dry run's tools with a GEM face served on GEM
    lot_identity: LotIdentity = field(default_factory=LotIdentity)


def prepare(request: RunRequest) -> Prepared:
    """Validate a run request; `BadInput` names the problem. Contacts no tool."""
    method = get_method(request.method)
    if request.recipe_path is None:
        text, source = method.default_recipe_text()
        named = f"{source} (no --recipe given)"
        if method.default_recipe is not None:  # its lines are the file's, not the template's
            shipped = Path(method.default_recipe).stem
            printed = f"`packline recipe template {method.name} --from {shipped}` prints it"
            named = f"{source} (no --recipe given; {printed})"
        recipe = read_recipe_text(method.recipe_model, text, named)
    elif (reference := reference_named(method, request.recipe_path)) is not None:
        text, source = method.reference_recipe_text(reference)
        recipe, named = read_recipe_text(method.recipe_model, text, source), source
    else:
        missing = not Path(request.recipe_path).exists()
        hint = own_recipes(method, str(request.recipe_path)) if missing else ""
        recipe, text = load_recipe(method.recipe_model, request.recipe_path, hint=hint)
        source = str(request.recipe_path)
        named = f"recipe file {source}"
    if not 1 <= request.lot <= MAX_LOT:
        raise BadInput(f"--lot {request.lot}: a lot has 1 to {MAX_LOT} wafers")
    identity, wafer_ids = read_lot(request)
    if wafer_ids is not None:
        check_wafer_ids(wafer_ids)
    try:
        policy = FailurePolicy(request.failure_policy or method.failure_policy)
    except ValueError:
        raise BadInput(
            f"--failure-policy {request.failure_policy!r}: use hold, pause or stop"
        ) from None
    station = None
    if request.gem and not request.simulated:
        raise BadInput(
            "--gem serves the in-process simulated line's tools on GEM; on real tools the "
            "station file says which driver each tool uses (`driver: gem`)"
        )
    if not request.simulated:
        if request.station_path is None:
            raise BadInput(
                "give --sim for the bundled simulated line or --station FILE for real tools"
            )
        try:
            station = load_station(request.station_path)
        except StationError as error:
            raise BadInput(str(error)) from None
    check_station_and_limits(method, recipe, station, named, text)
    lot = request.lot if wafer_ids is None else len(wafer_ids)
    return Prepared(
        method,
        recipe,
        text,
        source,
        station,
        lot,
        wafer_ids,
        request.operator,
        policy,
        request.gem,
        identity,
    )


def reference_named(method: Method, recipe_path: str | Path) -> str | None:
    """The reference recipe of `method` that `--recipe` names by itself (`bump-seal-clean-laser`,
    with or without `.yaml`): None for a path (`./x.yaml`, `recipes/x.yaml`) or a file of that
    name where the command runs. A bare name of a reference recipe while a file `NAME.yaml` is
    here too is refused: which one is meant cannot be told (a copy being edited, perhaps)."""
    given = str(recipe_path)
    if Path(given).is_file() or "/" in given or given.startswith("."):
        return None
    name = method.reference_named(given)
    if name is not None and Path(f"{name}.yaml").is_file():
        raise BadInput(
            f"--recipe {given}: names both the reference recipe {name} and the file "
            f"{name}.yaml here; give --recipe ./{name}.yaml for the file"
        )
    return name


def own_recipes(method: Method, given: str) -> str:
    """What a recipe file `given` that is not there could have been: one of the method's
    reference recipes, named by itself, and the one a misspelt name may mean. BadInput for the
    name of another method's reference recipe, which it is (`--recipe bump-seal-clean-laser`
    for plasma-clean), rather than a file that cannot be read."""
    own = method.reference_recipes()
    hint = f"{method.name}'s reference recipes: {', '.join(own)}"
    other = reference_recipe_method(given)
    if other is not None and other is not method:
        raise BadInput(
            f"--recipe {given}: a reference recipe of {other.name}, not of {method.name} (run or "
            f"validate it with method {other.name}); {hint}"
        )
    return f"or name one of {hint}{did_you_mean(given.removesuffix('.yaml'), own)}"


def read_lot(request: RunRequest) -> tuple[LotIdentity, list[str] | None]:
    """The lot of a request and its wafers' ids (None: numbered per run): from its lot file,
    else its lot id and wafer ids; `BadInput` for a wrong lot file or id, or a lot file given
    with a lot id or wafer ids of its own."""
    if request.lot_file is None:
        if request.lot_id is not None:
            try:
                validate_lot_id(request.lot_id)
            except ValueError as error:
                raise BadInput(f"--lot-id: {error}") from None
        return LotIdentity(request.lot_id), request.wafer_ids
    if request.lot_id is not None or request.wafer_ids is not None:
        raise BadInput(
            f"--lot-file {request.lot_file}: the lot file names the lot and its wafers; give it "
            "without --lot-id or --wafers"
        )
    try:
        lot = load_lot_file(request.lot_file)
    except LotError as error:
        raise BadInput(str(error)) from None
    return lot.identity, lot.wafer_ids


def check_wafer_ids(wafer_ids: Sequence[str]) -> None:
    """Refuse wafer ids a user named that cannot travel on a tool's wire, or repeat."""
    if not 1 <= len(wafer_ids) <= MAX_LOT:
        raise BadInput(f"--wafers: a lot has 1 to {MAX_LOT} wafers, not {len(wafer_ids)}")
    for wafer_id in wafer_ids:
        try:
            validate_wafer_id(wafer_id)
        except ValueError as error:
            raise BadInput(f"--wafers: {error}") from None
    twice = sorted({w for w in wafer_ids if wafer_ids.count(w) > 1})
    if twice:
        raise BadInput(f"--wafers: wafer id(s) {', '.join(twice)} given more than once")


def check_station(method: Method, recipe: Recipe, station: Station) -> None:
    """Refuse a station without a tool of every role `recipe` drives (only those: a plasma
    clean needs no laser, decision 0093), naming each tool's driver and role and where the
    file gives it: a trial's tool named `plasma_cleaner` with an oven's driver had read as a
    station that has the plasma cleaner it was told to add."""
    missing = [role for role in method.tools_for(recipe) if not station.tools_for_role(role)]
    if missing:
        drivers = "; ".join(
            f"{role}: driver {' or '.join(kind.name for kind in kinds_of((role,)))}"
            for role in missing
        )
        has = [
            f"{name} (driver {entry.driver}, role {entry.role}"
            + ("" if (where := station.where("tools", name)) is None else f", on {where}")
            + ")"
            for name, entry in station.tools.items()
        ]
        raise BadInput(
            f"station {station.name}: method {method.name} needs a tool for role(s) "
            f"{', '.join(missing)} for this recipe; the station's tools: "
            f"{', '.join(has) or 'none'}; a tool plays the role of its driver (a GEM tool's: "
            "its dictionary's), whatever its name (add a tool entry of each role, or give one "
            f"its driver, docs/station-file.md: {drivers})"
        )


def check_station_and_limits(
    method: Method, recipe: Recipe, station: Station | None, source: str, text: str
) -> None:
    """Refuse a recipe the station cannot run (`check_station`: a role it has no tool of) or
    that would send a tool a setpoint outside its limits (`check_tool_limits`, against the
    station's tools, else the simulated line's), both at once where both fail: a trial's
    station check had told the missing roles, and the limits only once they were added."""
    missing = None
    if station is not None:
        try:
            check_station(method, recipe, station)
        except BadInput as error:
            missing = error
    try:
        check_tool_limits(recipe, source, tool_limits(method, station), text)
    except RecipeError as outside:
        if missing is None:
            raise
        raise RecipeError(f"{missing}\n{outside}", outside.problems) from None
    if missing is not None:
        raise missing


def tool_limits(method: Method, station: Station | None) -> dict[str, list[Mapping[str, Limit]]]:
    """Per tool role of the method, the setpoint limits of every tool that may play it, a
    further device's named `<device>.<setpoint>` (`Equipment.setpoint_limits`): with a
    station, each station tool's driver as the station builds it (its `limits:` overrides
    count, each naming its line; nothing is connected); without one (the bundled simulated
    line), the defaults of every registered driver kind of the role. (A loaded station
    passed `Station.check`, so building its drivers cannot fail here.)"""
    if station is None:
        return {
            role: [kind.load_driver().driver_limits() for kind in kinds_of((role,))]
            for role in method.tools
        }
    return {
        role: [station.open_tool(name).setpoint_limits() for name in station.tools_for_role(role)]
        for role in method.tools
    }


def check_tool_limits(
    recipe: Recipe, source: str, limits: Mapping[str, list[Mapping[str, Limit]]], text: str
) -> None:
    """Refuse a recipe that would send a tool a setpoint outside its limits (`RecipeError`
    naming `source`, the line of its YAML `text` that gives the field, its path, the value
    and the limit, a line and a `problems` entry each), before any tool moves."""

    written = yaml_written(text)

    def refusal(problems: list[dict[str, Any]]) -> RecipeError:
        return RecipeError.of_fields(source, located(problems, written))

    problems: list[dict[str, Any]] = []
    for point in recipe.tool_setpoints():
        if point.role not in limits:
            wrong = (
                f"sets {point.setpoint} on a {point.role}, which is not a tool role of the method"
            )
            raise refusal([path_problem(point.path, f": the recipe {wrong}")])
        for tool in limits[point.role]:
            limit = tool.get(point.setpoint)
            if limit is None:
                wrong = (
                    f"has no setpoint {point.setpoint!r}; its setpoints: {', '.join(sorted(tool))}"
                )
                raise refusal([path_problem(point.path, f": a {point.role} {wrong}")])
            if not limit.contains(point.value):
                given = as_given(point.path, quantity_text(point.value, limit.unit), written)
                outside = f"outside the {point.role} limit {point.setpoint} {limit.described()}"
                data = {  # the limit, and where it was set
                    "role": point.role,
                    "setpoint": point.setpoint,
                    "minimum": limit.minimum,
                    "maximum": limit.maximum,
                    "unit": limit.unit,
                    "set_by": limit.source or "the driver",
                }
                problems.append(path_problem(point.path, f" = {given}: {outside}", limit=data))
                break
    if problems:
        raise refusal(problems)
