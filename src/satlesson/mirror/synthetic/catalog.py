"""The STAC documents the mirror loads into pgstac, built from the shared scene table.

Everything here is computed, never read from disk: the same code gives the same JSON on every
machine, which is what lets the snapshot be rebuilt byte for byte. Where a value is not in
``scenes.py`` it is derived from the scene (dates, orbit numbers, sun position) or drawn from a
``random.Random`` seeded with the scene id, so it never changes between runs.

Asset hrefs are the real upstream URLs; the mirror rewrites them when it answers a request.
Shapes follow Earth Search v1 (``sentinel2-to-stac`` 0.1.1) and NASA CMR-STAC as they were when
the lesson was written; the one real item reproduced verbatim is S2A_35SNA_20230827_0_L2A.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

from satlesson.mirror.synthetic import dem
from satlesson.mirror.synthetic.archive import all_s2_scenes
from satlesson.mirror.synthetic.published import published_item
from satlesson.mirror.synthetic.scenes import (
    HLS_EPSG,
    HLS_EXTENT_M,
    HLS_ORIGIN,
    HLS_SCENES,
    S2_EPSG,
    S2_EXTENT_M,
    S2_ORIGIN,
    HLSScene,
    S2Scene,
    s2_footprint,
    sun_position,
    sun_positions,
)
from satlesson.mirror.urls import (
    CMR,
    CMR_LPCLOUD_API,
    COP_DEM_30,
    EARTH_SEARCH_API,
    LPDAAC,
    SENTINEL_COGS,
    TRUTH_HOST,
)

__all__ = [
    "S2_COLLECTION",
    "HLS_COLLECTION",
    "S2_ASSET_KEYS",
    "HLS_ASSET_KEYS",
    "earth_search_collections",
    "earth_search_items",
    "dem_items",
    "cmr_collections",
    "cmr_items",
    "advertised_files",
]

Json = dict[str, Any]

S2_COLLECTION = "sentinel-2-l2a"
HLS_COLLECTION = "HLSL30.v2.0"

COG = "image/tiff; application=geotiff; profile=cloud-optimized"
JP2 = "image/jp2"

SENTINEL_LICENSE = "https://sentinel.esa.int/documents/247904/690755/Sentinel_Data_Legal_Notice"

# Earth Search v1 items written by sentinel2-to-stac 0.1.1 declare these extension versions.
S2_STAC_EXTENSIONS: tuple[str, ...] = tuple(
    f"https://stac-extensions.github.io/{name}/v{version}/schema.json"
    for name, version in (
        ("projection", "1.1.0"),
        ("eo", "1.1.0"),
        ("raster", "1.1.0"),
        ("processing", "1.1.0"),
        ("mgrs", "1.0.0"),
        ("view", "1.0.0"),
        ("grid", "1.0.0"),
    )
)

# ---------------------------------------------------------------------------------------------
# Sentinel-2 L2A (Earth Search v1)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _S2Band:
    key: str  # Earth Search asset key, also the eo:bands name
    file: str  # file stem in the bucket
    title: str
    common_name: str
    description: str
    center_wavelength: float
    fwhm: float
    gsd: int


_S2_BANDS: dict[str, _S2Band] = {
    b.key: b
    for b in (
        _S2Band("blue", "B02", "Blue (band 2) - 10m", "blue", "Blue (band 2)", 0.49, 0.098, 10),
        _S2Band(
            "coastal",
            "B01",
            "Coastal aerosol (band 1) - 60m",
            "coastal",
            "Coastal aerosol (band 1)",
            0.443,
            0.027,
            60,
        ),
        _S2Band("green", "B03", "Green (band 3) - 10m", "green", "Green (band 3)", 0.56, 0.045, 10),
        _S2Band("nir", "B08", "NIR 1 (band 8) - 10m", "nir", "NIR 1 (band 8)", 0.842, 0.145, 10),
        _S2Band(
            "nir08", "B8A", "NIR 2 (band 8A) - 20m", "nir08", "NIR 2 (band 8A)", 0.865, 0.033, 20
        ),
        _S2Band(
            "nir09", "B09", "NIR 3 (band 9) - 60m", "nir09", "NIR 3 (band 9)", 0.945, 0.026, 60
        ),
        _S2Band("red", "B04", "Red (band 4) - 10m", "red", "Red (band 4)", 0.665, 0.038, 10),
        _S2Band(
            "rededge1",
            "B05",
            "Red edge 1 (band 5) - 20m",
            "rededge",
            "Red edge 1 (band 5)",
            0.704,
            0.019,
            20,
        ),
        _S2Band(
            "rededge2",
            "B06",
            "Red edge 2 (band 6) - 20m",
            "rededge",
            "Red edge 2 (band 6)",
            0.74,
            0.018,
            20,
        ),
        _S2Band(
            "rededge3",
            "B07",
            "Red edge 3 (band 7) - 20m",
            "rededge",
            "Red edge 3 (band 7)",
            0.783,
            0.028,
            20,
        ),
        _S2Band(
            "swir16", "B11", "SWIR 1 (band 11) - 20m", "swir16", "SWIR 1 (band 11)", 1.61, 0.143, 20
        ),
        _S2Band(
            "swir22", "B12", "SWIR 2 (band 12) - 20m", "swir22", "SWIR 2 (band 12)", 2.19, 0.242, 20
        ),
    )
}

# The COG assets in the order Earth Search lists them (alphabetical), then the JPEG 2000 twins.
_S2_COG_KEYS: tuple[str, ...] = (
    "aot", "blue", "coastal", "granule_metadata", "green", "nir", "nir08", "nir09", "red",
    "rededge1", "rededge2", "rededge3", "scl", "swir16", "swir22", "thumbnail",
    "tileinfo_metadata", "visual", "wvp",
)  # fmt: skip
_S2_JP2_SOURCES: tuple[str, ...] = (
    "aot", "blue", "coastal", "green", "nir", "nir08", "nir09", "red", "rededge1", "rededge2",
    "rededge3", "scl", "swir16", "swir22", "visual", "wvp",
)  # fmt: skip
S2_ASSET_KEYS: tuple[str, ...] = _S2_COG_KEYS + tuple(f"{k}-jp2" for k in _S2_JP2_SOURCES)

# Non-band rasters: (file stem, title, resolution).
_S2_AUX: dict[str, tuple[str, str, int]] = {
    "aot": ("AOT", "Aerosol optical thickness (AOT)", 20),
    "scl": ("SCL", "Scene classification map (SCL)", 20),
    "wvp": ("WVP", "Water vapour (WVP)", 20),
    "visual": ("TCI", "True color image", 10),
}


@dataclass(frozen=True)
class _Pass:
    """What one satellite's pass over the tile looks like, anchored on a real item."""

    day: date  # a real acquisition on relative orbit 107
    absolute_orbit: int  # its absolute orbit
    datatake_start: str  # HHMMSS the datatake began (fixed for a given relative orbit)
    datastrip_start: str  # HHMMSS the datastrip's sensing began


