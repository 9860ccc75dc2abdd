"""ASCII host links' spec binding: the wire form of every fact of a host-link tool's spec.

The family's rules (docs/protocols/conventions.md, "ASCII host links") as data: `HostLink` and
the `Host*` entries, which add each fact's wire form to the core spec entries, the number
grammar, the line limits and the refusals the family fixes, and what a page's tables show. The
driver base is `packline.drivers.families.ascii_host`; the simulated tools' side of the same
rules is `packline.sim_instruments.families.ascii_host`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any, ClassVar, cast

from ..specs.core import (
    RELOAD_DOC,
    Command,
    Interlock,
    Parameter,
    R,
    Range,
    Refusal,
    Reply,
    ReplyField,
    Setpoint,
    StatusVariable,
    ToolSpec,
    number_form,
)
from ..specs.pages import replies_table, table

#: Longest command line a tool takes, without its LF (or CR LF); a longer one is refused whole.
MAX_LINE_CHARS = 256
#: Longest reply line a tool sends, its LF included.
MAX_REPLY_BYTES = 2048
#: The text of the refusal of a compound line's command whose reply would not fit.
REPLY_TOO_LONG = "reply too long"
#: What a compound line's reply must have left for a command that is not a query to run: its
#: `OK` (with at most a short payload: a count, a selection) and the refusal of one after it.
ROOM_TO_CHANGE_BYTES = 64
#: Joins the commands of a compound line (`ILK?;STAT?`) and their replies; no payload has one.
COMPOUND_SEPARATOR = ";"


def is_query(command: str) -> bool:
    """Whether `command` (a command of a line, with its arguments) only reads: its word ends
    in `?`, the family's rule. A host may repeat it; a tool may refuse it for a reply that
    does not fit and change nothing."""
    return command.split(" ", 1)[0].endswith("?")


#: A reply field's value when the tool has none (nothing measured): `KERF=-`.
NO_VALUE = "-"

#: The number grammar of every argument: decimal, optional sign, no exponent, nan or inf.
DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
WHOLE = re.compile(r"[+-]?\d+")

#: The words of the family's standard queries and commands (a tool may name its own).
IDENTITY_QUERY = "IDN?"
STATUS_QUERY = "STAT?"
WAIT_QUERY = "WAIT?"
#: The longest a tool holds the reply to the wait query, s (its `<wait_s>` at most).
MAX_WAIT_S = 600.0
ALARM_RESET = "RST"
SAFE_STATE = "STOP"

#: The `STATE` tokens in which a tool takes a setup command or starts a job.
SETUP = ("IDLE",)
#: The `STATE` tokens in which a one-wafer tool gives its wafer back.
UNLOAD_STATES = ("IDLE", "FAULT")

#: When a tool answers its `UNKNOWN_COMMAND`, as its page's error table says.
UNKNOWN_COMMAND_WHEN = (
    "not a command of this page; a line too long; a compound line's command whose reply would "
    "not fit; the wait query in a compound line"
)

#: The refusals whose meaning the family fixes; each tool declares them with its own codes.
FAMILY_REFUSALS = (
    "UNKNOWN_COMMAND",
    "BAD_ARGUMENT",
    "OUT_OF_RANGE",
    "WRONG_STATE",
    "INTERLOCK_OPEN",
    "ALARM_ACTIVE",
)


# --------------------------------------------------------------------- the spec binding


def plain(value: float) -> str:
    """A number as a person writes it: `1000000`, `0.1`, `-100` (no exponent)."""
    return f"{value:f}".rstrip("0").rstrip(".")


@dataclass(frozen=True, kw_only=True)
class HostSetpoint(Setpoint):
    """A setpoint carried as an argument of a host-link command.

    `placeholder` is its argument in the command's syntax (`<force_gf>`); `label` names it in
    the tool's range refusal; on the wire it is `value * wire_scale` in `wire_unit` with
    `decimals` decimals (0: the tool takes whole numbers only). An `exclusive_minimum` range
    accepts values above its minimum, not the minimum itself.
    """

    placeholder: str
    label: str
    wire_unit: str
    wire_scale: float = 1.0
    decimals: int = 1
    exclusive_minimum: bool = False

    @property
    def wire_range(self) -> Range:
        """What the tool accepts, in wire units."""
        scale = self.wire_scale
        return Range(self.machine_range.minimum * scale, self.machine_range.maximum * scale)

    def wire_range_text(self) -> str:
        """The machine range as the page and the tool's refusals write it."""
        low, high = plain(self.wire_range.minimum), plain(self.wire_range.maximum)
        return f"({low}, {high}]" if self.exclusive_minimum else f"{low}-{high}"

    @property
    def lowest_accepted(self) -> float:
        """The least value (in the setpoint's unit) the tool takes: its minimum, or for an
        exclusive minimum the one a wire step (`decimals`) above it."""
        step = 10.0**-self.decimals / self.wire_scale if self.exclusive_minimum else 0.0
        return self.machine_range.minimum + step

    def accepts(self, wire_value: float) -> bool:
        """Whether the tool takes `wire_value` (in wire units)."""
        low, high = self.wire_range.minimum, self.wire_range.maximum
        above = wire_value > low if self.exclusive_minimum else wire_value >= low
        return above and wire_value <= high

    @property
    def form(self) -> str:
        """Its wire value's form, as a page gives a query's reply that reads it back
        (`<0.0>`: the decimals `encode` writes)."""
        return number_form(self.decimals)

    def encode(self, value: float) -> str:
        """`value` (in the setpoint's unit) as the driver sends it."""
        return f"{value * self.wire_scale:.{self.decimals}f}"

    def decode(self, word: str) -> float:
        """A wire word as a value in the setpoint's unit; ValueError when it breaks the grammar
        (not a decimal number, or a decimal where the tool takes whole numbers)."""
        grammar = WHOLE if self.decimals == 0 or self.integer else DECIMAL
        if not grammar.fullmatch(word):
            kind = "a whole number" if grammar is WHOLE else "a decimal number"
            raise ValueError(f"{self.label} {word!r} is not {kind}")
        return float(word) / self.wire_scale


