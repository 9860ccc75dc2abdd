"""What an oven run does to the batch: resin cure and solder reflow, from the load's history.

The oven records the load temperature and the residual oxygen over a run (`LoadHistory`,
sampled at the oven's time step, piecewise linear between samples). From it:

* **Cure** (002:1g, 002:2): the degree of cure alpha of a thermoset follows the Kamal
  (autocatalytic) model, `d alpha / dt = (k1 + k2 alpha^m) (1 - alpha)^n` with Arrhenius rate
  constants `k_i = A_i exp(-E_i / (R T))`; `KamalCure.cure` integrates it along the history
  (classical Runge-Kutta, a step per 20 s or per degree the load moves, whichever is shorter):
  the line's kinetics, `drivers/roles/oven.py`, by which validate judges a cure.
* **Reflow** (001:3, 003:19-21): a solder melts only where the load passes its liquidus; it
  wets and forms a joint only if it stays above the liquidus for at least the wetting time
  and the atmosphere's residual O2 while molten stays at or below the wetting limit (above
  it the molten surface oxidises and does not wet). A high-melting core under a eutectic
  layer stays solid when the peak stays at or below the core's solidus (`softens`, 003:20).
* **Solder bumps from balls** (003:7.1 with solder bumps, 003:19): a ball that joins a bare
  pad (no bump, resin or metal film on the site) wets the pad and solidifies as a truncated
  sphere of the ball's volume on it: the site's solder bump (`solder_bumps_from_balls`).

Constants are engineering estimates (est); PROCESS_WINDOWS.md gives none for ovens.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from packline.drivers.roles.oven import (
    LIQUIDUS_C,
    LOAD_COOLING_TIME_CONSTANT_S,
    PAD_TO_BALL_RATIO,
    REFLOW_WETTING_TIME_S,
    REFLOWED_BUMP_FLUX_NM,
    REFLOWED_BUMP_OXIDE_NM,
    RESIN_CURE,
    SOLIDUS_C,
    ZONE_LOOP_TIME_CONSTANT_S,
    ZONE_MAX_HEAT_RATE_C_PER_S,
    KamalCure,
    LastResult,
)
from packline.drivers.roles.resin_coater import RESINS

from ..families.temperature_controller import HeaterPlant
from ..twin import Face, ResinKind
from ..twin.freezing import thaw
from ..twin.parts import BumpKind
from ..twin.workpiece import Workpiece
from .ball_mounter import reaching_the_metal
from .resin_coater import RESIN_KIND


@dataclass
class LoadHistory:
    """The load's temperature and the atmosphere's O2 at each sample time of a run."""

    time_s: list[float] = field(default_factory=list)
    temperature_c: list[float] = field(default_factory=list)
    o2_ppm: list[float] = field(default_factory=list)
    #: The degree of cure worked out from it, by kinetics and degree before the run.
    _cured: dict[tuple[KamalCure, float], float] = field(
        default_factory=dict, repr=False, compare=False
    )

    def add(self, time_s: float, temperature_c: float, o2_ppm: float) -> None:
        self.time_s.append(time_s)
        self.temperature_c.append(temperature_c)
        self.o2_ppm.append(o2_ppm)
        self._cured.clear()

    def cure(self, kinetics: KamalCure, alpha: float) -> float:
        """The degree of cure a resin of `kinetics` at `alpha` reaches over the history,
        integrated once for each kinetics and start: every wafer of a batch shares the run, and
        the layers of a batch are mostly alike (a batch of eight had integrated it eight times)."""
        key = (kinetics, alpha)
        if key not in self._cured:
            self._cured[key] = kinetics.cure(alpha, self.time_s, self.temperature_c)
        return self._cured[key]

    @property
    def peak_c(self) -> float:
        return max(self.temperature_c, default=-math.inf)

    def time_above_s(self, level_c: float) -> float:
        """How long the load was above `level_c` (exact for the piecewise-linear history)."""
        return float(sum(_above(self, level_c)))

    def max_o2_above_ppm(self, level_c: float) -> float:
        """The highest O2 while the load was above `level_c` (0 if it never was)."""
        return max(
            (
                max(self.o2_ppm[i], self.o2_ppm[i + 1])
                for i, seconds in enumerate(_above(self, level_c))
                if seconds > 0
            ),
            default=0.0,
        )


def _above(history: LoadHistory, level_c: float) -> list[float]:
    """Seconds above `level_c` in each interval between two samples."""
    t, temp = history.time_s, history.temperature_c
    spans = []
    for i in range(len(t) - 1):
        a, b, dt = temp[i] - level_c, temp[i + 1] - level_c, t[i + 1] - t[i]
        if a > 0 and b > 0:
            spans.append(dt)
        elif a > 0 or b > 0:
            spans.append(dt * max(a, b) / (abs(a) + abs(b)))
        else:
            spans.append(0.0)
    return spans


#: The kinetics each kind of resin layer cures by: a coated layer its resin's (`RESINS`, the
#: line's), the dispensed sealing resin an epoxy (est).
CURE_OF_KIND: dict[ResinKind, str] = {
    **{RESIN_KIND[resin]: facts.chemistry for resin, facts in RESINS.items()},
    ResinKind.SEALING: "epoxy",
}


#: How often the simulated line's station has a host poll the oven, s of process time: a load
#: moving at most 3 degC in it (a reflow's 18 K/min ramp), and an hours-long cure read a few
#: hundred times over the RTU bus rather than thousands. A driver starts a segment's hold at
#: the poll that finds it reached and ends it at the poll after the hold, so validate allows
#: a reflow's load a poll late at each end (`solder.py`).
LINE_POLL_INTERVAL_S = 10.0

#: What every zone of the oven heats: the load, by the line's figures (`drivers/roles/oven.py`),
#: which validate works a reflow's time above the liquidus by.
OVEN_PLANT = HeaterPlant(
    loop_time_constant_s=ZONE_LOOP_TIME_CONSTANT_S,
    max_heat_rate_c_per_s=ZONE_MAX_HEAT_RATE_C_PER_S,
    cooling_time_constant_s=LOAD_COOLING_TIME_CONSTANT_S,
)


@dataclass(frozen=True)
class ReflowPhysics:
    """When molten solder wets (est); how long it must be molten to is the line's figure
    (`REFLOW_WETTING_TIME_S`), which validate holds a recipe to."""

    #: Residual O2 above which molten solder oxidises instead of wetting.
    wetting_o2_limit_ppm: float = 500.0


@dataclass(frozen=True)
class Reflow:
    """What one run did to one solder."""

    melted: bool
    joined: bool
    time_above_liquidus_s: float
    max_o2_molten_ppm: float


def melts(alloy: str | None, peak_c: float) -> bool:
    """Whether `alloy` is a solder whose liquidus `peak_c` passes (a metal that is no solder,
    such as gold or copper, or none at all: never)."""
    return alloy in LIQUIDUS_C and peak_c > LIQUIDUS_C[alloy]


def softens(alloy: str | None, peak_c: float) -> bool:
    """Whether `alloy` is a solder whose solidus `peak_c` passes: it begins to melt (a
    high-melting core under a eutectic layer is then no longer solid, 003:20)."""
    return alloy in SOLIDUS_C and peak_c > SOLIDUS_C[alloy]


def reflow(alloy: str, history: LoadHistory, physics: ReflowPhysics) -> Reflow:
    """Whether `alloy` melted in the run, and whether it wet and joined."""
    liquidus = LIQUIDUS_C[alloy]
    above = history.time_above_s(liquidus)
    o2 = history.max_o2_above_ppm(liquidus)
    melted = melts(alloy, history.peak_c)
    joined = melted and above >= REFLOW_WETTING_TIME_S and o2 <= physics.wetting_o2_limit_ppm
    return Reflow(melted, joined, above, o2)


#: An oven run, in the words of its twin event.
OVEN_RUN = "oven run"


def apply_run(
    workpiece: Workpiece,
    history: LoadHistory,
    physics: ReflowPhysics,
    tool: str,
    time_s: float,
    result: LastResult,
) -> None:
    """What one run (`history`, ended with `result`) did to `workpiece`, recorded in its
    history: every resin layer cured further by its kind's kinetics; solder bumps reflowed, a
    eutectic layer on a high-melting core melting while the core stays solid (003:19-20);
    solder balls joined to their pads where they melted and wet and reach the metal (001:3;
    through a back resin's opening, `reaching_the_metal`), those on bare pads
    becoming the sites' solder bumps."""
    detail: dict[str, float | str] = {
        "result": result.name.lower(),
        "peak_c": round(history.peak_c, 1),
        "heated_s": round(history.time_s[-1] - history.time_s[0], 1),
    }
    for index, layer in enumerate(workpiece.resins.layers):
        if layer.thickness_um.any():
            kinetics = RESIN_CURE[CURE_OF_KIND[layer.kind]]
            layer.cure = history.cure(kinetics, layer.cure)
            detail[f"cure_{index}"] = round(layer.cure, 4)
    bumps = workpiece.bumps
    if bumps.present.any():
        _melt(bumps.material, history, physics, detail, "bumps")  # noted, as the balls
        layered = bumps.present & (bumps.layer_um > 0)
        if layered.any() and bumps.layer_alloy is not None:
            layer_outcome = _melt(bumps.layer_alloy, history, physics, detail, "layer")
            if layer_outcome is not None and layer_outcome.melted:
                thaw(bumps.solid_core)
                bumps.solid_core[layered] = not softens(bumps.material, history.peak_c)
    balls = workpiece.balls
    if balls.present.any():
        outcome = _melt(balls.alloy, history, physics, detail, "balls")
        if outcome is not None and outcome.joined:
            thaw(balls.joined)
            balls.joined |= balls.present & reaching_the_metal(workpiece)
            detail["solder_bumps"] = solder_bumps_from_balls(workpiece)
        detail["balls_joined"] = int(np.count_nonzero(balls.joined))
    workpiece.record(tool, OVEN_RUN, time_s, **detail)


def _melt(
    alloy: str | None,
    history: LoadHistory,
    physics: ReflowPhysics,
    detail: dict[str, float | str],
    what: str,
) -> Reflow | None:
    """The reflow of `alloy` in the run, noted in `detail` as `what`; None for a metal that
    is no solder (gold, copper: it does not melt in an oven)."""
    if alloy is None or alloy not in LIQUIDUS_C:
        return None
    outcome = reflow(alloy, history, physics)
    detail[f"{what}_melted"] = str(outcome.melted)
    detail[f"{what}_joined"] = str(outcome.joined)
    detail[f"{what}_above_liquidus_s"] = round(outcome.time_above_liquidus_s, 1)
    detail[f"{what}_o2_molten_ppm"] = round(outcome.max_o2_molten_ppm)
    return outcome


def truncated_sphere_height_um(volume_um3: np.ndarray, base_diameter_um: np.ndarray) -> np.ndarray:
    """The height of a truncated sphere of `volume_um3` on a round base of `base_diameter_um`
    (a molten ball on the pad it wets): the one real root of h^3 + 3 a^2 h - 6 V / pi = 0,
    a the base's radius (Cardano's formula; the cubic rises monotonically)."""
    p = 3 * (base_diameter_um / 2) ** 2
    half_r = 3 * volume_um3 / math.pi
    root = np.sqrt(half_r**2 + p**3 / 27)
    height: np.ndarray = np.cbrt(half_r + root) + np.cbrt(half_r - root)
    return height


def truncated_sphere_radius_um(
    height_um: np.ndarray | float, base_diameter_um: np.ndarray | float
) -> np.ndarray:
    """The radius of the sphere of which a truncated sphere `height_um` tall on a base
    `base_diameter_um` across (a reflowed bump) is a cap: (a^2 + h^2) / 2h, a the base's radius
    (a bump with no base recorded: a sphere of its height)."""
    height = np.asarray(height_um, np.float64)
    radius: np.ndarray = ((np.asarray(base_diameter_um) / 2) ** 2 + height**2) / (2 * height)
    return radius


def truncated_sphere_width_um(
    height_um: np.ndarray | float,
    base_diameter_um: np.ndarray | float,
    above_um: np.ndarray | float,
) -> np.ndarray:
    """The widest a truncated sphere `height_um` tall on a base `base_diameter_um` across (a
    reflowed bump) is at `above_um` over its base or higher: its sphere's diameter where the
    centre is that high or higher, else its width at `above_um` (0 above its top); element by
    element over arrays."""
    radius = truncated_sphere_radius_um(height_um, base_diameter_um)
    rise = np.maximum(np.asarray(above_um) - (np.asarray(height_um) - radius), 0.0)
    width: np.ndarray = 2 * np.sqrt(np.maximum(radius**2 - rise**2, 0.0))
    return width


def solder_bumps_from_balls(workpiece: Workpiece) -> int:
    """Joined balls on bare front pads (exposed metal without a bump, resin or metal film on
    the site) become the sites' solder bumps: each wets its pad (`PAD_TO_BALL_RATIO` of its
    diameter) and stands as a truncated sphere of its volume, its surface carrying the flux
    residue and the thin oxide of the line's figures (`drivers/roles/oven.py`); the ball
    leaves `balls`. Returns how many bumps formed."""
    balls, bumps, surface = workpiece.balls, workpiece.bumps, workpiece.surface
    if balls.face is not Face.FRONT:
        return 0
    bare = workpiece.exposed_metal & ~bumps.present & (workpiece.resin_um <= 0)
    for film in workpiece.films.layers:
        if film.face is Face.FRONT:
            bare &= ~film.present
    sites = balls.present & balls.joined & bare
    if not sites.any():
        return 0
    diameter = balls.diameter_um[sites].astype(np.float64)
    base = PAD_TO_BALL_RATIO * diameter
    thaw(bumps.height_um, bumps.base_diameter_um)
    thaw(surface.residue_nm, surface.oxide_nm, surface.activated)
    thaw(balls.present, balls.joined, balls.bridged, balls.extra)
    thaw(balls.diameter_um, balls.flux_um, balls.offset_um)
    bumps.height_um[sites] = truncated_sphere_height_um(math.pi / 6 * diameter**3, base)
    bumps.base_diameter_um[sites] = base
    bumps.kind = BumpKind.SOLDER
    bumps.material = balls.alloy
    surface.residue_nm[sites] = REFLOWED_BUMP_FLUX_NM
    surface.oxide_nm[sites] = REFLOWED_BUMP_OXIDE_NM
    surface.activated[sites] = False
    for flags in (balls.present, balls.joined, balls.bridged, balls.extra):
        flags[sites] = False
    balls.diameter_um[sites] = 0
    balls.flux_um[sites] = 0
    balls.offset_um[sites] = 0
    return int(np.count_nonzero(sites))