# S2A from the 0827 item; S2B from the real S2B_35SNA_20230822_0_L2A. INVENTED: S2C's
# absolute orbit (counted from its launch on 5 September 2024 at 14.3 orbits a day).
_PASSES: dict[str, _Pass] = {
    "A": _Pass(date(2023, 8, 27), 42718, "084601", "085947"),
    "B": _Pass(date(2023, 8, 22), 33738, "084559", "085930"),
    "C": _Pass(date(2025, 2, 27), 2502, "084601", "085947"),
}

# ESA's L2A processing baselines and, approximately, the day each came into use (INVENTED
# where the lesson's scenes do not show it: every real one of July-August 2023 is 05.09).
_BASELINES: tuple[tuple[date, str], ...] = (
    (date(2016, 11, 1), "02.04"), (date(2017, 10, 23), "02.06"), (date(2018, 5, 23), "02.08"),
    (date(2018, 11, 6), "02.10"), (date(2019, 7, 8), "02.13"), (date(2020, 1, 28), "02.14"),
    (date(2021, 3, 30), "03.00"), (date(2021, 6, 30), "03.01"), (date(2022, 1, 25), "04.00"),
    (date(2022, 12, 6), "05.09"), (date(2023, 12, 13), "05.10"), (date(2024, 7, 23), "05.11"),
)  # fmt: skip


def processing_baseline(day: date) -> str:
    """The baseline a scene acquired on ``day`` was processed with."""
    return [name for start, name in _BASELINES if start <= day][-1]


def boa_offset_applied(scene: S2Scene) -> bool:
    """Whether the scene's L2A product had ESA's +1000 (baseline 04.00 and later), which Earth
    Search then removed from the pixels: the ``earthsearch:boa_offset_applied`` flag."""
    published = published_item(scene.id)
    if published is not None:
        return bool(published["properties"]["earthsearch:boa_offset_applied"])
    return processing_baseline(scene.day) >= "04.00"
_REPEAT_DAYS = 10
_ORBITS_PER_REPEAT = 143

# The sun at the footprint's centroid lands a steady 0.1 deg off Earth Search's granule means
# (averaged over the granule's angle grid); these offsets, the mean residuals over the eleven
# real items, reproduce each of them to within 0.01 deg (tests/test_catalog.py).
_SUN_AZIMUTH_OFFSET = -0.0993
_SUN_ELEVATION_OFFSET = -0.0606


def mgrs(scene: S2Scene) -> tuple[int, str, str]:
    tile = scene.id.split("_")[1]  # e.g. 35SNA
    return int(tile[:2]), tile[2], tile[3:]


def _s2_dir(scene: S2Scene) -> str:
    """``35/S/NA/2023/8/<id>``: Earth Search does not zero-pad the month."""
    zone, band, square = mgrs(scene)
    day = scene.day
    return f"{zone}/{band}/{square}/{day.year}/{day.month}/{scene.id}"


