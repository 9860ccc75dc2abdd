"""pytest plugin: point hardware-in-the-loop tests at a station file, or at the simulated line.

Installed with packline (entry point `pytest11`), in the manner of labgrid's `--lg-env`:

    pytest --station=line.yaml -m station    # the tests marked `station` drive line.yaml's tools
    pytest -m station                        # the same tests drive the bundled simulated line
    pytest --pyargs packline.testing.station_checks --station=line.yaml   # packline's own set

(`--station=PATH`, one argument: `_refuse_a_station_taken_for_a_test_path` says why.)

A test asks for the `station` fixture (a `packline.station.Station`) and opens its tools with
`station.open_tool(name)`; it never knows whether they are real. A test that takes
`station_tool` runs once per tool of the station (its name); `dummy_wafer_id` is the
`--dummy-wafer` a dry job takes in and out of a tool. The plugin registers the
`station` marker and runs a coroutine test marked `station` on pytest-asyncio, which
`packline[test]` installs; without pytest-asyncio the plugin still loads (pytest keeps working
for every other project in the environment) and such a test fails naming what to install.

With `--station`, pytest holds the station's tools from its start to its end
(`packline.line_lock`): it refuses to start while a run drives one of them, naming the run and
how to stop it, and a run refuses to start on them meanwhile. Under pytest-xdist its workers
take turns at each tool, a test at a time (`packline.testing.tool_turns`): a test takes the
tool of its `station_tool`, those its `station_tools` marker names, or else the tool it opens,
until it ends, waiting at most `--station-tool-wait` seconds for another worker's test of it.
"""

from __future__ import annotations

import contextlib
import inspect
import itertools
import math
import shutil
import tempfile
from collections.abc import AsyncIterator, Generator, Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest

from packline.clock import ScaledClock
from packline.drivers.equipment import validate_wafer_id
from packline.drivers.errors import ToolConnectionError, WrongTool, address_line_text
from packline.line_lock import Holder, LineBusy, hold_tools, tool_addresses
from packline.station import Station, StationError, load_station
from packline.testing.tool_turns import DEFAULT_WAIT_S, WORKER_INPUT_KEY, StationInTurns, ToolTurns

try:
    import pytest_asyncio

    HAVE_PYTEST_ASYNCIO = True
except ImportError:  # packline without its `test` extra: pytest must keep working
    HAVE_PYTEST_ASYNCIO = False

#: How much faster than the wall clock the simulated line of the `station` fixture runs, so
#: a dry job's pump-down takes seconds (the drivers a station test opens wait on the wall
#: clock, as `station check`'s do; a run on such a line waits on its time, decision 0125).
SIMULATED_TIME_SCALE = 60.0
#: The extra that installs what an async hardware-in-the-loop test needs.
TEST_EXTRA = "pip install 'packline[test]'"
#: packline's own set of station checks (`pytest --pyargs packline.testing.station_checks`).
STATION_CHECKS = Path(__file__).with_name("station_checks.py")
#: The name pytest gives the set's module run from outside its rootdir: its path in packline.
STATION_CHECKS_NODE_ID = "packline/testing/station_checks.py"
#: The actions of a link's `ToolConnectionError` that mean its tool cannot be reached: its
#: connect (`Link.connect`), or a passive HSMS link's listen. Any other is the test's to tell,
#: with its traceback: a connection lost once made (`ConnectionLost`), or a tool used without
#: a connection (`not connected`: opened, not connected, or used after its `async with`).
CONNECTING = ("connect", "listen")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("packline")
    group.addoption(
        "--station",
        action="store",
        default=None,
        metavar="FILE",
        help="station file of real tools for tests that use the `station` fixture "
        "(default: the bundled simulated line on loopback)",
    )
    group.addoption(
        "--dummy-wafer",
        action="store",
        default=None,
        metavar="ID",
        help="id of the dummy wafer that the dry jobs of tools needing one take in and out "
        "(default: packline.testing.dry_jobs.DUMMY_WAFER_ID); on real tools, place it where "
        "they load from",
    )
    group.addoption(
        "--station-tool-wait",
        action="store",
        type=float,
        default=DEFAULT_WAIT_S,
        metavar="SECONDS",
        help="under pytest-xdist, how long a test waits for its turn at a tool another "
        f"worker's test drives before it fails (default: {DEFAULT_WAIT_S:g})",
    )


def pytest_configure(config: pytest.Config) -> None:
    _refuse_a_station_taken_for_a_test_path(config)
    dummy_wafer_id = config.getoption("--dummy-wafer")
    if dummy_wafer_id is not None:
        try:
            validate_wafer_id(dummy_wafer_id)
        except ValueError as error:
            raise pytest.UsageError(f"--dummy-wafer: {error}") from None
    wait_s = config.getoption("--station-tool-wait")
    if not (math.isfinite(wait_s) and wait_s > 0):
        raise pytest.UsageError(f"--station-tool-wait: {wait_s:g} s: a wait must be positive")
    config.addinivalue_line(
        "markers",
        "station: a hardware-in-the-loop test: it drives the tools of the --station file "
        "(default: the bundled simulated line)",
    )
    config.addinivalue_line(
        "markers",
        "station_tools(*names): the tools a station test drives besides its station_tool, "
        "taken together before it starts when pytest-xdist's workers take turns at them",
    )
    path = config.getoption("--station")
    if path is not None and not hasattr(config, "workerinput"):  # xdist's workers: the
        _hold_the_station(config, path)  # pytest that started them holds it for them


