"""Earth Search's ``sentinel-2-c1-l2a``: the lesson's scenes as Collection 1 serves them.

Collection 1 reprocessed the same granules into its own bucket with its own item shape
(``sentinel-2-c1-l2a-to-stac`` v2024.02.01, as served in 2024): IDs named after the
datastrip's sensing start (``S2A_T35SNA_20230827T085947_L2A``), 23 assets with the files'
own names (``B04.tif``, ``SCL.tif``, ``CLD_20m.tif``...), no ``-jp2`` twins, and pixels that
keep ESA's +1000 (``DN = 10000 x reflectance + 1000``), so the ``offset: -0.1`` of their
``raster:bands`` is right and no ``earthsearch:boa_offset_applied`` is written. Shapes follow
real items of 2024 (a copy of Earth Search v1 published as EO-DataHub/element84-data, and
Element84/earth-search issues #23, #41, #68). Values per scene are the ``sentinel-2-l2a``
ones of the same granule (real for the eleven real scenes); INVENTED: the view angles, and
the datastrip start of the scenes that are not real.
"""

from __future__ import annotations

import random

from satlesson.mirror.client.urls import E84_SENTINEL_DATA, EARTH_SEARCH_API
from satlesson.mirror.synthetic.filespec import FileSpec, Kind
from satlesson.mirror.synthetic.scenes import S2_EPSG, S2_SCENES, S2Scene, s2_footprint
from satlesson.mirror.synthetic.sentinel2 import (
    footprint_centre,
    mgrs,
    s2_band,
    s2_grid,
    s2_properties,
)
from satlesson.mirror.synthetic.stac import COG, Json, bbox

__all__ = ["C1_COLLECTION", "C1_ASSET_KEYS", "c1_id", "c1_items", "c1_collection",
           "c1_files"]

C1_COLLECTION = "sentinel-2-c1-l2a"
C1_DN_OFFSET = 1000  # ESA's BOA_ADD_OFFSET, kept in Collection 1's files

# (key, file, title, gsd) in the order the items list them.
_ASSETS: tuple[tuple[str, str, str, int | None], ...] = (
    ("red", "B04", "Red - 10m", 10), ("green", "B03", "Green - 10m", 10),
    ("blue", "B02", "Blue - 10m", 10), ("visual", "TCI", "True color image", 10),
    ("nir", "B08", "NIR 1 - 10m", 10), ("swir22", "B12", "SWIR 2.2\u03bcm - 20m", 20),
    ("rededge2", "B06", "Red Edge 2 - 20m", 20), ("rededge3", "B07", "Red Edge 3 - 20m", 20),
    ("rededge1", "B05", "Red Edge 1 - 20m", 20), ("swir16", "B11", "SWIR 1.6\u03bcm - 20m", 20),
    ("wvp", "WVP", "Water Vapour (WVP)", 20), ("nir08", "B8A", "NIR 2 - 20m", 20),
    ("scl", "SCL", "Scene classification map (SCL)", 20),
    ("aot", "AOT", "Aerosol optical thickness (AOT)", 20),
    ("coastal", "B01", "Coastal - 60m", 60), ("nir09", "B09", "NIR 3 - 60m", 60),
    ("cloud", "CLD_20m", "Cloud Probabilities", 20), ("snow", "SNW_20m", "Snow Probabilities", 20),
)  # fmt: skip
_REFLECTANCE = ("red", "green", "blue", "nir", "swir22", "rededge2", "rededge3", "rededge1",
                "swir16", "nir08", "coastal", "nir09")  # fmt: skip
C1_ASSET_KEYS: tuple[str, ...] = tuple(a[0] for a in _ASSETS) + (
    "preview", "granule_metadata", "tileinfo_metadata", "product_metadata", "thumbnail")

_EXTENSIONS = tuple(f"https://stac-extensions.github.io/{name}/v{version}/schema.json"
                    for name, version in (
                        ("eo", "1.1.0"), ("file", "2.1.0"), ("grid", "1.1.0"), ("mgrs", "1.0.0"),
                        ("processing", "1.1.0"), ("projection", "1.1.0"), ("raster", "1.1.0"),
                        ("sentinel-2", "1.0.0"), ("storage", "1.0.0"), ("view", "1.0.0")))


def c1_id(scene: S2Scene) -> str:
    """``S2A_T35SNA_20230827T085947_L2A``: the time is the datastrip's sensing start."""
    datastrip = s2_properties(scene)["s2:datastrip_id"]
    start = datastrip.split("_S")[-1].split("_")[0]  # ..._S20230827T085947_N05.09
    return f"{scene.id[:3]}_T{scene.id.split('_')[1]}_{start}_L2A"


