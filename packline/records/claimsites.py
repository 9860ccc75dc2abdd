"""Which sites of a wafer fail each condition of its method's claim check.

The claim check a dry run records is per condition over the lot: sites checked, sites
passing, the failing wafers. To mark the failing sites on a wafer map, the conditions are
evaluated again on that wafer's stored twin: the run's method, given the run's recipe as it
was validated, says which conditions apply (`Method.claim_checks`), and each condition says
per site whether it was checked and whether it passed (`Condition.outcome`). The same
functions the engine ran, on the same stored twin, give the same sites; a condition judged at
a step (`Condition.at`: a cure, before a later reflow cured the resin further) is evaluated on
the wafer's twin as that step left it, as the engine judged it. The engine judges only the
wafers that completed the method; a wafer that did not (held, terminated, still running) is
judged here by the conditions of the claims its steps carried out, the rest named not judged:
its product is unfinished, and a condition of a step it never ran would count every site
failing. A condition read on another
workpiece than the wafer (the board its chips were mounted on, 003:24) is evaluated on that
workpiece's twin, which the records keep beside the wafer's (decision 0048); a run recorded
before they did has none, and says so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from packline.sequences.engine import BadInput, Condition, TwinsAtSteps, get_method
from packline.sequences.engine.method import STEP_NAMED, known_method
from packline.sim_instruments.twin import Workpiece

from .reader import RunRecords


@dataclass(frozen=True)
class ConditionSites:
    """One condition of the claim check on one wafer: per entry (site, or unit for a
    condition on units, or the wafer for a wafer-level one) checked and passing."""

    claim: str
    condition: str
    checked: np.ndarray
    passing: np.ndarray
    #: the id of the workpiece the condition is read on when it is not the wafer (its
    #: entries are that workpiece's sites)
    on: str | None = None
    #: Why the condition is not judged on this wafer, as a map's table says it (the run
    #: recorded no twin of `on`; the wafer never completed the step it is judged after):
    #: then `checked` and `passing` are empty. None: judged.
    unjudged: str | None = None

    @property
    def failing(self) -> np.ndarray:
        """The entries checked that do not pass."""
        failing: np.ndarray = self.checked & ~self.passing
        return failing

    def per_site(self, site_count: int) -> bool:
        """Whether the entries are the wafer's sites (so the condition can be mapped)."""
        return self.checked.size == site_count


@dataclass(frozen=True)
class UnfinishedWafer:
    """A wafer that did not complete the method: its status (`held`, `terminated`,
    `running`...) and the claim ids whose every step it completed (`unfinished_wafer`)."""

    status: str
    claims_run: frozenset[str]


#: A step's statuses in the records once it is behind the wafer (a released one is skipped).
STEP_BEHIND = ("completed", "skipped")


def unfinished_wafer(records: RunRecords, wafer_id: str) -> UnfinishedWafer | None:
    """How far lot wafer `wafer_id` went, if it did not complete the method (None if it did):
    the claims whose every step it completed, each step its records tagged with the claim
    and each its method's claim map names (`Method.claim_map`: a claim's later steps, which
    a wafer stopped before them has no record of). A claim the step that stopped it carries,
    or one whose steps it stopped between, is not run: a panel held at `form terminals` has
    no die in its holes, and its terminals judged there had counted every hole failing."""
    wafers = records.wafers()
    (status,) = wafers.loc[wafers["wafer_id"] == wafer_id, "status"]
    if status == "completed":
        return None
    latest: dict[str, dict[str, Any]] = {}  # each step's latest record, by its name
    for step in records.store.steps(records.run_id):  # in the order recorded
        if step["wafer_id"] == wafer_id:
            latest[step["name"]] = step
    behind = {name for name, step in latest.items() if step["status"] in STEP_BEHIND}
    steps_of: dict[str, set[str]] = {}
    for name, step in latest.items():
        for claim in step["claims"]:
            steps_of.setdefault(claim, set()).add(name)
    claim_map = known_claim_map(records)
    return UnfinishedWafer(
        str(status),
        frozenset(
            claim
            for claim, names in steps_of.items()
            if names | set(STEP_NAMED.findall(claim_map.get(claim, ""))) <= behind
        ),
    )


def known_claim_map(records: RunRecords) -> Mapping[str, str]:
    """The claim map of the run's method (empty for a method this release does not have)."""
    method = known_method(records.header()["method"])
    return {} if method is None else method.claim_map


def run_conditions(records: RunRecords) -> list[Condition]:
    """The conditions of the run's claim check, as its method states them for its recipe
    (none for a method that declares no claim check)."""
    header = records.header()
    method = get_method(header["method"])
    if method.claim_checks is None:
        return []
    recipe = method.read_recorded_recipe(records.run_id, header["recipe"])
    return list(method.claim_checks(recipe))


def condition_sites(
    conditions: list[Condition],
    wafer_id: str,
    twin: Callable[[str], Workpiece],
    at_step: TwinsAtSteps,
    unfinished: UnfinishedWafer | None = None,
) -> list[ConditionSites]:
    """Each condition evaluated on the twin of wafer `wafer_id` as the run left it (`twin`,
    by workpiece id), or, for one judged at a step, as that step left it (`at_step`), or,
    for one read on another workpiece, on that one's twin; one that cannot be (that twin
    unrecorded, the step never completed by the wafer: one held before it, or, for a wafer
    that did not complete the method (`unfinished`), a claim none of its steps carried out)
    named, with why, not judged."""
    results = []
    nothing = np.zeros(0, bool)
    for condition in conditions:
        on = None if condition.on is None else condition.on(wafer_id)
        unjudged = None
        if on is not None and not twin_recorded(twin, on):
            unjudged = f"read on {on}, whose twin the run did not record"
        elif condition.at is not None and not at_step.reached(wafer_id, condition.at):
            unjudged = f"judged after {condition.at}, which {wafer_id} did not complete"
        elif unfinished is not None and condition.claim not in unfinished.claims_run:
            unjudged = (
                f"{wafer_id} {unfinished.status} before completing the steps of {condition.claim}"
            )
        if unjudged is not None:
            results.append(
                ConditionSites(condition.claim, condition.text, nothing, nothing, on, unjudged)
            )
            continue
        if condition.at is not None:
            judged = at_step(wafer_id, condition.at)
        else:
            judged = twin(wafer_id if on is None else on)
        checked, passing = condition.judge(judged)
        results.append(ConditionSites(condition.claim, condition.text, checked, passing, on))
    return results


def twin_recorded(twin: Callable[[str], Workpiece], workpiece_id: str) -> bool:
    """Whether `twin` (`RunRecords.workpiece`) has a snapshot of `workpiece_id`."""
    try:
        twin(workpiece_id)
    except BadInput:
        return False
    return True
