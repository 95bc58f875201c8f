"""Read a box out of a Cloud Optimized GeoTIFF asset without downloading the whole file.

A COG keeps its pixels in tiles and its header says where each tile is, so GDAL can fetch just
the header and the tiles under the box with HTTP range requests. :func:`clip_asset` sets GDAL
up to make as few requests as it can, because every round trip costs on poor Wi-Fi.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pystac
import rasterio
import rasterio.errors
import rasterio.warp
import rioxarray
import shapely
import shapely.geometry
import xarray as xr
from rasterio.crs import CRS
from rioxarray.exceptions import NoDataInBounds, OneDimensionalRaster
from shapely.errors import GEOSException
from shapely.geometry.base import BaseGeometry

from satlesson.atomic import atomic_output
from satlesson.errors import ClipError

__all__ = ["ClipError", "clip_asset", "gdal_options", "polygon_of"]

_TIFF_EXTENSIONS = (".tif", ".TIF", ".tiff", ".TIFF")
# Hrefs whose last read failed. GDAL remembers a failed URL for the rest of the process, so a
# learner who starts the mirror or gets back online and reruns the cell would fail again;
# the next read of such an href bypasses that memory (see gdal_options).
_failed: set[str] = set()


def gdal_options(href: str) -> dict[str, Any]:
    """GDAL settings that read a remote COG at ``href`` in the fewest HTTP requests."""
    suffix = Path(urlsplit(href).path).suffix
    allowed = list(_TIFF_EXTENSIONS)
    if suffix and suffix not in allowed:
        allowed.append(suffix)  # an asset not named .tif must still open
    options: dict[str, Any] = {
        # Opening a file normally lists its folder (one request, and on S3 a slow one) to
        # look for sidecars such as .aux.xml or .ovr; a COG has none, so skip the listing...
        "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
        # ...and never probe (HEAD/GET) a URL whose name is not a GeoTIFF's.
        "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ",".join(allowed),
        # Tiles that sit next to each other in the file come back in one range request
        # instead of one request per tile. (GDAL 3.10's GTiff driver already merges them on
        # its own; this covers the multi-range reads other drivers and versions make.)
        "GDAL_HTTP_MERGE_CONSECUTIVE_RANGES": "YES",
        # Over HTTP/2 the remaining range requests share one connection in parallel.
        "GDAL_HTTP_MULTIPLEX": "YES",
        # Keep the blocks already fetched (header, overview tiles) in memory, so reading a
        # window that touches them again costs no new request.
        "VSI_CACHE": "TRUE",
        # Poor Wi-Fi: retry 429/502/503/504 and dropped connections with growing delays, and
        # give up on a server that does not answer, or stalls (under 1 byte/s for 120 s),
        # instead of hanging the notebook.
        "GDAL_HTTP_MAX_RETRY": "3",
        "GDAL_HTTP_RETRY_DELAY": "1",
        "GDAL_HTTP_CONNECTTIMEOUT": "30",
        "GDAL_HTTP_LOW_SPEED_TIME": "120",
        "GDAL_HTTP_LOW_SPEED_LIMIT": "1",
    }
    if href in _failed:
        options["CPL_VSIL_CURL_NON_CACHED"] = f"/vsicurl/{href}"
    return options


def clip_asset(
    item: pystac.Item,
    asset_key: str,
    bbox: Sequence[float] | None = None,
    bbox_crs: Any = None,
    overview_level: int | None = None,
    out: str | os.PathLike[str] | None = None,
    *,
    geometry: Any = None,
    geometry_crs: Any = None,
) -> xr.DataArray:
    """Read the part of ``item``'s raster asset ``asset_key`` inside ``bbox`` or ``geometry``.

    Args:
        item: A STAC item, e.g. one of ``search_items(...)``.
        asset_key: The asset to read, e.g. ``"red"``.
        bbox: ``(minx, miny, maxx, maxy)`` in ``bbox_crs``.
        bbox_crs: CRS of ``bbox`` (anything rasterio understands, e.g. ``"EPSG:4326"`` for
            lon/lat); ``None`` means the raster's own CRS.
        overview_level: ``None`` reads full resolution; 0 the first (half-resolution)
            overview, 1 the next, and so on: fewer bytes for a quick look.
        out: If given, also write the clip there as a DEFLATE-compressed, tiled GeoTIFF.
            The file appears only once completely written.
        geometry: Instead of ``bbox``, a polygon: a shapely geometry, a GeoJSON dict
            (geometry, Feature or FeatureCollection) or a geopandas GeoSeries/GeoDataFrame
            (all its shapes together). Only the tiles under its bounding box are read, and
            pixels outside the polygon become the raster's no-data value.
        geometry_crs: CRS of ``geometry``; by default the GeoSeries/GeoDataFrame's own CRS,
            else lon/lat (``"EPSG:4326"``, the CRS of GeoJSON).

    Returns:
        The clipped pixels, loaded into memory, with their CRS and transform.

    Raises:
        ValueError: not exactly one of ``bbox`` and ``geometry``; ``bbox`` is not 4 numbers
            with min < max; ``geometry`` is not a non-empty polygon.
        ClipError: Unknown asset key, box outside the raster, or the asset cannot be read.
    """
    polygon = None
    if geometry is not None:
        if bbox is not None:
            raise ValueError("Give either bbox or geometry, not both.")
        polygon, bbox_crs = polygon_of(geometry, geometry_crs)
        bbox = polygon.bounds
    elif bbox is None:
        raise ValueError("Give the area to read: bbox=(minx, miny, maxx, maxy) or geometry=...")
    box = _check_bbox(bbox)
    asset = item.assets.get(asset_key)
    if asset is None:
        keys = ", ".join(item.assets) or "none"
        raise ClipError(f"Item {item.id} has no asset '{asset_key}'; its assets are: {keys}")
    href = asset.get_absolute_href() or asset.href
    if overview_level is not None and (
        isinstance(overview_level, bool)
        or not isinstance(overview_level, int)
        or overview_level < 0
    ):
        raise ValueError(
            f"overview_level must be None or a whole number >= 0, got {overview_level!r}"
        )

    with rasterio.Env(**gdal_options(href)):
        try:
            with warnings.catch_warnings():
                # An image without coordinates gets the ClipError below instead.
                warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
                raster = rioxarray.open_rasterio(href, overview_level=overview_level)
        except rasterio.errors.RasterioIOError as err:
            _failed.add(href)
            raise ClipError(_unreadable(href, asset_key, item.id, overview_level, err)) from err
        if not isinstance(raster, xr.DataArray) or raster.rio.crs is None:
            # A multi-dataset file (HDF, netCDF) or an image without coordinates (thumbnail).
            if isinstance(raster, xr.DataArray):
                raster.close()
            raise ClipError(
                f"Asset '{asset_key}' of item {item.id} is not a georeferenced raster that can "
                f"be clipped ({href}); pick an image band such as 'red'."
            )
        with raster:
            _check_overlap(raster, box, bbox_crs, href)
            try:
                subset: xr.DataArray = raster.rio.clip_box(*box, crs=bbox_crs)
            except (NoDataInBounds, OneDimensionalRaster, rasterio.errors.WindowError) as err:
                raise ClipError(
                    f"The box {box} covers less than one pixel of {href} at "
                    f"{_resolution(raster)} resolution; make it bigger."
                ) from err
            try:
                # Reading happens here, inside the Env: only the tiles under the box.
                subset = subset.load()
            except rasterio.errors.RasterioIOError as err:
                _failed.add(href)
                raise ClipError(_unreadable(href, asset_key, item.id, overview_level, err)) from err
    _failed.discard(href)
    if polygon is not None:
        subset = _mask_outside(subset, polygon, bbox_crs, href)
    subset.name = asset_key
    if out is not None:
        _write(subset, out)
    return subset


def polygon_of(geometry: Any, crs: Any = None) -> tuple[BaseGeometry, Any]:
    """``geometry`` as one shapely (multi)polygon, with its CRS (see :func:`clip_asset`)."""
    if crs is None:
        crs = getattr(geometry, "crs", None) or "EPSG:4326"
    doc = getattr(geometry, "__geo_interface__", geometry)
    if isinstance(doc, BaseGeometry):
        shapes = [doc]
    elif isinstance(doc, dict):
        kind = doc.get("type")
        try:
            if kind == "FeatureCollection":
                shapes = [shapely.geometry.shape(f["geometry"]) for f in doc.get("features", [])]
            elif kind == "Feature":
                shapes = [shapely.geometry.shape(doc["geometry"])]
            else:
                shapes = [shapely.geometry.shape(doc)]
        except (KeyError, TypeError, ValueError, AttributeError, GEOSException) as err:
            raise ValueError(f"geometry is not valid GeoJSON: {err}") from err
    else:
        raise ValueError(
            "geometry must be a shapely geometry, a GeoJSON dict or a geopandas object, "
            f"got {type(geometry).__name__}"
        )
    polygon = shapely.make_valid(shapely.union_all(shapes)) if shapes else shapely.Polygon()
    if isinstance(polygon, shapely.GeometryCollection):  # make_valid may add stray lines
        polygon = shapely.union_all([g for g in polygon.geoms if g.area > 0])
    if polygon.is_empty or polygon.area == 0:
        raise ValueError(
            f"geometry must be a polygon with an area, got {polygon.geom_type}"
            + (" (empty)" if polygon.is_empty else "")
            + "; buffer points and lines first, e.g. point.buffer(1000) in a projected CRS."
        )
    return polygon, crs


def _mask_outside(
    subset: xr.DataArray, polygon: BaseGeometry, crs: Any, href: str
) -> xr.DataArray:
    try:
        # drop=False keeps the bounding box's grid: the pixels outside become no-data.
        masked: xr.DataArray = subset.rio.clip([shapely.geometry.mapping(polygon)], crs=crs,
                                               drop=False)
        return masked
    except NoDataInBounds as err:
        raise ClipError(
            f"The polygon covers no pixel centre of {href}; make it bigger or read a finer "
            "overview level."
        ) from err


def _check_bbox(bbox: Sequence[float]) -> tuple[float, float, float, float]:
    if isinstance(bbox, str | bytes) or not isinstance(bbox, Sequence) or len(bbox) != 4:
        raise ValueError(f"bbox must be 4 numbers (minx, miny, maxx, maxy), got {bbox!r}")
    try:
        minx, miny, maxx, maxy = (float(v) for v in bbox)
    except (TypeError, ValueError) as err:
        raise ValueError(f"bbox must hold numbers, got {bbox!r}") from err
    if not np.all(np.isfinite([minx, miny, maxx, maxy])):
        raise ValueError(f"bbox must hold finite numbers, got {bbox!r}")
    if minx >= maxx or miny >= maxy:
        raise ValueError(
            f"bbox {bbox!r} is empty or upside down: the order is (minx, miny, maxx, maxy) "
            "with minx < maxx and miny < maxy"
        )
    return minx, miny, maxx, maxy


def _check_overlap(
    raster: xr.DataArray, box: tuple[float, float, float, float], bbox_crs: Any, href: str
) -> None:
    crs: CRS | None = raster.rio.crs
    left, bottom, right, top = raster.rio.bounds()
    if bbox_crs is not None and crs is not None:
        try:
            src = CRS.from_user_input(bbox_crs)
        except rasterio.errors.CRSError as err:
            raise ValueError(f"bbox_crs {bbox_crs!r} is not a CRS rasterio knows: {err}") from err
        wanted = rasterio.warp.transform_bounds(src, crs, *box) if src != crs else box
    else:
        wanted = box
    minx, miny, maxx, maxy = wanted
    if minx < right and maxx > left and miny < top and maxy > bottom:
        return
    name = crs.to_string() if crs is not None else "no CRS"
    given = f" (in {bbox_crs}: {box})" if bbox_crs is not None else ""
    raise ClipError(
        f"The box {tuple(round(v, 2) for v in wanted)}{given} does not overlap {href}, "
        f"whose bounds are ({left:.10g}, {bottom:.10g}, {right:.10g}, {top:.10g}) in {name}."
        + ("" if bbox_crs is not None else " For lon/lat boxes pass bbox_crs='EPSG:4326'.")
    )


def _resolution(raster: xr.DataArray) -> str:
    x, y = raster.rio.resolution()
    return f"{abs(x):g} x {abs(y):g}"


def _unreadable(
    href: str, key: str, item_id: str, overview_level: int | None, err: Exception
) -> str:
    """One sentence on why GDAL could not read ``href``, from its error text."""
    text = str(err)
    low = text.lower()
    if overview_level is not None and "overview" in low:
        return f"Asset '{key}' of item {item_id} has no overview level {overview_level} ({href})."
    code = re.search(r"HTTP response code: (\d+)", text)
    if code:
        reason = f"the server answered HTTP {code.group(1)}"
    elif "could not resolve" in low:
        reason = "the host name could not be looked up"
    elif "connect" in low or "refused" in low:
        reason = "connection refused"
    elif "timed out" in low or "timeout" in low:
        reason = "the server did not answer in time"
    elif "no such file" in low or "does not exist" in low:
        reason = "no such file"
    elif "not recognized" in low:
        reason = "not a raster format GDAL can read"
    else:
        reason = text.splitlines()[0].rstrip(".") if text else type(err).__name__
    hint = (
        " Check your internet connection or start the offline mirror: satlesson mirror serve"
        if href.startswith(("http://", "https://"))
        else ""
    )
    return f"Could not read asset '{key}' of item {item_id} from {href} ({reason}).{hint}"


def _write(subset: xr.DataArray, out: str | os.PathLike[str]) -> None:
    # Horizontal differencing makes DEFLATE much more effective on smooth imagery; 2 suits
    # integers, 3 floating point.
    predictor = 3 if np.issubdtype(subset.dtype, np.floating) else 2
    with atomic_output(out) as tmp:
        subset.rio.to_raster(
            tmp,
            driver="GTiff",
            compress="DEFLATE",
            predictor=predictor,
            tiled=True,
            blockxsize=256,
            blockysize=256,
        )
