"""Raster writers: strips of pixels to a Cloud Optimized GeoTIFF, a COG to its JPEG 2000 twin.

Nothing here knows what the pixels mean; ``render.py`` picks the tags, no-data and
resampling per asset.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import rasterio
import rasterio.shutil
from numpy.typing import NDArray
from rasterio.enums import Resampling
from rasterio.transform import Affine

from satlesson.mirror.synthetic.filespec import FileSpec

# DEFLATE level 1 instead of GDAL's 6: the COG copy of a 20 m band takes 0.7 s instead of
# 1.3 s and the file is only ~3 % bigger (noise-textured data compresses about equally).
DEFLATE_LEVEL = 1

# No .aux.xml side-cars (they would be left behind by the temp-file rename).
# A small block cache: the default (5 % of RAM) would hold a second copy of every raster.
_GDAL_ENV: dict[str, Any] = {
    "GDAL_PAM_ENABLED": "NO", "GDAL_NUM_THREADS": "1", "GDAL_CACHEMAX": 128 * 2**20,
}  # fmt: skip


def overview_factors(n: int, blocksize: int) -> list[int]:
    """The levels GDAL's COG driver picks: halve until a level fits in one block."""
    factors, f = [], 2
    while -(-n // (f // 2)) > blocksize:
        factors.append(f)
        f *= 2
    return factors


def write_cog(spec: FileSpec, dest: Path, strips: Iterator[tuple[int, int, NDArray[Any]]],
              *, nodata: float | None, tags: dict[str, str],
              band_tags: dict[str, str] | None = None, blocksize: int = 1024,
              resampling: str = "AVERAGE") -> None:  # fmt: skip
    """Strips -> uncompressed in-memory GeoTIFF (+ overviews) -> one CreateCopy to the COG.

    Building the overviews on the uncompressed copy and letting the COG driver reuse them is
    ~40 % faster than letting the COG driver compute them through its temporary file.
    """
    (rows, cols), transform = spec.grid
    first = next(strips)
    count, dtype = first[2].shape[0], first[2].dtype
    staging = f"/vsimem/satlesson-{uuid.uuid4().hex}.tif"  # the name never reaches the output
    profile: dict[str, Any] = {
        "driver": "GTiff", "width": cols, "height": rows, "count": count, "dtype": dtype,
        "crs": f"EPSG:{spec.epsg}", "transform": Affine(*transform),
        "tiled": True, "blockxsize": blocksize, "blockysize": blocksize,
        "nodata": nodata, "interleave": "pixel" if count > 1 else "band",
    }  # fmt: skip
    options = {"driver": "COG", "BLOCKSIZE": blocksize, "COMPRESS": "DEFLATE",
               "PREDICTOR": 2, "LEVEL": DEFLATE_LEVEL, "OVERVIEWS": "FORCE_USE_EXISTING",
               "NUM_THREADS": 1}  # fmt: skip
    tags = {"OVR_RESAMPLING_ALG": resampling, **tags}
    with rasterio.Env(**_GDAL_ENV):
        try:
            with rasterio.open(staging, "w", **profile) as dst:
                for r0, r1, arr in _chain(first, strips):
                    dst.write(arr, window=((r0, r1), (0, cols)))
                dst.update_tags(**tags)
                for i in range(1, count + 1):
                    if band_tags:
                        dst.update_tags(i, **band_tags)
                dst.build_overviews(overview_factors(rows, blocksize),
                                    Resampling[resampling.lower()])  # fmt: skip
            rasterio.shutil.copy(staging, dest, **options)
        finally:
            rasterio.shutil.delete(staging)


def _chain(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    yield first
    yield from rest


# The JPEG 2000 twins are lossless like ESA's products (reversible 5/3 wavelet, one quality
# layer), with 6 resolutions in 1024² tiles. BYPASS ("lazy" coding: a code-block's lower
# bit-planes are stored raw instead of arithmetic-coded) is still lossless and cuts the
# encoding time by about a quarter for files ~3 % bigger. GDAL can't carry no-data in a JP2
# without a side-car, so none is written, as before.
JP2_OPTIONS: dict[str, Any] = {
    "driver": "JP2OpenJPEG", "REVERSIBLE": "YES", "QUALITY": 100, "RESOLUTIONS": 6,
    "BLOCKXSIZE": 1024, "BLOCKYSIZE": 1024, "CODEBLOCK_STYLE": "BYPASS",
}  # fmt: skip


def write_jp2(cog: Path, dest: Path) -> None:
    """Re-encode a rendered COG as its JPEG 2000 twin: same grid, CRS and values, no re-render."""
    with rasterio.Env(**_GDAL_ENV):
        rasterio.shutil.copy(cog, dest, **JP2_OPTIONS)
