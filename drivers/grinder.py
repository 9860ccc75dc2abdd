"""Grinder over a SCPI command set: the contract of `docs/protocols/grinder.md`.

Wire format, in short (the page is the contract; byte-level tests pin this driver to it):

* Lines of ASCII terminated by LF, one request at a time, over a TCP socket
  (`TCPIP0::host::port::SOCKET`) or a serial line. A query ends in `?` and is answered with
  one line; a setting command is answered with nothing.
* SCPI conventions: `*IDN?` (`vendor,model,serial,firmware`), `*CLS`, `*OPC?` (`1`), and the
  error queue `SYST:ERR?` (`<code>,"<message>[;<detail>]"`, `0,"No error"` when empty). Negative
  codes are SCPI's own (-222 data out of range, -221 settings conflict...), positive ones the
  grinder's (201 interlock open, 202 alarm active, 203 no wafer on chuck). A refused command
  changes nothing; the driver reads the queue after its commands and raises `CommandRefused`
  with the tool's message.
* Numbers are decimal (SCPI NRf); thicknesses in µm, feeds in µm/s, speeds in rpm. A gauge that
  has no valid reading answers SCPI's not-a-number, 9.91E+37.
* `GRIN:STAT?` answers the cycle in one line of comma-separated fields (the spec's
  `STATUS_REPLY`). `GRIN:STAR` is an overlapped command: the driver reads the status once,
  then asks `*OPC?`, which the tool answers when the cycle ends (an alarm ends it), and reads
  the status that shows how.

The grinding cycle runs the coarse wheel, the fine wheel, then the polishing pad, each stopped by
the in-process gauge at its own threshold above the target, so the tool never grinds past the
target. The driver adds what the tool cannot know: it refuses a target that would leave too
little silicon (back grinding) or would cut into the die and bump features on the substrate
(front grinding), from the tool's own measurements, before it starts anything.
"""

from __future__ import annotations

import math

from .equipment import READY_STATES, Equipment, Identity, ToolState, is_wafer_id
from .errors import LimitViolation, ProtocolError, ToolAlarm, ToolStateError
from .families.scpi import ScpiDriver
from .families.scpi_wire import command, quote, setpoint, unquote
from .roles.grinder import (
    AT_REST,
    CycleResult,
    Grinder,
    GrinderStatus,
    GrindPhase,
    GrindRecipe,
    GrindResult,
    GrindSide,
    WaferOnChuck,
)
from .specs.grinder import (
    ALARM_ACTIVE,
    GAUGE_READING,
    GRINDING,
    NO_WAFER,
    SPEC,
    STATUS_REPLY,
    TARGET_NOT_BELOW_READING,
    TARGET_NOT_SET,
)

#: Assumptions for the cycle's time allowance: the hardest material removes at least this share
#: of the feed, and the polish stage at least this rate (est). Beyond the allowance plus the
#: margin, a cycle that has not ended is a timeout.
LEAST_REMOVAL_EFFICIENCY = 0.25
LEAST_POLISH_RATE_UM_S = 0.01
CYCLE_TIMEOUT_MARGIN_S = 120.0

#: The recipe's setpoints in the order they are sent (the spec's setpoints with a header).
RECIPE_SETPOINTS = tuple(s.name for s in SPEC.setpoints if getattr(s, "header", None))


