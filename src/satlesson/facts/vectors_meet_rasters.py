"""Facts of episode 6, "Vectors meet rasters": the Copernicus DEM tiles its search finds.

The search is the episode's own (same API, collection and box: the bounds of the outline of
Rhodes the lesson ships), so the tiles listed here are the ones a learner gets.
"""

from __future__ import annotations

from typing import Any

from satlesson.facts.base import Fact, Services, ids

EARTH_SEARCH = "https://earth-search.aws.element84.com/v1"
DEM_COLLECTION = "cop-dem-glo-30"

DEM_TILES = (
    "Copernicus_DSM_COG_10_N36_00_E028_00_DEM",
    "Copernicus_DSM_COG_10_N36_00_E027_00_DEM",
    "Copernicus_DSM_COG_10_N35_00_E027_00_DEM",
)


def island_bbox() -> list[float]:
    """The bounds of ``rhodes.geojson``, as the page computes them with geopandas."""
    import geopandas as gpd

    from satlesson.lessondata import data_path

    return [float(v) for v in gpd.read_file(data_path("rhodes.geojson")).total_bounds]


def dem_items(s: Services) -> list[Any]:
    search = s.client(EARTH_SEARCH).search(collections=[DEM_COLLECTION], bbox=island_bbox())
    return list(search.items())


FACTS: tuple[Fact, ...] = (
    ids("dem-tiles", DEM_TILES, "the DEM tiles over Rhodes",
        lambda s: [i.id for i in s.once(dem_items)]),
)
