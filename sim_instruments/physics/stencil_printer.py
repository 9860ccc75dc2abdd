"""What the stencil printer does to a wafer: solder paste through a stencil onto every bump.

Pure functions over the workpiece's bumps, with their constants in `PrintPhysics`
(engineering estimates, est):

* **Aperture.** A round aperture of diameter d in a stencil t thick holds V_a = π (d/2)² t.
  Its area ratio is AR = d / 4t (opening over wall).
* **Transfer efficiency.** TE = release(AR) · fill(v) · lift(s) + film(F) / t:
  - release(AR) = 0.95 (1 - e^-(AR - 0.45) / 0.12) above AR 0.45, 0 below: the paste sticks to
    the aperture walls when the wall is large against the opening (AR 0.66: 79 %, 0.8: 90 %);
  - fill(v) = 1 up to a squeegee speed of 100 mm/s, then 0.2 % less per mm/s faster (the paste
    has no time to roll into the apertures);
  - lift(s) = 1 up to a separation speed of 3 mm/s, then 2 % less per mm/s faster (a fast
    lift tears the deposit);
  - a squeegee force below 40 N does not wipe the stencil clean: a paste film of
    20 um · (1 - F / 40 N) stays on it and prints with every deposit (film / t over 100 %).
  Each deposit scatters about that mean by 5 % (1-sigma), clipped at 3 sigma (the printer's
  qualified spread: validate judges the thinnest layer by it).
* **The bump.** Each bump present gets TE · V_a of paste (`bumps.paste_nl`); its metal (50 %
  of the paste by volume: a type 4 paste of about 90 % metal by weight) adds a layer of the
  paste's alloy over the bump's cap (its base diameter; the aperture's where the bump records
  none): `bumps.layer_um` and `layer_alloy`, which the oven reflows (003:19-20)
  (`reflowed_layer_um`).
* **Bridging.** A deposit slumps sideways by half its height (the stencil's thickness) beyond
  its aperture: two deposits whose apertures leave a web between them narrower than the
  stencil is thick touch (`bridged_um`), and the reflow joins their bumps by a solder bridge
  (`bumps.bridged`, on both).
* **SPI.** A deposit under 50 % of its aperture's volume is insufficient, over 150 % excessive.
* **Timing.** Fiducial alignment (15 s), the stroke across the workpiece and 20 mm beyond each
  side at the squeegee speed, a 3 mm lift at the separation speed, the SPI (5 s plus 1 ms a
  deposit). A print stopped during its stroke printed the bumps the squeegee passed (from the
  workpiece's left edge); stopped before, none.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from packline.drivers.roles.stencil_printer import PrintRecipe

from ..twin import Workpiece
from ..twin.freezing import thaw
from ..twin.parts import UM3_PER_NL
from .ball_mounter import touching


@dataclass(frozen=True)
class PrintPhysics:
    """The printer's constants (est)."""

    critical_area_ratio: float = 0.45
    release_scale: float = 0.12
    max_release: float = 0.95
    full_fill_speed_mm_s: float = 100.0
    fill_loss_per_mm_s: float = 0.002
    clean_lift_speed_mm_s: float = 3.0
    lift_loss_per_mm_s: float = 0.02
    clean_wipe_force_n: float = 40.0
    film_at_no_force_um: float = 20.0
    deposit_cv: float = 0.05
    deposit_sigmas: float = 3.0  # the scatter's clip
    slump_per_height: float = 0.5  # a deposit's sideways slump beyond its aperture, per height
    metal_fraction: float = 0.5  # of the paste by volume
    insufficient_below: float = 0.5
    excessive_above: float = 1.5
    align_s: float = 15.0
    overtravel_mm: float = 20.0
    lift_mm: float = 3.0
    spi_s: float = 5.0
    spi_s_per_deposit: float = 0.001


@dataclass(frozen=True)
class PrintOutcome:
    """What a print left, as the SPI measures it."""

    deposits: int
    transfer_efficiency: float  # mean, fraction
    min_transfer_efficiency: float
    deposit_nl: float  # mean
    insufficient: int
    excessive: int


def aperture_nl(recipe: PrintRecipe) -> float:
    """The paste one aperture holds, nl."""
    return math.pi * (recipe.aperture_um / 2) ** 2 * recipe.stencil_thickness_um / UM3_PER_NL


def bridge(workpiece: Workpiece, printed: np.ndarray, touch_um: float) -> None:
    """Mark the `printed` sites whose deposit touches a neighbour's, their centres closer than
    `touch_um` (`bridged_um`), as bridged (`Bumps.bridged`); the others keep what they were."""
    bumps, geometry = workpiece.bumps, workpiece.geometry
    if printed.size < 2:
        return
    x = geometry.site_x_mm[printed] * 1000
    y = geometry.site_y_mm[printed] * 1000
    a, b = touching(x, y, np.full(printed.size, touch_um / 2))
    thaw(bumps.bridged)
    bumps.bridged[printed[a]] = True
    bumps.bridged[printed[b]] = True


