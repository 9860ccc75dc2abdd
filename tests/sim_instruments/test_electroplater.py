"""Hardware-in-the-loop: the real electroplater driver against the simulated plating cell.

Process time runs on a VirtualClock shared by driver and simulator. Faraday's law, the
exposed and connected seed, the current-density window, the bath's age and temperature and the
two devices' alarms are checked with numbers, on the physics' arrays and on the workpiece twin
after the driver ran the tool.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Mapping
from dataclasses import replace

import numpy as np
import pytest
import pytest_asyncio
import yaml

from packline import testing
from packline.clock import VirtualClock
from packline.drivers.electroplater import ModbusScpiElectroplater
from packline.drivers.equipment import ToolState
from packline.drivers.errors import (
    CommandRefused,
    InterlockOpen,
    ToolAlarm,
    ToolError,
    ToolTimeout,
    WorkpieceRefused,
)
from packline.drivers.roles.electroplater import (
    FARADAY_C_PER_MOL,
    METALS,
    CellPhase,
    Metal,
    PlatingRecipe,
    accepted_area_cm2,
    area_mismatch,
    charge_for_thickness_c,
    current_window_a_dm2,
)
from packline.drivers.roles.lithography import RETICLES, CoatMaterial, Feature, Reticle
from packline.drivers.specs.electroplater import XRF_POINTS
from packline.sim_instruments.electroplater import SimElectroplater
from packline.sim_instruments.physics.electroplater import (
    DepositQuality,
    PlatingPhysics,
    cathode_efficiency,
    cathode_of,
    deposit_quality,
    deposited_thickness_um,
    electroplate,
    nearest_sites,
    plate,
    plating_sites,
)
from packline.sim_instruments.physics.lithography import (
    LithoPhysics,
    bake,
    clearing_dose_mj_cm2,
    coat,
    develop_film,
    expose,
)
from packline.sim_instruments.twin import TwinStore, WaferSpec, Workpiece
from packline.sim_instruments.twin.parts import Film, FilmMaterial, ResinKind
from packline.station import Station, load_station

SMALL_WAFER = WaferSpec(diameter_mm=100, pads_per_die_side=4)
#: The blanket seed of a 100 mm wafer with 3 mm edge exclusion, cm2.
BLANKET_CM2 = math.pi * 4.7**2
PHYSICS = PlatingPhysics()


def recipe(**changes: object) -> PlatingRecipe:
    base = PlatingRecipe(
        Metal.CU, current_density_a_dm2=2.0, thickness_um=5.0, plated_area_cm2=BLANKET_CM2
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def seeded(twin: TwinStore, *wafer_ids: str, seed_um: float = 0.2) -> TwinStore:
    """`twin` with a blanket Cu seed (sputtered, 001:9) on each of `wafer_ids`."""
    for wafer_id in wafer_ids:
        workpiece = twin.get(wafer_id)
        count = workpiece.geometry.site_count
        workpiece.films.layers.append(Film.blanket(FilmMaterial.CU, seed_um, count))
    return twin


async def open_cell(
    metal: Metal = Metal.CU, twin: TwinStore | None = None
) -> testing.Rig[SimElectroplater, ModbusScpiElectroplater]:
    twin = twin or seeded(TwinStore(SMALL_WAFER), "W01", "W02")
    sim = SimElectroplater("electroplater", twin, VirtualClock(), metal=metal)
    return await testing.open_rig(sim, ModbusScpiElectroplater, poll_interval_s=5.0)


@pytest_asyncio.fixture
async def rig() -> AsyncIterator[testing.Rig[SimElectroplater, ModbusScpiElectroplater]]:
    rig = await open_cell()
    yield rig
    await rig.close()


def last_plating(rig: testing.Rig, wafer_id: str = "W01") -> dict:
    event = rig.twin.get(wafer_id).history[-1]
    assert event.operation == "electroplate"
    return event.detail


# ----------------------------------------------------------------- Faraday's law, on arrays


def test_faradays_law_by_hand_for_copper():
    # 1 C on 1 cm2 at 100 %: 63.546 / (2 x 96485.33) g = 3.293e-4 g; / 8.96 g/cm3 = 0.3675 um
    assert METALS[Metal.CU].thickness_per_charge_um_cm2_per_c() == pytest.approx(0.36753, 1e-4)
    assert deposited_thickness_um(Metal.CU, 100.0, 1.0, 10.0) == pytest.approx(3.6753, 1e-4)
    assert charge_for_thickness_c(Metal.CU, 3.6753, 10.0, 1.0) == pytest.approx(100.0, 1e-4)
    # gold is monovalent and dense: 1 C on 1 cm2 is 196.967 / 96485.33 / 19.32 cm = 1.0566 um
    assert METALS[Metal.AU].thickness_per_charge_um_cm2_per_c() == pytest.approx(1.0566, 1e-4)
    assert round(FARADAY_C_PER_MOL, 2) == 96485.33


def test_metal_deposits_only_on_exposed_connected_seed():
    seed_um = np.array([0.2, 0.2, 0.2, 0.0, 0.2], np.float32)
    under_resist = np.array([False, True, False, False, False])
    connected = np.array([True, True, False, True, True])
    sites = plating_sites(seed_um, under_resist, connected)
    assert sites.tolist() == [True, False, False, False, True]
    area = np.full(5, 0.5)  # cm2 per site: 1 cm2 plates
    deposit = plate(Metal.CU, 27.21, 60.0, area, sites, 25.0, 60.0, 0.0, PHYSICS)
    assert deposit.area_cm2 == 1.0
    # 27.21 C x 0.98 x 0.36753 um cm2/C / 1 cm2 = 9.80 um, on the plating sites only
    assert deposit.thickness_um.tolist() == pytest.approx([9.800, 0, 0, 0, 9.800], abs=1e-3)
    assert deposit.current_density_a_dm2 == pytest.approx(27.21 / 60 * 100)  # 45 A/dm2: burnt
    assert deposit.quality is DepositQuality.BURNT


def test_an_island_the_cathode_does_not_reach_takes_no_current_and_the_rest_takes_more():
    """The same charge over a smaller connected area: thicker, at a higher current density."""
    area = np.full(4, 25.0)
    seed = np.ones(4, np.float32)
    all_connected = plating_sites(seed, np.zeros(4, bool), np.ones(4, bool))
    one_island = plating_sites(seed, np.zeros(4, bool), np.array([True, True, True, False]))
    full = plate(Metal.CU, 1000.0, 500.0, area, all_connected, 25.0, 60.0, 0.0, PHYSICS)
    part = plate(Metal.CU, 1000.0, 500.0, area, one_island, 25.0, 60.0, 0.0, PHYSICS)
    assert part.thickness_um[3] == 0
    assert part.thickness_um[0] == pytest.approx(full.thickness_um[0] * 4 / 3)
    assert part.current_density_a_dm2 == pytest.approx(full.current_density_a_dm2 * 4 / 3)


def test_the_current_density_window_grades_the_deposit():
    assert deposit_quality(Metal.CU, 0.2, 25, 60) is DepositQuality.ROUGH
    assert deposit_quality(Metal.CU, 2.0, 25, 60) is DepositQuality.GOOD
    assert deposit_quality(Metal.CU, 5.0, 25, 60) is DepositQuality.BURNT
    assert deposit_quality(Metal.AU, 2.0, 25, 60) is DepositQuality.BURNT
    # a warmer bath and a faster paddle widen the window upward: 5 A/dm2 copper is then good
    assert current_window_a_dm2(Metal.CU, 25, 60) == (0.5, 4.0)
    assert current_window_a_dm2(Metal.CU, 35, 120)[1] == pytest.approx(4.0 * 1.44)
    assert deposit_quality(Metal.CU, 5.0, 35, 120) is DepositQuality.GOOD
    # at the window's end within the cell's setting resolution (0.1 %) is at the end
    edge = PHYSICS.window_edge_share
    assert deposit_quality(Metal.CU, 0.49996, 25, 60, edge) is DepositQuality.GOOD
    assert deposit_quality(Metal.CU, 0.499, 25, 60, edge) is DepositQuality.ROUGH
    assert deposit_quality(Metal.CU, 4.003, 25, 60, edge) is DepositQuality.GOOD
    assert deposit_quality(Metal.CU, 4.005, 25, 60, edge) is DepositQuality.BURNT


def test_an_old_or_off_temperature_bath_deposits_less_per_coulomb():
    assert cathode_efficiency(Metal.CU, 25, 0, PHYSICS) == pytest.approx(0.98)
    assert cathode_efficiency(Metal.CU, 25, 2000, PHYSICS) == pytest.approx(0.98 * 0.9)
    assert cathode_efficiency(Metal.CU, 45, 0, PHYSICS) == pytest.approx(0.98 - 0.04)


def test_the_cathode_is_the_seed_not_under_resist_and_connected():
    twin = seeded(TwinStore(SMALL_WAFER), "W01")
    workpiece = twin.get("W01")
    cathode = cathode_of(workpiece, Metal.CU)
    assert cathode.sites.all()
    assert cathode.site_area_cm2.sum() == pytest.approx(BLANKET_CM2)  # the usable front
    assert cathode.seed is workpiece.films.layers[-1]
    workpiece.resist.thickness_um[::2] = 8.0  # a pattern: resist over every other site
    workpiece.resist.developed_um[::4] = 8.0  # ... developed away on every fourth
    workpiece.films.layers[-1].connected[1::4] = False  # an island the ring does not reach
    sites = cathode_of(workpiece, Metal.CU).sites
    # 0 mod 4 developed open, 1 an island, 2 under resist, 3 never coated
    assert sites.tolist() == [i % 4 in (0, 3) for i in range(sites.size)]


def test_no_seed_no_cathode_but_a_solder_bath_reaches_the_bump_tips():
    workpiece = TwinStore(SMALL_WAFER).get("W01")
    assert not cathode_of(workpiece, Metal.CU).sites.any()
    workpiece.bumps.height_um[:10] = 60.0
    workpiece.bumps.base_diameter_um[:10] = 100.0
    workpiece.add_resin(ResinKind.THERMOSET, 45.0)
    tips = cathode_of(workpiece, Metal.SNPB)
    assert tips.seed is None
    assert tips.sites.tolist() == [True] * 10 + [False] * (tips.sites.size - 10)
    assert tips.site_area_cm2[0] == pytest.approx(math.pi * 0.005**2)  # a 100 um base
    assert not cathode_of(workpiece, Metal.CU).sites.any()  # copper needs a seed


# ----------------------------------------------------------------- through a resist mould

#: Each site's wiring on `wiring-level-1`: a 15 um trace 1200 um long and a 250 um pad.
WIRING_UM2 = 15 * 1200 + math.pi / 4 * 250**2


def moulded(workpiece: Workpiece, reticle: Reticle, shots: int | None = None) -> None:
    """A Cu seed on `workpiece` under a PR-THICK mould developed through `reticle` at the
    dose-to-size (1.25 E0: every opening as drawn), its first `shots` dies exposed (all)."""
    count = workpiece.geometry.site_count
    workpiece.films.layers.append(Film.blanket(FilmMaterial.CU, 0.3, count))
    litho = LithoPhysics()
    coat(workpiece, CoatMaterial.PR_THICK, 4000, 30.0, litho)
    bake(workpiece, 110.0, 90.0, litho)
    thickness_um = float(workpiece.resist.thickness_um[0])
    dose = 1.25 * clearing_dose_mj_cm2(CoatMaterial.PR_THICK, thickness_um)
    expose(workpiece, reticle, dose, workpiece.geometry.unit_count if shots is None else shots)
    develop_film(workpiece, reticle, 120.0, litho)


def test_the_mould_records_what_each_site_opens_and_the_cathode_is_that_area():
    workpiece = TwinStore(SMALL_WAFER).get("W01")
    moulded(workpiece, RETICLES["wiring-level-1"])
    assert RETICLES["wiring-level-1"].design_opened_um2 == pytest.approx(WIRING_UM2)
    assert workpiece.resist.opened_um2 is not None
    assert workpiece.resist.opened_um2 == pytest.approx(WIRING_UM2, rel=1e-4)
    cathode = cathode_of(workpiece, Metal.CU)
    assert cathode.sites.all()
    sites = workpiece.geometry.site_count  # 784: 49 dies of 16 pads
    # 784 x 67087 um2 = 0.526 cm2, not the 69.4 cm2 of the usable front
    assert sites == 784
    assert cathode.site_area_cm2.sum() == pytest.approx(sites * WIRING_UM2 * 1e-8, rel=1e-4)


def test_a_plated_thickness_through_a_mould_follows_faradays_law_within_5_percent():
    """Q x eff / (n F) x M / rho / A over the exposed area A the mould opens, by hand."""
    workpiece = TwinStore(SMALL_WAFER).get("W01")
    moulded(workpiece, RETICLES["wiring-level-1"])
    area_cm2 = workpiece.geometry.site_count * WIRING_UM2 * 1e-8
    charge_c, on_s = 6.0, 600.0  # 10 mA: 1.90 A/dm2 over 0.526 cm2
    deposit = electroplate(workpiece, Metal.CU, charge_c, on_s, 25.0, 60.0, 0.0, PHYSICS)
    # 6 C x 0.98 / (2 x 96485.33 C/mol) x 63.546 g/mol / 8.96 g/cm3 / 0.526 cm2
    by_hand_um = charge_c * 0.98 / (2 * 96485.33) * 63.546 / 8.96 / area_cm2 * 1e4
    assert by_hand_um == pytest.approx(4.11, abs=0.01)
    film = workpiece.films.layers[-1]
    assert film.thickness_um == pytest.approx(by_hand_um, rel=0.05)
    assert deposit.current_density_a_dm2 == pytest.approx(0.01 / area_cm2 * 100, rel=1e-3)
    assert film.quality == "good"


def test_doubling_the_opened_area_at_equal_charge_halves_the_thickness():
    line = RETICLES["wiring-level-1"]
    # a trace so much longer that each site opens twice the area
    longer = Reticle(
        "wiring-long",
        Feature.LINE,
        line.size_um,
        line.space_um,
        pad_um=line.pad_um,
        trace_length_um=line.trace_length_um + WIRING_UM2 / line.size_um,
    )
    assert longer.design_opened_um2 == pytest.approx(2 * WIRING_UM2)
    thickness_um = []
    for reticle in (line, longer):
        workpiece = TwinStore(SMALL_WAFER).get("W01")
        moulded(workpiece, reticle)
        electroplate(workpiece, Metal.CU, 30.0, 600.0, 25.0, 60.0, 0.0, PHYSICS)
        thickness_um.append(float(workpiece.films.layers[-1].thickness_um.max()))
    assert thickness_um[1] == pytest.approx(thickness_um[0] / 2, rel=1e-3)


def test_no_deposit_under_the_resist_nor_on_an_island_and_the_rest_takes_the_charge():
    """The first 10 dies exposed: the mould stays closed over the others' seed. An island of
    the seed the ring does not reach on die 0: none there either. The charge spreads over
    the sites left, as Faraday's law says for their area."""
    workpiece = TwinStore(SMALL_WAFER).get("W01")
    moulded(workpiece, RETICLES["wiring-level-1"], shots=10)
    die = workpiece.geometry.site_unit
    workpiece.films.layers[-1].connected[die == 0] = False  # the island
    plating = (die < 10) & (die > 0)
    electroplate(workpiece, Metal.CU, 10.0, 600.0, 25.0, 60.0, 0.0, PHYSICS)
    film = workpiece.films.layers[-1]
    assert film.present.tolist() == plating.tolist()
    assert not film.thickness_um[~plating].any()  # under resist, on the island: none
    area_cm2 = int(plating.sum()) * WIRING_UM2 * 1e-8  # 9 dies x 16 sites: 0.0966 cm2
    by_hand_um = 10.0 * 0.98 / (2 * 96485.33) * 63.546 / 8.96 / area_cm2 * 1e4
    assert film.thickness_um[plating] == pytest.approx(by_hand_um, rel=0.05)


