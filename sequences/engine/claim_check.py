"""The claim check of a dry run: the claim's conditions evaluated on the simulated product.

A method declares `claim_checks=` in `@method(...)`: a function of its recipe returning the
`Condition`s its product must meet (the gas sequence of a recipe decides which claims it
carries out, so it decides which conditions apply). After a dry run the engine evaluates every
condition on the twin of every wafer that completed the method (held or terminated wafers are
not checked) and aggregates per condition over the lot: sites checked, sites passing, and the
wafers with a failing site. A wafer holding nothing a condition judges (no seed at the level
it judges) is no pass: the condition's verdict names it and the run's check is incomplete,
unless holding nothing is the claim's own condition (`Condition.nothing_is_fine`). Reusable
predicates live in `packline.sequences.conditions`.

On real tools there is no twin: the sequence checks what the tools measure (`wafer.measure`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from packline.claims import claim as catalogued_claim
from packline.shown_figures import decimals_of, figure_text

if TYPE_CHECKING:  # the readers of a check's records (`margin_text`, `overall`) load neither
    import numpy as np

    from packline.sim_instruments.twin import Workpiece

    #: Which sites (or units) a condition looks at, and which of those pass; same length.
    Evaluate = Callable[[Workpiece], tuple[np.ndarray, np.ndarray]]
    #: A wafer's twin as the step of that name last left it, read back from the records.
    TwinAtStep = Callable[[str, str], Workpiece]
#: The verdict of a condition no wafer was checked for.
NOT_CHECKED = "not checked"
#: The significant digits of a margin's figures (`margin_text`; the records keep every one).
MARGIN_DIGITS = 3
#: What a claim check that checked nothing says of itself (`what_did_not_pass`).
NOTHING_CHECKED = "nothing checked: no wafer completed the method"


class WorstSite(NamedTuple):
    """A margin quantity's worst checked entry: its value, the workpiece it is on, and its
    index among the workpiece's sites or units (None for a workpiece-level condition, whose
    one entry is the workpiece), and of a site, the unit it belongs to (`Geometry.unit_of`:
    the die of a pad; None otherwise)."""

    value: float
    workpiece: str
    entry: int | None
    unit: int | None = None


@dataclass(frozen=True)
class Margin:
    """How close a condition came to failing: a quantity per site (the same sites as the
    condition's `evaluate`, in `unit`) that must stay above `limit` (`above`) or below it,
    reaching it or, `strict`, not (a tip must project above 0 um: at 0 um it fails).
    The claim check reports the worst checked site over the lot and its distance to the limit
    (the smallest tip projection and how far above 0 um it stands)."""

    quantity: str
    unit: str
    value: Callable[[Workpiece], np.ndarray]
    limit: float
    above: bool = True
    strict: bool = False

    def worst_site(self, workpiece: Workpiece, checked: np.ndarray) -> WorstSite | None:
        """The worst checked site of one wafer, and where it is (None: nothing checked)."""
        import numpy as np

        values = np.broadcast_to(np.asarray(self.value(workpiece), float), checked.shape)
        entries = np.flatnonzero(checked)
        if not entries.size:
            return None
        entry = int(entries[self._worst_index(values[entries])])
        return _site(workpiece, checked, entry, float(values[entry]))

    def worst_of(self, sites: Sequence[WorstSite]) -> WorstSite:
        """The worst of `sites` (each wafer's worst): the smallest where the quantity must
        stay above the limit, the largest where below."""
        return sites[self._worst_index([site.value for site in sites])]

    def _worst_index(self, values: Sequence[float] | np.ndarray) -> int:
        """Where the worst of `values` is (the first of equals; a NaN, where there is one)."""
        import numpy as np

        return int(np.argmin(values) if self.above else np.argmax(values))

    def distance(self, worst: float) -> float:
        """How far `worst` is from the limit on the passing side (negative: failing)."""
        return worst - self.limit if self.above else self.limit - worst

    def fails(self, worst: float) -> bool:
        """Whether `worst` is on the failing side of the limit (at it, where `strict`)."""
        distance = self.distance(worst)
        return distance < 0 or (self.strict and distance <= 0)


@dataclass(frozen=True)
class Condition:
    """One condition of a claim on the product, evaluated on a wafer's twin.

    `evaluate(workpiece)` returns two boolean arrays of the same length: the sites (or units)
    checked, and which of them pass (only checked entries count). A wafer-level condition
    returns arrays of length 1. `claim` must be an id of `packline.claims.CLAIMS`."""

    claim: str
    text: str
    evaluate: Evaluate
    #: the quantity whose worst site says how close the product came to failing, if any
    margin: Margin | None = None
    #: the id of the workpiece the condition reads, from the wafer's (None: the wafer itself),
    #: such as the board a wafer's chips were mounted on (003:24)
    on: Callable[[str], str] | None = None
    #: the step (by its name in the method's script) whose end leaves the state the claim
    #: speaks of: the condition is judged on the wafer's twin as that step left it, read
    #: back from the records, not as the run ended (the cure of 002:1g, which a later reflow
    #: cures further); None: at the end
    at: str | None = None
    #: what the condition judges, named for a wafer holding none of it ("nothing to check:
    #: no seed at level 0 on W01"): such a wafer leaves the condition not checked, never passed
    judges: str = "site it judges"
    #: True where holding nothing to judge is itself the claim's condition (a panel picked
    #: into another's stack has no stack to judge): such a wafer is skipped, not unjudged
    nothing_is_fine: bool = False
    #: the condition's other parts held to a limit, each a quantity that may fail where
    #: `margin`'s does not (a stack's height beside its terminals' landing error): a failing
    #: condition's row shows the first of `margin` and these whose worst site fails
    #: (`failing_part`), never a margin to spare
    parts: tuple[Margin, ...] = ()

    def __post_init__(self) -> None:
        catalogued_claim(self.claim)  # a wrong id is a programming error: KeyError
        if self.on is not None and self.at is not None:
            raise ValueError(f"condition {self.claim} {self.text!r}: either on or at, not both")

    @property
    def margins(self) -> tuple[Margin, ...]:
        """`margin` (if any), then `parts`: every quantity the condition holds to a limit."""
        return (() if self.margin is None else (self.margin,)) + self.parts

    def sites(self, workpiece: Workpiece) -> tuple[int, int]:
        """(sites checked, sites passing) on one wafer."""
        checked, passing = self.judge(workpiece)
        return int(checked.sum()), int((checked & passing).sum())

    def judge(self, workpiece: Workpiece) -> tuple[np.ndarray, np.ndarray]:
        """The sites checked and passing on one wafer (`evaluate`, its arrays' shapes
        checked)."""
        import numpy as np

        checked, passing = self.evaluate(workpiece)
        checked, passing = np.asarray(checked, bool), np.asarray(passing, bool)
        if checked.ndim != 1 or checked.shape != passing.shape:
            raise ValueError(
                f"condition {self.claim} {self.text!r}: evaluate returned arrays of shapes "
                f"{checked.shape} and {passing.shape}; expected two 1-D arrays of one length"
            )
        return checked, passing


@dataclass(frozen=True)
class ConditionResult:
    """One condition aggregated over the checked wafers of a lot."""

    claim: str
    condition: str
    wafers_checked: int
    sites_checked: int
    sites_passing: int
    failing_wafers: tuple[str, ...]
    #: the margin quantity (name, unit, limit), and its worst checked site over the lot: a
    #: failing condition's the part that failed (`failing_part`; None: no quantity did)
    margin: Margin | None = None
    #: that worst site: its value, the workpiece and its entry (`WorstSite`); of a failing
    #: condition none of whose figures failed (`margin` None), its first failing site, with
    #: no value (NaN)
    worst_at: WorstSite | None = None
    #: what the condition judges, and the wafers holding none of it (`Condition.judges`)
    judges: str = "site it judges"
    unjudged_wafers: tuple[str, ...] = ()
    #: what `sites_checked` and `sites_passing` count, one of them ("pad", "die", "wafer":
    #: `Geometry.counted`); None where it cannot be told (no wafer checked)
    counted: str | None = None

    @property
    def verdict(self) -> str:
        """pass, fail, 'nothing to check: no seed at level 0 on W01' (a wafer held nothing
        the condition judges: it did not pass there), or 'not checked' (no wafer)."""
        if self.sites_passing < self.sites_checked:
            return "fail"
        if self.unjudged_wafers:
            return f"nothing to check: no {self.judges} on {', '.join(self.unjudged_wafers)}"
        return "pass" if self.sites_checked else NOT_CHECKED

    def to_dict(self) -> dict[str, Any]:
        return {
            "claim": self.claim,
            "condition": self.condition,
            "wafers_checked": self.wafers_checked,
            "sites_checked": self.sites_checked,
            "sites_passing": self.sites_passing,
            "counted": self.counted,
            "failing_wafers": list(self.failing_wafers),
            "verdict": self.verdict,
            **margin_columns(self.margin, self.worst_at),
        }


def judged_at(claim: str, text: str, parts: Sequence[Condition]) -> str | None:
    """Where a condition made of `parts` is judged: at the one step a part names (`at`),
    every part there; None when none names one. Parts naming different steps are a
    programming error (one twin is judged)."""
    steps = {part.at for part in parts if part.at is not None}
    if len(steps) > 1:
        raise ValueError(f"condition {claim} {text!r}: its parts are judged at {sorted(steps)}")
    return steps.pop() if steps else None


def check_claims(
    conditions: Sequence[Condition],
    workpieces: Mapping[str, Workpiece],
    get: Callable[[str], Workpiece] | None = None,
    at_step: TwinAtStep | None = None,
) -> list[ConditionResult]:
    """Evaluate every condition on every workpiece (wafer id -> twin) and aggregate; a
    condition `on` another workpiece reads that one's twin from `get` (the twin store), one
    `at` a step reads the wafer's twin as that step left it from `at_step` (the records).
    Each workpiece is looked up once, all its conditions evaluated on it before the next: a
    lazy `workpieces` (a lot's wafers read back from the records) holds one wafer at a time."""
    checked = [0] * len(conditions)
    passing = [0] * len(conditions)
    counted: list[str | None] = [None] * len(conditions)
    failing: list[list[str]] = [[] for _ in conditions]
    # per condition, per margin of `Condition.margins`: the worst site of each wafer
    worsts: list[list[list[WorstSite]]] = [[[] for _ in c.margins] for c in conditions]
    unjudged: list[list[str]] = [[] for _ in conditions]
    # per condition, its first failing site: where a failing row without a figure points
    first_failing: list[WorstSite | None] = [None] * len(conditions)
    for wafer_id, wafer in workpieces.items():
        for index, condition in enumerate(conditions):
            workpiece = wafer
            if condition.on is not None:
                if get is None:
                    raise ValueError(f"condition {condition.claim}: no twin store to read from")
                workpiece = get(condition.on(wafer_id))
            if condition.at is not None:
                if at_step is None:
                    raise ValueError(f"condition {condition.claim}: no records to read from")
                workpiece = at_step(wafer_id, condition.at)
            sites, passes = condition.judge(workpiece)
            wafer_checked, wafer_passing = int(sites.sum()), int((sites & passes).sum())
            counted[index] = counted[index] or workpiece.geometry.counted(sites.size)
            checked[index] += wafer_checked
            passing[index] += wafer_passing
            if wafer_passing < wafer_checked:
                failing[index].append(wafer_id)
                if first_failing[index] is None:
                    first_failing[index] = _first_failing(workpiece, sites, passes)
            if not wafer_checked and not condition.nothing_is_fine:
                unjudged[index].append(wafer_id)
            margin_worsts = [margin.worst_site(workpiece, sites) for margin in condition.margins]
            for wafers_worsts, worst in zip(worsts[index], margin_worsts, strict=True):
                if worst is not None:
                    wafers_worsts.append(worst)
    results = []
    for index, condition in enumerate(conditions):
        lot_worsts = [
            margin.worst_of(values) if values else None
            for margin, values in zip(condition.margins, worsts[index], strict=True)
        ]
        if passing[index] < checked[index]:
            margin, worst = failing_part(condition.margins, lot_worsts)
            if margin is None:  # no figure failed: the row points at the first site that did
                worst = first_failing[index]
        else:
            margin, worst = condition.margin, lot_worsts[0] if condition.margin else None
        results.append(
            ConditionResult(
                condition.claim,
                condition.text,
                len(workpieces),
                checked[index],
                passing[index],
                tuple(failing[index]),
                margin,
                worst,
                condition.judges,
                tuple(unjudged[index]),
                counted[index],
            )
        )
    return results


def _first_failing(workpiece: Workpiece, sites: np.ndarray, passes: np.ndarray) -> WorstSite:
    """The first checked site of a workpiece that fails a condition (`sites` and `passes` as
    the condition judged them; at least one fails), as a worst site without a figure."""
    import numpy as np

    return _site(workpiece, sites, int(np.flatnonzero(sites & ~passes)[0]), math.nan)


def _site(workpiece: Workpiece, judged: np.ndarray, entry: int, value: float) -> WorstSite:
    """Entry `entry` of `judged` (a condition's entries over `workpiece`) as a worst site of
    `value`: the workpiece itself where the condition judges it alone (one entry), and a
    site's unit with it."""
    if judged.size == 1:
        return WorstSite(value, workpiece.id, None)
    return WorstSite(value, workpiece.id, entry, workpiece.geometry.unit_of(judged.size, entry))


def failing_part(
    margins: Sequence[Margin], worsts: Sequence[WorstSite | None]
) -> tuple[Margin | None, WorstSite | None]:
    """What a failing condition's row shows: the first of its `margins` (`Condition.margins`)
    whose worst site over the lot (`worsts`, one each) fails its limit, and that worst; (None,
    None) where none does (what failed is a part judged yes or no: the row shows no margin
    rather than one to spare)."""
    for margin, worst in zip(margins, worsts, strict=True):
        if worst is not None and margin.fails(worst.value):
            return margin, worst
    return None, None


def margin_columns(margin: Margin | None, worst: WorstSite | None) -> dict[str, Any]:
    """A condition's margin as the records keep it: the quantity, its unit, the limit, which
    side passes, the worst site, its distance to the limit, and where it is: the workpiece
    and its site or unit (None where there is none). A failing condition none of whose
    figures failed has no margin, and where it is is its first failing site's."""
    if margin is None or worst is None:
        return {
            "margin_quantity": None if margin is None else margin.quantity,
            "margin_unit": None if margin is None else margin.unit,
            "margin_limit": None if margin is None else margin.limit,
            "margin_above": None if margin is None else int(margin.above),
            "margin_strict": None if margin is None else int(margin.strict),
            "margin_worst": None,
            "margin": None,
            "margin_workpiece": None if worst is None else worst.workpiece,
            "margin_entry": None if worst is None else worst.entry,
            "margin_entry_unit": None if worst is None else worst.unit,
        }
    return {
        "margin_quantity": margin.quantity,
        "margin_unit": margin.unit,
        "margin_limit": margin.limit,
        "margin_above": int(margin.above),
        "margin_strict": int(margin.strict),
        "margin_worst": worst.value,
        "margin": margin.distance(worst.value),
        "margin_workpiece": worst.workpiece,
        "margin_entry": worst.entry,
        "margin_entry_unit": worst.unit,
    }


def margin_text(condition: Mapping[str, Any]) -> str:
    """A condition's recorded margin (`margin_columns`) as one phrase an engineer reads at a
    glance: what was measured at the worst site, the limit, and how far it stands from it:
    'smallest tip projection 14.8 um, at least 13.6 um: 1.2 um to spare', 'smallest wiring
    metal 2.78 um, at least 4.5 um: 1.72 um short', 'largest residue 0.3 nm, at most 0.1 nm:
    0.2 nm over', or '-' without a margin (each figure to `MARGIN_DIGITS` significant digits,
    the worst site to as many more as tell it from the limit: 'smallest solder layer 7.9996
    um, at least 8 um: 0.0004 um short', where 3 had read '8 um, at least 8 um'; the records
    keep every digit). A strict limit reads as one, a site at it failing: 'smallest resin left
    below a concave portion 0 um, must be above 0 um: 0 um short'. A failing condition's row
    is the part that failed (`failing_part`), never a margin to spare: one recorded before it
    was (a margin to spare beside a failing verdict) reads '-'. The figures alone: `diff`
    compares them between runs, whose worst sites lie where each run's draws put them;
    `located_margin_text` adds where the worst site is."""
    worst, unit = condition.get("margin_worst"), condition.get("margin_unit")
    if worst is None:
        return "-"
    above, strict = condition["margin_above"], condition.get("margin_strict")
    # a passing site is above a minimum, below a maximum; a failing one short of it, or over
    side, bound, failing = (
        ("smallest", "at least", "short") if above else ("largest", "at most", "over")
    )
    if strict:
        bound = "must be above" if above else "must be below"
    margin, limit = condition["margin"], condition["margin_limit"]
    fails = margin < 0 or (bool(strict) and margin <= 0)
    if condition.get("verdict") == "fail" and not fails:
        return "-"
    unit = f" {unit}" if unit else ""  # a degree of cure has none
    if math.isinf(worst):
        return _unbounded_text(condition, side, f"{bound} {_figure(limit)}{unit}", fails, failing)
    distance = _figure(abs(margin) if fails else margin)
    spare = f"{distance}{unit} {failing if fails else 'to spare'}"
    # the site and the limit to the margin's decimals: the three add up
    places = decimals_of(distance)
    bounded = f"{bound} {_figure(limit, decimals=places)}{unit}"
    worst_text = _figure(worst, limit, decimals=places)  # a failing site never reads as its limit
    return f"{side} {condition['margin_quantity']} {worst_text}{unit}, {bounded}: {spare}"


def _unbounded_text(
    condition: Mapping[str, Any], side: str, bounded: str, fails: bool, failing: str
) -> str:
    """`margin_text` of an unbounded worst site: where nothing holds the quantity back at any
    checked site ('smallest ball's reach to the interconnect: no site near the limit (at
    least 0 um)', every ball narrower than its via, dropped onto its metal), or where it is
    past every bound at one ('largest contact resistance unbounded, at most 50 mOhm: over',
    a site whose metal touches nothing); its figure had read 'inf um: inf um to spare'."""
    quantity = condition["margin_quantity"]
    if fails:
        return f"{side} {quantity} unbounded, {bounded}: {failing}"
    return f"{side} {quantity}: no site near the limit ({bounded})"


def located_margin_text(condition: Mapping[str, Any]) -> str:
    """`margin_text`, then where its worst site is: the workpiece and its site or unit as the
    report's maps number them ('... 11.4 mOhm over (W02 pad 5120 on die 160)'; a wafer-level
    condition's, the wafer: '(W03)'), where the records say (schema 18, decision 0127) and
    the phrase has a figure: what the run's summary, `show` and the report print. A failing
    row with no figure (a yes-or-no condition, 001:14's chain from pad to ball) names the
    first site that failed: 'first failing at W01 pad 16 on die 0'."""
    text = margin_text(condition)
    workpiece = condition.get("margin_workpiece")
    if not isinstance(workpiece, str):  # null: None, or NaN in a data frame
        return text
    worst = condition.get("margin_worst")
    if worst is None or worst != worst:  # no figure (NaN: in a data frame)
        failing = condition.get("verdict") == "fail"
        return f"first failing at {_where(condition, workpiece)}" if failing else text
    if text == "-" or condition["margin"] == math.inf:  # none is the worst site
        return text
    return f"{text} ({_where(condition, workpiece)})"


def _where(condition: Mapping[str, Any], workpiece: str) -> str:
    """The workpiece of a recorded condition's site, and the site or unit as the maps number
    them, a site with the unit it is on, as the maps' hover gives it ('W02 pad 5120 on die
    160': a trial had to find on the maps which die pad 5120 is on); a wafer-level
    condition's, the wafer alone."""
    from packline.sim_instruments.twin.parts.geometry import UNIT_OF_SITE

    entry = _recorded_number(condition.get("margin_entry"))
    if entry is None:  # a wafer-level condition's
        return workpiece
    counted = condition["counted"]
    unit = _recorded_number(condition.get("margin_entry_unit"))
    on = "" if unit is None else f" on {UNIT_OF_SITE[counted]} {unit}"
    return f"{workpiece} {counted} {entry}{on}"


def _recorded_number(recorded: Any) -> int | None:
    """A recorded column's whole number; None where it is absent: None, NaN or pandas' NA
    (a `RunRecords.claim_checks()` row's, whose entry columns are nullable integers)."""
    if not isinstance(recorded, numbers.Real) or recorded != recorded:
        return None
    return int(float(recorded))


def _figure(value: float, *limits: float, decimals: int = 0) -> str:
    """A margin's figure to `MARGIN_DIGITS` significant digits, told from `limits`, to at
    least `decimals` (`figure_text`)."""
    return figure_text(value, *limits, digits=MARGIN_DIGITS, decimals=decimals)


def overall(verdicts: Sequence[str]) -> str:
    """The run's claim check from its conditions' verdicts: failed if any failed, passed if
    all passed, else incomplete (some condition had nothing to check on a wafer, or no wafer)."""
    if "fail" in verdicts:
        return "failed"
    return "passed" if all(v == "pass" for v in verdicts) else "incomplete"


#: What a claim check's verdict adds where some of the lot's wafers did not complete: a pass
#: of one wafer of four had read as the lot's.
COMPLETED_ONLY = " for the wafers that completed only"


def unchecked_wafers(statuses: Iterable[tuple[str, str]]) -> list[str]:
    """The wafers (id, status) a claim check did not check: those that did not complete the
    method (held, scrapped, stopped), in the order given."""
    return [wafer for wafer, status in statuses if status != "completed"]


def nothing_checked(verdicts: Sequence[str]) -> bool:
    """Whether a claim check checked nothing: no wafer completed the method, so every
    condition is `not checked` (a failed dry run's)."""
    return bool(verdicts) and all(verdict == NOT_CHECKED for verdict in verdicts)


def what_did_not_pass(conditions: Sequence[tuple[str, str, str]]) -> str:
    """The conditions (claim, condition, verdict) that did not pass, as one phrase: those
    violated ('the product violates claim 003:11 (no oxide ...)'), then those with nothing
    to check ('not checked: claim 002:1a-d (the seed etched apart): nothing to check: no seed
    at level 0 on W01'); `NOTHING_CHECKED` when no condition checked a wafer (each condition
    named `not checked` had only said so at length); empty when every condition passed."""
    if nothing_checked([verdict for _, _, verdict in conditions]):
        return NOTHING_CHECKED
    violated = [
        f"claim {claim} ({name})" for claim, name, verdict in conditions if verdict == "fail"
    ]
    unchecked = [
        f"claim {claim} ({name}): {verdict}"
        for claim, name, verdict in conditions
        if verdict not in ("pass", "fail")
    ]
    phrases = []
    if violated:
        phrases.append("the product violates " + "; ".join(violated))
    if unchecked:
        phrases.append("not checked: " + "; ".join(unchecked))
    return "; ".join(phrases)
