"""The role interfaces: one abstract interface per tool role, in the language of the process."""

from .plasma_cleaner import (
    ChamberState,
    CleanResult,
    Gas,
    PlasmaCleaner,
    PlasmaRecipe,
    PlasmaStatus,
    PlasmaStep,
)

__all__ = [
    "ChamberState",
    "CleanResult",
    "Gas",
    "PlasmaCleaner",
    "PlasmaRecipe",
    "PlasmaStatus",
    "PlasmaStep",
]
