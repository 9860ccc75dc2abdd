"""The SCPI family (laser, grinder): its grammar and its spec binding, what both ends share.

Both sides of the wire import this module: the driver base (`drivers/families/scpi.py`), and
the simulated tools' wire side (`sim_instruments/families/scpi.py`). The rules are those of
SCPI-99 and IEEE 488.2, written down in `docs/protocols/conventions.md` (section *SCPI and
IEEE 488.2*):

* one header grammar: each node in its short form (the capitals) or its whole long form, any
  case, a bracketed node optional, the leading colon optional (`header_pattern`);
* one quoting rule: strings double-quoted, an inner quote doubled (`quote`, `unquote`);
* settings answer nothing; a refusal is queued, read back with `SYST:ERR?`, and the driver
  turns what the queue held into `CommandRefused` (`ScpiDriver.send`, in `scpi.py`).

A spec binds its entries to the command tree by subclassing them: a `ScpiSetpoint` carries
its header and wire scale, a `ScpiCommand` its header and forms, a `ScpiInterlock` the reason
the tool gives when it is open, a `ScpiPrecondition` the error it queues for a command its
state does not allow (`no wafer on the chuck`); `ScpiWire` holds the family's fixed headers and
renders the page's command and error tables.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from enum import Enum
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

from ..specs.core import (
    Command,
    Interlock,
    R,
    Range,
    Refusal,
    Reply,
    ReplyField,
    Setpoint,
    number_form,
)
from ..specs.pages import replies_table, table

if TYPE_CHECKING:
    from ..specs.core import ToolSpec

#: A value a mnemonic stands for (`mnemonic_value`).
T = TypeVar("T")


#: The standard SCPI error codes every packline SCPI tool queues (a tool adds positive codes of
#: its own, and declares the further standard ones it queues).
STANDARD_ERRORS = {
    0: "No error",
    -102: "Syntax error",
    -104: "Data type error",
    -108: "Parameter not allowed",
    -109: "Missing parameter",
    -113: "Undefined header",
    -221: "Settings conflict",
    -222: "Data out of range",
    -223: "Too much data",
    -224: "Illegal parameter value",
    -350: "Queue overflow",
}

#: Further standard SCPI errors (SCPI-99 21.8), queued only by a tool that declares when, in
#: its spec's refusals (`standard_refusals(Refusal(code, "when"))`): code -> message.
FURTHER_STANDARD_ERRORS = {
    -211: "Trigger ignored",
}

NO_ERROR = 0

#: Longest program message a SCPI tool takes, without its LF (and a CR before it): a longer
#: one is refused whole (-223), its bytes discarded up to the LF.
MAX_MESSAGE_CHARS = 4096

#: SCPI's not-a-number (SCPI-99 7.2.1.5): what a query answers when there is no valid value.
NOT_A_NUMBER = 9.91e37
#: How a tool writes it.
NOT_A_NUMBER_TEXT = f"{NOT_A_NUMBER:.2E}"

#: A reply column's entry for a line the tool does not answer.
NOTHING = "\N{EN DASH}"

#: What each standard error is for, as the family's pages say it (the `errors` table).
STANDARD_ERROR_USE = {
    0: "queue empty",
    -102: "a line that is not a header followed by parameters",
    -104: "a parameter of the wrong type: text where a number goes, `nan`/`inf`, a decimal "
    "where a whole number goes, an unquoted string",
    -108: "a parameter to a query or to a command that takes none, or too many",
    -109: "a parameter left out",
    -113: "an unknown header, or a setting sent as a query (or the reverse)",
    -221: "not allowed in the present state (the detail says why)",
    -222: "a number outside the tool's range",
    -223: f"a program message longer than {MAX_MESSAGE_CHARS} characters: none of it is executed",
    -224: "an unknown mnemonic or a malformed value",
    -350: "the queue was full: the newest entry is replaced by this one",
}

# --------------------------------------------------------------------- grammar


@cache  # a spec's few templates, asked for on every exchange (a status reply's mnemonics)
def short_form(template: str) -> str:
    """The SCPI short form of a header or mnemonic: optional nodes dropped, capitals kept."""
    required = re.sub(r"\[[^\]]*\]", "", template)
    return ":".join("".join(c for c in node if not c.islower()) for node in required.split(":"))


def _node_pattern(node: str) -> str:
    short = "".join(c for c in node if not c.islower())
    if short == node.upper():
        return re.escape(short)
    return f"(?:{re.escape(short)}|{re.escape(node.upper())})"


@cache  # a spec's few templates, matched on every exchange (each mnemonic of a status reply)
def header_pattern(template: str) -> re.Pattern[str]:
    """A regex that accepts a header (or mnemonic) in short or long form, any case.

    SCPI accepts exactly the short form (the capitals) or the whole long form of each node,
    nothing in between; a bracketed node may be left out (a later one `[:LEVel]`, or the root
    `[SOURce:]` of a power supply's tree); the leading colon is optional.
    """
    parts: list[str] = []
    colon = ":?"  # what goes before the next node: the leading colon is optional
    for match in re.finditer(r"\[:([^\]]*)\]|^\[([^\]:]+):\]|:?([^:\[]+)", template):
        optional, root, node = match.groups()
        if optional is not None:
            parts.append(f"(?::{_node_pattern(optional)})?")
        elif root is not None:  # `[SOURce:]CURRent`: the root node may be left out
            parts.append(f":?(?:{_node_pattern(root)}:)?")
            colon = ""
            continue
        elif node.startswith("*"):
            parts.append(re.escape(node.upper()))
        else:
            parts.append(colon + _node_pattern(node))
        colon = ":"
    return re.compile("^" + "".join(parts) + "$", re.IGNORECASE)


def matches(template: str, text: str) -> bool:
    """Whether `text` is `template` in its short or long form (case-insensitive)."""
    return header_pattern(template).match(text) is not None


def mnemonic_value(choices: Mapping[T, str], text: str) -> T | None:
    """The value whose mnemonic `text` is (`choices`: value -> mnemonic, `RUNNing`), in its
    short or long form, any case (`matches`); None where it is none of them. The one reading of
    a mnemonic: a driver's reply (`ScpiDriver.mnemonic`), a reply field's, a tool's parameter."""
    for value, mnemonic in choices.items():
        if matches(mnemonic, text):
            return value
    return None


def quote(text: str) -> str:
    """A SCPI string parameter: double-quoted, inner quotes doubled."""
    return '"' + text.replace('"', '""') + '"'


def unquote(text: str) -> str:
    """The value of a SCPI string; ValueError if it is not one."""
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise ValueError(f"{text!r} is not a double-quoted string")
    return text[1:-1].replace('""', '"')


def split_outside_quotes(text: str, separator: str) -> list[str]:
    """`text` split on `separator` outside double-quoted strings, each part stripped: the
    parameters of a unit (`,`) or the units of a compound message and of its reply (`;`)."""
    parts, current, quoted = [], "", False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == separator and not quoted:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    parts.append(current.strip())
    return parts


def format_number(value: float) -> str:
    """A number as the family writes it (SCPI NR1/NR2, no exponent for usual values)."""
    return format(value, ".10g")


# --------------------------------------------------------------------- spec binding


@dataclass(frozen=True, kw_only=True)
class ScpiSetpoint(Setpoint):
    """A setpoint sent with `header` (long form; None: a driver-side check, never sent).

    The wire value is the setpoint times `wire_scale`, in `wire_unit` (kHz sent as Hz).
    """

    header: str | None = None
    wire_scale: float = 1.0
    wire_unit: str = ""
    #: What the tool holds after power-on and `*RST` (in the setpoint's unit); None: unset.
    tool_default: float | None = None
    #: The step the tool takes a setting to, in the setpoint's unit (a dwell timed in whole
    #: ms: 0.001 s): a value between steps is taken to the nearest (`resolved`). None: the
    #: tool takes what it is sent, to the precision of its wire.
    resolution: float | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.resolution is not None and not self.resolution > 0:
            raise ValueError(f"setpoint {self.name}: resolution {self.resolution} is not above 0")

    def resolved(self, value: float, scale: float = 1.0, *, up: bool = False) -> float:
        """`value` as the tool takes it, to the nearest step of its `resolution` (a value
        halfway between two to the even one, as IEEE 754 rounds: 0.0025 s to 0.002 s), or
        with `up` to the step at or above it (a driver's dwell that must last at least so
        long); `value` and the step both times `scale`: the wire's, `wire_scale`, for a value
        as sent."""
        if self.resolution is None:
            return value
        step = self.resolution * scale
        # a quotient a float's noise puts past a whole number (4.001 / 0.001) is that number
        steps = round(value / step, 9)
        # 12 places: no 0.0030000000000000001
        return round((math.ceil(steps) if up else round(steps)) * step, 12)

    @property
    def meaning(self) -> str:
        if self.resolution is None:
            return self.doc
        return f"{self.doc} (taken to steps of {self.resolution:g} {self.unit})"

    @property
    def wire_range(self) -> Range:
        """What the tool accepts, in the wire's unit."""
        return Range(
            self.machine_range.minimum * self.wire_scale,
            self.machine_range.maximum * self.wire_scale,
        )

    @property
    def unit_on_wire(self) -> str:
        return self.wire_unit or self.unit

    def encode(self, value: float) -> str:
        """The setting line for `value` (in the setpoint's unit)."""
        assert self.header is not None, f"setpoint {self.name} is not sent to the tool"
        wire = value * self.wire_scale
        return f"{short_form(self.header)} {round(wire) if self.integer else format_number(wire)}"


Form = Literal["set", "query", "both"]

#: A field of a precondition's detail, `{atmosphere}`, which the tool fills in; the page
#: writes it `<atmosphere>`, as its syntax column writes parameters.
_DETAIL_FIELD = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True, kw_only=True)
class ScpiPrecondition:
    """What a command needs of the tool's state (a wafer on the chuck, no alarm latched), which
    the tool refuses it without: it queues `code` with `detail` after the message's `;`
    (`-221,"Settings conflict;no wafer on the chuck"`), the `{field}`s of the detail filled in
    (`words`: `atmosphere {atmosphere} not ready`). The declaration is the words' one
    statement: the tool refuses in them, a driver that checks the state before it sends says
    them too, and the page's command table gives them (`ScpiCommand.preconditions`). A code
    that is no error (0) or a standard one the family does not know is refused.

    A tool's own code (above 0) is an error the tool keeps for this precondition alone: it
    declares the error's `message` too (the grinder's `203,"No wafer on chuck"`), which the
    tool's refusal of the code states from it; its detail, if any, follows the message as a
    standard error's does (the grinder's `202,"Alarm active;GAUGE_FAULT"`, `{alarms}`). A
    standard code has the family's message and so declares none, and a detail to say why."""

    code: int
    detail: str = ""
    message: str = ""

    def __post_init__(self) -> None:
        known = {**STANDARD_ERRORS, **FURTHER_STANDARD_ERRORS}
        if self.code == NO_ERROR or (self.code < 0 and self.code not in known):
            raise ValueError(
                f"precondition {self.page_form}: code {self.code} is no refusal of the family "
                f"(a standard error of {sorted(set(known) - {NO_ERROR})}, or a tool's own, "
                "above 0)"
            )
        if self.code > 0 and not self.message:
            raise ValueError(
                f"precondition {self.page_form}: the tool's own code {self.code} declares its "
                "message, which the family does not know"
            )
        if self.code < 0 and (self.message or not self.detail):
            raise ValueError(
                f"precondition {self.page_form}: the standard code {self.code} has the "
                "family's message and needs a detail saying why, not a message of its own"
            )

    def words(self, **fields: object) -> str:
        """The refusal's words, what says why, its `{field}`s filled in from `fields`: a
        standard error's detail (its message, the family's, says nothing of the why), a tool's
        own error's message with any detail after `;`, as `SYST:ERR?` gives them."""
        return self.words_template.format(**fields)

    def queued(self, **fields: object) -> tuple[int, str]:
        """The code and the detail the tool queues refusing a command for this precondition
        (`{field}`s from `fields`): its detail, the message being the code's."""
        return self.code, self.detail.format(**fields)

    @property
    def page_form(self) -> str:
        """The refusal as the page's command table gives it: the code, then the words, their
        fields as placeholders (`-221 `atmosphere <atmosphere> not ready``)."""
        return self.page_form_of({})

    def page_form_of(self, fields: Mapping[str, str]) -> str:
        """`page_form` in the row of a command that fills in `fields` itself
        (`ScpiCommand.precondition_fields`): those given, the others placeholders."""
        words = _DETAIL_FIELD.sub(
            lambda match: fields.get(match[1], f"<{match[1]}>"), self.words_template
        )
        return f"{self.code} `{words}`"

    @property
    def words_template(self) -> str:
        """The words with their `{field}`s unfilled."""
        return ";".join(part for part in (self.message, self.detail) if part)


