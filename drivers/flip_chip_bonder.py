"""Flip-chip bonder over an ASCII host link: the commands of `docs/protocols/flip-chip-bonder.md`.

The wire contract (commands, ranges, alarms, interlocks, refusals) is the bonder's spec,
`specs/flip_chip_bonder.py`, and the family's rules are `families/ascii_host.py`, whose
`OneWaferDriver` moves the substrate on and off the stage; byte-level tests pin this driver to
the page. This file keeps the bonder's process: the die source in and out (`SRC:LOAD`,
`SRC:UNLOAD`), and a run (`BOND <first> <count> <head_c> <stage_c> <force_n> <s>`, a solder
transfer `XFER <first> <count> <alloy> <film_um> <head_c> <stage_c> <force_n> <s>`, or a frame
run `FRAME <first> <count> <frame_um> <column_um> <protrusion_um> <head_c> <stage_c> <force_n>
<s>`) that returns at once; the host polls `STAT?` until the bonder is idle with its run
counter advanced, or in fault, and reads the inspection with `RESULT?` (or `XFER?`, `FRAME?`).
"""

from __future__ import annotations

from .errors import ToolStateError
from .families.ascii_host import TRANSFER_STATES, OneWaferDriver, parse_fields
from .roles.clean_room import AMBIENT_C
from .roles.flip_chip_bonder import (
    BondRecipe,
    BondResult,
    FlipChipBonder,
    FlipChipState,
    FlipChipStatus,
    FrameRecipe,
    FrameResult,
    SolderTransfer,
    TransferAlloy,
    TransferResult,
)
from .specs.flip_chip_bonder import (
    BOND_REPLY,
    FRAME_REPLY,
    FRAME_SETPOINTS,
    RECIPE_SETPOINTS,
    SPEC,
    TRANSFER_REPLY,
)

#: Process-time allowances: the stage's ramp at 1 degC/s at least from ambient, and per die
#: the pick, flip and alignment (10 s at most) and the head's ramp at 20 degC/s at least.
SLOWEST_STAGE_C_S = 1.0
SLOWEST_HEAD_C_S = 20.0
MOTION_ALLOWANCE_S = 10.0
RUN_MARGIN_S = 60.0


def run_allowance_s(recipe: BondRecipe, dies: int) -> float:
    """The longest a healthy bonder may take to bond `dies` dies with `recipe`."""
    stage_s = abs(recipe.stage_temperature_c - AMBIENT_C) / SLOWEST_STAGE_C_S
    excess = max(recipe.head_temperature_c - recipe.stage_temperature_c, 0.0)
    die_s = MOTION_ALLOWANCE_S + excess / SLOWEST_HEAD_C_S + recipe.bond_time_s
    return stage_s + dies * die_s + RUN_MARGIN_S