@dataclass(frozen=True, kw_only=True)
class HostParameter(Parameter):
    """A command argument that is not a setpoint; `placeholder` is its form in the syntax."""

    placeholder: str


@dataclass(frozen=True, kw_only=True)
class HostCommand(Command):
    """A host-link command: `name` is its command word (or two, `SPINDLE OFF`).

    `reply` is its reply on success; `allowed_in` the `STATE` tokens it is accepted in (empty:
    always); `interlocks` those that must be closed; `preconditions` what it needs of what it
    works on, by name (`precondition`: the tool's own refusal, `NO_WAFER`, or a
    `HostPrecondition` of the host link's), whose refusal it answers, in the states it is
    accepted in, when that is missing or unusable (no wafer, a broken blade, a spindle not at
    speed), the first unmet in their order (one on the readiness of the motion it starts,
    the saw's spindle at speed, after its interlocks: conventions.md, error precedence), which
    the page's command table states beside the states; `query` the command that reads back
    what it sets, if any.
    """

    reply: str = "OK"
    preconditions: tuple[str, ...] = ()
    query: str = ""


@dataclass(frozen=True, kw_only=True)
class HostStatus(StatusVariable):
    """A status field: `key` of a `KEY=value` word of the status query, `decimals` as sent."""

    key: str
    decimals: int = 0


@dataclass(frozen=True, kw_only=True)
class HostInterlock(Interlock):
    """An interlock as the interlock query reports it: `KEY=0|1`, 1 closed."""

    key: str


@dataclass(frozen=True, kw_only=True)
class HostRefusal(Refusal):
    """An `ERR <code>` the tool answers; `name` says what it means (see `FAMILY_REFUSALS`).
    `words` are the tool's own, `ERR <code> <words>`, where it always words it alike and
    otherwise than `text`, which says when for the page (the saw's `NO_WORKPIECE`: `text` an
    empty chuck, `words` no workpiece is mounted); empty, `text` is its words too."""

    name: str
    words: str = ""