def _hold_the_station(config: pytest.Config, path: str) -> None:
    """Hold every tool of the station file at `path` until pytest ends: the tests command
    each tool's safe state and run dry jobs, which must never cross a run's commands.
    Refused, before any test runs, while a run (or other station tests) drives one."""
    try:
        station = load_station(path)
    except StationError as error:
        raise pytest.UsageError(f"--station={path}: {error}") from None
    held = contextlib.ExitStack()
    try:
        held.enter_context(hold_tools(tool_addresses(station), station_tests_holder(path)))
    except LineBusy as busy:
        raise pytest.UsageError(
            f"--station={path}: {busy}; the station tests command each tool's safe state and "
            "run a dry job on it, so they never start on a line a run drives"
        ) from None
    config.add_cleanup(held.close)


def station_tests_holder(path: str) -> Holder:
    """This pytest as the holder of the tools of the station file at `path` (`--station`),
    with what to do about it: a run, or `packline station check`, refused meanwhile says it."""
    return Holder.here(
        f"station tests `pytest --station={path}`",
        "wait until they end, or stop them (Ctrl-C in their terminal), and start it again",
    )


class _WorkerNode(Protocol):
    """What `pytest_configure_node` is given of an xdist worker (its `WorkerController`)."""

    config: pytest.Config
    workerinput: dict[str, Any]


_turns_folder = pytest.StashKey[Path]()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: _WorkerNode) -> None:
    """Hand each xdist worker the session's folder of tool turns (`tool_turns`), made once
    and removed when pytest ends: the workers share the pytest's hold on the station."""
    config = node.config
    if config.getoption("--station") is None:
        return
    if _turns_folder not in config.stash:
        folder = Path(tempfile.mkdtemp(prefix="packline-tool-turns-"))
        config.stash[_turns_folder] = folder
        config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))
    node.workerinput[WORKER_INPUT_KEY] = str(config.stash[_turns_folder])


def _refuse_a_station_taken_for_a_test_path(config: pytest.Config) -> None:
    """Refuse `--station PATH` (two arguments) with PATH outside the directory pytest runs in.

    pytest reads its command line once to find its rootdir and ini file before it loads any
    plugin, so before this one says `--station` takes a value: that first reading takes PATH
    for a test path and finds the rootdir from PATH's directory (`/tmp` for
    `/tmp/op/line.yaml`), so the project's ini file (its test paths, markers, asyncio mode)
    is not read and its tests fail to collect. `--station=PATH` is one argument, which the
    first reading passes over as an unknown option; a PATH inside the directory pytest runs
    in leads that reading to the same rootdir."""
    args = list(config.invocation_params.args)
    for option, value in itertools.pairwise(args):
        if option != "--station":
            continue
        here = config.invocation_params.dir
        if not (here / value).resolve().is_relative_to(here.resolve()):
            raise pytest.UsageError(
                f"--station {value}: write --station={value} (one argument): pytest finds its "
                "rootdir before the packline plugin says --station takes a value, so a file "
                f"outside {here} given apart from it is taken for a test path and the rootdir "
                f"is found from it (here {config.rootpath}), not from this project"
            )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test taking `station_tool` runs once per tool of the station, by name."""
    if "station_tool" in metafunc.fixturenames:
        metafunc.parametrize("station_tool", _station_tool_names(metafunc.config))


def _station_tool_names(config: pytest.Config) -> list[str]:
    path = config.getoption("--station")
    if path is not None:
        return list(load_station(path).tools)
    from packline.drivers.registry import TOOL_KINDS

    return [kind.role for kind in TOOL_KINDS.values()]  # the simulated line names tools by role


def _is_async_station_test(item: pytest.Item) -> bool:
    function = getattr(item, "function", None)
    return item.get_closest_marker("station") is not None and inspect.iscoroutinefunction(function)


@pytest.fixture
def dummy_wafer_id(request: pytest.FixtureRequest) -> str:
    """The `--dummy-wafer` id: what a dry job takes in and out of a tool that moves nothing
    without a workpiece (`packline.testing.dry_jobs`)."""
    from packline.testing.dry_jobs import DUMMY_WAFER_ID  # the drivers: only when asked for

    wafer_id: str | None = request.config.getoption("--dummy-wafer")
    return wafer_id or DUMMY_WAFER_ID


def pytest_pycollect_makemodule(
    module_path: Path, parent: pytest.Collector
) -> pytest.Module | None:
    """packline's station checks, run from a directory outside which they are installed (as
    `pytest --pyargs packline.testing.station_checks` is run), named by their path in packline.
    pytest names a test file outside its rootdir that it was given by its path from itself,
    nothing, which its progress line shows as `.` before the file's results: `. ......`, a
    stray space after a first dot to the reader. Any other module is pytest's to collect."""
    if module_path.name != STATION_CHECKS.name or module_path.is_relative_to(
        parent.config.rootpath
    ):
        return None
    if module_path.resolve() != STATION_CHECKS.resolve():
        return None
    return pytest.Module.from_parent(parent, path=module_path, nodeid=STATION_CHECKS_NODE_ID)


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_pycollect_makeitem(
    collector: pytest.Module | pytest.Class, name: str, obj: object
) -> Generator[None, object, object]:
    """Run a coroutine test marked `station` on pytest-asyncio, whatever the project's asyncio
    mode: the marker is added as the test is collected (innermost, so pytest-asyncio's own
    collection hook, around this one, sees it)."""
    result = yield
    if HAVE_PYTEST_ASYNCIO:
        for node in result if isinstance(result, list) else [result]:
            if isinstance(node, pytest.Function) and _is_async_station_test(node):
                node.add_marker(pytest.mark.asyncio)
    return result


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Generator[None, object, object]:
    """Without pytest-asyncio, fail an async `station` test naming what to install (pytest
    alone would only say it does not run coroutines). A test of the `station` whose tool
    cannot be reached as it connects (`CONNECTING`), or answers as another kind (`WrongTool`,
    which its identity read as it connects says), fails in one line naming the tool, why and
    the line of the station file that gives its address, in the words of `packline station
    check`, not in the driver's traceback (some 100 lines a test, the cause at their end)."""
    if not HAVE_PYTEST_ASYNCIO and _is_async_station_test(pyfuncitem):
        pytest.fail(f"an async `station` test needs pytest-asyncio: {TEST_EXTRA}", pytrace=False)
    try:
        return (yield)
    except (ToolConnectionError, WrongTool) as error:
        station = pyfuncitem.funcargs.get("station")
        unreached = isinstance(error, WrongTool) or error.action in CONNECTING
        if not isinstance(station, Station) or not unreached:
            raise
        said = address_line_text(str(error), station.address_at(error.tool))
        raise pytest.fail.Exception(said, pytrace=False) from None


