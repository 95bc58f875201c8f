"""What the mirror's catalogs tell a learner, checked against the real services' answers."""

from __future__ import annotations

import contextlib
import copy
import io
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import pystac
import pytest
from shapely.geometry import Point, shape

from satlesson.mirror.synthetic import cmr, earth_search, published, sentinel2
from satlesson.mirror.synthetic.advertised import advertised_files
from satlesson.mirror.synthetic.archive import all_s2_scenes
from satlesson.mirror.synthetic.filespec import FileSpec
from satlesson.mirror.synthetic.scenes import HLS_SCENES, S2_SCENES

REAL_ID = "S2A_35SNA_20230827_0_L2A"

# Upstream's own answer for the eleven real scenes (transcribed, with its source).
REAL_PROPERTIES: dict[str, Any] = published.published_item(REAL_ID)["properties"]
REAL_IDS = published.published_ids()

ASSET_KEYS = [
    "aot", "blue", "coastal", "granule_metadata", "green", "nir", "nir08", "nir09", "red",
    "rededge1", "rededge2", "rededge3", "scl", "swir16", "swir22", "thumbnail",
    "tileinfo_metadata", "visual", "wvp", "aot-jp2", "blue-jp2", "coastal-jp2", "green-jp2",
    "nir-jp2", "nir08-jp2", "nir09-jp2", "red-jp2", "rededge1-jp2", "rededge2-jp2",
    "rededge3-jp2", "scl-jp2", "swir16-jp2", "swir22-jp2", "visual-jp2", "wvp-jp2",
]  # fmt: skip

TITLES = {
    "aot": "Aerosol optical thickness (AOT)",
    "blue": "Blue (band 2) - 10m",
    "coastal": "Coastal aerosol (band 1) - 60m",
    "green": "Green (band 3) - 10m",
    "nir": "NIR 1 (band 8) - 10m",
    "nir08": "NIR 2 (band 8A) - 20m",
    "nir09": "NIR 3 (band 9) - 60m",
    "red": "Red (band 4) - 10m",
    "rededge1": "Red edge 1 (band 5) - 20m",
    "rededge2": "Red edge 2 (band 6) - 20m",
    "rededge3": "Red edge 3 (band 7) - 20m",
    "scl": "Scene classification map (SCL)",
    "swir16": "SWIR 1 (band 11) - 20m",
    "swir22": "SWIR 2 (band 12) - 20m",
    "thumbnail": "Thumbnail image",
    "visual": "True color image",
    "wvp": "Water vapour (WVP)",
}

FILES = {
    "coastal": "B01", "blue": "B02", "green": "B03", "red": "B04", "rededge1": "B05",
    "rededge2": "B06", "rededge3": "B07", "nir": "B08", "nir08": "B8A", "nir09": "B09",
    "swir16": "B11", "swir22": "B12", "aot": "AOT", "scl": "SCL", "wvp": "WVP", "visual": "TCI",
}  # fmt: skip

RESOLUTION = {
    **dict.fromkeys(["blue", "green", "red", "nir", "visual"], 10),
    **dict.fromkeys(
        ["nir08", "rededge1", "rededge2", "rededge3", "swir16", "swir22", "aot", "scl", "wvp"], 20
    ),
    **dict.fromkeys(["coastal", "nir09"], 60),
}
COG = "image/tiff; application=geotiff; profile=cloud-optimized"

EXTENSIONS = [
    "https://stac-extensions.github.io/projection/v1.1.0/schema.json",
    "https://stac-extensions.github.io/eo/v1.1.0/schema.json",
    "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
    "https://stac-extensions.github.io/processing/v1.1.0/schema.json",
    "https://stac-extensions.github.io/mgrs/v1.0.0/schema.json",
    "https://stac-extensions.github.io/view/v1.0.0/schema.json",
    "https://stac-extensions.github.io/grid/v1.0.0/schema.json",
]

RHODES = Point(27.95, 36.20)
NEW_YORK = Point(-73.97, 40.78)


@pytest.fixture(scope="module")
def s2_items() -> list[dict[str, Any]]:
    return [i for i in earth_search.earth_search_items() if i["collection"] == "sentinel-2-l2a"]


@pytest.fixture(scope="module")
def hls_items() -> list[dict[str, Any]]:
    return cmr.cmr_items()


