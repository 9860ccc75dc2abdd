"""Incoming material: how a fresh wafer or tape panel of a lot looks before the line touches it."""

from __future__ import annotations

from dataclasses import dataclass

from .parts import DIELECTRICS, FilmMaterial

#: The narrowest tape between a die and its unit's edge that takes a frame's columns, mm.
MIN_FRAME_MM = 0.5


@dataclass(frozen=True)
class WaferSpec:
    """A round wafer of dies, each with electrode pads along its four edges."""

    diameter_mm: float = 200.0
    thickness_um: float = 725.0
    die_size_mm: tuple[float, float] = (10.0, 10.0)
    pads_per_die_side: int = 8
    pad_metal: str = "Al"
    edge_exclusion_mm: float = 3.0
    residue_nm: float = 4.0
    oxide_nm: float = 3.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.diameter_mm <= 0 or self.thickness_um <= 0:
            raise ValueError("WaferSpec: diameter_mm and thickness_um must be positive")
        if min(self.die_size_mm) <= 0 or self.pads_per_die_side < 1:
            raise ValueError("WaferSpec: die_size_mm must be positive, pads_per_die_side >= 1")


@dataclass(frozen=True)
class PanelSpec:
    """A rectangular tape substrate of package units in rows and columns (claim 000).

    Its bottom carries a metal interconnection layer under a solder resist. Each unit has one
    through-hole site per terminal of the die that will sit on it: the die's terminals lie
    along its four edges like a wafer die's pads, and the die is centred on its unit.
    """

    rows: int = 5
    columns: int = 20
    unit_size_mm: tuple[float, float] = (12.0, 12.0)
    margin_mm: float = 5.0  # tape beyond the units on every side (rails, sprocket holes)
    die_size_mm: tuple[float, float] = (8.0, 8.0)
    holes_per_die_side: int = 6
    tape: str = "polyimide"
    tape_thickness_um: float = 75.0
    interconnect_metal: str = "Cu"
    interconnect_um: float = 18.0
    solder_resist_um: float = 20.0
    residue_nm: float = 4.0
    oxide_nm: float = 3.0
    seed: int = 0
    #: 000:x3: a bare metal plate instead of the tape: the plate is the interconnection layer
    #: (`interconnect_metal`, `interconnect_um` thick), the dies bond on its metal at the sites
    #: and it is patterned into the interconnections later; no holes, no solder resist
    #: (`tape_thickness_um` and `solder_resist_um` are not used)
    metal_substrate: bool = False
    #: 000:x2: hole sites for the conductor columns of a frame around each die, this many
    #: along each edge of the unit, midway between the die's edge and the unit's (0: no frame)
    columns_per_side: int = 0
    #: 000:x1: an area array of lands on the bottom's interconnection layer, under the solder
    #: resist, centred on each unit: (rows, columns) at `land_pitch_mm` (0 x 0: none, the
    #: external terminals go under the holes, a peripheral array); no hole above a land
    land_array: tuple[int, int] = (0, 0)
    land_pitch_mm: float = 0.0
    #: the lands left out at the array's centre, (rows, columns) (0 x 0: a full array)
    land_centre: tuple[int, int] = (0, 0)

    def __post_init__(self) -> None:
        if self.rows < 1 or self.columns < 1:
            raise ValueError("PanelSpec: rows and columns must be at least 1")
        if min(self.unit_size_mm) <= 0 or self.margin_mm < 0:
            raise ValueError("PanelSpec: unit_size_mm must be positive, margin_mm >= 0")
        if min(self.die_size_mm) <= 0 or self.holes_per_die_side < 1:
            raise ValueError("PanelSpec: die_size_mm must be positive, holes_per_die_side >= 1")
        if any(d > u for d, u in zip(self.die_size_mm, self.unit_size_mm, strict=True)):
            raise ValueError(
                f"PanelSpec: a die of {self.die_size_mm} mm does not fit a unit of "
                f"{self.unit_size_mm} mm"
            )
        if self.columns_per_side < 0 or (
            self.columns_per_side and min(self.margin_around_die_mm) < MIN_FRAME_MM
        ):
            raise ValueError(
                f"PanelSpec: columns_per_side must be >= 0, and a frame's columns need "
                f"{MIN_FRAME_MM:g} mm between a die and its unit's edge (dies of "
                f"{self.die_size_mm} mm on units of {self.unit_size_mm} mm)"
            )
        self._require_lands_inside_the_unit()
        if self.interconnect_metal not in set(FilmMaterial) - DIELECTRICS:
            raise ValueError(
                f"PanelSpec: interconnect_metal {self.interconnect_metal!r} is not a film material "
                f"({', '.join(sorted(set(FilmMaterial) - DIELECTRICS))})"
            )
        if min(self.tape_thickness_um, self.interconnect_um, self.solder_resist_um) <= 0:
            raise ValueError(
                "PanelSpec: tape_thickness_um, interconnect_um and solder_resist_um must be "
                "positive"
            )

    def _require_lands_inside_the_unit(self) -> None:
        """An area array of lands lies whole on its unit, its depopulated centre inside it."""
        (rows, columns), (centre_rows, centre_columns) = self.land_array, self.land_centre
        if not rows and not columns:
            if centre_rows or centre_columns:
                raise ValueError("PanelSpec: land_centre without a land_array")
            return
        width, height = self.land_array_size_mm
        centred = all(
            0 <= centre <= count - 2 and (count - centre) % 2 == 0
            for centre, count in ((centre_rows, rows), (centre_columns, columns))
        )
        if (
            min(rows, columns) < 1
            or self.land_pitch_mm <= 0
            or ((centre_rows or centre_columns) and not centred)
            or (centre_rows == 0) != (centre_columns == 0)
            or width >= self.unit_size_mm[0]
            or height >= self.unit_size_mm[1]
        ):
            raise ValueError(
                f"PanelSpec: a land array of {rows} x {columns} at {self.land_pitch_mm:g} mm "
                f"without a centre of {centre_rows} x {centre_columns} does not lie on a unit "
                f"of {self.unit_size_mm} mm"
            )

    @property
    def land_array_size_mm(self) -> tuple[float, float]:
        """From the first land's centre to the last's, across x and y (0 without lands)."""
        rows, columns = self.land_array
        return (max(columns - 1, 0) * self.land_pitch_mm, max(rows - 1, 0) * self.land_pitch_mm)

    @property
    def margin_around_die_mm(self) -> tuple[float, float]:
        """The width of a unit's tape between its die and its edge, across x and y."""
        (die_w, die_h), (unit_w, unit_h) = self.die_size_mm, self.unit_size_mm
        return (unit_w - die_w) / 2, (unit_h - die_h) / 2

    @property
    def outline_mm(self) -> tuple[float, float]:
        """Width and height of the whole tape panel."""
        width, height = self.unit_size_mm
        return (
            self.columns * width + 2 * self.margin_mm,
            self.rows * height + 2 * self.margin_mm,
        )