# ----------------------------------------------------------------- over the wire


async def test_a_plated_thickness_follows_faradays_law_within_5_percent(rig):
    await rig.driver.load("W01")
    result = await rig.driver.plate(recipe())
    detail = last_plating(rig)
    film = rig.twin.get("W01").films.layers[-1]  # the plated film, on the seed
    assert (film.material, film.quality) == (FilmMaterial.CU, "good")
    assert film.thickness_um.mean() == pytest.approx(5.0, rel=0.05)
    assert film.present.all()
    # the charge for 5 um of Cu over the blanket seed at 98 %: 5 x 69.4 cm2 / (0.36753 x 0.98)
    assert result.charge_c == pytest.approx(963.4, abs=0.5)
    assert result.supply_charge_c == pytest.approx(result.charge_c, abs=0.1)
    assert detail["thickness_um"] == pytest.approx(5.0, rel=0.05)
    assert detail["thickness_um"] == pytest.approx(result.charge_thickness_um, abs=1e-3)
    assert (detail["quality"], detail["current_density_a_dm2"]) == ("good", pytest.approx(2.0))
    assert result.mean_current_a == pytest.approx(2.0 * BLANKET_CM2 / 100, rel=1e-3)
    assert result.bath_age_ah == pytest.approx(963.4 / 3600, abs=0.01)
    assert rig.sim.supply.output_on is False
    assert rig.sim.supply.inhibit_mode == "LATCHING"  # set by the driver as it connected
    assert rig.sim.wafer_id == "W01"
    traces = {r.name: r.unit for r in rig.driver.readings}
    assert traces == {  # the supply's traces are the tool's
        "bath_temperature": "degC",
        "cathode_charge": "C",
        "cell_current": "A",
        "cell_voltage": "V",
    }