@dataclass(frozen=True, kw_only=True)
class ScpiCommand(Command):
    """A header of the command tree: its forms, its parameters as written, its reply.

    `overlapped`: an overlapped command (IEEE 488.2 12.5), which starts work that goes on
    after it returns (a job, a cycle): `*OPC?` and `*WAI` wait for that work to end, an
    alarm ending it too (`ScpiDriver.wait_operation`, docs/decisions/0041)."""

    header: str
    form: Form = "set"
    syntax: str = ""
    reply: str = NOTHING
    overlapped: bool = False
    #: What the tool's state must allow for it to be accepted, in the order the tool checks
    #: them (after its parameters, before the interlocks), each refused in its declared words
    #: (`ScpiPrecondition`).
    preconditions: tuple[ScpiPrecondition, ...] = ()
    #: The `{field}`s of its preconditions' words that are this command's own, the same
    #: whatever the state (the laser's `{setting}`, what a running job holds: `gas jet`),
    #: stated here once: the tool fills them in (`ScpiPrecondition.words`), the page's row
    #: gives them filled in (`own_fields`, with `{header}`).
    precondition_fields: Mapping[str, str] = dataclasses.field(default_factory=dict, hash=False)
    #: A number query's reply stated by its decimals (`reply_value` writes it so, the page's
    #: reply is its form, `<0.00000>`), where a hand-written example would state them again;
    #: None: `reply` says what the reply is.
    decimals: int | None = None

    def __post_init__(self) -> None:
        if self.decimals is None:
            return
        if self.reply != NOTHING or self.form != "query":
            raise ValueError(
                f"{self.header}: a query's reply declared by its decimals ({self.decimals}) is "
                f"written by them, not by hand (got form {self.form!r}, reply {self.reply!r})"
            )
        object.__setattr__(self, "reply", f"`{number_form(self.decimals)}`")

    def first_unmet(self, unmet_now: Mapping[ScpiPrecondition, bool]) -> ScpiPrecondition | None:
        """The first of the command's `preconditions`, in the order the tool checks them, that
        `unmet_now` says is unmet (by precondition: what the tool's state leaves unmet, as the
        simulated tool judges it or a driver reads it); None when every one is met. The one
        statement of the order's use, for the simulated tool's refusal (`first_unmet_refusal`)
        and a driver that judges the command before sending it (the GEM grinder). A declared
        precondition `unmet_now` does not judge is a ValueError naming it: the judge and the
        spec have drifted apart."""
        unjudged = [each.page_form for each in self.preconditions if each not in unmet_now]
        if unjudged:
            raise ValueError(
                f"{self.header}: the spec declares preconditions that are not judged: "
                f"{', '.join(unjudged)}"
            )
        return next((each for each in self.preconditions if unmet_now[each]), None)

    def reply_value(self, value: float) -> str:
        """`value` as the tool answers this number query: to its declared `decimals`."""
        if self.decimals is None:
            raise ValueError(f"{self.header}: its reply is not declared by its decimals")
        return f"{value:.{self.decimals}f}"

    def meaning(self, spec: ToolSpec[ScpiWire]) -> str:
        """The page's words for it: its doc, its preconditions' refusals (in the order the
        tool checks them), then the refusal of its `interlocks` open (the spec's interlock
        error, the open ones' words: `interlock_reasons`), and whether it is overlapped."""
        refusals = ", ".join(
            precondition.page_form_of(self.own_fields) for precondition in self.preconditions
        )
        order = ", checked in this order" if len(self.preconditions) > 1 else ""
        return (
            self.doc
            + (f"; refused{order}: {refusals}" if refusals else "")
            + self._interlocks_refused(spec)
            + ("; overlapped: `*OPC?` answers once it ends" if self.overlapped else "")
        )

    def _interlocks_refused(self, spec: ToolSpec[ScpiWire]) -> str:
        """How the page's row says the command is refused with its interlocks open, after its
        preconditions: the spec's interlock error, and the words of the open ones, `,`
        between them (`interlock_reasons`)."""
        if not self.interlocks:
            return ""
        code = scpi_wire(spec).interlock_error
        after = "then " if self.preconditions else ""
        if len(self.interlocks) == 1:
            words = interlock_reasons(spec, self.interlocks)
            return f"; {after}with its interlock open: {code} `{words}`"
        each = ", ".join(f"`{interlock_reasons(spec, [name])}`" for name in self.interlocks)
        return (
            f"; {after}with an interlock open: {code} naming the open ones, `,` between them "
            f"({each})"
        )

    @property
    def own_fields(self) -> dict[str, str]:
        """The `{field}`s of its preconditions' words the command fills in itself: `{header}`,
        its header's short form as the tool's error details name it (the grinder's `WAF:UNL
        not allowed while grinding`), then its `precondition_fields` (the laser's `{setting}`,
        what a running job holds that the command would change: `gas jet`)."""
        return {"header": self.short, **self.precondition_fields}

    @property
    def query(self) -> str:
        return short_form(self.header) + "?"

    @property
    def short(self) -> str:
        return short_form(self.header)