@pytest.fixture(scope="module")
def files() -> dict[str, FileSpec]:
    return advertised_files()


def by_id(items: list[dict[str, Any]], item_id: str) -> dict[str, Any]:
    return next(i for i in items if i["id"] == item_id)


def when(value: str) -> datetime:
    return datetime.fromisoformat(value)  # Python 3.11 reads the trailing Z


def in_range(item: dict[str, Any], start: str, end: str) -> bool:
    t = when(item["properties"]["datetime"])
    return when(start) <= t <= when(end)


# --- Earth Search collections -------------------------------------------------------------------


def test_earth_search_collection_ids_in_order() -> None:
    ids = [c["id"] for c in earth_search.earth_search_collections()]
    assert ids == [
        "cop-dem-glo-30",
        "naip",
        "sentinel-2-l2a",
        "sentinel-2-l1c",
        "cop-dem-glo-90",
        "landsat-c2-l2",
        "sentinel-1-grd",
        "sentinel-2-c1-l2a",
    ]


def test_collections_load_in_pystac() -> None:
    for data in earth_search.earth_search_collections() + cmr.cmr_collections():
        collection = pystac.Collection.from_dict(copy.deepcopy(data))
        assert collection.id == data["id"]
        assert collection.title and collection.description and collection.license
        assert collection.extent.temporal.intervals[0][0] is not None


def test_sentinel_2_l2a_collection_starts_with_the_mission() -> None:
    l2a = by_id(earth_search.earth_search_collections(), "sentinel-2-l2a")
    assert l2a["title"] == "Sentinel-2 Level 2A"
    assert l2a["extent"]["temporal"]["interval"] == [["2015-06-27T10:25:31.456000Z", None]]


# --- Earth Search items -------------------------------------------------------------------------


def test_one_item_per_scene_newest_first(s2_items: list[dict[str, Any]]) -> None:
    assert [i["id"] for i in s2_items] == [s.id for s in all_s2_scenes()]
    assert all(i["collection"] == "sentinel-2-l2a" for i in s2_items)
    assert all(i["stac_version"] == "1.0.0" for i in s2_items)
    # A real item keeps upstream's own list (one of them declares older eo and projection).
    assert all(i["stac_extensions"] == EXTENSIONS for i in s2_items if i["id"] not in REAL_IDS)


def test_the_capture_is_upstreams_answer() -> None:
    # Figures the original lesson printed from the live API (seed episode; reference ep. 06).
    assert len(REAL_IDS) == 11 and REAL_ID in REAL_IDS
    assert REAL_PROPERTIES["eo:cloud_cover"] == 0.955362
    assert REAL_PROPERTIES["s2:product_uri"] == (
        "S2A_MSIL2A_20230827T084601_N0509_R107_T35SNA_20230827T115803.SAFE")
    assert "Earth Search" in published.SOURCE


@pytest.mark.parametrize("item_id", REAL_IDS)
def test_real_items_are_served_verbatim(s2_items: list[dict[str, Any]], item_id: str) -> None:
    item = by_id(s2_items, item_id)
    real = published.published_item(item_id)
    for key in ("stac_extensions", "geometry", "bbox", "properties"):
        assert item[key] == real[key], key
    assert list(item["properties"]) == list(real["properties"])
    scene = next(s for s in S2_SCENES if s.id == item_id)
    assert scene.real and scene.cloud_cover == real["properties"]["eo:cloud_cover"]


def test_the_archive_has_its_real_size() -> None:
    # The original lesson printed 611 scenes over its point on 9 April 2024 (commit 306610a)
    # and 513 on 28 February 2024, before reprocessed duplicates appeared.
    scenes = [s for s in all_s2_scenes() if s.tile == "35SNA"]  # the tile of the seed's point
    assert sum(1 for s in scenes if s.day <= datetime(2024, 4, 9).date()) == 611
    firsts = {s.day for s in scenes if "_0_L2A" in s.id}
    assert abs(sum(1 for d in firsts if d <= datetime(2024, 2, 28).date()) - 513) <= 2
    assert {s.platform for s in scenes} == {"sentinel-2a", "sentinel-2b", "sentinel-2c"}
    assert len({s.id for s in scenes}) == len(scenes)


