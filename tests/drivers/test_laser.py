"""Byte-level tests: the laser driver against docs/protocols/laser.md.

Each test lists the exact lines the page prescribes, written out here from the page (not from
the driver's constants), and runs the real VISA link and driver against a scripted peer.
"""

from __future__ import annotations

import pytest

from packline.clock import VirtualClock
from packline.drivers.equipment import ToolState
from packline.drivers.errors import (
    CommandRefused,
    InterlockOpen,
    LimitViolation,
    ProtocolError,
    ToolAlarm,
    ToolStateError,
)
from packline.drivers.laser import ScpiLaser
from packline.drivers.links import VisaLink
from packline.drivers.roles.laser import (
    Atmosphere,
    CleanRecipe,
    DrillMode,
    DrillRecipe,
    FaceUp,
    JobProgress,
    JobState,
    LaserSource,
    LaserStatus,
)
from packline.testing import expected_protocol

Script = list[tuple[bytes, bytes | None]]

NO_ERROR = b'0,"No error"\n'


def settings(*commands: bytes, errors: tuple[bytes, ...] = ()) -> Script:
    """A group of settings, one program message (IEEE 488.2 compound: the units joined by `;`,
    no reply), then the error-queue reads that follow it: each of `errors`, then until the
    queue is empty."""
    reads = [(b":SYST:ERR?\n", error) for error in (*errors, NO_ERROR)]
    return [(b";".join(commands) + b"\n", None), *reads]


def setting(command: bytes, error: bytes = NO_ERROR) -> Script:
    """A setting alone (a group of one)."""
    return settings(command, errors=() if error == NO_ERROR else (error,))


def connect_script(
    idn: bytes = b"packline,LV-355,LV-355-0001,1.0",
    wavelength: bytes = b"355",
    alarms: bytes = b"NONE",
) -> Script:
    """`*CLS`, identity, source, the status (whether a job runs or the shutter is open: the
    tool at rest), then the alarms (the base class reads them at connect)."""
    return [
        (b"*CLS\n", None),
        (b"*IDN?\n", idn + b"\n"),
        (b":SOUR:WAV?\n", wavelength + b"\n"),
        (STATUS_QUERY, b'CLOS;CLOS;VAC;"";1;1;0;1;100000;0.2;0.06283;0.0;IDLE,0,0,0.000,0.000\n'),
        (b":SYST:ALAR?\n", alarms + b"\n"),
    ]


SAFE_STATE: Script = [(b":ABOR\n", None), (b"*OPC?\n", b"1\n")]

#: The page's status read: one compound query, thirteen units.
STATUS_QUERY = (
    b":ENCL:DOOR?;:OUTP:SHUT?;:PROC:ATM?;:WAF?;:OUTP?;:PROC:ATM:READ?;:PROC:JET?;"
    b":PROC:SUCT?;:SOUR:FREQ?;:SOUR:FLU?;:SOUR:POW?;:MEAS:POW?;:JOB:PROG?\n"
)


def make_driver(address: str) -> ScpiLaser:
    link = VisaLink(address, tool="laser", timeout_s=1.0, clock=VirtualClock())
    return ScpiLaser(link, name="laser")


async def test_connect_clears_the_queue_and_reads_identity_source_and_alarms():
    async with expected_protocol(connect_script()) as peer:
        laser = make_driver(peer.address("visa"))
        await laser.connect()
        assert str(laser.identity) == "packline LV-355 s/n LV-355-0001 fw 1.0"
        assert laser.source is LaserSource.UV_355
        assert laser.state is ToolState.IDLE
        await laser.close()


async def test_an_active_alarm_at_connect_puts_the_tool_in_fault():
    script = connect_script(
        idn=b"packline,LC-106,LC-106-0001,1.0", wavelength=b"10600", alarms=b"POWER_TOLERANCE"
    )
    async with expected_protocol(script) as peer:
        laser = make_driver(peer.address("visa"))
        await laser.connect()
        assert laser.source is LaserSource.CO2_10600
        assert laser.state is ToolState.FAULT
        assert list(laser.active_alarms) == ["POWER_TOLERANCE"]
        await laser.close()