#: What 0.5 s of wall-clock latency per exchange is in process time on a line served at 600x.
LATENCY_S = 300.0


async def test_the_cell_ends_the_charge_itself_however_late_the_driver_looks(rig, monkeypatch):
    """Each exchange with the supply lands 300 s of process time late, as on a line served at
    600x: the charge (963 C, 694 s at 1.388 A) is still the recipe's within 0.5 %, because the
    cell switches the current off itself when its counter reaches the target; a driver that
    switched it off over the wire once the charge was due plated 300 s more."""
    link = rig.driver.supply.link
    for name in ("write", "query"):
        exchange = getattr(link, name)

        async def late(*args: object, _exchange=exchange, **kwargs: object) -> object:
            await rig.clock.sleep(LATENCY_S)
            return await _exchange(*args, **kwargs)

        monkeypatch.setattr(link, name, late)
    await rig.driver.load("W01")
    result = await rig.driver.plate(recipe())
    asked_c = recipe().charge_c(result.plated_area_cm2)
    assert last_plating(rig)["charge_c"] == pytest.approx(asked_c, rel=0.005)
    assert last_plating(rig)["thickness_um"] == pytest.approx(5.0, rel=0.005)
    assert result.charge_c == pytest.approx(asked_c, rel=0.005)
    assert result.current_on_s == pytest.approx(asked_c / result.mean_current_a, rel=0.005)
    assert rig.sim.supply.output_on is False  # the cell held it off, the driver set it off


