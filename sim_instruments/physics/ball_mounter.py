"""The ball mounter's physics: flux, balls on the open sites, and what the camera counts.

`BallMountPhysics` holds the cell's constants, engineering estimates (est) since
PROCESS_WINDOWS.md gives none for ball mounting. What the functions model, vectorised over the
sites (a loop runs over nothing per site):

* **Where** (`Workpiece.exposed_metal_on`, `mapped_sites`): a site takes flux and a ball
  only where the ball map lists its position in its unit and its metal is open on the side
  under the heads: on the front the workpiece's exposed metal (bare pads, bump tips above the
  resin, open via bottoms, a through-hole site once its hole is open); on the back a metal
  film under an opening of the back's outermost resin (a panel's solder resist openings,
  000:x1).
* **Flux** (`apply_flux`): the deposit is the set thickness with a spread per site, wider for
  pin transfer than for a stencil print (the line's `FLUX_SPREAD`, clipped at
  `FLUX_SPREAD_SIGMAS`, which validate judges a recipe's flux by with `FLUX_HOLD_RATIO`),
  kept on the map grid (1/256 um, `twin/resolution.py`) as the balls' placement offsets are.
* **Balls** (`mount_balls`): flux holds a ball with a probability that falls linearly to 0 as
  the flux thins below `FLUX_HOLD_RATIO` of the ball's diameter (a missing ball); above
  `SWIM_RATIO` the ball swims in the flux, so its placement spreads and a second ball is
  caught more often (an extra ball). A site that already carries a ball catches the new one as
  an extra.
* **Repair** (`repair_balls`): a single-ball head picks the second ball off every mapped site
  that caught one, and sets a ball on each fluxed open mapped site still without one, held as
  in a mount; a site that has a ball gets none.
* **Bridging** (`bridge`): two balls touch when their centres (with their placement offsets)
  are closer than the sum of their radii, each widened by half the flux that spreads beyond
  `SWIM_RATIO` of the diameter; pitch, diameter, misplacement and flux amount all enter.
* **Reach** (`reach_past_the_resist_um`, `reaching_the_metal`): a ball in a back resin's
  opening, or in a front resin's via, sinks into it by its sag (`ball_sag_um`) and touches
  the metal only through no thicker resin; the oven's reflow joins only the balls that do,
  and the claim check judges the reach.
* **Inspection** (`inspect`): mapped sites without a ball (missing), second balls and balls off
  the map (extra), balls touching a neighbour (bridged).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from packline.drivers.roles.ball_mounter import (
    BALL_PLACEMENT_SIGMA_UM,
    BALL_PLACEMENT_SIGMAS,
    FLUX_HOLD_RATIO,
    FLUX_SPREAD,
    FLUX_SPREAD_PER_UM,
    FLUX_SPREAD_SIGMAS,
    SWIM_RATIO,
    SWIM_SIGMA_FRACTION,
    FluxMethod,
    Inspection,
    ball_sag_um,
)

from ..twin import Face, Workpiece
from ..twin.freezing import thaw
from ..twin.parts import Geometry, OpeningLayer
from ..twin.resolution import on_map_grid


@dataclass(frozen=True)
class BallMountPhysics:
    """Constants of the ball-mount cell (all est) that only the simulated cell uses; the line's
    figures that validate judges a recipe by too (the flux's hold and swim ratios, the
    placement and the spread) are the role's, `drivers/roles/ball_mounter.py`, read there."""

    #: balls the head fails to set down on a well-fluxed site, per ball
    miss_rate: float = 2e-5
    #: second balls caught on a well-fluxed site, per ball, and per unit of ratio above swim
    extra_rate: float = 1e-5
    extra_per_swim: float = 0.05
    #: cycle times: a stencil print stroke, a pin transfer per unit, a gang placement per unit,
    #: a camera frame per unit, each after a fixed handling time, s
    print_cycle_s: float = 20.0
    pin_setup_s: float = 5.0
    pin_per_unit_s: float = 0.3
    mount_setup_s: float = 15.0
    mount_per_unit_s: float = 0.25
    inspect_setup_s: float = 8.0
    inspect_per_unit_s: float = 0.05
    #: the single-ball repair head: a fixed handling time, then a pick or place per site, s
    repair_setup_s: float = 10.0
    repair_per_site_s: float = 2.0

    def flux_time_s(self, method: FluxMethod, units: int) -> float:
        if method is FluxMethod.PRINT:
            return self.print_cycle_s
        return self.pin_setup_s + self.pin_per_unit_s * units

    def mount_time_s(self, units: int) -> float:
        return self.mount_setup_s + self.mount_per_unit_s * units

    def inspect_time_s(self, units: int) -> float:
        return self.inspect_setup_s + self.inspect_per_unit_s * units

    def repair_time_s(self, sites: int) -> float:
        return self.repair_setup_s + self.repair_per_site_s * sites


