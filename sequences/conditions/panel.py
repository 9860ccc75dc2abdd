"""Conditions on a tape panel's units (method 000): holes, filler, dies, sealing, grinding,
balls; a frame's conductor columns and the packages stacked on them (000:x2); on a metal plate
(000:x3), the lands it is patterned into."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from packline.sequences.conditions.solder_resist import inside_opening_um
from packline.sequences.conditions.tips import every_site
from packline.sequences.engine import Condition, Margin
from packline.shown_figures import figure_text
from packline.sim_instruments.physics.ball_mounter import (
    reach_past_the_resist_um,
    site_positions,
)
from packline.sim_instruments.physics.dispenser import hole_area_um2
from packline.sim_instruments.physics.grinder import base_um
from packline.sim_instruments.twin import Workpiece
from packline.sim_instruments.twin.parts import DIELECTRICS, UM3_PER_NL, Face, Film, ResinKind


def singulated_into_dies(claim: str) -> Condition:
    """Dicing gave as many separate units as the wafer has whole dies (or the panel units)."""
    return Condition(
        claim,
        "singulated units == whole dies",
        lambda w: (np.ones(1, bool), np.array([w.singulation.units == w.geometry.unit_count])),
    )


def _units_with_die(w: Workpiece, bonded_only: bool) -> np.ndarray:
    """Per unit: it carries a die (bonded and active side down, if `bonded_only`)."""
    dies = w.dies
    carries = np.zeros(w.geometry.unit_count, bool)
    carries[dies.unit] = dies.bonded & dies.face_down if bonded_only else True
    return carries


def _unit_has_die(w: Workpiece, bonded_only: bool) -> np.ndarray:
    """Per site: its unit carries a die (`_units_with_die`)."""
    has: np.ndarray = _units_with_die(w, bonded_only)[w.geometry.site_unit]
    return has


def terminals_seated(claim: str) -> Condition:
    """A die's terminal sits in every hole (or on every pad) of every unit (000:c), a frame's
    column sites (000:x2) apart; a unit without a die, or a misaligned die held off by a
    terminal, fails."""
    return Condition(
        claim,
        "a terminal seated at every site",
        lambda w: (w.geometry.terminal_site, w.dies.seated),
    )


def filler_at_hole_tops(claim: str, tolerance: float = 0.05) -> Condition:
    """In every hole, filler and terminal bring the filler's top to the hole's top within
    `tolerance` of its depth, nothing spilt (000:b-c): no void, no overflow. The text names
    the tolerance as the recipe gives it, as its margin does (a fill tolerance of 0.045 read
    `+-4%` beside a margin of at most 4.5 %)."""

    def evaluate(w: Workpiece) -> tuple[np.ndarray, np.ndarray]:
        depth = w.openings.substrate.depth_um
        at_top = (_fill_error(w) <= tolerance) & (w.fill.overflow_nl <= 0)
        return w.geometry.hole, at_top & (depth > 0)

    return Condition(
        claim,
        f"filler at every hole's top (+-{figure_text(100 * tolerance)}%, no spill)",
        evaluate,
        Margin(
            "fill level off the hole's top",
            "%",
            lambda w: 100 * _fill_error(w),
            100 * tolerance,
            above=False,
        ),
    )


def _fill_error(w: Workpiece) -> np.ndarray:
    """Per site, how far the filler's top stands from the hole's top, as a share of the hole's
    depth, the filler spilt over the top counted where it would stand had the hole held it (a
    hole held at its meniscus that spilt reads over the tolerance, not at it); infinite where
    there is no hole."""
    depth = w.openings.substrate.depth_um
    area_um2 = hole_area_um2(w)
    spilt_um = np.zeros(depth.shape)
    np.divide(w.fill.overflow_nl * UM3_PER_NL, area_um2, out=spilt_um, where=area_um2 > 0)
    error = np.full(depth.shape, np.inf, np.float32)
    np.divide(np.abs(w.fill.level_um + spilt_um - depth), depth, out=error, where=depth > 0)
    return error


def dies_bonded_face_down(claim: str) -> Condition:
    """Every unit carries a die bonded to it active side down (000:d), checked unit by unit
    (its count is of units, whatever the unit's sites: a hole's, a column's, a land's)."""
    return Condition(
        claim,
        "a die bonded active side down on every unit",
        lambda w: (
            np.ones(w.geometry.unit_count, bool),
            _units_with_die(w, bonded_only=True),
        ),
    )


def joint_at_every_terminal(claim: str) -> Condition:
    """Every terminal of every placed die formed a joint with the site below (003:24)."""
    return Condition(
        claim,
        "a joint at every terminal of the mounted dies",
        lambda w: (_unit_has_die(w, bonded_only=False), w.dies.joined),
    )


def _back_metal(w: Workpiece) -> np.ndarray:
    """Sites under which the substrate's back carries metal (a panel's interconnection layer)."""
    metal = np.zeros(w.geometry.site_count, bool)
    for film in w.films.layers:
        if film.face is Face.BACK and film.material not in DIELECTRICS:
            metal |= film.present
    return metal


def holes_open_to_metal(claim: str) -> Condition:
    """Every through-hole of the substrate is open down to the metal interconnection layer
    under it (000:a); a hole short of it, or over no metal, fails."""
    return Condition(
        claim,
        "every hole through the tape, ending on metal",
        lambda w: (w.geometry.hole, w.openings.substrate.open & _back_metal(w)),
    )


def _resist_open(w: Workpiece) -> np.ndarray:
    top = w.top_resin(Face.BACK)
    return np.zeros(w.geometry.site_count, bool) if top is None else top[1].open


def solder_resist_opened(claim: str) -> Condition:
    """At every site of a solder resist opening (a hole site, or with an area array a land:
    `Geometry.resist_opening_site`) the back's solder resist is opened down to the metal
    (000:a: the openings the external terminals go through); a panel without solder resist
    fails."""
    return Condition(
        claim,
        "every solder resist opening down to metal",
        lambda w: (w.geometry.resist_opening_site, _resist_open(w) & _back_metal(w)),
    )


def _sealing_um(w: Workpiece) -> np.ndarray:
    """Sealing resin over each site (0 where there is none)."""
    total = np.zeros(w.geometry.site_count, np.float32)
    for layer in w.resins.on(Face.FRONT):
        if layer.kind is ResinKind.SEALING:
            total += layer.thickness_um
    return total


def _per_unit(w: Workpiece, values: np.ndarray, reduce: np.ufunc, start: float) -> np.ndarray:
    """`reduce` (np.minimum, np.maximum) of a per-site array over each unit's sites."""
    out = np.full(w.geometry.unit_count, start, np.float32)
    reduce.at(out, w.geometry.site_unit, values)
    return out