async def test_the_held_opc_is_answered_at_the_charges_end_to_the_clocks_resolution(
    rig, monkeypatch
):
    """The cell tells the supply the moment its charge reaches the target at the present
    current, so the held `*OPC?` is answered then, not at the supply's next one-second look
    (which moved each charge's end up to a second late). Two wafers, so the second charge
    runs after the first left the inhibit latched: the driver clears it with the output off."""
    link = rig.driver.supply.link
    query = link.query
    held_s: list[float] = []

    async def timed(message: str, *args: object, **kwargs: object) -> str:
        asked_s = rig.clock.now()
        reply = await query(message, *args, **kwargs)
        if message == "*OPC?":
            held_s.append(rig.clock.now() - asked_s)
        return reply

    monkeypatch.setattr(link, "query", timed)
    on_s = []
    for wafer_id in ("W01", "W02"):
        await rig.driver.load(wafer_id)
        result = await rig.driver.plate(recipe())
        assert result.charge_c == pytest.approx(963.4, abs=0.5)
        on_s.append(rig.sim.immersion.on_s)
        await rig.driver.unload()
    assert held_s == [pytest.approx(on, abs=1e-6) for on in on_s]
    assert rig.sim.supply.output_on is False


async def test_a_cell_that_never_ends_the_charge_times_out_and_aborts(rig, monkeypatch):
    """A cell without an ampere-hour controller (it ignores the charge target) never reports
    CHARGE_REACHED: the driver does not end the charge by its own clock; once the supply's
    list (the charge's time, 694 s at 1.388 A) has run out, it polls, and once the recipe's
    timeout beyond the charge's time has passed, it names the current still flowing,
    switches the output off and aborts, the wafer withdrawn."""
    take_setpoints = rig.sim.take_setpoints

    def without_target(values: Mapping[str, float]) -> None:
        take_setpoints({k: v for k, v in values.items() if k != "charge_target_c"})

    monkeypatch.setattr(rig.sim, "take_setpoints", without_target)
    await rig.driver.load("W01")
    with pytest.raises(
        ToolTimeout, match=r"1\.38\d* A flowing, charge not reached after 1294.1 s; aborted"
    ):
        await rig.driver.plate(recipe(timeout_s=600.0))
    assert not rig.sim.immersion.charge_reached
    assert rig.sim.supply.output_on is False
    assert rig.sim.phase is CellPhase.READY
    assert rig.sim.immersion.charge_c > recipe().charge_c(BLANKET_CM2)


async def test_the_immersion_charge_is_read_after_withdrawing_and_deposited_once(rig):
    await rig.driver.load("W01")
    result = await rig.driver.plate(recipe())
    charge = rig.sim.status_values()["IMMERSION_CHARGE"]
    assert charge == pytest.approx(result.charge_c, abs=0.01)  # until the next IMMERSE
    films = len(rig.twin.get("W01").films.layers)
    rig.sim.execute("WITHDRAW", {}, [], 0)  # a second withdraw plates nothing more
    assert len(rig.twin.get("W01").films.layers) == films
    assert rig.sim.status_values()["IMMERSION_CHARGE"] == charge


async def test_the_current_is_set_over_the_area_the_cell_measured_not_the_designs(rig):
    """A design 9 % over the blanket seed the cell measures (inside the tolerance): the current
    is the recipe's density over the measured area, so the wafer gets the 5 um at the 2 A/dm2
    the recipe asks, as the twin has them."""
    await rig.driver.load("W01")
    result = await rig.driver.plate(recipe(plated_area_cm2=1.09 * BLANKET_CM2))
    detail = last_plating(rig)
    assert (await rig.driver.request_status()).cathode_area_cm2 == pytest.approx(
        BLANKET_CM2, abs=1e-3
    )
    assert result.plated_area_cm2 == pytest.approx(BLANKET_CM2, abs=1e-3)
    assert result.current_density_a_dm2 == pytest.approx(2.0, rel=1e-3)
    assert result.charge_thickness_um == pytest.approx(5.0, rel=1e-3)
    assert detail["thickness_um"] == pytest.approx(5.0, rel=1e-3)
    assert detail["current_density_a_dm2"] == pytest.approx(2.0, rel=1e-3)
    assert detail["plated_area_cm2"] == pytest.approx(result.plated_area_cm2, abs=1e-3)