async def test_garbled_identity_is_a_protocol_error():
    script = [(b"*CLS\n", None), (b"*IDN?\n", b"hello\n")]
    async with expected_protocol(script) as peer:
        laser = make_driver(peer.address("visa"))
        with pytest.raises(
            ProtocolError, match=r"read identity: reply 'hello' is not vendor,model"
        ):
            await laser.connect()
        assert laser.state is ToolState.OFFLINE


async def test_garbled_error_queue_reply_is_a_protocol_error():
    script = [*connect_script(), (b":OUTP OFF\n", None), (b":SYST:ERR?\n", b"fine\n")]
    async with expected_protocol(script) as peer:
        laser = make_driver(peer.address("visa"))
        await laser.connect()
        with pytest.raises(ProtocolError, match=r"error queue reply 'fine'"):
            await laser.disable_emission()
        await laser.close()


async def test_door_load_and_unload_send_the_quoted_wafer_id():
    script = [
        *connect_script(),
        *setting(b":ENCL:DOOR OPEN"),
        *setting(b':WAF:LOAD "LOT7-W03"'),
        (b":WAF?\n", b'"LOT7-W03"\n'),
        *setting(b":WAF:UNL"),
        *setting(b":ENCL:DOOR CLOS"),
    ]
    async with expected_protocol(script) as peer:
        laser = make_driver(peer.address("visa"))
        await laser.connect()
        await laser.open_enclosure()
        await laser.load("LOT7-W03")
        assert await laser.unload() == "LOT7-W03"
        await laser.close_enclosure()
        await laser.close()


@pytest.mark.parametrize(
    ("wafer_read", "action", "operation"),
    [
        ((b":WAF?\n", b'""\n'), "unload wafer", ScpiLaser.unload),
        (
            (b":SYST:INT?;:WAF?\n", b'1,0,0;""\n'),
            "drill vias",
            lambda laser: laser.drill_vias(
                DrillRecipe(diameter_um=30, fluence_j_cm2=3, rep_rate_khz=100)
            ),
        ),
    ],
    ids=["unload", "drill"],
)
async def test_an_empty_chuck_refuses_in_the_tools_words_with_nothing_sent(
    wafer_read, action, operation
):
    """`:WAF?` answering `""` (no wafer): the unload or the job ends there, in the words the
    tool refuses `:WAF:UNL` and `:JOB:STAR` with on an empty chuck (`-221,"Settings
    conflict;no wafer on the chuck"`), and neither a command nor the safe state follows."""
    async with expected_protocol([*connect_script(), wafer_read]) as peer:
        laser = make_driver(peer.address("visa"))
        await laser.connect()
        with pytest.raises(ToolStateError, match=rf"{action}: no wafer on the chuck$"):
            await operation(laser)
        assert laser.state is ToolState.IDLE
        await laser.close()


async def test_a_panel_loaded_back_up_names_the_face_after_its_id():
    script = [
        *connect_script(),
        *setting(b':WAF:LOAD "P01",BACK'),
        *setting(b":WAF:FLIP"),
        (b":WAF:FACE?\n", b"FRON\n"),
    ]
    async with expected_protocol(script) as peer:
        laser = make_driver(peer.address("visa"))
        await laser.connect()
        await laser.load("P01", FaceUp.BACK)
        await laser.flip()
        assert await laser.request_face_up() is FaceUp.FRONT
        await laser.close()


async def test_emission_and_shutter_check_the_enclosure_first():
    script = [
        *connect_script(),
        (b":SYST:INT?\n", b"1,0,0\n"),
        *setting(b":OUTP ON"),
        (b":SYST:INT?\n", b"1,1,0\n"),
        *setting(b":OUTP:SHUT OPEN"),
        *setting(b":OUTP:SHUT CLOS"),
        *setting(b":OUTP OFF"),
    ]
    async with expected_protocol(script) as peer:
        laser = make_driver(peer.address("visa"))
        await laser.connect()
        await laser.enable_emission()
        await laser.open_shutter()
        await laser.close_shutter()
        await laser.disable_emission()
        await laser.close()


async def test_open_enclosure_interlock_refuses_emission_with_nothing_sent():
    script = [*connect_script(), (b":SYST:INT?\n", b"0,0,0\n")]
    async with expected_protocol(script) as peer:
        laser = make_driver(peer.address("visa"))
        await laser.connect()
        with pytest.raises(
            InterlockOpen, match="enable emission: interlock open: enclosure_closed"
        ):
            await laser.enable_emission()
        await laser.close()


