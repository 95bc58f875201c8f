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

# The "before" scene: the episode opens its red band, so its files are shared.
ITEM_ID = "S2A_35SNA_20230708_0_L2A"
BOX = {"minx": 560900, "miny": 3995000, "maxx": 570900, "maxy": 4015000}


@pytest.fixture(scope="module")
def item(mirror_base: str) -> Item:
    return next(Client.open(EARTH_SEARCH_API).search(ids=[ITEM_ID]).items())


@pytest.mark.slow
def test_every_advertised_asset_resolves(item: Item) -> None:
    def status(href: str) -> tuple[str, int, str]:
        response = requests.head(href, timeout=600)
        return href, response.status_code, response.headers.get("content-type", "")

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(status, [a.href for a in item.assets.values()]))
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
