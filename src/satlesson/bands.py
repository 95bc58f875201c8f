"""Load several bands of one item, on one grid, as surface reflectance.

Index formulas (NDVI, NBR...) combine bands of different resolutions: Sentinel-2's near
infrared is 10 m, its short-wave infrared 20 m. :func:`load_bands` reads each asset with
:func:`satlesson.clip.clip_asset` (only the blocks it needs), puts every band on the grid of the
first one (reading each other band from the overview whose pixels are as wide as the grid's,
so that a pixel of every band covers the same ground), and turns stored digital numbers into
reflectance with the ``scale`` and ``offset`` the item's ``raster:bands`` metadata gives for
each asset, except where the item says that the offset was already applied to the pixels (see
:func:`scale_offset`). :func:`load_mosaic` does the same for an area that spans the
neighbouring tiles of one pass, and joins them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pystac
import rasterio
import rasterio.warp
import xarray as xr
from pystac.extensions.raster import RasterBand
from rasterio.enums import Resampling

from satlesson.clip import clip_asset, gdal_options
from satlesson.errors import ClipError

__all__ = ["load_bands", "load_mosaic", "scale_offset"]


# Earth Search's own flag: the files' DN already had ESA's +1000 (baseline 04.00 and later)
# removed, so they hold 10000 x reflectance, while raster:bands still say offset -0.1
# (Element84/earth-search #9, #66, #71). Collection 1 (sentinel-2-c1-l2a) keeps the +1000 and
# has no such flag, so its -0.1 is applied.
BOA_OFFSET_APPLIED = "earthsearch:boa_offset_applied"


def scale_offset(item: pystac.Item, asset_key: str) -> tuple[float, float] | None:
    """``(scale, offset)`` that turn an asset's stored values into reflectance.

    Both come from the asset's ``raster:bands``, except that the offset is 0 when the item's
    ``earthsearch:boa_offset_applied`` is true: Earth Search then removed ESA's shift from the
    pixels but left its ``offset: -0.1`` in the metadata, and applying it again would make
    every reflectance 0.1 too low (open sea negative). ``None`` if the metadata gives neither
    (a classification layer, a true-colour image).
    """
    asset = item.assets.get(asset_key)
    if asset is None:
        keys = ", ".join(item.assets) or "none"
        raise ClipError(f"Item {item.id} has no asset '{asset_key}'; its assets are: {keys}")
    # Read by pystac's raster extension, whether or not the item declares it (hand-made
    # items often do not).
    listed = asset.extra_fields.get("raster:bands")
    first = RasterBand(listed[0]) if isinstance(listed, list) and listed else None
    if first is None or (first.scale is None and first.offset is None):
        return None
    offset = 0.0 if item.properties.get(BOA_OFFSET_APPLIED) is True else first.offset or 0.0
    return float(first.scale if first.scale is not None else 1.0), float(offset)


def load_bands(
    item: pystac.Item,
    asset_keys: Sequence[str],
    bbox: Sequence[float] | None = None,
    bbox_crs: Any = None,
    *,
    geometry: Any = None,
    geometry_crs: Any = None,
    overview_level: int | None = None,
    reflectance: bool = True,
) -> xr.Dataset:
    """Read ``asset_keys`` of ``item`` over a box or polygon into one Dataset.

    Args:
        item: A STAC item with raster assets.
        asset_keys: Asset keys, e.g. ``["nir", "swir22", "scl"]``. The first one sets the grid
            (CRS, resolution, extent) that the others are put on. A band whose file has the
            grid's pixel size, at full resolution or in an overview, is read at that size, so
            its pixels cover the same ground as the first band's (a 10 m band on an 80 m grid
            comes from its 80 m overview, each pixel the mean of 64, not one 40 m pixel of
            four). Any other band is put on the grid by nearest neighbour: a 20 m pixel
            becomes four identical 10 m pixels, and class codes stay codes.
        bbox, bbox_crs, geometry, geometry_crs, overview_level: the area and detail to read,
            as for :func:`satlesson.clip.clip_asset`; ``overview_level`` is the first
            band's.
        reflectance: Convert each asset that has a ``scale``/``offset`` in its
            ``raster:bands`` to ``float32`` reflectance (``DN * scale + offset``, the offset
            as :func:`scale_offset` decides it), with no-data pixels as NaN. Assets without
            them (``scl``, ``visual``) keep their stored values.

    Returns:
        A Dataset with one 2-D variable per single-band asset (3-D with a ``band`` dimension
        for multi-band assets such as ``visual``), named by its key. Its ``attrs`` name the
        item and its date.

    Raises:
        ValueError: no keys, a key given twice, or a bad area (see ``clip_asset``).
        ClipError: an unknown key, or an asset that cannot be read there.
    """
    keys = list(asset_keys)
    if isinstance(asset_keys, str) or not keys:
        raise ValueError(f"asset_keys must be a list of asset keys, got {asset_keys!r}")
    if len(set(keys)) != len(keys):
        raise ValueError(f"asset_keys names a band twice: {keys}")
    variables: dict[str, xr.DataArray] = {}
    grid: xr.DataArray | None = None
    for key in keys:
        factors = scale_offset(item, key)
        level = overview_level if grid is None else _level_like(item, key, grid, overview_level)
        raster = clip_asset(item, key, bbox, bbox_crs, level,
                            geometry=geometry, geometry_crs=geometry_crs)  # fmt: skip
        if grid is None:
            grid = raster
        elif raster.rio.shape != grid.rio.shape or raster.rio.transform() != grid.rio.transform():
            raster = raster.rio.reproject_match(grid, resampling=Resampling.nearest)
        if reflectance and factors is not None:
            raster = _to_reflectance(raster, *factors)
        variables[key] = raster.squeeze("band", drop=True) if raster.sizes["band"] == 1 else raster
    dataset = xr.Dataset(variables)
    dataset.attrs.update(item_id=item.id, datetime=str(item.datetime))
    return dataset


def _level_like(item: pystac.Item, key: str, grid: xr.DataArray, default: int | None
                ) -> int | None:  # fmt: skip
    """The overview level (None: full resolution) of asset ``key`` whose pixels are as wide as
    ``grid``'s, from the file's own header; ``default`` when it has none of that size."""
    href = item.assets[key].href
    width = abs(grid.rio.resolution()[0])
    with rasterio.Env(**gdal_options(href)), rasterio.open(href) as src:
        native, factors = abs(src.res[0]), src.overviews(1)
    # Overview pixels are a whole file's width over a rounded-up count: close, not equal.
    for level, factor in [(None, 1), *enumerate(factors)]:
        if math.isclose(native * factor, width, rel_tol=0.01):
            return level
    return default


def _to_reflectance(raster: xr.DataArray, scale: float, offset: float) -> xr.DataArray:
    nodata = raster.rio.nodata
    values = raster.astype("float32") * np.float32(scale) + np.float32(offset)
    if nodata is not None:
        values = values.where(raster != nodata)
    values.attrs = {**raster.attrs, "scale_factor": 1.0, "add_offset": 0.0, "units": "1"}
    marked: xr.DataArray = values.rio.write_nodata(np.nan)
    return marked


def load_mosaic(
    items: Sequence[pystac.Item],
    asset_keys: Sequence[str],
    bbox: Sequence[float],
    bbox_crs: Any = None,
    *,
    overview_level: int | None = None,
    reflectance: bool = True,
) -> xr.Dataset:
    """Read ``asset_keys`` over a box that spans several tiles of one pass, as one Dataset.

    Each item is read with :func:`load_bands` over the part of the box it covers. The result
    is on the grid of the first item's read, extended to the whole box; every other item is
    put on that grid by nearest neighbour (neighbouring MGRS tiles share their CRS, but their
    coarser overviews need not line up), and fills only the pixels still without data. Where
    tiles overlap, the first item's pixels are kept: for tiles of the same pass they hold the
    same ground.

    Args:
        items: Items of one acquisition (the same day and orbit), in order of preference.
            Items whose footprint misses the box are skipped.
        asset_keys, bbox, bbox_crs, overview_level, reflectance: as for :func:`load_bands`.
            ``bbox`` is required.

    Returns:
        A Dataset as :func:`load_bands` returns, whose ``attrs`` name every item read.

    Raises:
        ValueError: no items, items of different CRSs, or a bad area or key list.
        ClipError: no item covers the box, or an asset cannot be read.
    """
    if not items:
        raise ValueError("load_mosaic needs at least one item")
    parts: list[xr.Dataset] = []
    missed: list[str] = []
    for item in items:
        try:
            parts.append(load_bands(item, asset_keys, bbox, bbox_crs,
                                    overview_level=overview_level, reflectance=reflectance))
        except ClipError as error:
            if "does not overlap" not in str(error):
                raise
            missed.append(item.id)
    if not parts:
        raise ClipError(f"None of the items covers the box: {', '.join(missed)}")
    crs = parts[0].rio.crs
    if any(part.rio.crs != crs for part in parts):
        raise ValueError("load_mosaic joins tiles of one CRS (one UTM zone); reproject first")
    first = parts[0]
    box = rasterio.warp.transform_bounds(bbox_crs or crs, crs, *bbox) if bbox_crs else bbox
    mosaic: xr.Dataset = first.rio.pad_box(*box)
    for part in parts[1:]:
        placed = part.rio.reproject_match(mosaic, resampling=Resampling.nearest)
        for key in mosaic.data_vars:
            have, extra = mosaic[key], placed[key]
            nodata = have.rio.nodata
            missing = have.isnull() if nodata is None or np.isnan(nodata) else have == nodata
            extra_nodata = extra.rio.nodata
            usable = extra.notnull() if extra_nodata is None or np.isnan(extra_nodata) \
                else extra != extra_nodata
            mosaic[key] = have.where(~(missing & usable), extra)
    mosaic.attrs.update(item_ids=[str(part.attrs["item_id"]) for part in parts],
                        datetime=str(first.attrs["datetime"]))
    mosaic.attrs.pop("item_id", None)
    return mosaic
