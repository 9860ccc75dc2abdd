"""The simulated GEM equipment's communication and control states (E30 sections 4.1, 4.2).

Communication is established by S1F13 (from either side) and ends with the connection. The
control state is offline until the host asks for online (S1F17) and again after it asks for
offline (S1F15): offline, the equipment answers only S1F1, S1F13 and S1F17 (everything else
with an abort, F0). Online, the operator's switch on the tool chooses local (the host may
watch, but its remote commands are refused with HCACK 2) or remote (the host drives).
"""

from __future__ import annotations

from enum import IntEnum

from packline.drivers.secs.items import B, Item

#: The messages an offline equipment still answers (E30 4.2.2): are you there, establish
#: communication, request online.
OFFLINE_ANSWERS = {(1, 1), (1, 13), (1, 17)}


class ControlState(IntEnum):
    """E30's control states, as the standard status variable `control_state` reports them."""

    EQUIPMENT_OFFLINE = 1
    ATTEMPT_ONLINE = 2
    HOST_OFFLINE = 3
    ONLINE_LOCAL = 4
    ONLINE_REMOTE = 5


class Control:
    """Whether communication is established, whether the equipment is online, and the
    operator's local/remote switch (remote unless switched)."""

    def __init__(self) -> None:
        self.communicating = False
        self.online = False
        self.local = False

    @property
    def state(self) -> ControlState:
        if not self.online:
            return ControlState.HOST_OFFLINE
        return ControlState.ONLINE_LOCAL if self.local else ControlState.ONLINE_REMOTE

    def answers(self, stream: int, function: int) -> bool:
        """Whether the equipment answers primary message S`stream`F`function` now."""
        return self.online or (stream, function) in OFFLINE_ANSWERS

    def switch(self, *, local: bool) -> None:
        """The operator's switch: local (the host's remote commands refused) or remote."""
        self.local = local

    def request_offline(self) -> Item:
        """S1F15: offline; its OFLACK."""
        self.online = False
        return B(b"\x00")

    def request_online(self) -> Item:
        """S1F17: online; its ONLACK (2: already online)."""
        already, self.online = self.online, True
        return B(b"\x02" if already else b"\x00")
