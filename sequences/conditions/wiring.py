"""Conditions on the wiring: films and plated metal joined to the tips or pads, levels
connected, terminals and their solder."""

from __future__ import annotations

import numpy as np

from packline.drivers.roles.clean_room import AMBIENT_C
from packline.drivers.roles.oven import (
    EUTECTIC_SOLDERS,
    LIQUIDUS_C,
    REFLOW_WETTING_TIME_S,
    SOLIDUS_C,
)
from packline.sequences.conditions.tips import CLEAN_NM, SEALING_KINDS, every_site, sealing_resin_um
from packline.sequences.engine import Condition, Margin
from packline.sim_instruments.physics.ball_mounter import reach_past_the_resist_um
from packline.sim_instruments.twin import Workpiece
from packline.sim_instruments.twin.parts import DIELECTRICS, Face, Film, Shape


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
        return every_site(w), chain & w.balls.present & w.balls.joined

    return Condition(claim, f"every pad connected through {levels} levels to its ball", evaluate)


def terminals_connected(claim: str) -> Condition:
    """Every pad's wiring pattern carries its terminal: a ball reflowed into a joint, touching
    no neighbour, on the outermost wiring where that wiring is connected to the bump below
    (001:1d: terminals on each of the wiring patterns, connections established). Every pad is
    checked: a map of fewer balls than pads leaves the patterns past it without a terminal,
    and a die without any ball fails at every pad."""

    def evaluate(w: Workpiece) -> tuple[np.ndarray, np.ndarray]:
        balls = w.balls
        terminal = balls.present & balls.joined & ~balls.bridged
        return every_site(w), terminal & top_wiring_connected(w)

    return Condition(claim, "a joined ball on every pad's connected wiring", evaluate)


def solder_resist_open_at_balls(claim: str) -> Condition:
    """A resin layer laid over the sealing resin and the wiring is the front's outermost (the
    solder resist), open down to the metal at every ball, and every ball still joined
    (001:4: openings through which the balls are soldered to their conducting paths). A
    workpiece without balls, or whose top layer is a sealing layer, fails."""

    def evaluate(w: Workpiece) -> tuple[np.ndarray, np.ndarray]:
        balls = w.balls
        top = w.top_resin()
        if top is None or top[0].kind in SEALING_KINDS or not balls.present.any():
            return every_site(w), np.zeros(w.geometry.site_count, bool)
        return balls.present, top[1].open & balls.joined

    return Condition(claim, "solder resist open at every ball, the ball joined", evaluate)


def _molten_on_the_metal_s(w: Workpiece) -> np.ndarray:
    """Per site, how long the balls' last reflow held the ball there molten on its metal, s:
    the oven's record of its time above the balls' liquidus (0 before any), where the ball
    reaches the metal; 0 where it sits on its opening's rim, short of it
    (`reach_past_the_resist_um`)."""
    held = 0.0
    for event in reversed(w.history):
        above = event.detail.get("balls_above_liquidus_s")
        if isinstance(above, int | float):
            held = float(above)
            break
    molten: np.ndarray = np.where(reach_past_the_resist_um(w) >= 0, held, 0.0)
    return molten


def molten_on_the_metal() -> Margin:
    """How long each ball was molten on its metal (`_molten_on_the_metal_s`) against the
    wetting time a joint takes (`REFLOW_WETTING_TIME_S`): what a condition on joined balls
    reads short where a reflow was too short, or a ball held on its opening's rim."""
    return Margin("time molten on the metal", "s", _molten_on_the_metal_s, REFLOW_WETTING_TIME_S)


def joint_under_every_ball(claim: str) -> Condition:
    """Every solder ball is reflowed into a joint with the metal below it (001:3); a
    workpiece without balls has nothing to check, and fails. The margin is how long each ball
    was molten on its metal against the wetting time a joint takes (`molten_on_the_metal`): a
    reflow too short, or a ball held on its opening's rim (molten 0 s on the metal), reads
    short of it."""
    return Condition(
        claim,
        "a joint under every ball",
        lambda w: (w.balls.present, w.balls.joined),
        molten_on_the_metal(),
    )


def hottest_under_the_layer_c(w: Workpiece) -> np.ndarray:
    """The hottest the bumps got while their layer was on them, degC, as the tools measured
    it: the peak of every oven run over the layered bumps (its record notes `layer_melted`)
    and the joint of every solder transfer (`joint_c`); the room's (`AMBIENT_C`) before any.
    One value for every bump."""
    heats = [AMBIENT_C]
    for event in w.history:
        heat = event.detail.get("peak_c" if "layer_melted" in event.detail else "joint_c")
        if isinstance(heat, int | float):
            heats.append(float(heat))
    return np.full(1, max(heats))


