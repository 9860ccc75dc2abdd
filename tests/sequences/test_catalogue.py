"""The methods' catalogue (`sequences/methods.json`), which `packline methods` lists without
importing a method, is what the methods' declarations give (decision 0026)."""

from __future__ import annotations

import json
from importlib import resources

from packline.sequences.engine.catalogue import (
    CATALOGUE,
    catalogue_text,
    listing,
    read_catalogue,
    shipped,
)
from packline.sequences.engine.method import all_methods, get_method


def test_the_catalogue_is_written_from_the_declarations():
    text = resources.files("packline.sequences").joinpath(CATALOGUE).read_text(encoding="utf-8")
    assert text == catalogue_text(), (
        "sequences/methods.json is stale: python -m packline.sequences.engine.catalogue"
    )


def test_the_catalogue_lists_every_method_by_name_with_its_options():
    listed = read_catalogue()
    assert [row["name"] for row in listed] == [m.name for m in all_methods() if shipped(m)]
    assert {"bump-seal-clean", "plasma-clean", "tape-substrate"} <= {row["name"] for row in listed}
    plasma = next(row for row in listed if row["name"] == "plasma-clean")
    assert plasma == json.loads(json.dumps(listing(get_method("plasma-clean"))))
    assert set(plasma["options"]) == {"steps", "batch_timeout_s"}
