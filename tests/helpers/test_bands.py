"""satlesson.bands and clip_asset(geometry=...): several bands on one grid, as reflectance,
over a box or a polygon, read from real local COGs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pystac
import pytest
import rasterio
from rasterio.transform import from_origin
from shapely.geometry import Point, box, mapping

from satlesson.bands import load_bands, load_mosaic, scale_offset
from satlesson.clip import ClipError, clip_asset

ORIGIN = (499980.0, 4100040.0)
EXTENT = 20480.0  # metres: 2048 px at 10 m, 1024 at 20 m
BOX = (500980.0, 4090040.0, 502980.0, 4092040.0)  # 2 km x 2 km, away from the edges
SCALE, OFFSET = 0.0001, -0.1


def _cog(path: Path, res: float, data: np.ndarray) -> Path:
    rows, cols = data.shape
    with rasterio.open(
        path, "w", driver="COG", width=cols, height=rows, count=1, dtype=data.dtype,
        crs="EPSG:32635", transform=from_origin(*ORIGIN, res, res), nodata=0, blocksize=512,
    ) as dst:  # fmt: skip
        dst.write(data, 1)
    return path


@pytest.fixture(scope="module")
def item(tmp_path_factory: pytest.TempPathFactory) -> pystac.Item:
    """An item with a 10 m band, a 20 m band (both with scale/offset) and a 20 m class layer.

    Each pixel's value encodes its 20 m cell, so a wrong grid match shows up as a mismatch.
    """
    folder = tmp_path_factory.mktemp("bands")
    n20 = int(EXTENT / 20)
    r20, c20 = np.indices((n20, n20))
    cell = (r20 * 7 + c20 * 3) % 3000 + 1000  # 1000..3999, never 0 (no-data)
    nir = np.repeat(np.repeat(cell, 2, axis=0), 2, axis=1).astype("uint16")
    nir[:, :50] = 0  # a no-data strip, like a swath edge
    swir = (cell // 2).astype("uint16")
    scl = (cell % 7 + 3).astype("uint8")
    result = pystac.Item("S2X_35SNA_20230708_0_L2A", None, None,
                         datetime(2023, 7, 8, tzinfo=UTC), {})  # fmt: skip
    for key, res, data in (("nir", 10, nir), ("swir22", 20, swir), ("scl", 20, scl)):
        asset = pystac.Asset(str(_cog(folder / f"{key}.tif", res, data)))
        if key != "scl":
            asset.extra_fields["raster:bands"] = [{"nodata": 0, "scale": SCALE, "offset": OFFSET}]
        result.add_asset(key, asset)
    return result


def _raw(item: pystac.Item, key: str) -> np.ndarray:
    with rasterio.open(item.assets[key].href) as src:
        return src.read(1, window=rasterio.windows.from_bounds(*BOX, transform=src.transform))


def test_scale_offset_from_raster_bands(item: pystac.Item) -> None:
    assert scale_offset(item, "nir") == (SCALE, OFFSET)
    assert scale_offset(item, "scl") is None
    with pytest.raises(ClipError, match="no asset 'red'.*nir, swir22, scl"):
        scale_offset(item, "red")


@pytest.mark.parametrize(("flag", "offset"), [(True, 0.0), (False, OFFSET), (None, OFFSET)])
def test_offset_already_applied_is_not_applied_again(item: pystac.Item, flag: bool | None,
                                                     offset: float) -> None:
    # Earth Search's sentinel-2-l2a: flag true, pixels are 10000 x reflectance although
    # raster:bands say -0.1; Collection 1 has no flag and keeps the +1000 its -0.1 undoes.
    flagged = item.clone()
    if flag is not None:
        flagged.properties["earthsearch:boa_offset_applied"] = flag
    assert scale_offset(flagged, "nir") == (SCALE, offset)
    ds = load_bands(flagged, ["nir"], bbox=BOX)
    np.testing.assert_allclose(ds.nir.values, _raw(item, "nir") * SCALE + offset, rtol=1e-6,
                               atol=1e-6)


def test_a_finer_band_is_read_where_its_pixels_cover_the_grids(item: pystac.Item) -> None:
    """On the 40 m grid of swir22's first overview, nir comes from its own 40 m overview (each
    pixel the mean of 16), not from 20 m pixels thinned to every other one."""
    ds = load_bands(item, ["swir22", "nir"], bbox=BOX, overview_level=0)
    assert abs(ds.swir22.rio.resolution()[0]) == pytest.approx(40, rel=0.01)
    nir_40 = clip_asset(item, "nir", BOX, overview_level=1)  # 10 m x 4
    assert ds.nir.shape == nir_40.squeeze().shape
    np.testing.assert_allclose(ds.nir.values, nir_40.squeeze().values * SCALE + OFFSET,
                               rtol=1e-6, atol=1e-6)  # fmt: skip
    thinned = clip_asset(item, "nir", BOX, overview_level=0).squeeze().values[::2, ::2]
    assert not np.allclose(ds.nir.values, thinned * SCALE + OFFSET)  # what it used to be


def test_bands_share_the_first_bands_grid_as_reflectance(item: pystac.Item) -> None:
    ds = load_bands(item, ["nir", "swir22", "scl"], bbox=BOX)
    assert ds.nir.shape == ds.swir22.shape == ds.scl.shape == (200, 200)
    assert ds.swir22.rio.transform() == ds.nir.rio.transform()
    assert ds.nir.dtype == np.float32 and ds.scl.dtype == np.uint8
    nir_dn, swir_dn = _raw(item, "nir"), _raw(item, "swir22")
    np.testing.assert_allclose(ds.nir.values, nir_dn * SCALE + OFFSET, rtol=1e-6, atol=1e-6)
    # Each 20 m pixel became the four 10 m pixels under it.
    expected_swir = np.repeat(np.repeat(swir_dn, 2, axis=0), 2, axis=1) * SCALE + OFFSET
    np.testing.assert_allclose(ds.swir22.values, expected_swir, rtol=1e-6, atol=1e-6)
    scl_dn = np.repeat(np.repeat(_raw(item, "scl"), 2, axis=0), 2, axis=1)
    np.testing.assert_array_equal(ds.scl.values, scl_dn)  # codes stay codes
    assert ds.attrs["item_id"] == item.id


def test_no_data_becomes_nan(item: pystac.Item) -> None:
    edge = (ORIGIN[0], 4090040.0, ORIGIN[0] + 2000, 4092040.0)  # over the 500 m no-data strip
    ds = load_bands(item, ["nir"], bbox=edge)
    assert int(ds.nir.isnull().sum()) == 200 * 50
    assert not np.isnan(ds.nir.values[:, 50:]).any()
    raw = load_bands(item, ["nir"], bbox=edge, reflectance=False)
    assert raw.nir.dtype == np.uint16 and int((raw.nir == 0).sum()) == 200 * 50


def test_polygon_masks_outside_and_reads_its_bounds(item: pystac.Item) -> None:
    centre = Point((BOX[0] + BOX[2]) / 2, (BOX[1] + BOX[3]) / 2)
    disc = centre.buffer(800)  # ~2.01 km^2
    clipped = clip_asset(item, "nir", geometry=disc, geometry_crs="EPSG:32635")
    assert clipped.shape == (1, 160, 160)  # the disc's bounding box at 10 m
    inside = int((clipped != 0).sum())
    assert inside * 100 == pytest.approx(disc.area, rel=0.01)
    ds = load_bands(item, ["nir", "scl"], geometry=disc, geometry_crs="EPSG:32635")
    assert int(ds.nir.notnull().sum()) == inside


def test_geodataframe_brings_its_crs_and_geojson_is_lonlat(item: pystac.Item) -> None:
    square = box(*BOX).buffer(-500)
    frame = gpd.GeoDataFrame(geometry=[square], crs="EPSG:32635")
    by_frame = clip_asset(item, "nir", geometry=frame)
    assert by_frame.shape == (1, 100, 100)
    lonlat = frame.to_crs("EPSG:4326")
    feature = {"type": "Feature", "properties": {}, "geometry": mapping(lonlat.geometry[0])}
    by_geojson = clip_asset(item, "nir", geometry=feature)  # GeoJSON: lon/lat by definition
    assert int((by_geojson != 0).sum()) == pytest.approx(100 * 100, rel=0.03)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "Give the area to read"),
        ({"bbox": BOX, "geometry": box(*BOX)}, "either bbox or geometry"),
        ({"geometry": Point(501000, 4091000)}, "polygon with an area.*buffer"),
        ({"geometry": {"type": "Polygon", "coordinates": "nope"}}, "not valid GeoJSON"),
        ({"geometry": 42}, "must be a shapely geometry"),
    ],
)
def test_bad_areas_are_one_sentence(item: pystac.Item, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        clip_asset(item, "nir", **kwargs)


def test_bad_key_lists(item: pystac.Item) -> None:
    with pytest.raises(ValueError, match="list of asset keys"):
        load_bands(item, "nir", bbox=BOX)
    with pytest.raises(ValueError, match="twice"):
        load_bands(item, ["nir", "nir"], bbox=BOX)


@pytest.fixture(scope="module")
def two_tiles(tmp_path_factory: pytest.TempPathFactory) -> tuple[pystac.Item, pystac.Item]:
    """A northern and a southern tile of one pass, overlapping by 2 km: NIR stores the 10 m
    cell's row counted from the northern tile's top (+1000 in the south, to tell them apart),
    SCL the class 4 (north) or 5 (south)."""
    folder = tmp_path_factory.mktemp("tiles")
    n = int(EXTENT / 10)
    items = []
    for name, top, extra, klass in (("35SNA", ORIGIN[1], 0, 4),
                                    ("35SNV", ORIGIN[1] - EXTENT + 2000, 1000, 5)):
        rows = (ORIGIN[1] - top) / 10 + np.arange(n)
        nir = np.repeat((rows + 1 + extra)[:, None], n, axis=1).astype("uint16")
        scl = np.full((n // 2, n // 2), klass, "uint8")
        item = pystac.Item(f"S2X_{name}_20230827_0_L2A", None, None,
                           datetime(2023, 8, 27, tzinfo=UTC), {})  # fmt: skip
        for key, res, data in (("nir", 10, nir), ("scl", 20, scl)):
            path = folder / f"{name}-{key}.tif"
            with rasterio.open(path, "w", driver="COG", width=data.shape[1], height=data.shape[0],
                               count=1, dtype=data.dtype, crs="EPSG:32635", nodata=0,
                               transform=from_origin(ORIGIN[0], top, res, res)) as dst:
                dst.write(data, 1)
            asset = pystac.Asset(str(path))
            if key == "nir":
                asset.extra_fields["raster:bands"] = [{"nodata": 0, "scale": 1, "offset": 0}]
            item.add_asset(key, asset)
        items.append(item)
    return items[0], items[1]


def test_a_mosaic_joins_the_tiles_of_a_pass(two_tiles: tuple[pystac.Item, pystac.Item]) -> None:
    north, south = two_tiles
    edge = ORIGIN[1] - EXTENT  # the northern tile's last row ends here
    area = (ORIGIN[0] + 1000, edge - 3000, ORIGIN[0] + 3000, edge + 3000)
    mosaic = load_mosaic([north, south], ["nir", "scl"], bbox=area)
    assert mosaic.attrs["item_ids"] == [north.id, south.id]
    assert mosaic.rio.bounds() == pytest.approx(area)
    assert not mosaic["nir"].isnull().any() and (mosaic["scl"] > 0).all()
    rows = (ORIGIN[1] - mosaic.y.values) // 10 + 1  # the row each pixel's centre is in
    inside = mosaic.y.values > edge
    # The first tile's pixels where it has data, the second's beyond its edge, nothing shifted.
    assert (mosaic["nir"].values[inside] == rows[inside, None]).all()
    assert (mosaic["nir"].values[~inside] == rows[~inside, None] + 1000).all()
    assert set(np.unique(mosaic["scl"].values[inside])) == {4}
    assert set(np.unique(mosaic["scl"].values[~inside])) == {5}
    # Preference follows the order: the southern tile first keeps its pixels in the overlap
    # (it starts 2 km north of the northern tile's edge).
    reverse = load_mosaic([south, north], ["nir", "scl"], bbox=area)
    in_south = reverse.y.values < edge + 2000
    assert set(np.unique(reverse["scl"].values[in_south])) == {5}
    assert set(np.unique(reverse["scl"].values[~in_south])) == {4}


def test_a_mosaic_skips_tiles_outside_the_box(two_tiles: tuple[pystac.Item, pystac.Item]) -> None:
    north, south = two_tiles
    top = (ORIGIN[0] + 1000, ORIGIN[1] - 3000, ORIGIN[0] + 3000, ORIGIN[1] - 1000)
    only_north = load_mosaic([south, north], ["nir"], bbox=top)
    assert only_north.attrs["item_ids"] == [north.id]
    with pytest.raises(ClipError, match="None of the items covers the box"):
        load_mosaic([north, south], ["nir"], bbox=(600000, 3000000, 601000, 3001000))
    with pytest.raises(ValueError, match="at least one item"):
        load_mosaic([], ["nir"], bbox=top)