def _s2_href(scene: S2Scene, file: str) -> str:
    return f"https://{SENTINEL_COGS}/sentinel-s2-l2a-cogs/{_s2_dir(scene)}/{file}"


def footprint_centre(scene: S2Scene) -> tuple[float, float]:
    from shapely.geometry import Polygon

    centre = Polygon(s2_footprint(scene)).centroid
    return float(centre.x), float(centre.y)


@cache
def _sun_table() -> dict[str, tuple[float, float]]:
    """Sun angles of every scene at its footprint's centre, computed in one batch per centre."""
    groups: dict[tuple[float, float], list[S2Scene]] = {}
    for scene in all_s2_scenes():
        groups.setdefault(footprint_centre(scene), []).append(scene)
    table = {}
    for (lon, lat), scenes in groups.items():
        angles = sun_positions([s.when for s in scenes], lon, lat)
        table.update({s.id: a for s, a in zip(scenes, angles, strict=True)})
    return table


def _sun(scene: S2Scene) -> tuple[float, float]:
    known = _sun_table().get(scene.id)
    return known if known is not None else sun_position(scene.when, *footprint_centre(scene))


def _reflectance_conversion_factor(day: date) -> float:
    """ESA's Earth-Sun distance correction, t in whole days since 1950-01-01 (S2 L1C ATBD);
    within 7e-5 of every real item's value."""
    t = (day - date(1950, 1, 1)).days
    return round(1 / (1 - 0.01672 * math.cos(0.0172 * (t - 2))) ** 2, 15)


def _split_percentages(scene: S2Scene, rng: random.Random) -> dict[str, float]:
    """Scene-classification percentages that add up to 100 and agree with eo:cloud_cover.

    eo:cloud_cover is medium + high probability cloud + thin cirrus, as in L2A metadata.
    """
    cloud = scene.cloud_cover
    cirrus_share = rng.uniform(0.05, 0.25) if cloud > 5 else rng.uniform(0.0, 0.01)
    high_share = rng.uniform(0.25, 0.45)
    high = round(cloud * high_share, 6)
    cirrus = round(cloud * cirrus_share, 6)
    medium = round(cloud - high - cirrus, 6)

    shadow = round(cloud * rng.uniform(0.1, 0.3), 6)
    dark = round(rng.uniform(0.15, 0.3), 6)
    unclassified = round(rng.uniform(0.05, 0.2), 6)
    snow = round(rng.uniform(1e-5, 7e-5), 6)
    clear = 100 - cloud - shadow - dark - unclassified - snow
    # The fire turned vegetated land into bare, burnt ground; the sea is most of the tile.
    vegetation = round(clear * (0.10 - 0.025 * scene.burn_fraction) * rng.uniform(0.95, 1.05), 6)
    water = round(clear * rng.uniform(0.745, 0.755), 6)
    not_vegetated = round(
        100 - (cloud + shadow + dark + unclassified + snow + vegetation + water), 6
    )
    return {
        "s2:saturated_defective_pixel_percentage": 0,
        "s2:dark_features_percentage": dark,
        "s2:cloud_shadow_percentage": shadow,
        "s2:vegetation_percentage": vegetation,
        "s2:not_vegetated_percentage": not_vegetated,
        "s2:water_percentage": water,
        "s2:unclassified_percentage": unclassified,
        "s2:medium_proba_clouds_percentage": medium,
        "s2:high_proba_clouds_percentage": high,
        "s2:thin_cirrus_percentage": cirrus,
        "s2:snow_ice_percentage": snow,
    }