def site_positions(geometry: Geometry) -> np.ndarray:
    """Each site's position in its unit's site order (0 for a unit's first site)."""
    order = np.argsort(geometry.site_unit, kind="stable")
    counts = np.bincount(geometry.site_unit, minlength=geometry.unit_count)
    starts = np.cumsum(counts) - counts
    positions = np.empty(geometry.site_count, np.int32)
    positions[order] = np.arange(geometry.site_count) - np.repeat(starts, counts)
    return positions


def mapped_sites(workpiece: Workpiece, positions: frozenset[int]) -> np.ndarray:
    """The sites whose position in their unit the ball map lists."""
    listed = np.zeros(max(positions, default=0) + 1, bool)
    listed[list(positions)] = True
    site = site_positions(workpiece.geometry)
    mapped: np.ndarray = (site < listed.size) & listed[np.minimum(site, listed.size - 1)]
    return mapped


def apply_flux(
    workpiece: Workpiece,
    face: Face,
    mapped: np.ndarray,
    method: FluxMethod,
    thickness_um: float,
    physics: BallMountPhysics,
    rng: np.random.Generator,
) -> int:
    """Put flux on the open mapped sites of `face`; returns how many sites got flux."""
    balls = workpiece.balls
    target = mapped & workpiece.exposed_metal_on(face)
    spread = np.clip(
        rng.standard_normal(int(target.sum())), -FLUX_SPREAD_SIGMAS, FLUX_SPREAD_SIGMAS
    )
    deposit = thickness_um * (1 + FLUX_SPREAD[method] * spread)
    thaw(balls.flux_um)
    balls.flux_um[target] = on_map_grid(np.maximum(deposit, 0.0))
    balls.face = face
    return int(np.count_nonzero(target))


def mount_balls(
    workpiece: Workpiece,
    face: Face,
    mapped: np.ndarray,
    diameter_um: float,
    alloy: str,
    physics: BallMountPhysics,
    rng: np.random.Generator,
) -> int:
    """Set balls down on the open mapped sites of `face` where the flux holds them, then find
    the bridges; returns how many balls the flux held (second balls included)."""
    balls = workpiece.balls
    count = workpiece.geometry.site_count
    target = mapped & workpiece.exposed_metal_on(face) & (balls.flux_um > 0)
    held = _held(workpiece, target, diameter_um, physics, rng)
    swim = np.maximum(balls.flux_um / diameter_um - SWIM_RATIO, 0.0)
    second = rng.random(count) < physics.extra_rate + physics.extra_per_swim * swim
    thaw(balls.extra)
    balls.extra |= held & (balls.present | second)
    sigma = BALL_PLACEMENT_SIGMA_UM + SWIM_SIGMA_FRACTION * swim * diameter_um
    offsets = _strays_um(rng, count, sigma[:, None])
    _set_down(workpiece, held & ~balls.present, offsets, diameter_um, alloy, face, physics)
    return int(np.count_nonzero(held))


def _held(
    workpiece: Workpiece,
    target: np.ndarray,
    diameter_um: float,
    physics: BallMountPhysics,
    rng: np.random.Generator,
) -> np.ndarray:
    """The `target` sites whose flux holds a ball set down on it: with a probability falling
    linearly to 0 as the flux thins below `FLUX_HOLD_RATIO` of the diameter, less the head's misses
    (one draw per site of the workpiece)."""
    flux_um = workpiece.balls.flux_um
    hold = np.clip(flux_um / diameter_um / FLUX_HOLD_RATIO, 0.0, 1.0) * (1 - physics.miss_rate)
    held: np.ndarray = target & (rng.random(flux_um.size) < hold)
    return held