@dataclass(frozen=True, kw_only=True)
class ScpiReplyField(ReplyField):
    """A value of a SCPI reply whose values stand in order (`ScpiReply`), as `ReplyField`
    declares it: a token written as its member's name (a SCPI mnemonic, `COARSE`), a value the
    tool has none of as SCPI's not-a-number (`9.91E+37`: any number at or above it reads as
    none); with `shortest`, a float written as short as it goes (`4500`, `0.3`:
    `format_number`) rather than to `decimals`; a whole number read in any number form of
    the family (`read`: `3.0` is 3). `decimals_of` says what sets the decimals of a float the
    tool writes to a resolution of its own (the grinder's thickness: its gauge's step), the
    page's words for it; `decimals` are then the finest's, and `ScpiReply.render` takes the
    tool's by the field's name."""

    shortest: bool = False
    decimals_of: str = ""

    no_value: ClassVar[str] = NOT_A_NUMBER_TEXT

    def token(self, member: Enum) -> str:
        return member.name

    def number_text(self, value: float) -> str:
        return format_number(value) if self.shortest else super().number_text(value)

    def is_no_value(self, text: str) -> bool:
        if not self.absent_when:
            return False
        try:
            return float(text) >= NOT_A_NUMBER
        except ValueError:
            return False

    def read(self, text: str) -> Any:
        """As `ReplyField.read`, a whole number in any of SCPI's number forms (NRf: `3`, `3.0`,
        `3E+00`), as the family reads numbers (conventions.md): a tool may write a count as
        NR2 or NR3; one with a fraction is a ValueError."""
        if self.kind is not int or self.is_no_value(text):
            return super().read(text)
        try:
            number = float(text)
        except ValueError:
            raise ValueError("is not an integer") from None
        if not number.is_integer():
            raise ValueError("is not a whole number")
        return int(number)

    @property
    def kind_text(self) -> str:
        if self.kind is float and self.shortest:
            return "number, as short as it goes (`4500`, `0.3`)"
        if self.kind is float and self.decimals_of:
            return f"number, to the decimals of {self.decimals_of}"
        return super().kind_text