def _every_die(w: Workpiece) -> np.ndarray:
    """One entry per placed die; a workpiece without dies has one entry, which fails."""
    return np.ones(max(w.dies.count, 1), bool)


def sealed_around_every_die(claim: str, tolerance_um: float = 0.5) -> Condition:
    """Sealing resin on every die's unit reaches at least the die's back (within
    `tolerance_um`): its side faces are sealed to the top (000:e); no die, no seal."""

    def above_back_um(w: Workpiece) -> np.ndarray:
        """Per die, the lowest sealing resin on its unit above the die's back (-inf: no die)."""
        dies = w.dies
        if dies.count == 0:
            return np.full(1, -np.inf, np.float32)
        lowest = _per_unit(w, _sealing_um(w), np.minimum, np.inf)[dies.unit]
        above: np.ndarray = lowest - dies.thickness_um
        return above

    return Condition(
        claim,
        "sealing resin around every die, up to its back",
        lambda w: (_every_die(w), above_back_um(w) >= -tolerance_um),
        Margin("sealing resin above the die back", "um", above_back_um, -tolerance_um),
    )


def _die_tops(w: Workpiece) -> tuple[np.ndarray, np.ndarray]:
    """Per placed die: its back's height above the substrate, and the resin's top on its unit."""
    resin = _per_unit(w, w.resin_um, np.maximum, 0.0)[w.dies.unit]
    return w.dies.thickness_um, resin


