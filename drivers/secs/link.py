"""An HSMS session as a packline `Link`: what a station file's `hsms://host:port` opens.

`HsmsLink` keeps many transactions open at once, so it is not a lock-step `Link` (decision
0005). The equipment interface and station files deal in `Link`s, though: this class gives an
`HsmsLink` the `Link` life (connect within `connect_timeout_s`, close, the address, the clock)
and nothing more; drivers send their messages through `hsms`, which keeps its own T3, T6, T7
and T8 timers and reconnects by the same `ReconnectPolicy`. `timeout_s` is T3 (the reply
timeout, as on every link); `read_retries` does not apply (an HSMS request is never repeated).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from packline.clock import Clock

from ..links.base import Link, ReconnectPolicy
from ..links.ports import tcp_port
from .hsms import HsmsLink, HsmsTimers

_ADDRESS = re.compile(r"^hsms://(?P<host>[^/:\s]+):(?P<port>\d+)$")

#: T3 of a station's GEM tool unless its options say otherwise: E37's typical 45 s is for slow
#: hosts on busy networks; every reply of packline's GEM exchanges is immediate.
DEFAULT_T3_S = 10.0


def parse_hsms_address(address: str) -> tuple[str, int]:
    """`hsms://host:port` as (host, port); ValueError naming the form otherwise."""
    match = _ADDRESS.match(address)
    if match is None:
        raise ValueError(
            f"{address!r} is not an HSMS address; it is hsms://<host>:<port>, "
            "e.g. hsms://10.0.3.30:5000"
        )
    return match["host"], tcp_port(address, match["port"])


class SecsLink(Link):
    """The HSMS-SS session of one GEM tool, active (packline is the host)."""

    def __init__(
        self,
        address: str,
        *,
        session_id: int = 0,
        timeout_s: float = DEFAULT_T3_S,
        t5_s: float = 10.0,
        t6_s: float = 5.0,
        t7_s: float = 10.0,
        t8_s: float = 5.0,
        linktest_s: float | None = None,
        connect_timeout_s: float = 5.0,
        reconnect: ReconnectPolicy | Mapping[str, float] | None = None,
        tool: str = "tool",
        clock: Clock | None = None,
        **options: object,
    ) -> None:
        super().__init__(
            address,
            tool=tool,
            timeout_s=timeout_s,
            connect_timeout_s=connect_timeout_s,
            reconnect=reconnect or ReconnectPolicy(),
            clock=clock,
            **options,  # type: ignore[arg-type]
        )
        host, port = parse_hsms_address(address)
        try:
            timers = HsmsTimers(
                t3_s=timeout_s, t5_s=t5_s, t6_s=t6_s, t7_s=t7_s, t8_s=t8_s, linktest_s=linktest_s
            )
        except ValueError as error:
            raise ValueError(f"{tool} at {address}: {error}") from None
        self.hsms = HsmsLink(
            host,
            port,
            session_id=session_id,
            tool=tool,
            timers=timers,
            connect_timeout_s=connect_timeout_s,
            reconnect=self.reconnect,
            clock=self.clock,
        )

    async def _open(self) -> None:
        await self.hsms.connect()

    async def _close(self) -> None:
        await self.hsms.close()