async def test_a_tool_refusal_is_command_refused_with_its_code():
    script = [
        *connect_script(),
        (b":SYST:INT?\n", b"1,0,0\n"),
        *setting(b":OUTP ON", b'-221,"Settings conflict;alarm active; clear alarms first"\n'),
    ]
    async with expected_protocol(script) as peer:
        laser = make_driver(peer.address("visa"))
        await laser.connect()
        with pytest.raises(
            CommandRefused, match=r"enable emission: Settings conflict: alarm active; clear alarms"
        ) as info:
            await laser.enable_emission()
        assert info.value.code == "-221"
        await laser.close()


#: The atmosphere's group of a job in air, with suction and no jet, checked at once.
IN_AIR: Script = settings(b":PROC:ATM AIR", b":PROC:JET OFF", b":PROC:SUCT ON")


def beam_on(kind: bytes, start_errors: tuple[bytes, ...] = ()) -> Script:
    """Emission on in a message of its own, checked, then the shutter opened and the job of
    `kind` started in one (refused with `start_errors`), checked: four exchanges."""
    return [
        *setting(b":OUTP ON"),
        *settings(b":OUTP:SHUT OPEN", b":JOB:STAR " + kind, errors=start_errors),
    ]


def drill_to_metal_script(start_errors: tuple[bytes, ...] = ()) -> Script:
    """The page's drilling sequence: interlock, wafer, the atmosphere's group (ready at once),
    the job's settings in one group, then the beam and the start (`beam_on`, refused with
    `start_errors`)."""
    return [
        (b":SYST:INT?;:WAF?\n", b'1,0,0;"W01"\n'),
        *IN_AIR,
        (b":PROC:ATM:READ?\n", b"1\n"),
        *settings(
            b":SOUR:FREQ 100000", b":SOUR:FLU 3", b":DRIL:MODE MET", b":DRIL:DIAM 30",
            b":JOB:SIT ALL",
        ),
        *beam_on(b"DRIL", start_errors),
    ]  # fmt: skip


async def test_drill_to_metal_waits_the_job_out_on_opc_and_closes_the_shutter():
    script = [
        *connect_script(),
        *drill_to_metal_script(),
        (b":JOB:PROG?;:MEAS:POW?\n", b"RUNN,100,400,0.250,0.750;0.9425\n"),
        (b"*OPC?\n", b"1\n"),  # the tool answers when the job has ended
        (b":JOB:PROG?;:MEAS:POW?\n", b"DONE,400,400,1.000,0.000;0.9425\n"),
        *setting(b":OUTP:SHUT CLOS"),
        (b":JOB:RES?\n", b"DRIL,DONE,400,398,1.000\n"),
    ]
    async with expected_protocol(script) as peer:
        laser = make_driver(peer.address("visa"))
        await laser.connect()
        result = await laser.drill_vias(
            DrillRecipe(diameter_um=30, fluence_j_cm2=3, rep_rate_khz=100)
        )
        assert (result.wafer_id, result.sites, result.vias_open) == ("W01", 400, 398)
        assert result.process_time_s == 1.0
        assert laser.clock.now() == 0.0  # no poll interval: read as *OPC? is answered
        progress = [r.value for r in laser.readings if r.name == "progress"]
        assert progress == [25.0, 100.0]
        assert laser.state is ToolState.IDLE
        await laser.close()


@pytest.mark.parametrize(
    ("result", "complaint"),
    [
        (b"DRIL,DONE,400,most,1.000", "field 4, sites_at_metal: 'most' is not an integer"),
        (b"DRIL,DONE,400,398", "4 fields, not 5"),
        (b"NONE,IDLE,0,0,0.000", "not a finished drill job"),
        (b"CLE,DONE,400,398,1.000", "not a finished drill job"),
    ],
)
async def test_a_job_result_that_is_not_the_finished_job_is_a_protocol_error(
    result: bytes, complaint: str
):
    """`:JOB:RES?` is read as the spec declares it: a garbled field is named, and a result
    that is not the job just run (none yet, another kind) is no result of it."""
    script = [
        *connect_script(),
        *drill_to_metal_script(),
        (b":JOB:PROG?;:MEAS:POW?\n", b"DONE,400,400,1.000,0.000;0.9425\n"),
        *setting(b":OUTP:SHUT CLOS"),
        (b":JOB:RES?\n", result + b"\n"),
    ]
    async with expected_protocol(script) as peer:
        laser = make_driver(peer.address("visa"))
        await laser.connect()
        with pytest.raises(ProtocolError, match=complaint):
            await laser.drill_vias(DrillRecipe(diameter_um=30, fluence_j_cm2=3, rep_rate_khz=100))
        await laser.close()


