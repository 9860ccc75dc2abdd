"""The ball mounter role: flux, then solder balls on the open sites, then an inspection.

Used by the claimed methods to form the external connection terminals: metal balls on the
conducting paths (001:1d, 001:3), on the interconnects exposed at the holes (002:1i), through the
solder resist openings of a tape panel, peripheral or area array (000:x1), and the solder bumps
on bare pads (003:7.1 with solder bumps, 003:19). The cell applies flux (printed through a
stencil or transferred by pins) on the sites of a ball map, places balls of one diameter and
alloy on them, inspects (missing, extra and bridged balls) and repairs missing and extra balls
with a single-ball head. The balls join their pads later, in the oven's reflow.

A ball map is data: which sites of every unit (die or package unit) get a ball, by their
position in the unit's site order, and on which side of the workpiece. A peripheral array lists
a unit's outer sites, an area array all of them; the same map serves every unit. The cell puts
flux and balls only where the map meets an open site (an opening down to metal, an exposed pad
or land); a mapped site that is not open stays without a ball, and the inspection counts it
missing.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from .single_wafer import SingleWaferTool

#: The site positions per unit a ball map can address (the map's bit field on the wire).
MAX_MAP_POSITIONS = 256


class FluxMethod(StrEnum):
    """How the flux reaches the sites."""

    PRINT = "print"  # squeegeed through a stencil with an aperture at every mapped site
    PIN_TRANSFER = "pin-transfer"  # a pin per mapped site dipped in a flux film, then touched down


class BallAlloy(StrEnum):
    """The solder of the balls, named as the oven's reflow names it."""

    SAC305 = "SAC305"  # Sn96.5Ag3Cu0.5, melts from 217 degC (solidus) to 220 degC (liquidus)
    SNPB_EUTECTIC = "Sn63Pb37"  # eutectic tin-lead, 183 degC
    HIGH_LEAD = "Pb95Sn5"  # high-melting lead-rich, about 314 degC


#: The flux holds a ball set down on it only where its deposit is at least this share of the
#: ball's diameter thick; a thinner one lets balls go missing, which the single-ball repair
#: then fails to hold as often (est; the cell's figure, qualified on the line): a recipe's
#: flux is judged by it before the run, and the simulated cell holds balls by it.
FLUX_HOLD_RATIO = 0.15

#: The flux deposit's 1-sigma spread, as a share of the set thickness, by how it is applied
#: (a stencil print is even, pins less so), clipped at `FLUX_SPREAD_SIGMAS`: no site gets
#: less than the set thickness less that many sigma.
FLUX_SPREAD = {FluxMethod.PRINT: 0.05, FluxMethod.PIN_TRANSFER: 0.15}
FLUX_SPREAD_SIGMAS = 3.0


def least_flux_um(method: FluxMethod, ball_diameter_um: float) -> float:
    """The thinnest set flux, to 0.1 um above, whose thinnest deposit (`FLUX_SPREAD` of
    `method` to `FLUX_SPREAD_SIGMAS`) still holds balls of `ball_diameter_um`
    (`FLUX_HOLD_RATIO`)."""
    thinnest = 1 - FLUX_SPREAD_SIGMAS * FLUX_SPREAD[method]
    return math.ceil(FLUX_HOLD_RATIO * ball_diameter_um / thinnest * 10 - 1e-9) / 10


class Side(StrEnum):
    """The side of the workpiece facing the ball head: the front (a wafer's active side, a
    panel's top) or the back (a panel's bottom with its solder resist, 000:x1)."""

    FRONT = "front"
    BACK = "back"


class BallMounterPhase(IntEnum):
    """Where the cell is in its cycle."""

    READY = 0  # nothing moving: load, unload, flux, mount and inspect allowed
    FLUXING = 1
    MOUNTING = 2
    INSPECTING = 3
    FAULT = 4


#: The phases in which the cell runs no cycle; every other is working (`working`), a fault told
#: by the alarms.
AT_REST = frozenset({BallMounterPhase.READY, BallMounterPhase.FAULT})


class CycleResult(IntEnum):
    """How the last flux, mount or inspection cycle ended."""

    NONE = 0
    COMPLETED = 1
    ABORTED = 2
    FAULTED = 3


@dataclass(frozen=True)
class BallMap:
    """Which site positions of every unit get a ball (0-based, in the unit's site order), on
    which side."""

    positions: frozenset[int]
    side: Side = Side.FRONT

    def __post_init__(self) -> None:
        if not self.positions:
            raise ValueError("a ball map needs at least one position")
        wrong = sorted(p for p in self.positions if not 0 <= p < MAX_MAP_POSITIONS)
        if wrong:
            raise ValueError(
                f"ball map positions {wrong[:5]} are outside 0-{MAX_MAP_POSITIONS - 1}"
            )

    @classmethod
    def of(cls, positions: Iterable[int], side: Side = Side.FRONT) -> BallMap:
        """A map of the given positions."""
        return cls(frozenset(int(p) for p in positions), side)

    @classmethod
    def every(cls, sites_per_unit: int, side: Side = Side.FRONT) -> BallMap:
        """A ball on every site of a unit of `sites_per_unit` sites (a full array)."""
        return cls(frozenset(range(sites_per_unit)), side)


@dataclass(frozen=True)
class BallMounterStatus:
    """One snapshot of the cell."""

    phase: BallMounterPhase
    step_remaining_s: float
    cycle_time_s: float
    cycles_completed: int
    last_result: CycleResult
    wafer_loaded: bool
    flux_applied: bool
    balls_placed: int


@dataclass(frozen=True)
class FluxResult:
    """What a flux cycle reports."""

    wafer_id: str
    method: FluxMethod
    thickness_um: float
    process_time_s: float