class ScpiGrinder(ScpiDriver, Grinder):
    """Drives a grinder that implements the packline grinder command set."""

    spec = SPEC
    limits = SPEC.limits()

    async def connect(self) -> None:
        """Connect, then empty the tool's error queue so each check answers for its own commands."""
        await super().connect()
        try:
            await self.link.write("*CLS")
        except BaseException:
            await self.close()
            raise

    # ----------------------------------------------------------------- exchanges

    async def _query_number(self, action: str, query: str) -> float:
        return self._finite(action, await self.link.query(query, idempotent=True))

    def _finite(self, action: str, reply: str) -> float:
        """A reply read as a finite number."""
        value = self.number_reply(action, reply)
        if not math.isfinite(value):
            raise self.garbled(action, str(value), "a finite number")
        return value

    async def _query_gauge(self, action: str, query: str) -> float:
        """A gauge reading, asked alone (`_gauge_reading`)."""
        return await self._gauge_reading(
            action, query, await self.link.query(query, idempotent=True)
        )

    async def _gauge_reading(self, action: str, query: str, reply: str) -> float:
        """`reply`, the answer to the gauge query `query`, read; none (`GAUGE_READING`:
        not-a-number) means the gauge failed (the tool raises an alarm)."""
        if GAUGE_READING.is_no_value(reply):
            await self.refresh_alarms()
            if self.active_alarms:
                raise self.alarm_error(action)
            raise ProtocolError(
                self.name, self.address, action, f"{query}: the gauge gives no valid reading"
            )
        return self._finite(action, reply)

    # ----------------------------------------------------------------- queries

    async def request_identity(self) -> Identity:
        reply = await self.link.query("*IDN?", idempotent=True)
        fields = [field.strip() for field in reply.split(",")]
        if len(fields) != 4 or not all(fields[:3]):
            raise ProtocolError(
                self.name, self.address, "read identity",
                f"*IDN? answered {reply!r}, not vendor,model,serial,firmware",
            )  # fmt: skip
        vendor, model, serial_number, firmware = fields
        return Identity(vendor, model, serial_number, firmware)

    async def request_status(self) -> GrinderStatus:
        return self.status_from(
            await self.link.query(command(SPEC, "status").query, idempotent=True)
        )

    def status_from(self, reply: str) -> GrinderStatus:
        """The status query's reply read, each field as the spec declares it (`STATUS_REPLY`:
        a thickness of not-a-number, a failed gauge's, as None)."""
        try:
            return STATUS_REPLY.read(reply)
        except ValueError as error:
            raise ProtocolError(
                self.name,
                self.address,
                "read status",
                f"{command(SPEC, 'status').query} answered {reply!r} ({error})",
            ) from None

    async def request_wafer(self) -> WaferOnChuck | None:
        return self.wafer_from(await self.link.query(command(SPEC, "wafer").query, idempotent=True))

    def wafer_from(self, reply: str) -> WaferOnChuck | None:
        """The wafer query's reply read: None for `NONE`."""
        if reply == "NONE":
            return None
        quoted, _, side = reply.partition(",")
        try:
            wafer_id = unquote(quoted)
        except ValueError:
            wafer_id = ""
        if not is_wafer_id(wafer_id) or side not in GrindSide.__members__:
            raise ProtocolError(
                self.name,
                self.address,
                "read wafer",
                f"{command(SPEC, 'wafer').query} answered {reply!r}",
            )
        return WaferOnChuck(wafer_id, GrindSide[side])

    async def request_thickness_um(self) -> float:
        return await self._query_gauge("read thickness", command(SPEC, "thickness").query)

    async def request_substrate_thickness_um(self) -> float:
        return await self._query_gauge("read substrate thickness", command(SPEC, "substrate").query)

    async def request_gauge_resolution_um(self) -> float:
        return await self._query_number(
            "read gauge resolution", command(SPEC, "gauge_resolution").query
        )

    # ----------------------------------------------------------------- wafer and chuck

    async def load(self, wafer_id: str, side: GrindSide) -> None:
        side = GrindSide(side)
        action = f"load wafer {wafer_id} for {side.value} grinding"
        self.check_wafer_id(wafer_id)
        self.require_state(action, *READY_STATES)
        load = "wafer_reload" if wafer_id in self.reworks else "wafer_load"  # `reloading`
        async with self.loading(action):
            await self.send(action, f"{command(SPEC, load).short} {quote(wafer_id)},{side.name}")

    async def unload(self) -> None:
        self.require_state("unload wafer", *READY_STATES, ToolState.FAULT)
        await self.send("unload wafer", command(SPEC, "wafer_unload").short)

    async def apply_chuck_vacuum(self) -> None:
        self.require_state("apply chuck vacuum", *READY_STATES)
        await self.send("apply chuck vacuum", f"{command(SPEC, 'vacuum').short} ON")

    async def release_chuck_vacuum(self) -> None:
        self.require_state("release chuck vacuum", *READY_STATES, ToolState.FAULT)
        await self.send("release chuck vacuum", f"{command(SPEC, 'vacuum').short} OFF")

    # ----------------------------------------------------------------- grinding

    async def grind(self, recipe: GrindRecipe) -> GrindResult:
        action = "grind"
        setpoints = self._recipe_commands(action, recipe)
        async with self.operation(action):
            thickness = command(SPEC, "thickness").query
            substrate = command(SPEC, "substrate").query
            interlocks, (on_chuck, start, on_substrate) = await self.interlocks_with(
                action, command(SPEC, "wafer").query, thickness, substrate
            )
            start_um = await self._gauge_reading("read thickness", thickness, start)
            substrate_um = await self._gauge_reading(
                "read substrate thickness", substrate, on_substrate
            )
            resolution, cycle = await self.query_units(
                action, command(SPEC, "gauge_resolution").query, command(SPEC, "status").query
            )
            resolution_um = self._finite("read gauge resolution", resolution)
            status = self.status_from(cycle)
            wafer = await check_start(
                self, action, status.phase, self.wafer_from(on_chuck), recipe.target_thickness_um,
                start_um, substrate_um,
            )  # fmt: skip
            self.require_closed(action, interlocks, command(SPEC, "start").interlocks)
            before = status.cycle_count
            await self.send(f"{action} {wafer.wafer_id}: set the recipe", *setpoints)
            await self.send(f"{action} {wafer.wafer_id}: start", command(SPEC, "start").short)
            status = await self._wait_cycle(action, recipe, start_um, before)
            final_um = await self.request_thickness_um()
            if final_um < recipe.target_thickness_um:
                raise ToolAlarm(
                    self.name, self.address, action,
                    [f"OVERSHOOT (gauge reads {final_um:g} um, below the target "
                     f"{recipe.target_thickness_um:g} um)"],
                )  # fmt: skip
        return GrindResult(
            wafer_id=wafer.wafer_id,
            side=wafer.side,
            target_thickness_um=recipe.target_thickness_um,
            start_thickness_um=start_um,
            final_thickness_um=final_um,
            gauge_resolution_um=resolution_um,
            process_time_s=status.cycle_time_s,
        )

    def _recipe_commands(self, action: str, recipe: GrindRecipe) -> list[str]:
        """Check every setpoint against the limits and write the commands; nothing is sent here."""
        return [
            setpoint(SPEC, name).encode(self.check_limit(action, name, getattr(recipe, name)))
            for name in RECIPE_SETPOINTS
        ]

    async def _wait_cycle(
        self, action: str, recipe: GrindRecipe, start_um: float, before: int
    ) -> GrinderStatus:
        """Wait the cycle out on the tool's `*OPC?` (`wait_operation`); an alarm or a timeout
        (which stops the tool: an overrunning cycle is not left grinding) ends the wait."""
        status: GrinderStatus  # the latest, for the timeout message

        async def poll() -> GrinderStatus | None:
            nonlocal status
            status = await self.request_status()
            self._record_status(status)
            if status.phase is GrindPhase.FAULT:
                await self.refresh_alarms()
                raise self.alarm_error(action)
            if status.phase is GrindPhase.IDLE and status.cycle_count != before:
                if status.last_result is not CycleResult.COMPLETED:
                    raise ToolAlarm(
                        self.name, self.address, action,
                        [f"cycle ended {status.last_result.value}"],
                    )  # fmt: skip
                return status
            return None

        return await self.wait_operation(
            action,
            poll,
            cycle_allowance_s(recipe, start_um),
            lambda: f"cycle still {status.phase.value} at {status.thickness_um} um",
        )

    def _record_status(self, status: GrinderStatus) -> None:
        if status.thickness_um is not None:
            self.trace("thickness", status.thickness_um)
        for name in ("spindle_load_pct", "spindle_rpm", "feed_um_s", "progress_pct"):
            self.trace(name, getattr(status, name))


