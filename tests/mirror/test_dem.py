"""The Copernicus DEM tiles over Rhodes: found through the mirror's Earth Search, real COGs, and
heights true to the island where the lesson looks (one 3600² tile is rendered, ~15 s)."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from pystac import Item
from pystac_client import Client
from rio_cogeo.cogeo import cog_validate

from satlesson.mirror.client.urls import EARTH_SEARCH_API
from satlesson.mirror.synthetic import dem, earth_search

RHODES_BBOX = (27.68, 35.87, 28.25, 36.46)
MAIN_TILE = "Copernicus_DSM_COG_10_N36_00_E027_00_DEM"


def test_items_are_shaped_like_earth_search() -> None:
    items = {i["id"]: i for i in earth_search.dem_items()}
    assert MAIN_TILE in items
    item = Item.from_dict(items[MAIN_TILE])
    assert item.collection_id == "cop-dem-glo-30"
    assert item.properties["proj:shape"] == [3600, 3600]
    # As upstream: the 1-degree footprint starts half a pixel west and north of the degree.
    assert item.bbox == pytest.approx([27 - 1 / 7200, 36 + 1 / 7200, 28 - 1 / 7200, 37 + 1 / 7200])
    asset = item.assets["data"]
    assert asset.href == (
        "https://copernicus-dem-30m.s3.amazonaws.com/"
        f"Copernicus_DSM_COG_10_N36_00_E027_00_DEM/{MAIN_TILE}.tif"
    )
    assert asset.extra_fields["raster:bands"][0]["data_type"] == "float32"


@pytest.fixture(scope="module")
def dem_items(mirror_base: str) -> list[Item]:
    search = Client.open(EARTH_SEARCH_API).search(collections=["cop-dem-glo-30"],
                                                  bbox=RHODES_BBOX)  # fmt: skip
    return list(search.items())


def test_search_over_rhodes_finds_the_tiles(dem_items: list[Item]) -> None:
    assert sorted(i.id for i in dem_items) == sorted(dem.tile_id(*t) for t in dem.TILES)


@pytest.fixture(scope="module")
def main_tile(dem_items: list[Item]) -> tuple[str, np.ndarray, rasterio.Affine]:
    href = next(i for i in dem_items if i.id == MAIN_TILE).assets["data"].href
    assert href.startswith("https://copernicus-dem-30m.s3.amazonaws.com/")  # as upstream
    with rasterio.open(href) as src:
        assert src.dtypes == ("float32",) and src.nodata is None
        assert src.crs.to_epsg() == 4326 and src.shape == (3600, 3600)
        return href, src.read(1), src.transform


def test_tile_is_a_valid_cog(main_tile: tuple[str, np.ndarray, rasterio.Affine]) -> None:
    valid, errors, _ = cog_validate(main_tile[0], quiet=True)
    assert valid, errors


def _peak_near(heights: np.ndarray, transform: rasterio.Affine, lat: float, lon: float,
               km: float) -> tuple[float, float, float]:  # fmt: skip
    """Highest value within ``km`` of (lat, lon), and where it is."""
    row, col = rasterio.transform.rowcol(transform, lon, lat)
    r = int(km * 1000 / 30)
    window = heights[row - r : row + r, col - r : col + r]
    i, j = np.unravel_index(np.argmax(window), window.shape)
    plon, plat = rasterio.transform.xy(transform, row - r + i, col - r + j)
    return float(window[i, j]), plat, plon


def test_attavyros_is_the_highest_point(main_tile: tuple[str, np.ndarray, rasterio.Affine]
                                        ) -> None:  # fmt: skip
    _, heights, transform = main_tile
    row, col = np.unravel_index(np.argmax(heights), heights.shape)
    lon, lat = rasterio.transform.xy(transform, row, col)
    assert heights[row, col] == pytest.approx(1216, abs=1)
    assert lat == pytest.approx(36.2092, abs=0.003) and lon == pytest.approx(27.8636, abs=0.003)
    # The other named summits top their own massifs.
    akramitis = _peak_near(heights, transform, 36.1619, 27.7644, 1.5)
    profitis_ilias = _peak_near(heights, transform, 36.2722, 27.9333, 1.5)
    assert akramitis[0] == pytest.approx(825, abs=5)
    assert profitis_ilias[0] == pytest.approx(798, abs=5)


def test_sea_is_zero_and_slopes_plausible(main_tile: tuple[str, np.ndarray, rasterio.Affine]
                                          ) -> None:  # fmt: skip
    _, heights, transform = main_tile
    assert heights.min() == 0
    row, col = rasterio.transform.rowcol(transform, 27.5, 36.5)  # open sea west of Symi
    assert heights[row, col] == 0
    sea = heights == 0
    assert 0.6 < sea.mean() < 0.95  # mostly sea: Rhodes, Kos, Tilos, Symi, Datca
    dy, dx = np.gradient(heights, 30.9, 30.9 * np.cos(np.radians(36.5)))
    slope = np.degrees(np.arctan(np.hypot(dx, dy)))[~sea]
    assert np.percentile(slope, 50) < 15 and np.percentile(slope, 99) < 45
