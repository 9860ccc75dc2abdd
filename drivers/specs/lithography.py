"""The litho cell's contract on its ASCII host link (docs/protocols/lithography.md).

Read by the driver (`drivers/lithography.py`), the simulated cell, the page's tables and the
spec tests; the byte-level tests restate it on purpose, as the independent oracle. Every
command word is a GEM remote command in waiting (its parameters named by the spec's setpoint
and parameter names), every status key a status variable, every alarm code an alarm: the
page's "SECS/GEM" section says how a GEM binding of this spec maps them.
"""

from __future__ import annotations

from ..families.ascii_host_wire import (
    SETUP,
    WAFER_PARAMETER,
    HostCommand,
    HostInterlock,
    HostLink,
    HostParameter,
    HostRefusal,
    HostReply,
    HostReplyField,
    HostSetpoint,
    HostStatus,
    host_link_controls,
    host_link_parameters,
    host_link_queries,
    host_link_refusals,
    job_counters,
    one_wafer_transfer,
    reply_query,
    state_status,
)
from ..roles.lithography import (
    MATERIALS,
    CoatMaterial,
    Feature,
    Film,
    FilmLayer,
    PatternReport,
    Reticle,
    Tone,
    TrackState,
)
from .core import Alarm, ExpectedIdentity, Made, Range, ToolSpec

SPIN_INTERLOCKS = ("cover_closed", "cup_exhaust", "wafer_vacuum")
BAKE_INTERLOCKS = ("cover_closed",)
EXPOSE_INTERLOCKS = ("cover_closed", "wafer_vacuum", "lamp_ready")

#: `RETICLE?`: the reticle on the stage (a line's end pad 0 when it has none; the trace length
#: 0 but for a line), um.
RETICLE_REPLY = HostReply(
    query="RETICLE?",
    result=Reticle,
    fields=(
        HostReplyField(key="NAME", name="name"),
        HostReplyField(key="FEATURE", name="feature", kind=Feature),
        HostReplyField(key="SIZE", name="size_um", kind=float),
        HostReplyField(key="SPACE", name="space_um", kind=float),
        HostReplyField(key="PAD", name="pad_um", kind=float),
        HostReplyField(key="LENGTH", name="trace_length_um", kind=float),
    ),
)
#: `FILM?`: the film on the loaded wafer, from the thickness gauge and the cell's log (`E0` the
#: dose that clears it in the material's nominal develop, `DEVNOM`); `NONE` with no wafer or a
#: bare one.
FILM_REPLY = HostReply(
    query="FILM?",
    result=Film,
    fields=(
        HostReplyField(key="MAT", name="material", kind=CoatMaterial),
        HostReplyField(key="TONE", name="tone", kind=Tone),
        HostReplyField(key="LAYER", name="layer", kind=FilmLayer),
        HostReplyField(key="THICK", name="thickness_um", kind=float, decimals=2),
        HostReplyField(key="SOLVENT", name="residual_solvent_percent", kind=float),
        HostReplyField(key="E0", name="clearing_dose_mj_cm2", kind=float),
        HostReplyField(key="DEVNOM", name="nominal_develop_s", kind=float),
        HostReplyField(key="DOSE", name="dose_mj_cm2", kind=float),
        HostReplyField(key="DEVELOPED", name="developed", kind=bool),
    ),
)
#: `PATTERN?`: the metrology of the last develop over the reticle's sites (um); `NONE` before.
PATTERN_REPLY = HostReply(
    query="PATTERN?",
    result=PatternReport,
    fields=(
        HostReplyField(key="MASK", name="mask"),
        HostReplyField(key="SITES", name="sites", kind=int),
        HostReplyField(key="CLEARED", name="cleared", kind=int),
        HostReplyField(key="DEPTH", name="depth_um", kind=float, decimals=2),
        HostReplyField(key="RESIDUAL", name="residual_um", kind=float, decimals=2),
        HostReplyField(key="CD", name="cd_um", kind=float, decimals=2),
        HostReplyField(key="BRIDGED", name="bridged", kind=int),
        HostReplyField(key="CLOSED", name="closed", kind=int),
    ),
)

