"""The whole island: an island-wide search returns the three MGRS tiles that cover Rhodes, each
with its own grid, footprint and no-data, and where two tiles overlap they hold the same pixels
(one pass, one ground, one sky), as the tiles of a real Sentinel-2 pass do."""

from __future__ import annotations

import functools
from dataclasses import replace

import numpy as np
import pytest
from pystac_client import Client
from shapely.geometry import box, shape

from satlesson.mirror.client.urls import EARTH_SEARCH_API
from satlesson.mirror.synthetic import model, pixels
from satlesson.mirror.synthetic.advertised import advertised_files
from satlesson.mirror.synthetic.filespec import FileSpec
from satlesson.mirror.synthetic.scenes import MGRS_TILES

# Rhodes, coast to coast (lon/lat), and the day after the fire the lesson compares with.
ISLAND = (27.68, 35.87, 28.26, 36.47)
DAY = "20230827"


@functools.cache
def _specs() -> dict[tuple[str, str], FileSpec]:
    return {(s.item_id, s.asset_key): s for s in advertised_files().values()}


@functools.cache
def band60(tile: str, key: str) -> np.ndarray:
    """One asset of the day's ``tile`` item, rendered on its tile's 60 m grid."""
    spec = _specs()[(f"S2A_{tile}_{DAY}_0_L2A", key)]
    x0, y1 = spec.transform[2], spec.transform[5]
    grid = replace(spec, shape=(1830, 1830), transform=(60, 0, x0, 0, -60, y1))
    return np.concatenate([a[0] for _, _, a in pixels.s2_strips(grid)])


@pytest.fixture(scope="module")
def earth_search(mirror_base: str) -> Client:
    return Client.open(EARTH_SEARCH_API)  # through the session mirror's proxy


def test_an_island_wide_search_returns_the_three_tiles(earth_search: Client) -> None:
    items = list(earth_search.search(collections=["sentinel-2-l2a"], bbox=ISLAND,
                                     datetime="2023-07-01/2023-08-31").items())
    by_day: dict[str, set[str]] = {}
    for item in items:
        by_day.setdefault(item.id.split("_")[2], set()).add(item.properties["grid:code"])
    assert len(by_day) == 12  # every pass of the two months (one cloudy)
    assert all(tiles == {"MGRS-35SNA", "MGRS-35SNV", "MGRS-35SPA"} for tiles in by_day.values())
    island = box(*ISLAND)
    for item in items:
        tile = MGRS_TILES[item.properties["grid:code"].removeprefix("MGRS-")]
        x0, y1 = tile.origin
        assert item.assets["red"].extra_fields["proj:transform"][:6] == [10, 0, x0, 0, -10, y1]
        assert shape(item.geometry).intersects(island)
    # A point in the north of the island is in 35SNA alone, as the seed's search shows.
    north = earth_search.search(collections=["sentinel-2-l2a"],
                                intersects={"type": "Point", "coordinates": [27.95, 36.20]},
                                datetime=f"{DAY[:4]}-{DAY[4:6]}-{DAY[6:]}")
    assert [i.properties["grid:code"] for i in north.items()] == ["MGRS-35SNA"]


@pytest.mark.parametrize(("other", "rows", "cols"), [
    ("35SNV", (slice(1667, None), slice(None)), (slice(None, 163), slice(None))),
    ("35SPA", (slice(None), slice(1667, None)), (slice(None), slice(None, 163))),
])  # fmt: skip
def test_overlapping_tiles_hold_the_same_pixels(other: str, rows: tuple, cols: tuple) -> None:
    for key in ("red", "scl"):
        mine, theirs = band60("35SNA", key)[rows], band60(other, key)[cols]
        valid = (mine > 0) & (theirs > 0)
        assert valid.mean() > 0.2
        assert np.array_equal(mine[valid], theirs[valid]), key


def test_each_tile_has_its_own_no_data() -> None:
    # Orbit 107's swath edge cuts 35SNA's west side and only a corner of 35SNV; 35SPA is
    # inside the swath. SCL is 0 only where there is no data.
    nodata = {tile: float((band60(tile, "scl") == 0).mean()) for tile in MGRS_TILES}
    assert 0.10 < nodata["35SNA"] < 0.15
    assert 0 < nodata["35SNV"] < 0.01
    assert nodata["35SPA"] == 0
    assert band60("35SNV", "scl")[0, 0] == 0 and band60("35SNV", "scl")[-1, 0] > 0


def test_sea_shares_of_the_tiles_follow_the_land_polygon() -> None:
    b = model.base_fields(model.S2_REGION)
    for tile in MGRS_TILES.values():
        w = model.window_at(model.S2_REGION, tile.origin)
        xs, ys = model.coarse_xy(w)
        valid = xs[None, :] >= model.west_edge(model.S2_REGION, tile.footprint, ys)[:, None]
        sea = 1 - w.of(b.land01)[valid].mean()
        assert sea == pytest.approx(tile.water_share, abs=0.002), tile.name
        assert 100 * (1 - valid.mean()) == pytest.approx(tile.nodata_percentage, abs=0.02)


@pytest.mark.parametrize("where", [(slice(180, 260), slice(200, 330)),  # inside
                                   (slice(0, 90), slice(340, 400))])  # on the edges
def test_scar_fields_on_its_box_equal_the_whole_regions(where: tuple[slice, slice]) -> None:
    rng = np.random.default_rng(5)
    mask = np.zeros((400, 400), bool)
    mask[where] = rng.random(mask[where].shape) < 0.9  # ragged, with holes
    assert model._inside_distance(mask).tobytes() == \
        model.ndimage.distance_transform_edt(mask).tobytes()
    assert model._blurred(mask, 25).tobytes() == \
        model.ndimage.gaussian_filter(mask.astype(np.float32), 25).tobytes()
