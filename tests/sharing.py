"""What the suite's xdist workers share through files (``tests/conftest.py`` wires it up): the
session's mirror, announced once it is ready; a readers-writer lock on it; and the episodes'
executed notebooks, which the site build and the learner-notebook test read in whichever worker
ran them."""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import nbformat
from episode_runs import EpisodeRun, Trial, run_episode

WAIT = 1800  # seconds: the longest a worker waits for the mirror's build or for an episode


def wait_for(ready: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:.0f} s for {what}")
        time.sleep(0.2)


def announce(path: Path, **fields: object) -> None:
    """Write ``fields`` to ``path`` at once (temp file and rename): a reader sees all or none."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps(fields))
    tmp.replace(path)


def announced(path: Path, what: str, timeout: float = WAIT) -> dict[str, object]:
    """What :func:`announce` wrote to ``path``, once it has."""
    wait_for(path.exists, what, timeout)
    return json.loads(path.read_text())


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


class ExecutedEpisodes:
    """Each episode's executed notebook, kept in ``folder`` by the test that ran it, for the
    tests in any worker that reuse its outputs instead of executing it again."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def _path(self, episode: Path, suffix: str) -> Path:
        return self.folder / f"{episode.stem}{suffix}"

    def run(self, episode: Path, workdir: Path, base: str, state_dir: Path,
            trials: Iterable[Trial] = ()) -> EpisodeRun:  # fmt: skip
        """:func:`episode_runs.run_episode`, keeping the notebook; a failed run is marked as
        such, so that nobody waits for it."""
        try:
            run = run_episode(episode, workdir, base, state_dir, trials)
        except BaseException:
            self._path(episode, ".failed").touch()
            raise
        tmp = self._path(episode, f".{os.getpid()}.tmp")
        nbformat.write(run.nb, tmp)
        tmp.replace(self._path(episode, ".ipynb"))
        return run

    def get(self, episode: Path) -> nbformat.NotebookNode | None:
        path = self._path(episode, ".ipynb")
        return nbformat.read(path, as_version=4) if path.exists() else None

    def wait(self, episodes: Iterable[Path], timeout: float = WAIT
             ) -> dict[Path, nbformat.NotebookNode]:  # fmt: skip
        """The notebooks of ``episodes`` once each has run (in any worker); one whose run
        failed is left out, and its own test says why."""
        found = {}
        for episode in episodes:
            done = [self._path(episode, s) for s in (".ipynb", ".failed")]
            wait_for(lambda done=done: any(p.exists() for p in done),
                     f"the tests of {episode.name} to run it", timeout)  # fmt: skip
            nb = self.get(episode)
            if nb is not None:
                found[episode] = nb
        return found
