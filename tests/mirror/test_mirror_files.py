"""The mirror's files: every advertised href resolves, rasters are COGs, the lesson's clip works."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
import rioxarray
from pystac import Item
from pystac_client import Client
from rio_cogeo.cogeo import cog_validate

from satlesson.mirror.client.urls import EARTH_SEARCH_API

# The "after" scene: the build made the files the episodes read, and test_assets.py renders
# others of it into the same cache, so fewer are made here.
ITEM_ID = "S2A_35SNA_20230827_0_L2A"
BOX = {"minx": 560900, "miny": 3995000, "maxx": 570900, "maxy": 4015000}


@pytest.fixture(scope="module")
def item(mirror_base: str) -> Item:
    return next(Client.open(EARTH_SEARCH_API).search(ids=[ITEM_ID]).items())


@pytest.mark.slow
def test_every_advertised_asset_resolves(item: Item) -> None:
    # Every file of the item, but of its 16 JPEG 2000 twins (each its COG re-encoded by the
    # same code) one per resolution: the 10 m ones cost ~8 s each to make.
    twins = {key for key in item.assets if key.endswith("-jp2")}
    one_per_resolution = {"blue-jp2", "rededge1-jp2", "coastal-jp2"}  # 10, 20 and 60 m
    assert one_per_resolution <= twins and len(twins) == 16
    hrefs = [a.href for key, a in item.assets.items()
             if key not in twins or key in one_per_resolution]  # fmt: skip

    def status(href: str) -> tuple[str, int, str]:
        response = requests.head(href, timeout=600)
        return href, response.status_code, response.headers.get("content-type", "")

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(status, hrefs))
    assert [r for r in results if r[1] != 200] == []
    types = {href.rsplit(".", 1)[1]: ctype for href, _, ctype in results}
    assert types["jpg"] == "image/jpeg" and types["jp2"] == "image/jp2"


@pytest.mark.parametrize("key", ["red", "coastal", "scl", "visual"])
def test_served_rasters_are_valid_cogs(item: Item, key: str) -> None:
    valid, errors, _warnings = cog_validate(item.assets[key].href, quiet=True)
    assert valid, errors


def test_lesson_clip_over_http(item: Item, tmp_path: Path) -> None:
    red = rioxarray.open_rasterio(item.assets["red"].href)
    assert red.shape == (1, 10980, 10980)
    assert red.rio.crs.to_epsg() == 32635
    assert tuple(red.rio.transform())[:6] == (10.0, 0.0, 499980.0, 0.0, -10.0, 4100040.0)
    subset = red.rio.clip_box(**BOX)
    out = tmp_path / "red_subset.tif"
    subset.rio.to_raster(out)
    assert subset.shape == (1, 2000, 1000)
    assert out.stat().st_size < 10 * 1024 * 1024
    assert int((subset > 0).sum()) > 0.5 * subset.size  # land and sea, not no-data