@dataclass(frozen=True, kw_only=True)
class HostPrecondition:
    """What a command needs that one of the family's refusals answers when it is missing (the
    saw's spindle at speed: `WRONG_STATE`), declared in `HostLink.preconditions`. A tool's own
    refusal (`NO_WAFER`) is the precondition of its own name (`precondition`).

    `name` is how `HostCommand.preconditions` name it; `refusal` the name of the refusal the
    tool answers; `unmet` what is wrong, as the command table says it after the refusal's code
    (`ERR 5` with the spindle not at speed); `words` the tool's words refusing it (`spindle is
    not at speed`), with `{field}`s the tool fills in (`{workpiece} is mounted`).
    """

    name: str
    refusal: str
    unmet: str
    words: str


def host_link_refusals(
    bad_argument: str, wrong_state: str, *own: HostRefusal
) -> tuple[HostRefusal, ...]:
    """A host-link tool's refusals numbered as the family's tools number them (1-6, worded
    alike), with what a bad argument and a wrong state are on this tool, then its `own` (7 and
    up)."""
    return (
        HostRefusal(
            code=1,
            name="UNKNOWN_COMMAND",
            text=UNKNOWN_COMMAND_WHEN,
        ),
        HostRefusal(code=2, name="BAD_ARGUMENT", text=bad_argument),
        HostRefusal(code=3, name="OUT_OF_RANGE", text="a setpoint outside the machine range"),
        HostRefusal(code=4, name="INTERLOCK_OPEN", text="an interlock the command needs is open"),
        HostRefusal(code=5, name="WRONG_STATE", text=wrong_state),
        HostRefusal(code=6, name="ALARM_ACTIVE", text="an alarm is latched; `RST` first"),
        *own,
    )


#: The wait query's arguments: the state the tool holds its reply in, and for how long.
WAIT_PARAMETERS = (
    HostParameter(
        name="while_state", placeholder="<state>", doc="a `STATE` token, the host's last seen"
    ),
    HostParameter(
        name="wait_s",
        placeholder="<wait_s>",
        doc=f"seconds the tool may hold the reply, a decimal above 0, at most {MAX_WAIT_S:g}",
    ),
)


def host_link_parameters(*own: HostParameter) -> tuple[HostParameter, ...]:
    """A host-link tool's parameters: those of the wait query every one answers
    (`WAIT_PARAMETERS`, see `host_link_queries`), then its `own`."""
    return (*WAIT_PARAMETERS, *own)


def wait_query(holder: str = "WAFER") -> HostCommand:
    """The family's bounded blocking wait: the status query's reply, held by the tool while
    its `STATE` is `<state>`, at most `<wait_s>` seconds (a spec that declares it lists
    `WAIT_PARAMETERS` among its parameters: `host_link_parameters`)."""
    return HostCommand(
        name=WAIT_QUERY,
        parameters=tuple(parameter.name for parameter in WAIT_PARAMETERS),
        reply=f"OK STATE=<s> {holder}=<id> …",
        doc="the status, once `STATE` is not `<state>` or `<wait_s>` s have passed",
    )


def host_link_queries(interlocks_reply: str, *, holder: str = "WAFER") -> tuple[HostCommand, ...]:
    """The queries every host-link tool answers alike: identity, status (whose second word
    names what the tool holds, `holder`), the wait for a change of it, latched alarms and its
    interlocks (`interlocks_reply`, e.g. `OK COVER=<0/1> EXHAUST=<0/1>`)."""
    return (
        HostCommand(
            name=IDENTITY_QUERY, reply="OK <vendor>,<model>,<serial>,<firmware>", doc="identity"
        ),
        HostCommand(
            name=STATUS_QUERY, reply=f"OK STATE=<s> {holder}=<id> …", doc="status, see below"
        ),
        wait_query(holder),
        HostCommand(name="ALM?", reply="OK NONE | OK <code>[,<code>…]", doc="latched alarms"),
        HostCommand(name="ILK?", reply=interlocks_reply, doc="interlocks"),
    )


