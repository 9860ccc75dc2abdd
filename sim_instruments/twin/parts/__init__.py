"""The parts a workpiece is composed of, one concept each, each arrays over the sites or units.

Stations add their physics by writing these parts; a part no tool writes yet starts empty.
"""

from .balls import Balls
from .bumps import BumpKind, Bumps
from .dies import Dies
from .fill import UM3_PER_NL, Fill
from .films import DIELECTRICS, Film, FilmMaterial, Films
from .finish import Finish
from .frame import Frame, Stack, StackLevel
from .geometry import Face, Geometry, Shape
from .openings import OpeningLayer, OpeningProcess, Openings, OpeningStage
from .resins import ResinKind, ResinLayer, Resins, Support
from .resist import PhotoState, Resist, Tone
from .singulation import Singulation
from .surface import Surface
from .wiring import NO_PATTERN, Wiring, WiringLevel

__all__ = [
    "DIELECTRICS",
    "NO_PATTERN",
    "UM3_PER_NL",
    "Balls",
    "BumpKind",
    "Bumps",
    "Dies",
    "Face",
    "Fill",
    "Film",
    "FilmMaterial",
    "Films",
    "Finish",
    "Frame",
    "Geometry",
    "OpeningLayer",
    "OpeningProcess",
    "OpeningStage",
    "Openings",
    "PhotoState",
    "ResinKind",
    "ResinLayer",
    "Resins",
    "Resist",
    "Shape",
    "Singulation",
    "Stack",
    "StackLevel",
    "Support",
    "Surface",
    "Tone",
    "Wiring",
    "WiringLevel",
]