def _derived_s2_properties(scene: S2Scene) -> Json:
    """Properties of the kind Earth Search writes, for a scene it is not copied from."""
    rng = random.Random(f"satlesson/s2/{scene.id}")
    sat = scene.id[2]  # "A" or "B"
    orbit_pass = _PASSES[sat]
    cycles, rest = divmod((scene.day - orbit_pass.day).days, _REPEAT_DAYS)
    if rest:
        raise ValueError(f"{scene.id} is not on relative orbit 107's 10-day repeat")
    orbit = orbit_pass.absolute_orbit + cycles * _ORBITS_PER_REPEAT
    zone, band, square = mgrs(scene)
    tile = f"{zone}{band}{square}"
    acquired = scene.when
    ymd = acquired.strftime("%Y%m%d")

    # The ground segment publishes the L2A product a few hours after acquisition; Earth Search
    # catalogues it some hours after that.
    generated = datetime.combine(scene.day, datetime.min.time(), UTC) + timedelta(
        hours=11, seconds=rng.randint(0, 9000)
    )
    created = generated + timedelta(seconds=rng.randint(3 * 3600, 30 * 3600))
    created_str = created.strftime("%Y-%m-%dT%H:%M:%S.") + f"{rng.randint(0, 999):03d}Z"
    gen = generated.strftime("%Y%m%dT%H%M%S")
    centre_sat = f"2{sat}PS"
    baseline = processing_baseline(scene.day)
    n_code = "N" + baseline.replace(".", "")

    azimuth, elevation = _sun(scene)
    pct = _split_percentages(scene, rng)
    return {
        "created": created_str,
        "platform": scene.platform,
        "constellation": "sentinel-2",
        "instruments": ["msi"],
        "eo:cloud_cover": scene.cloud_cover,
        "proj:epsg": S2_EPSG,
        "mgrs:utm_zone": zone,
        "mgrs:latitude_band": band,
        "mgrs:grid_square": square,
        "grid:code": f"MGRS-{tile}",
        "view:sun_azimuth": round(azimuth + _SUN_AZIMUTH_OFFSET, 11),
        "view:sun_elevation": round(elevation + _SUN_ELEVATION_OFFSET, 11),
        "s2:degraded_msi_data_percentage": round(rng.uniform(0.01, 0.02), 4),
        "s2:nodata_pixel_percentage": round(rng.uniform(12.0, 13.0), 6),
        **pct,
        "s2:product_type": "S2MSI2A",
        "s2:processing_baseline": baseline,
        "s2:product_uri": (
            f"S2{sat}_MSIL2A_{ymd}T{orbit_pass.datatake_start}_{n_code}_R107_T{tile}_{gen}.SAFE"
        ),
        "s2:generation_time": generated.strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
        "s2:datatake_id": f"GS2{sat}_{ymd}T{orbit_pass.datatake_start}_{orbit:06d}_N{baseline}",
        "s2:datatake_type": "INS-NOBS",
        "s2:datastrip_id": (
            f"S2{sat}_OPER_MSI_L2A_DS_{centre_sat}_{gen}_S{ymd}T{orbit_pass.datastrip_start}"
            f"_N{baseline}"
        ),
        "s2:granule_id": (
            f"S2{sat}_OPER_MSI_L2A_TL_{centre_sat}_{gen}_A{orbit:06d}_T{tile}_N{baseline}"),
        "s2:reflectance_conversion_factor": _reflectance_conversion_factor(scene.day),
        "datetime": scene.datetime,
        "s2:sequence": scene.id.split("_")[3],
        "earthsearch:s3_path": f"s3://sentinel-cogs/sentinel-s2-l2a-cogs/{_s2_dir(scene)}",
        "earthsearch:payload_id": (
            f"roda-sentinel2/workflow-sentinel2-to-stac/{rng.getrandbits(128):032x}"
        ),
        "earthsearch:boa_offset_applied": boa_offset_applied(scene),
        "processing:software": {"sentinel2-to-stac": "0.1.1"},
        "updated": created_str,
    }


def s2_properties(scene: S2Scene) -> Json:
    """An item's properties; the granule metadata files repeat them, so they share this."""
    published = published_item(scene.id)
    if published is not None:
        return published["properties"]
    return _derived_s2_properties(scene)