def _dir(scene: S2Scene) -> str:
    zone, band, square = mgrs(scene)
    return f"{zone}/{band}/{square}/{scene.day.year}/{scene.day.month}/{c1_id(scene)}"


def _href(scene: S2Scene, file: str) -> str:
    return f"https://{E84_SENTINEL_DATA}/{C1_COLLECTION}/{_dir(scene)}/{file}"


def _properties(scene: S2Scene) -> Json:
    """The granule's properties as Collection 1 writes them, from its sentinel-2-l2a ones."""
    p = s2_properties(scene)
    rng = random.Random(f"satlesson/c1/{scene.id}")
    lon, lat = footprint_centre(scene)
    dropped = {"earthsearch:s3_path", "earthsearch:boa_offset_applied", "s2:sequence",
               "s2:granule_id", "processing:software", "earthsearch:payload_id", "updated",
               "created", "datetime", "s2:reflectance_conversion_factor"}
    out: Json = {"created": p["created"]}
    for key, value in p.items():
        if key in dropped:
            continue
        out[key] = value
        if key == "proj:epsg":
            out["proj:centroid"] = {"lat": round(lat, 5), "lon": round(lon, 5)}
        if key == "grid:code":  # INVENTED: the granule's mean viewing angles
            out["view:azimuth"] = round(rng.uniform(100, 110), 10)
            out["view:incidence_angle"] = round(rng.uniform(4, 8), 10)
        if key == "view:sun_elevation":
            out["s2:tile_id"] = p["s2:granule_id"]
    out |= {
        "s2:reflectance_conversion_factor": p["s2:reflectance_conversion_factor"],
        "datetime": p["datetime"],
        "earthsearch:payload_id": ("roda-sentinel-2-c1-l2a/workflow-sentinel-2-c1-l2a-to-stac/"
                                   f"{rng.getrandbits(128):032x}"),
        "storage:platform": "AWS", "storage:region": "us-west-2", "storage:requester_pays": False,
        "processing:software": {"sentinel-2-c1-l2a-to-stac": "v2024.02.01"},
        "updated": p["created"],
    }  # fmt: skip
    return out


def _raster_asset(scene: S2Scene, key: str, file: str, title: str, gsd: int | None) -> Json:
    assert gsd is not None
    shape, transform = s2_grid(scene, gsd)
    asset: Json = {"title": title, "proj:shape": shape, "proj:transform": transform}
    if key in _REFLECTANCE:
        band = s2_band(key)
        asset["eo:bands"] = [{"name": file, "common_name": band.common_name,
                              "center_wavelength": band.center_wavelength,
                              "full_width_half_max": band.fwhm}]  # fmt: skip
        asset["gsd"] = gsd
        asset["raster:bands"] = [{"nodata": 0, "data_type": "uint16", "spatial_resolution": gsd,
                                  "scale": 0.0001, "offset": -0.1}]  # fmt: skip
        asset["roles"] = ["data", "reflectance"]
    elif key == "visual":
        asset["gsd"] = gsd
        asset["roles"] = ["visual"]  # no raster:bands, as in 2024
    elif key in ("aot", "wvp"):
        raster: Json = {"nodata": 0, "data_type": "uint16", "spatial_resolution": gsd}
        if key == "wvp":
            raster["unit"] = "cm"
        asset["raster:bands"] = [raster | {"scale": 0.001, "offset": 0}]
        asset["roles"] = ["data"]
    else:  # scl, cloud, snow: classes and probabilities
        asset["raster:bands"] = [{"nodata": 0, "data_type": "uint8", "spatial_resolution": gsd}]
        asset["roles"] = {"scl": ["data"], "cloud": ["data", "cloud"],
                          "snow": ["data", "snow-ice"]}[key]
    return asset


def _assets(scene: S2Scene) -> Json:
    cog = COG
    assets: Json = {}
    for key, file, title, gsd in _ASSETS:
        assets[key] = {"href": _href(scene, f"{file}.tif"), "type": cog,
                       **_raster_asset(scene, key, file, title, gsd)}
    assets["preview"] = {"href": _href(scene, "L2A_PVI.tif"), "type": cog,
                         "title": "True color preview", "roles": ["overview"]}
    assets["granule_metadata"] = {"href": _href(scene, "metadata.xml"),
                                  "type": "application/xml", "roles": ["metadata"]}
    assets["tileinfo_metadata"] = {"href": _href(scene, "tileInfo.json"),
                                   "type": "application/json", "roles": ["metadata"]}
    assets["product_metadata"] = {"href": _href(scene, "product_metadata.xml"),
                                  "type": "application/xml", "roles": ["metadata"]}
    assets["thumbnail"] = {"href": _href(scene, "L2A_PVI.jpg"), "type": "image/jpeg",
                           "title": "Thumbnail of preview image", "roles": ["thumbnail"]}
    return assets


