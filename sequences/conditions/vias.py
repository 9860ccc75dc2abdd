"""Conditions on resin layers and their vias: cured, opened (and by which process), covering
the interconnects."""

from __future__ import annotations

import numpy as np

from packline.drivers.roles.oven import CURED_ALPHA
from packline.sequences.conditions.tips import every_site
from packline.sequences.engine import Condition, Margin
from packline.sim_instruments.physics.ball_mounter import reach_past_the_resist_um
from packline.sim_instruments.physics.resin_coater import (
    MIN_COVER_UM,
    interconnects,
    resin_cover_um,
)
from packline.sim_instruments.twin import Workpiece
from packline.sim_instruments.twin.parts import (
    Face,
    OpeningLayer,
    OpeningProcess,
    OpeningStage,
    ResinKind,
    ResinLayer,
)


def _top_vias_open(w: Workpiece) -> np.ndarray:
    top = w.top_resin()
    return top[1].open if top is not None else np.zeros(w.geometry.site_count, bool)


def resin_cured(claim: str, *, at: str, min_cure: float = CURED_ALPHA) -> Condition:
    """Every resin layer is cured (degree of cure at least `min_cure`) over every site
    (002:1g) as the cure step `at` (its name in the method's script) left it: the claim
    heats the resin to cure it there, and a later heat (the balls' reflow) curing it further
    does not make that step a cure. A workpiece without resin has nothing cured, and fails."""
    return Condition(
        claim,
        f"every resin layer cured (>= {min_cure:g}) by '{at}'",
        lambda w: (every_site(w), _least_cure(w) >= min_cure),
        Margin("degree of cure", "", _least_cure, min_cure),
        at=at,
    )


def _least_cure(w: Workpiece) -> np.ndarray:
    """At every site, the degree of cure of the least cured resin layer (a layer cures as a
    whole; 0 without resin: nothing cured)."""
    least = min((layer.cure for layer in w.resins.layers), default=0.0)
    return np.full(w.geometry.site_count, least)


def vias_open(claim: str) -> Condition:
    """A via is open down to the metal at every site of the top resin layer (002:1h); without
    resin there is no via, and the condition fails."""
    return Condition(
        claim, "every via open down to metal", lambda w: (every_site(w), _top_vias_open(w))
    )


def _first_stage(w: Workpiece) -> OpeningStage | None:
    """What the first process left of the top resin layer's openings (None: no process yet)."""
    top = w.top_resin()
    return top[1].stages[0] if top is not None and top[1].stages else None


def _concave_with_resin_below(w: Workpiece) -> np.ndarray:
    first = _first_stage(w)
    if first is None:
        return np.zeros(w.geometry.site_count, bool)
    return (first.depth_um > 0) & (first.left_um > 0)


def concave_portions_with_resin_below(claim: str) -> Condition:
    """The first process that opened the top resin layer left a concave portion at every site
    with resin at its bottom (002:1f: it opens only part of the depth); without resin, or
    before any process opened it, the condition fails. Its margin is the resin left at the
    bottoms; its other part the concave portions' depth, which a failing row shows where the
    first process left none (an underexposed develop: `0 um, must be above 0 um`)."""
    return Condition(
        claim,
        "a concave portion with resin below at every site",
        lambda w: (every_site(w), _concave_with_resin_below(w)),
        Margin("resin left below a concave portion", "um", _resin_left_um, 0.0, strict=True),
        parts=(Margin("concave portion depth", "um", _concave_depth_um, 0.0, strict=True),),
    )


def _resin_left_um(w: Workpiece) -> np.ndarray:
    """The resin the first process left at each site's bottom: below its concave portion, the
    whole layer where it made none (0 before any process)."""
    first = _first_stage(w)
    return np.zeros(w.geometry.site_count) if first is None else first.left_um


def _concave_depth_um(w: Workpiece) -> np.ndarray:
    """How deep the first process made each site's concave portion (0: none, or before any
    process)."""
    first = _first_stage(w)
    return np.zeros(w.geometry.site_count) if first is None else first.depth_um


def _opening_process(openings: OpeningLayer) -> np.ndarray:
    """Per site, the process (its value) after which no resin was left there ("": none)."""
    kinds = np.array([stage.process.value for stage in openings.stages] + [""])
    process: np.ndarray = kinds[openings.opened_by()]
    return process


def _opened_by_a_second_process(w: Workpiece) -> np.ndarray:
    """Sites of the top resin layer open onto the metal, opened by a later process of another
    kind than the one that made the concave portion there."""
    top = w.top_resin()
    concave = _concave_with_resin_below(w)
    if top is None or not concave.any():
        return concave
    openings = top[1]
    process = _opening_process(openings)
    first = openings.stages[0].process.value
    opened: np.ndarray = concave & openings.open & (process != "") & (process != first)
    return opened


