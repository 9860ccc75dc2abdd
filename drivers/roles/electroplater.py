"""The electroplater role: a plating cell that thickens a seed film by electroplating.

Used by the claimed methods to thicken the patterned thin metal film into the wiring (001:8,
001:9, 001:11, 001:12) and to put a eutectic solder layer on high-melting bumps (003:21). The
wafer's seed film is the cathode: a contact ring touches it at the wafer edge, the wafer is
immersed in the bath facing the anode, and a DC supply drives a constant current through the
cell. Metal deposits by Faraday's law only where the seed is exposed (not under resist) and
connected to the contact ring.

One wafer at a time: load it into the holder, `plate` (bath to temperature, immerse, current
on until the charge for the thickness has passed, when the cell switches it off itself,
withdraw and rinse), unload.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from .single_wafer import SingleWaferTool

#: The Faraday constant, C/mol.
FARADAY_C_PER_MOL = 96_485.332


class Metal(StrEnum):
    """What a plating bath deposits (the bath's chemistry fixes it)."""

    CU = "Cu"  # acid copper sulfate: wiring (001:8)
    NI = "Ni"  # nickel sulfamate: barrier under solder or gold
    AU = "Au"  # gold sulfite/cyanide: contact finish
    SN = "Sn"  # tin methanesulfonate: solder
    SNPB = "SnPb"  # eutectic tin-lead: the eutectic solder layer on bumps (003:21)


#: The alloy each solder bath plates (the solder layer on bumps of 003:19-21), as the oven's
#: reflow names it.
SOLDER_ALLOYS: dict[Metal, str] = {Metal.SN: "Sn", Metal.SNPB: "Sn63Pb37"}


@dataclass(frozen=True)
class MetalData:
    """What Faraday's law needs of a deposited metal (for SnPb, the eutectic alloy's
    averages), and the bath's nominal cathode efficiency, which a recipe may override."""

    molar_mass_g_mol: float
    electrons: float  # charge number of the depositing ion
    density_g_cm3: float
    nominal_efficiency: float
    #: the current density the bath deposits well in at 25 degC and 60 rpm, A/dm2 (est):
    #: below it the deposit is rough (dull, porous), above it burnt (dark, powdery)
    window_a_dm2: tuple[float, float]

    def thickness_per_charge_um_cm2_per_c(self) -> float:
        """Micrometres deposited per coulomb on one square centimetre at 100 % efficiency."""
        grams_per_c = self.molar_mass_g_mol / (self.electrons * FARADAY_C_PER_MOL)
        return grams_per_c / self.density_g_cm3 * 1e4


#: The metals' constants. SnPb is Sn63Pb37 by weight: molar mass and density of the alloy,
#: both metals depositing as divalent ions.
METALS: dict[Metal, MetalData] = {
    Metal.CU: MetalData(63.546, 2, 8.96, 0.98, (0.5, 4.0)),
    Metal.NI: MetalData(58.693, 2, 8.908, 0.95, (1.0, 6.0)),
    Metal.AU: MetalData(196.967, 1, 19.32, 0.99, (0.1, 1.0)),
    Metal.SN: MetalData(118.71, 2, 7.265, 0.92, (0.5, 3.0)),
    Metal.SNPB: MetalData(136.4, 2, 8.4, 0.92, (0.5, 3.0)),
}

#: How close to its setpoint the bath must be before a wafer goes in, degC: the driver waits
#: for it, so a plating runs in a bath up to this far from the temperature its recipe sets.
BATH_TOLERANCE_C = 1.0

#: The decimals of a micrometre the rinse station's XRF head reads a deposit to, to the
#: nearest (its XRF_THICKNESS registers count hundredths): the line holds a wafer on the
#: deposit as read so, and the claim check judges a solder layer at the same resolution.
XRF_DECIMALS = 2


#: How much a window's upper end rises per degC above 25 degC and per rpm of paddle above
#: 60 rpm: more metal ions reach the cathode before it runs short of them (est).
WINDOW_RISE_PER_C = 0.02
WINDOW_RISE_PER_RPM = 0.004


def current_window_a_dm2(
    metal: Metal, temperature_c: float, agitation_rpm: float
) -> tuple[float, float]:
    """The current-density window of a bath of `metal` at `temperature_c` and
    `agitation_rpm`, A/dm2: its upper end rises with temperature and paddle speed."""
    low, high = METALS[metal].window_a_dm2
    rise = 1 + WINDOW_RISE_PER_C * (temperature_c - 25.0)
    rise += WINDOW_RISE_PER_RPM * (agitation_rpm - 60.0)
    return low, high * max(rise, 0.2)


#: How far an area may be from the area a recipe's design plates (a mask's opened, connected
#: seed over the wafer's sites, the bump tips) and still be that pattern on that wafer, as a
#: fraction of the design's: a recipe's stated area at validate, the area the cell measures
#: before the current goes on. Beyond it the wafer or the mask is another than the recipe's
#: (or the mould did not develop as designed). The current is set over the measured area, so
#: an area inside it plates the recipe's thickness at the recipe's density.
AREA_TOLERANCE = 0.10


def accepted_area_cm2(design_cm2: float) -> tuple[float, float]:
    """The least and the most area that is still the pattern of `design_cm2` (within
    `AREA_TOLERANCE` of it)."""
    return design_cm2 * (1 - AREA_TOLERANCE), design_cm2 * (1 + AREA_TOLERANCE)


def area_mismatch(area_cm2: float, design_cm2: float) -> str | None:
    """Why `area_cm2` is not the pattern of `design_cm2` (None: it is, within
    `AREA_TOLERANCE`): the share it is of the design, printed with as many decimals as it
    takes to show it beyond the tolerance (89.99 %, never a rounded 90 %)."""
    low, high = accepted_area_cm2(design_cm2)
    if low <= area_cm2 <= high:
        return None
    share = area_cm2 / design_cm2
    for decimals in range(6):
        shown = f"{share:.{decimals}%}"
        if not low <= float(shown[:-1]) / 100 * design_cm2 <= high:
            break
    return f"{shown} of it, more than {AREA_TOLERANCE:.0%} off"


def charge_for_thickness_c(
    metal: Metal, thickness_um: float, area_cm2: float, efficiency: float
) -> float:
    """The charge that deposits `thickness_um` of `metal` over `area_cm2` at `efficiency`
    (Faraday's law: thickness = Q x efficiency / (n F) x M / density / area)."""
    per_c = METALS[metal].thickness_per_charge_um_cm2_per_c()
    return thickness_um * area_cm2 / (per_c * efficiency)


class CellPhase(IntEnum):
    """Where the plating cell's wafer holder is."""

    READY = 0  # the holder out of the bath: load, unload, settings allowed
    IMMERSING = 1
    IMMERSED = 2  # the wafer in the bath, the contact ring on its seed: current may flow
    WITHDRAWING = 3  # lifting, rinsing and spinning dry
    FAULT = 4


#: The phases in which the holder is out of the bath, still; every other is working (`working`),
#: a fault told by the alarms.
AT_REST = frozenset({CellPhase.READY, CellPhase.FAULT})


@dataclass(frozen=True)
class PlatingRecipe:
    """One plating step in process terms.

    The cell sets the current over the exposed, connected seed it measures once the wafer is
    immersed (current-density control): `current_density_a_dm2` over that area, for the
    charge that plates `thickness_um` over it. `plated_area_cm2` is the area the recipe's
    design plates (a mask's opened seed over the wafer's sites): the measured area must be
    within `AREA_TOLERANCE` of it, or the wafer is withdrawn unplated. `cathode_efficiency` is
    the fraction of the charge that deposits metal (None: the metal's nominal value). The
    supply's compliance voltage and over-voltage protection bound what the cell can be driven
    to. `timeout_s` bounds the current-on time beyond what the charge needs.
    """

    metal: Metal
    current_density_a_dm2: float
    thickness_um: float
    plated_area_cm2: float
    bath_temperature_c: float = 25.0
    agitation_rpm: float = 60.0
    cathode_efficiency: float | None = None
    compliance_voltage_v: float = 10.0
    over_voltage_v: float = 12.0
    timeout_s: float = 600.0

    @property
    def efficiency(self) -> float:
        if self.cathode_efficiency is None:
            return METALS[self.metal].nominal_efficiency
        return self.cathode_efficiency

    def current_a(self, area_cm2: float) -> float:
        """The supply current over `area_cm2`: the current density over it (1 dm2 = 100 cm2)."""
        return self.current_density_a_dm2 * area_cm2 / 100.0

    def supply_setpoints(self) -> dict[str, tuple[float, str]]:
        """What the plating sends the supply at most, by its setpoint names, each with what it
        is (as a refusal of it explains it): the current (its level and its list's) of the
        density over the largest area the cell may measure and still plate
        (`accepted_area_cm2`), the compliance voltage and the over-voltage protection. The
        driver checks them against the supply's limits before the wafer goes in, and a
        recipe's check against a station's (`supply.<setpoint>`)."""
        current_a = self.current_a(accepted_area_cm2(self.plated_area_cm2)[1])
        largest = "current_density_a_dm2 over the largest seed area the cell accepts"
        return {
            "current_a": (current_a, largest),
            "list_current_a": (current_a, largest),
            "voltage_v": (
                self.compliance_voltage_v,
                "the compliance voltage every plating drives the cell with",
            ),
            "over_voltage_v": (
                self.over_voltage_v,
                "the over-voltage protection every plating sets",
            ),
        }

    def charge_c(self, area_cm2: float) -> float:
        """The charge the thickness needs over `area_cm2` (Faraday's law)."""
        return charge_for_thickness_c(self.metal, self.thickness_um, area_cm2, self.efficiency)


@dataclass(frozen=True)
class CellStatus:
    """One snapshot of the plating cell's controller."""

    phase: CellPhase
    bath_metal: Metal
    agitation_rpm: float
    bath_age_ah: float
    immersion_charge_c: float
    #: the exposed, connected seed area the cell measured at the last immersion (0 before)
    cathode_area_cm2: float
    wafer_loaded: bool
    #: the immersion's charge reached the cell's charge target and the cell switched the
    #: current off (its ampere-hour termination)
    charge_reached: bool
    #: how long current flowed through the cathode since the last immersion, s
    current_on_s: float


@dataclass(frozen=True)
class PlatingResult:
    """What a finished plating step measured.

    `charge_c` is the charge the cell controller counted through the cathode during the
    immersion (its shunt); `supply_charge_c` the charge integrated from the supply's own
    current readings. `plated_area_cm2` is the real plated area, the exposed, connected seed
    the cell measured at the immersion (not the recipe's statement of it), and
    `current_density_a_dm2` the mean current over it. `charge_thickness_um` is the thickness
    by charge: what the counted charge deposits over that area by Faraday's law at the
    recipe's cathode efficiency (the metal's nominal one unless the cell recipe sets one), a
    figure, not a measurement. `measured_thickness_um` is the deposit the cell's post-plate
    XRF head measured at each of its points (empty: the cell measured none); the line holds
    a wafer on their minimum.
    """

    wafer_id: str
    metal: Metal
    charge_c: float
    supply_charge_c: float
    current_on_s: float
    mean_current_a: float
    peak_voltage_v: float
    plated_area_cm2: float
    current_density_a_dm2: float
    charge_thickness_um: float
    measured_thickness_um: tuple[float, ...]
    bath_temperature_c: float
    bath_age_ah: float

    @property
    def thickness_mean_um(self) -> float:
        """The mean of the measured points (0 when none was measured)."""
        measured = self.measured_thickness_um
        return sum(measured) / len(measured) if measured else 0.0

    @property
    def thickness_min_um(self) -> float:
        """The thinnest measured point (0 when none was measured)."""
        return min(self.measured_thickness_um, default=0.0)

    @property
    def thickness_max_um(self) -> float:
        """The thickest measured point (0 when none was measured)."""
        return max(self.measured_thickness_um, default=0.0)


class Electroplater(SingleWaferTool):
    """A single-wafer plating cell: a bath controller with a wafer holder and a DC supply."""

    role = "electroplater"
    activity_field = "phase"
    at_rest = AT_REST

    @abstractmethod
    async def request_status(self) -> CellStatus:
        """A snapshot of the cell: holder phase, bath metal, agitation, age, charge."""

    @abstractmethod
    async def request_bath_temperature_c(self) -> float:
        """The bath's temperature, as its heater's controller measures it."""

    @abstractmethod
    async def plate(self, recipe: PlatingRecipe) -> PlatingResult:
        """Plate the loaded wafer in the bath of the recipe's metal (the cell has a bath per
        chemistry): bath to temperature, immerse, measure the exposed, connected seed, a
        constant current of the recipe's density over it until the charge of the recipe's
        thickness over it has passed, when the cell switches it off itself (its ampere-hour
        termination), withdraw, rinse and measure the deposit.
        A measured area that is not the recipe's `plated_area_cm2` (`area_mismatch`) is
        refused before the current goes on: the wafer is withdrawn unplated."""

    @abstractmethod
    async def reset_bath_age(self) -> None:
        """Zero the selected bath's age counter after it was replaced or replenished."""