SPEC: ToolSpec[HostLink] = ToolSpec(
    kind="lithography",
    role="lithography",
    family="ascii_host",
    identity=ExpectedIdentity(vendor="packline", model="LC-1", firmware="1.0"),
    doc="litho cell (coat/develop track with an inline i-line stepper) on a TCP host link",
    setpoints=(
        HostSetpoint(
            name="spin_rpm",
            unit="rpm",
            machine_range=Range(100, 8000),
            process_limit=Range(500, 6000),
            integer=True,
            placeholder="<rpm>",
            label="spin speed",
            wire_unit="rpm",
            decimals=0,
            doc="coat spin speed (est window)",
        ),
        HostSetpoint(
            name="spin_time_s",
            unit="s",
            machine_range=Range(1, 300),
            process_limit=Range(10, 120),
            placeholder="<spin_s>",
            label="spin time",
            wire_unit="s",
            doc="time at the spin speed (est window)",
        ),
        HostSetpoint(
            name="bake_temperature_c",
            unit="degC",
            machine_range=Range(20, 250),
            process_limit=Range(60, 150),
            placeholder="<degC>",
            label="hotplate temperature",
            wire_unit="degC",
            doc="soft-bake hotplate temperature (est window)",
        ),
        HostSetpoint(
            name="bake_time_s",
            unit="s",
            machine_range=Range(1, 1800),
            process_limit=Range(30, 600),
            placeholder="<bake_s>",
            label="bake time",
            wire_unit="s",
            doc="time on the hotplate once at temperature (est window)",
        ),
        HostSetpoint(
            name="dose_mj_cm2",
            unit="mJ/cm2",
            machine_range=Range(1, 5000),
            process_limit=Range(10, 3000),
            placeholder="<mJ/cm2>",
            label="dose",
            wire_unit="mJ/cm2",
            doc="exposure dose at the wafer, every die (est window)",
        ),
        HostSetpoint(
            name="develop_time_s",
            unit="s",
            machine_range=Range(1, 900),
            process_limit=Range(10, 300),
            placeholder="<dev_s>",
            label="develop time",
            wire_unit="s",
            doc="puddle time in the developer (est window)",
        ),
    ),
    parameters=host_link_parameters(
        WAFER_PARAMETER,
        HostParameter(
            name="material",
            placeholder="<mat>",
            doc="a dispense line: "
            + ", ".join(
                f"`{m.value}` ({f.tone.value}, {f.layer.value}, {f.viscosity_cp:g} cP)"
                for m, f in MATERIALS.items()
            ),
        ),
        HostParameter(name="mask", placeholder="<mask>", doc="a reticle of the library (`MASKS?`)"),
        HostParameter(
            name="tone", placeholder="<tone>", doc=" or ".join(f"`{t.value}`" for t in Tone)
        ),
    ),
    status=(
        state_status(TrackState),
        HostStatus(key="WAFER", name="wafer_id", doc="wafer in the cell, `-` when none"),
        HostStatus(
            key="SPIN", name="spin_rpm", unit="rpm", trace="spin_speed", doc="spin chuck speed"
        ),
        HostStatus(
            key="HOTPLATE",
            name="hotplate_c",
            unit="degC",
            decimals=1,
            trace="hotplate_temperature",
            doc="hotplate temperature",
        ),
        HostStatus(
            key="SHOT",
            name="shots_done",
            unit="shots",
            trace="shots_done",
            doc="dies exposed by the present (or last) exposure",
        ),
        HostStatus(key="SHOTS", name="shots_total", unit="shots", doc="dies of that exposure"),
        *job_counters("job"),
    ),
    commands=(
        *host_link_queries("OK COVER=<0/1> EXHAUST=<0/1> VACUUM=<0/1> LAMP=<0/1>"),
        *one_wafer_transfer(
            "cover_closed",
            "takes the wafer from the carrier onto the spin chuck (vacuum on)",
            "returns the loaded wafer to the carrier",
        ),
        HostCommand(
            name="COAT",
            parameters=("material", "spin_rpm", "spin_time_s"),
            allowed_in=SETUP,
            interlocks=SPIN_INTERLOCKS,
            query="FILM?",
            doc="dispenses, spins, removes the edge bead (not on resist, nor on an undeveloped "
            "film)",
        ),
        HostCommand(
            name="BAKE",
            parameters=("bake_temperature_c", "bake_time_s"),
            allowed_in=SETUP,
            interlocks=BAKE_INTERLOCKS,
            query="FILM?",
            doc="soft-bakes the film on the hotplate (ramps to temperature first)",
        ),
        HostCommand(name="MASKS?", reply="OK <mask>[,<mask>…]", doc="the reticle library"),
        HostCommand(
            name="RETICLE",
            parameters=("mask",),
            allowed_in=SETUP,
            query="RETICLE?",
            doc="puts a reticle of the library on the stage",
        ),
        reply_query(
            RETICLE_REPLY,
            "the reticle on the stage: a line's end pad (0: none) and trace length (0 but "
            "for a line)",
        ),
        HostCommand(
            name="EXPOSE",
            parameters=("dose_mj_cm2",),
            allowed_in=SETUP,
            interlocks=EXPOSE_INTERLOCKS,
            query="FILM?",
            doc="aligns, then exposes every die through the reticle (an undeveloped film and "
            "a reticle needed)",
        ),
        HostCommand(
            name="DEVELOP",
            parameters=("tone", "develop_time_s"),
            allowed_in=SETUP,
            interlocks=SPIN_INTERLOCKS,
            query="PATTERN?",
            doc="puddle-develops with the tone's developer, rinses, spins dry (an exposed film "
            "of that tone needed)",
        ),
        reply_query(FILM_REPLY, "the film on the loaded wafer"),
        reply_query(PATTERN_REPLY, "metrology of the last develop"),
        *host_link_controls(
            "the safe state: ends a job, stops the spin, closes the shutter, hotplate lift pins up"
        ),
    ),
    alarms=(
        Alarm(code="DISPENSE_FAILED", text="no resist flow at the nozzle; the coat is scrapped"),
        Alarm(code="LAMP_FAILURE", text="exposure lamp out; the dies exposed so far are kept"),
        Alarm(code="COVER_OPENED", text="cover opened during a job"),
        Alarm(code="EXHAUST_LOST", text="cup exhaust lost while spinning"),
        Alarm(code="VACUUM_LOST", text="chuck vacuum lost: the wafer is no longer held"),
    ),
    interlocks=(
        HostInterlock(
            key="COVER", name="cover_closed", made=Made.STEP, doc="the cell's covers are shut"
        ),
        HostInterlock(
            key="EXHAUST", name="cup_exhaust", made=Made.SUPPLY, doc="the spin cup exhaust flows"
        ),
        HostInterlock(
            key="VACUUM",
            name="wafer_vacuum",
            made=Made.STEP,
            doc="a wafer is on the chuck and held",
        ),
        HostInterlock(
            key="LAMP",
            name="lamp_ready",
            made=Made.SETUP,
            doc="the exposure lamp is lit and stable",
        ),
    ),
    refusals=host_link_refusals(
        "wrong number of arguments, not a number, a decimal for a whole number, "
        "bad wafer id, unknown material, mask or tone",
        "not allowed while a job runs; a wafer already loaded; a wafer the cell "
        "processed last, by `LOAD` (`RELOAD` takes it as a rework)",
        HostRefusal(code=7, name="NO_WAFER", text="no wafer in the cell, or not the one named"),
        HostRefusal(
            code=8,
            name="FILM_STATE",
            text="the film does not allow it: `COAT` on an undeveloped film, `BAKE`/`EXPOSE` "
            "without a film or on a developed one, `DEVELOP` before an exposure",
        ),
        HostRefusal(code=9, name="NO_RETICLE", text="`EXPOSE` with no reticle on the stage"),
        HostRefusal(code=10, name="WRONG_TONE", text="`DEVELOP` with the other tone's developer"),
    ),
    wire=HostLink(replies=(RETICLE_REPLY, FILM_REPLY, PATTERN_REPLY)),
)
