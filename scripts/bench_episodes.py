"""Benchmark: each episode's execution time and the bytes it read, next to the minimum.

Runs every episode of the lesson (in the order of _toc.yml) as the tests do: in an empty folder,
in a fresh kernel routed to one mirror. From the mirror's request log it counts each episode's
requests and bytes, and the minimum for the windows it read: the STAC documents and small files
it fetched whole, plus, for every Cloud Optimized GeoTIFF it read, the file's header (everything
before its first tile) and the compressed bytes of the tiles it read whole, at whatever
resolution level they were read (GDAL fetches in 16 KiB-aligned chunks, so a range may graze a
neighbouring tile; only tiles whose every byte arrived count as read). Folder listings and
repeated reads count as overhead.
Usage: python scripts/bench_episodes.py [--cold] [EPISODE.md ...]
(--cold: start from an empty state folder; without episodes: all of them)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import jupytext
import rasterio
import yaml
from nbclient import NotebookClient

from satlesson.mirror.client.routing import kernel_env
from satlesson.mirror.server import service
from satlesson.mirror.server.postgres import free_port

ROOT = Path(__file__).resolve().parents[1]
_RANGE = re.compile(r"(\d+)-(\d+)")


def episodes() -> list[Path]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    return [ROOT / f"{f}.md" for f in files if f.startswith("episodes/")]


def run(episode: Path, base: str, state: Path) -> float:
    nb = jupytext.read(episode, fmt="myst")
    with tempfile.TemporaryDirectory() as workdir:
        client = NotebookClient(nb, timeout=1800, kernel_name="python3",
                                resources={"metadata": {"path": workdir}})  # fmt: skip
        started = time.perf_counter()
        client.execute(env={**os.environ, **kernel_env(base, state)})
        return time.perf_counter() - started


def tile_spans(url: str) -> tuple[int, list[tuple[int, int]]]:
    """(header bytes, [(start, end)] of every tile at every resolution level) of a COG."""
    spans: list[tuple[int, int]] = []
    with rasterio.open(url) as src:
        levels = [None, *range(len(src.overviews(1)))]
    for level in levels:
        with rasterio.open(url, overview_level=level) as src:
            bh, bw = src.block_shapes[0]
            for r in range(math.ceil(src.height / bh)):
                for c in range(math.ceil(src.width / bw)):
                    offset = int(src.get_tag_item(f"BLOCK_OFFSET_{c}_{r}", "TIFF", bidx=1) or 0)
                    size = int(src.get_tag_item(f"BLOCK_SIZE_{c}_{r}", "TIFF", bidx=1) or 0)
                    if size:
                        spans.append((offset, offset + size))
    return min(start for start, _ in spans), spans


def minimum(records: list[dict], base: str) -> int:
    ranges: dict[str, list[tuple[int, int]]] = defaultdict(list)
    whole = 0
    for r in records:
        if r["method"] != "GET" or r.get("status") not in (200, 206):
            continue
        if "range" in r:
            ranges[r["path"]] += [(int(a), int(b)) for a, b in _RANGE.findall(r["range"])]
        elif not r["path"].endswith("/"):  # a folder listing is never needed
            whole += r["bytes"]
    for path, wanted in ranges.items():
        header, spans = tile_spans(base + path)
        received = _union(wanted)
        read = {s for s in spans if any(a <= s[0] and s[1] - 1 <= b for a, b in received)}
        whole += header + sum(end - start for start, end in read)
    return whole


def _union(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Inclusive byte ranges merged where they overlap or touch."""
    merged: list[tuple[int, int]] = []
    for a, b in sorted(ranges):
        if merged and a <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cold", action="store_true", help="start from an empty state folder")
    parser.add_argument("episodes", nargs="*", type=Path, help="these episodes only")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(dir=".") as empty:
        state = Path(empty).resolve() if args.cold else service.default_state_dir()
        with service.running(free_port(), state) as base:
            log = state / "requests.log"
            for episode in [p.resolve() for p in args.episodes] or episodes():
                start = log.stat().st_size
                seconds = run(episode, base, state)
                with log.open() as f:
                    f.seek(start)
                    records = [json.loads(line) for line in f if line.strip()]
                read = sum(r["bytes"] for r in records)
                rows.append((episode.stem, seconds, len(records), read, minimum(records, base)))
    print(f"episodes run against the mirror ({'cold' if args.cold else 'warm'} state folder)")
    print(f"{'episode':<34} {'seconds':>8} {'requests':>9} {'bytes read':>14} "
          f"{'minimum':>14} {'ratio':>6}")  # fmt: skip
    for name, seconds, count, read, least in rows:
        print(f"{name:<34} {seconds:>8.1f} {count:>9} {read:>14,} {least:>14,} "
              f"{read / least:>6.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