async def check_start(
    driver: Equipment,
    action: str,
    phase: GrindPhase,
    wafer: WaferOnChuck | None,
    target_um: float,
    start_um: float,
    substrate_um: float,
) -> WaferOnChuck:
    """Refuse `action`, a grind of the chuck's `wafer` to `target_um`, for what the grinder
    checks of a cycle's start before its interlocks, in the order `GRIN:STAR` declares it
    (its `preconditions`, `ScpiCommand.first_unmet`), from what the driver read before it
    sends anything (the grinder's `phase`, the chuck, the gauges), so the driver names the
    reason the tool would, the interlocks being judged after it (conventions.md, SCPI's
    precedence); the wafer it may grind. (The SCPI and the GEM grinder drivers both check so.)

    A cycle running (a stage's phase) and an empty chuck are refused in the tool's words
    (`GRINDING`, `NO_WAFER`, `ToolStateError`); an alarm latched (`FAULT`, `ALARM_ACTIVE`) as
    every alarm the driver meets is: read (`refresh_alarms`, the driver entering FAULT) and
    raised naming them (`ToolAlarm`). The target the driver sends with the recipe, so it is
    set; it must leave what the workpiece needs, from the tool's own measurements, and lie
    below the present thickness (`LimitViolation`): back grinding removes substrate, what
    stands on the front stays, and the silicon left must not fall below
    `substrate_remaining_um`; front grinding removes resin and bump tops, and the features
    left above the substrate must not fall below `front_remaining_um`.
    """
    start = command(SPEC, "start")
    first = start.first_unmet(
        {
            GRINDING: phase not in AT_REST,
            ALARM_ACTIVE: phase is GrindPhase.FAULT,
            NO_WAFER: wafer is None,
            TARGET_NOT_SET: False,  # sent with the recipe
            # the driver's own check below, after the limits it adds (LimitViolation)
            TARGET_NOT_BELOW_READING: False,
        }
    )
    if first == ALARM_ACTIVE:
        await driver.refresh_alarms()
        raise driver.alarm_error(action)
    if first is not None:
        raise ToolStateError(driver.name, driver.address, action, first.words(**start.own_fields))
    assert wafer is not None  # NO_WAFER refuses an empty chuck
    if wafer.side is GrindSide.BACK:
        front_um = start_um - substrate_um
        driver.check_limit(
            f"grind {wafer.wafer_id} from the back to {target_um:g} um "
            f"({front_um:g} um stand on the front)",
            "substrate_remaining_um",
            target_um - front_um,
        )
    else:
        driver.check_limit(
            f"grind {wafer.wafer_id} from the front to {target_um:g} um "
            f"on a {substrate_um:g} um substrate",
            "front_remaining_um",
            target_um - substrate_um,
        )
    if target_um >= start_um:
        raise LimitViolation(
            driver.name, driver.address, f"grind {wafer.wafer_id} (gauge reads {start_um:g} um)",
            "target_thickness_um", target_um,
            driver.limits["target_thickness_um"].minimum, start_um, "um",
        )  # fmt: skip
    return wafer


def cycle_allowance_s(recipe: GrindRecipe, start_um: float) -> float:
    """How long the cycle may take before it is a timeout (see the page's *Timing*)."""
    removal = max(start_um - recipe.target_thickness_um, 0.0)
    polish_um = min(recipe.polish_allowance_um, removal)
    fine_um = min(recipe.fine_allowance_um, removal - polish_um)
    coarse_um = removal - polish_um - fine_um
    return (
        coarse_um / (recipe.coarse_feed_um_s * LEAST_REMOVAL_EFFICIENCY)
        + fine_um / (recipe.fine_feed_um_s * LEAST_REMOVAL_EFFICIENCY)
        + polish_um / LEAST_POLISH_RATE_UM_S
        + CYCLE_TIMEOUT_MARGIN_S
    )