@dataclass(frozen=True)
class MountResult:
    """What a mount cycle reports: the balls the head set down."""

    wafer_id: str
    diameter_um: float
    alloy: BallAlloy
    balls_placed: int
    process_time_s: float


@dataclass(frozen=True)
class Inspection:
    """The inspection of the balls against the ball map: counts of sites."""

    sites_inspected: int  # the mapped sites
    missing: int  # mapped sites without a ball
    extra: int  # a second ball on a site, or a ball on a site the map leaves out
    bridged: int  # balls touching a neighbour

    @property
    def defects(self) -> int:
        return self.missing + self.extra + self.bridged


#: The cell's 1-sigma placement error of a ball, per axis, um, and the most a ball strays, in
#: sigmas per axis (est; the cell's figures, the head and the ball mask hold it within them).
BALL_PLACEMENT_SIGMA_UM = 8.0
BALL_PLACEMENT_SIGMAS = 3.0
#: Flux thicker than this share of the ball's diameter lets the balls swim: their placement
#: spreads by `SWIM_SIGMA_FRACTION` of the diameter per unit of share above it, and the
#: excess flux spreads sideways, `FLUX_SPREAD_PER_UM` of reach per um (est; the cell's).
SWIM_RATIO = 0.6
SWIM_SIGMA_FRACTION = 0.25
FLUX_SPREAD_PER_UM = 1.0


def ball_stray_um(ball_diameter_um: float, flux_um: float) -> float:
    """The farthest a ball set down on `flux_um` of flux lands from its site: its placement
    error at its most along both axes, spread by a flux past `SWIM_RATIO`."""
    swim = max(flux_um / ball_diameter_um - SWIM_RATIO, 0.0)
    sigma = BALL_PLACEMENT_SIGMA_UM + SWIM_SIGMA_FRACTION * swim * ball_diameter_um
    return BALL_PLACEMENT_SIGMAS * sigma * math.sqrt(2)


def most_flux_um(ball_diameter_um: float, stray_um: float) -> float:
    """The most flux on which balls of `ball_diameter_um` stray at most `stray_um` from their
    sites (`ball_stray_um` solved for the flux: linear past `SWIM_RATIO`); the swim ratio's
    flux itself where the placement alone strays farther."""
    sigma_um = stray_um / (BALL_PLACEMENT_SIGMAS * math.sqrt(2))
    swim = max(sigma_um - BALL_PLACEMENT_SIGMA_UM, 0.0) / (SWIM_SIGMA_FRACTION * ball_diameter_um)
    return (SWIM_RATIO + swim) * ball_diameter_um


#: How far a solder sphere's diameter may be off the nominal it is bought at, um (est; sphere
#: makers hold +-10 um for 0.2-0.76 mm spheres): a solder resist lets the largest of them reach
#: the metal, which sinks the least into an opening (`ball_sag_um`).
BALL_DIAMETER_TOLERANCE_UM = 10.0


def ball_sag_um(ball_diameter_um: float, opening_um: float) -> float:
    """How deep below the top of a solder resist a ball of `ball_diameter_um` set in a round
    opening `opening_um` across reaches: its sphere's cap through the opening's rim, r -
    sqrt(r^2 - a^2) (infinite where the opening is as wide as the ball: it drops through).
    A ball reaches the metal under a resist no thicker than this, and joins it when reflowed;
    under a thicker one it sits on the rim and does not wet it: the simulated oven joins
    balls by it, and validate judges a solder resist against its balls by it."""
    radius, half = ball_diameter_um / 2, opening_um / 2
    if half >= radius:
        return math.inf
    return radius - math.sqrt(radius**2 - half**2)


def ball_reach_um(ball_diameter_um: float, flux_um: float) -> float:
    """The farthest from its site a ball set down on `flux_um` of flux may touch: its radius,
    half the flux spread past `SWIM_RATIO`, and its stray (`ball_stray_um`). Two balls on
    sites closer than twice it may bridge; farther apart they never do."""
    excess = max(flux_um - SWIM_RATIO * ball_diameter_um, 0.0)
    stray = ball_stray_um(ball_diameter_um, flux_um)
    return ball_diameter_um / 2 + FLUX_SPREAD_PER_UM * excess / 2 + stray


class BallMounter(SingleWaferTool):
    """A ball-mount cell: flux unit, ball head over a ball-alignment mask, inspection camera."""

    role = "ball_mounter"
    activity_field = "phase"
    at_rest = AT_REST

    @abstractmethod
    async def request_status(self) -> BallMounterStatus:
        """A snapshot of the phase, the cycle and the loaded workpiece."""

    @abstractmethod
    async def apply_flux(
        self,
        ball_map: BallMap,
        method: FluxMethod,
        thickness_um: float,
        timeout_s: float = 600.0,
    ) -> FluxResult:
        """Put flux `thickness_um` thick (the flux amount) on the open sites of `ball_map`."""

    @abstractmethod
    async def mount_balls(
        self,
        ball_map: BallMap,
        diameter_um: float,
        alloy: BallAlloy,
        timeout_s: float = 900.0,
    ) -> MountResult:
        """Place balls of `diameter_um` and `alloy` on the fluxed open sites of `ball_map`."""

    @abstractmethod
    async def repair_balls(
        self,
        ball_map: BallMap,
        diameter_um: float,
        alloy: BallAlloy,
        timeout_s: float = 900.0,
    ) -> MountResult:
        """Repair what an inspection found: pick the second ball off every site of
        `ball_map` that caught one, and place a ball of `diameter_um` and `alloy` on each
        fluxed open mapped site still without one, one at a time."""

    @abstractmethod
    async def request_inspection(self, timeout_s: float = 600.0) -> Inspection:
        """Inspect the balls against the last ball map sent: missing, extra and bridged."""
