"""Each GEM face's equipment constants take what its ASCII or SCPI twin takes: S2F15 refuses
(EAC 3) exactly the values the tool's own wire refuses, at and just beyond each end of the
range S2F30 gives."""

from __future__ import annotations

import pytest

from packline.drivers.families.ascii_host_wire import HostSetpoint
from packline.drivers.families.scpi_wire import ScpiSetpoint
from packline.drivers.gem.dictionary import dictionary_names, load_dictionary
from packline.drivers.registry import tool_kind
from packline.sim_instruments.families.scpi_session import ScpiError
from packline.sim_instruments.gem.equipment import GemEquipment
from packline.sim_instruments.gem.model import GemModel
from packline.sim_instruments.twin import TwinStore

GEM_KINDS = ("dicing_saw", "wire_bonder", "flip_chip_bonder", "grinder")


def twin_takes(model: GemModel, setpoint: HostSetpoint | ScpiSetpoint, value: float) -> bool:
    """Whether the tool's own wire takes `value` of `setpoint`, sent as its GEM face sends it:
    a host-link argument's grammar and range, a SCPI setting line answered by the tool."""
    if isinstance(setpoint, HostSetpoint):
        word = setpoint.encode(value)
        try:
            setpoint.decode(word)
        except ValueError:
            return False
        return setpoint.accepts(float(word))
    try:
        model.tool.answer(setpoint.encode(value))  # type: ignore[attr-defined]
    except ScpiError:
        return False
    return True


@pytest.mark.parametrize("kind", GEM_KINDS)
def test_every_constant_takes_what_its_twin_takes(kind: str) -> None:
    model = tool_kind(kind).load_gem_simulator()(kind, TwinStore())
    setpoints = tool_kind(kind).load_spec().setpoint_by_name
    checked = 0
    for name in tool_kind(kind).load_gem_driver().needs.equipment_constants:
        bounds = model.constant_range(name)
        if bounds is None:
            continue  # a word (a material, an alloy), not a setpoint
        setpoint = setpoints[name.removeprefix("ch1_").removeprefix("ch2_")]
        assert isinstance(setpoint, HostSetpoint | ScpiSetpoint)
        step = 10.0**-setpoint.decimals if isinstance(setpoint, HostSetpoint) else 0.001
        low, high = bounds
        for value in (low, high, low - step, high + step, (low + high) / 2):
            if name.endswith("_pitch_mm") and value == 0:
                continue  # 0: the die's own pitch, never sent
            gem = model.accepts_constant(name, value)
            assert gem == twin_takes(model, setpoint, value), f"{kind} {name} = {value}"
        checked += 1
    assert checked >= 5


@pytest.mark.parametrize("kind", dictionary_names())
def test_every_constants_default_is_within_its_range(kind: str) -> None:
    """S2F30's ECDEF of each constant with a range lies within it (ECMIN..ECMAX), before any
    set: a tool that powers up with none set gives its dictionary's default."""
    model = tool_kind(kind).load_gem_simulator()(kind, TwinStore())
    defaults = GemEquipment(load_dictionary(kind), model).variables.defaults
    for name, default in defaults.items():
        if model.constant_range(name) is not None:
            assert model.accepts_constant(name, default), f"{kind} {name} = {default}"
