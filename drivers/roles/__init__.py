"""The role interfaces: one abstract interface per tool role, in the language of the process.

Each module holds a role's interface and the records it speaks in (recipes, status, results):
`from packline.drivers.roles.plasma_cleaner import PlasmaRecipe, PlasmaStep`. The interfaces
themselves are re-exported here.
"""

from .ball_mounter import BallMounter
from .deposition import DepositionTool
from .dicing_saw import DicingSaw
from .dispenser import Dispenser
from .electroplater import Electroplater
from .flip_chip_bonder import FlipChipBonder
from .grinder import Grinder
from .laminator import Laminator
from .laser import Laser
from .lithography import Lithography
from .oven import Oven
from .plasma_cleaner import PlasmaCleaner
from .resin_coater import ResinCoater
from .stencil_printer import StencilPrinter
from .wet_bench import WetBench
from .wire_bonder import WireBonder

__all__ = [
    "BallMounter",
    "DepositionTool",
    "DicingSaw",
    "Dispenser",
    "Electroplater",
    "FlipChipBonder",
    "Grinder",
    "Laminator",
    "Laser",
    "Lithography",
    "Oven",
    "PlasmaCleaner",
    "ResinCoater",
    "StencilPrinter",
    "WetBench",
    "WireBonder",
]