def host_link_controls(safe_state_doc: str) -> tuple[HostCommand, HostCommand]:
    """The commands every host-link tool takes in any state: `STOP`, its safe state
    (`safe_state_doc` says what it does on the tool), and `RST`, which clears its alarms."""
    return (
        HostCommand(name=SAFE_STATE, doc=safe_state_doc),
        HostCommand(
            name=ALARM_RESET, doc="clears latched alarms; a persisting cause shows in `ILK?`"
        ),
    )


#: A wafer id argument, as the one-wafer tools that hold a wafer name it.
WAFER_PARAMETER = HostParameter(
    name="wafer", placeholder="<wafer>", doc="wafer id, 1-16 characters"
)


def one_wafer_transfer(
    interlock: str, load_doc: str, unload_doc: str
) -> tuple[HostCommand, HostCommand, HostCommand]:
    """How a one-wafer tool takes its wafer, `LOAD <wafer>` (idle, with `interlock` closed),
    or takes one back as a rework, `RELOAD <wafer>`, and gives it back, `UNLOAD <wafer>` (idle
    or in fault); the status query reads them back."""
    load = HostCommand(
        name="LOAD",
        parameters=("wafer",),
        allowed_in=SETUP,
        interlocks=(interlock,),
        query="STAT?",
        doc=load_doc,
    )
    return (
        load,
        replace(load, name="RELOAD", doc=f"`LOAD` as a rework: {RELOAD_DOC}"),
        HostCommand(
            name="UNLOAD",
            parameters=("wafer",),
            allowed_in=UNLOAD_STATES,
            query="STAT?",
            doc=unload_doc,
        ),
    )


def state_status(tokens: Iterable[str]) -> HostStatus:
    """The status word `STATE`: what the tool is doing, one of `tokens` (its role's states as
    the page names them, `IDLE` and `FAULT` among them)."""
    return HostStatus(key="STATE", name="state", doc=", ".join(f"`{token}`" for token in tokens))


def job_counters(job: str) -> tuple[HostStatus, HostStatus]:
    """The status words a job's wait reads (`HostLinkDriver.wait_job`): `LEFT`, the time left
    of the `job` under way, and `JOBS`, how many the tool completed since power-up."""
    return (
        HostStatus(
            key="LEFT", name="remaining_s", unit="s", decimals=1, doc=f"time left of the {job}"
        ),
        HostStatus(key="JOBS", name="jobs_completed", doc=f"{job}s completed since power-up"),
    )


@dataclass(frozen=True, kw_only=True)
class HostReplyField(ReplyField):
    """A `KEY=value` word of a query's reply (`RESULT?`): `key` on the wire, the rest of the
    field as `ReplyField` declares it (a token written by its value, a flag `1` or `0`, a
    value the tool has none of written `NO_VALUE`, `-`)."""

    key: str

    no_value: ClassVar[str] = NO_VALUE

    @property
    def placeholder(self) -> str:
        """The value's form in the reply's syntax (`HostReply.syntax`)."""
        if issubclass(self.kind, Enum):
            return "/".join(self.token(token) for token in self.kind)
        if self.kind is float:
            return number_form(self.decimals).strip("<>")
        if self.kind is bool:
            return "0/1"
        return "n" if self.kind is int else "text"


def _text_reader(field: HostReplyField) -> Callable[[str], Any]:
    """How a reply field's text reads as its status variable's value: a token as its text, a
    flag `1` as True (`bool("0")` would be True too), a number as its kind (the reader is the
    kind itself, `int`, `float` or `str`, for a field that always has a value); `NO_VALUE` of
    a field that may have none as None."""
    kind = field.kind
    read: Callable[[str], Any] = str if issubclass(kind, Enum) else kind
    if kind is bool:
        read = "1".__eq__
    if not field.absent_when:
        return read
    return lambda text: None if text == NO_VALUE else read(text)