def _per_die(w: Workpiece, deviation: Callable[[Workpiece], np.ndarray]) -> np.ndarray:
    """Per placed die, `deviation(w)`; a workpiece without dies has one entry, infinite."""
    if w.dies.count == 0:
        return np.full(1, np.inf, np.float32)
    return deviation(w)


def _thickness_error_um(w: Workpiece, target_um: float) -> np.ndarray:
    die, resin = _die_tops(w)
    error: np.ndarray = np.abs(base_um(w) + np.maximum(die, resin) - target_um)
    return error


def ground_to_thickness(claim: str, target_um: float, tolerance_um: float) -> Condition:
    """Every package (die and resin over the panel's base: the tape with its metal and solder
    resist) is `target_um` thick within `tolerance_um` (000:f)."""

    def error_um(w: Workpiece) -> np.ndarray:
        return _per_die(w, lambda w: _thickness_error_um(w, target_um))

    return Condition(
        claim,
        f"package thickness {target_um:g} um (+-{tolerance_um:g}) at every die",
        lambda w: (_every_die(w), error_um(w) <= tolerance_um),
        Margin("package thickness off target", "um", error_um, tolerance_um, above=False),
    )


def _flush_error_um(w: Workpiece) -> np.ndarray:
    die, resin = _die_tops(w)
    error: np.ndarray = np.abs(die - resin)
    return error


def die_backs_flush(claim: str, tolerance_um: float) -> Condition:
    """Every die's ground back is flush with the resin top around it, within `tolerance_um`
    (000:f)."""

    def error_um(w: Workpiece) -> np.ndarray:
        return _per_die(w, _flush_error_um)

    return Condition(
        claim,
        f"die backs flush with the resin (+-{tolerance_um:g} um)",
        lambda w: (_every_die(w), error_um(w) <= tolerance_um),
        Margin("die back off the resin top", "um", error_um, tolerance_um, above=False),
    )


def ball_in_every_opening(claim: str, balls_per_unit: int, first_site: int = 0) -> Condition:
    """A solder ball on the back in every solder resist opening among the `balls_per_unit`
    sites of each unit from its site `first_site`, its centre inside the opening (000:x1: the
    external terminals through the openings, peripheral or area array); an opening without
    its ball, or whose ball the mounter set down on the resist beside it, fails. The margin is
    the ball centre's distance inside its opening's edge (`inside_opening_um`)."""

    def inside_um(w: Workpiece) -> np.ndarray:
        return inside_opening_um(w, Face.BACK, whole_ball=False)

    def evaluate(w: Workpiece) -> tuple[np.ndarray, np.ndarray]:
        position = site_positions(w.geometry) - first_site
        mapped = _resist_open(w) & (position >= 0) & (position < balls_per_unit)
        on_back = w.balls.present & (w.balls.face is Face.BACK)
        return mapped, on_back & (inside_um(w) >= 0)

    return Condition(
        claim,
        "a ball in every solder resist opening",
        evaluate,
        Margin("ball centre inside its opening's edge", "um", inside_um, 0.0),
    )


def balls_reaching_the_metal(claim: str) -> Condition:
    """Every ball on the back sinks into its solder resist opening far enough to touch the
    metal below (000:x1, 000:x3: the external terminals through the openings, joined to the
    interconnections): a resist thicker than a ball's sag (`ball_sag_um`) holds it on the
    opening's rim, where no reflow joins it. The margin is the ball's reach past the resist,
    its sag less the resist's thickness (`reach_past_the_resist_um`)."""
    return Condition(
        claim,
        "every ball reaching the metal through its solder resist opening",
        lambda w: (w.balls.present, reach_past_the_resist_um(w) >= 0),
        Margin("ball's reach past the solder resist", "um", reach_past_the_resist_um, 0.0),
    )


