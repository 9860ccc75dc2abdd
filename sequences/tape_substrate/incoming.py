"""What a tape-substrate lot brings to the line (000): the tape panel and the wafer its dies
come from, named after it; the steps' settings are in `recipe.py`."""

from __future__ import annotations

import functools
import math
from typing import Annotated, Any, Self

from pydantic import Field

from packline.drivers.roles.ball_mounter import MAX_MAP_POSITIONS
from packline.drivers.roles.flip_chip_bonder import terminal_volume_nl
from packline.drivers.roles.wire_bonder import (
    STUD_BASE_SPREAD,
    STUD_SPREAD_SIGMAS,
    stud_base_um,
    stud_bases_um,
    stud_heights_um,
)
from packline.sequences.engine import (
    NeededWhen,
    Recipe,
    claim_violation,
    every_problem,
    recipe_check,
)
from packline.sequences.engine.recipe_meta import Because
from packline.sim_instruments.twin import PanelSpec, WaferSpec
from packline.units import Unit

from ..bump_seal_clean import BumpRecipe, DicingStep
from ..bump_seal_clean.recipe import stated_stud_range_um
from ..wafers import DIE_SIZES, PADS_TO_AN_EDGE, WAFER_SIZES

#: The thinnest die the line handles, um: the bonder's ejector picks a die no thinner without
#: cracking it, and a die ground thinner in its package (000:f) is no sounder.
THINNEST_DIE_UM = 50

#: The largest die wafer the line takes, mm.
LARGEST_DIE_WAFER_MM = 300

#: A panel's die wafer is named after it: this letter, then the panel id's last 15 characters.
DIE_WAFER_PREFIX = "D"


#: Why a panel has at most 20 rows and 40 columns of units.
PANEL_FRAME = Because("the largest array of units the panel frames of the line hold: 20 x 40")
#: Why a unit's side is above 1 mm and at most 50 mm.
UNIT_SIZES = Because("a unit holds its die and the holes around it: above 1 mm, at most 50 mm")
#: Why a tape is 12-200 um thick.
TAPES = Because("the polyimide tapes made: 12.5 um the thinnest, 200 um more than any laminated")
#: Why an area array has at most 16 rows and 16 columns of lands.
ARRAY_SIDE = Because(
    f"the ball mounter's map addresses {MAX_MAP_POSITIONS} sites a unit, less the unit's holes "
    "(at least 4), whose sites come before the lands: 16 a side at most"
)
#: Why an area array's centre leaves out at most 14 rows or columns.
ARRAY_CENTRE = Because("the centre left out keeps a ring of lands around it: 14 of 16 at most")
#: Why the tape's interconnection layer is 5-50 um thick: the copper the CO2 laser's holes
#: stop on, never opened.
INTERCONNECT_FOILS = Because(
    "the copper foils a tape is clad with: thinner than 5 um a foil tears or pinholes as it "
    "is laminated; none thicker than 50 um is clad on a flexible tape"
)
#: Why the tape's solder resist is 5-50 um thick (the laser opens more: it drills the tape,
#: up to 200 um; whether the balls reach the copper through it is judged on its own).
SOLDER_RESIST_FILMS = Because(
    "the solder resist films a tape is covered with: thinner than 5 um a film pinholes as it "
    "is laminated; 50 um is the thickest made"
)
#: Why a unit has at most 63 column holes along each edge.
COLUMN_HOLES = Because(
    f"the ball mounter's map addresses {MAX_MAP_POSITIONS} sites a unit, its die's holes (at "
    "least one a side) among them: 63 a side at most"
)