def layer_reflowed_core_solid(claim: str, layer: str, core: str) -> list[Condition]:
    """Every bump with a layer of `layer` solder had it melted onto it, above its liquidus,
    while its high-melting `core` stayed solid, at most at its solidus (003:19-20): two
    conditions judging the hottest the bumps got under the layer as the tools measured it
    (the oven's peak, the transfer's joint: `hottest_under_the_layer_c`) against the bound
    each keeps, by the simulated line's rules (`melts`: a solder melts above its liquidus;
    `softens`: it begins to above its solidus),
    each with its margin to it. A layer never reflowed (plated, the oven skipped) was not
    melted onto its bump."""
    layer_c, core_c = LIQUIDUS_C[layer], SOLIDUS_C[core]

    def layered(w: Workpiece) -> np.ndarray:
        bumps = w.bumps
        checked: np.ndarray = bumps.present & (bumps.layer_um > 0)
        return checked

    def melted(w: Workpiece) -> tuple[np.ndarray, np.ndarray]:
        checked = layered(w)
        return checked, np.broadcast_to(hottest_under_the_layer_c(w) > layer_c, checked.shape)

    heat = "heat under the layer"
    return [
        Condition(
            claim,
            f"layer reflowed above its liquidus ({layer}, {layer_c:g} degC) on every layered bump",
            melted,
            Margin(heat, "degC", hottest_under_the_layer_c, layer_c, strict=True),
        ),
        Condition(
            claim,
            f"core solid, at most its solidus ({core}, {core_c:g} degC), under every layer",
            lambda w: (
                layered(w),
                np.broadcast_to(hottest_under_the_layer_c(w) <= core_c, layered(w).shape),
            ),
            Margin(heat, "degC", hottest_under_the_layer_c, core_c, above=False),
        ),
    ]


def solder_layer_on_tips(
    claim: str,
    min_um: float,
    *,
    cleaned: bool = False,
    eutectic: bool = False,
    telling: str = "",
) -> Condition:
    """Every solder bump projects from the resin with a solder layer of another composition,
    at least `min_um` thick, on its tip (003:3, 003:19: the layer as it is; validate leaves
    the line's XRF a step of its resolution above `min_um`, `PlatingStep.least_thickness_um`);
    with `cleaned`, on a tip cleaned of residue and oxide beneath the layer (003:4); with
    `eutectic`, a eutectic layer whose liquidus is below the bump's high-melting solidus
    (003:5, 003:6, 003:20). Bumps that are no solder, or a layer of the bumps' own alloy, fail
    at every bump. `telling` ends the condition's text with what tells its claim from another
    judged alike (the product's bump, the way the layer was laid), so no two rows of a claim
    check read the same. The margin is the thinnest layer; its parts (`Condition.parts`), which
    a failing row shows where the layer passes, the layered tip's height above the resin (a
    transfer sheet coats tips a resin too thick buries) and, `cleaned`, the residue and oxide
    beneath the layer (an O2 clean's oxide, a laser's residue without its gas jet)."""
    what = "a eutectic layer below the bumps' solidus" if eutectic else "another solder"
    tip = "every cleaned tip" if cleaned else "every tip"

    def evaluate(w: Workpiece) -> tuple[np.ndarray, np.ndarray]:
        bumps = w.bumps
        core, layer = bumps.material, bumps.layer_alloy
        alloys = core in LIQUIDUS_C and layer in LIQUIDUS_C and layer != core
        if eutectic and alloys:
            alloys = layer in EUTECTIC_SOLDERS and LIQUIDUS_C[layer] < SOLIDUS_C[core]  # type: ignore[index]
        good = alloys & (bumps.layer_um >= min_um) & (w.tip_projection_um > 0)
        if cleaned:
            good &= (w.surface.residue_nm <= CLEAN_NM) & (w.surface.oxide_nm <= CLEAN_NM)
        return w.has_bumps, good

    layer = Margin("solder layer", "um", lambda w: w.bumps.layer_um, min_um)
    # what a layer that passes may fail on: its tip still under the resin (a transfer
    # sheet's layer on a tip a too thick resin buries), and, cleaned, what a clean left under it
    projecting = Margin(
        "layered tip above the resin", "um", lambda w: w.tip_projection_um, 0.0, strict=True
    )
    beneath = (
        Margin(
            "residue beneath the layer", "nm", lambda w: w.surface.residue_nm, CLEAN_NM, above=False
        ),
        Margin(
            "oxide beneath the layer", "nm", lambda w: w.surface.oxide_nm, CLEAN_NM, above=False
        ),
    )
    return Condition(
        claim,
        f"{what} (>= {min_um:g} um) on {tip}{telling}",
        evaluate,
        margin=layer,
        parts=(projecting, *(beneath if cleaned else ())),
    )


