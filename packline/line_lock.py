"""One controller a tool: a run on a station and the station tests take the tools they drive.

A run on a station (real tools, or a line `packline sim serve` serves) and the
hardware-in-the-loop station tests (`pytest --station=FILE`) both command tools: the tests
command each tool's safe state and run a dry job on it. Two controllers on one tool cross
their commands and replies (issue 15: station tests started beside a run held 6 of its 8
wafers). So each takes every tool it will drive before it contacts any, and is refused,
changing nothing, while another holds one: `LineBusy` names the holder and how to stop it.

A tool is taken by its address (each address of a tool of several devices, a device path with
its links resolved): an exclusive `flock` on a file named after it in the lock directory,
`$PACKLINE_LOCK_DIR`, else `packline-lines` in the system's temporary directory, one for every
user of the controller. The file holds who took it (`Holder`, as JSON). The lock is the
process's: it goes when the process ends however it ends (a killed run leaves no stale lock),
and a file left behind is no lock. A tool driven from another computer is out of its reach.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import socket
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from packline.drivers.errors import PacklineError
from packline.station import Station

#: The environment variable naming the lock directory.
LOCK_DIR_VARIABLE = "PACKLINE_LOCK_DIR"
#: The lock directory's mode: every user of the controller locks in it, none removes another's.
LOCK_DIR_MODE = 0o1777
#: A lock file's mode: another user's process opens it to lock it.
LOCK_FILE_MODE = 0o666


@dataclass(frozen=True)
class Holder:
    """Who holds a line's tools (`what`, with its process and host) and how to stop it."""

    what: str
    stop: str

    @classmethod
    def here(cls, what: str, stop: str) -> Holder:
        """This process as the holder: `what` it is, named with its process and host."""
        return cls(f"{what} (process {os.getpid()} on host {socket.gethostname()})", stop)


class LineBusy(PacklineError):
    """A tool is driven by another controller: nothing was taken, nothing was contacted."""

    tool: str
    address: str
    holder: Holder

    def __init__(
        self, tool: str, address: str, holder: Holder, also: Sequence[LineBusy] = ()
    ) -> None:
        """`also`: the other tools of the same request that are driven too (each named, so
        that whoever plans two runs on one line sees every tool they share at once)."""
        others = "".join(
            f"; tool {busy.tool} at {busy.address} is being driven by "
            + ("it too" if busy.holder == holder else busy.holder.what)
            for busy in also
        )
        super().__init__(
            f"tool {tool} at {address} is being driven by {holder.what}{others}; {holder.stop}"
        )
        self.tool, self.address, self.holder = tool, address, holder


def lock_dir() -> Path:
    """The lock directory (see the module's doc)."""
    given = os.environ.get(LOCK_DIR_VARIABLE)
    return Path(given) if given else Path(tempfile.gettempdir()) / "packline-lines"


def tool_addresses(station: Station, roles: Iterable[str] | None = None) -> dict[str, str]:
    """Each address of the station's tools (of `roles`, else all of them) -> the tool's name."""
    wanted = None if roles is None else set(roles)
    addresses = {}
    for name, entry in station.tools.items():
        if wanted is None or entry.role in wanted:
            given = entry.address
            for address in [given] if isinstance(given, str) else given.values():
                addresses[address] = name
    return addresses


def _key(address: str) -> str:
    """The lock file's name for an address: a device path as it resolves (a serial port's
    `/dev/serial/by-id/...` link is its `/dev/ttyUSB0`), a network address as written."""
    text = address.strip()
    if text.startswith("/"):
        text = os.path.realpath(text)
    return hashlib.sha256(text.encode()).hexdigest()[:32] + ".lock"


@contextlib.contextmanager
def hold_tools(
    addresses: dict[str, str], holder: Holder, folder: Path | None = None
) -> Iterator[None]:
    """Hold the tools at `addresses` (address -> tool name) for the block, every one or none:
    `LineBusy` when another holds one. In `folder`, else the lock directory (`lock_dir`): the
    workers of one pytest take turns at its tools in a folder of their own
    (`packline.testing.tool_turns`), the tools being held against everyone else already."""
    with contextlib.ExitStack() as held:
        busy: list[LineBusy] = []
        for address in sorted(addresses, key=_key):
            try:
                held.enter_context(_hold(address, addresses[address], holder, folder))
            except LineBusy as taken:
                busy.append(taken)
        if busy:
            first, *also = busy
            raise LineBusy(first.tool, first.address, first.holder, also) from None
        yield


@contextlib.contextmanager
def _hold(address: str, tool: str, holder: Holder, folder: Path | None) -> Iterator[None]:
    # where the lock directory is the one `$PACKLINE_LOCK_DIR` names, that is what to change
    hint = "" if folder else f" (${LOCK_DIR_VARIABLE} names another lock directory)"
    folder = folder or lock_dir()
    if not folder.is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(PermissionError):  # made by another user meanwhile
            folder.chmod(LOCK_DIR_MODE)
    path = folder / _key(address)
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, LOCK_FILE_MODE)
    except OSError as error:
        raise PacklineError(
            f"cannot take tool {tool} at {address}: lock file {path}: {error.strerror}{hint}"
        ) from None
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LineBusy(tool, address, _holder_of(descriptor)) from None
        with contextlib.suppress(PermissionError):
            os.fchmod(descriptor, LOCK_FILE_MODE)  # past the umask, for another user's process
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, json.dumps(asdict(holder)).encode(), 0)
        yield
    finally:
        os.close(descriptor)  # the lock goes with it


def _holder_of(descriptor: int) -> Holder:
    """Who the holder of a lock file says it is (one that has not written it yet: unknown)."""
    try:
        return Holder(**json.loads(os.pread(descriptor, 4096, 0)))
    except (ValueError, TypeError):
        return Holder("another process", "wait until it ends")