async def test_drill_to_depth_at_given_sites_sends_them_in_units_of_100():
    sites = list(range(150))
    script = [
        *connect_script(),
        (b":SYST:INT?;:WAF?\n", b'1,1,0;"W01"\n'),
        *IN_AIR,
        (b":PROC:ATM:READ?\n", b"1\n"),
        *settings(
            b":SOUR:FREQ 50000",
            b":SOUR:FLU 2.5",
            b":DRIL:MODE DEPT",
            b":DRIL:DEPT 30",
            b":DRIL:DIAM 40",
            b":JOB:SIT:CLE",
            b":JOB:SIT:ADD " + ",".join(map(str, range(100))).encode(),
            b":JOB:SIT:ADD " + ",".join(map(str, range(100, 150))).encode(),
        ),
        *beam_on(b"DRIL"),
        (b":JOB:PROG?;:MEAS:POW?\n", b"DONE,150,150,0.400,0.000;0.4\n"),
        *setting(b":OUTP:SHUT CLOS"),
        (b":JOB:RES?\n", b"DRIL,DONE,150,0,0.400\n"),
    ]
    recipe = DrillRecipe(
        diameter_um=40, fluence_j_cm2=2.5, rep_rate_khz=50, mode=DrillMode.TO_DEPTH, depth_um=30
    )
    async with expected_protocol(script) as peer:
        laser = make_driver(peer.address("visa"))
        await laser.connect()
        result = await laser.drill_vias(recipe, sites)
        assert (result.sites, result.vias_open) == (150, 0)
        await laser.close()


async def test_clean_in_forming_gas_waits_the_purge_out_on_opc():
    script = [
        *connect_script(),
        (b":SYST:INT?;:WAF?\n", b'1,0,0;"W01"\n'),
        *settings(b":PROC:ATM FGAS", b":PROC:JET ON", b":PROC:SUCT ON"),
        (b":PROC:ATM:READ?\n", b"0\n"),
        (b"*OPC?\n", b"1\n"),  # the tool answers when the purge has settled
        (b":PROC:ATM:READ?\n", b"1\n"),
        *settings(b":SOUR:FREQ 100000", b":SOUR:FLU 0.2", b":CLE:PULS 50", b":JOB:SIT ALL"),
        *beam_on(b"CLE"),
        (b":JOB:PROG?;:MEAS:POW?\n", b"DONE,400,400,0.400,0.000;0.0628\n"),
        *setting(b":OUTP:SHUT CLOS"),
        (b":JOB:RES?\n", b"CLE,DONE,400,380,0.400\n"),
    ]
    recipe = CleanRecipe(
        fluence_j_cm2=0.2,
        rep_rate_khz=100,
        pulses_per_site=50,
        atmosphere=Atmosphere.FORMING_GAS,
        gas_jet=True,
        suction=True,
    )
    async with expected_protocol(script) as peer:
        laser = make_driver(peer.address("visa"))
        await laser.connect()
        result = await laser.clean_surfaces(recipe)
        assert (result.sites, result.metal_sites, result.process_time_s) == (400, 380, 0.4)
        assert laser.clock.now() == 0.0  # no poll interval: read as *OPC? is answered
        await laser.close()


async def test_a_refused_job_start_commands_the_safe_state():
    script = [
        *connect_script(),
        *drill_to_metal_script(start_errors=(b'-221,"Settings conflict;shutter closed"\n',)),
        *SAFE_STATE,
    ]
    async with expected_protocol(script) as peer:
        laser = make_driver(peer.address("visa"))
        await laser.connect()
        with pytest.raises(CommandRefused, match="shutter closed"):
            await laser.drill_vias(DrillRecipe(diameter_um=30, fluence_j_cm2=3, rep_rate_khz=100))
        assert laser.state is ToolState.IDLE
        await laser.close()


