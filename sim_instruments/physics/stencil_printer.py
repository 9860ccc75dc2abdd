"""What the stencil printer does to a wafer: solder paste through a stencil onto every bump.

Pure functions over the workpiece's bumps, with their constants in `PrintPhysics`
(engineering estimates, est):

* **Aperture.** A round aperture of diameter d in a stencil t thick holds V_a = π (d/2)² t.
  Its area ratio is AR = d / 4t (opening over wall).
* **The tip in its aperture.** The stencil lies on the resin film and each bump's tip projects
  into its aperture: a truncated sphere (the reflowed ball on its pad; a bump with no base
  recorded, a sphere of its height) of radius R whose cap above the film is p high holds
  V_tip = π p² (3R - p) / 3 of the aperture, which leaves the paste its open volume
  V_o = V_a - V_tip (`ProjectingTips`, `open_nl`). The stencil lies on the film only where the
  tip is no taller above it than the stencil is thick and no wider there than the aperture
  (`seated`); where it is not, the stencil stands on the tip, off the film, the aperture
  seals on nothing and the paste bleeds under the stencil into the neighbours' deposits: the
  bump is marked bridged (what such a deposit holds is not modelled beyond V_o, clipped at 0).
* **Transfer efficiency.** TE = release(AR) · fill(v) · lift(s) + film(F) / t, the share of
  the open volume a deposit gets:
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
* **The bump.** Each bump present gets TE · V_o of paste (`bumps.paste_nl`); its metal (50 %
  of the paste by volume: a type 4 paste of about 90 % metal by weight, Sn63Pb37 at 8.4 g/cm³
  in a flux of about 1 g/cm³) is what the oven reflows onto the tip (003:19-20). Molten, it
  wets the tip above the film and stops at the film, which it does not wet: its surface is a
  spherical cap (surface tension rules at this size, gravity does not) standing on the tip's
  footprint at the film, 2 √(p (2R - p)) across, holding the tip's cap and the metal,
  V_tip + V_metal (`reflowed_solder`). Its height H above the film is the truncated sphere's
  of that volume on that footprint (`truncated_sphere_height_um`), its widest the footprint
  while H is at most the footprint's radius a, else its sphere's diameter (a² + H²) / H. The
  layer (`bumps.layer_um`, `layer_alloy`) is the solder over the tip's apex, H - p, what the
  reflow adds to the bump's height: a little metal is a thin layer, much metal a ball of its
  own volume, never more than that ball (as p goes to 0 it tends to the metal's sphere, not
  to infinity). A buried tip (p = 0) wets nothing and keeps no layer.
* **Bridging.** A deposit slumps sideways by half its height (the stencil's thickness) beyond
  its aperture: two deposits whose apertures leave a web between them narrower than the
  stencil is thick touch (`bridged_um`), and the reflow joins their bumps by a solder bridge
  (`bumps.bridged`, on both). The reflowed solder on a seated tip is always narrower than
  that reach, so the deposits' slump is what bridges: the cap holds the tip (within the
  aperture) and at most about 55 % of the aperture's volume of metal, so its sphere is at most
  (2.33 d² t)^(1/3) across, at most 0.70 (d + t) since d² t <= 4 (d + t)³ / 27, and a cap on
  a footprint is at most 2^(1/3) times as wide as the sphere of its volume: 0.88 (d + t).
* **SPI.** Each deposit is measured against its aperture's full volume V_a, as a real SPI
  judges a deposit against the volume its aperture prints (the printer is told nothing of the
  tip standing in it): its share V / V_a; under 50 % is insufficient, over 150 % excessive. A
  method that knows its tips works the transfer efficiency over the open volume out of it,
  V / V_o = share · V_a / V_o.
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
from .oven import (
    truncated_sphere_height_um,
    truncated_sphere_radius_um,
    truncated_sphere_width_um,
)


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
    transfer_efficiency: float  # mean deposit over its aperture's full volume, fraction
    min_transfer_efficiency: float  # the smallest deposit's, as the mean
    deposit_nl: float  # mean
    insufficient: int
    excessive: int


def aperture_nl(recipe: PrintRecipe) -> float:
    """The paste one aperture holds over a flat pad, nl."""
    return math.pi * (recipe.aperture_um / 2) ** 2 * recipe.stencil_thickness_um / UM3_PER_NL


@dataclass(frozen=True)
class ProjectingTips:
    """The bump tips a stencil lies over, each a truncated sphere (the reflowed ball on its
    pad) standing through the resin film the stencil lies on: how far above the film it
    projects, its sphere's radius and its widest above the film; arrays of one tip a site
    (0-d arrays: one tip, such as the tallest a recipe's bumps project)."""

    projection_um: np.ndarray
    radius_um: np.ndarray
    width_um: np.ndarray

    @classmethod
    def of(
        cls,
        height_um: np.ndarray | float,
        base_um: np.ndarray | float,
        film_um: np.ndarray | float,
    ) -> ProjectingTips:
        """Bumps of these heights on bases this wide through a film this thick (numbers or
        arrays; a buried tip projects 0 and is 0 wide above the film)."""
        height, base, film = (
            np.asarray(value, np.float64) for value in (height_um, base_um, film_um)
        )
        return cls(
            projection_um=np.maximum(height - film, 0.0),
            radius_um=truncated_sphere_radius_um(height, base),
            width_um=truncated_sphere_width_um(height, base, film),
        )

    @property
    def volume_um3(self) -> np.ndarray:
        """Each tip's volume above the film: its sphere's cap p high, pi p^2 (3R - p) / 3."""
        p = self.projection_um
        volume: np.ndarray = math.pi * p**2 * (3 * self.radius_um - p) / 3
        return volume


def stencil_clears(recipe: PrintRecipe, tips: ProjectingTips) -> np.ndarray:
    """Where the stencil is at least as thick as the tip projects above the film."""
    clears: np.ndarray = tips.projection_um <= recipe.stencil_thickness_um
    return clears


def aperture_clears(recipe: PrintRecipe, tips: ProjectingTips) -> np.ndarray:
    """Where the aperture is at least as wide as the tip above the film."""
    clears: np.ndarray = tips.width_um <= recipe.aperture_um
    return clears


def seated(recipe: PrintRecipe, tips: ProjectingTips) -> np.ndarray:
    """Where the stencil lies on the film over its tip (`stencil_clears` and
    `aperture_clears`); elsewhere it stands on the tip."""
    both: np.ndarray = stencil_clears(recipe, tips) & aperture_clears(recipe, tips)
    return both


def open_nl(recipe: PrintRecipe, tips: ProjectingTips) -> np.ndarray:
    """The paste each aperture holds over its tip, nl: the aperture's volume less the tip's
    standing in it (0 where the tip would fill it)."""
    volume: np.ndarray = np.maximum(aperture_nl(recipe) - tips.volume_um3 / UM3_PER_NL, 0.0)
    return volume


def bridge(workpiece: Workpiece, printed: np.ndarray, touch_um: float, bled: np.ndarray) -> None:
    """Mark the `printed` sites whose deposit touches a neighbour's, their centres closer than
    `touch_um` (`bridged_um`), and those whose paste `bled` under a stencil standing on their
    tip (a mask over `printed`), as bridged (`Bumps.bridged`); the others keep what they
    were."""
    bumps, geometry = workpiece.bumps, workpiece.geometry
    thaw(bumps.bridged)
    bumps.bridged[printed[bled]] = True
    if printed.size < 2:
        return
    x = geometry.site_x_mm[printed] * 1000
    y = geometry.site_y_mm[printed] * 1000
    a, b = touching(x, y, np.full(printed.size, touch_um / 2))
    bumps.bridged[printed[a]] = True
    bumps.bridged[printed[b]] = True


def transfer_efficiency(recipe: PrintRecipe, physics: PrintPhysics) -> float:
    """The mean fraction of an aperture's open volume (`open_nl`) a deposit gets."""
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


@dataclass(frozen=True)
class ReflowedSolder:
    """What deposits' metal becomes on their tips once reflowed (arrays of one a deposit): the
    molten solder's cap over each tip's footprint at the film, holding the tip and the metal,
    its height above the film, its widest, and the layer it puts over the tip's apex (its
    height less the tip's projection; 0 on a buried tip, which wets nothing)."""

    height_um: np.ndarray
    width_um: np.ndarray
    layer_um: np.ndarray


def footprint_um(tips: ProjectingTips) -> np.ndarray:
    """Each tip's diameter where it leaves the film, 2 sqrt(p (2R - p)) (0 when buried)."""
    p, radius = tips.projection_um, tips.radius_um
    width: np.ndarray = 2 * np.sqrt(np.maximum(p * (2 * radius - p), 0.0))
    return width


def reflowed_solder(
    deposit_nl: np.ndarray | float, tips: ProjectingTips, physics: PrintPhysics
) -> ReflowedSolder:
    """What deposits of `deposit_nl` leave on `tips` once reflowed: the paste's metal
    (`metal_fraction` of it) and the tip above the film together a spherical cap on the tip's
    footprint (`footprint_um`), of the truncated sphere's height for their volume
    (`truncated_sphere_height_um`); a buried tip keeps no layer and its film no solder."""
    metal_um3 = np.asarray(deposit_nl, np.float64) * physics.metal_fraction * UM3_PER_NL
    projection = np.broadcast_to(tips.projection_um, metal_um3.shape)
    footprint = np.broadcast_to(footprint_um(tips), metal_um3.shape)
    wets = projection > 0
    height = np.where(
        wets, truncated_sphere_height_um(tips.volume_um3 + metal_um3, footprint), projection
    )
    half = footprint / 2
    widest = np.divide(half**2 + height**2, height, out=np.zeros_like(height), where=height > half)
    return ReflowedSolder(
        height_um=height,
        width_um=np.where(wets, np.maximum(footprint, widest), 0.0),
        layer_um=np.where(wets, height - projection, 0.0),
    )


def printed_solder(
    efficiency: np.ndarray | float,
    recipe: PrintRecipe,
    tips: ProjectingTips,
    physics: PrintPhysics,
) -> ReflowedSolder:
    """What a print of `recipe` leaves on `tips` once reflowed, each deposit `efficiency` of
    its open volume (`open_nl`, `reflowed_solder`)."""
    deposit_nl = np.asarray(efficiency, np.float64) * open_nl(recipe, tips)
    return reflowed_solder(deposit_nl, tips, physics)


def inspected_share(deposit_nl: np.ndarray, recipe: PrintRecipe) -> np.ndarray:
    """What the solder paste inspection reads of a deposit of `deposit_nl`: its share of its
    aperture's whole volume (the SPI knows nothing of a tip standing in the aperture)."""
    share: np.ndarray = deposit_nl / aperture_nl(recipe)
    return share


def inspected_deposit_nl(share: float, recipe: PrintRecipe) -> float:
    """The deposit the solder paste inspection reads as `share` of its aperture's whole
    volume, nl: `inspected_share` undone, for a host that knows the tip in the aperture and
    works out the deposit's share of the open volume it leaves (`open_nl`)."""
    return share * aperture_nl(recipe)


def most_transfer_efficiency(recipe: PrintRecipe, physics: PrintPhysics) -> float:
    """The largest share of its aperture a deposit gets: the mean and the clipped scatter."""
    return transfer_efficiency(recipe, physics) * (1 + physics.deposit_sigmas * physics.deposit_cv)


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
    tips = ProjectingTips.of(
        bumps.height_um[printed], bumps.base_diameter_um[printed], workpiece.resin_um[printed]
    )
    deposit_nl = efficiency * open_nl(recipe, tips)
    solder = reflowed_solder(deposit_nl, tips, physics)
    thaw(bumps.paste_nl, bumps.layer_um, bumps.height_um)
    bumps.paste_nl[printed] += deposit_nl.astype(np.float32)
    bumps.layer_um[printed] += solder.layer_um.astype(np.float32)
    bumps.height_um[printed] += solder.layer_um.astype(np.float32)  # the layer tops the bump
    bumps.layer_alloy = recipe.paste.value
    bridge(workpiece, printed, bridged_um(recipe, physics), ~seated(recipe, tips))
    measured = inspected_share(deposit_nl, recipe)
    return PrintOutcome(
        deposits=int(printed.size),
        transfer_efficiency=float(measured.mean()),
        min_transfer_efficiency=float(measured.min()),
        deposit_nl=float(deposit_nl.mean()),
        insufficient=int(np.count_nonzero(measured < physics.insufficient_below)),
        excessive=int(np.count_nonzero(measured > physics.excessive_above)),
    )
