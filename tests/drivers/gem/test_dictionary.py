"""GEM tool dictionaries: the shipped ones load; a wrong one is refused naming file and key."""

from __future__ import annotations

import copy
from importlib import resources
from pathlib import Path

import pytest
import yaml

from packline.drivers.gem.dictionary import (
    DictionaryError,
    Variable,
    dictionary_names,
    dictionary_tables,
    load_dictionary,
    parse_dictionary,
)
from packline.drivers.registry import TOOL_KINDS
from packline.drivers.secs.items import BOOLEAN, F4, F8, I2, U1, U2, U4, A, L
from packline.drivers.specs.pages import marked_tables, stale_tables

WIRE_BONDER_ALARMS = TOOL_KINDS["wire_bonder"].load_spec().alarm_by_code


def shipped(name: str) -> dict:
    text = resources.files("packline.drivers").joinpath("specs", "gem", f"{name}.yaml").read_text()
    return yaml.safe_load(text)


def test_every_kind_with_a_gem_driver_has_a_dictionary_and_it_loads() -> None:
    with_gem = sorted(kind.name for kind in TOOL_KINDS.values() if kind.gem_driver)
    assert with_gem == dictionary_names()
    for name in with_gem:
        dictionary = load_dictionary(name)
        assert dictionary.kind == name
        assert dictionary.alarms.keys() == TOOL_KINDS[name].load_spec().alarm_by_code.keys()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["status_variables"].pop("site_count"), "status_variables.site_count: missing"),
        (
            lambda d: d["remote_commands"]["start"]["parameters"].pop("sites"),
            "remote_commands.start.parameters.sites: missing",
        ),
        (lambda d: d.update(kind="lathe"), "kind: unknown tool kind 'lathe'"),
        (lambda d: d.update(kind="laser"), "no GEM driver for a laser"),
        (lambda d: d["alarms"].update(MELTDOWN={"id": 4999}), "alarms.MELTDOWN: not an alarm"),
        (
            lambda d: d["status_variables"]["state"].update(id=1001),
            "status_variables: state and serial_number have the same id 1001",
        ),
        (
            lambda d: d["status_variables"]["state"].update(format="U3"),
            "status_variables.state.format: must be one of B, BOOLEAN, A, J, I8, I1, I2, I4, "
            "F8, F4, U8, U1, U2, U4 (a SECS-II item format of a value), got 'U3'",
        ),
        (
            lambda d: d["collection_events"]["run_ended"]["report"].append("mood"),
            "collection_events.run_ended.report names mood",
        ),
        (lambda d: d.update(id_format="F4"), "id_format: must be one of U1, U2, U4, U8, I1"),
        (
            lambda d: d["status_variables"]["e10_state"]["values"].update({9: "lunch"}),
            "status_variables.e10_state.values: map every tool value to an E10 state",
        ),
        (
            lambda d: d["process_jobs"].update(ended="run_over"),
            "process_jobs.ended: no 'run_over' in this dictionary",
        ),
        (
            lambda d: d["collection_events"]["process_job_state_changed"]["report"].reverse(),
            "the report of process_job_state_changed must start with process_job_id",
        ),
    ],
)
def test_a_wrong_dictionary_is_refused_naming_the_key(change, message: str) -> None:
    data = copy.deepcopy(shipped("wire_bonder"))
    change(data)
    with pytest.raises(DictionaryError) as error:
        parse_dictionary(data, "dictionary wb.yaml")
    assert "dictionary wb.yaml: " in str(error.value)
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("change", "line"),
    [
        pytest.param(
            lambda d: d["trace"].update(min_period_s=0.001),
            "trace.min_period_s: must be at least 0.01 s, got 0.001",
            id="a range, in its unit",
        ),
        pytest.param(
            lambda d: d["identity"].pop("vendor"),
            "identity.vendor: missing (required; e.g. `vendor: packline`)",
            id="a field left out, with an example",
        ),
        pytest.param(
            lambda d: d["remote_commands"]["start"].pop("rcmd"),
            "remote_commands.start.rcmd: missing (required; e.g. `rcmd: START`)",
            id="a field of an entry left out, with an example",
        ),
        pytest.param(
            lambda d: d["trace"].update(max_trace=2),
            "trace.max_trace: not a field of trace (did you mean 'max_traces'?); its fields: "
            "max_traces, max_variables, min_period_s",
            id="an unknown field of a section, by its key path",
        ),
        pytest.param(
            lambda d: d["status_variables"]["state"].update(formt="U1"),
            "status_variables.state.formt: not a field of a status variable or equipment "
            "constant (did you mean 'format'?); its fields: id, format, unit, scale, values, "
            "array, absent, default, doc",
            id="an unknown field of an entry, by what the entry is",
        ),
        pytest.param(
            lambda d: d["status_variables"]["wafer_id"].update(absent=True),
            "status_variables.wafer_id: absent: only a number may be absent (an item of no "
            "element): an empty array or text is a value",
            id="no value of a text, which its empty text is",
        ),
        pytest.param(
            lambda d: d.update(colour="red"),
            "colour: not a field of a GEM dictionary; its fields: name, kind, doc, identity, "
            "id_format, status_variables, equipment_constants, collection_events, alarms, "
            "remote_commands, trace, process_jobs",
            id="an unknown field like none",
        ),
        pytest.param(
            lambda d: d["trace"].update(max_traces="four"),
            "trace.max_traces: must be a whole number, got 'four'",
            id="a wrong type",
        ),
        pytest.param(
            lambda d: d["status_variables"]["state"].update(id=[1010]),
            "status_variables.state.id: must be a whole number or text, got [1010]",
            id="a wrong type where two are taken: once, not once per type",
        ),
        pytest.param(
            lambda d: d["alarms"].update(WIRE_BRAKE={"id": 4999}),
            "alarms.WIRE_BRAKE: not an alarm of the wire_bonder spec (did you mean "
            "'WIRE_BREAK'?); its alarms: " + ", ".join(WIRE_BONDER_ALARMS),
            id="an unknown alarm code",
        ),
        pytest.param(
            lambda d: d.update(kind="wirebonder"),
            "kind: unknown tool kind 'wirebonder' (did you mean 'wire_bonder'?); known: "
            + ", ".join(TOOL_KINDS),
            id="an unknown tool kind",
        ),
        pytest.param(
            lambda d: d["collection_events"]["run_ended"]["report"].append("stat"),
            "collection_events.run_ended.report names stat (did you mean 'state'?), not among "
            "the status_variables",
            id="a report of an unknown status variable",
        ),
    ],
)
def test_a_wrong_dictionary_is_refused_in_its_files_words(change, line: str) -> None:
    """pydantic's wording ("trace.min_period_s: Input should be greater than or equal to
    0.01", "Extra inputs are not permitted", "id.int: Input should be a valid integer" and
    "id.str: ..." for one value) is said as a station file says it: the file, the key path, a
    bound in its unit, an example of a field left out, the field a misspelt key may mean."""
    data = copy.deepcopy(shipped("wire_bonder"))
    change(data)
    with pytest.raises(DictionaryError) as error:
        parse_dictionary(data, "GEM dictionary bonder-7.yaml")
    assert str(error.value).splitlines() == [f"GEM dictionary bonder-7.yaml: {line}"]


