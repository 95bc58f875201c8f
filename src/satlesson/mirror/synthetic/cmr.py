"""NASA's CMR-STAC (provider LPCLOUD) as the mirror serves it: the HLS collections and the
``HLSL30.v2.0`` items of tile T18TWL, shaped as CMR-STAC answered when the lesson was written.

Every value not in ``scenes.py`` is derived from the scene or drawn from a ``random.Random``
seeded with its id, so the JSON is the same on every machine.
"""

from __future__ import annotations

import random
from datetime import timedelta
from functools import cache

from pyproj import Transformer

from satlesson.mirror.client.urls import CMR, CMR_LPCLOUD_API, LPDAAC
from satlesson.mirror.synthetic.filespec import FileSpec
from satlesson.mirror.synthetic.scenes import (
    HLS_EPSG,
    HLS_EXTENT_M,
    HLS_ORIGIN,
    HLS_SCENES,
    HLSScene,
)
from satlesson.mirror.synthetic.stac import GLOBAL_BBOX, Json, bbox, provider

__all__ = ["HLS_COLLECTION", "HLS_ASSET_KEYS", "cmr_collections", "cmr_items", "cmr_files"]

HLS_COLLECTION = "HLSL30.v2.0"

# CMR-STAC names each data asset after the file's suffix.
_HLS_BANDS: tuple[str, ...] = (
    "B01", "B02", "B03", "B04", "B05", "B06", "B07", "B09", "B10", "B11",
    "Fmask", "SAA", "SZA", "VAA", "VZA",
)  # fmt: skip
HLS_ASSET_KEYS: tuple[str, ...] = _HLS_BANDS + ("browse", "metadata")

# Hints for the file generator (HLS v2 user guide): reflectance int16, thermal int16 x0.01,
# Fmask a uint8 bit field, sun/view angles in hundredths of a degree.
_HLS_DTYPES: dict[str, str] = {
    **dict.fromkeys(_HLS_BANDS[:10], "int16"),
    "Fmask": "uint8",
    "SAA": "int16",
    "SZA": "uint16",
    "VAA": "int16",
    "VZA": "uint16",
}
_HLS_RESOLUTION = 30
_HLS_PRODUCT = "HLSL30.020"


