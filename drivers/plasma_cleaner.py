"""Plasma cleaner over Modbus TCP (or RTU): the PLC register map of the protocol page
`docs/protocols/plasma-cleaner.md`.

Wire format, in short (the page is the contract; byte-level tests pin this driver to it):

* One Modbus device (unit id 1 by default). Every value is a 16-bit holding register, read
  with FC3 and written with FC6 (one register) or FC16 (several). Identity is FC43/MEI 14.
* Status, read-only, registers 0-19: chamber state, alarm bits, interlock bits, pressure
  (mTorr, 32-bit high word first), RF forward/reflected (W), gas flow (sccm) and gas, step
  and its remaining time (0.1 s), elapsed process time (0.1 s, 32-bit), completed-run
  counter, last result, door, slot capacity and occupancy, and the reason the last command
  was refused; the serial number at 20-27 (ASCII). Slot wafer ids at 40 + 8*slot, 8
  registers of ASCII each.
* Recipe, 200-289: step count at 200, step i at 210 + 10*i (gas code, flow sccm, pressure
  mTorr, RF power W, time 0.1 s). Written only while not processing.
* Command, 300-309: parameters first (slot at 301, wafer id at 302-309), then the command
  code at 300. A refused command or setpoint answers Modbus exception 3 (illegal data value)
  and leaves its reason in register 19.
"""

from __future__ import annotations

from enum import IntEnum

from .equipment import Identity, Limit, ToolState
from .errors import CommandRefused, ProtocolError, ToolAlarm
from .families.modbus_plc import (
    explain_refusal,
    open_interlocks,
    reason_text,
    request_plc_identity,
    send_command,
)
from .links.modbus import ModbusLink
from .links.registers import (
    ascii_to_registers,
    bits_set,
    registers_to_ascii,
    registers_to_u32,
)
from .roles.plasma_cleaner import (
    ChamberState,
    CleanResult,
    Gas,
    PlasmaCleaner,
    PlasmaRecipe,
    PlasmaStatus,
)


class Reg(IntEnum):
    """Register addresses (0-based) of the plasma cleaner map."""

    CHAMBER_STATE = 0
    ALARMS = 1
    INTERLOCKS = 2
    PRESSURE_MTORR_HI = 3
    PRESSURE_MTORR_LO = 4
    RF_FORWARD_W = 5
    RF_REFLECTED_W = 6
    GAS_FLOW_SCCM = 7
    GAS_ACTUAL = 8
    STEP_INDEX = 9
    STEP_REMAINING_DS = 10
    ELAPSED_DS_HI = 11
    ELAPSED_DS_LO = 12
    RECIPES_COMPLETED = 13
    LAST_RESULT = 14
    DOOR_CLOSED = 15
    SLOT_CAPACITY = 16
    SLOTS_OCCUPIED = 17
    BASE_PRESSURE_MTORR = 18
    COMMAND_ERROR = 19
    SERIAL_NUMBER = 20
    SLOT_IDS = 40
    STEP_COUNT = 200
    STEPS = 210
    COMMAND = 300
    COMMAND_SLOT = 301
    COMMAND_WAFER_ID = 302


STATUS_REGISTERS = 20
SLOT_ID_REGISTERS = 8
MAX_SLOTS = 8
MAX_STEPS = 8
STEP_STRIDE = 10


class Command(IntEnum):
    """Codes written to the command register."""

    PUMP_DOWN = 1
    VENT = 2
    START_RECIPE = 3
    ABORT = 4
    OPEN_DOOR = 5
    CLOSE_DOOR = 6
    RESET_ALARMS = 7
    LOAD_WAFER = 8
    UNLOAD_WAFER = 9


class CommandError(IntEnum):
    """Why the tool refused the last command or setpoint (register 19)."""

    NONE = 0
    UNKNOWN_COMMAND = 1
    WRONG_STATE = 2
    INTERLOCK_OPEN = 3
    OUT_OF_RANGE = 4
    SLOT_OCCUPIED = 5
    SLOT_EMPTY = 6
    BAD_WAFER_ID = 7
    ALARM_ACTIVE = 8


