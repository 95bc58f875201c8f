"""Render many asset files at once, one worker process per core, with a progress bar.

Each file goes through :func:`render.ensure`, whose per-file lock and temp-file-and-rename keep
a running mirror and this pool from rendering the same file twice or serving half of one.
Ctrl-C stops the workers mid-file: the interrupted render removes its temp file, so what is in
the cache is complete, and the next run renders only what is missing.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import multiprocessing.synchronize
import os
import signal
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path

from tqdm import tqdm

from satlesson.mirror.synthetic import model, render
from satlesson.mirror.synthetic.filespec import FileSpec

_busy = False  # in a worker: a render is under way, so Ctrl-C should stop it
_stop: multiprocessing.synchronize.Event | None = None  # set by the parent: start nothing new


def _interrupt(signum: int, frame: object) -> None:
    # Idle workers ignore Ctrl-C (the executor would print their tracebacks); a busy one stops
    # its render once, so a second signal can't cut short the clean-up of the first.
    global _busy
    if _busy:
        _busy = False
        raise KeyboardInterrupt


# glibc's mallopt(3) options, as <malloc.h> numbers them, and their values in a worker:
# allocations below 1 GiB come from the heap, which keeps up to 1 GiB freed (plus 256 MiB of
# padding) instead of handing it back to the kernel.
M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3
_MALLOPT = ((M_MMAP_THRESHOLD, 1 << 30), (M_TRIM_THRESHOLD, 1 << 30), (M_TOP_PAD, 256 << 20))


def _keep_freed_memory() -> None:
    """A render allocates and frees arrays of ~15 MB per strip; by default glibc maps each
    one afresh and the kernel zeroes its pages again. Kept in the heap instead, a 10 m band
    renders in 3.8 s instead of 4.4 s, and a scene's first in 7.1 s instead of 9.7 s (system
    time 4.3 s -> 1.2 s). Only the build's workers do this: they end with the build."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: another allocator, with other habits
        return
    for option, value in _MALLOPT:
        libc.mallopt(option, value)


def _init_worker(stop: multiprocessing.synchronize.Event, fields: Path | None) -> None:
    global _stop
    _stop = stop
    _keep_freed_memory()
    model.keep_fields_in(fields)  # the parent's base fields, if it keeps them somewhere
    signal.signal(signal.SIGINT, _interrupt)


def _render(spec: FileSpec, cache_dir: Path) -> bool:
    """Make one file in a worker; False if Ctrl-C stopped it (nothing of it is left behind)."""
    global _busy
    _busy = True  # before the check: a Ctrl-C sent after the parent set _stop still lands
    try:
        if _stop is not None and _stop.is_set():
            return False
        render.ensure(spec, cache_dir)
        return True
    except KeyboardInterrupt:
        return False
    finally:
        _busy = False


def _compute_fields(cache_dir: Path) -> None:
    render.keep_fields(cache_dir)
    try:
        model.base_fields(model.S2_REGION)
    except KeyboardInterrupt:  # the parent stops too, and says so; the temp file is gone
        pass


@contextmanager
def fields_ahead(cache_dir: Path, specs: Sequence[FileSpec]) -> Iterator[None]:
    """Compute the Sentinel-2 region's base fields into ``cache_dir`` in a process of their
    own while the caller does other work (the build starts its database), so that the
    workers of :func:`render_all` read them instead of each computing them (~13 s)."""
    if not any(s.kind.startswith(("s2-", "c1-")) and not render.cache_path(s, cache_dir).exists()
               for s in specs):  # fmt: skip
        yield
        return
    process = multiprocessing.get_context("spawn").Process(target=_compute_fields,
                                                           args=(cache_dir,))  # fmt: skip
    process.start()
    try:
        yield
    except BaseException:
        if process.pid is not None:  # SIGINT, not SIGTERM: its temp file is removed
            os.kill(process.pid, signal.SIGINT)
        raise
    finally:
        process.join()


def default_jobs() -> int:
    return len(os.sched_getaffinity(0))


class _Lanes:
    """Which file each worker renders next: another file of the item it rendered last, while
    that item has some, so the scene's fields it computed for it are used again (~3 s a
    scene); else the item with the most work left that no worker has, else the one with the
    most left. Within an item the biggest files go first, JPEG 2000 twins after their COGs."""

    def __init__(self, specs: Sequence[FileSpec]) -> None:
        self.left: dict[str, list[FileSpec]] = {}
        for spec in sorted(specs, key=lambda s: (s.kind == "s2-jp2", -_pixels(s))):
            self.left.setdefault(spec.item_id, []).append(spec)
        self.held: dict[int, str] = {}  # lane -> item it works on

    def next(self, lane: int) -> FileSpec | None:
        if not self.left:
            return None
        item = self.held.get(lane)
        if item not in self.left:
            free = [i for i in self.left if i not in self.held.values()] or list(self.left)
            item = max(free, key=lambda i: sum(map(_pixels, self.left[i])))
            self.held[lane] = item
        spec = self.left[item].pop(0)
        if not self.left[item]:
            del self.left[item]
        return spec


def _pixels(spec: FileSpec) -> int:
    rows, cols = spec.shape or (0, 0)
    return rows * cols


def render_all(specs: Sequence[FileSpec], cache_dir: Path, jobs: int | None = None,
               desc: str = "asset files") -> int:  # fmt: skip
    """Make every file of ``specs`` missing from ``cache_dir``; return how many were made.

    One single-process pool per worker ("lane"), so that this process chooses which worker
    renders which file (:class:`_Lanes`). Raises KeyboardInterrupt after stopping the workers
    when interrupted.
    """
    todo = [s for s in specs if not render.cache_path(s, cache_dir).exists()]
    bar = tqdm(total=len(specs), initial=len(specs) - len(todo), desc=desc, unit="file")
    if not todo:
        bar.close()
        return 0
    # spawn: fresh workers that share no GDAL or thread state with this process.
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    lanes = _Lanes(todo)
    pools = [ProcessPoolExecutor(1, mp_context=context, initializer=_init_worker,
                                 initargs=(stop, model.fields_folder()))
             for _ in range(min(jobs or default_jobs(), len(todo)))]  # fmt: skip
    running: dict[Future[bool], int] = {}
    on_interrupt = signal.getsignal(signal.SIGINT)

    def give(lane: int) -> None:
        spec = lanes.next(lane)
        if spec is not None:
            running[pools[lane].submit(_render, spec, cache_dir)] = lane

    try:
        for lane in range(len(pools)):
            give(lane)
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                lane = running.pop(future)
                if not future.result():  # a worker saw the Ctrl-C before this process did
                    raise KeyboardInterrupt
                bar.update()
                give(lane)
    except BaseException:
        if threading.current_thread() is threading.main_thread():
            # Stopping already: a second Ctrl-C must not cut the workers' clean-up short.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        stop.set()
        # A Ctrl-C in a terminal reaches the workers too; a signal sent to this process alone
        # (kill -INT, a test) is passed on, so the workers stop now instead of finishing.
        for child in multiprocessing.active_children():
            if child.pid is not None:
                os.kill(child.pid, signal.SIGINT)
        raise
    finally:
        for each in pools:
            each.shutdown(wait=True, cancel_futures=True)
        bar.close()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, on_interrupt)
    return len(todo)
