"""Conditions of the claims on the product, for every method's `claim_checks`.

Each function builds a `Condition` for the claim id a method gives it, evaluated on a wafer's
twin (`Workpiece`) after a dry run: which sites are checked, and which of those pass. They read
the workpiece's parts (`surface`, `bumps`, `singulation`...) and its shared views (`resin_um`,
`exposed_metal`, `tip_projection_um`), and are vectorised over the sites (a wafer has tens of
thousands), never a loop per bump.

"Exposed metal" is what the line's tools treat as exposed: a bare pad (no resin over it), a
bump tip that stands above the resin, or the bottom of an open via. "Tips" are bump sites whose
tip stands above the resin. Films (residue, oxide) are in nanometres, lengths in micrometres.

This module registers no method; the engine imports it while it looks for methods, harmlessly.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from packline.drivers.roles.oven import EUTECTIC_SOLDERS, LIQUIDUS_C
from packline.sequences.engine import Condition, Margin
from packline.sim_instruments.physics.ball_mounter import site_positions
from packline.sim_instruments.physics.grinder import base_um
from packline.sim_instruments.physics.oven import CURED_ALPHA
from packline.sim_instruments.physics.resin_coater import (
    MIN_COVER_UM,
    interconnects,
    resin_cover_um,
)
from packline.sim_instruments.twin import Workpiece
from packline.sim_instruments.twin.parts import (
    DIELECTRICS,
    Face,
    Film,
    OpeningLayer,
    OpeningProcess,
    OpeningStage,
    ResinKind,
    ResinLayer,
)

#: A film this thin (nm) counts as gone: below what an XPS survey resolves on a bump tip.
CLEAN_NM = 0.1


def exposed_tips(w: Workpiece) -> np.ndarray:
    """Bump sites whose tip stands above the resin."""
    return w.has_bumps & (w.tip_projection_um > 0)


def _every_site(w: Workpiece) -> np.ndarray:
    return np.ones(w.geometry.site_count, bool)


def bump_on_every_pad(claim: str) -> Condition:
    """A bump on every pad (every site of the wafer)."""
    return Condition(claim, "a bump on every pad", lambda w: (_every_site(w), w.has_bumps))


#: The resin kinds that seal the bumps: a laminated or moulded layer the tips pierce, not a
#: solder resist or a photo-patterned layer laid over the wiring afterwards.
SEALING_KINDS = frozenset({ResinKind.THERMOSET, ResinKind.SEALING})


def sealing_resin_um(w: Workpiece) -> np.ndarray:
    """The sealing resin over each site on the front: its layers of `SEALING_KINDS`, every
    level of a stacked arrangement (001:14-17) together."""
    total = np.zeros(w.geometry.site_count, np.float32)
    for layer in w.resins.on(Face.FRONT):
        if layer.kind in SEALING_KINDS:
            total += layer.thickness_um
    return total


def _resin_under_tips(w: Workpiece, sealing_only: bool) -> np.ndarray:
    return sealing_resin_um(w) if sealing_only else w.resin_um


def resin_thinner_than_bumps(claim: str) -> Condition:
    """At every bump, the resin film is thinner than the bump is high."""
    return Condition(
        claim,
        "resin thinner than every bump",
        lambda w: (w.has_bumps, w.resin_um < w.bumps.height_um),
        Margin("bump height above the resin", "um", lambda w: w.bumps.height_um - w.resin_um, 0),
    )


def tips_project(claim: str, min_um: float = 0.0, *, sealing_only: bool = False) -> Condition:
    """Every bump tip stands more than `min_um` above the resin top (`sealing_only`: the top
    of the sealing layers)."""
    return Condition(
        claim,
        f"bump tips project above the resin (> {min_um:g} um)",
        lambda w: (
            w.has_bumps,
            w.bumps.height_um - _resin_under_tips(w, sealing_only) > min_um,
        ),
        Margin(
            "tip projection",
            "um",
            lambda w: w.bumps.height_um - _resin_under_tips(w, sealing_only),
            min_um,
        ),
    )


def _film_at_most(
    claim: str,
    text: str,
    film: Callable[[Workpiece], np.ndarray],
    where: Callable[[Workpiece], np.ndarray],
    max_nm: float,
) -> Condition:
    return Condition(
        claim,
        f"{text} (<= {max_nm:g} nm)",
        lambda w: (where(w), film(w) <= max_nm),
        Margin(text.split(" on ", 1)[0].removeprefix("no "), "nm", film, max_nm, above=False),
    )


def no_residue_on_tips(claim: str, max_nm: float = CLEAN_NM) -> Condition:
    """No resin residue left on the exposed bump tips."""
    return _film_at_most(
        claim,
        "no residue on the exposed tips",
        lambda w: w.surface.residue_nm,
        exposed_tips,
        max_nm,
    )


def no_oxide_on_tips(claim: str, max_nm: float = CLEAN_NM) -> Condition:
    """No oxide left on the exposed bump tips."""
    return _film_at_most(
        claim,
        "no oxide on the exposed tips",
        lambda w: w.surface.oxide_nm,
        exposed_tips,
        max_nm,
    )


def no_residue_on_exposed_metal(claim: str, max_nm: float = CLEAN_NM) -> Condition:
    """No residue left on any exposed metal (pads, tips, via bottoms)."""
    return _film_at_most(
        claim,
        "no residue on the exposed metal",
        lambda w: w.surface.residue_nm,
        lambda w: w.exposed_metal,
        max_nm,
    )


def no_oxide_on_exposed_metal(claim: str, max_nm: float = CLEAN_NM) -> Condition:
    """No oxide left on any exposed metal (pads, tips, via bottoms)."""
    return _film_at_most(
        claim,
        "no oxide on the exposed metal",
        lambda w: w.surface.oxide_nm,
        lambda w: w.exposed_metal,
        max_nm,
    )


def tips_activated(claim: str) -> Condition:
    """Every exposed bump tip was activated by the cleaning (003:9)."""
    return Condition(
        claim, "exposed tips activated", lambda w: (exposed_tips(w), w.surface.activated)
    )


def exposed_metal_activated(claim: str) -> Condition:
    """Every exposed metal surface was activated by the cleaning (003:9)."""
    return Condition(
        claim, "exposed metal activated", lambda w: (w.exposed_metal, w.surface.activated)
    )


def resin_at_least(claim: str, min_um: float) -> Condition:
    """The resin layer is at least `min_um` thick over every site (001:13: 50 um)."""
    return Condition(
        claim,
        f"resin at least {min_um:g} um thick",
        lambda w: (_every_site(w), w.resin_um >= min_um),
        Margin("resin thickness", "um", lambda w: w.resin_um, min_um),
    )


def _top_vias_open(w: Workpiece) -> np.ndarray:
    top = w.top_resin()
    return top[1].open if top is not None else np.zeros(w.geometry.site_count, bool)


def resin_cured(claim: str, min_cure: float = CURED_ALPHA) -> Condition:
    """Every resin layer is cured (degree of cure at least `min_cure`) over every site
    (002:1g); a workpiece without resin has nothing cured, and fails."""
    return Condition(
        claim,
        f"every resin layer cured (>= {min_cure:g})",
        lambda w: (
            _every_site(w),
            np.full(
                w.geometry.site_count,
                bool(w.resins.layers) and min(layer.cure for layer in w.resins.layers) >= min_cure,
            ),
        ),
    )


def _front_metal(w: Workpiece) -> list[Film]:
    return [
        film
        for film in w.films.layers
        if film.face is Face.FRONT and film.material not in DIELECTRICS
    ]


def wiring_connected_at(w: Workpiece, level: int) -> np.ndarray:
    """Sites where a conducting front film of wiring level `level` (`Film.level`: the resin
    layers under it) is present and joined to the metal below it: the bump tip it touches."""
    connected = np.zeros(w.geometry.site_count, bool)
    for film in _front_metal(w):
        if film.level == level:
            connected |= film.present & film.connected
    return connected


def top_wiring_connected(w: Workpiece) -> np.ndarray:
    """Sites where a conducting film of the outermost wiring level on the front is present
    and joined to the metal below it (none without front wiring)."""
    films = _front_metal(w)
    if not films:
        return np.zeros(w.geometry.site_count, bool)
    return wiring_connected_at(w, max(film.level for film in films))


def connected_through_levels(claim: str, levels: int) -> Condition:
    """Every pad is connected through `levels` stacked wiring arrangements to its terminal
    (001:14, 001:16): its bump; at each level 1..`levels` a conducting film joined to the tip
    below it, the bump of the next level bonded on it; on top a ball reflowed into a joint.
    A level missing at a pad (its bump buried, its seed broken on the tip, its wiring etched
    through) or a ball that did not wet breaks the chain there; so does a missing level
    anywhere."""

    def evaluate(w: Workpiece) -> tuple[np.ndarray, np.ndarray]:
        chain = w.has_bumps.copy()
        for level in range(1, levels + 1):
            chain &= wiring_connected_at(w, level)
        return _every_site(w), chain & w.balls.present & w.balls.joined

    return Condition(claim, f"every pad connected through {levels} levels to its ball", evaluate)


def terminals_connected(claim: str) -> Condition:
    """Every die carries terminals, and every ball is reflowed into a joint, touches no
    neighbour and sits on the outermost wiring where that wiring is connected to the bump
    below (001:1d: terminals connected to their wiring pattern). The sites of a die without
    any ball are checked too, and fail."""

    def evaluate(w: Workpiece) -> tuple[np.ndarray, np.ndarray]:
        balls, geometry = w.balls, w.geometry
        per_unit = np.bincount(geometry.site_unit[balls.present], minlength=geometry.unit_count)
        checked = balls.present | (per_unit == 0)[geometry.site_unit]
        good = balls.present & balls.joined & ~balls.bridged & top_wiring_connected(w)
        return checked, good

    return Condition(claim, "a joined ball on connected wiring, on every die", evaluate)


def solder_resist_open_at_balls(claim: str) -> Condition:
    """A resin layer laid over the sealing resin and the wiring is the front's outermost (the
    solder resist), open down to the metal at every ball, and every ball still joined
    (001:4: openings through which the balls are soldered to their conducting paths). A
    workpiece without balls, or whose top layer is a sealing layer, fails."""

    def evaluate(w: Workpiece) -> tuple[np.ndarray, np.ndarray]:
        balls = w.balls
        top = w.top_resin()
        if top is None or top[0].kind in SEALING_KINDS or not balls.present.any():
            return _every_site(w), np.zeros(w.geometry.site_count, bool)
        return balls.present, top[1].open & balls.joined

    return Condition(claim, "solder resist open at every ball, the ball joined", evaluate)


def joint_under_every_ball(claim: str) -> Condition:
    """Every solder ball is reflowed into a joint with the metal below it (001:3); a
    workpiece without balls has nothing to check, and fails."""
    return Condition(claim, "a joint under every ball", lambda w: (w.balls.present, w.balls.joined))


def cores_solid_under_reflowed_layers(claim: str) -> Condition:
    """Every bump with a eutectic layer had the layer reflowed while its high-melting core
    stayed solid (003:19-20)."""
    return Condition(
        claim,
        "layer reflowed, core solid, on every layered bump",
        lambda w: (w.bumps.present & (w.bumps.layer_um > 0), w.bumps.solid_core),
    )


def solder_layer_on_tips(
    claim: str, min_um: float, *, cleaned: bool = False, eutectic: bool = False
) -> Condition:
    """Every solder bump projects from the resin with a solder layer of another composition,
    at least `min_um` thick, on its tip (003:3, 003:19); with `cleaned`, on a tip cleaned of
    residue and oxide beneath the layer (003:4); with `eutectic`, a eutectic layer whose
    liquidus is below the bump's high-melting one (003:5, 003:6, 003:20). Bumps that are no
    solder, or a layer of the bumps' own alloy, fail at every bump."""
    what = "a eutectic layer below the bump's liquidus" if eutectic else "another solder"
    tip = "every cleaned tip" if cleaned else "every tip"

    def evaluate(w: Workpiece) -> tuple[np.ndarray, np.ndarray]:
        bumps = w.bumps
        core, layer = bumps.material, bumps.layer_alloy
        alloys = core in LIQUIDUS_C and layer in LIQUIDUS_C and layer != core
        if eutectic and alloys:
            alloys = layer in EUTECTIC_SOLDERS and LIQUIDUS_C[layer] < LIQUIDUS_C[core]  # type: ignore[index]
        good = alloys & (bumps.layer_um >= min_um) & (w.tip_projection_um > 0)
        if cleaned:
            good &= (w.surface.residue_nm <= CLEAN_NM) & (w.surface.oxide_nm <= CLEAN_NM)
        return w.has_bumps, good

    return Condition(claim, f"{what} (>= {min_um:g} um) on {tip}", evaluate)