COMMAND_ERROR_TEXT = {
    CommandError.NONE: "no reason given",
    CommandError.UNKNOWN_COMMAND: "unknown command code",
    CommandError.WRONG_STATE: "not allowed in the chamber's present state",
    CommandError.INTERLOCK_OPEN: "an interlock is open",
    CommandError.OUT_OF_RANGE: "value out of range",
    CommandError.SLOT_OCCUPIED: "slot already holds a wafer",
    CommandError.SLOT_EMPTY: "slot is empty",
    CommandError.BAD_WAFER_ID: "wafer id not printable ASCII, or already loaded",
    CommandError.ALARM_ACTIVE: "an alarm is active; reset first",
}


class LastResult(IntEnum):
    NONE = 0
    COMPLETED = 1
    ABORTED = 2
    FAULTED = 3


GAS_CODES = {Gas.O2: 1, Gas.AR: 2, Gas.FORMING_GAS: 3}
GAS_OF_CODE = {code: gas for gas, code in GAS_CODES.items()}

ALARM_BITS = {
    0: "REFLECTED_POWER",
    1: "BASE_PRESSURE_NOT_REACHED",
    2: "GAS_FLOW",
    3: "PRESSURE_CONTROL",
    4: "DOOR_OPENED_IN_PROCESS",
}
ALARM_TEXT = {
    "REFLECTED_POWER": "RF reflected power above its limit; RF switched off",
    "BASE_PRESSURE_NOT_REACHED": "base pressure not reached within the pump-down time",
    "GAS_FLOW": "gas flow outside its tolerance",
    "PRESSURE_CONTROL": "chamber pressure outside its tolerance",
    "DOOR_OPENED_IN_PROCESS": "door interlock opened during processing",
}
INTERLOCK_BITS = {0: "door_closed", 1: "base_pressure", 2: "gas_supply", 3: "rf_permissive"}

#: Tool states in which the chamber accepts door, load and unload commands.
READY_STATES = (ToolState.IDLE, ToolState.ENGINEERING)

#: Process-time allowances for the chamber cycle, beyond which a wait is a timeout.
PUMP_DOWN_TIMEOUT_S = 600.0
VENT_TIMEOUT_S = 300.0
RECIPE_TIMEOUT_MARGIN_S = 120.0