class AreaArray(Recipe):
    """000:x1: a unit's lands in an area array over its bottom, on the interconnection layer
    (each routed there from a hole), under the solder resist: `rows` x `columns` at `pitch_um`,
    centred on the unit, optionally without a block of `centre_rows` x `centre_columns` at its
    centre. The laser opens the solder resist at every land, and the balls go in them."""

    #: the array's rows of lands, along the unit's height
    rows: Annotated[int, Field(strict=True, ge=1, le=16), ARRAY_SIDE]
    #: the array's columns of lands, along the unit's width
    columns: Annotated[int, Field(strict=True, ge=1, le=16), ARRAY_SIDE]
    #: from a land's centre to the next one's, along a row or a column
    pitch_um: Annotated[
        float,
        Unit("um"),
        Field(ge=200, le=3000),
        Because("the finest ball pitch the line sets, to 16 lands across the largest unit"),
    ]
    #: the rows of lands left out at the array's centre (0 with centre_columns: a full array)
    centre_rows: Annotated[int, Field(strict=True, ge=0, le=14), ARRAY_CENTRE] = 0
    #: the columns of lands left out at the array's centre
    centre_columns: Annotated[int, Field(strict=True, ge=0, le=14), ARRAY_CENTRE] = 0

    @recipe_check
    def _a_centre_inside_the_array(self) -> Self:
        """The depopulated centre leaves a ring of lands on every side, centred: as many rows
        (columns) on each side of it."""
        every_problem(
            functools.partial(self._require_centred, axis) for axis in ("rows", "columns")
        )
        return self

    def _require_centred(self, axis: str) -> None:
        centre, count = getattr(self, f"centre_{axis}"), getattr(self, axis)
        other = getattr(self, f"centre_{'columns' if axis == 'rows' else 'rows'}")
        if centre == 0 and other == 0:
            return
        if centre == 0:
            why = "a centre left out has rows and columns: give at least 1"
        elif centre > count - 2 or (count - centre) % 2:
            parity = "even" if count % 2 == 0 else "odd"
            give = (
                f"give from 1 to {count - 2}, {parity} as {count} is"
                if count >= 3
                else f"give 0 (leave out no centre): {count} {axis} have none"
            )
            why = (
                f"the centre left out of the {count} {axis} keeps as many lands on each side "
                f"of it, at least one: {give}"
            )
        else:
            return
        raise claim_violation("000:x1", f"centre_{axis}", str(centre), why)

    @property
    def lands(self) -> int:
        """A unit's lands: the array less its centre."""
        return self.rows * self.columns - self.centre_rows * self.centre_columns

    def layout(self) -> str:
        """The array as a refusal names it."""
        centre = (
            f" less a centre of {self.centre_rows} x {self.centre_columns}"
            if self.centre_rows
            else ""
        )
        return f"{self.rows} x {self.columns} at {self.pitch_um:g} um{centre}"