def _item(scene: S2Scene) -> Json:
    item_id = c1_id(scene)
    ring = [[lon, lat] for lon, lat in s2_footprint(scene)]
    url = f"{EARTH_SEARCH_API}/collections/{C1_COLLECTION}/items/{item_id}"
    collection_url = f"{EARTH_SEARCH_API}/collections/{C1_COLLECTION}"
    zone, band, square = mgrs(scene)
    day = scene.day
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "stac_extensions": list(_EXTENSIONS),
        "id": item_id,
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "bbox": bbox(ring),
        "properties": _properties(scene),
        "links": [
            {"rel": "self", "type": "application/geo+json", "href": url},
            {"rel": "canonical", "type": "application/json",
             "href": f"s3://e84-earth-search-sentinel-data/{C1_COLLECTION}/{_dir(scene)}/"
                     f"{item_id}.json"},
            {"rel": "via", "type": "application/xml",
             "title": "Granule Metadata in Sinergize RODA Archive",
             "href": f"s3://sentinel-s2-l2a/tiles/{zone}/{band}/{square}/{day.year}/"
                     f"{day.month}/{day.day}/0/metadata.xml"},
            {"rel": "parent", "type": "application/json", "href": collection_url},
            {"rel": "collection", "type": "application/json", "href": collection_url},
            {"rel": "root", "type": "application/json", "href": EARTH_SEARCH_API},
            {"rel": "thumbnail", "href": f"{url}/thumbnail"},
        ],  # fmt: skip
        "assets": _assets(scene),
        "collection": C1_COLLECTION,
    }


def c1_items() -> list[Json]:
    """The lesson's scenes in Collection 1, newest first."""
    return [_item(scene) for scene in S2_SCENES]


def c1_collection(base: Json) -> Json:
    """``base`` (the collection's common shape) with what Collection 1's JSON says."""
    out = dict(base)
    out["description"] = ("Sentinel-2 Collection 1 L2A, data from the Multispectral Instrument "
                          "(MSI) onboard Sentinel-2")
    out["providers"] = [
        {"name": "ESA", "roles": ["producer"], "url": "https://earth.esa.int/web/guest/home"},
        {"name": "Sinergise", "roles": ["processor"],
         "url": "https://registry.opendata.aws/sentinel-2/"},
        {"name": "AWS", "roles": ["host"], "url": "http://sentinel-pds.s3-website.eu-central-1.amazonaws.com/"},
        {"name": "Element 84", "roles": ["processor"], "url": "https://element84.com"},
    ]  # fmt: skip
    out["links"] = [*base["links"], {
        "rel": "cite-as", "href": "https://doi.org/10.5270/S2_-742ikth",
        "title": "Copernicus Sentinel-2 MSI Level-2A (L2A) Bottom-of-Atmosphere Radiance"}]
    return out


_KINDS: dict[str, Kind] = {
    "visual": "s2-tci", "scl": "s2-scl", "cloud": "c1-cloud", "snow": "c1-snow",
    "preview": "c1-preview", "thumbnail": "s2-thumbnail", "granule_metadata": "s2-granule-xml",
    "tileinfo_metadata": "s2-tileinfo-json", "product_metadata": "c1-product-xml",
}  # fmt: skip


def c1_files() -> dict[str, FileSpec]:
    """Every Collection 1 href, with what the generator needs (see advertised.py)."""
    files: dict[str, FileSpec] = {}
    for scene, item in zip(S2_SCENES, c1_items(), strict=True):
        for key, asset in item["assets"].items():
            raster = "proj:shape" in asset
            files[asset["href"]] = FileSpec(
                _KINDS.get(key, "s2-band"), item["id"], key, scene,
                shape=tuple(asset["proj:shape"]) if raster else None,
                transform=tuple(asset["proj:transform"]) if raster else None,
                epsg=S2_EPSG if raster else None, protected=False, dn_offset=C1_DN_OFFSET,
            )  # fmt: skip
    return files
