"""A laser's source against the via diameters a method's recipe asks of it, for every method
that drills with the laser: a run's check of its connected tools (`Method.tools_check`,
decision 0118) asks each laser its source and refuses one that does not drill the diameters of
the laser steps the session has left, before any tool is commanded.

* `ViaDiameter`: one diameter a recipe asks of the laser, with the step that drills it, the
  recipe field it is written in and the claim it serves.
* `source_refusal`: why a laser of a source is refused for some diameters, naming the sources
  that drill them all (some source does: a method's diameters all feed one source's limit,
  which the run checked them against before it connected any tool).
* `lasers_drill`: the refusals of the connected lasers (`ToolRefusal`s) for the diameters of
  the steps the session still runs (a resume past a laser step is not asked its diameter).

A laser drills the via diameters of its source (a UV source 10-50 um, a CO2 source 50-150 um),
which only the tool tells: validate judges a recipe's diameters by the range of the source
they feed, and a laser of another source refused the step only once the wafer was on it,
after its earlier processing. A recipe cannot make a source fit (it has no field of the
source), so a refusal asks for another laser, in a run as in a resume. The laser's other
settings hold on every source: the fluence and repetition rate within their limits ask less
power than any source gives.

This module registers no method; the engine imports it while it looks for methods, harmlessly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from packline.drivers.equipment import Limit
from packline.drivers.roles.laser import Laser, LaserSource
from packline.sequences.engine import ConnectedTools, ToolRefusal
from packline.sequences.engine.recipe_fields import claims_text
from packline.units import quantity_text


@dataclass(frozen=True)
class ViaDiameter:
    """One via diameter a recipe asks of the laser: `diameter_um`, written in the recipe at
    `field` (its path: `holes.diameter_um`), drilled by the step named `step`, for `claim`."""

    step: str
    field: str
    diameter_um: float
    claim: str


def source_refusal(
    source: LaserSource,
    diameters: Callable[[LaserSource], Limit],
    asked: Sequence[ViaDiameter],
) -> str | None:
    """Why a run refuses a laser of `source` for the diameters `asked`, `diameters` giving
    the via diameters a laser of each source drills within the tool's limits
    (`Laser.via_diameters`): each diameter its source does not drill, the source and what it
    drills, and the sources that drill them all, with the claims they serve; None where its
    source drills every one.

    Some source drills them all: a method's diameters all feed one source's setpoint (its
    recipe fields' `Feeds`), whose limit on every tool of the station (its `limits:`
    included) a run and a resume checked them against before connecting any
    (`check_tool_limits`), and `diameters` gives that same limit for that source."""
    drilled = diameters(source)
    outside = [
        f"{via.field} = {quantity_text(via.diameter_um, drilled.unit)}"
        for via in asked
        if not drilled.contains(via.diameter_um)
    ]
    if not outside:
        return None
    fitting: dict[tuple[str, str], list[str]] = {}
    for other in LaserSource:
        limit = diameters(other)
        if all(limit.contains(via.diameter_um) for via in asked):
            fitting.setdefault((other.kind, limit.described()), []).append(str(other.value))
    instead = "; ".join(
        f"drill them on a laser of a {kind} source ({' or '.join(nm)} nm), which drills {described}"
        for (kind, described), nm in fitting.items()
    )
    claims = tuple(dict.fromkeys(via.claim for via in asked))
    return (
        f"{', '.join(outside)}: outside what this laser's {source.kind} source "
        f"({source.value} nm) drills, {drilled.described()}: {instead} ({claims_text(claims)})"
    )


async def lasers_drill(asked: Sequence[ViaDiameter], tools: ConnectedTools) -> list[ToolRefusal]:
    """Each connected laser whose source does not drill the diameters of `asked` whose steps
    the session still runs (`ConnectedTools.runs_step`), named with its address and asked
    nothing but its source (`source_refusal`). A session with no laser step left (a resume
    past them) asks the lasers nothing."""
    left = [via for via in asked if tools.runs_step(via.step)]
    reasons: list[ToolRefusal] = []
    if not left:
        return reasons
    for laser in tools.of(Laser):
        refusal = source_refusal(await laser.request_source(), laser.via_diameters, left)
        if refusal is not None:
            reasons.append(ToolRefusal.of(laser, refusal))
    return reasons