def _plate(w: Workpiece) -> Film | None:
    """The metal on the panel's back: a metal substrate's plate (000:x3)."""
    for film in w.films.layers:
        if film.face is Face.BACK and film.material not in DIELECTRICS:
            return film
    return None


def _etched_through_islands(w: Workpiece) -> Film | None:
    """The plate, if an etch through resist islands patterned it (None: never so etched)."""
    plate = _plate(w)
    sites = w.geometry.site_count
    return plate if plate is not None and plate.land_um.size == sites else None


def _land_um(w: Workpiece) -> np.ndarray:
    """Per site, the width of the plate's land under it (0: none, or never patterned)."""
    plate = _etched_through_islands(w)
    if plate is None:
        return np.zeros(w.geometry.site_count, np.float32)
    return np.where(plate.present, plate.land_um, 0.0)


def _metal_between_um(w: Workpiece) -> np.ndarray:
    """Per site, the plate's metal left in the field around its land, joining it to the
    others (a plate never patterned: its whole thickness)."""
    plate = _etched_through_islands(w)
    if plate is not None:
        return plate.field_um
    whole = _plate(w)
    thickness = np.zeros(w.geometry.site_count, np.float32) if whole is None else whole.thickness_um
    return thickness


def lands_kept(claim: str, min_land_um: float) -> Condition:
    """Under every terminal the patterned plate kept a land at least `min_land_um` wide: the
    interconnection the die's stud is bonded on (000:x3); a plate never patterned, or a land
    the etch's undercut narrowed or took away, fails."""
    return Condition(
        claim,
        f"a land >= {min_land_um:g} um of the plate under every terminal",
        lambda w: (every_site(w), _land_um(w) >= min_land_um),
        Margin("land width", "um", _land_um, min_land_um),
    )


def plate_etched_through_between_lands(claim: str) -> Condition:
    """The plate etched through in the field around every land, so no metal joins one
    interconnection to another (000:x3: the plate patterned into interconnections); a panel
    without a plate has nothing to check."""
    return Condition(
        claim,
        "the plate etched through between the lands",
        lambda w: (_under_a_plate(w), _metal_between_um(w) <= 0),
        Margin("plate metal left between the lands", "um", _metal_between_um, 0.0, above=False),
        judges="metal plate",
    )


def _under_a_plate(w: Workpiece) -> np.ndarray:
    """Every site, where the back carries a plate; none without one (no metal between the
    lands to judge: it had read 0 um left and passed)."""
    plate = _plate(w) is not None
    return np.full(w.geometry.site_count, plate)


def _resist_over_land_edge_um(w: Workpiece) -> np.ndarray:
    """Per site, how far the back's outermost resin reaches over its land's edge around the
    opening there (half the land's width less the opening's; negative: the opening is
    wider than the land; minus infinity where no opening was made)."""
    top = w.top_resin(Face.BACK)
    over = np.full(w.geometry.site_count, -np.inf, np.float32)
    if top is not None:
        opening = top[1].diameter_um
        np.divide(_land_um(w) - opening, 2, out=over, where=opening > 0)
    return over


def solder_resist_opened_inside_every_land(claim: str) -> Condition:
    """A solder resist laid over a patterned plate is open down to every land, each opening
    inside its land, the resist over the land's edge (000:x3's optional solder resist: the
    lands opened, the interconnections around them covered); a plate whose back carries no
    resin fails everywhere. The margin is the resist's reach over the land's edge."""

    def evaluate(w: Workpiece) -> tuple[np.ndarray, np.ndarray]:
        opened = _resist_open(w) & (_land_um(w) > 0) & (_resist_over_land_edge_um(w) >= 0)
        return every_site(w), opened

    return Condition(
        claim,
        "the solder resist opened at every land, inside it",
        evaluate,
        Margin("solder resist over the land's edge", "um", _resist_over_land_edge_um, 0.0),
    )