def vias_open(claim: str) -> Condition:
    """A via is open down to the metal at every site of the top resin layer (002:1h); without
    resin there is no via, and the condition fails."""
    return Condition(
        claim, "every via open down to metal", lambda w: (_every_site(w), _top_vias_open(w))
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
    before any process opened it, the condition fails."""
    return Condition(
        claim,
        "a concave portion with resin below at every site",
        lambda w: (_every_site(w), _concave_with_resin_below(w)),
    )


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
        lambda w: (_every_site(w), _opened_by_a_second_process(w)),
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
        return _every_site(w), _concave_with_resin_below(w) & made

    return Condition(claim, f"the concave portions made by {process.value}", evaluate)


def vias_opened_by(claim: str, process: OpeningProcess) -> Condition:
    """Every via of the top resin layer was opened onto the metal by `process` (002:13: dry
    etching)."""

    def evaluate(w: Workpiece) -> tuple[np.ndarray, np.ndarray]:
        top = w.top_resin()
        if top is None or not top[1].stages:
            return _every_site(w), np.zeros(w.geometry.site_count, bool)
        openings = top[1]
        return _every_site(w), openings.open & (_opening_process(openings) == process.value)

    return Condition(claim, f"every via opened by {process.value}", evaluate)


def terminal_on_every_via(claim: str) -> Condition:
    """At every open via of the top resin layer a solder ball stands, reflowed into a joint
    with the interconnect and touching no neighbour (002:1i: the external connection
    terminals); a workpiece without resin or vias fails."""

    def evaluate(w: Workpiece) -> tuple[np.ndarray, np.ndarray]:
        balls = w.balls
        sound = balls.present & balls.joined & ~balls.bridged & (balls.face is Face.FRONT)
        top = w.top_resin()
        if top is None or not top[1].open.any():
            return _every_site(w), np.zeros(w.geometry.site_count, bool)
        return top[1].open, sound

    return Condition(claim, "a joined terminal on every via, none bridged", evaluate)


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
        return _every_site(w), opened

    return Condition(claim, f"a cured {kind.value} layer open at every pad", evaluate)


def all_of(claim: str, text: str, first: Condition, *rest: Condition) -> Condition:
    """One condition that holds where every one of its parts holds (a product claim made of
    the method's steps, such as 002:9): each site is checked where any part checks it and
    passes where every part that checks it passes. The parts must check the same entries
    (sites, or the wafer as one)."""

    def evaluate(w: Workpiece) -> tuple[np.ndarray, np.ndarray]:
        checked, passing = (np.asarray(a, bool) for a in first.evaluate(w))
        passing = ~checked | passing
        for part in rest:
            part_checked, part_passing = (np.asarray(a, bool) for a in part.evaluate(w))
            checked = checked | part_checked
            passing = passing & (~part_checked | part_passing)
        return checked, passing

    return Condition(claim, text, evaluate)


def every_device_whole(claim: str, *parts: Condition) -> Condition:
    """Per die (unit): every site of it passes every one of `parts` (site conditions), so the
    die is a device as the claim makes it (002:6); checked per unit."""

    def evaluate(w: Workpiece) -> tuple[np.ndarray, np.ndarray]:
        bad = np.zeros(w.geometry.site_count, bool)
        for part in parts:
            checked, passing = part.evaluate(w)
            bad |= np.asarray(checked, bool) & ~np.asarray(passing, bool)
        units = w.geometry.unit_count
        failing = np.bincount(w.geometry.site_unit[bad], minlength=units)
        return np.ones(units, bool), failing == 0

    return Condition(claim, "every die a whole device (all its sites sound)", evaluate)


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


def singulated_into_dies(claim: str) -> Condition:
    """Dicing gave as many separate units as the wafer has whole dies (or the panel units)."""
    return Condition(
        claim,
        "singulated units == whole dies",
        lambda w: (np.ones(1, bool), np.array([w.singulation.units == w.geometry.unit_count])),
    )


def _unit_has_die(w: Workpiece, bonded_only: bool) -> np.ndarray:
    """Per site: its unit carries a die (bonded and active side down, if `bonded_only`)."""
    dies = w.dies
    carries = np.zeros(w.geometry.unit_count, bool)
    carries[dies.unit] = dies.bonded & dies.face_down if bonded_only else True
    has: np.ndarray = carries[w.geometry.site_unit]
    return has


def terminals_seated(claim: str) -> Condition:
    """A die's terminal sits in every hole (or on every pad) of every unit (000:c); a unit
    without a die, or a misaligned die held off by a terminal, fails."""
    return Condition(
        claim, "a terminal seated at every site", lambda w: (_every_site(w), w.dies.seated)
    )


def filler_at_hole_tops(claim: str, tolerance: float = 0.05) -> Condition:
    """In every hole, filler and terminal bring the filler's top to the hole's top within
    `tolerance` of its depth, nothing spilt (000:b-c): no void, no overflow."""

    def evaluate(w: Workpiece) -> tuple[np.ndarray, np.ndarray]:
        depth = w.openings.substrate.depth_um
        at_top = (_fill_error(w) <= tolerance) & (w.fill.overflow_nl <= 0)
        return w.geometry.hole, at_top & (depth > 0)

    return Condition(
        claim,
        f"filler at every hole's top (+-{tolerance:.0%}, no spill)",
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
    depth (infinite where there is no hole)."""
    depth = w.openings.substrate.depth_um
    error = np.full(depth.shape, np.inf, np.float32)
    np.divide(np.abs(w.fill.level_um - depth), depth, out=error, where=depth > 0)
    return error


def dies_bonded_face_down(claim: str) -> Condition:
    """Every unit carries a die bonded to it active side down (000:d), checked at its sites."""
    return Condition(
        claim,
        "a die bonded active side down on every unit",
        lambda w: (_every_site(w), _unit_has_die(w, bonded_only=True)),
    )


def joint_at_every_terminal(claim: str) -> Condition:
    """Every terminal of every placed die formed a joint with the site below (003:24)."""
    return Condition(
        claim,
        "a joint at every terminal of the mounted dies",
        lambda w: (_unit_has_die(w, bonded_only=False), w.dies.joined),
    )


#: The contact resistance (mOhm) a seed may make on a tip and still carry its wiring (est).
SEED_CONTACT_MOHM = 20.0


def _metal_joined(w: Workpiece, max_contact_mohm: float) -> np.ndarray:
    """Sites a conducting film joins, where the first film laid on the metal there made a
    contact of at most `max_contact_mohm` (a film laid on it, such as the plating, carries
    that contact; a site no film records a contact for counts as good)."""
    joined = np.zeros(w.geometry.site_count, bool)
    contact = np.full(w.geometry.site_count, np.nan, np.float32)
    for film in w.films.layers:
        if film.material in DIELECTRICS:
            continue
        on = film.present & film.connected
        joined |= on
        if film.contact_mohm.size:
            contact = np.where(np.isnan(contact) & on, film.contact_mohm, contact)
    return joined & ~(contact > max_contact_mohm)


def seed_joins_tips(claim: str, max_contact_mohm: float = SEED_CONTACT_MOHM) -> Condition:
    """A metal film joins every bump tip standing above the sealing resin with a contact of at
    most `max_contact_mohm`: the seed that electroplating thickens into each tip's wiring
    (001:8, 001:9), or the metal support the tips were pressed into (001:10). A film that
    broke on the tip's sidewall, lies on an uncleaned or oxidised tip, or on a dielectric,
    does not."""
    return Condition(
        claim,
        f"a seed film joins every tip (contact <= {max_contact_mohm:g} mOhm)",
        lambda w: (
            w.has_bumps & (w.bumps.height_um > sealing_resin_um(w)),
            _metal_joined(w, max_contact_mohm),
        ),
    )


def interconnect_on_every_pad(claim: str, max_contact_mohm: float = SEED_CONTACT_MOHM) -> Condition:
    """A conducting film joins the pad at every site with a contact of at most
    `max_contact_mohm` (002:1a-d: the interconnections over the surface, connected through the
    pads to the circuits); a seed on an uncleaned pad, or none, fails."""
    return Condition(
        claim,
        f"an interconnect joined to every pad (contact <= {max_contact_mohm:g} mOhm)",
        lambda w: (_every_site(w), _metal_joined(w, max_contact_mohm)),
    )


def passivation_present(claim: str, min_nm: float = 100.0) -> Condition:
    """SiO2 or SiN passivation at least `min_nm` thick over every site (002:15)."""

    def evaluate(w: Workpiece) -> tuple[np.ndarray, np.ndarray]:
        total_um = np.zeros(w.geometry.site_count, np.float32)
        for film in w.films.layers:
            if film.material in DIELECTRICS:
                total_um += np.where(film.present, film.thickness_um, 0)
        return _every_site(w), total_um * 1000 >= min_nm

    return Condition(claim, f"SiO2 or SiN passivation over every site (>= {min_nm:g} nm)", evaluate)


def _front_wiring(w: Workpiece, level: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per site: where a conducting front film (of wiring level `level`, or any) lies, the
    metal of those films together (um), and whether none of them is rough or burnt."""
    count = w.geometry.site_count
    pattern = np.zeros(count, bool)
    metal_um = np.zeros(count, np.float32)
    sound = np.ones(count, bool)
    for film in _front_metal(w):
        if level is not None and film.level != level:
            continue
        pattern |= film.present
        metal_um += np.where(film.present, film.thickness_um, 0)
        if film.quality != "good":
            sound &= ~film.present
    return pattern, metal_um, sound


def wiring_plated_at_least(claim: str, min_um: float, *, level: int | None = None) -> Condition:
    """Every site of the wiring pattern (where a conducting film lies on the front) carries at
    least `min_um` of metal, seed and plating together, and no rough or burnt deposit: the
    pattern thickened by electroplating (001:8, 001:12). Too short a plating, or one outside
    its current-density window, fails; a workpiece without a pattern fails. `level`: the films
    of that wiring level only (a stacked arrangement's, 001:14-17), else every level's."""

    def evaluate(w: Workpiece) -> tuple[np.ndarray, np.ndarray]:
        pattern, metal_um, sound = _front_wiring(w, level)
        return (pattern if pattern.any() else _every_site(w)), (metal_um >= min_um) & sound

    where = "" if level is None else f" at level {level}"
    return Condition(
        claim,
        f"wiring{where} plated to at least {min_um:g} um, sound",
        evaluate,
        Margin("wiring metal", "um", lambda w: _front_wiring(w, level)[1], min_um),
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
    """At every hole site the back's solder resist is opened down to the metal (000:a: the
    openings the external terminals go through); a panel without solder resist fails."""
    return Condition(
        claim,
        "every solder resist opening down to metal",
        lambda w: (w.geometry.hole, _resist_open(w) & _back_metal(w)),
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


def ball_in_every_opening(claim: str, balls_per_unit: int) -> Condition:
    """A solder ball on the back in every solder resist opening among the first
    `balls_per_unit` sites of each unit (000:x1: the external terminals through the
    openings); an opening without its ball fails."""

    def evaluate(w: Workpiece) -> tuple[np.ndarray, np.ndarray]:
        mapped = _resist_open(w) & (site_positions(w.geometry) < balls_per_unit)
        return mapped, w.balls.present & (w.balls.face is Face.BACK)

    return Condition(claim, "a ball in every solder resist opening", evaluate)