def test_old_baselines_have_no_offset(s2_items: list[dict[str, Any]]) -> None:
    old = by_id(s2_items, "S2B_35SNA_20180609_0_L2A")
    assert old["properties"]["s2:processing_baseline"] < "04.00"
    assert old["properties"]["earthsearch:boa_offset_applied"] is False
    assert old["assets"]["red"]["raster:bands"][0]["offset"] == 0


def test_only_the_real_scenes_are_marked_real() -> None:
    assert {s.id for s in S2_SCENES if s.real} == set(REAL_IDS)


def test_every_item_has_the_same_property_keys(s2_items: list[dict[str, Any]]) -> None:
    for item in s2_items:
        assert list(item["properties"]) == list(REAL_PROPERTIES), item["id"]


def test_derived_properties_follow_the_scene(s2_items: list[dict[str, Any]]) -> None:
    scenes = {s.id: s for s in S2_SCENES}  # the lesson's summer scenes
    for item in s2_items:
        if item["id"] not in scenes:
            continue
        scene = scenes[item["id"]]
        p = item["properties"]
        sat = scene.id[:3]  # S2A / S2B
        day = scene.day
        assert p["platform"] == scene.platform
        assert p["datetime"] == scene.datetime
        assert p["eo:cloud_cover"] == scene.cloud_cover
        clouds = (
            p["s2:medium_proba_clouds_percentage"]
            + p["s2:high_proba_clouds_percentage"]
            + p["s2:thin_cirrus_percentage"]
        )
        assert clouds == pytest.approx(scene.cloud_cover, abs=2e-6)
        classes = [
            "s2:saturated_defective_pixel_percentage", "s2:dark_features_percentage",
            "s2:cloud_shadow_percentage", "s2:vegetation_percentage",
            "s2:not_vegetated_percentage", "s2:water_percentage", "s2:unclassified_percentage",
            "s2:snow_ice_percentage",
        ]  # fmt: skip
        assert sum(p[k] for k in classes) + clouds == pytest.approx(100, abs=1e-5)
        assert all(p[k] >= 0 for k in classes)
        assert p["s2:datatake_id"].startswith(f"G{sat}_{day:%Y%m%d}T")
        assert p["s2:granule_id"].startswith(f"{sat}_OPER_MSI_L2A_TL_2{sat[2]}PS_{day:%Y%m%d}")
        assert p["s2:datastrip_id"].startswith(f"{sat}_OPER_MSI_L2A_DS_2{sat[2]}PS_")
        assert p["s2:product_uri"].startswith(f"{sat}_MSIL2A_{day:%Y%m%d}T")
        assert "_R107_T35SNA_" in p["s2:product_uri"]
        orbit = p["s2:datatake_id"].split("_")[2]
        assert p["s2:granule_id"].split("_")[7] == f"A{orbit}"
        assert p["earthsearch:s3_path"] == (
            f"s3://sentinel-cogs/sentinel-s2-l2a-cogs/35/S/NA/{day.year}/{day.month}/{scene.id}"
        )
        assert 120 < p["view:sun_azimuth"] < 160
        assert 50 < p["view:sun_elevation"] < 75
        assert 0.96 < p["s2:reflectance_conversion_factor"] < 0.99
        assert when(p["created"]) > when(p["s2:generation_time"]) > when(p["datetime"])
        assert re.fullmatch(r"roda-sentinel2/workflow-sentinel2-to-stac/[0-9a-f]{32}",
                            p["earthsearch:payload_id"])  # fmt: skip


def test_absolute_orbits_advance_143_per_cycle(s2_items: list[dict[str, Any]]) -> None:
    for sat in ("S2A", "S2B"):
        mine = [i for i in s2_items if i["id"].startswith(f"{sat}_35SNA") and "_0_L2A" in i["id"]]
        orbits = [int(i["properties"]["s2:datatake_id"].split("_")[2]) for i in mine]
        assert all(a - b == 143 for a, b in zip(orbits, orbits[1:], strict=False))
    # The real S2B pass five days before the published S2A item.
    s2b = by_id(s2_items, "S2B_35SNA_20230822_0_L2A")["properties"]
    assert s2b["s2:datatake_id"] == "GS2B_20230822T084559_033738_N05.09"