class PanelRecipe(Recipe):
    """The incoming tape panel (000): package units in rows and columns, a die's terminal
    holes along each of its four edges, the tape with its metal interconnection layer and
    solder resist. What the operator loads; the dry run's line receives panels so."""

    rows: Annotated[int, Field(strict=True, ge=1, le=20), PANEL_FRAME] = 5
    columns: Annotated[int, Field(strict=True, ge=1, le=40), PANEL_FRAME] = 20
    unit_width_mm: Annotated[float, Unit("mm"), Field(gt=1, le=50), UNIT_SIZES] = 12.0
    unit_height_mm: Annotated[float, Unit("mm"), Field(gt=1, le=50), UNIT_SIZES] = 12.0
    die_width_mm: Annotated[float, Unit("mm"), Field(gt=0.5, le=50), DIE_SIZES] = 8.0
    die_height_mm: Annotated[float, Unit("mm"), Field(gt=0.5, le=50), DIE_SIZES] = 8.0
    holes_per_die_side: Annotated[int, Field(strict=True, ge=1, le=64), PADS_TO_AN_EDGE] = 6
    tape_thickness_um: Annotated[float, Unit("um"), Field(ge=12, le=200), TAPES] = 75.0
    interconnect_um: Annotated[float, Unit("um"), Field(ge=5, le=50), INTERCONNECT_FOILS] = 18.0
    solder_resist_um: Annotated[float, Unit("um"), Field(ge=5, le=50), SOLDER_RESIST_FILMS] = 20.0
    #: 000:x2: holes for a frame's conductor columns, this many along each edge of a unit,
    #: midway between its die and its edge (left out or 0: a panel without a frame)
    columns_per_side: Annotated[
        Annotated[int, Field(strict=True, ge=0, le=63), COLUMN_HOLES] | None,
        NeededWhen("with a frame (000:x2)"),
    ] = None
    #: 000:x1: the external terminals' lands in an area array over each unit's bottom (left
    #: out: the solder resist is opened under the holes, a peripheral array)
    area_array: AreaArray | None = None

    @recipe_check
    def _die_fits_its_unit(self) -> Self:
        """Each of a die's sides fits its unit's (each on its own), refused at the die's: the
        other fields of the panel stand for the checks around it (decision 0057)."""
        every_problem(
            functools.partial(self._require_die_fits, axis) for axis in ("width", "height")
        )
        return self

    def _require_die_fits(self, axis: str) -> None:
        die, unit = getattr(self, f"die_{axis}_mm"), getattr(self, f"unit_{axis}_mm")
        if die > unit:
            raise claim_violation(
                "000:d",
                f"die_{axis}_mm",
                f"{die:g} mm",
                f"a die is mounted on a unit of the tape, and a unit is unit_{axis}_mm = "
                f"{unit:g} mm: give at most {unit:g} mm",
            )

    @recipe_check
    def _holes_in_the_ball_map(self) -> Self:
        """A unit's holes, its die's and a frame's columns', lie in the ball mounter's map
        (`MAX_MAP_POSITIONS` sites a unit): a stacked package's balls go under its columns,
        after its die's holes (000:x2)."""
        holes = self.terminal_sites + self.column_sites
        if holes <= MAX_MAP_POSITIONS:
            return self
        raise claim_violation(
            "000:x2",
            "columns_per_side",
            str(self.columns_per_side),
            f"a unit's {self.terminal_sites} holes for its die (4 x holes_per_die_side) and "
            f"{self.column_sites} for a frame's columns (4 x columns_per_side) are {holes} "
            f"sites, and the ball mounter's map addresses {MAX_MAP_POSITIONS} a unit (the "
            f"tool's limit): give at most {MAX_MAP_POSITIONS // 4 - self.holes_per_die_side}",
        )

    @property
    def units(self) -> int:
        return self.rows * self.columns

    @property
    def terminal_sites(self) -> int:
        """A unit's sites for its die's terminals; its column sites follow them."""
        return 4 * self.holes_per_die_side

    @property
    def column_sites(self) -> int:
        """A unit's sites for a frame's conductor columns (000:x2)."""
        return 4 * (self.columns_per_side or 0)

    @property
    def drilled_holes(self) -> int:
        """Every hole the laser drills through the panel's tape: each unit's terminal and
        column sites (none on a metal substrate, which has no tape: 000:x3)."""
        return self.units * (self.terminal_sites + self.column_sites)

    @property
    def land_sites(self) -> int:
        """A unit's sites for its area array's lands (000:x1); they follow its column sites."""
        return 0 if self.area_array is None else self.area_array.lands

    def resist_openings(self) -> range:
        """The positions, in a unit's site order, of its solder resist openings: its area
        array's lands, or without one its holes (the terminals', then the columns')."""
        holes = self.terminal_sites + self.column_sites
        if self.area_array is None:
            return range(holes)
        return range(holes, holes + self.land_sites)

    def site_indices(self, positions: range) -> list[int]:
        """The panel's site indices of the sites at `positions` of every unit (the twin's
        site order: unit by unit, each in its unit's order)."""
        per_unit = self.terminal_sites + self.column_sites + self.land_sites
        return [unit * per_unit + position for unit in range(self.units) for position in positions]

    @property
    def base_um(self) -> float:
        """The tape with what its bottom carries: the package's thickness under the dies."""
        return self.tape_thickness_um + self.interconnect_um + self.solder_resist_um

    def hole_volume_nl(self, diameter_um: float) -> float:
        """A through-hole of `diameter_um` down to the interconnection layer, nl."""
        return math.pi / 4 * diameter_um**2 * self.tape_thickness_um * 1e-6

    def spec(self) -> PanelSpec:
        return PanelSpec(
            rows=self.rows,
            columns=self.columns,
            unit_size_mm=(self.unit_width_mm, self.unit_height_mm),
            die_size_mm=(self.die_width_mm, self.die_height_mm),
            holes_per_die_side=self.holes_per_die_side,
            tape_thickness_um=self.tape_thickness_um,
            interconnect_um=self.interconnect_um,
            solder_resist_um=self.solder_resist_um,
            columns_per_side=self.columns_per_side or 0,
            **self._land_spec(),
        )

    def _land_spec(self) -> dict[str, Any]:
        """The twin's fields of the area array's lands (none without one)."""
        array = self.area_array
        if array is None:
            return {}
        return {
            "land_array": (array.rows, array.columns),
            "land_pitch_mm": array.pitch_um / 1000,
            "land_centre": (array.centre_rows, array.centre_columns),
        }


