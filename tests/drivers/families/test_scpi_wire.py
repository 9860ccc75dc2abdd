"""The SCPI family's error table: the standard codes every tool queues, the further standard
codes a tool declares, a tool's own positive codes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from packline.drivers.families.scpi_wire import (
    ScpiCommand,
    ScpiPrecondition,
    command,
    error_messages,
    standard_refusals,
)
from packline.drivers.specs import dc_supply, grinder, laser
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


def test_a_number_querys_reply_is_written_by_its_decimals_not_by_hand():
    """A number query declared by its decimals has the page's form `<0.000>` for its reply and
    writes its value so (the simulated tool's answer); a hand-written example beside the
    decimals, or decimals on a setting, is refused naming the header."""
    measure = ScpiCommand(name="x", header="MEASure:X", form="query", decimals=3)
    assert (measure.reply, measure.reply_value(2.5)) == ("`<0.000>`", "2.500")
    assert ScpiCommand(name="n", header="COUNt", form="query", decimals=0).reply == "`<0>`"
    with pytest.raises(ValueError, match=r"MEASure:X: a query's reply declared by its decimals"):
        ScpiCommand(name="x", header="MEASure:X", form="query", decimals=3, reply="`2.500`")
    with pytest.raises(ValueError, match=r"SOURce:X: a query's reply declared by its decimals"):
        ScpiCommand(name="x", header="SOURce:X", form="both", decimals=3)
    with pytest.raises(ValueError, match=r"IDN: its reply is not declared by its decimals"):
        ScpiCommand(name="i", header="IDN", form="query").reply_value(1.0)


def test_the_scpi_pages_example_values_are_the_declarations():
    """The supply's measured current and voltage are `<0.00000>` (its `MEASURE_DECIMALS`), the
    grinder's gauge readings the finest gauge's form, and the laser's fixed values per source
    those of `SOURCES`: the command tables state no value by hand."""
    assert command(dc_supply.SPEC, "measure_current").reply == "`<0.00000>`"
    assert command(dc_supply.SPEC, "measure_voltage").reply_value(1.84) == "1.84000"
    assert command(grinder.SPEC, "thickness").reply == "`<0.0>`"
    assert [grinder.gauge_decimals(step) for step in (0.1, 0.5, 1.0)] == [1, 1, 0]
    assert command(laser.SPEC, "spot").reply == "`20` (UV), `60` (CO2)"
    assert command(laser.SPEC, "power_maximum").reply == "`10` (UV), `100` (CO2)"
    assert command(laser.SPEC, "wavelength").reply == "`355` (UV), `9400` (CO2), `10600` (CO2)"


def test_a_precondition_is_refused_in_its_words_and_listed_in_its_commands_row():
    """A command's preconditions are its page row's refusals, in the order the tool checks
    them, each the code and the words it queues, a field of the words as a placeholder; the
    tool fills the field in (`words`)."""
    empty = ScpiPrecondition(code=-221, detail="no wafer on the chuck")
    unsettled = ScpiPrecondition(code=-221, detail="gas {gas} not settled")
    assert unsettled.words(gas="Ar") == "gas Ar not settled"
    start = ScpiCommand(
        name="start", header="JOB:STARt", preconditions=(empty, unsettled), doc="scan"
    )
    assert start.meaning(laser.SPEC) == (
        "scan; refused, checked in this order: -221 `no wafer on the chuck`, "
        "-221 `gas <gas> not settled`"
    )
    flip = ScpiCommand(name="flip", header="WAFer:FLIP", preconditions=(empty,), doc="turn")
    assert flip.meaning(laser.SPEC) == "turn; refused: -221 `no wafer on the chuck`"


def test_a_field_a_command_fills_in_itself_is_given_filled_in_in_its_row():
    """A `{field}` the command declares its own (`precondition_fields`: the same whatever the
    state) is given filled in by its row; the tool fills the others in as it refuses."""
    held = ScpiPrecondition(code=-221, detail="job {job} running; {setting} cannot change")
    jet = ScpiCommand(
        name="jet", header="PROCess:JET", preconditions=(held,),
        precondition_fields={"setting": "gas jet"}, doc="assist gas",
    )  # fmt: skip
    assert jet.meaning(laser.SPEC) == (
        "assist gas; refused: -221 `job <job> running; gas jet cannot change`"
    )
    assert held.page_form == "-221 `job <job> running; <setting> cannot change`"


def test_an_interlock_refusal_is_listed_in_its_commands_row_after_the_preconditions():
    """The row of a command its interlocks guard says how the tool refuses it with them open,
    after its preconditions: the spec's interlock error and each interlock's words, from the
    declarations (the laser's emission ON with the door open: `-221,"Settings
    conflict;enclosure open"`), the open ones' joined by `,` where it has several."""
    held = ScpiPrecondition(code=-221, detail="job running")
    guarded = ScpiCommand(
        name="scan", header="JOB:STARt", interlocks=("enclosure_closed",), doc="scan"
    )
    assert guarded.meaning(laser.SPEC) == "scan; with its interlock open: -221 `enclosure open`"
    after = replace(guarded, preconditions=(held,))
    assert after.meaning(laser.SPEC) == (
        "scan; refused: -221 `job running`; then with its interlock open: -221 `enclosure open`"
    )
    every = replace(guarded, interlocks=("chuck_vacuum", "grinding_water"))
    assert every.meaning(grinder.SPEC) == (
        "scan; with an interlock open: 201 naming the open ones, `,` between them "
        "(`chuck_vacuum`, `grinding_water`)"
    )


@pytest.mark.parametrize("code", [0, -213])
def test_a_precondition_whose_code_is_no_refusal_of_the_family_is_refused(code: int):
    with pytest.raises(ValueError, match=rf"precondition {code} `no wafer`: code {code} is no"):
        ScpiPrecondition(code=code, detail="no wafer")
    assert ScpiPrecondition(code=203, message="No wafer").code == 203  # a tool's own code


def test_a_precondition_of_a_tools_own_code_declares_its_message_its_detail_after_it():
    """A standard code's precondition queues its words after the family's message's `;`; a
    tool's own code is the error the tool keeps for it, which declares its message, queued
    alone (the grinder's `203,"No wafer on chuck"`) or with a detail after it, its fields
    filled in (the grinder's `202,"Alarm active;GAUGE_FAULT"`). Its words are both, as
    `SYST:ERR?` gives them; each code declares a message only where the family has none."""
    taken = ScpiPrecondition(code=-221, detail="wafer {wafer} is on the chuck")
    assert taken.queued(wafer="W1") == (-221, "wafer W1 is on the chuck")
    empty = ScpiPrecondition(code=203, message="No wafer on chuck")
    assert empty.queued() == (203, "")
    assert empty.words() == "No wafer on chuck"
    assert empty.page_form == "203 `No wafer on chuck`"
    alarmed = ScpiPrecondition(code=202, message="Alarm active", detail="{alarms}")
    assert alarmed.queued(alarms="GAUGE_FAULT") == (202, "GAUGE_FAULT")
    assert alarmed.words(alarms="GAUGE_FAULT") == "Alarm active;GAUGE_FAULT"
    assert alarmed.page_form == "202 `Alarm active;<alarms>`"
    with pytest.raises(ValueError, match=r"203 `no wafer`: the tool's own code 203 declares"):
        ScpiPrecondition(code=203, detail="no wafer")
    with pytest.raises(ValueError, match=r"standard code -221 has the family's message"):
        ScpiPrecondition(code=-221, message="Settings conflict", detail="no wafer")
    with pytest.raises(ValueError, match=r"standard code -221 .* needs a detail"):
        ScpiPrecondition(code=-221)


@pytest.mark.parametrize("spec", [laser.SPEC, grinder.SPEC, dc_supply.SPEC], ids=lambda s: s.kind)
def test_a_precondition_of_a_tools_own_code_is_that_codes_message(spec):
    """What the tool queues for such a precondition is its refusal table's message for the
    code: the two say the same words."""
    own = {
        precondition
        for entry in spec.commands
        if isinstance(entry, ScpiCommand)
        for precondition in entry.preconditions
        if precondition.code > 0
    }
    messages = error_messages(spec)
    assert {p.code: p.message for p in own} == {p.code: messages[p.code] for p in own}


def test_the_first_unmet_precondition_is_the_first_in_the_commands_order():
    """`first_unmet` takes the command's declared order, not the order a judge lists them in,
    and refuses to judge a command by a state that leaves one of its preconditions unjudged
    (the simulated tool or a driver and the spec drifted apart), naming it."""
    empty = ScpiPrecondition(code=-221, detail="no wafer on the chuck")
    unsettled = ScpiPrecondition(code=-221, detail="gas {gas} not settled")
    start = ScpiCommand(
        name="start", header="JOB:STARt", preconditions=(empty, unsettled), doc="scan"
    )
    assert start.first_unmet({unsettled: True, empty: True}) is empty
    assert start.first_unmet({unsettled: True, empty: False}) is unsettled
    assert start.first_unmet({unsettled: False, empty: False}) is None
    with pytest.raises(ValueError, match=r"JOB:STARt: .* judged: -221 `gas <gas> not settled`$"):
        start.first_unmet({empty: False})


def test_a_commands_own_fields_name_it_by_its_header():
    """`{header}` in a precondition's words is the command's header's short form, which the
    command fills in itself: a refusal names the command refused (the grinder's rework load
    as `WAF:REL`, not as the plain load it is a form of)."""
    unload, reload = command(grinder.SPEC, "wafer_unload"), command(grinder.SPEC, "wafer_reload")
    assert unload.own_fields == {"header": "WAF:UNL"}
    assert reload.own_fields == {"header": "WAF:REL"}
    assert grinder.GRINDING.words(**unload.own_fields) == "WAF:UNL not allowed while grinding"
    assert "-221 `WAF:REL not allowed while grinding`" in reload.meaning(grinder.SPEC)


@pytest.mark.parametrize(
    ("value", "up", "taken"),
    [(0.0004, False, 0.0), (0.0016, False, 0.002), (4.001, True, 4.001), (4.0011, True, 4.002)],
)
def test_a_setting_is_taken_to_its_step_nearest_or_up(value: float, up: bool, taken: float):
    """The supply times its list's dwell in whole ms: the tool takes a setting to the nearest
    step, a driver that needs at least a duration to the step at or above it, and a whole
    4.001 s, 4.0010000000000003 ms-steps as floats divide it, stays 4.001 s."""
    assert dc_supply.LIST_DWELL.resolved(value, up=up) == taken
