"""The SCPI family's error table: the standard codes every tool queues, the further standard
codes a tool declares, a tool's own positive codes."""

from __future__ import annotations

import pytest

from packline.drivers.families.scpi_wire import error_messages, standard_refusals
from packline.drivers.specs import dc_supply, laser
from packline.drivers.specs.core import Refusal


def test_a_further_standard_code_is_declared_with_when_and_takes_the_familys_message():
    refusals = standard_refusals(Refusal(code=-211, text="a trigger nothing waits for"))
    codes = [int(refusal.code) for refusal in refusals]
    assert codes == sorted(codes, key=lambda code: -code)  # in the order of the codes
    assert Refusal(code=-211, text="a trigger nothing waits for") in refusals
    assert error_messages(dc_supply.SPEC)[-211] == "Trigger ignored"
    assert -211 not in error_messages(laser.SPEC)  # only a tool that declares it queues it


def test_a_negative_code_the_family_does_not_know_is_refused():
    with pytest.raises(ValueError, match=r"standard SCPI error codes \[-213\]"):
        standard_refusals(Refusal(code=-213, text="init ignored"))
