"""Conditions on bumps and their tips: on every pad, above the resin, clean and activated."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from packline.sequences.engine import Condition, Margin
from packline.sim_instruments.twin import Workpiece
from packline.sim_instruments.twin.parts import Face, ResinKind

#: A film this thin (nm) counts as gone: below what an XPS survey resolves on a bump tip.
CLEAN_NM = 0.1


def exposed_tips(w: Workpiece) -> np.ndarray:
    """Bump sites whose tip stands above the resin."""
    return w.has_bumps & (w.tip_projection_um > 0)


def every_site(w: Workpiece) -> np.ndarray:
    """Every site of the wafer or panel, checked alike (a condition that spares none)."""
    return np.ones(w.geometry.site_count, bool)


def bump_on_every_pad(claim: str) -> Condition:
    """A bump on every pad (every site of the wafer)."""
    return Condition(claim, "a bump on every pad", lambda w: (every_site(w), w.has_bumps))


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


def own_height_um(w: Workpiece) -> np.ndarray:
    """Each bump's own height, without a eutectic layer put on it afterwards (003:19-21): what
    the resin was laid against and its tip projected by when it was cleaned (003:7.2, 7.3)."""
    height: np.ndarray = w.bumps.height_um - w.bumps.layer_um
    return height


def resin_thinner_than_bumps(claim: str) -> Condition:
    """At every bump, the resin film is thinner than the bump is high (the bump's own height:
    `own_height_um`)."""
    return Condition(
        claim,
        "resin thinner than every bump",
        lambda w: (w.has_bumps, w.resin_um < own_height_um(w)),
        Margin(
            "bump height above the resin",
            "um",
            lambda w: own_height_um(w) - w.resin_um,
            0,
            strict=True,
        ),
    )


def tips_project(claim: str, min_um: float = 0.0, *, sealing_only: bool = False) -> Condition:
    """Every bump tip, its own (`own_height_um`), stands more than `min_um` above the resin
    top (`sealing_only`: the top of the sealing layers)."""
    return Condition(
        claim,
        f"bump tips project above the resin (> {min_um:g} um)",
        lambda w: (w.has_bumps, own_height_um(w) - _resin_under_tips(w, sealing_only) > min_um),
        Margin(
            "tip projection",
            "um",
            lambda w: own_height_um(w) - _resin_under_tips(w, sealing_only),
            min_um,
            strict=True,
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


def left_clean(*, tips: bool) -> list[Condition]:
    """What a cleaning of 003:8 must leave, whatever its option (the gases it takes, a laser):
    no residue (003:10) and no oxide (003:11) on the exposed bump tips (`tips`) or on every
    exposed metal. Both raise the connection resistance, so both are judged whatever the
    recipe claims to remove: an O2-only clean grows oxide on the metal it exposes."""
    if tips:
        return [no_residue_on_tips("003:10"), no_oxide_on_tips("003:11")]
    return [no_residue_on_exposed_metal("003:10"), no_oxide_on_exposed_metal("003:11")]


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


def resin_sealing_layer_um(w: Workpiece) -> np.ndarray:
    """The resin-sealing layer of 001:1b over each site: the first layer of `SEALING_KINDS` on
    the front, the one the bumps on the pads pierce; not the solder resist over it (001:4)
    nor an upper level's sheet (001:14-17). Zero where the front has none."""
    for layer in w.resins.on(Face.FRONT):
        if layer.kind in SEALING_KINDS:
            return layer.thickness_um
    return np.zeros(w.geometry.site_count, np.float32)


def sealing_layer_at_least(claim: str, min_um: float) -> Condition:
    """The resin-sealing layer (`resin_sealing_layer_um`) is at least `min_um` thick over every
    site (001:13: 50 um). The claim speaks of that layer alone: a solder resist or an upper
    level's sheet laid over it makes it no thicker."""
    return Condition(
        claim,
        f"resin-sealing layer at least {min_um:g} um thick",
        lambda w: (every_site(w), resin_sealing_layer_um(w) >= min_um),
        Margin("resin-sealing layer", "um", resin_sealing_layer_um, min_um),
    )