class AsciiFlipChipBonder(OneWaferDriver, FlipChipBonder):
    """Drives a flip-chip bonder whose host link implements the packline bonder command set."""

    spec = SPEC

    # ----------------------------------------------------------------- queries

    async def request_status(self) -> FlipChipStatus:
        return self.status_from(await self.ask("read status", self.wire.status_query))

    def status_from(self, payload: str) -> FlipChipStatus:
        """The status query's payload read."""
        action = "read status"
        fields = parse_fields(self, action, payload, self.status_keys)
        return FlipChipStatus(
            state=self.choice_field(action, fields, "STATE", FlipChipState),
            substrate_id=None if fields["SUBSTRATE"] == "-" else fields["SUBSTRATE"],
            source_id=None if fields["SOURCE"] == "-" else fields["SOURCE"],
            dies_left=self.integer_field(action, fields, "LEFT"),
            dies_done=self.integer_field(action, fields, "DONE"),
            dies_total=self.integer_field(action, fields, "TOTAL"),
            stage_temperature_c=self.number_field(action, fields, "STAGE"),
            remaining_s=self.number_field(action, fields, "REMAIN"),
            runs_completed=self.integer_field(action, fields, "RUNS"),
        )

    async def request_last_bond(self) -> BondResult | None:
        return await self.request_reply("read bond result", BOND_REPLY)

    async def request_last_transfer(self) -> TransferResult | None:
        return await self.request_reply("read transfer result", TRANSFER_REPLY)

    async def request_last_frame(self) -> FrameResult | None:
        return await self.request_reply("read frame result", FRAME_REPLY)

    async def request_unit_count(self) -> int:
        """How many units the loaded substrate has."""
        return await self.ask_count("read substrate map", "UNITS?")

    # ----------------------------------------------------------------- the die source

    async def load_die_source(self, wafer_id: str) -> int:
        action = f"load die source {wafer_id}"
        self.check_wafer_id(wafer_id)
        self.require_state(action, *TRANSFER_STATES)
        await self.require_command_interlocks(action, "SRC:LOAD")
        async with self.loading(action, self._source_blockers):
            return await self.ask_count(action, f"SRC:LOAD {wafer_id}")

    async def unload_die_source(self, wafer_id: str) -> None:
        action = f"unload die source {wafer_id}"
        self.check_wafer_id(wafer_id)
        self.require_state(action, *TRANSFER_STATES)
        await self.do(action, f"SRC:UNLOAD {wafer_id}")

    # ----------------------------------------------------------------- the run

    async def bond_dies(
        self,
        recipe: BondRecipe,
        *,
        first_unit: int = 0,
        unit_count: int | None = None,
        timeout_s: float | None = None,
    ) -> BondResult:
        action = "bond dies"
        recipe_words = self._recipe_words(action, recipe)
        substrate = await self._run(
            action, "BOND", [], recipe_words, recipe, first_unit, unit_count, timeout_s
        )
        return self.accept_bond(action, await self.request_last_bond(), substrate)

    async def transfer_solder_layer(
        self,
        transfer: SolderTransfer,
        *,
        first_unit: int = 0,
        unit_count: int | None = None,
        timeout_s: float | None = None,
    ) -> TransferResult:
        action = f"transfer {TransferAlloy(transfer.alloy).value}"
        words = [
            TransferAlloy(transfer.alloy).value,
            self.setting(action, "film_um", transfer.film_um),
        ]
        recipe_words = self._recipe_words(action, transfer.recipe)
        wafer = await self._run(
            action, "XFER", words, recipe_words, transfer.recipe, first_unit, unit_count, timeout_s
        )
        return self.accept_transfer(action, await self.request_last_transfer(), wafer)

    async def mount_frames(
        self,
        frame: FrameRecipe,
        *,
        first_unit: int = 0,
        unit_count: int | None = None,
        timeout_s: float | None = None,
    ) -> FrameResult:
        action = "mount frames"
        words = [self.setting(action, name, getattr(frame, name)) for name in FRAME_SETPOINTS]
        recipe_words = self._recipe_words(action, frame.recipe)
        substrate = await self._run(
            action, "FRAME", words, recipe_words, frame.recipe, first_unit, unit_count, timeout_s
        )
        return self.accept_frames(action, await self.request_last_frame(), substrate)

    def _recipe_words(self, action: str, recipe: BondRecipe) -> list[str]:
        """The recipe's values, checked against the limits, in their wire form."""
        return [self.setting(action, name, getattr(recipe, name)) for name in RECIPE_SETPOINTS]

    async def _run(
        self,
        action: str,
        command: str,
        words: list[str],
        recipe_words: list[str],
        recipe: BondRecipe,
        first_unit: int,
        unit_count: int | None,
        timeout_s: float | None,
    ) -> str:
        """Run `command` (`BOND`, `XFER` or `FRAME`) over the units and wait for its end; the
        substrate it ran on."""
        if first_unit < 0 or (unit_count is not None and unit_count < 1):
            raise ValueError(f"{self.name}: first_unit must be >= 0 and unit_count >= 1")
        async with self.operation(action):
            status = await self.status_when_closed(action, command, self.status_from)
            if status.substrate_id is None:
                raise ToolStateError(self.name, self.address, action, "no substrate on the stage")
            if unit_count is None:
                unit_count = await self.request_unit_count() - first_unit
                if unit_count < 1:
                    raise ValueError(f"{self.name}: unit {first_unit} is not on the substrate")
            line = " ".join([command, str(first_unit), str(unit_count), *words, *recipe_words])

            def of_its_size(payload: str) -> None:
                if self.count_from(action, line, payload) != unit_count:
                    raise self.garbled(action, line, payload, f"a run of {unit_count} units")

            query = self.wire.status_query
            _, started = await self.ask_compound(
                action,
                line,
                query,
                checks={line: of_its_size, query: self.status_from},
                moves=line,
            )
            before = status.runs_completed
            await self.wait_idle(
                action,
                self.request_status,
                lambda status: status.runs_completed != before,
                timeout_s or run_allowance_s(recipe, unit_count),
                record=self.record_status,
                progress=lambda status: f"{status.dies_done} of {status.dies_total} dies",
                fault_action=lambda status: f"{action} (stopped after {status.dies_done} dies)",
                first=self.status_from(started),
            )
        return status.substrate_id