#: The most keys a reply's syntax in a command table gives in full (`HostReply.syntax`); a
#: longer reply shows two fewer and `…`.
SYNTAX_KEYS = 6


@dataclass(frozen=True, kw_only=True)
class HostReply(Reply[R, HostReplyField]):
    """A `Reply` on the host link: `OK KEY=value …`, one word of each field's `key` in order;
    `OK NONE` while there is none (before the first cut), unless the tool always has one
    (`answers_none` False: the saw's blade), when `NONE` is garbled."""

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(field.key for field in self.fields)

    @property
    def syntax(self) -> str:
        """The reply as the page's command table gives it: `OK` and its first keys (all of a
        short reply; the page's replies table has every one) with the form of each value
        (`<n>`, `<0.00>` to its decimals, `<0/1>`, the tokens, `<text>`), `OK NONE |` before
        it where the tool may have no result."""
        shown = self.fields if len(self.fields) <= SYNTAX_KEYS else self.fields[: SYNTAX_KEYS - 2]
        words = ["OK", *(f"{field.key}=<{field.placeholder}>" for field in shown)]
        if len(shown) < len(self.fields):
            words.append("…")
        return f"OK NONE | {' '.join(words)}" if self.answers_none else " ".join(words)

    def render(self, result: R) -> str:
        """The reply's payload for `result`: every field as its `KEY=value` word, in order."""
        return " ".join(
            f"{field.key}={field.wire_form(getattr(result, field.name))}" for field in self.fields
        )

    @property
    def status_sources(self) -> dict[str, tuple[str, str, Callable[[str], Any]]]:
        """Each field's status variable on a GEM face that answers from the host link: the
        query, the field's key in its reply and how the value's text reads (`_text_reader`)."""
        return {
            self.gem_name(field): (self.query, field.key, _text_reader(field))
            for field in self.fields
            if not field.gem_constant
        }


def reply_query(
    reply: HostReply[Any], doc: str, *, preconditions: tuple[str, ...] = ()
) -> HostCommand:
    """The query that `reply` answers, as its command table gives it: its reply's syntax the
    declaration's (`HostReply.syntax`), so the table cannot say other keys than the tool's;
    `preconditions` as `HostCommand`'s."""
    return HostCommand(name=reply.query, reply=reply.syntax, preconditions=preconditions, doc=doc)