async def test_a_measured_area_outside_the_stations_limit_is_withdrawn_unplated(tmp_path):
    """A station file limits plated_area_cm2 to [1, 69.2] cm2: the recipe's design (69.0 cm2)
    is inside it, but the cell measures the blanket's 69.4 once the wafer is in, so the cell
    refuses to plate, naming the measured area, the limit and the station file, and the
    wafer is withdrawn with the current never on."""
    sim = SimElectroplater("electroplater", seeded(TwinStore(SMALL_WAFER), "W01"), VirtualClock())
    await sim.start()
    try:
        station_file = tmp_path / "line.yaml"
        tool = {
            "driver": "electroplater",
            "address": sim.station_address,
            "limits": {"plated_area_cm2": [1, 69.2]},
        }
        text = yaml.safe_dump({"name": "line-3", "tools": {"plater": tool}})
        station_file.write_text(text)
        narrowing = text.splitlines().index("      plated_area_cm2:") + 1
        async with load_station(station_file).open_tool("plater", sim.clock) as driver:
            assert isinstance(driver, ModbusScpiElectroplater)
            await driver.load("W01")
            with pytest.raises(ToolError) as error:
                await driver.plate(recipe(plated_area_cm2=69.0))
            assert driver.state is ToolState.IDLE
    finally:
        await sim.stop()
    assert (
        "the cell measured 69.4 cm^2 of exposed, connected seed, outside the limit "
        f"plated_area_cm2 [1, 69.2] cm2 of line {narrowing} of station file {station_file}; "
        "the wafer was withdrawn "
        "unplated"
    ) in str(error.value)
    assert sim.twin.get("W01").operations() == []
    assert not any("OUTP ON" in line for line in sim.received)


def test_an_area_just_outside_the_tolerance_is_printed_beyond_it():
    """5.05 cm2 is 89.99 % of 5.612: refused, and never printed as a rounded 90 %."""
    assert accepted_area_cm2(5.612) == pytest.approx((5.0508, 6.1732))
    assert area_mismatch(5.05, 5.612) == "89.99% of it, more than 10% off"
    assert area_mismatch(6.18, 5.612) == "110.1% of it, more than 10% off"
    assert area_mismatch(2.806, 5.612) == "50% of it, more than 10% off"
    assert area_mismatch(5.051, 5.612) is None


@pytest.mark.parametrize("share", [1.75, 0.5])
async def test_a_design_area_far_from_the_seed_is_refused_before_the_current_goes_on(rig, share):
    """The cell measures the seed the ring reaches once the wafer is in: against a design
    area of 1/1.75 of it (or twice it), the wafer is not the recipe's; the step is refused
    naming the design's and the measured area, the wafer withdrawn unplated."""
    await rig.driver.load("W01")
    design = BLANKET_CM2 / share
    with pytest.raises(WorkpieceRefused, match="plated_area_cm2") as refused:
        await rig.driver.plate(recipe(plated_area_cm2=design))
    assert f"plated_area_cm2 = {design:g} cm^2" in str(refused.value)
    assert f"measured {BLANKET_CM2:.4g} cm^2" in str(refused.value)
    assert f"the measured area is {share:.0%} of it" in str(refused.value)
    assert rig.twin.get("W01").history == []  # nothing deposited
    assert rig.sim.immersion.charge_c == 0
    assert (rig.sim.phase, rig.sim.wafer_id) == (CellPhase.READY, "W01")
    assert rig.driver.state is ToolState.IDLE
    await rig.driver.plate(recipe())  # the wafer plates once the recipe states its area
    assert last_plating(rig)["quality"] == "good"


async def test_a_current_density_above_the_window_burns_the_deposit(rig):
    await rig.driver.load("W01")
    result = await rig.driver.plate(recipe(current_density_a_dm2=6.0, thickness_um=1.0))
    assert result.current_density_a_dm2 == pytest.approx(6.0, rel=1e-3)
    assert last_plating(rig)["quality"] == "burnt"  # above the copper window (0.5-4)


async def test_the_xrf_head_measures_the_deposit_a_hot_bath_left_not_the_charge(rig):
    """At 55 degC the bath deposits at 0.98 - 30 x 0.002 = 0.92 where the charge counts 0.98:
    the thickness by charge reads the 5 um asked for, the XRF head the 4.69 um the twin has
    at each of its nine points."""
    await rig.driver.load("W01")
    result = await rig.driver.plate(recipe(bath_temperature_c=55.0))
    film = rig.twin.get("W01").films.layers[-1]
    assert result.charge_thickness_um == pytest.approx(5.0, abs=1e-3)
    assert len(result.measured_thickness_um) == len(XRF_POINTS) == 9
    assert result.thickness_min_um == pytest.approx(4.69, abs=0.011)
    assert result.thickness_max_um == pytest.approx(float(film.thickness_um.max()), abs=0.006)
    assert result.thickness_mean_um == pytest.approx(5.0 * 0.92 / 0.98, abs=0.011)
    assert rig.sim.status_values()["XRF_POINTS"] == 9