def test_an_unknown_dictionary_names_the_known_ones() -> None:
    with pytest.raises(
        DictionaryError, match=r"unknown GEM dictionary 'lathe'; known .*wire_bonder"
    ):
        load_dictionary("lathe")


def test_values_scale_and_enumerations_both_ways() -> None:
    force = Variable(id=1, format="F8", scale=0.980665)  # the tool in cN, the role in gf
    assert force.to_wire(30.0) == F8(30.0 * 0.980665)
    assert force.to_role(F8(30.0 * 0.980665)) == pytest.approx(30.0)
    state = Variable(id=2, format="U1", values={0: "idle", 1: "busy"})
    assert state.to_wire("busy") == U1(1)
    assert state.to_role(U4(0)) == "idle"  # a wider integer of the same kind is taken
    with pytest.raises(ValueError, match="none of the values"):
        state.to_role(U1(7))
    with pytest.raises(ValueError, match="expected a number, got the text 'idle'"):
        state.to_role(A("idle"))
    with pytest.raises(ValueError, match="expected an U1 item, got F4"):
        state.to_role(F4(1.0))
    heights = Variable(id=3, format="F4", array=True)
    assert heights.to_role(heights.to_wire([1.5, 2.5])) == (1.5, 2.5)
    assert heights.to_wire([]) == F4()
    count = Variable(id=4, format="I2")
    assert count.to_wire(3.0) == I2(3)
    with pytest.raises(ValueError, match="not a whole number"):
        count.to_wire(2.5)
    assert Variable(id=5, format="F8").to_role(U1(3)) == 3  # an integer where a float is due
    assert Variable(id=5, format="F8").to_role(A("30.0")) == 30.0  # a number as text (secsgem)
    with pytest.raises(ValueError, match=r"'2\.5' is not a whole number"):
        Variable(id=5, format="U1").to_role(A("2.5"))
    assert Variable(id=6, format="BOOLEAN").to_wire(True) == BOOLEAN(True)