@contextlib.contextmanager
def _in_turns(request: pytest.FixtureRequest, station: Station) -> Iterator[Station]:
    """`station` as the test of `request` has it: on an xdist worker of a `--station` session,
    with the tools it drives taken in turns (`tool_turns`) from here to its end, those of its
    `station_tool` and its `station_tools` marker first; elsewhere as it is. The marker's names
    are checked everywhere, so a misspelt one fails with and without xdist alike."""
    named = _tools_named_by_the_marker(request, station)
    workerinput = getattr(request.config, "workerinput", {})
    if WORKER_INPUT_KEY not in workerinput:
        yield station
        return
    turns = ToolTurns(
        station,
        Path(workerinput[WORKER_INPUT_KEY]),
        workerinput["workerid"],
        request.node.nodeid,
        request.config.getoption("--station-tool-wait"),
    )
    try:
        if "station_tool" in request.fixturenames:
            named.add(request.getfixturevalue("station_tool"))
        if named:
            turns.take(named)
        yield StationInTurns.of(station, turns)
    finally:
        turns.release()


def _tools_named_by_the_marker(request: pytest.FixtureRequest, station: Station) -> set[str]:
    """The tools the test's `station_tools` marker names; a name `station` has not fails the
    test, naming it and the station's tools (a typo would take no turn at the tool meant)."""
    marker = request.node.get_closest_marker("station_tools")
    named = set() if marker is None else set(marker.args)
    unknown = sorted(str(name) for name in named - set(station.tools))
    if unknown:
        pytest.fail(
            f"@pytest.mark.station_tools: no tool {', '.join(unknown)} in station "
            f"{station.name}; tools: {', '.join(station.tools)}",
            pytrace=False,
        )
    return named


if HAVE_PYTEST_ASYNCIO:

    @pytest_asyncio.fixture
    async def station(request: pytest.FixtureRequest) -> AsyncIterator[Station]:
        """The station under test: the `--station` file, or a fresh simulated line."""
        path = request.config.getoption("--station")
        if path is not None:
            with _in_turns(request, load_station(path)) as station:
                yield station
            return
        from packline.sim_instruments.line import SimulatedLine

        clock = ScaledClock(SIMULATED_TIME_SCALE)
        async with SimulatedLine(clock) as line:
            simulated = line.station.model_copy(update={"time_scale": SIMULATED_TIME_SCALE})
            with _in_turns(request, simulated) as station:
                yield station

else:

    @pytest.fixture
    def station(request: pytest.FixtureRequest) -> Iterator[Station]:
        """The `--station` file; the simulated line needs pytest-asyncio to run on."""
        path = request.config.getoption("--station")
        if path is None:
            pytest.fail(
                f"the simulated line for the `station` fixture needs pytest-asyncio: {TEST_EXTRA}",
                pytrace=False,
            )
        with _in_turns(request, load_station(path)) as station:
            yield station