def ball_on_every_land(claim: str, balls_per_unit: int) -> Condition:
    """A bump (solder ball) on the back on every land among the first `balls_per_unit` sites
    of each unit (000:x3's optional bumps on the interconnections)."""

    def evaluate(w: Workpiece) -> tuple[np.ndarray, np.ndarray]:
        mapped = (_land_um(w) > 0) & (site_positions(w.geometry) < balls_per_unit)
        return mapped, w.balls.present & (w.balls.face is Face.BACK)

    return Condition(claim, "a bump on every land of the map", evaluate)


def columns_joined(claim: str) -> Condition:
    """A frame's conductor column at every column site of every unit, its lower end seated in
    the hole and joined to the filler or metal below: its bottom end connected to the metal
    interconnection layer (000:x2); a unit without its frame fails."""
    return Condition(
        claim,
        "a column seated and joined at every column site",
        lambda w: (w.geometry.column, w.frame.seated & w.frame.joined),
    )


def _column_top_error_um(w: Workpiece) -> np.ndarray:
    """Per site, how far a column's top end stands from the package's top over it (the
    resin's top; infinite where there is no column)."""
    top = w.frame.column_top_um
    error = np.full(top.shape, np.inf, np.float32)
    np.subtract(top, w.resin_um, out=error, where=top > 0)
    return np.abs(error)


def column_tops_flush(claim: str, tolerance_um: float) -> Condition:
    """Every column's top end is exposed at the package's top, flush with the ground resin
    within `tolerance_um` (000:x2: the top ends of the columns the device above joins); a
    column left under resin, or standing proud of it, fails."""
    return Condition(
        claim,
        f"column tops flush with the package top (+-{tolerance_um:g} um)",
        lambda w: (w.geometry.column, _column_top_error_um(w) <= tolerance_um),
        Margin(
            "column top off the package top", "um", _column_top_error_um, tolerance_um, above=False
        ),
    )


def _is_stack_base(w: Workpiece) -> bool:
    """Whether the panel is the base of its stack (its units not picked into another's)."""
    return len(w.singulation.picked) < w.geometry.unit_count


def _landing_error_um(w: Workpiece) -> np.ndarray:
    """Per site, the largest landing error of a stacked package's terminal on the column
    below it over the levels (0 where nothing is stacked)."""
    error = np.zeros(w.geometry.site_count, np.float32)
    for level in w.stack.levels:
        np.maximum(error, level.error_um, out=error)
    return error


def _stacked_on_the_unit(w: Workpiece) -> np.ndarray:
    """Per site, how many packages stand on its unit."""
    stacked: np.ndarray = w.stack.height(w.geometry.unit_count)[w.geometry.site_unit]
    return stacked


def stacked_levels_joined(claim: str, levels: int, column_diameter_um: float) -> Condition:
    """On the base panel of a stack, every unit carries `levels - 1` packages, and at every
    level every column top below is joined to the bottom end of the package's terminal above
    it (000:x2: a multilayer device); a panel whose units were picked into another's stack is
    not checked. The margin is the landing error against the column's radius; its other part
    the packages on each unit, which a failing row shows where a stack is short of levels (a
    lot that is not whole stacks)."""

    def evaluate(w: Workpiece) -> tuple[np.ndarray, np.ndarray]:
        if not _is_stack_base(w):
            return np.zeros(w.geometry.site_count, bool), np.zeros(w.geometry.site_count, bool)
        joined = _stacked_on_the_unit(w) == levels - 1
        for level in w.stack.levels:
            joined &= level.joined
        return w.geometry.column, joined & (len(w.stack.levels) == levels - 1)

    return Condition(
        claim,
        f"{levels} levels: a package on every unit at each level above the base, every "
        "column joined to the ball above",
        evaluate,
        Margin(
            "terminal off the column's centre",
            "um",
            _landing_error_um,
            column_diameter_um / 2,
            above=False,
        ),
        # the stack is judged on its base panel: the panels picked into it have none
        nothing_is_fine=True,
        parts=(
            Margin("number of packages stacked on a unit", "", _stacked_on_the_unit, levels - 1),
        ),
    )