def test_an_array_sent_as_a_list_reads_as_its_elements() -> None:
    """A list-valued variable a tool sends as a list of one-element items (E30's AlarmsSet)
    reads as an array sent in its format does, an empty list as no element (no alarm set);
    an empty list of a number that may be absent is None, and of any other variable says it
    is E30's answer for one the tool does not know."""
    alarms = Variable(id=9005, format="U4", array=True)
    assert alarms.to_role(L(U4(4001), U2(4003))) == (4001, 4003) == alarms.to_role(U4(4001, 4003))
    assert alarms.to_role(L()) == () == alarms.to_role(U4())
    gases = Variable(id=2, format="U1", array=True, values={1: "Ar", 2: "O2"})
    assert gases.to_role(L(U1(2), U1(1))) == ("O2", "Ar")
    with pytest.raises(ValueError, match="element 1 of the list: expected an U1 item, got F4"):
        gases.to_role(L(U1(2), F4(1.0)))
    with pytest.raises(ValueError, match=r"element 0 of the list: .* 2 elements has no scalar"):
        gases.to_role(L(U1(1, 2)))
    assert Variable(id=3, format="F8", absent=True).to_role(L()) is None
    with pytest.raises(ValueError, match="an empty list, E30's answer for a variable the tool"):
        Variable(id=4, format="A").to_role(L())
    with pytest.raises(ValueError, match="expected an U4 item, got L"):
        Variable(id=5, format="U4").to_role(L(U4(1)))


PROTOCOLS = Path(__file__).parents[3] / "docs" / "protocols"


@pytest.mark.parametrize("name", dictionary_names())
def test_each_dictionary_has_its_page_and_the_pages_tables_are_its_own(name: str) -> None:
    page = (PROTOCOLS / f"gem-{name.replace('_', '-')}.md").read_text(encoding="utf-8")
    tables = dictionary_tables(load_dictionary(name))
    assert set(marked_tables(page)) == set(tables)
    assert stale_tables(page, tables) == []


def test_a_dictionary_files_role_value_its_role_does_not_know_is_refused_at_load():
    """A trial wrote `2: Argon` for the chamber's gas: the station loaded, `validate` and
    `station check` passed, and the run failed only when the clean sent `Ar`, the wafer
    pumped down in the chamber. The role's values are the shipped dictionary's of its kind."""
    data = shipped("plasma_cleaner")
    data["equipment_constants"]["step_gas"]["values"][2] = "Argon"
    data["status_variables"]["chamber_state"]["values"][0] = "vnted"
    with pytest.raises(DictionaryError) as refused:
        parse_dictionary(data, "GEM dictionary pc-3.yaml", "pc-3")
    assert str(refused.value).splitlines() == [
        "GEM dictionary pc-3.yaml: status_variables.chamber_state.values.0: 'vnted' is not a "
        "value of the role (did you mean 'vented'?); its values: "
        + ", ".join(
            shipped("plasma_cleaner")["status_variables"]["chamber_state"]["values"].values()
        ),
        "GEM dictionary pc-3.yaml: equipment_constants.step_gas.values.2: 'Argon' is not a value "
        "of the role (did you mean 'Ar'?); its values: O2, Ar, forming-gas, CF4/O2",
    ]


@pytest.mark.parametrize(
    ("unit", "scale", "refusal"),
    [
        (
            "Torr",
            None,
            "status_variables.pressure_mtorr.scale: Torr on the wire for the role's mTorr takes "
            "scale: 0.001 (wire = role x scale), not 1",
        ),
        ("Torr", 0.001, None),
        ("sccm", None, "status_variables.pressure_mtorr.unit: 'sccm' is not the role's mTorr ("),
    ],
)
def test_a_dictionary_files_unit_must_be_converted_from_the_roles_by_its_scale(
    unit: str, scale: float | None, refusal: str | None
):
    """A trial's `unit: Torr` on the chamber's pressure was taken without a word: with no
    scale the driver would have read 100 mTorr as 0.1. The role's unit is the shipped
    dictionary's; another must come with the scale that converts the role's into it."""
    data = shipped("plasma_cleaner")
    entry = data["status_variables"]["pressure_mtorr"]
    entry["unit"] = unit
    if scale is not None:
        entry["scale"] = scale
    if refusal is None:
        parse_dictionary(data, "GEM dictionary pc-3.yaml", "pc-3")
        return
    with pytest.raises(DictionaryError) as refused:
        parse_dictionary(data, "GEM dictionary pc-3.yaml", "pc-3")
    assert str(refused.value).startswith(f"GEM dictionary pc-3.yaml: {refusal}")
