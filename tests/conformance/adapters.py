"""One small adapter per tool kind: what the conformance suite needs to drive that tool.

Everything generic (the spec, the driver class, the simulated tool class) comes from the
registry; an adapter says only how to get the tool ready for a short process operation, how to
run it with one of its setpoints overridden, which injected faults open an interlock or raise
an alarm, and how the simulated tool shows that it is running or safe. A new tool joins the
suite with one class here and one entry in `ADAPTERS`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import replace
from typing import Any, ClassVar

from packline.drivers.roles.ball_mounter import (
    BallAlloy,
    BallMap,
    BallMounterPhase,
    FluxMethod,
)
from packline.drivers.roles.deposition import (
    DepositionRecipe,
    DepositionStep,
    Material,
    Method,
    ProcessGas,
)
from packline.drivers.roles.dicing_saw import DicingRecipe, SawState
from packline.drivers.roles.dispenser import FillMaterial
from packline.drivers.roles.electroplater import CellPhase, Metal, PlatingRecipe
from packline.drivers.roles.flip_chip_bonder import BondRecipe
from packline.drivers.roles.grinder import GrindPhase, GrindRecipe, GrindSide
from packline.drivers.roles.laminator import (
    LaminationJob,
    LaminatorPhase,
    PressRecipe,
    ResinSheet,
    SupportKind,
)
from packline.drivers.roles.laser import DrillRecipe
from packline.drivers.roles.lithography import CoatMaterial
from packline.drivers.roles.oven import OvenState, cure_profile
from packline.drivers.roles.plasma_cleaner import ChamberState, Gas, PlasmaRecipe, PlasmaStep
from packline.drivers.roles.resin_coater import CoatResin
from packline.drivers.roles.stencil_printer import PrinterPhase, PrintRecipe, SolderPaste
from packline.drivers.roles.wet_bench import Tank
from packline.drivers.roles.wire_bonder import BonderState, BondProgram, WireMaterial
from packline.sim_instruments.twin import PanelSpec, ResinKind, TwinStore, WaferSpec
from packline.sim_instruments.twin.parts import Film, FilmMaterial
from packline.testing import Rig
from packline.testing.twin import (
    SMALL_PANEL,
    bumped_dies,
    drill_holes,
    filled_panel,
    sealed_solder_bumps,
)

#: A small wafer, so every process step is short in simulated time and cheap in arrays.
SMALL_WAFER = WaferSpec(diameter_mm=100, pads_per_die_side=4)


class ToolAdapter(ABC):
    """How the conformance suite drives one tool kind."""

    #: The registry kind.
    kind: ClassVar[str]
    #: A setpoint that `operate` sends, used for the limit and range checks.
    probe: ClassVar[str]
    #: An injectable fault that opens an interlock `operate` needs, and that interlock's name.
    interlock_fault: ClassVar[tuple[str, str]]
    #: An injectable fault that makes `operate` end in an alarm, and the alarm's code; it is
    #: injected once the operation is `running`.
    alarm_fault: ClassVar[tuple[str, str]]
    #: How the tool refuses a value beyond its range: the refusal's code and words in it.
    range_refusal: ClassVar[tuple[str, str]]

    def twin(self) -> TwinStore:
        return TwinStore(SMALL_WAFER)

    @abstractmethod
    async def prepare(self, rig: Rig[Any, Any], wafer_id: str = "W01") -> None:
        """Get the tool ready for `operate` (the wafer loaded, a chamber evacuated...)."""

    @abstractmethod
    async def operate(self, rig: Rig[Any, Any], **setpoints: float) -> object:
        """One short process operation, with `setpoints` (e.g. the probe) overriding its own."""

    @abstractmethod
    def running(self, sim: Any) -> bool:
        """The simulated tool is in the middle of the operation."""

    @abstractmethod
    def safe(self, sim: Any) -> bool:
        """The simulated tool is in its safe state (nothing moving, no energy)."""

    @abstractmethod
    def empty(self, sim: Any) -> bool:
        """No workpiece is in or on the simulated tool."""


class Laminator(ToolAdapter):
    kind = "laminator"
    probe = "temperature_c"
    interlock_fault = ("lid_switch", "lid_closed")
    alarm_fault = ("heater_runaway", "OVER_TEMPERATURE")
    range_refusal = ("ILLEGAL_DATA_VALUE", "value out of range")

    async def prepare(self, rig: Rig[Any, Any], wafer_id: str = "W01") -> None:
        await rig.driver.load(wafer_id)

    async def operate(self, rig: Rig[Any, Any], **setpoints: float) -> object:
        recipe = PressRecipe(
            vacuum_pa=100, vacuum_hold_s=20, temperature_c=100, press_pressure_mpa=0.5,
            press_time_s=60, cool_to_c=35,
        )  # fmt: skip
        job = LaminationJob(ResinSheet(45, SupportKind.FILM), replace(recipe, **setpoints))
        return await rig.driver.laminate(job)

    def running(self, sim: Any) -> bool:
        return sim.phase is LaminatorPhase.PRESSING

    def safe(self, sim: Any) -> bool:
        return sim.phase in (LaminatorPhase.READY, LaminatorPhase.FAULT) and sim.job is None

    def empty(self, sim: Any) -> bool:
        return sim.wafer_id is None


class BallMounter(ToolAdapter):
    kind = "ball_mounter"
    probe = "ball_diameter_um"
    interlock_fault = ("door_switch", "door_closed")
    alarm_fault = ("head_vacuum_leak", "HEAD_VACUUM_LOST")
    range_refusal = ("ILLEGAL_DATA_VALUE", "value out of range")
    ball_map = BallMap.every(16)

    async def prepare(self, rig: Rig[Any, Any], wafer_id: str = "W01") -> None:
        await rig.driver.load(wafer_id)
        await rig.driver.apply_flux(self.ball_map, FluxMethod.PRINT, 90)

    async def operate(self, rig: Rig[Any, Any], **setpoints: float) -> object:
        diameter_um = setpoints.get("ball_diameter_um", 300)
        return await rig.driver.mount_balls(self.ball_map, diameter_um, BallAlloy.SAC305)

    def running(self, sim: Any) -> bool:
        return sim.phase is BallMounterPhase.MOUNTING

    def safe(self, sim: Any) -> bool:
        return sim.phase in (BallMounterPhase.READY, BallMounterPhase.FAULT) and sim.cycle is None

    def empty(self, sim: Any) -> bool:
        return sim.wafer_id is None


class PlasmaCleaner(ToolAdapter):
    kind = "plasma_cleaner"
    probe = "rf_power_w"
    interlock_fault = ("gas_supply", "gas_supply")
    alarm_fault = ("rf_mismatch", "REFLECTED_POWER")
    range_refusal = ("ILLEGAL_DATA_VALUE", "value out of range")

    async def prepare(self, rig: Rig[Any, Any], wafer_id: str = "W01") -> None:
        await rig.driver.open_door()
        await rig.driver.load(wafer_id)
        await rig.driver.close_door()
        await rig.driver.pump_down()

    async def operate(self, rig: Rig[Any, Any], **setpoints: float) -> object:
        step = replace(PlasmaStep(Gas.O2, 100, 200, 300, 60), **setpoints)
        return await rig.driver.clean(PlasmaRecipe((step,)))

    def running(self, sim: Any) -> bool:
        return sim.chamber is ChamberState.PROCESSING

    def safe(self, sim: Any) -> bool:
        return sim.chamber is not ChamberState.PROCESSING  # RF and gas are on only then

    def empty(self, sim: Any) -> bool:
        return all(slot is None for slot in sim.slots)


class Oven(ToolAdapter):
    kind = "oven"
    probe = "n2_flow_slm"
    interlock_fault = ("n2_supply", "n2_supply")
    alarm_fault = ("zone_sensor_break", "ZONE_ALARM")
    range_refusal = ("ILLEGAL_DATA_VALUE", "value out of range")

    async def prepare(self, rig: Rig[Any, Any], wafer_id: str = "W01") -> None:
        await rig.driver.open_door()
        await rig.driver.load(wafer_id)
        await rig.driver.close_door()

    async def operate(self, rig: Rig[Any, Any], **setpoints: float) -> object:
        await rig.driver.purge(**{"n2_flow_slm": 60.0, "o2_limit_ppm": 1000, **setpoints})
        profile = cure_profile(80, 30, ramp_c_per_min=60, cool_to_c=58, cool_c_per_min=60)
        return await rig.driver.run_profile(profile)

    def running(self, sim: Any) -> bool:
        return sim.state is OvenState.RUNNING

    def safe(self, sim: Any) -> bool:
        return sim.state is not OvenState.RUNNING  # the heaters have power only then

    def empty(self, sim: Any) -> bool:
        return not sim.loaded()


class Deposition(ToolAdapter):
    kind = "deposition"
    probe = "power_w"
    interlock_fault = ("cooling_water", "cooling_water")
    alarm_fault = ("target_arcing", "ARCING")
    range_refusal = ("ILLEGAL_DATA_VALUE", "value out of range")

    async def prepare(self, rig: Rig[Any, Any], wafer_id: str = "W01") -> None:
        await rig.driver.open_door()
        await rig.driver.load(wafer_id)
        await rig.driver.close_door()
        await rig.driver.pump_down()

    async def operate(self, rig: Rig[Any, Any], **setpoints: float) -> object:
        step = DepositionStep(
            Method.SPUTTER, Material.CU, time_s=120, power_w=1000, pressure_mtorr=3,
            gas=ProcessGas.AR, flow_sccm=40,
        )  # fmt: skip
        recipe = DepositionRecipe((replace(step, **setpoints),), base_pressure_utorr=50)
        return await rig.driver.deposit(recipe)

    def running(self, sim: Any) -> bool:
        return sim.chamber is ChamberState.PROCESSING

    def safe(self, sim: Any) -> bool:
        return sim.chamber is not ChamberState.PROCESSING  # power and gas are on only then

    def empty(self, sim: Any) -> bool:
        return not sim.loaded()


class WireBonder(ToolAdapter):
    kind = "wire_bonder"
    probe = "bond_force_gf"
    interlock_fault = ("cover_open", "cover_closed")
    alarm_fault = ("wire_break", "WIRE_BREAK")
    range_refusal = ("3", "outside")

    async def prepare(self, rig: Rig[Any, Any], wafer_id: str = "W01") -> None:
        await rig.driver.load(wafer_id)

    async def operate(self, rig: Rig[Any, Any], **setpoints: float) -> object:
        program = replace(BondProgram(WireMaterial.AU, 25, 150, 35, 60, 12), **setpoints)
        return await rig.driver.form_stud_bumps(program)

    def running(self, sim: Any) -> bool:
        return sim.state is BonderState.BUMPING and sim.run is not None and sim.run.done > 10

    def safe(self, sim: Any) -> bool:
        return sim.state is not BonderState.BUMPING

    def empty(self, sim: Any) -> bool:
        return sim.wafer_id is None


class Laser(ToolAdapter):
    kind = "laser"
    probe = "drill_fluence_j_cm2"
    interlock_fault = ("enclosure_opened", "enclosure_closed")
    alarm_fault = ("power_drift", "POWER_TOLERANCE")
    range_refusal = ("-222", "Data out of range")

    def twin(self) -> TwinStore:
        twin = super().twin()
        # laminated: vias to drill down to the pads
        twin.get("W01").add_resin(ResinKind.THERMOSET, 50.0)
        return twin

    async def prepare(self, rig: Rig[Any, Any], wafer_id: str = "W01") -> None:
        await rig.driver.open_enclosure()
        await rig.driver.load(wafer_id)
        await rig.driver.close_enclosure()

    async def operate(self, rig: Rig[Any, Any], **setpoints: float) -> object:
        fluence = setpoints.get("drill_fluence_j_cm2", 3.0)
        return await rig.driver.drill_vias(DrillRecipe(30, fluence, 100))

    def running(self, sim: Any) -> bool:
        return sim.emission and sim.shutter_open

    def safe(self, sim: Any) -> bool:
        return not sim.emission and not sim.shutter_open

    def empty(self, sim: Any) -> bool:
        return sim.chuck.wafer_id is None


class Grinder(ToolAdapter):
    kind = "grinder"
    probe = "spindle_rpm"
    interlock_fault = ("water_supply", "grinding_water")
    alarm_fault = ("gauge_fault", "GAUGE_FAULT")
    range_refusal = ("-222", "Data out of range")

    async def prepare(self, rig: Rig[Any, Any], wafer_id: str = "W01") -> None:
        await rig.driver.load(wafer_id, GrindSide.BACK)
        await rig.driver.apply_chuck_vacuum()

    async def operate(self, rig: Rig[Any, Any], **setpoints: float) -> object:
        return await rig.driver.grind(replace(GrindRecipe(300), **setpoints))

    def running(self, sim: Any) -> bool:
        return sim.phase is GrindPhase.COARSE

    def safe(self, sim: Any) -> bool:
        return sim.phase in (GrindPhase.IDLE, GrindPhase.FAULT)

    def empty(self, sim: Any) -> bool:
        return sim.wafer_id is None


class DicingSaw(ToolAdapter):
    kind = "dicing_saw"
    probe = "feed_mm_s"
    interlock_fault = ("water_loss", "cutting_water")
    alarm_fault = ("blade_crack", "BLADE_BROKEN")
    range_refusal = ("3", "outside")

    async def prepare(self, rig: Rig[Any, Any], wafer_id: str = "W01") -> None:
        await rig.driver.mount(wafer_id)

    async def operate(self, rig: Rig[Any, Any], **setpoints: float) -> object:
        return await rig.driver.dice(
            replace(DicingRecipe(spindle_krpm=30, feed_mm_s=30), **setpoints)
        )

    def running(self, sim: Any) -> bool:
        return sim.state is SawState.CUTTING

    def safe(self, sim: Any) -> bool:
        return sim.state is not SawState.CUTTING

    def empty(self, sim: Any) -> bool:
        return sim.workpiece_id is None


class Lithography(ToolAdapter):
    kind = "lithography"
    probe = "spin_rpm"
    interlock_fault = ("exhaust_loss", "cup_exhaust")
    alarm_fault = ("dispense_fail", "DISPENSE_FAILED")
    range_refusal = ("3", "outside")

    async def prepare(self, rig: Rig[Any, Any], wafer_id: str = "W01") -> None:
        await rig.driver.load(wafer_id)

    async def operate(self, rig: Rig[Any, Any], **setpoints: float) -> object:
        return await rig.driver.coat(CoatMaterial.PR_THICK, setpoints.get("spin_rpm", 4000))

    def running(self, sim: Any) -> bool:
        return sim.job is not None

    def safe(self, sim: Any) -> bool:
        return sim.job is None  # no spin, no shutter open, no developer flowing

    def empty(self, sim: Any) -> bool:
        return sim.wafer_id is None


class Electroplater(ToolAdapter):
    kind = "electroplater"
    probe = "agitation_rpm"
    interlock_fault = ("lid_opened", "lid_closed")
    alarm_fault = ("level_drop", "LEVEL_LOW")
    range_refusal = ("ILLEGAL_DATA_VALUE", "value out of range")

    def twin(self) -> TwinStore:
        twin = super().twin()
        for wafer_id in ("W01", "W02"):  # a sputtered seed to plate on (001:9)
            count = twin.get(wafer_id).geometry.site_count
            twin.get(wafer_id).films.layers.append(Film.blanket(FilmMaterial.CU, 0.2, count))
        return twin

    async def prepare(self, rig: Rig[Any, Any], wafer_id: str = "W01") -> None:
        await rig.driver.load(wafer_id)

    async def operate(self, rig: Rig[Any, Any], **setpoints: float) -> object:
        recipe = PlatingRecipe(
            Metal.CU, current_density_a_dm2=2, thickness_um=1, plated_area_cm2=69.4
        )
        return await rig.driver.plate(replace(recipe, **setpoints))

    def running(self, sim: Any) -> bool:
        return sim.supply.operating_point().current_a > 0

    def safe(self, sim: Any) -> bool:
        return not sim.supply.output_on and sim.phase in (CellPhase.READY, CellPhase.FAULT)

    def empty(self, sim: Any) -> bool:
        return sim.wafer_id is None


class WetBench(ToolAdapter):
    kind = "wet_bench"
    probe = "dip_time_s"
    interlock_fault = ("exhaust_loss", "bench_exhaust")
    alarm_fault = ("level_low", "LEVEL_LOW")
    range_refusal = ("3", "outside")

    async def prepare(self, rig: Rig[Any, Any], wafer_id: str = "W01") -> None:
        await rig.driver.load(wafer_id)

    async def operate(self, rig: Rig[Any, Any], **setpoints: float) -> object:
        return await rig.driver.etch(Tank.CU_ETCH, setpoints.get("dip_time_s", 60))

    def running(self, sim: Any) -> bool:
        return sim.job is not None and not sim.job.applied

    def safe(self, sim: Any) -> bool:
        return sim.job is None  # the wafer out of the chemistry, the dryer stopped

    def empty(self, sim: Any) -> bool:
        return sim.wafer_id is None


class ResinCoater(ToolAdapter):
    kind = "resin_coater"
    probe = "spin_rpm"
    interlock_fault = ("lid_open", "lid_closed")
    alarm_fault = ("exhaust_loss", "EXHAUST_LOST")
    range_refusal = ("3", "outside")

    async def prepare(self, rig: Rig[Any, Any], wafer_id: str = "W01") -> None:
        await rig.driver.load(wafer_id)

    async def operate(self, rig: Rig[Any, Any], **setpoints: float) -> object:
        return await rig.driver.coat_resin(
            CoatResin.THERMOSET, setpoints.get("spin_rpm", 2000), setpoints.get("spin_time_s", 30)
        )

    def running(self, sim: Any) -> bool:
        return sim.job is not None

    def safe(self, sim: Any) -> bool:
        return sim.job is None  # the spindle, the dispense and the plate stopped

    def empty(self, sim: Any) -> bool:
        return sim.wafer_id is None


class Dispenser(ToolAdapter):
    kind = "dispenser"
    probe = "fill_volume_nl"
    interlock_fault = ("air_loss", "jet_air")
    alarm_fault = ("door_open", "DOOR_OPENED")
    range_refusal = ("3", "outside")

    def twin(self) -> TwinStore:
        return TwinStore(PanelSpec(rows=2, columns=3, holes_per_die_side=4))

    async def prepare(self, rig: Rig[Any, Any], wafer_id: str = "W01") -> None:
        drill_holes(rig.twin.get(wafer_id), 100)  # the panel as the laser's 000:a leaves it
        await rig.driver.load(wafer_id)

    async def operate(self, rig: Rig[Any, Any], **setpoints: float) -> object:
        return await rig.driver.fill_holes(
            FillMaterial.AG_PASTE, setpoints.get("fill_volume_nl", 0.3), 0.289
        )

    def running(self, sim: Any) -> bool:
        return sim.job is not None

    def safe(self, sim: Any) -> bool:
        return sim.job is None  # the jet valve closed, the gantry parked

    def empty(self, sim: Any) -> bool:
        return sim.wafer_id is None


class FlipChipBonder(ToolAdapter):
    kind = "flip_chip_bonder"
    probe = "head_temperature_c"
    interlock_fault = ("air_loss", "head_air")
    alarm_fault = ("door_open", "DOOR_OPENED")
    range_refusal = ("3", "outside")

    def twin(self) -> TwinStore:
        twin = TwinStore(SMALL_PANEL)
        bumped_dies(twin, "S01")
        return twin

    async def prepare(self, rig: Rig[Any, Any], wafer_id: str = "W01") -> None:
        if wafer_id not in rig.twin:
            filled_panel(rig.twin, wafer_id)
        await rig.driver.load(wafer_id)
        await rig.driver.load_die_source("S01")

    async def operate(self, rig: Rig[Any, Any], **setpoints: float) -> object:
        recipe = replace(BondRecipe(250, 150, 20, 5), **setpoints)
        return await rig.driver.bond_dies(recipe, unit_count=1)

    def running(self, sim: Any) -> bool:
        return sim.run is not None

    def safe(self, sim: Any) -> bool:
        return sim.run is None  # the head up, its heater and force off

    def empty(self, sim: Any) -> bool:
        return sim.wafer_id is None and sim.source_id is None


class StencilPrinter(ToolAdapter):
    kind = "stencil_printer"
    probe = "aperture_um"
    interlock_fault = ("stencil_unclamped", "stencil_clamped")
    alarm_fault = ("squeegee_jam", "SQUEEGEE_STALL")
    range_refusal = ("ILLEGAL_DATA_VALUE", "value out of range")

    async def prepare(self, rig: Rig[Any, Any], wafer_id: str = "W01") -> None:
        # 003:19's high-melting bumps through a 60 um film: the 30 um stencil lies on it
        sealed_solder_bumps(rig.twin.get(wafer_id), 60.0)
        await rig.driver.load(wafer_id)

    async def operate(self, rig: Rig[Any, Any], **setpoints: float) -> object:
        recipe = PrintRecipe(SolderPaste.SNPB_EUTECTIC, 30, 100, 60, 40, 1.0)
        return await rig.driver.print_paste(replace(recipe, **setpoints))

    def running(self, sim: Any) -> bool:
        return sim.phase is PrinterPhase.PRINTING

    def safe(self, sim: Any) -> bool:
        return sim.phase in (PrinterPhase.READY, PrinterPhase.FAULT) and sim.cycle is None

    def empty(self, sim: Any) -> bool:
        return sim.wafer_id is None


ADAPTERS: dict[str, ToolAdapter] = {
    adapter.kind: adapter
    for adapter in (
        Laminator(),
        PlasmaCleaner(),
        WireBonder(),
        Laser(),
        Grinder(),
        DicingSaw(),
        Lithography(),
        Electroplater(),
        Oven(),
        Deposition(),
        WetBench(),
        BallMounter(),
        ResinCoater(),
        Dispenser(),
        FlipChipBonder(),
        StencilPrinter(),
    )
}
