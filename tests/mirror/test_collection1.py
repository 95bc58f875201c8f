"""Collection 1 (``sentinel-2-c1-l2a``) answers as Earth Search does, and encodes as it does.

Real Collection 1 items keep ESA's +1000 in their pixels and say ``offset: -0.1``; the legacy
``sentinel-2-l2a`` items hold 10000 x reflectance although their metadata also says -0.1.
The lesson's helper must give the same, small and positive, sea reflectance from both.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import rioxarray
from pystac import Item
from pystac_client import Client

from satlesson.bands import load_bands, scale_offset
from satlesson.mirror.client.urls import EARTH_SEARCH_API

RHODES_BBOX = [27.68375, 35.875969, 28.247358, 36.458195]  # the island, lon/lat
SEA_BOX = (566000, 4032000, 574000, 4040000)  # open water between Rhodes and Symi, EPSG:32635
DAY = "2023-08-27"


@pytest.fixture(scope="module")
def client(mirror_base: str) -> Client:
    return Client.open(EARTH_SEARCH_API)


@pytest.fixture(scope="module")
def c1_items(client: Client) -> list[Item]:
    search = client.search(collections=["sentinel-2-c1-l2a"], bbox=RHODES_BBOX,
                           datetime="2023-07-01/2023-08-31")  # fmt: skip
    return list(search.items())


def _on(items: list[Item], day: str) -> Item:
    return next(i for i in items if str(i.datetime.date()) == day)


def test_the_original_lessons_search_finds_scenes(c1_items: list[Item]) -> None:
    # The original lesson's data-cube search; an empty answer stopped its code offline.
    assert len(c1_items) >= 12
    assert all(re.fullmatch(r"S2[ABC]_T35SNA_\d{8}T\d{6}_L2A", i.id) for i in c1_items)
    assert _on(c1_items, DAY).id == "S2A_T35SNA_20230827T085947_L2A"  # its datastrip start


def test_items_have_collection_1s_shape(c1_items: list[Item]) -> None:
    item = _on(c1_items, DAY)
    assert "earthsearch:boa_offset_applied" not in item.properties
    assert "s2:tile_id" in item.properties and "s2:granule_id" not in item.properties
    assert item.properties["processing:software"] == {"sentinel-2-c1-l2a-to-stac": "v2024.02.01"}
    assert not any(key.endswith("-jp2") for key in item.assets)
    assert {"cloud", "snow", "preview", "product_metadata"} <= set(item.assets)
    red = item.assets["red"]
    bucket = "e84-earth-search-sentinel-data.s3.us-west-2.amazonaws.com"
    assert f"{bucket}/sentinel-2-c1-l2a/35/S/NA/2023/8/{item.id}/" in red.href
    assert red.href.endswith("/B04.tif")
    assert red.extra_fields["raster:bands"][0]["offset"] == -0.1
    assert scale_offset(item, "red") == (0.0001, -0.1)  # genuine here: the +1000 is in the DN


def test_collection_1_keeps_the_offset_in_its_pixels(client: Client,
                                                     c1_items: list[Item]) -> None:
    legacy = next(client.search(ids=["S2A_35SNA_20230827_0_L2A"]).items())
    c1 = _on(c1_items, DAY)
    window = {"minx": 580000, "miny": 4001000, "maxx": 582000, "maxy": 4003000}  # land
    a = rioxarray.open_rasterio(legacy.assets["red"].href).rio.clip_box(**window).values
    b = rioxarray.open_rasterio(c1.assets["red"].href).rio.clip_box(**window).values
    np.testing.assert_array_equal(b.astype(int) - a.astype(int), 1000)


@pytest.mark.parametrize("collection", ["sentinel-2-l2a", "sentinel-2-c1-l2a"])
def test_open_sea_reflectance_is_small_and_positive(client: Client, collection: str) -> None:
    item = next(client.search(collections=[collection], datetime=DAY,
                              intersects={"type": "Point", "coordinates": [27.95, 36.2]}
                              ).items())  # fmt: skip
    bands = load_bands(item, ["red", "scl"], bbox=SEA_BOX)
    sea = float(bands["red"].where(bands["scl"] == 6).median())
    assert 0.005 < sea < 0.04, (collection, sea)


def test_the_original_lessons_data_cube_loads(c1_items: list[Item]) -> None:
    import odc.stac

    cube = odc.stac.load(c1_items, bands=["red", "scl"], groupby="solar_day",
                         resolution=2000, bbox=RHODES_BBOX, chunks={})  # fmt: skip
    assert cube.sizes["time"] == len({i.datetime.date() for i in c1_items})
    assert str(cube["red"].dtype) == "uint16"