class DieWaferRecipe(Recipe):
    """The wafer a panel's dies come from: a pad under each of its die's terminal holes, its
    terminals formed on the wire bonder as gold or copper studs (000:c), diced on the saw."""

    diameter_mm: Annotated[
        float, Unit("mm"), Field(ge=50, le=LARGEST_DIE_WAFER_MM), WAFER_SIZES
    ] = 150.0
    thickness_um: Annotated[
        float,
        Unit("um"),
        Field(ge=THINNEST_DIE_UM, le=800),
        Because(
            f"dies the bonder's ejector picks without cracking them: thinned to "
            f"{THINNEST_DIE_UM}-800 um"
        ),
    ]
    #: 000:c: the dies' connection terminals, gold or copper studs formed on the wire bonder
    terminals: BumpRecipe
    #: the studs' base diameter, which their bond program sets (about 4 wire diameters):
    #: stated so the recipe says what it expects, refused unless the program bonds it
    terminal_base_um: Annotated[
        float,
        Unit("um"),
        Field(ge=10, le=300),
        Because("about 4 diameters of the wire bonder's 18-50 um wires, with room: 10-300 um"),
    ]
    #: the wafer diced on the saw into the dies the bonder picks (000:d's dies; the step
    #: records no claim of its own)
    dicing: DicingStep

    def terminal_bases_um(self) -> tuple[float, float]:
        """The narrowest and widest base the terminals' program bonds (the line's stud law,
        `stud_bases_um`), as a recipe is told a stud range (`stated_stud_range_um`)."""
        return stated_stud_range_um(*stud_bases_um(self.terminals.program()))

    def terminal_volume_nl(self, panel: PanelRecipe) -> float:
        """What one terminal fills of its hole once inserted: the stud its program bonds (the
        line's stud law, by which the simulated bonder forms it: its base and its height
        before their spread), inside the hole. Not the recipe's `terminal_base_um` or
        `terminals.height_um`, which may stand a little off it and still pass their checks."""
        program = self.terminals.program()
        shortest, tallest = stud_heights_um(program, self.terminals.stack)
        return float(
            terminal_volume_nl(
                (shortest + tallest) / 2, stud_base_um(program), panel.tape_thickness_um
            )
        )

    @recipe_check
    def _terminal_base_as_the_program_bonds_it(self) -> Self:
        narrowest, widest = self.terminal_bases_um()
        if narrowest <= self.terminal_base_um <= widest:
            return self
        program = self.terminals.program()
        raise claim_violation(
            "000:c",
            "terminal_base_um",
            f"{self.terminal_base_um:g} um",
            f"a stud's base is set by its bond program (dies.terminals): "
            f"{program.wire_diameter_um:g} um {program.wire_material.value} wire at "
            f"{program.bond_force_gf:g} gf and {program.ultrasonic_energy_uj:g} uJ bonds it "
            f"{stud_base_um(program):.1f} um across, {narrowest:g}-{widest:g} um (the line's "
            f"stud law, its {STUD_BASE_SPREAD:.1%} spread to {STUD_SPREAD_SIGMAS:g} sigma), and "
            f"the fill leaves room in each hole for the stud the program bonds: give from "
            f"{narrowest:g} to {widest:g} um",
        )

    def spec(self, panel: PanelRecipe) -> WaferSpec:
        return WaferSpec(
            diameter_mm=self.diameter_mm,
            thickness_um=self.thickness_um,
            die_size_mm=(panel.die_width_mm, panel.die_height_mm),
            pads_per_die_side=panel.holes_per_die_side,
        )


def die_wafer_id(panel_id: str) -> str:
    """The die wafer a panel takes its dies from, named after it."""
    return DIE_WAFER_PREFIX + panel_id[-15:]