def no_solder_bridges(claim: str) -> Condition:
    """No bump's solder layer joined to a neighbour's: printed paste that slumped into the
    next deposit is a solder bridge once reflowed (`Bumps.bridged`), a short between two
    bumps, not a layer on each (003:21 by printing)."""
    return Condition(
        claim, "no solder bridge between bumps", lambda w: (w.has_bumps, ~w.bumps.bridged)
    )


#: The contact resistance (mOhm) a seed may make on a tip and still carry its wiring (est).
SEED_CONTACT_MOHM = 20.0


def _joined_and_contact(w: Workpiece) -> tuple[np.ndarray, np.ndarray]:
    """Sites a conducting film joins, and the contact (mOhm) the first film laid on the metal
    there made (a film laid on it, such as the plating, carries that contact; NaN where no
    film records one)."""
    joined = np.zeros(w.geometry.site_count, bool)
    contact = np.full(w.geometry.site_count, np.nan, np.float32)
    for film in w.films.layers:
        if film.material in DIELECTRICS:
            continue
        on = film.present & film.connected
        joined |= on
        if film.contact_mohm.size:
            contact = np.where(np.isnan(contact) & on, film.contact_mohm, contact)
    return joined, contact


def _metal_joined(w: Workpiece, max_contact_mohm: float) -> np.ndarray:
    """Sites a conducting film joins with a contact of at most `max_contact_mohm` (a site no
    film records a contact for counts as good)."""
    joined, contact = _joined_and_contact(w)
    return joined & ~(contact > max_contact_mohm)


def _contact_margin(max_contact_mohm: float) -> Margin:
    """The highest contact a joining film made, against `max_contact_mohm` (a site with no
    recorded contact counts as none)."""
    return Margin(
        "contact",
        "mOhm",
        lambda w: np.nan_to_num(_joined_and_contact(w)[1], nan=0.0),
        max_contact_mohm,
        above=False,
    )


def seed_joins_tips(
    claim: str, max_contact_mohm: float = SEED_CONTACT_MOHM, film: str = "a seed film"
) -> Condition:
    """A metal film (`film` names it in the condition) joins every bump tip standing above
    the sealing resin with a contact of at most `max_contact_mohm`: the seed that
    electroplating thickens into each tip's wiring (001:8, 001:9), or the metal support the
    tips were pressed into (001:10). A film that broke on the tip's sidewall, lies on an
    uncleaned or oxidised tip, or on a dielectric, does not."""
    return Condition(
        claim,
        f"{film} joins every tip (contact <= {max_contact_mohm:g} mOhm)",
        lambda w: (
            w.has_bumps & (w.bumps.height_um > sealing_resin_um(w)),
            _metal_joined(w, max_contact_mohm),
        ),
        _contact_margin(max_contact_mohm),
    )


def interconnect_on_every_pad(claim: str, max_contact_mohm: float = SEED_CONTACT_MOHM) -> Condition:
    """A conducting film joins the pad at every site with a contact of at most
    `max_contact_mohm` (002:1a-d: the interconnections over the surface, connected through the
    pads to the circuits); a seed on an uncleaned pad, or none, fails."""
    return Condition(
        claim,
        f"an interconnect joined to every pad (contact <= {max_contact_mohm:g} mOhm)",
        lambda w: (every_site(w), _metal_joined(w, max_contact_mohm)),
        _contact_margin(max_contact_mohm),
    )


def pads_on_upper_surface(claim: str) -> Condition:
    """Every site a bonding pad on the wafer's upper surface (002:16): a site of a wafer, not a
    through-hole down to a metal layer under the substrate (a tape panel's terminals), its pad
    joined from above by a front metal film (the interconnect laid on it)."""

    def evaluate(w: Workpiece) -> tuple[np.ndarray, np.ndarray]:
        joined = np.zeros(w.geometry.site_count, bool)
        for film in _front_metal(w):
            joined |= film.present & film.connected
        on_wafer = w.geometry.shape is Shape.WAFER
        return every_site(w), on_wafer & ~w.geometry.hole & joined

    return Condition(claim, "a bonding pad on the upper surface at every site", evaluate)


def _passivation_nm(w: Workpiece) -> np.ndarray:
    """Per site, the front's SiO2 and SiN around the pad, nm, in float64 as the limit it is
    judged against is: in float32 a limit a hair above a film was rounded to it and passed,
    its margin short (a recipe's check reads the film alike, `kept_um`)."""
    total_um = np.zeros(w.geometry.site_count)
    for film in w.films.layers:
        if film.face is Face.FRONT and film.material in DIELECTRICS:
            total_um += np.where(film.present, film.thickness_um, 0.0)
    nm: np.ndarray = total_um * 1000
    return nm