def s2_grid(resolution: int) -> tuple[list[int], list[int]]:
    size = int(S2_EXTENT_M // resolution)
    x0, y0 = S2_ORIGIN
    # Earth Search writes whole-number transforms as ints.
    transform = [resolution, 0, int(x0), 0, -resolution, int(y0)]
    return [size, size], transform


def s2_band(key: str) -> _S2Band:
    """The band behind a reflectance asset key (``red`` -> B04's names and wavelengths)."""
    return _S2_BANDS[key]


def _eo_band(band: _S2Band) -> Json:
    return {
        "name": band.key,
        "common_name": band.common_name,
        "description": band.description,
        "center_wavelength": band.center_wavelength,
        "full_width_half_max": band.fwhm,
    }


def _s2_raster_asset(key: str, offset: float = -0.1) -> Json:
    """Everything about a raster asset except href and type (shared by COG and JP2 twins)."""
    if key in _S2_BANDS:
        band = _S2_BANDS[key]
        shape, transform = s2_grid(band.gsd)
        return {
            "title": band.title,
            "eo:bands": [_eo_band(band)],
            "gsd": band.gsd,
            "proj:shape": shape,
            "proj:transform": transform,
            "raster:bands": [
                {
                    "nodata": 0,
                    "data_type": "uint16",
                    "bits_per_sample": 15,
                    "spatial_resolution": band.gsd,
                    "scale": 0.0001,
                    "offset": offset,
                }
            ],
            "roles": ["data", "reflectance"],
        }
    _, title, resolution = _S2_AUX[key]
    shape, transform = s2_grid(resolution)
    if key == "visual":
        # No raster:bands and no gsd on the true-colour image, as on Earth Search.
        return {
            "title": title,
            "eo:bands": [_eo_band(_S2_BANDS[k]) for k in ("red", "green", "blue")],
            "proj:shape": shape,
            "proj:transform": transform,
            "roles": ["visual"],
        }
    raster: Json
    if key == "scl":
        raster = {"nodata": 0, "data_type": "uint8", "spatial_resolution": resolution}
    else:
        raster = {
            "nodata": 0,
            "data_type": "uint16",
            "bits_per_sample": 15,
            "spatial_resolution": resolution,
        }
        if key == "wvp":
            raster["unit"] = "cm"
        raster |= {"scale": 0.001, "offset": 0}
    # Earth Search tags AOT, WVP and SCL as reflectance too, although they are not.
    return {
        "title": title,
        "proj:shape": shape,
        "proj:transform": transform,
        "raster:bands": [raster],
        "roles": ["data", "reflectance"],
    }


def _s2_file(key: str) -> str:
    """The file an asset key points at, e.g. ``red`` -> ``B04.tif``, ``red-jp2`` -> ``B04.jp2``."""
    base, jp2 = (key[: -len("-jp2")], True) if key.endswith("-jp2") else (key, False)
    if base == "thumbnail":
        return "thumbnail.jpg"
    if base == "granule_metadata":
        return "granule_metadata.xml"
    if base == "tileinfo_metadata":
        return "tileinfo_metadata.json"
    stem = _S2_BANDS[base].file if base in _S2_BANDS else _S2_AUX[base][0]
    return f"{stem}.{'jp2' if jp2 else 'tif'}"


def _s2_asset(scene: S2Scene, key: str) -> Json:
    href = _s2_href(scene, _s2_file(key))
    if key == "thumbnail":
        return {
            "href": href,
            "type": "image/jpeg",
            "title": "Thumbnail image",
            "roles": ["thumbnail"],
        }
    if key == "granule_metadata":
        return {"href": href, "type": "application/xml", "roles": ["metadata"]}
    if key == "tileinfo_metadata":
        return {"href": href, "type": "application/json", "roles": ["metadata"]}
    # Real Earth Search points the -jp2 twins at s3://sentinel-s2-l2a (requester pays); the
    # mirror keeps them next to the COGs so that every advertised href can be fetched.
    is_jp2 = key.endswith("-jp2")
    base = key[: -len("-jp2")] if is_jp2 else key
    # Before baseline 04.00 the products had no +1000 and no offset to state (INVENTED: no
    # such item of Earth Search's was seen; ESA's metadata of those baselines has none).
    offset = -0.1 if processing_baseline(scene.day) >= "04.00" else 0
    return {"href": href, "type": JP2 if is_jp2 else COG, **_s2_raster_asset(base, offset)}


def bbox(coords: list[list[float]]) -> list[float]:
    lons = [c[0] for c in coords]
    lats = [c[1] for c in coords]
    return [min(lons), min(lats), max(lons), max(lats)]


def _s2_item(scene: S2Scene) -> Json:
    published = published_item(scene.id)
    ring = [[lon, lat] for lon, lat in s2_footprint(scene)]
    item_url = f"{EARTH_SEARCH_API}/collections/{S2_COLLECTION}/items/{scene.id}"
    collection_url = f"{EARTH_SEARCH_API}/collections/{S2_COLLECTION}"
    l1c_id = scene.id.removesuffix("_L2A") + "_L1C"
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        # Upstream lists the extensions in no fixed order; a real item keeps its own.
        "stac_extensions": published["stac_extensions"] if published else list(
            S2_STAC_EXTENSIONS),
        "id": scene.id,
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "bbox": published["bbox"] if published else bbox(ring),
        "properties": s2_properties(scene),
        "links": [
            {"rel": "self", "href": item_url, "type": "application/geo+json"},
            {
                "rel": "canonical",
                "href": f"s3://sentinel-cogs/sentinel-s2-l2a-cogs/{_s2_dir(scene)}/{scene.id}.json",
                "type": "application/json",
            },
            {"rel": "license", "href": SENTINEL_LICENSE},
            {
                "rel": "derived_from",
                "href": f"{EARTH_SEARCH_API}/collections/sentinel-2-l1c/items/{l1c_id}",
                "type": "application/geo+json",
            },
            {"rel": "parent", "href": collection_url, "type": "application/json"},
            {"rel": "collection", "href": collection_url, "type": "application/json"},
            {
                "rel": "root",
                "href": EARTH_SEARCH_API,
                "type": "application/json",
                "title": "Earth Search by Element 84",
            },
            {"rel": "thumbnail", "href": f"{item_url}/thumbnail"},
        ],
        "assets": {key: _s2_asset(scene, key) for key in S2_ASSET_KEYS},
        "collection": S2_COLLECTION,
    }


def earth_search_items() -> list[Json]:
    """One ``sentinel-2-l2a`` item per scene of the lesson and of the archive, newest first,
    then the lesson's scenes in ``sentinel-2-c1-l2a``."""
    from satlesson.mirror.synthetic.collection1 import c1_items

    return [_s2_item(scene) for scene in all_s2_scenes()] + c1_items()


# ---------------------------------------------------------------------------------------------
# Earth Search: Copernicus DEM GLO-30 tiles over Rhodes
# ---------------------------------------------------------------------------------------------

DEM_COLLECTION = "cop-dem-glo-30"
_DEM_DATETIME = "2021-04-22T00:00:00Z"


def _dem_href(lat: int, lon: int) -> str:
    name = dem.tile_id(lat, lon)
    return f"https://{COP_DEM_30}/{name}/{name}.tif"


