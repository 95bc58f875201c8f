"""Facts of episodes 9 and 11, "Scale out with Dask" and "A data cube of the summer": the COG
blocks the first one's chunks follow and the time steps of the second one's data cube.

The scenes themselves (the clear scenes of July-August 2023, before and after) are facts of
episodes 1 and 2, which both episodes check too.
"""

from __future__ import annotations

from datetime import timedelta

from satlesson.facts.access_satellite_imagery import clear_items
from satlesson.facts.base import Fact, Services, count, value


def nir_block_shape(s: Services) -> tuple[int, int] | None:
    """Tile size of the nir band of the newest clear scene, the band the page chunks."""
    items = s.once(clear_items)
    if not items:
        return None
    import rasterio

    from satlesson.clip import gdal_options

    href = items[0].assets["nir"].get_absolute_href() or items[0].assets["nir"].href
    with rasterio.Env(**gdal_options(href)), rasterio.open(href) as src:
        return (int(src.block_shapes[0][0]), int(src.block_shapes[0][1]))


def solar_days(s: Services) -> int:
    """Distinct solar days of the clear scenes: the time steps of odc-stac's groupby="solar_day"
    (UTC shifted by the longitude of the item's centre, 15 degrees an hour)."""
    days = set()
    for item in s.once(clear_items):
        west, _, east, _ = item.bbox
        days.add((item.datetime + timedelta(hours=(west + east) / 2 / 15)).date())
    return len(days)


FACTS: tuple[Fact, ...] = (
    value("nir-block-shape", (1024, 1024), "the tile size of the nir band of the newest clear "
          "scene", nir_block_shape),
    count("cube-time-steps", 11, "time steps (solar days) in the data cube of the clear scenes",
          solar_days),
)
