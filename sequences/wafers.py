"""The wafer a method's lot arrives as, stated in its recipe: the dry run's line receives the
lot so, and every figure the recipe works out over the wafer (the area a mask opens, the
tips a solder layer plates) counts its sites.

This module registers no method; the engine imports it while it looks for methods, harmlessly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal, Self

from pydantic import Field

from packline.rendering import counted
from packline.sequences.engine import Recipe, recipe_check
from packline.sequences.engine.recipe_meta import Because, CheckedFloor
from packline.sim_instruments.twin import WaferSpec, die_grid, pad_pitch_um
from packline.units import Unit

#: Why a wafer's diameter is 50-300 mm: the sizes the line's cassettes, chucks and handlers
#: take, 2 inch to 300 mm.
WAFER_SIZES = Because(
    "the wafer sizes the line's cassettes, chucks and handlers take: 2 inch to 300 mm"
)
#: Why a die's side is above 0.5 mm and at most 50 mm.
DIE_SIZES = Because(
    "a die's side above 0.5 mm leaves room for its pads and the saw's kerf; at most 50 mm, "
    "more than any reticle field gives"
)
#: Why a die has at most 64 pads (or terminal holes) to an edge.
PADS_TO_AN_EDGE = Because(
    "64 to an edge, 256 to a die: the most sites a ball map addresses a unit, its wire's bit field"
)

#: Why a wafer's board has at most 10,000 chip sites, one for each device mounted on it.
BOARD_SITES = Because("a board of the line carries at most 10,000 chip sites, one a device")


class WaferRecipe(Recipe):
    """A wafer as it arrives: its size, its dies and the bonding pads along the four edges of
    every die. The defaults are the simulated line's own wafer (`WaferSpec()`)."""

    diameter_mm: Annotated[float, Unit("mm"), Field(ge=50, le=300), WAFER_SIZES] = 200.0
    thickness_um: Annotated[
        float,
        Unit("um"),
        Field(ge=100, le=1000),
        Because(
            "what the chucks hold flat and the handlers lift: a wafer thinned to 100 um, or one "
            "as thick as 1 mm"
        ),
    ] = 725.0
    die_width_mm: Annotated[float, Unit("mm"), Field(gt=0.5, le=50), DIE_SIZES] = 10.0
    die_height_mm: Annotated[float, Unit("mm"), Field(gt=0.5, le=50), DIE_SIZES] = 10.0
    #: bonding pads on the upper surface along each edge of a die
    pads_per_die_side: Annotated[
        int, Field(strict=True, le=64), CheckedFloor(1), PADS_TO_AN_EDGE
    ] = 8
    pad_metal: Literal["Al", "Cu"] = "Al"

    @recipe_check
    def _whole_dies_with_pads(self) -> Self:
        if self.pads_per_die_side < 1:
            raise self.too_few_pads()
        if die_grid(self.spec()).size == 0:
            raise ValueError(
                f"die_width_mm, die_height_mm = {self.die_width_mm:g}, "
                f"{self.die_height_mm:g} mm: no whole die fits a wafer of diameter_mm = "
                f"{self.diameter_mm:g} mm"
            )
        return self

    def pad_layout(self) -> str:
        """Its pads as a refusal of balls set on them names them."""
        return (
            f"the pads of wafer.pads_per_die_side = {self.pads_per_die_side} a side of "
            f"{self.die_width_mm:g} x {self.die_height_mm:g} mm dies"
        )

    def pads_that_fit(self, fits: Callable[[float], bool]) -> str:
        """The most pads a side of its dies, fewer than its own, at whose pitch (`pad_pitch_um`)
        `fits`, as a refusal offers it (none: say so)."""
        for count in range(self.pads_per_die_side - 1, 0, -1):
            spec = self.model_copy(update={"pads_per_die_side": count}).spec()
            if fits(pad_pitch_um(spec)):
                most = counted(count, "pad")
                return f"a wafer of at most {most} a side (wafer.pads_per_die_side)"
        return "no layout of pads along these dies' edges"

    def too_few_pads(self) -> Exception:
        """The error for fewer than one pad along a die edge (a method whose claim places the
        pads says so by its own)."""
        return ValueError(
            f"pads_per_die_side = {self.pads_per_die_side}: a die has at least one pad along "
            "each edge"
        )

    @property
    def pads_per_die(self) -> int:
        return 4 * self.pads_per_die_side

    def spec(self) -> WaferSpec:
        return WaferSpec(
            diameter_mm=self.diameter_mm,
            thickness_um=self.thickness_um,
            die_size_mm=(self.die_width_mm, self.die_height_mm),
            pads_per_die_side=self.pads_per_die_side,
            pad_metal=self.pad_metal,
        )
