"""Sparse replay of a TIFF: the tiles read come back as they were, the others as nodata."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from rasterio.windows import Window

from satlesson.mirror.recorded import tiff
from satlesson.mirror.recorded.replay import _mark_absent_tiles


@pytest.mark.parametrize("bigtiff", ["NO", "YES"])
@pytest.mark.parametrize("nodata", [0, 7])
def test_tiles_not_kept_read_as_nodata(tmp_path: Path, bigtiff: str, nodata: int) -> None:
    original = tmp_path / "original.tif"
    data = (np.arange(512 * 512, dtype=np.uint16).reshape(512, 512) % 1000) + 100
    with rasterio.open(original, "w", driver="GTiff", width=512, height=512, count=1,
                       dtype="uint16", tiled=True, blockxsize=256, blockysize=256,
                       compress="deflate", nodata=nodata, BIGTIFF=bigtiff, crs="EPSG:32635",
                       transform=from_origin(500000, 4100000, 10, 10)) as dst:
        dst.write(data, 1)
    raw = original.read_bytes()
    header, ifds = tiff.parse(lambda offset, length: raw[offset:offset + length])
    (offset, *_), (count, *_) = ifds[0].offsets.values, ifds[0].byte_counts.values
    kept = sorted([*header, (offset, offset + count)])  # the header and the first tile only

    replay = tmp_path / "replay.tif"
    with replay.open("w+b") as out:
        out.truncate(len(raw))
        for lo, hi in kept:
            out.seek(lo)
            out.write(raw[lo:hi])
        _mark_absent_tiles(out, kept)

    with rasterio.open(replay) as src:
        assert np.array_equal(src.read(1, window=Window(0, 0, 256, 256)), data[:256, :256])
        assert (src.read(1, window=Window(256, 256, 256, 256)) == nodata).all()
    assert replay.read_bytes()[offset:offset + count] == raw[offset:offset + count]