def _set_down(
    workpiece: Workpiece,
    sites: np.ndarray,
    offsets_um: np.ndarray,
    diameter_um: float,
    alloy: str,
    face: Face,
    physics: BallMountPhysics,
) -> None:
    """Put a ball of `diameter_um` and `alloy` on each of `sites` (off centre by its row of
    `offsets_um`), then find the bridges."""
    balls = workpiece.balls
    thaw(balls.offset_um, balls.diameter_um, balls.present)
    balls.offset_um[sites] = offsets_um[sites]
    balls.diameter_um[sites] = diameter_um
    balls.present |= sites
    balls.alloy = alloy
    balls.face = face
    bridge(workpiece, physics)


def repair_sites(workpiece: Workpiece, face: Face, mapped: np.ndarray) -> np.ndarray:
    """The sites a repair works on: mapped sites with a second ball to pick off, and fluxed
    open mapped sites still without a ball to set one on."""
    balls = workpiece.balls
    empty = workpiece.exposed_metal_on(face) & (balls.flux_um > 0) & ~balls.present
    sites: np.ndarray = mapped & (empty | balls.extra)
    return sites


def repair_balls(
    workpiece: Workpiece,
    face: Face,
    mapped: np.ndarray,
    diameter_um: float,
    alloy: str,
    physics: BallMountPhysics,
    rng: np.random.Generator,
) -> int:
    """Pick every second ball off the mapped sites, set a ball on every empty repair site
    where the flux holds it (one at a time: no second ball), then find the bridges; returns
    how many balls were set."""
    balls = workpiece.balls
    count = workpiece.geometry.site_count
    target = repair_sites(workpiece, face, mapped) & ~balls.present
    thaw(balls.extra)
    balls.extra[mapped] = False
    held = _held(workpiece, target, diameter_um, physics, rng)
    offsets = _strays_um(rng, count, BALL_PLACEMENT_SIGMA_UM)
    _set_down(workpiece, held, offsets, diameter_um, alloy, face, physics)
    return int(np.count_nonzero(held))


def _strays_um(rng: np.random.Generator, count: int, sigma_um: float | np.ndarray) -> np.ndarray:
    """Where `count` balls land off their sites, um per axis: normal of `sigma_um`, held
    within `BALL_PLACEMENT_SIGMAS` of it (the head and the ball mask), on the map grid."""
    spread = BALL_PLACEMENT_SIGMAS
    return on_map_grid(np.clip(rng.standard_normal((count, 2)), -spread, spread) * sigma_um)


def bridge(workpiece: Workpiece, physics: BallMountPhysics) -> None:
    """Mark every ball that touches a neighbour (`Balls.bridged`)."""
    balls, geometry = workpiece.balls, workpiece.geometry
    thaw(balls.bridged)
    balls.bridged[:] = False
    index = np.flatnonzero(balls.present)
    if index.size < 2:
        return
    x = geometry.site_x_mm[index] * 1000 + balls.offset_um[index, 0]
    y = geometry.site_y_mm[index] * 1000 + balls.offset_um[index, 1]
    diameter = balls.diameter_um[index]
    excess = np.maximum(balls.flux_um[index] - SWIM_RATIO * diameter, 0.0)
    reach = diameter / 2 + FLUX_SPREAD_PER_UM * excess / 2
    a, b = touching(x, y, reach)
    balls.bridged[index[a]] = True
    balls.bridged[index[b]] = True


