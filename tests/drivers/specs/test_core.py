"""The spec's own types: what every declaration must say."""

from __future__ import annotations

import pytest

from packline.drivers.families.plc_map import BitInterlock
from packline.drivers.registry import TOOL_KINDS
from packline.drivers.specs import Made


def test_an_interlock_that_does_not_say_what_makes_it_is_refused():
    """Whether an interlock open at rest stops a lot is the tool's fact, declared with it:
    there is no default to forget it under."""
    with pytest.raises(TypeError, match="'made'"):
        BitInterlock(name="gas_supply", bit=2, doc="the process gas supply is present")  # type: ignore[call-arg]


@pytest.mark.parametrize("kind", sorted(TOOL_KINDS))
def test_every_interlock_of_every_kind_says_what_makes_it(kind: str):
    specs = [TOOL_KINDS[kind].load_spec(), *TOOL_KINDS[kind].load_device_specs().values()]
    unclassified = [
        i.name for spec in specs for i in spec.interlocks if not isinstance(i.made, Made)
    ]
    assert unclassified == []