async def test_the_xrf_head_reads_nothing_on_an_island_and_nothing_before_the_withdraw(rig):
    """The die under the centre point is an island the contact ring does not reach: the XRF
    reads no deposit there (the others the full thickness); from IMMERSE to the end of the
    withdraw the cell reports no point measured."""
    workpiece = rig.twin.get("W01")
    pattern = cathode_of(workpiece, Metal.CU).pattern
    (centre,) = nearest_sites(workpiece.geometry, XRF_POINTS[:1], pattern)
    island = workpiece.geometry.site_unit == workpiece.geometry.site_unit[centre]
    workpiece.films.layers[-1].connected[island] = False
    await rig.driver.load("W01")
    result = await rig.driver.plate(recipe(plated_area_cm2=BLANKET_CM2 * (1 - island.mean())))
    assert result.measured_thickness_um[0] == 0.0
    assert min(result.measured_thickness_um[1:]) == pytest.approx(5.0, rel=0.01)
    assert result.thickness_min_um == 0.0
    rig.sim.execute("IMMERSE", {}, [], 0)
    assert rig.sim.status_values()["XRF_POINTS"] == 0


async def test_an_aged_bath_plates_thinner_for_the_same_charge():
    rig = await open_cell()
    try:
        rig.sim.bath_age_c = 2000 * 3600.0  # the bath at the end of its life
        await rig.driver.load("W01")
        result = await rig.driver.plate(recipe())
        assert result.bath_age_ah == pytest.approx(2000.27, abs=0.01)
        assert last_plating(rig)["thickness_um"] == pytest.approx(5.0 * 0.9, rel=0.005)
        await rig.driver.unload()
        await rig.driver.reset_bath_age()
        assert (await rig.driver.request_status()).bath_age_ah == 0
    finally:
        await rig.close()


async def test_the_bath_is_brought_to_the_recipes_temperature_before_the_wafer_goes_in(rig):
    await rig.driver.load("W01")
    started = rig.clock.now()
    result = await rig.driver.plate(recipe(bath_temperature_c=35.0, thickness_um=1.0))
    # the heater: 10 degC at most 0.1 degC/s, then its loop closes in (within 1 degC: 100 s)
    assert rig.twin.get("W01").history[-1].time_s - started > 100
    assert result.bath_temperature_c == pytest.approx(35.0, abs=1.0)
    assert last_plating(rig)["temperature_c"] == pytest.approx(35.0, abs=1.0)
    heater = rig.sim.heater
    assert (heater.target_c, heater.alarm_high_c) == (35.0, 40.0)  # TG.SP, and A1 5 degC above


async def test_a_bath_left_hot_by_the_last_recipe_is_awaited_without_an_alarm(rig):
    """After a 55 degC wafer, a 25 degC one: the heater's alarm is armed above the bath as it
    is, not 5 degC above the new setpoint (which the hot bath would trip at once, putting the
    cell out of service for every wafer after). The heater only heats, so the bath cools
    slowly: the wait for it ends at its bound naming the bath, nothing plated, the cell in no
    alarm; once the bath has cooled the wafer plates, under an alarm brought down to 30 degC."""
    await rig.driver.load("W01")
    await rig.driver.plate(recipe(bath_temperature_c=55.0, thickness_um=1.0))
    await rig.driver.unload()
    await rig.driver.load("W02")
    with pytest.raises(ToolTimeout, match=r"bath at 4\d(\.\d+)? degC, not yet 25 after 1800 s"):
        await rig.driver.plate(recipe(thickness_um=1.0))
    assert rig.sim.phase is not CellPhase.FAULT
    assert not rig.sim.alarms
    assert all(event.operation != "electroplate" for event in rig.twin.get("W02").history)
    await rig.clock.sleep(3 * 3600.0)
    result = await rig.driver.plate(recipe(thickness_um=1.0))
    assert result.bath_temperature_c == pytest.approx(25.0, abs=1.0)
    assert rig.sim.heater.alarm_high_c == 30.0


async def test_a_runaway_heater_trips_the_over_temperature_through_the_heaters_alarm(rig):
    """The heater's alarm 1 (A1, 5 degC above the bath's setpoint) is the cell's
    OVER_TEMPERATURE: the current goes off, the wafer is withdrawn, the heater is in standby;
    the alarm is reset only once the bath has cooled below A1 and the heater acknowledged."""
    await rig.driver.load("W01")
    task = asyncio.create_task(rig.driver.plate(recipe()))
    while rig.sim.supply.operating_point().current_a == 0:
        await rig.clock.sleep(1)
    rig.sim.inject_fault("heater_runaway")
    with pytest.raises(ToolAlarm, match="OVER_TEMPERATURE"):
        await task
    assert rig.sim.heater.process_c > 30.0
    assert not rig.sim.supply.output_on
    assert rig.sim.phase is CellPhase.FAULT
    rig.sim.clear_fault("heater_runaway")
    with pytest.raises(ToolAlarm, match="OVER_TEMPERATURE"):
        await rig.driver.reset()  # the bath is still above A1
    await rig.clock.sleep(600)  # the heater in standby: the bath cools below 30 degC
    await rig.driver.recover(("W01",))
    assert rig.driver.state is ToolState.IDLE
    assert last_plating(rig)["temperature_c"] > 29.0  # plated until the trip