@dataclass(frozen=True, kw_only=True)
class HostLink:
    """What a tool's host link fixes beyond its entries (`ToolSpec.wire` of the family).

    The queries that every host-link tool has, the commands that clear alarms and command the
    safe state (the family's words unless the tool has its own), and how the tool words a value
    out of range (`{label} {value} {unit} outside {range}`, with or without the unit again).
    """

    identity_query: str = IDENTITY_QUERY
    status_query: str = STATUS_QUERY
    wait_query: str = WAIT_QUERY
    alarm_query: str = "ALM?"
    interlock_query: str = "ILK?"
    alarm_reset: str = ALARM_RESET
    safe_state: str = SAFE_STATE
    unit_after_range: bool = False
    #: the preconditions one of the family's refusals answers (`HostPrecondition`)
    preconditions: tuple[HostPrecondition, ...] = ()
    #: the queries whose reply is one of the role's results (`HostReply`)
    replies: tuple[HostReply[Any], ...] = ()

    def tables(self, spec: ToolSpec[HostLink]) -> dict[str, str]:
        """The page's command, status, interlock and error tables, and the replies' (`replies`)
        where the tool declares any."""
        tables = {
            "setpoints": table(
                ("setpoint", "argument", "the tool accepts", "driver's default limit", "meaning"),
                (
                    (
                        f"`{s.name}`",
                        f"`{s.placeholder}`",
                        " ".join(filter(None, (s.wire_range_text(), s.wire_unit))),
                        f"{plain(s.limit.minimum)}-{plain(s.limit.maximum)} {s.unit}",
                        s.meaning + (" (whole numbers)" if s.decimals == 0 else ""),
                    )
                    for s in host_setpoints(spec)
                ),
            ),
            "commands": table(
                ("command", "reply", "accepted in", "needs closed", "what it does"),
                (
                    (
                        f"`{syntax(spec, command)}`",
                        f"`{command.reply}`",
                        accepted_in(spec, command),
                        ", ".join(f"`{name}`" for name in command.interlocks),
                        command.doc,
                    )
                    for command in host_commands(spec)
                ),
            ),
            "status": table(
                ("key", "unit", "decimals", "value"),
                ((f"`{s.key}`", s.unit, s.decimals or "", s.doc) for s in host_status(spec)),
            ),
            "interlocks": table(
                ("key", "driver name", "closed (safe) when", "made", "needed by"),
                (
                    (
                        f"`{interlock.key}`",
                        f"`{interlock.name}`",
                        interlock.doc,
                        interlock.made.value,
                        ", ".join(
                            f"`{command.name}`"
                            for command in spec.commands
                            if interlock.name in command.interlocks
                        ),
                    )
                    for interlock in host_interlocks(spec)
                ),
            ),
            "refusals": table(
                ("code", "name", "when"),
                ((r.code, f"`{r.name}`", r.text) for r in host_refusals(spec)),
            ),
        }
        if self.replies:
            tables["replies"] = replies_table(self.replies, "key", lambda _, f: f"`{f.key}`")
        return tables

    def range_refusal(self, setpoint: HostSetpoint, word: str) -> str:
        """The tool's text refusing `word` (a number) for `setpoint`."""
        unit = setpoint.wire_unit
        value = " ".join(filter(None, (f"{float(word):g}", unit)))
        text = f"{setpoint.label} {value} outside {setpoint.wire_range_text()}"
        return f"{text} {unit}" if self.unit_after_range and unit else text


def encode(spec: ToolSpec[HostLink], setpoint: str, value: float) -> str:
    """`value` of the spec's `setpoint` in its wire form (no limit checked)."""
    entry = spec.setpoint_by_name[setpoint]
    assert isinstance(entry, HostSetpoint), f"{setpoint} is not bound to the host link"
    return entry.encode(value)


def render_status(spec: ToolSpec[HostLink], values: Mapping[str, object]) -> str:
    """The status query's payload: every status variable of the spec, by name in `values`, as
    `KEY=value` words in the spec's order (numbers with the spec's decimals)."""
    words = []
    for status in host_status(spec):
        value = values[status.name]
        text = f"{value:.{status.decimals}f}" if status.decimals else str(value)
        words.append(f"{status.key}={text}")
    return " ".join(words)


def host_setpoints(spec: ToolSpec[HostLink]) -> list[HostSetpoint]:
    return [setpoint for setpoint in spec.setpoints if isinstance(setpoint, HostSetpoint)]


def host_commands(spec: ToolSpec[HostLink]) -> list[HostCommand]:
    return [command for command in spec.commands if isinstance(command, HostCommand)]


def host_status(spec: ToolSpec[HostLink]) -> list[HostStatus]:
    return [status for status in spec.status if isinstance(status, HostStatus)]


def host_interlocks(spec: ToolSpec[HostLink]) -> list[HostInterlock]:
    return [interlock for interlock in spec.interlocks if isinstance(interlock, HostInterlock)]


def host_refusals(spec: ToolSpec[HostLink]) -> list[HostRefusal]:
    return [refusal for refusal in spec.refusals if isinstance(refusal, HostRefusal)]


def syntax(spec: ToolSpec[HostLink], command: Command) -> str:
    """A command with its arguments' placeholders: `PROG <mat> <wire_um> …`."""
    # check_host_spec saw every setpoint and parameter bound to the family.
    carried = cast(
        "dict[str, HostSetpoint | HostParameter]",
        {**spec.setpoint_by_name, **spec.parameter_by_name},
    )
    return " ".join([command.name, *(carried[name].placeholder for name in command.parameters)])