async def test_a_refused_emission_opens_no_shutter_and_starts_no_job():
    """Emission is checked through the error queue before the shutter and the start are sent:
    a device that runs the units after one refused with an execution error (IEEE 488.2)
    would open its shutter on a message that held them all. The safe state follows."""
    alarm_active = b'-221,"Settings conflict;alarm active; clear alarms first"\n'
    script = [
        *connect_script(),
        (b":SYST:INT?;:WAF?\n", b'1,0,0;"W01"\n'),
        *IN_AIR,
        (b":PROC:ATM:READ?\n", b"1\n"),
        *settings(
            b":SOUR:FREQ 100000", b":SOUR:FLU 3", b":DRIL:MODE MET", b":DRIL:DIAM 30",
            b":JOB:SIT ALL",
        ),
        *setting(b":OUTP ON", alarm_active),
        *SAFE_STATE,
    ]  # fmt: skip
    async with expected_protocol(script) as peer:
        laser = make_driver(peer.address("visa"))
        await laser.connect()
        with pytest.raises(CommandRefused, match="drill vias: Settings conflict: alarm active"):
            await laser.drill_vias(DrillRecipe(diameter_um=30, fluence_j_cm2=3, rep_rate_khz=100))
        await laser.close()


async def test_a_refused_setting_of_the_group_names_it_and_no_beam_is_switched_on():
    """The job's settings are checked as one group before the beam: a refused one (its error
    says which) refuses the job with the safe state, and neither emission nor the start is
    sent."""
    refusal = b'-222,"Data out of range;site 500 not on wafer W01 (0-399)"\n'
    script = [
        *connect_script(),
        (b":SYST:INT?;:WAF?\n", b'1,0,0;"W01"\n'),
        *IN_AIR,
        (b":PROC:ATM:READ?\n", b"1\n"),
        *settings(
            b":SOUR:FREQ 100000", b":SOUR:FLU 3", b":DRIL:MODE MET", b":DRIL:DIAM 30",
            b":JOB:SIT:CLE", b":JOB:SIT:ADD 0,500", errors=(refusal,),
        ),
        *SAFE_STATE,
    ]  # fmt: skip
    async with expected_protocol(script) as peer:
        laser = make_driver(peer.address("visa"))
        await laser.connect()
        recipe = DrillRecipe(diameter_um=30, fluence_j_cm2=3, rep_rate_khz=100)
        with pytest.raises(CommandRefused, match=r"drill vias: Data out of range: site 500 not on"):
            await laser.drill_vias(recipe, [0, 500])
        assert laser.state is ToolState.IDLE
        await laser.close()


async def test_an_alarm_during_the_job_is_tool_alarm_and_fault():
    script = [
        *connect_script(),
        *drill_to_metal_script(),
        (b":JOB:PROG?;:MEAS:POW?\n", b"FAUL,10,400,0.030,0.000;0\n"),
        (b":SYST:ALAR?\n", b"POWER_TOLERANCE\n"),
        *SAFE_STATE,
        *setting(b":SYST:ALAR:CLE"),
        (b":SYST:ALAR?\n", b"NONE\n"),
    ]
    async with expected_protocol(script) as peer:
        laser = make_driver(peer.address("visa"))
        await laser.connect()
        with pytest.raises(ToolAlarm, match="POWER_TOLERANCE"):
            await laser.drill_vias(DrillRecipe(diameter_um=30, fluence_j_cm2=3, rep_rate_khz=100))
        assert laser.state is ToolState.FAULT
        await laser.reset()
        assert laser.state is ToolState.IDLE
        await laser.close()


async def test_abort_is_abor_confirmed_by_opc():
    async with expected_protocol([*connect_script(), *SAFE_STATE]) as peer:
        laser = make_driver(peer.address("visa"))
        await laser.connect()
        await laser.abort()
        await laser.close()


async def test_status_reads_every_field_in_one_compound_query():
    script = [
        *connect_script(),
        (
            STATUS_QUERY,
            b'CLOS;OPEN;VAC;"";1;0;0;1;100000;0.2;0.06283;0.06;RUNN,3,8,0.500,1.250\n',
        ),
    ]
    async with expected_protocol(script) as peer:
        laser = make_driver(peer.address("visa"))
        await laser.connect()
        status = await laser.request_status()
        assert status == LaserStatus(
            wafer_id=None,
            door_open=False,
            emission_enabled=True,
            shutter_open=True,
            atmosphere=Atmosphere.REDUCED_PRESSURE,
            atmosphere_ready=False,
            gas_jet=False,
            suction=True,
            rep_rate_khz=100.0,
            fluence_j_cm2=0.2,
            power_setpoint_w=0.06283,
            power_measured_w=0.06,
            job=JobProgress(JobState.RUNNING, 3, 8, 0.5, 1.25),
        )
        await laser.close()


