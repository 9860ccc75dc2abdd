"""Suite-wide guards: every test must leave no thread and no asyncio task behind, no test
measures its speed through hypothesis (a test runs on a loaded machine: `pytest -n auto`), and
each test keeps its runs and tool locks in directories of its own, never the user's. And a
port where nothing listens, for any test (`unused_port`)."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from packline.line_lock import LOCK_DIR_VARIABLE

# Hypothesis fails an example that takes over 200 ms, and a test whose data take long to
# generate: both are timed assertions, which a loaded machine fails at random.
settings.register_profile("packline", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("packline")

#: How long a thread that the test started may take to end once the test is over.
THREAD_END_WAIT_S = 5.0

_threads_before = pytest.StashKey[set[threading.Thread]]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    """Note the threads running before the test and its fixtures start."""
    item.stash[_threads_before] = set(threading.enumerate())
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    """Fail a test that leaves a non-daemon thread running (a forgotten worker, server or
    peer): such a thread goes on into later tests and holds the process open at exit.

    Checked once every fixture of the test is torn down: its event loop closed, which joins
    the loop's executor threads (`asyncio.to_thread`).
    """
    result = yield
    before = item.stash.get(_threads_before, set())
    started = [t for t in threading.enumerate() if t not in before and not t.daemon]
    for thread in started:
        thread.join(THREAD_END_WAIT_S)
    leaked = [t for t in started if t.is_alive()]
    if leaked:
        names = ", ".join(sorted(t.name for t in leaked))
        pytest.fail(f"test leaked {len(leaked)} non-daemon thread(s): {names}")
    return result


@pytest.fixture(autouse=True)
async def fail_on_leaked_tasks():
    """Fail a test that leaves asyncio tasks running (a forgotten server, poller or timer)."""
    before = asyncio.all_tasks()
    yield
    # Give tasks that are finishing their cancellation one pass of the loop.
    for _ in range(3):
        await asyncio.sleep(0)
    leaked = [
        t for t in asyncio.all_tasks() - before if not t.done() and t is not asyncio.current_task()
    ]
    if leaked:
        for task in leaked:
            task.cancel()
        await asyncio.gather(*leaked, return_exceptions=True)
        names = ", ".join(sorted(repr(t.get_coro()) for t in leaked))
        pytest.fail(f"test leaked {len(leaked)} asyncio task(s): {names}")


#: The environment that says where the run database is when a command is given no `--db`
#: (`default_db_path`), and the data directory it falls back to.
_DATA_VARIABLES = ("PACKLINE_DB", "PACKLINE_DATA", "XDG_DATA_HOME")


@pytest.fixture(autouse=True)
def own_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Each test's run database, when it names none (`validate`'s plans, a `run` without
    `--db`), is in a data directory of its own: never the one of the user who runs the suite,
    whose runs it would add to and whose database a newer schema would upgrade under the
    installed packline, nor another test's. (Set by hand, as `own_lock_dir`.)"""
    before = {name: os.environ.get(name) for name in _DATA_VARIABLES}
    os.environ.pop("PACKLINE_DB", None)
    os.environ.pop("PACKLINE_DATA", None)
    os.environ["XDG_DATA_HOME"] = str(tmp_path_factory.mktemp("data"))
    yield
    for name, value in before.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(autouse=True)
def own_lock_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Each test takes the tools it drives in a lock directory of its own (and the processes
    it starts with it, `packline.line_lock`): tests that run at once never refuse each other a
    reused pty, nor does a line the machine drives refuse the suite. (Set by hand, not by
    `monkeypatch`: a test's own patches must be undone when it asks, not before this.)"""
    before = os.environ.get(LOCK_DIR_VARIABLE)
    os.environ[LOCK_DIR_VARIABLE] = str(tmp_path_factory.mktemp("locks"))
    yield
    if before is None:
        del os.environ[LOCK_DIR_VARIABLE]
    else:
        os.environ[LOCK_DIR_VARIABLE] = before


@pytest.fixture
def unused_port() -> Iterator[int]:
    """A loopback port that nobody listens on: a tool address where nothing answers, for any
    test. It stays bound, never listening, while the test runs (a connect to it is refused),
    so no server of a test running beside it can take it meanwhile (one that did made a run's
    unreachable tool reachable, and another kind)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]