async def test_a_cell_advanced_by_jumps_is_bit_for_bit_one_stepping_its_heater_every_step(
    monkeypatch: pytest.MonkeyPatch,
):
    """`advance` does not step the bath's heater again once a step left it where it was (at its
    setpoint): a cell advanced by jumps is, after each, bit for bit one whose heater is stepped
    every step of at most a second, as the cell had done, through a heat-up to a new setpoint,
    a plating whose charge ends within a jump, the withdraw and a runaway heater's alarm; and
    a settled bath costs a heater step or two per jump, not one a second."""
    clock = VirtualClock()
    jumped, stepped = (
        SimElectroplater("electroplater", seeded(TwinStore(SMALL_WAFER), "W01"), clock)
        for _ in range(2)
    )
    step_heater = stepped._step_heater
    monkeypatch.setattr(stepped, "_step_heater", lambda dt_s: step_heater(dt_s) or True)
    heater_steps: list[float] = []
    step = jumped.heater.step
    monkeypatch.setattr(jumped.heater, "step", lambda dt_s: heater_steps.append(dt_s) or step(dt_s))

    def state(cell: SimElectroplater) -> tuple[object, ...]:
        workpiece = cell.twin.get("W01")
        films = [film.thickness_um.tolist() for film in workpiece.films.layers]
        immersion = {
            name: value.tolist() if isinstance(value, np.ndarray) else value
            for name, value in vars(cell.immersion).items()
        }
        return (cell._stepped_to_s, cell.phase, cell.alarms, immersion,
                cell.bath_ages_c, vars(cell.heater) | {"before_access": None, "step": None},
                cell.supply.operating_point(), [event.detail for event in workpiece.history],
                films)  # fmt: skip

    async def jump(seconds: float, by_s: float) -> None:
        """Jumps of `by_s` (not whole seconds: each ends on a shorter step)."""
        end_s = clock.now() + seconds
        while clock.now() < end_s:
            await clock.sleep(min(by_s, end_s - clock.now()))
            for cell in (jumped, stepped):
                cell.advance()
            assert state(jumped) == state(stepped), clock.now()

    await jump(3600.0, 37.5)  # settled at the working temperature
    assert len(heater_steps) <= 2 * 3600 / 37.5
    for cell in (jumped, stepped):
        cell.heater.target_c, cell.heater.alarm_high_c = 35.0, 40.0
    await jump(900.0, 37.5)
    assert jumped.heater.process_c == pytest.approx(35.0, abs=0.01)
    for cell in (jumped, stepped):
        cell.wafer_id, cell.charge_target_c = "W01", 500.0
        cell.execute("IMMERSE", {}, [], 0)
        supply = cell.supply
        supply.voltage_set_v, supply.over_voltage_v, supply.current_set_a = 5.0, 10.0, 2.0
        supply.output_on = True
    await jump(400.0, 37.5)  # 250 s of current
    assert jumped.immersion.charge_reached
    assert jumped.immersion.charge_c == pytest.approx(500.0)
    for cell in (jumped, stepped):
        cell.execute("WITHDRAW", {}, [], 0)
    await jump(100.0, 37.5)
    assert jumped.phase is CellPhase.READY
    assert jumped.twin.get("W01").history[-1].detail["charge_c"] == 500.0
    for cell in (jumped, stepped):
        cell.inject_fault("heater_runaway")
    await jump(200.0, 37.5)
    assert jumped.alarms == ["OVER_TEMPERATURE"]


async def test_a_refused_output_leaves_no_list_running(rig, monkeypatch: pytest.MonkeyPatch):
    """The supply's inhibit input is asserted as the charge is to start: `OUTP ON` is refused
    (-221, inhibit latched), and the supply, which runs the units after an execution error,
    initiates the list after it with the output off; the driver commands the supply's safe
    state before the refusal is raised: output off, no list running."""
    supply = rig.driver.supply
    run_list = supply.run_list

    async def inhibited_as_it_starts(action: str) -> None:
        rig.sim.supply.set_inhibit(True)
        await run_list(action)

    monkeypatch.setattr(supply, "run_list", inhibited_as_it_starts)
    await rig.driver.load("W01")
    with pytest.raises(CommandRefused, match="inhibit latched"):
        await rig.driver.plate(recipe())
    assert rig.sim.supply.received[-3:] == ["OUTP OFF", "ABOR", "*OPC?"]
    assert not rig.sim.supply.output_on
    assert not rig.sim.supply.operation_pending()


async def test_a_cell_without_the_recipes_bath_refuses_it_and_switches_nothing_on():
    sim = SimElectroplater(
        "electroplater",
        seeded(TwinStore(SMALL_WAFER), "W01"),
        VirtualClock(),
        metal=Metal.NI,
        baths=(Metal.NI,),
    )
    rig = await testing.open_rig(sim, ModbusScpiElectroplater, poll_interval_s=5.0)
    try:
        await rig.driver.load("W01")
        with pytest.raises(CommandRefused, match="the cell has no bath of that chemistry"):
            await rig.driver.plate(recipe())
        assert not rig.sim.supply.output_on
        await rig.driver.plate(recipe(metal=Metal.NI, current_density_a_dm2=3.0))
        assert last_plating(rig)["quality"] == "good"
    finally:
        await rig.close()


async def test_tin_lead_on_a_seed_in_the_cells_tin_lead_bath(rig):
    """The cell plates in its Cu bath until a SnPb recipe selects its SnPb bath, which then
    ages by the charge alone."""
    await rig.driver.load("W01")
    result = await rig.driver.plate(recipe(metal=Metal.SNPB, thickness_um=10.0))
    assert (await rig.driver.request_status()).bath_metal is Metal.SNPB
    assert rig.sim.bath_ages_c[Metal.CU] == 0
    assert rig.sim.bath_ages_c[Metal.SNPB] == pytest.approx(result.charge_c, rel=0.01)
    # SnPb: 136.4 g/mol, n 2, 8.4 g/cm3, 92 %: 10 um over 69.4 cm2 takes 8.57 kC
    expected_c = 10 * BLANKET_CM2 * 8.4 * 2 * FARADAY_C_PER_MOL / (136.4 * 0.92) / 1e4
    assert result.charge_c == pytest.approx(expected_c, abs=0.5)
    assert last_plating(rig)["thickness_um"] == pytest.approx(10.0, rel=0.05)
    assert rig.twin.get("W01").films.layers[-1].material is FilmMaterial.SNPB


