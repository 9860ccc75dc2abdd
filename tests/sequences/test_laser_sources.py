"""The check of a laser's source against the via diameters a recipe asks of it, shared by
every method that drills (sequences/laser_sources.py): its refusal names each diameter its
source does not drill, the source and what it drills, and the sources that drill them."""

from __future__ import annotations

from packline.drivers.equipment import Limit
from packline.drivers.roles.laser import Laser, LaserSource
from packline.drivers.specs.laser import SOURCES
from packline.sequences.engine import Method, all_methods, read_recipe_text
from packline.sequences.laser_sources import ViaDiameter, source_refusal


def test_a_diameter_is_named_as_the_recipe_writes_it_in_the_limits_unit():
    """A refused diameter reads as its recipe field writes it, every digit (`quantity_text`,
    as a refusal for a tool's limit names a value), in the unit of the limit it is outside."""
    uv = Limit(10, 50, "um")
    co2 = Limit(50, 150, "um")
    holes = (ViaDiameter("drill holes", "holes.diameter_um", 149.1234567, "000:a"),)
    refusal = source_refusal(LaserSource.UV_355, lambda source: co2 if source.is_co2 else uv, holes)
    assert refusal == (
        "holes.diameter_um = 149.1234567 um: outside what this laser's UV source (355 nm) "
        "drills, [10, 50] um: drill them on a laser of a CO2 source (9400 or 10600 nm), which "
        "drills [50, 150] um (claim 000:a)"
    )


def test_diameters_of_several_claims_are_refused_naming_each_claim_once():
    """Diameters drilled for different claims (two-process-via's concave portions, 002:1f,
    and via bottoms, 002:1h) name both claims; a source that drills them all is not
    refused."""
    vias = (
        ViaDiameter("laser concave portions", "first.diameter_um", 40.0, "002:1f"),
        ViaDiameter("laser via bottoms", "second.diameter_um", 40.0, "002:1h"),
    )
    co2 = Limit(50, 150, "um")
    uv = Limit(10, 50, "um")

    def diameters(source: LaserSource) -> Limit:
        return co2 if source.is_co2 else uv

    assert source_refusal(LaserSource.UV_355, diameters, vias) is None
    assert source_refusal(LaserSource.CO2_9400, diameters, vias) == (
        "first.diameter_um = 40 um, second.diameter_um = 40 um: outside what this laser's CO2 "
        "source (9400 nm) drills, [50, 150] um: drill them on a laser of a UV source (355 nm), "
        "which drills [10, 50] um (claims 002:1f, 002:1h)"
    )


def _laser_diameter_limits(method: Method) -> dict[str, list[str]]:
    """The laser source limits (`SourceHardware.via_diameter`) the via diameters of `method`'s
    reference recipes feed, each with the recipe fields that feed it (`reference:field`)."""
    diameter_limits = {hardware.via_diameter for hardware in SOURCES.values()}
    fed: dict[str, list[str]] = {}
    for name in method.reference_recipes():
        recipe = read_recipe_text(method.recipe_model, *method.reference_recipe_text(name))
        for point in recipe.tool_setpoints():
            if point.role == Laser.role and point.setpoint in diameter_limits:
                fed.setdefault(point.setpoint, []).append(f"{name}:{point.path}")
    return fed


def test_each_methods_laser_diameters_feed_one_sources_limit():
    """`source_refusal` and `lasers_drill` rely on it: the via diameters a method asks of the
    laser, in every reference recipe, feed one source's limit, so some source drills them all
    and a refusal can name it."""
    fed = {method.name: _laser_diameter_limits(method) for method in all_methods()}
    assert any(fed.values()), "no method's reference recipes feed a laser diameter"
    feeding_two = {name: limits for name, limits in fed.items() if len(limits) > 1}
    assert not feeding_two, f"laser diameters feeding two sources' limits: {feeding_two}"