def touching(x: np.ndarray, y: np.ndarray, reach: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pairs (i, j) of circles at (x, y) of radius `reach` that overlap, each pair once.

    The circles are sorted into vertical bands as wide as the largest overlap distance, by
    band and then y; a circle's partners then lie a little further in its own band or within
    a y window of the next band, found by binary search. The loops run over the offset into
    those windows (a few), never over the circles.
    """
    reach_max = 2 * float(reach.max())
    band = np.floor((x - x.min()) / reach_max)
    rise = y - y.min()
    span = float(rise.max()) + 2 * reach_max  # a band's keys never reach the next band's
    order = np.argsort(band * span + rise, kind="stable")
    xs, ys, rs, bs, rises = x[order], y[order], reach[order], band[order], rise[order]
    keys = bs * span + rises
    first = np.arange(keys.size) + 1
    windows = (
        (first, np.searchsorted(keys, keys + reach_max, "right")),
        (
            np.searchsorted(keys, (bs + 1) * span + rises - reach_max, "left"),
            np.searchsorted(keys, (bs + 1) * span + rises + reach_max, "right"),
        ),
    )
    found_a, found_b = [], []
    for low, high in windows:
        width = high - low
        for offset in range(int(width.max(initial=0))):
            i = np.flatnonzero(width > offset)
            j = low[i] + offset
            touch = np.hypot(xs[i] - xs[j], ys[i] - ys[j]) < rs[i] + rs[j]
            found_a.append(order[i[touch]])
            found_b.append(order[j[touch]])
    if not found_a:
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    return np.concatenate(found_a), np.concatenate(found_b)


def reach_past_the_resist_um(workpiece: Workpiece) -> np.ndarray:
    """Per site, how far below the resin that holds a ball it reaches, um: its sag
    (`ball_sag_um`, the line's figure) less the resin between it and its metal (negative: it
    sits on the rim, short of the metal by as much). On the back a ball sits in an opening of
    the back's outermost resin (a solder resist, 000:x1, 000:x3) over flat metal; on the front
    in an open via of the front's outermost resin (002:1i's terminals), reaching as deep as
    the narrowest rim it rests on lets it (`_lowest_in_the_vias_um`) against the via's depth
    to the interconnect. Infinite where nothing holds a ball off its metal: no ball, no resin
    on its face, a front ball on no via (a pad, a bump tip, wiring over the resin), or one in
    an opening wider than itself (001:4's solder resist, opened around its balls after
    them)."""
    balls = workpiece.balls
    reach = np.full(workpiece.geometry.site_count, np.inf)
    top = workpiece.top_resin(balls.face)
    if top is None:
        return reach
    layer, openings = top
    if balls.face is Face.BACK:
        on = balls.present
        reach[on] = _sags_um(balls.diameter_um[on], openings.diameter_um[on])
        reach[on] -= layer.thickness_um[on]
        return reach
    on = balls.present & openings.open
    if on.any():
        reach[on] = _lowest_in_the_vias_um(balls.diameter_um, openings, on)
        reach[on] -= openings.depth_um[on]
    return reach


def _sags_um(ball_diameter_um: np.ndarray, opening_um: np.ndarray) -> np.ndarray:
    """`ball_sag_um` per site."""
    sags: np.ndarray = np.vectorize(ball_sag_um, otypes=[np.float64])(ball_diameter_um, opening_um)
    return sags


def _lowest_in_the_vias_um(
    ball_diameter_um: np.ndarray, openings: OpeningLayer, on: np.ndarray
) -> np.ndarray:
    """How far below the layer's top the ball at each site `on` reaches in its via: the
    least, over the processes that deepened the via, of the depth that process began at plus
    the ball's sag into the opening it cut (a through-hole lasered narrower at the bottom of
    a wider concave portion holds the ball on its own rim, deeper than the concave
    portion's). A dry etch that brings a concave bottom down with the top deepens nothing
    below it: the concave portion's width is the via's."""
    diameters = ball_diameter_um[on]
    if not openings.stages:
        return _sags_um(diameters, openings.diameter_um[on])
    lowest = np.full(diameters.shape, np.inf)
    began = np.zeros(diameters.shape)
    for stage in openings.stages:
        depth = stage.depth_um[on]
        deepened = depth > began
        if deepened.any():
            rests = began + _sags_um(diameters, openings.stage_widths_um(stage)[on])
            lowest = np.where(deepened, np.minimum(lowest, rests), lowest)
        began = np.maximum(began, depth)
    return lowest


def reaching_the_metal(workpiece: Workpiece) -> np.ndarray:
    """Per site, whether a ball there touches the metal below it: through no more resin than
    it sinks into its opening (`reach_past_the_resist_um` at least 0)."""
    reaching: np.ndarray = reach_past_the_resist_um(workpiece) >= 0
    return reaching


def inspect(workpiece: Workpiece, face: Face, mapped: np.ndarray) -> Inspection:
    """What the camera counts on `face` against the map's sites."""
    balls = workpiece.balls
    seen = balls.present if balls.face is face else np.zeros_like(balls.present)
    return Inspection(
        sites_inspected=int(np.count_nonzero(mapped)),
        missing=int(np.count_nonzero(mapped & ~seen)),
        extra=int(np.count_nonzero(seen & balls.extra) + np.count_nonzero(seen & ~mapped)),
        bridged=int(np.count_nonzero(seen & balls.bridged)),
    )