@pytest.mark.parametrize("item_id", REAL_IDS)
def test_derivation_reproduces_the_real_items(item_id: str) -> None:
    """What the mirror invents for other scenes is calibrated on all eleven real ones."""
    scene = next(s for s in S2_SCENES if s.id == item_id)
    real = published.published_item(item_id)["properties"]
    derived = sentinel2._derived_s2_properties(scene)
    for key in ("earthsearch:s3_path", "grid:code", "datetime", "platform"):
        assert derived[key] == real[key]
    assert derived["s2:datatake_id"].split("_")[2] == real["s2:datatake_id"].split("_")[2]
    for key in ("view:sun_azimuth", "view:sun_elevation"):
        assert derived[key] == pytest.approx(real[key], abs=0.01)
    assert derived["s2:reflectance_conversion_factor"] == pytest.approx(
        real["s2:reflectance_conversion_factor"], abs=1e-4
    )


def test_geometry_and_bbox(s2_items: list[dict[str, Any]]) -> None:
    item = by_id(s2_items, REAL_ID)
    ring = item["geometry"]["coordinates"][0]
    assert ring[0] == [27.290401625602243, 37.04621863329741]
    assert ring[0] == ring[-1] and len(ring) == 6
    # As Earth Search reports it.
    assert item["bbox"] == [
        27.011145718480538,
        36.05053734221328,
        28.234426643135546,
        37.04621863329741,
    ]


def test_lesson_search_july_august(s2_items: list[dict[str, Any]]) -> None:
    hits = [
        i
        for i in s2_items
        if shape(i["geometry"]).contains(RHODES)
        and in_range(i, "2023-07-01T00:00:00Z", "2023-08-31T23:59:59Z")
    ]
    assert len(hits) == 12
    assert hits[0]["id"] == REAL_ID
    assert hits[-1]["id"] == "S2B_35SNA_20230703_0_L2A"
    cloudy = [i["id"] for i in hits if i["properties"]["eo:cloud_cover"] >= 1]
    assert cloudy == ["S2B_35SNA_20230703_0_L2A"]


def test_asset_keys_titles_types_roles(s2_items: list[dict[str, Any]]) -> None:
    for item in s2_items:
        assets = item["assets"]
        assert list(assets) == ASSET_KEYS
        for key, asset in assets.items():
            base = key.removesuffix("-jp2")
            if base in ("granule_metadata", "tileinfo_metadata"):
                assert "title" not in asset
            else:
                assert asset["title"] == TITLES[base], key
            if key.endswith("-jp2"):
                assert asset["type"] == "image/jp2"
            elif key == "thumbnail":
                assert asset["type"] == "image/jpeg"
            elif key == "granule_metadata":
                assert asset["type"] == "application/xml"
            elif key == "tileinfo_metadata":
                assert asset["type"] == "application/json"
            else:
                assert asset["type"] == COG
            if base == "visual":
                assert asset["roles"] == ["visual"]
            elif base == "thumbnail":
                assert asset["roles"] == ["thumbnail"]
            elif base.endswith("_metadata"):
                assert asset["roles"] == ["metadata"]
            else:
                assert asset["roles"] == ["data", "reflectance"]


def test_asset_hrefs(s2_items: list[dict[str, Any]]) -> None:
    item = by_id(s2_items, "S2A_35SNA_20230708_0_L2A")
    prefix = (
        "https://sentinel-cogs.s3.us-west-2.amazonaws.com/sentinel-s2-l2a-cogs/35/S/NA/2023/7/"
        "S2A_35SNA_20230708_0_L2A/"
    )
    assets = item["assets"]
    assert assets["thumbnail"]["href"] == prefix + "thumbnail.jpg"
    assert assets["granule_metadata"]["href"] == prefix + "granule_metadata.xml"
    assert assets["tileinfo_metadata"]["href"] == prefix + "tileinfo_metadata.json"
    for key, stem in FILES.items():
        assert assets[key]["href"] == prefix + f"{stem}.tif"
        assert assets[f"{key}-jp2"]["href"] == prefix + f"{stem}.jp2"
    real = by_id(s2_items, REAL_ID)["assets"]
    assert real["red"]["href"] == (
        "https://sentinel-cogs.s3.us-west-2.amazonaws.com/sentinel-s2-l2a-cogs/35/S/NA/2023/8/"
        "S2A_35SNA_20230827_0_L2A/B04.tif"
    )


