"""Shared fixtures: one offline mirror for the whole session, as the build uses it.

Run on several cores (``pytest -n auto``, as ``make test`` does), the controller builds and
starts that one mirror while its workers run the tests that need no mirror, and announces it
once it is ready (``sharing.py``); tests that read the mirror's request log take it to
themselves for their duration (``quiet_mirror``). The episodes run in any worker, and the tests
that reuse their executed notebooks wait for them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import nbformat
import pytest
from sharing import ExecutedEpisodes, announce, announced, mirror_lock

from satlesson.mirror.client import routing
from satlesson.mirror.server import service
from satlesson.mirror.server.postgres import free_port

ROOT = Path(__file__).resolve().parents[1]
# What the controller hands its workers: the file where it announces the running mirror.
SHARED_MIRROR = "SATLESSON_TEST_MIRROR"
_MIRROR = pytest.StashKey["SessionMirror"]()


def _state_dir() -> Path:
    return Path(os.environ.get(service.STATE_ENV, ROOT / ".mirror")).resolve()


def _build(state_dir: Path, started: Callable[[subprocess.Popen[str]], None] = lambda p: None
           ) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """`satlesson mirror build` on the session's state before its mirror starts, as an
    instructor readies a workshop: on a fresh clone the files the episodes read are rendered
    here, in parallel, instead of one by one as the episodes ask; later it checks and goes."""
    cmd = [sys.executable, "-m", "satlesson", "mirror", "build", "--state-dir", str(state_dir)]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        started(proc)
        try:
            out, err = proc.communicate(timeout=1800)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _is_controller(config: pytest.Config) -> bool:
    """This process hands tests to xdist workers and runs none itself."""
    return config.pluginmanager.has_plugin("dsession")


class SessionMirror:
    """The controller's mirror: built and started in a thread while the workers begin with the
    tests that need none, then announced in a file the workers wait for."""

    def __init__(self, state: Path) -> None:
        self.state, self.stack = state, ExitStack()
        self.announcement = state / "test-locks" / f"mirror-{os.getpid()}.json"
        self.announcement.parent.mkdir(parents=True, exist_ok=True)
        self.announcement.unlink(missing_ok=True)
        self.build: subprocess.Popen[str] | None = None
        self.times: tuple[float, float] | None = None
        self.thread = threading.Thread(target=self._ready, daemon=True)
        self.thread.start()

    def _started(self, proc: subprocess.Popen[str]) -> None:
        self.build = proc

    def _ready(self) -> None:
        start = time.monotonic()
        try:
            result = _build(self.state, self._started)
            built = time.monotonic()
            if result.returncode != 0:
                announce(self.announcement,
                         error=f"satlesson mirror build failed:\n{result.stderr[-2000:]}")
                return
            log = self.state / "build.log"
            log.write_text(result.stderr)
            base = self.stack.enter_context(service.running(free_port(), self.state))
            self.times = (built - start, time.monotonic() - built)
            announce(self.announcement, base=base, build_log=str(log))
        except Exception as err:  # the workers' mirror tests fail with it, not a hang
            announce(self.announcement, error=f"the session's mirror did not start: {err}")

    def close(self) -> None:
        if self.thread.is_alive() and self.build is not None and self.build.poll() is None:
            self.build.send_signal(signal.SIGINT)  # the build stops its workers and cleans up
        self.thread.join()
        self.stack.close()
        self.announcement.unlink(missing_ok=True)


def pytest_sessionstart(session: pytest.Session) -> None:
    # Runs before xdist starts its workers (its own hook comes last), so they inherit this.
    if not _is_controller(session.config):
        return
    mirror = SessionMirror(_state_dir())
    os.environ[SHARED_MIRROR] = str(mirror.announcement)
    session.config.stash[_MIRROR] = mirror


def pytest_sessionfinish(session: pytest.Session) -> None:
    mirror = session.config.stash.get(_MIRROR, None)
    if mirror is not None:
        mirror.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter,
                            config: pytest.Config) -> None:
    mirror = config.stash.get(_MIRROR, None)
    if mirror is not None and mirror.times is not None:  # scripts/bench_suite.py reads this
        terminalreporter.write_line(f"shared mirror: built in {mirror.times[0]:.1f} s, "
                                    f"started in {mirror.times[1]:.1f} s, beside the first tests")


def _shared_mirror() -> dict[str, str] | None:
    """In a worker: the controller's mirror, once it has announced it (None: none is shared)."""
    if SHARED_MIRROR not in os.environ:
        return None
    got = announced(Path(os.environ[SHARED_MIRROR]), "the session's mirror")
    if "error" in got:
        pytest.fail(str(got["error"]), pytrace=False)
    return {k: str(v) for k, v in got.items()}