async def test_the_eutectic_tin_lead_layer_on_the_bump_tips_of_003_21():
    """Bumps projecting through a thin resin film, no seed: the solder bath plates the tips
    only, by Faraday's law over their bases' area (003:19, 003:21)."""
    twin = TwinStore(SMALL_WAFER)
    workpiece = twin.get("W01")
    bumped = np.arange(workpiece.geometry.site_count) % 2 == 0
    workpiece.bumps.height_um[bumped] = 60.0
    workpiece.bumps.base_diameter_um[bumped] = 100.0
    workpiece.add_resin(ResinKind.THERMOSET, 45.0)
    tips_cm2 = np.count_nonzero(bumped) * math.pi * 0.005**2
    rig = await open_cell(Metal.SNPB, twin)
    try:
        await rig.driver.load("W01")
        plating = recipe(metal=Metal.SNPB, thickness_um=8.0, plated_area_cm2=tips_cm2)
        await rig.driver.plate(replace(plating, current_density_a_dm2=1.5))
        assert workpiece.bumps.layer_alloy == "Sn63Pb37"
        assert workpiece.bumps.layer_um[bumped] == pytest.approx(8.0, rel=0.05)
        heights = workpiece.bumps.height_um
        assert heights[bumped] == pytest.approx(60.0 + workpiece.bumps.layer_um[bumped])
        assert not heights[~bumped].any()
        assert not workpiece.bumps.layer_um[~bumped].any()
        assert workpiece.films.layers == []
        assert last_plating(rig)["quality"] == "good"
    finally:
        await rig.close()


async def test_a_patterned_seed_plates_only_its_openings_and_a_burnt_film_shows(rig):
    """Resist over half the seed: the recipe states half the area, so the charge of 2 um over
    it goes to the openings only, at 5 A/dm2 there (burnt copper)."""
    workpiece = rig.twin.get("W01")
    workpiece.resist.thickness_um[1::2] = 8.0
    half_cm2 = BLANKET_CM2 / 2
    await rig.driver.load("W01")
    await rig.driver.plate(
        recipe(thickness_um=2.0, current_density_a_dm2=5.0, plated_area_cm2=half_cm2)
    )
    film = workpiece.films.layers[-1]
    assert film.present.tolist() == [i % 2 == 0 for i in range(film.present.size)]
    assert film.thickness_um[0::2] == pytest.approx(2.0, rel=0.02)
    assert not film.thickness_um[1::2].any()
    assert film.quality == "burnt"  # 5 A/dm2 on the openings


async def test_no_contact_no_immersion(rig):
    await rig.driver.load("W01")
    rig.sim.inject_fault("contact_open")
    with pytest.raises(InterlockOpen, match="cathode_contact"):
        await rig.driver.plate(recipe())
    assert rig.twin.get("W01").history == []


async def test_the_contact_is_found_anew_for_a_wafer_that_comes_back_and_for_another_bath(rig):
    """The cell keeps what it found of the contact while its wafer and bath stay: a wafer
    back without its seed, and a bath that reaches what a seed bath does not, are looked
    at again."""
    await rig.driver.load("W01")
    assert rig.sim.interlocks()["cathode_contact"]
    await rig.driver.unload()
    workpiece = rig.twin.get("W01")
    workpiece.films.layers.clear()  # etched away elsewhere
    workpiece.bumps.height_um[:10] = 60.0
    workpiece.bumps.base_diameter_um[:10] = 100.0
    await rig.driver.load("W01")
    assert not rig.sim.interlocks()["cathode_contact"]
    rig.sim.metal = Metal.SNPB  # a solder bath reaches the bump tips
    assert rig.sim.interlocks()["cathode_contact"]


async def test_a_contact_lost_in_the_bath_trips_the_supply_and_faults_the_tool(rig):
    """The circuit opens: the supply's terminals rise to its voltage setting, above its
    protection; the cell withdraws the wafer. Both alarms are the tool's."""
    await rig.driver.load("W01")
    plating = replace(recipe(), compliance_voltage_v=10.0, over_voltage_v=5.0)
    task = asyncio.create_task(rig.driver.plate(plating))
    while rig.sim.supply.operating_point().current_a == 0:
        await rig.clock.sleep(1)
    await rig.clock.sleep(100)
    rig.sim.inject_fault("contact_open")
    with pytest.raises(ToolAlarm) as alarm:
        await task
    assert {"CONTACT_LOST", "OVER_VOLTAGE"} <= set(rig.driver.active_alarms)
    assert "CONTACT_LOST" in str(alarm.value)
    assert rig.driver.state is ToolState.FAULT
    assert not rig.sim.supply.output_on
    detail = last_plating(rig)  # what was plated before the contact went is on the wafer
    assert detail["charge_c"] == pytest.approx(100 * 2.0 * BLANKET_CM2 / 100, rel=0.1)
    assert detail["result"] == "faulted"  # `sim serve` tells it broken off, not done
    rig.sim.clear_fault("contact_open")
    await rig.driver.recover(("W01",))
    assert rig.driver.state is ToolState.IDLE
    assert rig.driver.active_alarms == {}
    assert rig.sim.supply.tripped == set()


async def test_the_station_fixture_reaches_both_devices_of_the_electroplater(station: Station):
    """Hardware in the loop through the plugin: `pytest --station line.yaml` runs this against
    a real cell and supply (it plates nothing: it reads both devices, loads and unloads)."""
    (name,) = station.tools_for_role("electroplater")
    assert set(station.tools[name].address) == {"cell", "supply"}
    async with station.open_tool(name) as plater:
        assert isinstance(plater, ModbusScpiElectroplater)
        assert plater.identity is not None
        assert plater.supply.identity is not None
        status = await plater.request_status()
        assert status.bath_metal in Metal
        assert not await plater.supply.request_output()
        if plater.state is ToolState.IDLE and await plater.request_wafer() is None:
            await plater.load("HIL01")
            assert await plater.unload() == "HIL01"