@dataclass(frozen=True, kw_only=True)
class MnemonicReplyField(ScpiReplyField):
    """A value of a SCPI reply that is one of the page's `mnemonics` (the role's value -> the
    long form, `RUNNing`), as a setting's is: written in its short form (`RUNN`), as every
    query answers a mnemonic, read in either form, any case (`mnemonic_value`); where the tool
    has none (`absent_when`) the word `NONE`, as the alarm query answers none, rather than
    not-a-number, which is a number's none (the laser's job replies)."""

    mnemonics: Mapping[Any, str]

    no_value: ClassVar[str] = "NONE"

    def token(self, member: Enum) -> str:
        return short_form(self.mnemonics[member])

    #: The word `NONE` itself, not a number at or above not-a-number (`ScpiReplyField`'s).
    is_no_value = ReplyField.is_no_value

    def read(self, text: str) -> Any:
        if self.is_no_value(text):
            return None
        member = mnemonic_value(self.mnemonics, text)
        if member is None:
            raise ValueError("is not on the protocol page")
        return member


@dataclass(frozen=True, kw_only=True)
class ScpiReply(Reply[R, ScpiReplyField]):
    """A `Reply` of a SCPI query: its fields' values in order, separated by commas
    (`COARSE,725.0,4500,…`); `query` is the query as the page writes it, its header in long
    form with the `?` (`GRINd:STATus?`): `reply_command` declares the command. The tool always
    has one (no `NONE`)."""

    answers_none: bool = False

    @property
    def header(self) -> str:
        return self.query.removesuffix("?")

    @property
    def syntax(self) -> str:
        """The reply as the page's command table gives it: each field's name in its place."""
        return ",".join(f"<{field.name}>" for field in self.fields)

    def render(self, result: R, **decimals: int) -> str:
        """The reply for `result`: each field's value as the tool writes it
        (`ReplyField.wire_form`), in order; `decimals` those of a field the tool writes to a
        resolution of its own (a gauge's step: its `decimals_of`), by its name (a ValueError
        for a field that declares none)."""
        if decimals:  # checked only when given: most replies render with none, on every query
            own = {field.name for field in self.fields if field.decimals_of}
            if unknown := sorted(set(decimals) - own):
                raise ValueError(
                    f"reply of {self.query}: no field {', '.join(unknown)} is written to "
                    f"decimals of its own (decimals_of); those that are: "
                    f"{', '.join(sorted(own)) or 'none'}"
                )
        return ",".join(
            (
                replace(field, decimals=decimals[field.name]) if field.name in decimals else field
            ).wire_form(getattr(result, field.name))
            for field in self.fields
        )

    def read(self, text: str) -> R:
        """The result `text` (the reply) writes; a ValueError saying which field is wrong and
        why, or how many fields it has where it should have others."""
        words = text.split(",")
        if len(words) != len(self.fields):
            raise ValueError(f"{len(words)} fields, not {len(self.fields)}")
        values = {}
        for position, (field, word) in enumerate(zip(self.fields, words, strict=True), 1):
            try:
                values[field.name] = field.read(word)
            except ValueError as why:
                raise ValueError(f"field {position}, {field.name}: {word!r} {why}") from None
        return self.result(**values)


