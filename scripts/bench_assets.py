"""Time the mirror's asset generator: one file of each kind, or every file of one item.

    .venv/bin/python scripts/bench_assets.py            # one of each kind (~1 min)
    .venv/bin/python scripts/bench_assets.py --item S2A_35SNA_20230827_0_L2A   # whole item

Each render is measured once (the machine is shared; loops would only add noise), in wall and
CPU time (on a busy machine the CPU time is the steadier figure). Peak RSS
is the process's high-water mark so far, so it only grows down the list. Files go into a
temporary asset cache, as the mirror makes them: a JPEG 2000 twin is re-encoded from its COG
rendered earlier in the list (that COG is made first if the list lacks it).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from satlesson.mirror.synthetic import model, render
from satlesson.mirror.synthetic.advertised import advertised_files

S2_ITEM = "S2A_35SNA_20230827_0_L2A"
HLS_ITEM = "HLS.L30.T18TWL.2021039T153324.v2.0"
DEM_ITEM = "Copernicus_DSM_COG_10_N36_00_E027_00_DEM"
ONE_OF_EACH = (
    (S2_ITEM, "coastal"), (S2_ITEM, "swir22"), (S2_ITEM, "red"), (S2_ITEM, "scl"),
    (S2_ITEM, "aot"), (S2_ITEM, "visual"), (S2_ITEM, "coastal-jp2"), (S2_ITEM, "swir22-jp2"),
    (S2_ITEM, "thumbnail"), (S2_ITEM, "granule_metadata"), (S2_ITEM, "tileinfo_metadata"),
    (HLS_ITEM, "B04"), (HLS_ITEM, "Fmask"), (HLS_ITEM, "SZA"), (HLS_ITEM, "browse"),
    (HLS_ITEM, "metadata"), (DEM_ITEM, "data"),
)  # fmt: skip


def _peak_mb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def _timed(label: str, fn: Callable[[], Any]) -> float:
    start, cpu = time.perf_counter(), time.process_time()
    fn()
    took, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"{label:<42} {took:7.2f} s  CPU {cpu:6.2f} s  peak RSS {_peak_mb():5d} MB", flush=True)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--item", help="render every advertised file of this item")
    parser.add_argument("--jp2-10m", action="store_true", help="also time a 10 m JPEG 2000")
    args = parser.parse_args()

    specs = {(s.item_id, s.asset_key): s for s in advertised_files().values()}
    if args.item:
        todo = [key for key in specs if key[0] == args.item]
    else:
        todo = list(ONE_OF_EACH) + ([(S2_ITEM, "red-jp2")] if args.jp2_10m else [])
    todo.sort(key=lambda key: specs[key].kind == "s2-jp2")  # after the COGs they copy

    # Fields that are built once per process (tile) or once per scene, timed on their own.
    first = specs[todo[0]].scene
    tile = model.S2_REGION if todo[0][0].startswith("S2") else model.HLS_TILE
    _timed(f"coarse region fields ({tile.name}, once)", lambda: model.base_fields(tile))
    _timed("coarse scene fields (once per scene)", lambda: model.fields(first))

    total = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp)
        for key in todo:
            spec = specs[key]
            if spec.kind == "s2-jp2":
                render.ensure(render.cog_twin(spec), cache)  # timed on its own row, if listed
            shape = "x".join(map(str, spec.shape)) if spec.shape else "-"
            total += _timed(f"{key[1]} [{spec.kind}, {shape}]",
                            lambda spec=spec: render.ensure(spec, cache))  # fmt: skip
            size = render.cache_path(spec, cache).stat().st_size
            print(f"{'':<42} {size / 2**20:7.1f} MB")
    print(f"total rendering: {total:.1f} s for {len(todo)} files; peak RSS {_peak_mb()} MB")


if __name__ == "__main__":
    main()
