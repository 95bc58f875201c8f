"""Load several bands of one item, on one grid, as surface reflectance.

Index formulas (NDVI, NBR...) combine bands of different resolutions: Sentinel-2's near
infrared is 10 m, its short-wave infrared 20 m. :func:`load_bands` reads each asset with
:func:`satlesson.clip.clip_asset` (only the tiles it needs), puts every band on the grid of the
first one, and turns stored digital numbers into reflectance with the ``scale`` and ``offset``
the item's ``raster:bands`` metadata gives for each asset.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pystac
import xarray as xr
from rasterio.enums import Resampling

from satlesson.clip import clip_asset
from satlesson.errors import ClipError

__all__ = ["load_bands", "scale_offset"]


def scale_offset(item: pystac.Item, asset_key: str) -> tuple[float, float] | None:
    """``(scale, offset)`` of an asset's first band from its ``raster:bands``; ``None`` if the
    metadata gives neither (a classification layer, a true-colour image)."""
    asset = item.assets.get(asset_key)
    if asset is None:
        keys = ", ".join(item.assets) or "none"
        raise ClipError(f"Item {item.id} has no asset '{asset_key}'; its assets are: {keys}")
    bands = asset.extra_fields.get("raster:bands") or [{}]
    first = bands[0] if isinstance(bands, list) and bands else {}
    if "scale" not in first and "offset" not in first:
        return None
    return float(first.get("scale", 1.0)), float(first.get("offset", 0.0))


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
            (CRS, resolution, extent) that the others are put on, by nearest neighbour: a 20 m
            pixel becomes four identical 10 m pixels, and class codes stay codes.
        bbox, bbox_crs, geometry, geometry_crs, overview_level: the area and detail to read,
            as for :func:`satlesson.clip.clip_asset`.
        reflectance: Convert each asset that has a ``scale``/``offset`` in its
            ``raster:bands`` to ``float32`` reflectance (``DN * scale + offset``), with no-data
            pixels as NaN. Assets without them (``scl``, ``visual``) keep their stored values.

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
        raster = clip_asset(item, key, bbox, bbox_crs, overview_level,
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


def _to_reflectance(raster: xr.DataArray, scale: float, offset: float) -> xr.DataArray:
    nodata = raster.rio.nodata
    values = raster.astype("float32") * np.float32(scale) + np.float32(offset)
    if nodata is not None:
        values = values.where(raster != nodata)
    values.attrs = {**raster.attrs, "scale_factor": 1.0, "add_offset": 0.0, "units": "1"}
    return values.rio.write_nodata(np.nan)