def reply_command(reply: ScpiReply[Any], name: str, doc: str) -> ScpiCommand:
    """The query `name` that `reply` answers, as its command table gives it: its header and
    reply the declaration's (`ScpiReply.header`, `ScpiReply.syntax`)."""
    return ScpiCommand(
        name=name, header=reply.header, form="query", reply=f"`{reply.syntax}`", doc=doc
    )


@dataclass(frozen=True, kw_only=True)
class ScpiInterlock(Interlock):
    """An interlock, and the reason the tool gives when a command it guards is refused."""

    refusal: str


@dataclass(frozen=True, kw_only=True)
class ScpiWire:
    """The family's binding of a spec: its fixed headers, error queue and reply forms.

    `interlock_error` is the code an interlock refusal carries (detail: the open interlocks'
    reasons); `interlock_reply` says whether `SYST:INT?` answers bare flags in the spec's order
    (`1,0,1`) or `name=flag` pairs.
    """

    error_query: str = "SYSTem:ERRor[:NEXT]"
    alarm_query: str = "SYSTem:ALARm"
    alarm_clear: str = "SYSTem:ALARm:CLEar"
    interlock_query: str = "SYSTem:INTerlock"
    abort: str = "ABORt"
    interlock_error: int
    interlock_reply: Literal["flags", "named"]
    no_alarm: str = "NONE"
    queue_depth: int = 10
    #: the queries whose reply is one of the role's results (`ScpiReply`)
    replies: tuple[ScpiReply[Any], ...] = ()

    def tables(self, spec: ToolSpec[ScpiWire]) -> dict[str, str]:
        """The page's `commands` table (every header) and `errors` table, and the replies'
        (`replies`, each field by its place) where the tool declares any."""
        commands = [c for c in spec.commands if isinstance(c, ScpiCommand)]
        # one header may carry several setpoints (the laser's fluence when drilling and when
        # cleaning): each range of the header is stated once, with its tool default if any
        ranges: dict[str, dict[str, str]] = {}
        for entry in spec.setpoints:
            if isinstance(entry, ScpiSetpoint) and entry.header:
                span = f"{entry.wire_range} {entry.unit_on_wire}"
                texts = ranges.setdefault(entry.header, {})
                if entry.tool_default is not None:
                    texts[span] = f"{span} (default {entry.tool_default * entry.wire_scale:g})"
                else:
                    texts.setdefault(span, span)

        def forms(command: ScpiCommand) -> str:
            setting = f"`{command.header} {command.syntax}`".replace(" `", "`")
            query = f"`{command.header}?`"
            return {"set": setting, "query": query, "both": f"{setting} / `?`"}[command.form]

        tables = {
            "common": table(
                ("command", "reply", "meaning"),
                [
                    *COMMON_COMMANDS,
                    (
                        f"`{self.error_query}?`",
                        '`code,"text"`',
                        "oldest queued error of this "
                        'connection, removed by the read; `0,"No error"` when none',
                    ),
                    (
                        f"`{self.alarm_query}?`",
                        f"`{self.no_alarm}` or `CODE[,CODE…]`",
                        "active (latched) alarms, alphabetical, see *Alarms*",
                    ),
                    (
                        f"`{self.alarm_clear}`",
                        NOTHING,
                        "clear latched alarms; a cause that persists raises its alarm again",
                    ),
                    (
                        f"`{self.interlock_query}?`",
                        _INTERLOCK_REPLY[self.interlock_reply](spec),
                        "every interlock, 1 = closed (safe), see *Interlocks*",
                    ),
                    (f"`{self.abort}`", NOTHING, "**safe state**, always accepted"),
                ],
            ),
            "commands": table(
                ("command", "reply", "tool range", "meaning"),
                (
                    (
                        forms(c),
                        c.reply,
                        " / ".join(ranges.get(c.header, {}).values()),
                        c.meaning(spec),
                    )
                    for c in commands
                ),
            ),
            "refusals": table(
                ("code", "message", "when"),
                ((r.code, _message(spec, r), _when(r)) for r in spec.refusals),
            ),
        }
        if self.replies:
            tables["replies"] = replies_table(self.replies, "#", lambda index, _: index + 1)
        return tables


