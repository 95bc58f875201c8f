"""A Sentinel-2 granule as Earth Search describes it, in both its collections: the bands, the
grids, and the item properties (sun angles, scene-classification shares, baselines, IDs).

The physical model reads the properties too (its shadows follow the item's sun, its SCL the
item's percentages), so this module sits below the model and the catalog modules alike.
Everything is computed, never read from disk: where a value is not in ``scenes.py`` it is
derived from the scene (dates, orbit numbers, sun position) or drawn from a ``random.Random``
seeded with the scene id, so it never changes between runs. The eleven real scenes keep the
properties Earth Search published (``published.py``).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache

from shapely.geometry import Polygon

from satlesson.mirror.synthetic.archive import all_s2_scenes
from satlesson.mirror.synthetic.published import published_item
from satlesson.mirror.synthetic.scenes import (
    S2_EPSG,
    S2_EXTENT_M,
    S2Scene,
    s2_footprint,
    s2_tile,
    sun_position,
    sun_positions,
)
from satlesson.mirror.synthetic.stac import Json


@dataclass(frozen=True)
class S2Band:
    key: str  # Earth Search asset key, also the eo:bands name
    file: str  # file stem in the bucket
    title: str
    common_name: str
    description: str
    center_wavelength: float
    fwhm: float
    gsd: int


S2_BANDS: dict[str, S2Band] = {
    b.key: b
    for b in (
        S2Band("blue", "B02", "Blue (band 2) - 10m", "blue", "Blue (band 2)", 0.49, 0.098, 10),
        S2Band(
            "coastal",
            "B01",
            "Coastal aerosol (band 1) - 60m",
            "coastal",
            "Coastal aerosol (band 1)",
            0.443,
            0.027,
            60,
        ),
        S2Band("green", "B03", "Green (band 3) - 10m", "green", "Green (band 3)", 0.56, 0.045, 10),
        S2Band("nir", "B08", "NIR 1 (band 8) - 10m", "nir", "NIR 1 (band 8)", 0.842, 0.145, 10),
        S2Band(
            "nir08", "B8A", "NIR 2 (band 8A) - 20m", "nir08", "NIR 2 (band 8A)", 0.865, 0.033, 20
        ),
        S2Band(
            "nir09", "B09", "NIR 3 (band 9) - 60m", "nir09", "NIR 3 (band 9)", 0.945, 0.026, 60
        ),
        S2Band("red", "B04", "Red (band 4) - 10m", "red", "Red (band 4)", 0.665, 0.038, 10),
        S2Band(
            "rededge1",
            "B05",
            "Red edge 1 (band 5) - 20m",
            "rededge",
            "Red edge 1 (band 5)",
            0.704,
            0.019,
            20,
        ),
        S2Band(
            "rededge2",
            "B06",
            "Red edge 2 (band 6) - 20m",
            "rededge",
            "Red edge 2 (band 6)",
            0.74,
            0.018,
            20,
        ),
        S2Band(
            "rededge3",
            "B07",
            "Red edge 3 (band 7) - 20m",
            "rededge",
            "Red edge 3 (band 7)",
            0.783,
            0.028,
            20,
        ),
        S2Band(
            "swir16", "B11", "SWIR 1 (band 11) - 20m", "swir16", "SWIR 1 (band 11)", 1.61, 0.143, 20
        ),
        S2Band(
            "swir22", "B12", "SWIR 2 (band 12) - 20m", "swir22", "SWIR 2 (band 12)", 2.19, 0.242, 20
        ),
    )
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
# real items, reproduce each of them to within 0.01 deg (tests/mirror/test_catalog.py).
_SUN_AZIMUTH_OFFSET = -0.0993
_SUN_ELEVATION_OFFSET = -0.0606


def mgrs(scene: S2Scene) -> tuple[int, str, str]:
    tile = scene.id.split("_")[1]  # e.g. 35SNA
    return int(tile[:2]), tile[2], tile[3:]


def s2_dir(scene: S2Scene) -> str:
    """``35/S/NA/2023/8/<id>``: Earth Search does not zero-pad the month."""
    zone, band, square = mgrs(scene)
    day = scene.day
    return f"{zone}/{band}/{square}/{day.year}/{day.month}/{scene.id}"


def footprint_centre(scene: S2Scene) -> tuple[float, float]:
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
    if scene.tile == "35SNA":  # as the real items of the tile
        water = round(clear * rng.uniform(0.745, 0.755), 6)
    else:
        water = round(clear * s2_tile(scene).water_share * rng.uniform(0.995, 1.005), 6)
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
        "s2:nodata_pixel_percentage": round(rng.uniform(12.0, 13.0), 6) if scene.tile == "35SNA"
        else s2_tile(scene).nodata_percentage,
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
        "earthsearch:s3_path": f"s3://sentinel-cogs/sentinel-s2-l2a-cogs/{s2_dir(scene)}",
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


def s2_grid(scene: S2Scene, resolution: int) -> tuple[list[int], list[int]]:
    size = int(S2_EXTENT_M // resolution)
    x0, y0 = s2_tile(scene).origin
    # Earth Search writes whole-number transforms as ints.
    transform = [resolution, 0, int(x0), 0, -resolution, int(y0)]
    return [size, size], transform


def s2_band(key: str) -> S2Band:
    """The band behind a reflectance asset key (``red`` -> B04's names and wavelengths)."""
    return S2_BANDS[key]

