"""Benchmark: how long ``satlesson mirror build`` takes to ready a workshop, from an empty state.

    .venv/bin/python scripts/bench_snapshot.py             # episode files, then every file
    .venv/bin/python scripts/bench_snapshot.py --no-all    # episode files only (~2 min)

Each row runs the real command into a fresh temporary state folder (PostgreSQL cluster and
catalog loading included) and prints its wall time and the CPU time of it and its workers;
on a shared machine the wall time also says how much CPU others took. Next to them: the
sequential build before the worker pool, measured for the episode files (``--jobs 1``: the
same renders one after another, as the old loop did them) or, for every file, estimated from
per-kind render times measured with scripts/bench_assets.py before the change. Last, what
each rendering process spends on the Sentinel-2 region's base fields: computed (every process
did so before they were kept in the state folder) and read from the state folder's file.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter

from satlesson.mirror import episode_files
from satlesson.mirror.synthetic import pool
from satlesson.mirror.synthetic.advertised import advertised_files

# CPU seconds per file by (kind, rows) of the sequential build with the JPEG 2000 twins
# rendered from scratch (lossless, no BYPASS), measured with scripts/bench_assets.py
# --jp2-10m on the code just before the worker pool (snapshot 2026.11.4's rendering). On an
# idle core the sequential build's wall time is its CPU time. Renders only: no database start,
# no per-tile fields; kinds added since (the DEM) have no figure and are left out.
BEFORE_PER_FILE_S = {
    ("s2-band", 10980): 7.3, ("s2-band", 5490): 1.6, ("s2-band", 1830): 0.3,
    ("s2-tci", 10980): 15.7, ("s2-scl", 5490): 0.9,
    ("s2-jp2", 10980): 17.5, ("s2-jp2", 5490): 5.3, ("s2-jp2", 1830): 0.7,
    ("hls-band", 3660): 1.3, ("s2-thumbnail", 0): 0.3, ("hls-browse", 0): 0.4,
    ("s2-granule-xml", 0): 0.0, ("s2-tileinfo-json", 0): 0.0, ("hls-metadata", 0): 0.0,
}  # fmt: skip


def timed_build(*args: str) -> tuple[float, float]:
    """(wall, CPU) seconds of ``satlesson mirror build ARGS`` into an empty state folder."""
    with tempfile.TemporaryDirectory(prefix="satlesson-bench-") as state:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "satlesson", "mirror", "build",
                                 "--state-dir", state, *args], capture_output=True, text=True)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        sys.exit(result.stderr[-3000:])
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu


def estimate_before(specs: list[dict]) -> tuple[float, int]:
    """Seconds the sequential build took to render ``specs``, and how many files that covers."""
    kinds = Counter((s.kind, (s.shape or (0,))[0]) for s in specs)
    known = {k: n for k, n in kinds.items() if k in BEFORE_PER_FILE_S}
    return sum(n * BEFORE_PER_FILE_S[k] for k, n in known.items()), sum(known.values())


# A fresh process's time for the region's base fields, kept in sys.argv[1] ('' : computed).
FIELDS_CODE = """import sys, time
from pathlib import Path
from satlesson.mirror.synthetic import model
model.keep_fields_in(Path(sys.argv[1]) if sys.argv[1] else None)
started = time.perf_counter()
model.base_fields(model.S2_REGION)
print(time.perf_counter() - started)
"""


def fields_seconds(folder: str) -> float:
    result = subprocess.run([sys.executable, "-c", FIELDS_CODE, folder], capture_output=True,
                            text=True, check=True)  # fmt: skip
    return float(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-all", action="store_true", help="skip the every-file build")
    args = parser.parse_args()
    advertised = advertised_files()
    episodes = len(episode_files.specs(advertised))
    jobs = pool.default_jobs()
    rows = []
    wall, cpu = timed_build("--jobs", "1")
    rows.append((f"episode files ({episodes}), one at a time (before)", wall, cpu))
    wall, cpu = timed_build()
    rows.append((f"episode files ({episodes}), {jobs} workers", wall, cpu))
    if not args.no_all:
        estimate, covered = estimate_before(list(advertised.values()))
        rows.append((f"every file ({covered}), before: estimated renders", estimate, None))
        wall, cpu = timed_build("--all")
        rows.append((f"every file ({len(advertised)}), {jobs} workers", wall, cpu))
    print(f"{'satlesson mirror build, from an empty state':<52} {'wall s':>8} {'CPU s':>8}")
    for name, wall, cpu in rows:
        print(f"{name:<52} {wall:>8.0f} {'-' if cpu is None else f'{cpu:.0f}':>8}")
    with tempfile.TemporaryDirectory(prefix="satlesson-bench-") as folder:
        computed = fields_seconds("")
        fields_seconds(folder)  # computes them, and saves them
        read = fields_seconds(folder)
    print(f"{'region base fields, per rendering process':<52} {'wall s':>8}")
    print(f"{'computed (every process, before)':<52} {computed:>8.1f}")
    print(f"{'read from the state folder':<52} {read:>8.1f}")


if __name__ == "__main__":
    main()
