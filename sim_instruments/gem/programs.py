"""The process programs a host keeps on the simulated GEM equipment (E30 4.6, stream 7).

The host stores a program's body under its PPID (S7F3), reads it back (S7F5), deletes some or
all (S7F17) and lists them (S7F19). Bodies are kept as they came, text or binary (unformatted
process programs; formatted ones, S7F23/S7F25, are not implemented).
"""

from __future__ import annotations

from packline.drivers.secs.items import A, B, Format, Item, L

from .bodies import list_of, scalar


class ProcessPrograms:
    """The programs by PPID, and the answers to stream 7's requests."""

    def __init__(self) -> None:
        self.bodies: dict[str, bytes | str] = {}

    def store(self, body: Item | None) -> Item:
        """S7F3 in, its ACKC7 out (5: a body neither text nor binary)."""
        ppid, ppbody = list_of(body, 2)
        if ppbody.format not in (Format.A, Format.B):
            return B(b"\x05")
        self.bodies[str(scalar(ppid))] = ppbody.value  # type: ignore[assignment]
        return B(b"\x00")

    def send(self, body: Item | None) -> Item:
        """S7F5 in, S7F6 out: the PPID and its body, or an empty list for an unknown one."""
        ppid = str(scalar(body))
        program = self.bodies.get(ppid)
        if program is None:
            return L()
        return L(A(ppid), B(program) if isinstance(program, bytes) else A(program))

    def delete(self, body: Item | None) -> Item:
        """S7F17 in (no PPID: every program), its ACKC7 out (4: a PPID not found)."""
        ppids = [str(scalar(ppid)) for ppid in list_of(body)]
        if any(ppid not in self.bodies for ppid in ppids):
            return B(b"\x04")
        for ppid in ppids or list(self.bodies):
            del self.bodies[ppid]
        return B(b"\x00")

    def listing(self) -> Item:
        """S7F20: every PPID held."""
        return L(*(A(ppid) for ppid in self.bodies))
