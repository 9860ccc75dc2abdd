"""The claimed methods packline implements: every claim id of the four source documents.

Claim ids are `SEED:CLAIM` (`001:7` is claim 7 of document 001). Seed 000 is a description,
so its steps are lettered (`000:a` … `000:g`) and its variants numbered (`000:x1` …). Each claim
is a method step, a dependent claim that varies a step (a recipe option), a claim on the
product (checked on the final workpiece), or a variant of the whole method. Sequences tag their
steps and recipe options with these ids; `packline claims` reports which are implemented.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ClaimKind(StrEnum):
    STEP = "step"
    OPTION = "option"
    PRODUCT = "product"
    VARIANT = "variant"


@dataclass(frozen=True)
class Claim:
    id: str
    kind: ClaimKind
    summary: str

    @property
    def document(self) -> str:
        return self.id.split(":", 1)[0]


DOCUMENTS = {
    "000": "tape substrate with filled through-holes",
    "001": "wafer-level chip-size packages with sprout-shaped bumps",
    "002": "resin layer with two-process via opening",
    "003": "bumps through a thin resin film, then cleaned",
}

_S, _O, _P, _V = ClaimKind.STEP, ClaimKind.OPTION, ClaimKind.PRODUCT, ClaimKind.VARIANT

_CATALOGUE: list[tuple[str, ClaimKind, str]] = [
    (
        "000:a",
        _S,
        "through-holes in the tape down to the interconnection layer, and solder resist openings",
    ),
    ("000:b", _S, "fill conductive material into the holes, deliberately incompletely"),
    ("000:c", _S, "insert the dies' connection terminals into the holes; filler rises to the top"),
    ("000:d", _S, "bond and mount the dies on the tape, active surface down"),
    ("000:e", _S, "sealing resin over the top surface around the dies"),
    ("000:f", _S, "grind and polish resin top and die backs to a set thickness"),
    ("000:g", _S, "cut the tape into package units"),
    ("000:x1", _V, "external terminals through the solder resist openings (ball mount + reflow)"),
    ("000:x2", _V, "frame with conductor columns; stacked multilayer devices"),
    ("000:x3", _V, "dies bumped onto a metal substrate, sealed, ground, substrate patterned"),
    ("001:1a", _S, "sprout-shaped metal bumps bonded on every electrode pad"),
    ("001:1b", _S, "resin-sealing layer with the bump tips projecting above it"),
    ("001:1c", _S, "wiring patterns on the resin top touching the bump tips"),
    ("001:1d", _S, "outer electrode terminals on each wiring pattern"),
    ("001:2", _O, "dicing into separate packages"),
    ("001:3", _O, "terminals are metal balls soldered on conducting paths"),
    ("001:4", _O, "solder resist formed after the balls, with openings around them"),
    ("001:5", _O, "bumps from metal wire by a wire bonder: base on the pad + cone"),
    ("001:6", _O, "each bump a stack of at least two bumps"),
    (
        "001:7",
        _O,
        "resin from an adhesive sheet on a film support, bumps penetrate, support peeled",
    ),
    ("001:8", _O, "wiring: thin metal film on the resin, patterned, thickened by plating"),
    ("001:9", _O, "thin film by sputtering, electroless plating or evaporation; electroplated"),
    ("001:10", _O, "the support is a metal film that stays; bumps touch it"),
    ("001:11", _O, "the metal film support is patterned and thickened"),
    ("001:12", _O, "the metal film support is thickened by electroplating"),
    ("001:13", _O, "resin layer at least 50 µm thick"),
    ("001:14", _O, "two wiring arrangements stacked, second bumps on the first wiring"),
    ("001:15", _O, "two stacked arrangements, then terminals and dicing"),
    ("001:16", _O, "any number of stacked wiring arrangements"),
    ("001:17", _O, "any number of stacked arrangements, then terminals and dicing"),
    (
        "002:1a-d",
        _S,
        "interconnections over the surface, connected through the pads to the circuits",
    ),
    ("002:1e", _S, "resin layers covering the interconnections"),
    ("002:1f", _S, "concave portions over the interconnects by a first process, resin left below"),
    ("002:1g", _S, "cure the resin with its concave portions"),
    ("002:1h", _S, "through-holes by removing the concave bottoms by a second, different process"),
    ("002:1i", _S, "external connection terminals on the exposed interconnects"),
    ("002:2", _O, "thermosetting precursor, heated in the cure"),
    ("002:3", _O, "radiation-sensitive precursor: the first process irradiates and develops"),
    ("002:4", _O, "the second process is dry etching"),
    ("002:5", _O, "the resin is solder resist"),
    ("002:6", _P, "product: a semiconductor device made by the method of claim 1"),
    ("002:7", _P, "product: a circuit board carrying the device of claim 6"),
    ("002:8", _P, "product: an electronic apparatus with the device of claim 6"),
    (
        "002:9",
        _P,
        "product: a wafer with resin layers opened by two processes onto the interconnects",
    ),
    ("002:10", _P, "product wafer: thermosetting resin precursor, heated"),
    ("002:11", _P, "product wafer: radiation-sensitive resin precursor"),
    ("002:12", _P, "product wafer: first process irradiates and develops"),
    ("002:13", _P, "product wafer: second process is dry etching"),
    ("002:14", _P, "product wafer: resin layers of solder resist"),
    ("002:15", _O, "a passivation layer of SiO2 or SiN"),
    ("002:16", _O, "pads on the upper surface"),
    ("002:17", _O, "a stress-relieving layer from a resin precursor"),
    ("002:18", _P, "product: a wafer with means covering the interconnects, opened onto them"),
    ("002:19", _P, "product wafer of claim 18: thermosetting covering, heated"),
    ("002:20", _P, "product wafer of claim 18: radiation-sensitive covering"),
    (
        "003:1",
        _P,
        "product: bumps on the circuit pattern, resin thinner than the bumps, tips cleaned",
    ),
    ("003:2", _P, "product: tips cleaned of what raises resistance and lowers joint strength"),
    ("003:3", _P, "product: solder bumps with a solder layer of another composition"),
    ("003:4", _P, "product: cleaned solder bumps with a solder layer of another composition"),
    ("003:5", _P, "product: high-melting solder bumps with eutectic solder layers"),
    ("003:6", _P, "product: high-melting solder bumps with eutectic solder layers (of claim 4)"),
    ("003:7.1", _S, "metal bumps connected to the circuit pattern"),
    ("003:7.2", _S, "resin film sealing the spaces between bumps, thinner than the bumps"),
    ("003:7.3", _S, "clean the bump surfaces that project from the film"),
    ("003:8", _O, "remove what raises connection resistance and lowers joint strength"),
    ("003:9", _O, "activate the bump surfaces while cleaning"),
    ("003:10", _O, "remove resin film residue from the bumps"),
    ("003:11", _O, "remove oxides from the bump surfaces"),
    ("003:12", _O, "plasma cleaning"),
    ("003:13", _O, "inert-gas (Ar) sputter etching"),
    ("003:14", _O, "O2 plasma, then Ar sputter etching"),
    ("003:15", _O, "O2 plasma, then reducing-gas plasma"),
    ("003:16", _O, "laser cleaning"),
    ("003:17", _O, "cleaning under reduced pressure, inert gas or reducing gas"),
    ("003:18", _O, "a gas jet peels residue off and suction removes it"),
    ("003:19", _O, "solder bumps get a solder layer of another composition after cleaning"),
    ("003:20", _O, "high-melting solder bumps with eutectic solder layers"),
    ("003:21", _O, "eutectic layers by printing, plating or transfer"),
    ("003:22", _O, "done at wafer level"),
    ("003:23", _O, "dicing into chips"),
    ("003:24", _O, "flip-chip mounting of a chip on a board by its bumps"),
]

CLAIMS: dict[str, Claim] = {cid: Claim(cid, kind, summary) for cid, kind, summary in _CATALOGUE}


def claim(claim_id: str) -> Claim:
    """The claim `claim_id`, or a KeyError naming the documents' id forms."""
    try:
        return CLAIMS[claim_id]
    except KeyError:
        raise KeyError(
            f"no claim {claim_id!r}; ids look like 003:14, 001:1a, 000:c (documents "
            f"{', '.join(DOCUMENTS)})"
        ) from None
