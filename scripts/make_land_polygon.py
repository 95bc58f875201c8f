"""Derive the mirror's land polygons from GSHHG (through roaring-landmask, offline).

Writes ``src/satlesson/data/rhodes-region-land.geojson`` (EPSG:32635: the MGRS tiles
35SNA, 35SNV and 35SPA that cover Rhodes, and the Copernicus DEM tiles N35-N36 x E027-E028)
and ``src/satlesson/data/nyc-land.geojson`` (MGRS 18TWL, EPSG:32618). The asset generator reads
these at run time, so they ship in the package; re-run this only to change them:

    .venv/bin/pip install 'roaring-landmask>=0.10,<1'
    .venv/bin/python scripts/make_land_polygon.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import rasterio.features
import shapely
from rasterio.transform import from_origin
from rasterio.warp import transform as warp_transform
from roaring_landmask import LandmaskProvider, RoaringLandmask
from shapely.geometry import mapping, shape

from satlesson.mirror.synthetic.scenes import (
    HLS_EPSG,
    HLS_EXTENT_M,
    HLS_ORIGIN,
    S2_EPSG,
)

OUT = Path(__file__).resolve().parents[1] / "src" / "satlesson" / "data"
CELL = 60.0  # metres: fine enough for coves, small enough to keep the file well under 300 KB
SIMPLIFY = 30.0  # metres, half a cell: removes the staircase of the raster edges
MIN_AREA = 0.2e6  # m²: islets smaller than ~4 Sentinel-2 60 m pixels are dropped

PROVENANCE = (
    "Land mask sampled on a 60 m grid from the GSHHG shoreline database (full resolution, "
    "via the roaring-landmask package's GSHHG provider), polygonized and simplified by 30 m "
    "with scripts/make_land_polygon.py. GSHHG: Wessel, P., and W. H. F. Smith, A Global "
    "Self-consistent, Hierarchical, High-resolution Shoreline Database, J. Geophys. Res., "
    "101, 8741-8743, 1996."
)
LICENSE = "LGPL-3.0-or-later (GSHHG)"

TILES: dict[str, tuple[int, float, float, float, float]] = {
    # name: (epsg, x_min, y_max, width, height). Rhodes: one area for the Sentinel-2 region
    # (MGRS 35SNA, 35SNV south of it, 35SPA east of it) and the three 1-degree Copernicus DEM
    # tiles around the island (lon 27-29, lat 35-37), on the DEM's 60 m lattice.
    "rhodes-region": (S2_EPSG, 496020.0, 4100040.0, 213780.0, 230040.0),
    "nyc": (HLS_EPSG, *HLS_ORIGIN, HLS_EXTENT_M, HLS_EXTENT_M),
}


def land_polygon(epsg: int, x0: float, y1: float, width: float, height: float
                 ) -> dict[str, Any]:  # fmt: skip
    nx, ny = int(width / CELL), int(height / CELL)
    xs = x0 + (np.arange(nx) + 0.5) * CELL
    ys = y1 - (np.arange(ny) + 0.5) * CELL
    xx, yy = np.meshgrid(xs, ys)
    lon, lat = warp_transform(f"EPSG:{epsg}", "EPSG:4326", xx.ravel(), yy.ravel())
    # The GSHHG provider explicitly: the default may mix in OpenStreetMap (ODbL) coastlines.
    mask = RoaringLandmask.new_with_provider(LandmaskProvider.Gshhg)
    land = mask.contains_many_par(np.asarray(lon), np.asarray(lat)).reshape(ny, nx)
    land = land.astype(np.uint8)
    polys = [
        shape(geom)
        for geom, value in rasterio.features.shapes(
            land, mask=land == 1, transform=from_origin(x0, y1, CELL, CELL)
        )
        if value == 1
    ]
    merged = shapely.union_all([p for p in polys if p.area >= MIN_AREA])
    merged = shapely.simplify(merged, SIMPLIFY, preserve_topology=True)
    merged = shapely.set_precision(merged, 1.0)  # whole metres keep the file small and stable
    return {
        "type": "FeatureCollection",
        "name": "land",
        "crs": {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{epsg}"}},
        "provenance": PROVENANCE,
        "license": LICENSE,
        "features": [
            {
                "type": "Feature",
                "properties": {"class": "land", "land_fraction": round(float(land.mean()), 4)},
                "geometry": _int_coords(mapping(merged)),
            }
        ],
    }


def _int_coords(obj: Any) -> Any:
    """Whole metres as JSON integers: a third smaller than floats, and byte-stable."""
    if isinstance(obj, float):
        return int(round(obj))
    if isinstance(obj, list | tuple):
        return [_int_coords(v) for v in obj]
    if isinstance(obj, dict):
        return {k: _int_coords(v) for k, v in obj.items()}
    return obj


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (epsg, x0, y1, width, height) in TILES.items():
        doc = land_polygon(epsg, x0, y1, width, height)
        path = OUT / f"{name}-land.geojson"
        # Integers and no spaces: small, and byte-stable across runs.
        path.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
        print(f"{path}: {path.stat().st_size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