#: The IEEE 488.2 mandatory common commands, as every SCPI tool of the family answers them.
COMMON_COMMANDS = (
    ("`*IDN?`", "`vendor,model,serial,firmware`", "identity"),
    ("`*RST`", NOTHING, "`ABOR`, then every setting to its default; alarms and error queues stay"),
    ("`*CLS`", NOTHING, "clear this connection's error queue and event status register"),
    ("`*ESE <n>` / `?`", "`0`-`255`", "event status enable register (which ESR bits set ESB)"),
    (
        "`*ESR?`",
        "`0`-`255`",
        "event status register, cleared by the read: bit 0 operation "
        "complete, 2 query error, 3 device-dependent error, 4 execution error, 5 command error, "
        "7 power on",
    ),
    (
        "`*OPC`",
        NOTHING,
        "sets ESR bit 0 once every earlier line is done: at once, or when the overlapped "
        "command under way ends",
    ),
    (
        "`*OPC?`",
        "`1`",
        "answered once every earlier line is done: at once, or held until the overlapped "
        "command under way (the commands table says which are) ends, an alarm ending it too",
    ),
    ("`*SRE <n>` / `?`", "`0`-`255`", "service request enable register (bit 6 is ignored)"),
    (
        "`*STB?`",
        "`0`-`255`",
        "status byte: bit 2 error queue not empty, bit 5 ESB (ESR & ESE "
        "not 0), bit 6 MSS (STB & SRE not 0)",
    ),
    ("`*TST?`", "`0`", "self-test passed"),
    (
        "`*WAI`",
        NOTHING,
        "the next line waits until every earlier line is done (as `*OPC?`, without a reply)",
    ),
)

