"""Benchmark: cold site build, rebuild with nothing changed, rebuild after editing one episode.

Builds a copy of the lesson (so the working tree is never touched, and the execution cache
starts empty) against one mirror, and prints the wall time of each build and how many notebooks
it executed. Usage: python scripts/bench_build.py [--cold]   (--cold: the mirror also starts
from an empty state folder, so every file the episodes read is rendered during the build)
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from satlesson.mirror.client.routing import kernel_env
from satlesson.mirror.server import service
from satlesson.mirror.server.postgres import free_port

ROOT = Path(__file__).resolve().parents[1]
LESSON = ["_config.yml", "_toc.yml", "episodes", "learners", "instructors", "images", "*.md"]


def copy_lesson(dest: Path) -> None:
    for pattern in LESSON:
        for src in ROOT.glob(pattern):
            if src.is_dir():
                skip = shutil.ignore_patterns("*.tif", "*.json")
                shutil.copytree(src, dest / src.name, ignore=skip)
            elif src.name != "README.md":
                shutil.copy2(src, dest / src.name)


def build(book: Path, env: dict[str, str]) -> tuple[float, int]:
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    started = time.perf_counter()
    result = subprocess.run([str(jupyter_book), "build", str(book), "--builder", "html", "-W",
                             "--keep-going"], capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(result.stdout[-3000:] + result.stderr[-3000:])
    # myst-nb's cache logs one "Executed notebook" line per notebook it had to run.
    return elapsed, len(re.findall(r"Executed notebook in", result.stdout + result.stderr))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cold", action="store_true", help="start from an empty state folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=".") as empty:
        state = Path(empty).resolve() if args.cold else service.default_state_dir()
        rows = builds(state)
    print(f"site builds ({'cold' if args.cold else 'warm'} mirror state folder)")
    print(f"{'build':<36} {'seconds':>8} {'notebooks executed':>20}")
    for name, seconds, executed in rows:
        print(f"{name:<36} {seconds:>8.1f} {executed:>20}")
    print(f"nothing-changed rebuild / cold build: {rows[1][1] / rows[0][1]:.1%}")


def builds(state: Path) -> list[tuple[str, float, int]]:
    with tempfile.TemporaryDirectory() as tmp, service.running(free_port(), state) as base:
        book = Path(tmp) / "book"
        book.mkdir()
        copy_lesson(book)
        env = {**os.environ, **kernel_env(base, state)}
        rows = [("cold build", *build(book, env)), ("rebuild, nothing changed", *build(book, env))]
        episode = next((book / "episodes").glob("*.md"))
        text = episode.read_text()
        cell = "```{code-cell} python\n"
        episode.write_text(text.replace(cell, cell + "# edited\n", 1))
        rows.append(("rebuild after editing one episode", *build(book, env)))
    return rows


if __name__ == "__main__":
    main()
