"""How the suite shares one mirror between its xdist workers (``tests/conftest.py``): a test
that reads the mirror's request log has it alone, and waits for none that comes after it."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from conftest import mirror_lock


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
