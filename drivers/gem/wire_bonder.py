"""The wire bonder role on a GEM tool: the same `WireBonder` the sequences drive, over E30.

Which SVIDs, ECIDs, CEIDs, ALIDs and RCMDs carry what is the tool's dictionary
(`drivers/specs/gem/wire_bonder.yaml` for the simulated bonder; docs/protocols/gem-wire-bonder.md).
The bond program goes to the tool as equipment constants (S2F15, all or none, refused out of the
tool's range); a run is the `start` remote command with the stack count and the sites (none:
every site), answered HCACK 4, and it ends with the `run_ended` collection event, whose report
is the bonder's status: no polling. An alarm ends the wait at once; the wait's time allowance is
the ASCII driver's (`drivers/wire_bonder.py`), and so are the limits (the process window is the
role's, whatever wire carries it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..errors import ToolStateError
from ..families.ascii_host import TRANSFER_STATES
from ..families.ascii_host_wire import precondition
from ..roles.wire_bonder import (
    BonderState,
    BonderStatus,
    BondProgram,
    BumpResult,
    HeightSummary,
    RunResult,
    WireBonder,
)
from ..specs.wire_bonder import (
    BUMP_INTERLOCKS,
    HEIGHT_REPLY,
    NO_WAFER,
    PROGRAM_SETPOINTS,
    SPEC,
    encode_site_ranges,
)
from ..wire_bonder import (
    HEATING_ALLOWANCE_S,
    MIN_STUDS_PER_S,
    RUN_MARGIN_S,
    AsciiWireBonder,
)
from .dictionary import GemNeeds
from .equipment import SAFE_STATE_COMMANDS, GemEquipment

#: The status variables of `BonderStatus`, in its field order; `run_ended` reports them.
STATUS = (
    "state",
    "wafer_id",
    "bumps_done",
    "bumps_total",
    "stack_count",
    "stage_temperature_c",
    "wire_remaining_m",
    "elapsed_s",
    "last_result",
)
#: The interlocks that guard a wafer transfer (the ASCII page's LOAD and UNLOAD).
TRANSFER_INTERLOCKS = SPEC.command_by_name["LOAD"].interlocks


class GemWireBonder(GemEquipment, WireBonder):
    """Drives a stud-bumping wire bonder that speaks GEM, by its dictionary."""

    limits = AsciiWireBonder.limits
    needs = GemNeeds(
        status_variables=(
            "serial_number",
            *STATUS,
            "site_count",
            *HEIGHT_REPLY.gem_variables,
            "bump_heights_um",
            *SPEC.interlock_names,
        ),
        equipment_constants=("wire_material", *PROGRAM_SETPOINTS),
        collection_events=("run_ended",),
        remote_commands={
            **SAFE_STATE_COMMANDS,
            "load": ("wafer_id", "rework"),
            "unload": ("wafer_id",),
            "start": ("stack_count", "sites"),
        },
    )

    #: With no wafer on the chuck the bonder has no wafer map nor bump heights: its host link
    #: refuses `MAP?`, `HGT:STAT?` and `HGT?` (`NO_WAFER`), its GEM face gives their status
    #: variables no value; a reading of them is refused in the host link's words.
    no_value_because = dict.fromkeys(
        ("site_count", *HEIGHT_REPLY.gem_variables, "bump_heights_um"),
        precondition(SPEC, NO_WAFER).words,
    )

    # ----------------------------------------------------------------- queries

    def _status(self, values: dict[str, Any]) -> BonderStatus:
        return BonderStatus(
            state=BonderState(values["state"]),
            wafer_id=values["wafer_id"] or None,
            bumps_done=int(values["bumps_done"]),
            bumps_total=int(values["bumps_total"]),
            stack_count=int(values["stack_count"]),
            stage_temperature_c=float(values["stage_temperature_c"]),
            wire_remaining_m=float(values["wire_remaining_m"]),
            elapsed_s=float(values["elapsed_s"]),
            last_result=RunResult(values["last_result"]),
        )

    async def request_status(self) -> BonderStatus:
        values = await self.request_values("read status", *STATUS)
        return self._status(dict(zip(STATUS, values, strict=True)))

    async def request_site_count(self) -> int:
        (count,) = await self.request_values("read wafer map", "site_count")
        return int(count)

    async def request_interlocks(self) -> dict[str, bool]:
        names = SPEC.interlock_names
        values = await self.request_values("read interlocks", *names)
        return {name: bool(value) for name, value in zip(names, values, strict=True)}

    async def request_program(self) -> BondProgram:
        """The bond program the tool holds (its equipment constants)."""
        material, *values = await self.request_constants(
            "read program", "wire_material", *PROGRAM_SETPOINTS
        )
        return BondProgram(material, *(float(value) for value in values))

    async def request_bump_height_summary(self) -> HeightSummary:
        """The fields of the host link's `HGT:STAT?`, at its resolution (`HEIGHT_REPLY`)."""
        summary = await self.request_reply("read bump heights", HEIGHT_REPLY)
        assert summary is not None  # it answers no NONE: from_status_variables reads it whole
        self.record_height_summary(summary)
        return summary

    async def request_bump_heights(
        self, first_site: int = 0, count: int | None = None
    ) -> np.ndarray:
        self.check_site_span(first_site, count)
        (heights,) = await self.request_values("read bump heights", "bump_heights_um")
        stop = len(heights) if count is None else first_site + count
        if stop > len(heights):
            raise ValueError(
                f"{self.name}: sites {first_site}-{stop - 1} are not on the wafer map "
                f"(sites 0-{len(heights) - 1})"
            )
        return np.asarray(heights[first_site:stop], np.float64)

    # ----------------------------------------------------------------- wafer transfer

    async def load(self, wafer_id: str) -> None:
        action = f"load wafer {wafer_id}"
        self.check_wafer_id(wafer_id)
        self.require_state(action, *TRANSFER_STATES)
        await self.require_interlocks(action, TRANSFER_INTERLOCKS)
        async with self.loading(action):
            await self.load_workpiece("load", "wafer_id", wafer_id)

    async def unload(self, wafer_id: str) -> None:
        action = f"unload wafer {wafer_id}"
        self.check_wafer_id(wafer_id)
        self.require_state(action, *TRANSFER_STATES)
        await self.require_interlocks(action, TRANSFER_INTERLOCKS)
        await self.command("unload", wafer_id=wafer_id)

    # ----------------------------------------------------------------- bumping

    async def form_stud_bumps(
        self,
        program: BondProgram,
        *,
        sites: Iterable[int] | None = None,
        stack_count: int = 1,
        timeout_s: float | None = None,
    ) -> BumpResult:
        action = "form stud bumps"
        program = self.held_setpoints(action, program, PROGRAM_SETPOINTS)
        self.check_limit(action, "stack_count", stack_count)  # a whole number: held as it is
        selection = None if sites is None else np.unique(np.asarray(list(sites)))
        if selection is not None:
            encode_site_ranges(selection)  # refuses an empty, negative or fractional site set
        constants = {"wire_material": program.wire_material.value}
        constants |= {setpoint: getattr(program, setpoint) for setpoint in PROGRAM_SETPOINTS}
        async with self.operation(action):
            await self.require_interlocks(action, BUMP_INTERLOCKS)
            wafer_id, site_count = await self.request_values(action, "wafer_id", "site_count")
            if not wafer_id:
                raise ToolStateError(
                    self.name, self.address, action, precondition(SPEC, NO_WAFER).words
                )
            total = int(site_count) if selection is None else int(selection.size)
            if selection is not None and selection[-1] >= site_count:
                raise ValueError(
                    f"{self.name}: site {selection[-1]} is not on the wafer map "
                    f"(sites 0-{site_count - 1})"
                )
            await self.set_constants(action, constants)
            parameters: dict[str, Any] = {"stack_count": stack_count}
            if selection is not None:
                parameters["sites"] = selection.tolist()
            if timeout_s is None:
                timeout_s = (
                    HEATING_ALLOWANCE_S + total * stack_count / MIN_STUDS_PER_S + RUN_MARGIN_S
                )
            with self.expect_event(action, "run_ended") as ended:
                await self.command("start", **parameters)
                event = await self.wait_event(
                    action, ended, timeout_s, lambda: f"run of {total} sites not ended"
                )
            status = self._status(self.event_values("run_ended", event))
            self.record_status(status)
            await self.check_run_ended(action, status, total)
        return BumpResult(
            wafer_id=str(wafer_id),
            stack_count=stack_count,
            sites_requested=total,
            bumps_formed=status.bumps_done,
            process_time_s=status.elapsed_s,
        )
