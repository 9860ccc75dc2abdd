"""Trace data collection (E30; S2F23, S6F1): the GEM host and driver against the simulated GEM
bonder, in virtual time."""

from __future__ import annotations

import pytest

from packline.drivers.errors import CommandRefused, ProtocolError
from packline.drivers.roles.wire_bonder import BondProgram, WireMaterial
from packline.drivers.secs.data_items import format_period, parse_period, parse_time

PROGRAM = BondProgram(WireMaterial.AU, 25, 150, 35, 60, 12)


async def test_a_run_is_traced_every_period_and_the_block_end_stops_the_trace(bench) -> None:
    bench.twin.receive("W01")
    bonder = await bench.driver()
    await bonder.load("W01")
    async with bonder.trace("bumps_done", "stage_temperature_c", period_s=5, group_size=3) as trace:
        result = await bonder.form_stud_bumps(PROGRAM)
    assert bench.equipment.traces.running == {}
    samples = trace.samples
    assert [sample.number for sample in samples] == list(range(1, len(samples) + 1))
    # a sample every 5 s of the bonder's time from the start to past the run's end
    assert len(samples) >= result.process_time_s // 5
    done = trace.values("bumps_done")
    assert done == sorted(done)
    assert done[0] == 0
    assert max(trace.values("stage_temperature_c")) == pytest.approx(150, abs=1)
    # STIME runs on the equipment's clock: each report's last sample 15 s after the previous
    times = [parse_time(report.time) for report in trace.reports]
    assert all(len(report.samples) == 3 for report in trace.reports[:-1])
    assert (times[1] - times[0]).total_seconds() == pytest.approx(15, abs=0.02)


async def test_a_trace_of_some_samples_ends_by_itself(bench) -> None:
    bonder = await bench.driver()
    async with bonder.trace("stage_temperature_c", period_s=1, total_samples=4) as trace:
        await bench.clock.sleep(10)
        assert bench.equipment.traces.running == {}
    assert [sample.number for sample in trace.samples] == [1, 2, 3, 4]


async def test_a_sample_the_tool_cannot_give_is_refused_as_a_reading_of_it(bench) -> None:
    """A trace of the wafer map with no wafer on the chuck: the tool samples it as it answers
    a reading, an empty list, and the sample is refused in the driver's words, as the reading
    (`no_value_because`), not read as a variable the tool does not know."""
    bonder = await bench.driver()
    async with bonder.trace("site_count", period_s=1, total_samples=2) as trace:
        await bench.clock.sleep(5)
    with pytest.raises(CommandRefused, match="trace 1: no wafer on the chuck") as refused:
        trace.samples  # noqa: B018
    assert refused.value.code == "SVID 1020"


async def test_a_sample_of_other_variables_than_the_trace_is_a_protocol_error(bench) -> None:
    """The host initializes the driver's trace again over two status variables (E30: an S2F23
    of the same TRID replaces the trace): the samples the tool sends then carry two values
    where the trace reads one (numbered from 1 again, as the tool numbers the new trace's), a
    `ProtocolError` naming the trace, the sample and what came, not a bare ValueError."""
    bonder = await bench.driver()
    variables = bonder.dictionary.status_variables
    svids = [variables[name].id for name in ("stage_temperature_c", "bumps_done")]
    async with bonder.trace("stage_temperature_c", period_s=1, total_samples=10) as trace:
        await bench.clock.sleep(1.5)
        await bonder.gem.initialize_trace(trace.trid, svids, period_s=1, total_samples=2)
        await bench.clock.sleep(5)
    assert len(trace.reports[0].samples[0]) == 1
    with pytest.raises(ProtocolError, match=r"trace 1: sample 1 came with 2 values") as wrong:
        trace.samples  # noqa: B018
    assert "its 1 status variable (stage_temperature_c)" in str(wrong.value)


async def test_too_much_is_refused_before_anything_is_sent(bench) -> None:
    bonder = await bench.driver()
    capacity = bonder.dictionary.trace
    with pytest.raises(ValueError, match=r"period 0\.01 s; the tool.s shortest is 0\.1 s"):
        async with bonder.trace("state", period_s=0.01):
            pass
    with pytest.raises(ValueError, match="no status variable mood"):
        async with bonder.trace("state", "mood", period_s=1):
            pass
    many = list(bonder.dictionary.status_variables)[: capacity.max_variables + 1]
    with pytest.raises(ValueError, match=f"tool traces 1 to {capacity.max_variables}"):
        async with bonder.trace(*many, period_s=1):
            pass
    assert "S2F23" not in bench.equipment.received


async def test_the_equipment_refuses_with_its_tiaack(bench) -> None:
    host = (await bench.driver()).gem
    equipment = bench.equipment
    with pytest.raises(CommandRefused, match="TIAACK 4: unknown SVID"):
        await host.initialize_trace(1, [1010, 7777], period_s=1, total_samples=5)
    with pytest.raises(CommandRefused, match="TIAACK 3: invalid period"):
        await host.initialize_trace(1, [1010], period_s=0.05, total_samples=5)
    with pytest.raises(CommandRefused, match="TIAACK 5: invalid REPGSZ"):
        await host.initialize_trace(1, [1010], period_s=1, total_samples=2, group_size=3)
    for trid in range(1, equipment.dictionary.trace.max_traces + 1):
        await host.initialize_trace(trid, [1010], period_s=60, total_samples=5)
    with pytest.raises(CommandRefused, match="TIAACK 2: no more traces allowed"):
        await host.initialize_trace(99, [1010], period_s=60, total_samples=5)
    # the same TRID replaces its trace; TOTSMP 0 ends one
    await host.initialize_trace(1, [1015], period_s=60, total_samples=5)
    assert equipment.traces.running[1].svids == [1015]
    await host.stop_trace(1)
    assert 1 not in equipment.traces.running
    with pytest.raises(ValueError, match="at least one SVID"):
        await host.initialize_trace(5, [], period_s=1, total_samples=5)


def test_the_sample_period_reads_as_dsper() -> None:
    assert format_period(1) == "00000100"
    assert format_period(3723.5) == "01020350"
    assert parse_period("000130") == 90
    assert parse_period("00000025") == 0.25
    for text in ("0001", "006000", "00:01:00"):
        with pytest.raises(ValueError, match="DSPER"):
            parse_period(text)
    with pytest.raises(ValueError, match=r"0\.01 s up to 100 h"):
        format_period(0.001)