def test_raster_metadata(s2_items: list[dict[str, Any]]) -> None:
    assets = by_id(s2_items, REAL_ID)["assets"]
    for key, res in RESOLUTION.items():
        for asset in (assets[key], assets[f"{key}-jp2"]):
            size = 109800 // res
            assert asset["proj:shape"] == [size, size]
            assert asset["proj:transform"] == [res, 0, 499980, 0, -res, 4100040]
    red = assets["red"]
    assert red["gsd"] == 10
    assert red["raster:bands"] == [
        {
            "nodata": 0,
            "data_type": "uint16",
            "bits_per_sample": 15,
            "spatial_resolution": 10,
            "scale": 0.0001,
            "offset": -0.1,
        }
    ]
    assert red["eo:bands"] == [
        {
            "name": "red",
            "common_name": "red",
            "description": "Red (band 4)",
            "center_wavelength": 0.665,
            "full_width_half_max": 0.038,
        }
    ]
    assert assets["nir08"]["eo:bands"][0]["center_wavelength"] == 0.865
    assert assets["aot"]["raster:bands"][0]["scale"] == 0.001
    assert assets["wvp"]["raster:bands"][0] == {
        "nodata": 0,
        "data_type": "uint16",
        "bits_per_sample": 15,
        "spatial_resolution": 20,
        "unit": "cm",
        "scale": 0.001,
        "offset": 0,
    }
    assert assets["scl"]["raster:bands"] == [
        {"nodata": 0, "data_type": "uint8", "spatial_resolution": 20}
    ]
    visual = assets["visual"]
    assert [b["name"] for b in visual["eo:bands"]] == ["red", "green", "blue"]
    assert "raster:bands" not in visual and "gsd" not in visual


def test_item_links(s2_items: list[dict[str, Any]]) -> None:
    links = {link["rel"]: link["href"] for link in by_id(s2_items, REAL_ID)["links"]}
    base = "https://earth-search.aws.element84.com/v1"
    assert links["self"] == f"{base}/collections/sentinel-2-l2a/items/{REAL_ID}"
    assert links["collection"] == links["parent"] == f"{base}/collections/sentinel-2-l2a"
    assert links["root"] == base
    assert links["thumbnail"] == f"{base}/collections/sentinel-2-l2a/items/{REAL_ID}/thumbnail"


# --- CMR-STAC (LPCLOUD) -------------------------------------------------------------------------


def test_cmr_collections() -> None:
    collections = {c["id"]: c for c in cmr.cmr_collections()}
    assert {"HLSL30.v2.0", "HLSS30.v2.0"} <= set(collections)
    assert collections["HLSL30.v2.0"]["title"] == (
        "HLS Landsat Operational Land Imager Surface Reflectance and TOA Brightness Daily "
        "Global 30m v2.0"
    )


def test_hls_items(hls_items: list[dict[str, Any]]) -> None:
    assert [i["id"] for i in hls_items] == [s.id for s in HLS_SCENES]
    for item, scene in zip(hls_items, HLS_SCENES, strict=True):
        assert item["collection"] == "HLSL30.v2.0"
        assert shape(item["geometry"]).contains(NEW_YORK)
        p = item["properties"]
        assert p["datetime"] == p["start_datetime"] == scene.datetime
        assert when(p["end_datetime"]) > when(p["start_datetime"])
        assert p["eo:cloud_cover"] == scene.cloud_cover
        assert isinstance(p["eo:cloud_cover"], int)
        assert list(item["assets"]) == [
            "B01", "B02", "B03", "B04", "B05", "B06", "B07", "B09", "B10", "B11",
            "Fmask", "SAA", "SZA", "VAA", "VZA", "browse", "metadata",
        ]  # fmt: skip