# The order tests are handed out in, by file: first those that need no mirror (they run while
# it is built), then the episodes, then what reuses their notebooks, then the other mirror tests.
_MIRROR_FIXTURES = {"mirror_base", "mirror_build", "own_state"}


def _rank(fixtures: set[str]) -> int:
    if "all_executed_episodes" in fixtures:
        return 2
    if "executed_episodes" in fixtures:
        return 1
    return 3 if _MIRROR_FIXTURES & fixtures else 0


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """xdist's scheduler by file, handing files out in collection order (``_rank``'s): with
    xdist's default reordering (biggest file first) a file that waits for the episodes could
    come first, and wait for an episode queued behind it in its own worker."""
    from xdist.scheduler import LoadFileScheduling

    config.option.loadscopereorder = False
    return LoadFileScheduling(config, log)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    fixtures: dict[Path, set[str]] = {}
    for item in items:
        fixtures.setdefault(item.path, set()).update(item.fixturenames)
    items.sort(key=lambda item: _rank(fixtures[item.path]))


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
def own_state(mirror_state_dir: Path, mirror_build: subprocess.CompletedProcess[str]
              ) -> Callable[[str], Path]:  # fmt: skip
    """A state folder of its own for another mirror (kept between runs: its database), whose
    rendered files, and the model's kept fields, are the session's (once it is built)."""

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
    shared = _shared_mirror()
    if shared is not None:
        log = Path(shared["build_log"]).read_text()
        return subprocess.CompletedProcess(["satlesson", "mirror", "build"], 0, "", log)
    result = _build(mirror_state_dir)
    assert result.returncode == 0, result.stderr[-2000:]
    return result


@pytest.fixture(scope="session")
def mirror_base(mirror_state_dir: Path, mirror_build: subprocess.CompletedProcess[str],
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:  # fmt: skip
    """Base URL of a running mirror, on the state `mirror build` readied; this process's
    requests to the real hosts (requests, GDAL) go through its proxy."""
    with ExitStack() as stack:
        shared = _shared_mirror()
        base = shared["base"] if shared else stack.enter_context(
            service.running(free_port(), mirror_state_dir))
        routing.install(base, tmp_path_factory.mktemp("mirror-client"))
        try:
            yield base
        finally:
            routing.uninstall()


@pytest.fixture(scope="session")
def executed_episodes(tmp_path_factory: pytest.TempPathFactory) -> ExecutedEpisodes:
    """Each episode's executed notebook, once its tests have run it, in a folder all workers
    share: the site build and the learner notebooks take their outputs from there instead of
    executing the episodes a second time."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if "PYTEST_XDIST_WORKER" in os.environ else base  # the session's
    return ExecutedEpisodes(shared / "executed-episodes")


@pytest.fixture(scope="session")
def all_executed_episodes(request: pytest.FixtureRequest, executed_episodes: ExecutedEpisodes
                          ) -> dict[Path, nbformat.NotebookNode]:  # fmt: skip
    """The notebooks of every episode this session runs, once each has run, in any worker.
    The files that use this are handed out after every episode's (``_rank``), so what they
    wait for is running or done."""
    episodes = {item.module.EPISODE for item in request.session.items
                if "executed" in item.fixturenames
                and hasattr(getattr(item, "module", None), "EPISODE")}  # fmt: skip
    return executed_episodes.wait(sorted(episodes))
