"""How the suite's xdist workers share (``tests/sharing.py``): a test that reads the mirror's
request log has it alone, and waits for none that comes after it; workers wait for the mirror
to be announced; an episode run in one worker is read in another, and a failed one is waited
for by nobody."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import nbformat
import pytest
import sharing
from episode_runs import EpisodeRun
from sharing import mirror_lock


def _hold(folder: Path, exclusive: bool, got: threading.Event, release: threading.Event) -> None:
    with mirror_lock(folder, exclusive):
        got.set()
        release.wait(10)


def _start(folder: Path, exclusive: bool) -> tuple[threading.Event, threading.Event]:
    got, release = threading.Event(), threading.Event()
    threading.Thread(target=_hold, args=(folder, exclusive, got, release), daemon=True).start()
    return got, release


def test_a_quiet_test_waits_for_the_others_and_keeps_out_later_ones(tmp_path: Path) -> None:
    reader_got, reader_release = _start(tmp_path, exclusive=False)
    assert reader_got.wait(5)
    second_got, second_release = _start(tmp_path, exclusive=False)
    assert second_got.wait(5)  # tests that share the mirror run side by side
    writer_got, writer_release = _start(tmp_path, exclusive=True)
    time.sleep(0.3)
    assert not writer_got.is_set()  # the quiet test waits while others use the mirror
    late_got, late_release = _start(tmp_path, exclusive=False)
    reader_release.set()
    second_release.set()
    assert writer_got.wait(5)
    time.sleep(0.3)
    assert not late_got.is_set()  # one that came after the quiet test waits for it
    writer_release.set()
    assert late_got.wait(5)
    late_release.set()


def _store_with_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> sharing.ExecutedEpisodes:
    """A store whose episode runs are instant: one notebook of one cell, or a failure."""

    def run(episode: Path, workdir: Path, *args: object) -> EpisodeRun:
        if "broken" in episode.name:
            pytest.fail(f"{episode.name} failed to execute")
        return EpisodeRun(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]),
                          workdir)  # fmt: skip

    monkeypatch.setattr(sharing, "run_episode", run)
    return sharing.ExecutedEpisodes(tmp_path / "executed")


def test_a_notebook_run_in_one_worker_is_read_in_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _store_with_runs(tmp_path, monkeypatch)
    other_worker = sharing.ExecutedEpisodes(tmp_path / "executed")
    episode = Path("01-first.md")
    threading.Timer(0.5, store.run, (episode, tmp_path, "base", tmp_path)).start()
    started = time.monotonic()
    found = other_worker.wait([episode], timeout=10)
    assert time.monotonic() - started > 0.4  # it waited for the run
    assert [c.source for c in found[episode].cells] == ["1"]
    assert sorted(p.name for p in (tmp_path / "executed").iterdir()) == ["01-first.ipynb"]


def test_nobody_waits_for_a_failed_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = _store_with_runs(tmp_path, monkeypatch)
    with pytest.raises(pytest.fail.Exception, match="failed to execute"):
        store.run(Path("02-broken.md"), tmp_path, "base", tmp_path)
    store.run(Path("01-first.md"), tmp_path, "base", tmp_path)
    found = store.wait([Path("01-first.md"), Path("02-broken.md")], timeout=5)
    assert list(found) == [Path("01-first.md")]
    with pytest.raises(TimeoutError, match="03-never.md"):
        store.wait([Path("03-never.md")], timeout=0.5)


def test_workers_wait_for_the_mirror_to_be_announced(tmp_path: Path) -> None:
    target = tmp_path / "mirror.json"
    threading.Timer(0.3, sharing.announce, (target,), {"base": "http://127.0.0.1:1"}).start()
    assert sharing.announced(target, "the mirror", timeout=10) == {"base": "http://127.0.0.1:1"}
    assert [p.name for p in tmp_path.iterdir()] == ["mirror.json"]
    with pytest.raises(TimeoutError, match="the other mirror"):
        sharing.announced(tmp_path / "other.json", "the other mirror", timeout=0.3)
