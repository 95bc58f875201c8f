"""Benchmark: what the lesson's clip costs against the mirror, next to the physical minimum.

Prints, for the red band of the lesson's "before" scene clipped to the lesson's box, the HTTP
requests and bytes GDAL made under its defaults and under GDAL_DISABLE_READDIR_ON_OPEN=EMPTY_DIR,
and the minimum: the compressed bytes of the full-resolution tiles the window touches plus the
header (everything before the first tile). Also how long the mirror took to answer.
Usage: python scripts/bench_clip.py [--cold]   (--cold: start from an empty state folder)
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import rasterio
import rioxarray
from rasterio.windows import from_bounds

from satlesson.mirror.server import service
from satlesson.mirror.server.postgres import free_port

ITEM = "S2A_35SNA_20230708_0_L2A"
BOX = (560900, 3995000, 570900, 4015000)
PATH = ("/sentinel-cogs.s3.us-west-2.amazonaws.com/sentinel-s2-l2a-cogs/35/S/NA/2023/7/"
        f"{ITEM}/B04.tif")


def physical_minimum(url: str) -> tuple[int, int]:
    """(bytes, tiles): compressed bytes of the touched full-resolution tiles plus the header."""
    with rasterio.open(url) as src:
        window = from_bounds(*BOX, transform=src.transform)
        bh, bw = src.block_shapes[0]
        rows = range(int(window.row_off // bh), math.ceil((window.row_off + window.height) / bh))
        cols = range(int(window.col_off // bw), math.ceil((window.col_off + window.width) / bw))
        first_tile = min(int(src.get_tag_item(f"BLOCK_OFFSET_{c}_{r}", "TIFF", bidx=1))
                         for r in range(src.height // bh) for c in range(src.width // bw))
        ovr_offsets = []
        for level in range(len(src.overviews(1))):
            with rasterio.open(url, overview_level=level) as ovr:
                ovr_offsets.append(int(ovr.get_tag_item("BLOCK_OFFSET_0_0", "TIFF", bidx=1)))
        header = min([first_tile, *ovr_offsets])
        data = sum(int(src.get_tag_item(f"BLOCK_SIZE_{c}_{r}", "TIFF", bidx=1))
                   for r in rows for c in cols)
    return header + data, len(rows) * len(cols)


def measure(url: str, log: Path, **gdal_env: str) -> tuple[int, int, tuple[int, ...]]:
    start = log.stat().st_size if log.exists() else 0
    with rasterio.Env(**gdal_env), tempfile.TemporaryDirectory() as tmp:
        red = rioxarray.open_rasterio(url)
        subset = red.rio.clip_box(*BOX)
        subset.rio.to_raster(Path(tmp) / "red_subset.tif")
        shape = subset.shape
    with log.open() as f:
        f.seek(start)
        records = [json.loads(line) for line in f if line.strip()]
    # Every request counts: GDAL's probes for sidecar files and folder listings cost too.
    return len(records), sum(r["bytes"] for r in records), shape


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cold", action="store_true", help="start from an empty state folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=".") as empty:
        state = Path(empty) if args.cold else service.default_state_dir()
        started = time.perf_counter()
        with service.running(free_port(), state) as base:
            ready = time.perf_counter() - started
            url = base + PATH
            t0 = time.perf_counter()
            minimum, tiles = physical_minimum(url)  # also renders the file on first use
            first = time.perf_counter() - t0
            log = state / "requests.log"
            # A fresh process per measurement: GDAL caches listings and headers per process.
            with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
                defaults = pool.submit(measure, url, log).result()
            with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
                empty_dir = pool.submit(measure, url, log,
                                        GDAL_DISABLE_READDIR_ON_OPEN="EMPTY_DIR").result()
            rows = [("GDAL defaults", *defaults),
                    ("GDAL_DISABLE_READDIR_ON_OPEN=EMPTY_DIR", *empty_dir)]
    print(f"mirror ready in {ready:.1f} s ({'cold' if args.cold else 'warm'} state folder); "
          f"first access to the band {first:.1f} s")
    print(f"physical minimum: {minimum:,} bytes ({tiles} full-resolution tiles + header)")
    print(f"{'setting':<42} {'requests':>8} {'bytes':>12} {'ratio':>7}  shape")
    for name, count, nbytes, shape in rows:
        print(f"{name:<42} {count:>8} {nbytes:>12,} {nbytes / minimum:>7.3f}  {shape}")


if __name__ == "__main__":
    main()