@pytest.mark.parametrize(
    ("reply", "complaint"),
    [
        (b"CLOS;OPEN;VAC\n", "13 replies joined by ;"),
        (b'CLOS;OPEN;VAC;"";1;0;0;1;100000;0.2;high;0.06;IDLE,0,0,0.000,0.000\n', "a number"),
        (b'CLOS;OPEN;VAC;"";1;0;0;1;100000;0.2;0.06;0.06;IDLE,0,0\n', "3 fields, not 5"),
        (
            b'CLOS;OPEN;VAC;"";1;0;0;1;100000;0.2;0.06;0.06;WAIT,0,0,0.000,0.000\n',
            "field 1, state: 'WAIT' is not on the protocol page",
        ),
        (
            b'CLOS;OPEN;VAC;"";1;0;0;1;100000;0.2;0.06;0.06;IDLE,0,x,0.000,0.000\n',
            "field 3, sites_total: 'x' is not an integer",
        ),
    ],
)
async def test_a_garbled_status_reply_is_a_protocol_error(reply: bytes, complaint: str):
    async with expected_protocol([*connect_script(), (STATUS_QUERY, reply)]) as peer:
        laser = make_driver(peer.address("visa"))
        await laser.connect()
        with pytest.raises(ProtocolError, match=complaint):
            await laser.request_status()
        await laser.close()


async def test_fluence_above_the_metal_threshold_is_refused_with_nothing_sent():
    async with expected_protocol(connect_script()) as peer:
        laser = make_driver(peer.address("visa"))
        await laser.connect()
        with pytest.raises(
            LimitViolation,
            match=r"clean_fluence_j_cm2 = 0.5 J/cm2 is outside the limits \[0.05, 0.3\]",
        ):
            await laser.clean_surfaces(
                CleanRecipe(fluence_j_cm2=0.5, rep_rate_khz=100, pulses_per_site=50)
            )
        with pytest.raises(LimitViolation, match="uv_via_diameter_um = 100 um"):
            await laser.drill_vias(DrillRecipe(diameter_um=100, fluence_j_cm2=3, rep_rate_khz=100))
        with pytest.raises(LimitViolation, match="rep_rate_khz = 500 kHz"):
            await laser.drill_vias(DrillRecipe(diameter_um=30, fluence_j_cm2=3, rep_rate_khz=500))
        assert laser.state is ToolState.IDLE
        await laser.close()


async def test_bad_site_lists_and_wafer_ids_are_refused_with_nothing_sent():
    async with expected_protocol(connect_script()) as peer:
        laser = make_driver(peer.address("visa"))
        await laser.connect()
        recipe = DrillRecipe(diameter_um=30, fluence_j_cm2=3, rep_rate_khz=100)
        with pytest.raises(ValueError, match="must not repeat"):
            await laser.drill_vias(recipe, [1, 2, 1])
        with pytest.raises(ValueError, match="no sites selected"):
            await laser.drill_vias(recipe, [])
        with pytest.raises(ValueError, match="wafer id 'LOT 7'"):
            await laser.load("LOT 7")
        await laser.close()


def test_recipes_refuse_inconsistent_fields():
    with pytest.raises(ValueError, match="mode 'depth' needs depth_um"):
        DrillRecipe(diameter_um=30, fluence_j_cm2=3, rep_rate_khz=100, mode=DrillMode.TO_DEPTH)
    with pytest.raises(ValueError, match=r"^a gas jet blows") as refused:
        CleanRecipe(0.2, 100, 50, atmosphere=Atmosphere.REDUCED_PRESSURE, gas_jet=True)
    # the reason a wafer is held for, in the operator's words (it named the class)
    assert str(refused.value) == (
        "a gas jet blows the atmosphere's gas at the wafer, and a chamber pumped down to "
        "reduced pressure has none to blow: give an atmosphere at pressure (air, N2, Ar, "
        "forming-gas) or turn the gas jet off"
    )
