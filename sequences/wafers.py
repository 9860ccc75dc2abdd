"""The wafer a method's lot arrives as, stated in its recipe: the dry run's line receives the
lot so, and every figure the recipe works out over the wafer (the area a mask opens, the
tips a solder layer plates) counts its sites.

This module registers no method; the engine imports it while it looks for methods, harmlessly.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field

from packline.sequences.engine import Recipe, recipe_check
from packline.sequences.engine.recipe_meta import CheckedFloor
from packline.sim_instruments.twin import WaferSpec, die_grid
from packline.units import Unit


class WaferRecipe(Recipe):
    """A wafer as it arrives: its size, its dies and the bonding pads along the four edges of
    every die. The defaults are the simulated line's own wafer (`WaferSpec()`)."""

    diameter_mm: Annotated[float, Unit("mm"), Field(ge=50, le=300)] = 200.0
    thickness_um: Annotated[float, Unit("um"), Field(ge=100, le=1000)] = 725.0
    die_width_mm: Annotated[float, Unit("mm"), Field(gt=0.5, le=50)] = 10.0
    die_height_mm: Annotated[float, Unit("mm"), Field(gt=0.5, le=50)] = 10.0
    #: bonding pads on the upper surface along each edge of a die
    pads_per_die_side: Annotated[int, Field(strict=True, le=64), CheckedFloor(1)] = 8
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