def _dem_item(lat: int, lon: int) -> Json:
    """Shaped like Earth Search v1's cop-dem-glo-30 items (stactools-cop-dem)."""
    name = dem.tile_id(lat, lon)
    t = dem.tile_transform(lat, lon)
    west, north = t[2], t[5]
    east, south = west + 1.0, north - 1.0
    ring = [[east, south], [east, north], [west, north], [west, south], [east, south]]
    item_url = f"{EARTH_SEARCH_API}/collections/{DEM_COLLECTION}/items/{name}"
    collection_url = f"{EARTH_SEARCH_API}/collections/{DEM_COLLECTION}"
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": name,
        "properties": {
            "gsd": 30,
            "datetime": _DEM_DATETIME,
            "platform": "tandem-x",
            "proj:epsg": 4326,
            "proj:shape": [dem.SIZE, dem.SIZE],
            "proj:transform": list(t),
            "created": "2023-01-24T21:09:37.262Z",
            "updated": "2023-01-24T21:09:37.262Z",
        },
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "links": [
            {"rel": "self", "href": item_url, "type": "application/geo+json"},
            {"rel": "parent", "href": collection_url, "type": "application/json"},
            {"rel": "collection", "href": collection_url, "type": "application/json"},
            {"rel": "root", "href": EARTH_SEARCH_API, "type": "application/json",
             "title": "Earth Search by Element 84"},
        ],  # fmt: skip
        "assets": {
            "data": {
                "href": _dem_href(lat, lon),
                "type": COG,
                "title": "Data",
                "raster:bands": [{"sampling": "point", "data_type": "float32",
                                  "spatial_resolution": 30, "unit": "meter"}],  # fmt: skip
                "roles": ["data"],
            }
        },
        "bbox": [west, south, east, north],
        "stac_extensions": [
            "https://stac-extensions.github.io/projection/v1.0.0/schema.json",
            "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
        ],
        "collection": DEM_COLLECTION,
    }


def dem_items() -> list[Json]:
    """The ``cop-dem-glo-30`` tiles over Rhodes (synthetic heights, see ``dem.py``)."""
    return [_dem_item(lat, lon) for lat, lon in dem.TILES]


# ---------------------------------------------------------------------------------------------
# Earth Search collections
# ---------------------------------------------------------------------------------------------

_GLOBAL_BBOX = [-180.0, -90.0, 180.0, 90.0]


def _provider(name: str, roles: list[str], url: str) -> Json:
    return {"name": name, "roles": roles, "url": url}


_ESA = _provider("ESA", ["producer"], "https://earth.esa.int/web/guest/home")
_E84 = _provider("Element 84", ["processor"], "https://element84.com")


def _aws(url: str) -> Json:
    return _provider("AWS", ["host"], url)


def _collection(
    cid: str,
    title: str,
    description: str,
    *,
    license: str,
    license_href: str,
    providers: list[Json],
    interval: list[str | None],
    keywords: list[str],
    bbox: list[float] | None = None,
    summaries: Json | None = None,
) -> Json:
    url = f"{EARTH_SEARCH_API}/collections/{cid}"
    return {
        "type": "Collection",
        "stac_version": "1.0.0",
        "stac_extensions": [],
        "id": cid,
        "title": title,
        "description": description,
        "keywords": keywords,
        "license": license,
        "providers": providers,
        "extent": {
            "spatial": {"bbox": [bbox or _GLOBAL_BBOX]},
            "temporal": {"interval": [interval]},
        },
        "summaries": summaries or {},
        "links": [
            {"rel": "self", "href": url, "type": "application/json"},
            {"rel": "parent", "href": EARTH_SEARCH_API, "type": "application/json"},
            {"rel": "root", "href": EARTH_SEARCH_API, "type": "application/json"},
            {"rel": "items", "href": f"{url}/items", "type": "application/geo+json"},
            {"rel": "license", "href": license_href},
        ],
    }


def _sentinel2_summaries(gsd: list[int]) -> Json:
    return {
        "platform": ["sentinel-2a", "sentinel-2b"],
        "constellation": ["sentinel-2"],
        "instruments": ["msi"],
        "gsd": gsd,
        "view:off_nadir": [0],
    }


_S2_START = "2015-06-27T10:25:31.456000Z"
_COP_DEM_LICENSE = (
    "https://spacedata.copernicus.eu/documents/20126/0/CSCDA_ESA_Mission-specific+Annex.pdf"
)


