"""Shared fixtures: one offline mirror for the whole session, as the build uses it.

Run on several cores (``pytest -n auto``, as ``make test`` does), the controller builds and
starts that one mirror before its workers start, and every worker uses it; tests that read
the mirror's request log take it to themselves for their duration (``quiet_mirror``). The
episodes, and the tests that reuse their executed notebooks, run in one worker.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from satlesson.mirror.client import routing
from satlesson.mirror.server import service
from satlesson.mirror.server.postgres import free_port

ROOT = Path(__file__).resolve().parents[1]
# What the controller hands its workers: the running mirror's base URL and its build's log.
SHARED_MIRROR = "SATLESSON_TEST_MIRROR"
SHARED_BUILD_LOG = "SATLESSON_TEST_MIRROR_BUILD_LOG"
_MIRROR = pytest.StashKey[ExitStack]()  # the controller's running mirror
_TIMES = pytest.StashKey[tuple[float, float]]()  # seconds its build and its start took
# Test files that share the executed episodes: one worker runs them, in this order.
EPISODE_GROUP = ("tests/episodes/", "tests/lesson/test_learner_notebooks.py",
                 "tests/pages/test_site.py")  # fmt: skip


def _state_dir() -> Path:
    return Path(os.environ.get(service.STATE_ENV, ROOT / ".mirror")).resolve()


def _build(state_dir: Path) -> subprocess.CompletedProcess[str]:
    """`satlesson mirror build` on the session's state before its mirror starts, as an
    instructor readies a workshop: on a fresh clone the files the episodes read are rendered
    here, in parallel, instead of one by one as the episodes ask; later it checks and goes."""
    return subprocess.run([sys.executable, "-m", "satlesson", "mirror", "build",
                           "--state-dir", str(state_dir)],
                          capture_output=True, text=True, timeout=1800)  # fmt: skip


def _is_controller(config: pytest.Config) -> bool:
    """This process hands tests to xdist workers and runs none itself."""
    return config.pluginmanager.has_plugin("dsession")


def pytest_sessionstart(session: pytest.Session) -> None:
    # Runs before xdist starts its workers (its own hook comes last), so they inherit these.
    if not _is_controller(session.config):
        return
    state = _state_dir()
    start = time.monotonic()
    result = _build(state)
    built = time.monotonic()
    if result.returncode != 0:
        pytest.exit(f"satlesson mirror build failed:\n{result.stderr[-2000:]}", returncode=3)
    log = state / "build.log"
    log.write_text(result.stderr)
    stack = ExitStack()
    os.environ[SHARED_MIRROR] = stack.enter_context(service.running(free_port(), state))
    os.environ[SHARED_BUILD_LOG] = str(log)
    session.config.stash[_MIRROR] = stack
    session.config.stash[_TIMES] = (built - start, time.monotonic() - built)


def pytest_sessionfinish(session: pytest.Session) -> None:
    stack = session.config.stash.get(_MIRROR, None)
    if stack is not None:
        stack.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter,
                            config: pytest.Config) -> None:
    times = config.stash.get(_TIMES, None)
    if times is not None:  # scripts/bench_suite.py reads this line
        terminalreporter.write_line(f"shared mirror: built in {times[0]:.1f} s, "
                                    f"started in {times[1]:.1f} s, before the first test")


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """xdist's scheduler, handing out one group of tests at a time: a test file, so that its
    module fixtures are made once, or the episode group, so that the site build finds every
    executed episode. (Not ``--dist loadgroup``: with pytest 9.2 its marks group nothing,
    as it renames tests through an attribute pytest no longer reads: pytest-xdist#1386.)"""
    from xdist.scheduler import LoadScopeScheduling

    class ByGroup(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "episodes" if path.startswith(EPISODE_GROUP) else path

    return ByGroup(config, log)


@contextmanager
def mirror_lock(folder: Path, exclusive: bool) -> Iterator[None]:
    """A readers-writer lock across the workers; a waiting writer holds the turnstile, so
    readers that come after it wait for it instead of keeping it out."""
    folder.mkdir(parents=True, exist_ok=True)
    with (
        (folder / "turnstile.lock").open("w") as turnstile,
        (folder / "quiet.lock").open("w") as lock,
    ):
        fcntl.flock(turnstile, fcntl.LOCK_EX)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        finally:
            if not exclusive:
                fcntl.flock(turnstile, fcntl.LOCK_UN)
        yield  # closing the files releases what is still held


_SHARERS = {"mirror_base", "own_state"}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    # In a worker, a test that uses the shared mirror (or its files) shares it, and one that
    # reads its request log has it alone; setup counts, since session fixtures run episodes.
    if SHARED_MIRROR not in os.environ or not _SHARERS & set(item.fixturenames):
        return (yield)
    quiet = item.get_closest_marker("quiet_mirror") is not None
    with mirror_lock(_state_dir() / "test-locks", exclusive=quiet):
        return (yield)


@pytest.fixture(scope="session")
def mirror_state_dir() -> Path:
    """The mirror's database and file cache; kept between runs so a warm cache stays warm."""
    return _state_dir()


@pytest.fixture(scope="session")
def own_state(mirror_state_dir: Path) -> Callable[[str], Path]:
    """A state folder of its own for another mirror (kept between runs: its database), whose
    rendered files, and the model's kept fields, are the session's."""

    def make(name: str) -> Path:
        state = mirror_state_dir / name
        state.mkdir(parents=True, exist_ok=True)
        if not (state / "assets").exists():
            (mirror_state_dir / "assets").mkdir(exist_ok=True)
            (state / "assets").symlink_to(mirror_state_dir / "assets")
        return state

    return make


@pytest.fixture(scope="session", autouse=True)
def base_fields_kept(mirror_state_dir: Path) -> None:
    """Renders in this process read the model's base fields from the session's state folder,
    as the build's workers and the mirror do, instead of computing them once more (~13 s)."""
    from satlesson.mirror.synthetic import render

    render.keep_fields(mirror_state_dir / "assets")


@pytest.fixture(scope="session")
def mirror_build(mirror_state_dir: Path) -> subprocess.CompletedProcess[str]:
    """The build of the session's state: the controller's, or one made here."""
    if SHARED_BUILD_LOG in os.environ:
        log = Path(os.environ[SHARED_BUILD_LOG])
        return subprocess.CompletedProcess(["satlesson", "mirror", "build"], 0, "",
                                           log.read_text())  # fmt: skip
    result = _build(mirror_state_dir)
    assert result.returncode == 0, result.stderr[-2000:]
    return result


@pytest.fixture(scope="session")
def mirror_base(mirror_state_dir: Path, mirror_build: subprocess.CompletedProcess[str],
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:  # fmt: skip
    """Base URL of a running mirror, on the state `mirror build` readied; this process's
    requests to the real hosts (requests, GDAL) go through its proxy."""
    with ExitStack() as stack:
        base = os.environ.get(SHARED_MIRROR) or stack.enter_context(
            service.running(free_port(), mirror_state_dir))
        routing.install(base, tmp_path_factory.mktemp("mirror-client"))
        try:
            yield base
        finally:
            routing.uninstall()


@pytest.fixture(scope="session")
def executed_episodes() -> dict[Path, object]:
    """Each episode's executed notebook, by source path, once its tests have run it: the site
    build takes its outputs from here instead of executing the episode a second time."""
    return {}
