"""SECS-II messages (SEMI E5): stream, function, W-bit and body, and their SML text.

A message is named by its stream and function (`S1F3`): odd functions are primary messages,
even ones their replies, function 0 aborts a transaction. The W-bit says the sender waits for a
reply; only a primary message may carry it. SML (the SECS Message Language of the tool
vendors' manuals) is how messages are written for people: the wire log, error messages and the
protocol page all use it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .items import Format, Item

#: What the stream 9 error messages (E5 section 10.11) say; each carries the header of the
#: message it complains about.
S9_ERRORS: dict[int, str] = {
    1: "unrecognized device id",
    3: "unrecognized stream",
    5: "unrecognized function",
    7: "illegal data",
    9: "transaction timer timeout",
    11: "data too long",
    13: "conversation timeout",
}


@dataclass(frozen=True, slots=True)
class SecsMessage:
    """One SECS-II message: `S{stream}F{function}`, its W-bit and its body (None: header only)."""

    stream: int
    function: int
    body: Item | None = None
    reply_expected: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.stream, bool) or not isinstance(self.stream, int):
            raise ValueError(f"stream must be an integer 0..127, got {self.stream!r}")
        if isinstance(self.function, bool) or not isinstance(self.function, int):
            raise ValueError(f"function must be an integer 0..255, got {self.function!r}")
        if not 0 <= self.stream <= 127:
            raise ValueError(f"stream must be 0..127, got {self.stream}")
        if not 0 <= self.function <= 255:
            raise ValueError(f"function must be 0..255, got {self.function}")
        if self.body is not None and not isinstance(self.body, Item):
            raise ValueError(f"{self.name}: the body must be an Item or None, got {self.body!r}")
        if self.reply_expected and not self.is_primary:
            raise ValueError(f"{self.name}: only a primary (odd) function can expect a reply")

    @property
    def name(self) -> str:
        """`S1F3`."""
        return f"S{self.stream}F{self.function}"

    @property
    def is_primary(self) -> bool:
        """Odd functions open a transaction; even ones (and 0, abort) answer one."""
        return self.function % 2 == 1

    def sml(self) -> str:
        """The message in SML: `S1F3 W`, the body, and the closing period."""
        head = f"{self.name}{' W' if self.reply_expected else ''}"
        if self.body is None:
            return f"{head} ."
        return f"{head}\n{sml(self.body)} ."


def _text_sml(text: str) -> str:
    """Printable runs in quotes, other characters as hex bytes: `"OK" 0x0D`."""
    parts: list[str] = []
    run: list[str] = []
    for char in text:
        if char.isprintable() and char != '"':
            run.append(char)
            continue
        if run:
            parts.append('"' + "".join(run) + '"')
            run = []
        parts.append(f"0x{ord(char):02X}")
    if run:
        parts.append('"' + "".join(run) + '"')
    return " ".join(parts)


def sml(item: Item, indent: int = 0) -> str:
    """`item` in SML, lists indented two spaces a level: `<L [2]`, `<U4 1001>`, `<A "ok">`."""
    pad = "  " * indent
    fmt = item.format
    if fmt is Format.L:
        if not item.value:
            return f"{pad}<L [0]>"
        children = "\n".join(sml(child, indent + 1) for child in item.value)  # type: ignore[arg-type]
        return f"{pad}<L [{len(item.value)}]\n{children}\n{pad}>"
    if fmt in (Format.A, Format.J):
        text = _text_sml(item.value)  # type: ignore[arg-type]
    elif fmt is Format.B:
        text = " ".join(f"0x{byte:02X}" for byte in item.value)
    elif fmt is Format.BOOLEAN:
        text = " ".join("TRUE" if value else "FALSE" for value in item.value)
    else:
        text = " ".join(repr(value) for value in item.value)
    return f"{pad}<{fmt.name}{' ' if text else ''}{text}>"