def earth_search_collections() -> list[Json]:
    """The eight collections Earth Search v1 lists, in the order its /collections gives them."""
    from satlesson.mirror.synthetic.collection1 import c1_collection
    s2_providers = [_ESA, _aws("https://registry.opendata.aws/sentinel-2-l2a-cogs"), _E84]
    dem_providers = [
        _provider("European Space Agency", ["licensor"], "https://spacedata.copernicus.eu"),
        _provider(
            "Sinergise", ["producer", "processor"], "https://registry.opendata.aws/copernicus-dem/"
        ),
        _aws("https://registry.opendata.aws/copernicus-dem/"),
        _E84,
    ]

    def cop_dem(gsd: int) -> Json:
        """GLO-30 and GLO-90 differ only in their resolution."""
        return _collection(
            f"cop-dem-glo-{gsd}",
            f"Copernicus DEM GLO-{gsd}",
            "The Copernicus DEM is a Digital Surface Model (DSM) which represents the surface "
            f"of the Earth including buildings, infrastructure and vegetation. GLO-{gsd} "
            f"provides worldwide coverage at {gsd} meters.",
            license="proprietary",
            license_href=_COP_DEM_LICENSE,
            providers=dem_providers,
            interval=["2021-04-22T00:00:00Z", "2021-04-22T00:00:00Z"],
            keywords=["Copernicus", "DEM", "DSM", "Elevation"],
            summaries={"gsd": [gsd], "platform": ["tandem-x"]},
        )

    return [
        cop_dem(30),
        _collection(
            "naip",
            "NAIP: National Agriculture Imagery Program",
            "The National Agriculture Imagery Program (NAIP) acquires aerial imagery during the "
            "agricultural growing seasons in the continental U.S., at 1 meter ground sample "
            "distance or better, in four bands (red, green, blue and near-infrared).",
            license="proprietary",
            license_href="https://www.fsa.usda.gov/help/policies-and-links/",
            providers=[
                _provider(
                    "USDA Farm Service Agency",
                    ["producer", "licensor"],
                    "https://www.fsa.usda.gov/programs-and-services/aerial-photography/imagery-programs/naip-imagery/",
                ),
                _aws("https://registry.opendata.aws/naip"),
                _E84,
            ],
            interval=["2010-01-01T00:00:00Z", "2022-12-31T00:00:00Z"],
            keywords=["NAIP", "Aerial", "Imagery", "USDA", "AFPO", "Agriculture", "United States"],
            bbox=[-160.0, 17.0, -67.0, 50.0],
            summaries={"gsd": [0.3, 0.6, 1.0], "platform": ["naip"]},
        ),
        _collection(
            "sentinel-2-l2a",
            "Sentinel-2 Level 2A",
            "Global Sentinel-2 data from the Multispectral Instrument (MSI) onboard Sentinel-2, "
            "processed to Level-2A (bottom-of-atmosphere reflectance) and distributed as "
            "Cloud-Optimized GeoTIFFs.",
            license="proprietary",
            license_href=SENTINEL_LICENSE,
            providers=s2_providers,
            interval=[_S2_START, None],
            keywords=["sentinel", "earth observation", "esa"],
            summaries=_sentinel2_summaries([10, 20, 60]),
        ),
        _collection(
            "sentinel-2-l1c",
            "Sentinel-2 Level 1C",
            "Global Sentinel-2 data from the Multispectral Instrument (MSI) onboard Sentinel-2, "
            "Level-1C top-of-atmosphere reflectance in JPEG 2000.",
            license="proprietary",
            license_href=SENTINEL_LICENSE,
            providers=[_ESA, _aws("https://registry.opendata.aws/sentinel-2"), _E84],
            interval=[_S2_START, None],
            keywords=["sentinel", "earth observation", "esa"],
            summaries=_sentinel2_summaries([10, 20, 60]),
        ),
        cop_dem(90),
        _collection(
            "landsat-c2-l2",
            "Landsat Collection 2 Level-2",
            "Atmospherically corrected global Landsat Collection 2 Level-2 data from the "
            "Thematic Mapper (TM), Enhanced Thematic Mapper Plus (ETM+) and Operational Land "
            "Imager / Thermal Infrared Sensor (OLI/TIRS): surface reflectance and surface "
            "temperature.",
            license="proprietary",
            license_href="https://www.usgs.gov/core-science-systems/hdds/data-policy",
            providers=[
                _provider("NASA", ["producer"], "https://landsat.gsfc.nasa.gov/"),
                _provider(
                    "USGS",
                    ["producer", "processor", "licensor"],
                    "https://www.usgs.gov/landsat-missions/landsat-collection-2-level-2-science-products",
                ),
                _aws("https://registry.opendata.aws/usgs-landsat/"),
                _E84,
            ],
            interval=["1982-08-22T00:00:00Z", None],
            keywords=["landsat", "earth observation", "usgs"],
            summaries={
                "platform": ["landsat-4", "landsat-5", "landsat-7", "landsat-8", "landsat-9"],
                "constellation": ["landsat"],
                "instruments": ["tm", "etm+", "oli", "tirs"],
                "gsd": [30, 60, 100, 120],
            },
        ),
        _collection(
            "sentinel-1-grd",
            "Sentinel-1 Level 1C Ground Range Detected (GRD)",
            "Sentinel-1 is a pair of Synthetic Aperture Radar (SAR) imaging satellites. Level-1 "
            "Ground Range Detected (GRD) products are detected, multi-looked and projected to "
            "ground range using an Earth ellipsoid model.",
            license="proprietary",
            license_href=SENTINEL_LICENSE,
            providers=[_ESA, _aws("https://registry.opendata.aws/sentinel-1"), _E84],
            interval=["2014-10-10T00:28:21Z", None],
            keywords=["sentinel", "copernicus", "esa", "sar"],
            summaries={
                "platform": ["sentinel-1a", "sentinel-1b"],
                "constellation": ["sentinel-1"],
                "instruments": ["c-sar"],
            },
        ),
        c1_collection(_collection(
            "sentinel-2-c1-l2a",
            "Sentinel-2 Collection 1 Level-2A",
            "",
            license="proprietary",
            license_href=SENTINEL_LICENSE,
            providers=[],
            interval=[_S2_START, None],
            keywords=["sentinel", "earth observation", "esa"],
            summaries=_sentinel2_summaries([10, 20, 60]),
        )),
    ]