_INTERLOCK_REPLY: dict[str, Callable[[ToolSpec[ScpiWire]], str]] = {
    "flags": lambda spec: "`" + ",".join("0|1" for _ in spec.interlocks) + "`",
    "named": lambda spec: "`" + ",".join(f"{i.name}=0|1" for i in spec.interlocks) + "`",
}


def _when(refusal: Refusal) -> str:
    """When a refusal is queued (a tool's own refusal is written `Message: when`)."""
    return refusal.text.split(": ", 1)[1] if int(refusal.code) > 0 else refusal.text


def _message(spec: ToolSpec[ScpiWire], refusal: Refusal) -> str:
    return error_messages(spec)[int(refusal.code)]


def error_messages(spec: ToolSpec[ScpiWire]) -> dict[int, str]:
    """Code -> message of every error the tool queues: the standard ones, the further standard
    ones it declares, and its own."""
    declared = {int(r.code) for r in spec.refusals}
    further = {code: text for code, text in FURTHER_STANDARD_ERRORS.items() if code in declared}
    own = {int(r.code): r.text.split(":")[0] for r in spec.refusals if int(r.code) > 0}
    return {**STANDARD_ERRORS, **further, **own}


def standard_refusals(*extra: Refusal) -> tuple[Refusal, ...]:
    """The family's refusals (every standard error and when it is queued) with the further
    standard ones a tool queues, in the order of their codes, then the tool's own.

    A further standard error (`FURTHER_STANDARD_ERRORS`) is declared with when it is queued, its
    message the family's; a tool's own refusal is written `Message: when`, the message being what
    `SYST:ERR?` says. A negative code the family does not know is refused.
    """
    further = {int(r.code): r.text for r in extra if int(r.code) <= 0}
    unknown = sorted(set(further) - set(FURTHER_STANDARD_ERRORS))
    if unknown:
        raise ValueError(
            f"standard SCPI error codes {unknown} are not in the family's table "
            f"FURTHER_STANDARD_ERRORS ({sorted(FURTHER_STANDARD_ERRORS)})"
        )
    standard = sorted({**STANDARD_ERROR_USE, **further}.items(), key=lambda entry: -entry[0])
    return (
        *(Refusal(code=code, text=text) for code, text in standard),
        *(refusal for refusal in extra if int(refusal.code) > 0),
    )


def scpi_wire(spec: ToolSpec[ScpiWire]) -> ScpiWire:
    wire = spec.wire
    assert isinstance(wire, ScpiWire), f"spec {spec.kind} is not bound to the SCPI family"
    return wire


def command(spec: ToolSpec[ScpiWire], name: str) -> ScpiCommand:
    """The spec's command `name`, as the SCPI command it is bound to."""
    entry = spec.command_by_name[name]
    assert isinstance(entry, ScpiCommand), f"{spec.kind}: command {name} has no SCPI header"
    return entry


def setpoint(spec: ToolSpec[ScpiWire], name: str) -> ScpiSetpoint:
    """The spec's setpoint `name`, as the SCPI setpoint it is bound to."""
    entry = spec.setpoint_by_name[name]
    assert isinstance(entry, ScpiSetpoint), f"{spec.kind}: setpoint {name} has no SCPI binding"
    return entry


def interlock_reasons(spec: ToolSpec[ScpiWire], names: Iterable[str]) -> str:
    """The detail of an interlock refusal: the reasons of the named open interlocks."""
    by_name = spec.interlock_by_name
    return ",".join(
        entry.refusal if isinstance(entry := by_name[name], ScpiInterlock) else name
        for name in names
    )