def _pads_bare_of_dielectric(w: Workpiece) -> np.ndarray:
    """Sites where a front SiO2 or SiN film lies and none covers the pad: each opened
    through over it."""
    bare = np.ones(w.geometry.site_count, bool)
    for film in w.films.layers:
        if film.face is Face.FRONT and film.material in DIELECTRICS:
            bare &= ~film.covers
    return bare


def passivation_open_at_pads(claim: str, min_nm: float) -> Condition:
    """A SiO2 or SiN passivation at least `min_nm` thick around every pad and opened through
    over it (002:15): the film stays around the pad, its opening there reached the metal."""
    return Condition(
        claim,
        f"SiO2 or SiN passivation around every pad (>= {min_nm:g} nm), open over it",
        lambda w: (
            every_site(w),
            (_passivation_nm(w) >= min_nm) & _pads_bare_of_dielectric(w),
        ),
        Margin("passivation around a pad", "nm", _passivation_nm, min_nm),
    )


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


def wiring_plated_at_least(
    claim: str, min_um: float, *, level: int | None = None, wiring: str = "wiring"
) -> Condition:
    """Every site of the wiring pattern (where a conducting film lies on the front) carries at
    least `min_um` of metal, seed and plating together, and no rough or burnt deposit: the
    pattern thickened by electroplating (001:8, 001:12). Too short a plating, or one outside
    its current-density window, fails; a workpiece without a pattern fails. `level`: the films
    of that wiring level only (a stacked arrangement's, 001:14-17), else every level's.
    `wiring` names the pattern as the method's claim does (002's `the interconnects`)."""

    def evaluate(w: Workpiece) -> tuple[np.ndarray, np.ndarray]:
        pattern, metal_um, sound = _front_wiring(w, level)
        return (pattern if pattern.any() else every_site(w)), (metal_um >= min_um) & sound

    where = "" if level is None else f" at level {level}"
    return Condition(
        claim,
        f"{wiring}{where} plated to at least {min_um:g} um, sound",
        evaluate,
        Margin("wiring metal", "um", lambda w: _front_wiring(w, level)[1], min_um),
    )


def _etched_past_the_field_um(w: Workpiece, level: int) -> np.ndarray:
    """Per site, how far the etch went past the metal in the field around the site's wiring
    pattern at `level` (a metal support's foil, a seed and its barrier: `Film.field_um`):
    where all of it is etched through, the least over-etch of its films; else, negative, the
    metal still left there, joining the pattern to its neighbours (0: none tracked)."""
    left = np.zeros(w.geometry.site_count, np.float32)
    past = np.full(w.geometry.site_count, np.inf, np.float32)
    for film in _front_metal(w):
        if film.level == level and film.field_overetch_um.size == left.size:
            left += film.field_um
            past = np.minimum(past, film.field_overetch_um)
    etched: np.ndarray = np.where(left > 0, -left, np.where(np.isinf(past), 0, past))
    return etched


def patterns_etched_apart(
    claim: str, level: int, metal: str = "the foil", patterns: str | None = None
) -> Condition:
    """At every site the `metal` of wiring level `level` laid over the whole wafer (the metal
    support's foil, 001:11; a seed and its barrier, 001:8 and 002:1a-d) is etched through in
    the field around its pattern: the wiring patterned into separate patterns, none joined to
    its neighbours. Too short an etch, or none, fails; the margin is the over-etch, how far the
    etch went past that metal; a wafer without that metal at `level` has nothing to check
    (`Condition.judges`). `patterns` names them as the method's claim does (002's
    single level of interconnects: `the interconnects`); by default `the wiring patterns at
    level N`."""
    between = patterns or f"the wiring patterns at level {level}"

    def evaluate(w: Workpiece) -> tuple[np.ndarray, np.ndarray]:
        # a wafer without that metal at `level` has nothing etched to judge: it had read
        # 0 um over-etch at every site and passed (two-process-via's seed at level 0)
        laid = any(
            film.level == level and film.field_overetch_um.size == w.geometry.site_count
            for film in _front_metal(w)
        )
        checked = every_site(w) if laid else np.zeros(w.geometry.site_count, bool)
        return checked, _etched_past_the_field_um(w, level) >= 0

    return Condition(
        claim,
        f"{metal} etched through between {between}",
        evaluate,
        Margin(
            f"etch past {metal} between {patterns or 'the patterns'}",
            "um",
            lambda w: _etched_past_the_field_um(w, level),
            0.0,
        ),
        judges=f"{metal.removeprefix('the ')} at level {level}",
    )
