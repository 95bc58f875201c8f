"""Facts of episodes 7 and 8, "Band indices" and "How much burned?": the bands and elevation
tiles they read.

The two scenes themselves (the oldest and newest clear scene of July-August 2023) are facts of
episodes 1 and 2 ("before-scene", "after-scene"), which this episode checks too.
"""

from __future__ import annotations

from typing import Any

from satlesson.facts.access_satellite_imagery import AUGUST_27, COLLECTION, EARTH_SEARCH
from satlesson.facts.base import Fact, Services, ids, value

DEM_COLLECTION = "cop-dem-glo-30"
# The page's window around the burn scar, EPSG:32635 (the page searches the DEM with its
# bounds in lon/lat, as dem_tiles does).
SCAR_BOX = (575000, 3985000, 597000, 4013000)
DEM_TILES = ("Copernicus_DSM_COG_10_N36_00_E027_00_DEM", "Copernicus_DSM_COG_10_N36_00_E028_00_DEM")


def after_assets(s: Services) -> dict[str, Any]:
    """The assets of the "after" scene, fetched by ID as the page's data come."""
    search = s.client(EARTH_SEARCH).search(collections=[COLLECTION], ids=[AUGUST_27])
    found = list(search.items())
    return {key: asset.extra_fields for key, asset in found[0].assets.items()} if found else {}


def resolution(key: str) -> Any:
    def measure(s: Services) -> Any:
        bands = (s.once(after_assets).get(key) or {}).get("raster:bands") or [{}]
        return bands[0].get("spatial_resolution")

    return measure


def dem_tiles(s: Services) -> list[str]:
    from pyproj import Transformer

    to_lonlat = Transformer.from_crs("EPSG:32635", "EPSG:4326", always_xy=True)
    bbox = to_lonlat.transform_bounds(*SCAR_BOX)
    search = s.client(EARTH_SEARCH).search(collections=[DEM_COLLECTION], bbox=bbox)
    return sorted(item.id for item in search.items())


FACTS: tuple[Fact, ...] = (
    value("nir-resolution", 10, f"the pixel size (m) of the nir band of {AUGUST_27}",
          resolution("nir")),
    value("swir22-resolution", 20, f"the pixel size (m) of the swir22 band of {AUGUST_27}",
          resolution("swir22")),
    value("scl-resolution", 20, f"the pixel size (m) of the scl layer of {AUGUST_27}",
          resolution("scl")),
    ids("scar-dem-tiles", DEM_TILES, "the DEM tiles over the burn-scar window", dem_tiles),
)