class ModbusPlasmaCleaner(PlasmaCleaner):
    """Drives a plasma chamber PLC that implements the packline plasma cleaner register map."""

    link_type = ModbusLink
    limits = {
        "flow_sccm": Limit(20, 300, "sccm"),
        "pressure_mtorr": Limit(50, 500, "mTorr"),
        "rf_power_w": Limit(100, 1000, "W"),
        "time_s": Limit(30, 600, "s"),
        "steps": Limit(1, MAX_STEPS, "steps"),
    }
    link: ModbusLink

    # ----------------------------------------------------------------- queries

    async def request_identity(self) -> Identity:
        return await request_plc_identity(self, Reg.SERIAL_NUMBER)

    async def _read_status_block(self) -> list[int]:
        return await self.link.read_holding_registers(Reg.CHAMBER_STATE, STATUS_REGISTERS)

    async def request_status(self) -> PlasmaStatus:
        regs = await self._read_status_block()
        return self._status_from(regs)

    def _status_from(self, regs: list[int]) -> PlasmaStatus:
        try:
            chamber = ChamberState(regs[Reg.CHAMBER_STATE])
        except ValueError:
            raise ProtocolError(
                self.name,
                self.address,
                "read status",
                f"chamber state {regs[Reg.CHAMBER_STATE]} is not in the register map",
            ) from None
        return PlasmaStatus(
            chamber=chamber,
            pressure_mtorr=float(
                registers_to_u32(regs[Reg.PRESSURE_MTORR_HI], regs[Reg.PRESSURE_MTORR_LO])
            ),
            rf_forward_w=float(regs[Reg.RF_FORWARD_W]),
            rf_reflected_w=float(regs[Reg.RF_REFLECTED_W]),
            gas_flow_sccm=float(regs[Reg.GAS_FLOW_SCCM]),
            gas=GAS_OF_CODE.get(regs[Reg.GAS_ACTUAL]),
            step=regs[Reg.STEP_INDEX],
            step_remaining_s=regs[Reg.STEP_REMAINING_DS] / 10,
            door_closed=bool(regs[Reg.DOOR_CLOSED]),
            recipes_completed=regs[Reg.RECIPES_COMPLETED],
        )

    async def request_alarms(self) -> dict[str, str]:
        (word,) = await self.link.read_holding_registers(Reg.ALARMS, 1)
        return {code: ALARM_TEXT[code] for code in bits_set(word, ALARM_BITS)}

    async def request_interlocks(self) -> dict[str, bool]:
        (word,) = await self.link.read_holding_registers(Reg.INTERLOCKS, 1)
        return {name: bool(word >> bit & 1) for bit, name in INTERLOCK_BITS.items()}

    async def request_slots(self) -> list[str | None]:
        capacity, occupied = await self.link.read_holding_registers(Reg.SLOT_CAPACITY, 2)
        if not 1 <= capacity <= MAX_SLOTS:
            raise ProtocolError(
                self.name, self.address, "read slots", f"slot capacity {capacity} out of 1-8"
            )
        ids = await self.link.read_holding_registers(Reg.SLOT_IDS, SLOT_ID_REGISTERS * capacity)
        slots: list[str | None] = []
        for slot in range(capacity):
            if not occupied >> slot & 1:
                slots.append(None)
                continue
            block = ids[slot * SLOT_ID_REGISTERS : (slot + 1) * SLOT_ID_REGISTERS]
            try:
                slots.append(registers_to_ascii(block))
            except ValueError as error:
                raise ProtocolError(
                    self.name, self.address, "read slots", f"slot {slot} id: {error}"
                ) from None
        return slots

    # ----------------------------------------------------------------- commands

    async def _command(
        self, action: str, command: Command, parameters: tuple[int, ...] = ()
    ) -> None:
        """Write parameters then the command code; a refusal is explained from register 19."""
        await send_command(
            self, action, Reg.COMMAND, command, self._refusal_reason, Reg.COMMAND_SLOT, parameters
        )

    async def _refusal_reason(self) -> str:
        """Why the tool refused (register 19), with the open interlocks when one was the cause."""
        (code,) = await self.link.read_holding_registers(Reg.COMMAND_ERROR, 1)
        reason = reason_text(code, COMMAND_ERROR_TEXT)
        if code == CommandError.INTERLOCK_OPEN:
            reason += ": " + await open_interlocks(self)
        return reason

    async def _wait_chamber(
        self, action: str, target: ChamberState, timeout_s: float
    ) -> PlasmaStatus:
        """Poll until the chamber reaches `target`; an alarm or a timeout ends the wait.

        A pump that never gets there is stopped (`wait_until` aborts): the chamber vents.
        """
        status: PlasmaStatus  # the latest, for the timeout message

        async def poll() -> PlasmaStatus | None:
            nonlocal status
            status = self._status_from(await self._read_status_block())
            self._record_status(status)
            if status.chamber is target:
                return status
            if status.chamber is ChamberState.FAULT:
                await self.refresh_alarms()
                raise self.alarm_error(action)
            return None

        return await self.wait_until(
            action, poll, timeout_s, lambda: f"chamber still {status.chamber.name.lower()}"
        )

    def _record_status(self, status: PlasmaStatus) -> None:
        self.record_reading("pressure", status.pressure_mtorr, "mTorr")
        self.record_reading("rf_forward", status.rf_forward_w, "W")
        self.record_reading("rf_reflected", status.rf_reflected_w, "W")
        self.record_reading("gas_flow", status.gas_flow_sccm, "sccm")

    async def open_door(self) -> None:
        self.require_state("open door", *READY_STATES)
        await self._command("open door", Command.OPEN_DOOR)

    async def close_door(self) -> None:
        self.require_state("close door", *READY_STATES)
        await self._command("close door", Command.CLOSE_DOOR)

    async def load(self, wafer_id: str, slot: int | None = None) -> int:
        action = f"load wafer {wafer_id}"
        self.require_state(action, *READY_STATES)
        self.check_wafer_id(wafer_id)
        id_registers = ascii_to_registers(wafer_id, SLOT_ID_REGISTERS)
        slots = await self.request_slots()
        if wafer_id in slots:
            raise ValueError(
                f"{self.name}: wafer {wafer_id} is already in slot {slots.index(wafer_id)}"
            )
        if slot is None:
            if None not in slots:
                raise ValueError(f"{self.name}: all {len(slots)} slots are full, cannot {action}")
            slot = slots.index(None)
        elif not 0 <= slot < len(slots):
            raise ValueError(f"{self.name}: slot {slot} does not exist (0-{len(slots) - 1})")
        await self._command(action, Command.LOAD_WAFER, (slot, *id_registers))
        return slot

    async def unload(self, wafer_id: str) -> None:
        action = f"unload wafer {wafer_id}"
        self.require_state(action, *READY_STATES)
        slots = await self.request_slots()
        if wafer_id not in slots:
            raise ValueError(f"{self.name}: wafer {wafer_id} is not in the chamber")
        await self._command(action, Command.UNLOAD_WAFER, (slots.index(wafer_id),))

    async def pump_down(self) -> None:
        async with self.operation("pump down"):
            await self.require_interlocks("pump down", ["door_closed"])
            await self._command("pump down", Command.PUMP_DOWN)
            await self._wait_chamber("pump down", ChamberState.EVACUATED, PUMP_DOWN_TIMEOUT_S)

    async def vent(self) -> None:
        async with self.operation("vent"):
            await self._command("vent", Command.VENT)
            await self._wait_chamber("vent", ChamberState.VENTED, VENT_TIMEOUT_S)

    async def clean(self, recipe: PlasmaRecipe) -> CleanResult:
        action = "clean"
        registers = self._recipe_registers(recipe)
        async with self.operation(action):
            await self.require_interlocks(action, ["door_closed", "base_pressure", "gas_supply"])
            wafer_ids = tuple(w for w in await self.request_slots() if w is not None)
            before = (await self.request_status()).recipes_completed
            try:
                await self.link.write_registers(Reg.STEP_COUNT, [len(recipe.steps)])
                await self.link.write_registers(Reg.STEPS, registers)
            except CommandRefused as refused:
                raise await explain_refusal(
                    self, "write recipe", refused, self._refusal_reason
                ) from None
            await self._command(action, Command.START_RECIPE)
            status = await self._wait_recipe(action, recipe, before)
            elapsed_hi, elapsed_lo = await self.link.read_holding_registers(Reg.ELAPSED_DS_HI, 2)
        return CleanResult(
            wafer_ids=wafer_ids,
            process_time_s=registers_to_u32(elapsed_hi, elapsed_lo) / 10,
            steps=status.step,
        )

    async def _wait_recipe(self, action: str, recipe: PlasmaRecipe, before: int) -> PlasmaStatus:
        """Poll the run to its end; an overrunning run is aborted (RF and gas off)."""

        async def poll() -> PlasmaStatus | None:
            status = await self.request_status()
            self._record_status(status)
            if status.chamber is ChamberState.FAULT:
                await self.refresh_alarms()
                raise self.alarm_error(action)
            if status.recipes_completed != before and status.chamber is ChamberState.EVACUATED:
                (result,) = await self.link.read_holding_registers(Reg.LAST_RESULT, 1)
                if result != LastResult.COMPLETED:
                    raise ToolAlarm(
                        self.name,
                        self.address,
                        action,
                        [f"recipe ended {LastResult(result).name.lower()}"],
                    )
                return status
            return None

        return await self.wait_until(
            action,
            poll,
            recipe.total_time_s + RECIPE_TIMEOUT_MARGIN_S,
            lambda: f"recipe of {recipe.total_time_s:g} s not finished",
        )

    def _recipe_registers(self, recipe: PlasmaRecipe) -> list[int]:
        """Check every setpoint against the limits and encode the steps; nothing is sent here."""
        self.check_limit("clean", "steps", len(recipe.steps))
        registers: list[int] = []
        for index, step in enumerate(recipe.steps):
            action = f"clean step {index + 1}"
            try:
                gas_code = GAS_CODES[Gas(step.gas)]
            except ValueError:
                raise ValueError(
                    f"{self.name}: {action}: gas {step.gas!r} is not one of "
                    f"{', '.join(gas.value for gas in GAS_CODES)}"
                ) from None
            registers += [
                gas_code,
                round(self.check_limit(action, "flow_sccm", step.flow_sccm)),
                round(self.check_limit(action, "pressure_mtorr", step.pressure_mtorr)),
                round(self.check_limit(action, "rf_power_w", step.rf_power_w)),
                round(self.check_limit(action, "time_s", step.time_s) * 10),
            ]
            registers += [0] * (STEP_STRIDE - 5)
        return registers[: STEP_STRIDE * (len(recipe.steps) - 1) + 5]

    # ----------------------------------------------------------------- alarms and safety

    async def _clear_alarms(self) -> None:
        await self._command("reset alarms", Command.RESET_ALARMS)

    async def _command_safe_state(self) -> None:
        """RF off and gases closed (the ABORT command): a run ends aborted, a pump-down vents."""
        await self.link.write_register(Reg.COMMAND, Command.ABORT)
