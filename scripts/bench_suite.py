"""Benchmark: the test suite's phases and where its time goes.

Runs pytest (the whole suite, or the paths and options given after ``--``) with every test's
setup, call and teardown timed (``--durations=0``), then prints the wall time, and the time of
each phase: per test file (episode runs, mutation runs, site build, learner notebooks, ...),
split into setup (session fixtures such as the mirror and the executed episodes land on the first
test that asks for them), call and teardown, slowest first, followed by the slowest tests.
It runs pytest on every core as ``make test`` does (``-n auto``), so the sum of
the phases exceeds the wall time; the controller's own phase (building and starting the shared
mirror) is timed apart.
Usage: python scripts/bench_suite.py [--top N] [-- PYTEST_ARGS...]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORES = ("-n", "auto")  # as the Makefile's PYTEST_CORES
# pytest's durations lines: "12.34s call     tests/pages/test_site.py::test_pages[x]"
_LINE = re.compile(r"^\s*([0-9.]+)s (setup|call|teardown)\s+(\S+?)(?:::(.*))?$")


def parse(output: str) -> list[tuple[float, str, str, str]]:
    """(seconds, phase, file, test) of every durations line in pytest's ``output``."""
    rows = []
    for line in output.splitlines():
        m = _LINE.match(line)
        if m:
            rows.append((float(m[1]), m[2], m[3], m[4] or ""))
    return rows


def report(rows: list[tuple[float, str, str, str]], wall: float, top: int, load: str) -> str:
    per_file: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for seconds, phase, path, _ in rows:
        per_file[path][phase] += seconds
    lines = [f"suite wall time: {wall:7.1f} s   (load at start: {load})", "",
             f"{'phase (test file)':48} {'total':>8} {'setup':>8} {'call':>8} {'teardown':>8}"]
    total = defaultdict(float)
    for path, phases in sorted(per_file.items(), key=lambda kv: -sum(kv[1].values())):
        s = sum(phases.values())
        for k, v in phases.items():
            total[k] += v
        lines.append(f"{path:48} {s:8.1f} {phases['setup']:8.1f} {phases['call']:8.1f} "
                     f"{phases['teardown']:8.1f}")
    lines.append(f"{'sum of timed phases':48} {sum(total.values()):8.1f} {total['setup']:8.1f} "
                 f"{total['call']:8.1f} {total['teardown']:8.1f}")
    # The layers, as the test folders group them (helpers, mirror, lesson, episodes, pages).
    per_layer: dict[str, float] = defaultdict(float)
    for path, phases in per_file.items():
        per_layer[path.rsplit("/", 1)[0]] += sum(phases.values())
    lines += ["", f"{'layer (test folder)':48} {'total':>8}"]
    for folder, seconds in sorted(per_layer.items(), key=lambda kv: -kv[1]):
        lines.append(f"{folder:48} {seconds:8.1f}")
    lines += ["", f"slowest {top} test phases:"]
    for seconds, phase, path, test in sorted(rows, reverse=True)[:top]:
        lines.append(f"  {seconds:7.1f} s {phase:8} {path}::{test}")
    return "\n".join(lines)


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    extra: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=15, help="how many of the slowest to list")
    args = parser.parse_args(argv)
    cmd = [sys.executable, "-m", "pytest", *CORES, "--durations=0", "--durations-min=0", "-q",
           *extra]
    start = time.monotonic()
    load = _load()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=os.environ.copy())
    wall = time.monotonic() - start
    summary = [ln for ln in proc.stdout.splitlines() if re.search(r" in [0-9.]+s", ln)]
    summary += [ln for ln in proc.stdout.splitlines() if ln.startswith("shared mirror:")]
    print(report(parse(proc.stdout), wall, args.top, load))
    print("\npytest:", "\n".join(summary) if summary else f"exit {proc.returncode}")
    if proc.returncode:
        sys.stdout.write(proc.stdout[-4000:])
        sys.stderr.write(proc.stderr[-2000:])
    return proc.returncode


if __name__ == "__main__":
    raise SystemExit(main())