def transfer_efficiency(recipe: PrintRecipe, physics: PrintPhysics) -> float:
    """The mean fraction of an aperture's volume a deposit gets."""
    excess = recipe.area_ratio - physics.critical_area_ratio
    release = physics.max_release * (1 - math.exp(-excess / physics.release_scale))
    release = max(release, 0.0)
    fill = 1 - physics.fill_loss_per_mm_s * max(
        recipe.squeegee_speed_mm_s - physics.full_fill_speed_mm_s, 0.0
    )
    lift = 1 - physics.lift_loss_per_mm_s * max(
        recipe.separation_speed_mm_s - physics.clean_lift_speed_mm_s, 0.0
    )
    unwiped = max(1 - recipe.squeegee_force_n / physics.clean_wipe_force_n, 0.0)
    film = physics.film_at_no_force_um * unwiped / recipe.stencil_thickness_um
    return release * max(fill, 0.0) * max(lift, 0.0) + film


def reflowed_layer_um(
    deposit_nl: np.ndarray, cap_um: np.ndarray, physics: PrintPhysics
) -> np.ndarray:
    """The layer (um) deposits of `deposit_nl` leave over bump caps `cap_um` across: the paste's
    metal (`metal_fraction` of it) spread over the cap, which the reflow melts onto the tip."""
    metal_um3 = np.asarray(deposit_nl, np.float64) * physics.metal_fraction * UM3_PER_NL
    cap_area_um2 = math.pi * (np.asarray(cap_um, np.float64) / 2) ** 2
    layer: np.ndarray = metal_um3 / cap_area_um2
    return layer


def least_transfer_efficiency(recipe: PrintRecipe, physics: PrintPhysics) -> float:
    """The smallest share of its aperture a deposit gets: the mean less the clipped scatter."""
    spread = 1 - physics.deposit_sigmas * physics.deposit_cv
    return max(transfer_efficiency(recipe, physics) * spread, 0.0)


def bridged_um(recipe: PrintRecipe, physics: PrintPhysics) -> float:
    """The centre distance below which two deposits of `recipe` touch: the aperture widened by
    each deposit's slump (`slump_per_height` of the stencil's thickness, on either side)."""
    return recipe.aperture_um + 2 * physics.slump_per_height * recipe.stencil_thickness_um


def stroke_s(workpiece: Workpiece, recipe: PrintRecipe, physics: PrintPhysics) -> float:
    """The squeegee's stroke across the workpiece and its overtravel."""
    width_mm = workpiece.geometry.outline_mm[0] + 2 * physics.overtravel_mm
    return width_mm / recipe.squeegee_speed_mm_s


def print_time_s(workpiece: Workpiece, recipe: PrintRecipe, physics: PrintPhysics) -> float:
    """A print cycle's time: alignment, stroke, lift and inspection."""
    deposits = int(np.count_nonzero(workpiece.bumps.present))
    return (
        physics.align_s
        + stroke_s(workpiece, recipe, physics)
        + physics.lift_mm / recipe.separation_speed_mm_s
        + physics.spi_s
        + deposits * physics.spi_s_per_deposit
    )


def print_paste(
    workpiece: Workpiece,
    recipe: PrintRecipe,
    elapsed_s: float,
    physics: PrintPhysics,
    rng: np.random.Generator,
) -> PrintOutcome:
    """Paste on the bumps the stroke passed in `elapsed_s` from the cycle's start (every bump
    once the stroke is over), their eutectic layer grown by its metal; the SPI's measurement."""
    bumps, geometry = workpiece.bumps, workpiece.geometry
    passed = min(max((elapsed_s - physics.align_s) / stroke_s(workpiece, recipe, physics), 0), 1)
    left_mm = -geometry.outline_mm[0] / 2 - physics.overtravel_mm
    reach_mm = left_mm + passed * (geometry.outline_mm[0] + 2 * physics.overtravel_mm)
    printed = np.flatnonzero(bumps.present & (geometry.site_x_mm <= reach_mm))
    if printed.size == 0:
        return PrintOutcome(0, 0.0, 0.0, 0.0, 0, 0)
    mean = transfer_efficiency(recipe, physics)
    sigmas = physics.deposit_sigmas
    scatter = np.clip(rng.standard_normal(printed.size), -sigmas, sigmas)
    efficiency = np.maximum(mean * (1 + physics.deposit_cv * scatter), 0)
    deposit_nl = efficiency * aperture_nl(recipe)
    thaw(bumps.paste_nl, bumps.layer_um, bumps.height_um)
    bumps.paste_nl[printed] += deposit_nl.astype(np.float32)
    cap_um = np.where(
        bumps.base_diameter_um[printed] > 0, bumps.base_diameter_um[printed], recipe.aperture_um
    )
    layer = reflowed_layer_um(deposit_nl, cap_um, physics).astype(np.float32)
    bumps.layer_um[printed] += layer
    bumps.height_um[printed] += layer  # the layer tops the bump
    bumps.layer_alloy = recipe.paste.value
    bridge(workpiece, printed, bridged_um(recipe, physics))
    return PrintOutcome(
        deposits=int(printed.size),
        transfer_efficiency=float(efficiency.mean()),
        min_transfer_efficiency=float(efficiency.min()),
        deposit_nl=float(deposit_nl.mean()),
        insufficient=int(np.count_nonzero(efficiency < physics.insufficient_below)),
        excessive=int(np.count_nonzero(efficiency > physics.excessive_above)),
    )