def test_lesson_hls_search(hls_items: list[dict[str, Any]]) -> None:
    hits = [
        i
        for i in hls_items
        if shape(i["geometry"]).intersects(NEW_YORK)
        and in_range(i, "2021-02-01T00:00:00Z", "2021-03-30T23:59:59Z")
    ]
    assert len(hits) == 5
    best = sorted(hits, key=lambda i: i["properties"]["eo:cloud_cover"])[0]
    assert best["id"] == "HLS.L30.T18TWL.2021039T153324.v2.0"
    # The full granule id, not the truncated name an older lesson printed.
    assert best["assets"]["browse"]["href"] == (
        "https://data.lpdaac.earthdatacloud.nasa.gov/lp-prod-public/HLSL30.020/"
        "HLS.L30.T18TWL.2021039T153324.v2.0/HLS.L30.T18TWL.2021039T153324.v2.0.jpg"
    )
    assert best["assets"]["B04"]["href"] == (
        "https://data.lpdaac.earthdatacloud.nasa.gov/lp-prod-protected/HLSL30.020/"
        "HLS.L30.T18TWL.2021039T153324.v2.0/HLS.L30.T18TWL.2021039T153324.v2.0.B04.tif"
    )
    assert re.fullmatch(
        r"https://cmr\.earthdata\.nasa\.gov/search/concepts/G\d{10}-LPCLOUD\.xml",
        best["assets"]["metadata"]["href"],
    )


def test_hls_tile_polygon_matches_the_utm_square(hls_items: list[dict[str, Any]]) -> None:
    from pyproj import Transformer

    to_utm = Transformer.from_crs(4326, 32618, always_xy=True)
    ring = hls_items[0]["geometry"]["coordinates"][0]
    xs, ys = zip(*(to_utm.transform(lon, lat) for lon, lat in ring), strict=True)
    assert min(xs) == pytest.approx(499980, abs=0.1) and max(xs) == pytest.approx(609780, abs=0.1)
    assert min(ys) == pytest.approx(4490220, abs=0.1)
    assert max(ys) == pytest.approx(4600020, abs=0.1)


# --- Whole-catalog properties -------------------------------------------------------------------


def test_every_item_loads_in_pystac(
    s2_items: list[dict[str, Any]], hls_items: list[dict[str, Any]]
) -> None:
    for data in s2_items + hls_items:
        item = pystac.Item.from_dict(copy.deepcopy(data))
        assert item.id == data["id"]
        assert item.datetime is not None and item.datetime.tzinfo is not None
        assert item.datetime.astimezone(UTC) == when(data["properties"]["datetime"])


def test_core_schema_validation_offline(
    s2_items: list[dict[str, Any]], hls_items: list[dict[str, Any]]
) -> None:
    """Validate against pystac's bundled core schemas (extension schemas need the network)."""
    from jsonschema import Draft7Validator
    from pystac.validation.local_validator import get_local_schema_cache
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    schemas = get_local_schema_cache()
    registry = Registry().with_resources(
        (uri, Resource.from_contents(s, default_specification=DRAFT7)) for uri, s in schemas.items()
    )
    spec = "https://schemas.stacspec.org/v1.1.0"
    item_schema = schemas[f"{spec}/item-spec/json-schema/item.json"]
    collection_schema = schemas[f"{spec}/collection-spec/json-schema/collection.json"]

    validators = {id(s): Draft7Validator(s, registry=registry)
                  for s in (item_schema, collection_schema)}  # fmt: skip

    def errors(schema: dict[str, Any], data: dict[str, Any]) -> list[str]:
        # The bundled schemas are for 1.1.0, a superset of what our 1.0.0 documents use.
        doc = {**copy.deepcopy(data), "stac_version": "1.1.0"}
        return [e.message for e in validators[id(schema)].iter_errors(doc)]

    # The archive's items come from the same code as the lesson's: every 20th of them will do.
    lesson = {s.id for s in S2_SCENES}
    sample = [d for n, d in enumerate(s2_items) if d["id"] in lesson or n % 20 == 0]
    c1 = [i for i in earth_search.earth_search_items() if i["collection"] == "sentinel-2-c1-l2a"]
    for data in sample + c1 + hls_items + earth_search.dem_items():
        assert errors(item_schema, data) == [], data["id"]
    collections = earth_search.earth_search_collections() + cmr.cmr_collections()
    for data in collections:
        assert errors(collection_schema, data) == [], data["id"]
    broken = copy.deepcopy(s2_items[0])
    del broken["geometry"]
    assert errors(item_schema, broken)


_DUMP = """
import hashlib, json
from satlesson.mirror.synthetic import cmr, earth_search
from satlesson.mirror.synthetic.advertised import advertised_files
text = json.dumps([earth_search.earth_search_collections(), earth_search.earth_search_items(),
                   cmr.cmr_collections(), cmr.cmr_items(), sorted(advertised_files())])
print(hashlib.sha256(text.encode()).hexdigest())
"""