def accepted_in(spec: ToolSpec[HostLink], command: HostCommand) -> str:
    """When the tool takes `command`, as the command table says it: its states, then each
    precondition's refusal (`any state; `ERR 6` with no wafer on the chuck`)."""
    needs = [precondition(spec, name) for name in command.preconditions]
    return "; ".join(
        [
            ", ".join(command.allowed_in) or "any state",
            *(f"`ERR {refusal_code(spec, need.refusal)}` with {need.unmet}" for need in needs),
        ]
    )


def refusal_named(spec: ToolSpec[HostLink], name: str) -> HostRefusal:
    """The tool's refusal named `name` (one of `FAMILY_REFUSALS` or its own)."""
    for refusal in host_refusals(spec):
        if refusal.name == name:
            return refusal
    raise KeyError(f"spec {spec.kind} declares no refusal {name}")


def refusal_code(spec: ToolSpec[HostLink], name: str) -> int:
    """The tool's code of the refusal named `name` (one of `FAMILY_REFUSALS` or its own)."""
    return int(refusal_named(spec, name).code)


def precondition(spec: ToolSpec[HostLink], name: str) -> HostPrecondition:
    """The precondition `name` of the spec's commands (`HostCommand.preconditions`): one its
    host link declares (`HostLink.preconditions`), else the tool's own refusal of that name,
    what is unmet its `text` and the tool's words its `words` (or `text`); a KeyError when it
    is neither."""
    assert spec.wire is not None, f"spec {spec.kind} is not bound to the host link"
    for declared in spec.wire.preconditions:
        if declared.name == name:
            return declared
    refusal = refusal_named(spec, name)
    return HostPrecondition(
        name=name, refusal=name, unmet=refusal.text, words=refusal.words or refusal.text
    )


def check_host_spec(spec: ToolSpec[HostLink]) -> ToolSpec[HostLink]:
    """`spec`, once it is seen to be bound whole to the family (every entry a `Host*` one,
    every family refusal declared); a ValueError names what is not."""
    bindings = (
        (spec.setpoints, HostSetpoint),
        (spec.parameters, HostParameter),
        (spec.commands, HostCommand),
        (spec.status, HostStatus),
        (spec.interlocks, HostInterlock),
        (spec.refusals, HostRefusal),
    )
    plain = [
        entry for entries, kind in bindings for entry in entries if not isinstance(entry, kind)
    ]
    if plain or not isinstance(spec.wire, HostLink):
        raise ValueError(f"spec {spec.kind}: not bound to the ASCII host link: {plain}")
    for name in FAMILY_REFUSALS:
        refusal_code(spec, name)
    refusal_names = {refusal.name for refusal in host_refusals(spec)}
    for declared in spec.wire.preconditions:
        if declared.name in refusal_names or declared.refusal not in refusal_names:
            raise ValueError(
                f"spec {spec.kind}: precondition {declared.name} must be named apart from its "
                f"refusals and answered by one of them, not {declared.refusal}"
            )
    for host_command in host_commands(spec):
        for name in host_command.preconditions:
            try:
                precondition(spec, name)
            except KeyError:
                raise ValueError(
                    f"spec {spec.kind}: command {host_command.name} names the precondition "
                    f"{name}, which is none of its refusals nor of its host link's preconditions"
                ) from None
    if spec.wire.wait_query not in spec.command_by_name or not set(WAIT_PARAMETERS) <= set(
        spec.parameters
    ):
        raise ValueError(f"spec {spec.kind}: no wait query {syntax(spec, wait_query())}")
    for reply in spec.wire.replies:
        command = spec.command_by_name.get(reply.query)
        if not isinstance(command, HostCommand) or command.reply != reply.syntax:
            raise ValueError(
                f"spec {spec.kind}: the reply of {reply.query} is declared (`HostReply`) but its "
                "command does not give the declaration's syntax: declare it with reply_query"
            )
    return spec