# ---------------------------------------------------------------------------------------------
# HLS (NASA CMR-STAC, provider LPCLOUD)
# ---------------------------------------------------------------------------------------------

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
    from pyproj import Transformer

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
            _provider("LPCLOUD", ["producer", "processor", "host"], "https://lpdaac.usgs.gov/"),
        ],
        "extent": {
            "spatial": {"bbox": [_GLOBAL_BBOX]},
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
# Files behind the assets
# ---------------------------------------------------------------------------------------------


def _s2_file_entry(scene: S2Scene, key: str, asset: Json) -> Json:
    if key.endswith("-jp2"):
        kind = "s2-jp2"
    else:
        kind = {
            "visual": "s2-tci",
            "scl": "s2-scl",
            "thumbnail": "s2-thumbnail",
            "granule_metadata": "s2-granule-xml",
            "tileinfo_metadata": "s2-tileinfo-json",
        }.get(key, "s2-band")
    raster = "proj:shape" in asset
    return {
        "kind": kind,
        "item_id": scene.id,
        "asset_key": key,
        "scene": scene,
        "shape": tuple(asset["proj:shape"]) if raster else None,
        "transform": tuple(asset["proj:transform"]) if raster else None,
        "epsg": S2_EPSG if raster else None,
        "protected": False,
    }


def _hls_file_entry(scene: HLSScene, key: str) -> Json:
    shape, transform = _hls_grid()
    if key in _HLS_BANDS:
        return {
            "kind": "hls-band",
            "item_id": scene.id,
            "asset_key": key,
            "scene": scene,
            "shape": tuple(shape),
            "transform": tuple(transform),
            "epsg": HLS_EPSG,
            "dtype": _HLS_DTYPES[key],
            "protected": True,
        }
    return {
        "kind": "hls-browse" if key == "browse" else "hls-metadata",
        "item_id": scene.id,
        "asset_key": key,
        "scene": scene,
        "shape": None,
        "transform": None,
        "epsg": None,
        # The browse JPEG is in the public bucket and CMR metadata needs no login.
        "protected": False,
    }


def advertised_files() -> dict[str, Json]:
    """Every asset href the catalogs advertise, mapped to what is needed to produce the file.

    Keys of each entry: kind, item_id, asset_key, scene, shape (rows, cols), transform
    (GDAL-order six numbers), epsg, protected. Non-raster files carry ``None`` for the raster
    fields. HLS bands also carry dtype, which the generator needs to pick the angle bands'
    type and no-data; an S2 file's type follows from its asset key. A DEM tile's ``scene`` is
    its (lat, lon) south-west corner in whole degrees.
    """
    from satlesson.mirror.synthetic.collection1 import c1_files  # it builds on this module

    files: dict[str, Json] = c1_files()
    for s2 in all_s2_scenes():  # the assets alone: an item's properties are not needed here
        for key in S2_ASSET_KEYS:
            asset = _s2_asset(s2, key)
            files[asset["href"]] = _s2_file_entry(s2, key, asset)
    for lat, lon in dem.TILES:
        files[_dem_href(lat, lon)] = {
            "kind": "dem", "item_id": dem.tile_id(lat, lon), "asset_key": "data",
            "scene": (lat, lon), "shape": (dem.SIZE, dem.SIZE),
            "transform": dem.tile_transform(lat, lon), "epsg": 4326, "protected": False,
        }  # fmt: skip
    # The synthetic snapshot's ground truth (see truth.py), at a host only the mirror serves.
    files[f"https://{TRUTH_HOST}/truth/rhodes-2023-burn-scar.json"] = {
        "kind": "truth-json", "item_id": "truth", "asset_key": "rhodes-2023-burn-scar",
        "scene": None, "shape": None, "transform": None, "epsg": None, "protected": False,
    }  # fmt: skip
    hls_by_id = {scene.id: scene for scene in HLS_SCENES}
    for item in cmr_items():
        hls = hls_by_id[item["id"]]
        for key, asset in item["assets"].items():
            files[asset["href"]] = _hls_file_entry(hls, key)
    return files