def test_output_is_deterministic_json() -> None:
    """The same catalog in every process: hash seeds (salted per process) and call order
    must not leak into it, or two machines of one room would serve different answers."""
    namespace: dict[str, Any] = {}
    with contextlib.redirect_stdout(io.StringIO()) as here:
        exec(_DUMP, namespace)
    for hash_seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        there = subprocess.run([sys.executable, "-c", _DUMP], env=env, capture_output=True,
                               text=True, check=True).stdout  # fmt: skip
        assert there == here.getvalue(), hash_seed


def test_calls_return_independent_copies() -> None:
    first = earth_search.earth_search_items()
    first[0]["properties"]["eo:cloud_cover"] = 99
    by_id(first, REAL_ID)["properties"]["instruments"].append("x")
    assert earth_search.earth_search_items()[0]["properties"]["eo:cloud_cover"] != 99
    assert by_id(earth_search.earth_search_items(), REAL_ID)["properties"] == REAL_PROPERTIES


# --- Advertised files ---------------------------------------------------------------------------


def test_advertised_files_cover_every_asset(
    s2_items: list[dict[str, Any]],
    hls_items: list[dict[str, Any]],
    files: dict[str, FileSpec],
) -> None:
    c1_items = [i for i in earth_search.earth_search_items() if i["collection"] != "sentinel-2-l2a"]
    items = s2_items + c1_items + hls_items + earth_search.dem_items()
    hrefs = [a["href"] for i in items for a in i["assets"].values()]
    assert len(hrefs) == len(set(hrefs))
    truth_url = "https://satlesson.invalid/truth/rhodes-2023-burn-scar.json"
    assert sorted(files) == sorted([*hrefs, truth_url])
    c1 = 23 * len(S2_SCENES)  # Collection 1 holds the lesson's scenes
    assert len(files) == 35 * len(all_s2_scenes()) + c1 + 17 * len(HLS_SCENES) + 3 + 1
    for entry in files.values():
        assert isinstance(entry, FileSpec)
        # Only HLS bands carry a dtype: the generator needs it for the angle bands.
        assert (entry.dtype is not None) is (entry.kind == "hls-band"), entry
        # Only Collection 1's files store the +1000 (dn_offset).
        assert entry.dn_offset == (1000 if "_T35SNA_" in entry.item_id else 0), entry
        raster = entry.shape is not None
        assert (entry.transform is not None) is raster and (entry.epsg is not None) is raster


def test_advertised_file_entries(
    s2_items: list[dict[str, Any]], files: dict[str, FileSpec]
) -> None:
    assets = by_id(s2_items, REAL_ID)["assets"]
    kinds = {key: files[a["href"]].kind for key, a in assets.items()}
    assert kinds["red"] == kinds["aot"] == kinds["wvp"] == "s2-band"
    assert kinds["visual"] == "s2-tci"
    assert kinds["scl"] == "s2-scl"
    assert kinds["thumbnail"] == "s2-thumbnail"
    assert kinds["granule_metadata"] == "s2-granule-xml"
    assert kinds["tileinfo_metadata"] == "s2-tileinfo-json"
    assert {kinds[k] for k in ASSET_KEYS if k.endswith("-jp2")} == {"s2-jp2"}

    red = files[assets["red"]["href"]]
    assert red.scene.id == REAL_ID and red.item_id == REAL_ID
    assert red.shape == (10980, 10980)
    assert red.transform == (10, 0, 499980, 0, -10, 4100040)
    assert red.epsg == 32635 and red.protected is False
    assert files[assets["visual"]["href"]].shape == (10980, 10980)
    assert files[assets["scl"]["href"]].shape == (5490, 5490)
    assert files[assets["thumbnail"]["href"]].shape is None

    hls = [f for f in files.values() if f.kind.startswith("hls")]
    assert {f.kind for f in hls} == {"hls-band", "hls-browse", "hls-metadata"}
    for f in hls:
        assert f.protected is (f.kind == "hls-band")
        if f.kind == "hls-band":
            assert f.shape == (3660, 3660)
            assert f.transform == (30, 0, 499980, 0, -30, 4600020)
            assert f.epsg == 32618
            expected = {"Fmask": "uint8", "SZA": "uint16", "VZA": "uint16"}
            assert f.dtype == expected.get(f.asset_key, "int16"), f.asset_key