def _hls_grid() -> tuple[list[int], list[int]]:
    size = int(HLS_EXTENT_M // _HLS_RESOLUTION)
    x0, y0 = HLS_ORIGIN
    return [size, size], [_HLS_RESOLUTION, 0, int(x0), 0, -_HLS_RESOLUTION, int(y0)]


@cache
def _hls_ring() -> tuple[tuple[float, float], ...]:
    """Tile T18TWL's corners in lon/lat, counter-clockwise and closed, as CMR stores them."""
    to_lonlat = Transformer.from_crs(HLS_EPSG, 4326, always_xy=True)
    x0, y0 = HLS_ORIGIN
    x1, y1 = x0 + HLS_EXTENT_M, y0 - HLS_EXTENT_M
    corners = [(x0, y0), (x0, y1), (x1, y1), (x1, y0), (x0, y0)]
    return tuple(
        (round(float(lon), 7), round(float(lat), 7))
        for lon, lat in (to_lonlat.transform(x, y) for x, y in corners)
    )


def _hls_concept_id(scene: HLSScene) -> str:
    rng = random.Random(f"satlesson/hls/{scene.id}/concept")
    return f"G{rng.randint(2_000_000_000, 2_099_999_999)}-LPCLOUD"


def _hls_href(scene: HLSScene, suffix: str, *, public: bool = False) -> str:
    bucket = "lp-prod-public" if public else "lp-prod-protected"
    return f"https://{LPDAAC}/{bucket}/{_HLS_PRODUCT}/{scene.id}/{scene.id}.{suffix}"


def _hls_metadata_href(scene: HLSScene) -> str:
    return f"https://{CMR}/search/concepts/{_hls_concept_id(scene)}.xml"


def _hls_assets(scene: HLSScene) -> Json:
    assets: Json = {}
    for key in _HLS_BANDS:
        href = _hls_href(scene, f"{key}.tif")
        assets[key] = {"href": href, "title": f"Download {scene.id}.{key}.tif", "roles": ["data"]}
    # The browse image lives in the public bucket and is named after the full granule id.
    assets["browse"] = {
        "href": _hls_href(scene, "jpg", public=True),
        "type": "image/jpeg",
        "title": f"Download {scene.id}.jpg",
        "roles": ["browse"],
    }
    assets["metadata"] = {
        "href": _hls_metadata_href(scene),
        "type": "application/xml",
        "roles": ["metadata"],
    }
    return assets


def _hls_item(scene: HLSScene) -> Json:
    rng = random.Random(f"satlesson/hls/{scene.id}")
    start = scene.when
    # The granule spans the seconds Landsat took to image the tile.
    end = start + timedelta(milliseconds=rng.randint(22_000, 26_000))
    ring = [[lon, lat] for lon, lat in _hls_ring()]
    root = f"https://{CMR}/stac/"
    collection_url = f"{CMR_LPCLOUD_API}/collections/{HLS_COLLECTION}"
    return {
        "type": "Feature",
        "id": scene.id,
        "stac_version": "1.0.0",
        "stac_extensions": ["https://stac-extensions.github.io/eo/v1.0.0/schema.json"],
        "collection": HLS_COLLECTION,
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "bbox": bbox(ring),
        "properties": {
            "datetime": scene.datetime,
            "start_datetime": scene.datetime,
            "end_datetime": end.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "eo:cloud_cover": scene.cloud_cover,
        },
        "links": [
            {
                "rel": "self",
                "href": f"{collection_url}/items/{scene.id}",
                "type": "application/geo+json",
            },
            {"rel": "parent", "href": collection_url, "type": "application/json"},
            {"rel": "collection", "href": collection_url, "type": "application/json"},
            {"rel": "root", "href": root, "type": "application/json"},
            {"rel": "provider", "href": CMR_LPCLOUD_API, "type": "application/json"},
        ],
        "assets": _hls_assets(scene),
    }


def cmr_items() -> list[Json]:
    """One ``HLSL30.v2.0`` item per entry of ``HLS_SCENES``."""
    return [_hls_item(scene) for scene in HLS_SCENES]


def _cmr_collection(
    cid: str, title: str, description: str, start: str, platforms: list[str]
) -> Json:
    url = f"{CMR_LPCLOUD_API}/collections/{cid}"
    short_name = cid.split(".v")[0]
    return {
        "type": "Collection",
        "stac_version": "1.0.0",
        "stac_extensions": [],
        "id": cid,
        "title": title,
        "description": description,
        "license": "proprietary",
        "keywords": [
            "EARTH SCIENCE",
            "LAND SURFACE",
            "SURFACE RADIATIVE PROPERTIES",
            "REFLECTANCE",
        ],
        "providers": [
            provider("LPCLOUD", ["producer", "processor", "host"], "https://lpdaac.usgs.gov/"),
        ],
        "extent": {
            "spatial": {"bbox": [GLOBAL_BBOX]},
            "temporal": {"interval": [[start, None]]},
        },
        "summaries": {"platform": platforms},
        "links": [
            {"rel": "self", "href": url, "type": "application/json"},
            {"rel": "root", "href": f"https://{CMR}/stac/", "type": "application/json"},
            {"rel": "parent", "href": CMR_LPCLOUD_API, "type": "application/json"},
            {"rel": "items", "href": f"{url}/items", "type": "application/geo+json"},
            {
                "rel": "about",
                "href": f"https://{CMR}/search/concepts?short_name={short_name}&version=2.0",
                "type": "application/json",
            },
            {
                "rel": "license",
                "href": "https://lpdaac.usgs.gov/data/data-citation-and-policies/",
                "type": "text/html",
            },
        ],
    }


_HLS_DESCRIPTION = (
    "The Harmonized Landsat Sentinel-2 (HLS) project provides consistent surface reflectance "
    "data from the Operational Land Imager (OLI) aboard Landsat 8 and 9 and the Multi-Spectral "
    "Instrument (MSI) aboard Sentinel-2A and 2B. Together they observe the land every two to "
    "three days at 30 m. {which} products are gridded to the Sentinel-2 MGRS tiles and "
    "distributed as Cloud Optimized GeoTIFFs, one file per band."
)


def cmr_collections() -> list[Json]:
    """The HLS collections of the LPCLOUD catalog: the one the lesson searches, and its twin."""
    return [
        _cmr_collection(
            HLS_COLLECTION,
            "HLS Landsat Operational Land Imager Surface Reflectance and TOA Brightness "
            "Daily Global 30m v2.0",
            _HLS_DESCRIPTION.format(which="HLSL30 (Landsat)"),
            "2013-04-11T00:00:00.000Z",
            ["LANDSAT-8", "LANDSAT-9"],
        ),
        _cmr_collection(
            "HLSS30.v2.0",
            "HLS Sentinel-2 Multi-spectral Instrument Surface Reflectance Daily Global 30m v2.0",
            _HLS_DESCRIPTION.format(which="HLSS30 (Sentinel-2)"),
            "2015-11-28T00:00:00.000Z",
            ["Sentinel-2A", "Sentinel-2B"],
        ),
    ]



# ---------------------------------------------------------------------------------------------
# Files behind the assets (see advertised.py)
# ---------------------------------------------------------------------------------------------


def _hls_file_spec(scene: HLSScene, key: str) -> FileSpec:
    if key in _HLS_BANDS:
        shape, transform = _hls_grid()
        return FileSpec("hls-band", scene.id, key, scene, shape=(shape[0], shape[1]),
                        transform=tuple(transform), epsg=HLS_EPSG, protected=True,
                        dtype=_HLS_DTYPES[key])  # fmt: skip
    # The browse JPEG is in the public bucket and CMR metadata needs no login.
    return FileSpec("hls-browse" if key == "browse" else "hls-metadata", scene.id, key, scene,
                    shape=None, transform=None, epsg=None, protected=False)  # fmt: skip


def cmr_files() -> dict[str, FileSpec]:
    """Every HLS href, with what the generator needs."""
    files: dict[str, FileSpec] = {}
    hls_by_id = {scene.id: scene for scene in HLS_SCENES}
    for item in cmr_items():
        hls = hls_by_id[item["id"]]
        for key, asset in item["assets"].items():
            files[asset["href"]] = _hls_file_spec(hls, key)
    return files
