"""Conditions on a solder resist laid over the product: the cover it keeps over the metal
(000:x3's interconnections, 001:4's wiring), and, laid over the balls, its openings clear
of them (001:4)."""

from __future__ import annotations

import numpy as np

from packline.sequences.conditions.tips import SEALING_KINDS, every_site
from packline.sequences.conditions.wiring import molten_on_the_metal, solder_resist_open_at_balls
from packline.sequences.engine import Condition, Margin
from packline.sim_instruments.twin import Workpiece
from packline.sim_instruments.twin.parts import DIELECTRICS, Face

#: The least solder resist over the metal it covers, um (est): what solder resist makers ask
#: over the copper, at least 10 um, for a film that insulates the conductors without
#: pinholes through the flux, the reflow and the cleaning after it, and keeps the solder off
#: the metal beside its openings.
SOLDER_RESIST_COVER_UM = 10.0


def resist_over_the_metal_um(w: Workpiece, face: Face) -> np.ndarray:
    """Per site, the outermost resin of `face` around its opening over the metal it covers,
    um: on the front, its field less the conducting films of its own wiring level (the resin
    layers under it) standing up into it there, a front layer's thickness counting the
    metal standing in it (over 5 um of plated wiring, a 15 um field keeps 10 um); on the
    back, its field (a layer there lies over the metal, a metal substrate's etched plate). 0
    where the face carries none, or only its sealing resin (the resin the front's tips
    project through covers no wiring)."""
    top = w.top_resin(face)
    if top is None or top[0].kind in SEALING_KINDS:
        return np.zeros(w.geometry.site_count, np.float32)
    over: np.ndarray = top[0].thickness_um.copy()
    if face is not Face.FRONT:
        return over
    level = len(w.resins.on(face)) - 1  # the resin layers under the resist
    for film in w.films.at_level(level, face):
        if film.material not in DIELECTRICS:
            over -= np.where(film.present, film.thickness_um, np.float32(0.0))
    return over


def solder_resist_covering(claim: str, covered: str, face: Face) -> Condition:
    """Around every site's opening the solder resist of `face` stands at least the cover
    solder resist makers ask over the copper (`SOLDER_RESIST_COVER_UM`) over the metal it
    covers (`covered` names it: `the wiring`) between the openings, the metal's own
    thickness not counted (`resist_over_the_metal_um`). The margin is the thinnest resist
    over it."""

    def over_um(w: Workpiece) -> np.ndarray:
        return resist_over_the_metal_um(w, face)

    return Condition(
        claim,
        f"the solder resist covering {covered} (>= {SOLDER_RESIST_COVER_UM:g} um)",
        lambda w: (every_site(w), over_um(w) >= SOLDER_RESIST_COVER_UM),
        Margin(f"solder resist over {covered}", "um", over_um, SOLDER_RESIST_COVER_UM),
    )


def inside_opening_um(w: Workpiece, face: Face, whole_ball: bool) -> np.ndarray:
    """Per site, how far inside the edge of the opening in `face`'s outermost resin (its
    solder resist) the ball there sits, um: the opening's radius less how far the ball stands
    off the site (`Balls.offset_um`; the stepper lays the twin's openings on the sites) and,
    for `whole_ball`, less the ball's radius too: the room between its side and the edge
    (else its centre's distance inside the edge). Negative: past the edge, on or under the
    resist; minus infinity where there is no ball or no opening."""
    top = w.top_resin(face)
    inside = np.full(w.geometry.site_count, -np.inf, np.float32)
    if top is None:
        return inside
    balls, opening = w.balls, top[1].diameter_um
    off = np.hypot(balls.offset_um[:, 0], balls.offset_um[:, 1])
    within = opening - balls.diameter_um if whole_ball else opening
    np.subtract(within / 2, off, out=inside, where=balls.present & (opening > 0))
    return inside


def solder_resist_clear_of_every_ball(claim: str) -> Condition:
    """The solder resist laid over the balls is open at every ball, the ball joined
    (`solder_resist_open_at_balls`), and each opening clear of its ball: the whole ball
    inside it (001:4: a solder resist patterned with openings around the balls). The margin
    is the least room between a ball and its opening's edge (`inside_opening_um`), so a ball
    that just fits shows how little it has; its part, which a failing row shows where every
    ball fits, how long the balls were molten on their metal (`molten_on_the_metal`: a reflow
    too short to join them)."""
    opened = solder_resist_open_at_balls(claim)

    def room_um(w: Workpiece) -> np.ndarray:
        return inside_opening_um(w, Face.FRONT, whole_ball=True)

    def evaluate(w: Workpiece) -> tuple[np.ndarray, np.ndarray]:
        checked, passing = opened.evaluate(w)
        return checked, np.asarray(passing, bool) & (room_um(w) >= 0)

    return Condition(
        claim,
        "solder resist open around every ball, clear of it, the ball joined",
        evaluate,
        Margin("room between a ball and its opening's edge", "um", room_um, 0.0),
        parts=(molten_on_the_metal(),),
    )