def vias_opened_by_a_second_process(claim: str) -> Condition:
    """Every via of the top resin layer open onto the metal, through the bottom of a concave
    portion the first process left, by a second process that differs from the first (002:1h:
    a via lasered or developed all the way at once fails)."""
    return Condition(
        claim,
        "every via opened through its concave bottom by a second, different process",
        lambda w: (every_site(w), _opened_by_a_second_process(w)),
    )


def _covering(w: Workpiece) -> ResinLayer | None:
    top = w.top_resin()
    return top[0] if top is not None else None


def covering_resin(claim: str, kinds: frozenset[ResinKind], text: str) -> Condition:
    """The top resin layer, the one covering the interconnects, is of one of `kinds` (002:10,
    002:11, 002:14: what it was formed from); without resin the condition fails."""

    def evaluate(w: Workpiece) -> tuple[np.ndarray, np.ndarray]:
        layer = _covering(w)
        return np.ones(1, bool), np.array([layer is not None and layer.kind in kinds])

    return Condition(claim, f"the covering resin is {text}", evaluate)


def first_process_was(claim: str, process: OpeningProcess) -> Condition:
    """The first process that opened the top resin layer was `process` at every site
    (002:12: irradiated and developed)."""

    def evaluate(w: Workpiece) -> tuple[np.ndarray, np.ndarray]:
        first = _first_stage(w)
        made = first is not None and first.process is process
        return every_site(w), _concave_with_resin_below(w) & made

    return Condition(claim, f"the concave portions made by {process.value}", evaluate)


def vias_opened_by(claim: str, process: OpeningProcess) -> Condition:
    """Every via of the top resin layer was opened onto the metal by `process` (002:13: dry
    etching)."""

    def evaluate(w: Workpiece) -> tuple[np.ndarray, np.ndarray]:
        top = w.top_resin()
        if top is None or not top[1].stages:
            return every_site(w), np.zeros(w.geometry.site_count, bool)
        openings = top[1]
        return every_site(w), openings.open & (_opening_process(openings) == process.value)

    return Condition(claim, f"every via opened by {process.value}", evaluate)


def terminal_on_every_via(claim: str) -> Condition:
    """At every open via of the top resin layer a solder ball stands, reaching the
    interconnect at its bottom, reflowed into a joint with it and touching no neighbour
    (002:1i: the external connection terminals); a workpiece without resin or vias fails. A
    ball sinks into its via by its sag (`ball_sag_um`): over a via narrower than it against
    the resin's depth it sits on the rim, where no reflow joins it. The margin is each
    ball's reach past the resin to the interconnect (`reach_past_the_resist_um`)."""

    def evaluate(w: Workpiece) -> tuple[np.ndarray, np.ndarray]:
        balls = w.balls
        sound = balls.present & balls.joined & ~balls.bridged & (balls.face is Face.FRONT)
        top = w.top_resin()
        if top is None or not top[1].open.any():
            return every_site(w), np.zeros(w.geometry.site_count, bool)
        return top[1].open, sound & (reach_past_the_resist_um(w) >= 0)

    return Condition(
        claim,
        "a joined terminal on every via, reaching its interconnect, none bridged",
        evaluate,
        Margin("ball's reach to the interconnect", "um", reach_past_the_resist_um, 0.0),
    )


def layer_open_at_pads(claim: str, kind: ResinKind, min_cure: float = CURED_ALPHA) -> Condition:
    """A cured front resin layer of `kind` below the top one, open down to the pad at every
    site (002:17: the stress-relieving layer under the interconnects); without one the
    condition fails."""

    def evaluate(w: Workpiece) -> tuple[np.ndarray, np.ndarray]:
        layers = list(zip(w.resins.layers, w.openings.layers, strict=True))[:-1]
        opened = np.zeros(w.geometry.site_count, bool)
        for layer, openings in layers:
            if layer.kind is kind and layer.face is Face.FRONT and layer.cure >= min_cure:
                opened |= openings.open
        return every_site(w), opened

    return Condition(claim, f"a cured {kind.value} layer open at every pad", evaluate)


def interconnects_covered(claim: str, min_um: float = MIN_COVER_UM) -> Condition:
    """At least `min_um` of resin over every interconnect (each bump and the conductive films
    on it) on the front (002:1e: resin layers covering the interconnections); a coat too thin
    for the bumps' height leaves their tops bare or skinned, and fails."""
    return Condition(
        claim,
        f"interconnects covered by resin (>= {min_um:g} um)",
        lambda w: (interconnects(w), resin_cover_um(w) >= min_um),
        Margin("resin over the interconnects", "um", resin_cover_um, min_um),
    )
