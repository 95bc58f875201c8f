"""Files on disk: each advertised file rendered by its kind, atomically, and cached.

``ensure`` is what the mirror and ``satlesson mirror build`` call: the cached file, rendered
on first use under a per-file lock; ``render`` writes one file anywhere.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np

from satlesson.atomic import atomic_output
from satlesson.mirror.synthetic import dem, model, truth
from satlesson.mirror.synthetic.advertised import advertised_files
from satlesson.mirror.synthetic.filespec import FileSpec, Kind
from satlesson.mirror.synthetic.model import HLS_REFLECTIVE, HLS_THERMAL
from satlesson.mirror.synthetic.pixels import hls_strips, s2_strips
from satlesson.mirror.synthetic.rasters import write_cog, write_jp2
from satlesson.mirror.synthetic.scenes import S2_EPSG, SNAPSHOT_VERSION, s2_tile
from satlesson.mirror.synthetic.sidecars import (
    granule_xml,
    hls_metadata_xml,
    preview_image,
    product_xml,
    tileinfo_json,
    write_jpeg,
)


def _render_s2_raster(spec: FileSpec, dest: Path) -> None:
    classes = spec.asset_key.startswith("scl")  # class codes must not be averaged
    if spec.kind == "c1-snow":  # no probability anywhere: nothing to mask either
        write_cog(spec, dest, s2_strips(spec), nodata=None, tags={},
                  resampling="NEAREST")  # fmt: skip
        return
    write_cog(spec, dest, s2_strips(spec), nodata=0, tags={},
              resampling="NEAREST" if classes else "AVERAGE")  # fmt: skip


@functools.cache
def _advertised() -> dict[tuple[str, str], FileSpec]:
    return {(s.item_id, s.asset_key): s for s in advertised_files().values()}


def cog_twin(spec: FileSpec) -> FileSpec:
    """The COG asset a JPEG 2000 asset is a copy of (same item, key without ``-jp2``)."""
    return _advertised()[(spec.item_id, spec.asset_key.removesuffix("-jp2"))]


def _render_jp2(spec: FileSpec, dest: Path) -> None:
    """A JPEG 2000 twin outside the cache (``ensure`` reuses the cached COG instead)."""
    with tempfile.TemporaryDirectory(prefix="satlesson-jp2-") as tmp:
        cog = Path(tmp) / "twin.tif"
        _render_s2_raster(cog_twin(spec), cog)
        write_jp2(cog, dest)


def _render_hls_band(spec: FileSpec, dest: Path) -> None:
    key = spec.asset_key
    if key in HLS_REFLECTIVE:
        nodata: float = -9999
        band_tags = {"scale_factor": "0.0001", "add_offset": "0", "_FillValue": "-9999"}
    elif key in HLS_THERMAL:
        nodata = -9999
        band_tags = {"scale_factor": "0.01", "add_offset": "0", "_FillValue": "-9999",
                     "units": "Celsius"}  # fmt: skip
    elif key == "Fmask":
        nodata, band_tags = 255, {"_FillValue": "255"}
    else:
        nodata = 40000 if spec.dtype == "uint16" else -9999
        band_tags = {"scale_factor": "0.01", "add_offset": "0", "units": "degree",
                     "_FillValue": str(nodata)}  # fmt: skip
    band_tags["long_name"] = key
    tags = {"ACCODE": "Lasrc; Lasrc", "SENSING_TIME": spec.hls.datetime}
    write_cog(
        spec,
        dest,
        hls_strips(spec),
        nodata=nodata,
        tags=tags,
        band_tags=band_tags,
        blocksize=512,
        resampling="NEAREST" if key == "Fmask" else "AVERAGE",
    )  # Fmask is bits


def _render_preview_cog(spec: FileSpec, dest: Path) -> None:
    scene = spec.s2
    rgb = np.asarray(preview_image(scene, 343, ("B04", "B03", "B02"), 4.0)).transpose(2, 0, 1)
    x0, y1 = s2_tile(scene).origin
    preview = replace(spec, shape=(343, 343), transform=(320.0, 0, x0, 0, -320.0, y1),
                      epsg=S2_EPSG)  # fmt: skip
    write_cog(preview, dest, iter([(0, 343, np.ascontiguousarray(rgb))]), nodata=0,
              tags={}, blocksize=512)  # fmt: skip


# ---------------------------------------------------------------------------------------------
# By kind, and cached
# ---------------------------------------------------------------------------------------------


def _renderer(spec: FileSpec) -> Callable[[Path], object]:
    kind = spec.kind
    if kind in ("s2-band", "s2-tci", "s2-scl", "c1-cloud", "c1-snow"):
        return lambda p: _render_s2_raster(spec, p)
    if kind == "c1-preview":  # L2A_PVI: the true-colour preview, 343 px of 320 m, as a COG
        return lambda p: _render_preview_cog(spec, p)
    if kind == "c1-product-xml":
        return lambda p: p.write_text(product_xml(spec.s2))
    if kind == "s2-jp2":
        return lambda p: _render_jp2(spec, p)
    if kind == "s2-thumbnail":
        return lambda p: write_jpeg(preview_image(spec.s2, 343, ("B04", "B03", "B02"), 4.0), p)
    if kind == "s2-granule-xml":
        return lambda p: p.write_text(granule_xml(spec.s2))
    if kind == "s2-tileinfo-json":
        return lambda p: p.write_text(tileinfo_json(spec.s2))
    if kind == "hls-band":
        return lambda p: _render_hls_band(spec, p)
    if kind == "hls-browse":
        return lambda p: write_jpeg(preview_image(spec.hls, 915, ("B04", "B03", "B02"), 3.5), p)
    if kind == "hls-metadata":
        return lambda p: p.write_text(hls_metadata_xml(spec.hls))
    if kind == "truth-json":
        return lambda p: p.write_text(truth.truth_json())
    if kind == "dem":
        # Float32 heights, no no-data value (upstream has none: the sea is 0 m).
        return lambda p: write_cog(spec, p, dem.dem_strips(*spec.dem_tile), nodata=None,
                                   tags={}, resampling="AVERAGE")  # fmt: skip
    raise ValueError(f"unknown asset kind {kind!r}")


_SUFFIX: dict[Kind, str] = {
    "s2-band": ".tif", "s2-tci": ".tif", "s2-scl": ".tif", "s2-jp2": ".jp2",
    "c1-cloud": ".tif", "c1-snow": ".tif", "c1-preview": ".tif", "c1-product-xml": ".xml",
    "s2-thumbnail": ".jpg", "s2-granule-xml": ".xml", "s2-tileinfo-json": ".json",
    "hls-band": ".tif", "hls-browse": ".jpg", "hls-metadata": ".xml", "dem": ".tif",
    "truth-json": ".json",
}  # fmt: skip


def render(spec: FileSpec, dest: Path) -> None:
    """Write the file for one advertised asset to ``dest``, atomically."""
    _write_atomically(Path(dest), _SUFFIX[spec.kind], _renderer(spec))


def _write_atomically(dest: Path, suffix: str, write: Callable[[Path], object]) -> None:
    """``write`` a temp file beside ``dest``, then rename it: no reader sees half a file
    (not flushed to disk: a cache file lost in a crash is rendered again)."""
    with atomic_output(dest, suffix, durable=False) as tmp:
        write(tmp)


def cache_path(spec: FileSpec, cache_dir: Path) -> Path:
    """Where :func:`ensure` keeps a file: keyed on the snapshot version, item and asset."""
    name = spec.asset_key + _SUFFIX[spec.kind]
    return Path(cache_dir) / SNAPSHOT_VERSION / spec.item_id / name


def keep_fields(cache_dir: Path) -> None:
    """Keep the model's base fields beside the files, so that they are computed once for
    every process that renders into ``cache_dir``; a process that keeps them elsewhere already
    (the test session, in its state folder) goes on reading them there."""
    model.keep_fields_in(Path(cache_dir) / "fields", replace=False)


def ensure(spec: FileSpec, cache_dir: Path) -> Path:
    """The cached file for ``spec``, rendered on first use.

    A per-file ``flock`` serializes renderers of the same file across threads and processes
    (flock belongs to the open file, so two threads with their own descriptors exclude each
    other); other files render in parallel. A JPEG 2000 twin is made from its COG, which is
    ensured (and so cached) first.
    """
    dest = cache_path(spec, cache_dir)
    if dest.exists():
        return dest
    keep_fields(cache_dir)
    cog = ensure(cog_twin(spec), cache_dir) if spec.kind == "s2-jp2" else None
    dest.parent.mkdir(parents=True, exist_ok=True)
    lock = dest.with_name(f".{dest.name}.lock")
    with open(lock, "a") as handle, _flocked(handle.fileno()):
        if dest.exists():  # another worker finished it while we waited
            pass
        elif cog is not None:
            _write_atomically(dest, ".jp2", lambda p: write_jp2(cog, p))
        else:
            render(spec, dest)
    return dest


@contextlib.contextmanager
def _flocked(fd: int) -> Iterator[None]:
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
