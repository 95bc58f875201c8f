"""The files behind the mirror's assets: synthetic, deterministic, and shaped like the real ones.

Every raster is built the same way, which is what keeps a 10980² band to a few seconds:

1. Scene-independent fields on a coarse 60 m grid (1830², cached per process): land from the
   GSHHG polygon in ``satlesson/data``, vegetation / farmland / bare / urban fractions and
   the kind of vegetation (scrub, maquis, forest), the 2023 burn scar from its outline in
   ``satlesson/data`` with its severity and the order in which it burnt.
2. Per-scene fields on the same grid (cached for a few scenes): clouds sized to
   ``eo:cloud_cover``, their shadows cast away from the item's sun azimuth and elevation,
   cirrus, the share of char in each burnt cell (chosen so that the cell's NBR drops by its
   severity), and the NDVI that the scene classification (SCL) follows.
3. Per band, the coarse land and sea reflectance are mixed from those fields and the cover
   types' spectra (cheap at 60 m), then upsampled bilinearly strip by strip to the band's
   grid. Every band, the true-colour image and the previews come from the same mix, so NDVI,
   NBR and the SCL agree at 10, 20 and 60 m (``truth.py`` states what the scar should
   measure). Coastlines are re-sharpened with a seeded texture, and the same texture (tiled
   in ground metres, so 10 m and 20 m bands see the same ground, and the same factor on
   every band, so band ratios keep their value) adds surface detail.
4. Strips go straight into GDAL's in-memory dataset that the COG driver copies from, so no
   full-size float array exists.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import math
import os
import tempfile
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.features
import rasterio.shutil
import scipy.fft
from numpy.typing import NDArray
from PIL import Image
from rasterio.enums import Resampling
from rasterio.transform import Affine
from rasterio.warp import transform as warp_transform
from scipy import ndimage

from satlesson.mirror.synthetic import dem
from satlesson.mirror.synthetic.advertised import advertised_files
from satlesson.mirror.synthetic.archive import s2_scene
from satlesson.mirror.synthetic.filespec import FileSpec
from satlesson.mirror.synthetic.scenes import (
    HLS_EPSG,
    HLS_ORIGIN,
    S2_EPSG,
    S2_ORIGIN,
    SNAPSHOT_VERSION,
    HLSScene,
    S2Scene,
    s2_footprint,
    sun_position,
)
from satlesson.mirror.synthetic.sentinel2 import s2_properties

F32 = NDArray[np.float32]

DATA = Path(__file__).resolve().parents[2] / "data"
CELL = 60.0  # coarse grid, metres
N = 1830  # coarse cells across a 109.8 km tile
TEX = 1020  # texture tile, in 10 m pixels: divisible by the 10/20/30/60 m factors 1, 2, 3, 6
TEX_SHIFT = 390  # per tile row, in 10 m pixels: breaks the texture's grid (divisible by 6)

# DEFLATE level 1 instead of GDAL's 6: the COG copy of a 20 m band takes 0.7 s instead of
# 1.3 s and the file is only ~3 % bigger (noise-textured data compresses about equally).
DEFLATE_LEVEL = 1

# ---------------------------------------------------------------------------------------------
# Spectra (surface reflectance) for the cover types
# ---------------------------------------------------------------------------------------------

S2_BANDS = ("B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B11", "B12")
# Surface reflectance at the band centres, rounded typical values (not measurements) for the
# cover types a learner meets on Rhodes in July-August; every band, the TCI and the previews
# are mixed from these, so NDVI, NBR and the SCL agree across 10, 20 and 60 m. The shapes
# follow the USGS Spectral Library Version 7 (Kokaly et al. 2017, doi:10.5066/F7RR1WDJ):
# vegetation's red well and NIR plateau with SWIR water absorption, brighter soil and rock
# rising into the SWIR, char dark in the visible and NIR with the SWIR higher than the NIR;
# burnt against unburnt as in Huang et al. 2016, "Separability Analysis of Sentinel-2A MSI
# Data for Burned Area Discrimination", Remote Sens. 8(10), 873, doi:10.3390/rs8100873.
# "scrub" is phrygana, the low sparse scrub of dry slopes. Pure spectra give (summer): NDVI
# forest 0.75, maquis 0.61, scrub 0.38, crop (olive groves, vines, summer fields) 0.53,
# bare 0.13, urban 0.14, water -0.5, fresh char 0.14; NBR forest 0.59, maquis 0.36, scrub
# 0.08, crop 0.18, bare -0.04, char -0.33. Pixels mix them with soil
# and rock, so the island's values are a little lower.
S2_SPECTRA: dict[str, tuple[float, ...]] = {
    #          B01    B02    B03    B04    B05    B06    B07    B08    B8A    B09    B11    B12
    "water": (0.060, 0.050, 0.035, 0.015, 0.010, 0.007, 0.006, 0.005, 0.004, 0.003, 0.002, 0.001),
    "forest": (0.025, 0.030, 0.050, 0.035, 0.075, 0.180, 0.225, 0.250, 0.260, 0.250, 0.140, 0.065),
    "maquis": (0.030, 0.035, 0.055, 0.050, 0.090, 0.160, 0.190, 0.210, 0.220, 0.210, 0.190, 0.100),
    "scrub": (0.050, 0.060, 0.085, 0.090, 0.130, 0.170, 0.190, 0.200, 0.210, 0.200, 0.250, 0.170),
    "crop": (0.040, 0.050, 0.080, 0.080, 0.120, 0.200, 0.240, 0.260, 0.270, 0.260, 0.270, 0.180),
    "bare": (0.080, 0.100, 0.150, 0.180, 0.220, 0.240, 0.250, 0.260, 0.270, 0.260, 0.330, 0.280),
    "urban": (0.090, 0.110, 0.130, 0.150, 0.160, 0.170, 0.180, 0.200, 0.200, 0.190, 0.220, 0.190),
    "char": (0.045, 0.050, 0.055, 0.075, 0.085, 0.095, 0.100, 0.100, 0.110, 0.110, 0.190, 0.200),
    "cloud": (0.450, 0.450, 0.450, 0.460, 0.460, 0.470, 0.470, 0.470, 0.470, 0.400, 0.350, 0.250),
}  # fmt: skip
S2_KEY_TO_BAND = {
    "coastal": "B01", "blue": "B02", "green": "B03", "red": "B04", "rededge1": "B05",
    "rededge2": "B06", "rededge3": "B07", "nir": "B08", "nir08": "B8A", "nir09": "B09",
    "swir16": "B11", "swir22": "B12", "aot": "AOT", "wvp": "WVP", "scl": "SCL", "visual": "TCI",
    "cloud": "CLD", "snow": "SNW",
}  # fmt: skip

# HLS L30: B01 coastal, B02-B04 blue/green/red, B05 NIR, B06/B07 SWIR, B09 cirrus (TOA).
HLS_REFLECTIVE = ("B01", "B02", "B03", "B04", "B05", "B06", "B07", "B09")
HLS_SPECTRA: dict[str, tuple[float, ...]] = {
    #          B01    B02    B03    B04    B05    B06    B07    B09
    "water": (0.045, 0.040, 0.040, 0.025, 0.012, 0.006, 0.004, 0.001),
    "forest": (0.040, 0.045, 0.070, 0.070, 0.220, 0.200, 0.120, 0.002),  # dormant woods
    "maquis": (0.045, 0.050, 0.075, 0.080, 0.210, 0.220, 0.140, 0.002),  # winter scrub
    "scrub": (0.050, 0.055, 0.080, 0.090, 0.200, 0.240, 0.160, 0.002),  # winter grass
    "crop": (0.060, 0.070, 0.090, 0.110, 0.220, 0.280, 0.200, 0.002),  # winter fields
    "bare": (0.070, 0.085, 0.110, 0.140, 0.230, 0.290, 0.220, 0.002),
    "urban": (0.080, 0.090, 0.100, 0.110, 0.160, 0.180, 0.160, 0.002),
    "char": (0.040, 0.045, 0.050, 0.060, 0.090, 0.160, 0.140, 0.002),
    "snow": (0.800, 0.800, 0.780, 0.750, 0.650, 0.080, 0.050, 0.003),
    "cloud": (0.500, 0.500, 0.500, 0.500, 0.520, 0.400, 0.280, 0.010),
}  # fmt: skip
# Bands whose vegetation reflectance sags as the summer dries the leaves (the NIR plateau).
NIR_BANDS = ("B06", "B07", "B08", "B8A", "B09")
DRYING_PER_DAY = 0.0008  # NIR -4 % over 50 days: unburnt dNBR ~0.02 between 8 July and 27 Aug

# (lon, lat, sigma metres, weight): town centres that get an urban fraction.
RHODES_TOWNS = (
    (28.222, 36.440, 1800.0, 1.0),  # Rhodes town, the island's northern tip
    (28.150, 36.410, 1500.0, 0.6),  # Ialysos
    (28.080, 36.092, 500.0, 0.5),  # Lindos
    (27.288, 36.893, 1200.0, 0.9),  # Kos town
    (27.690, 36.728, 700.0, 0.5),  # Datca
    (27.430, 37.035, 1500.0, 0.8),  # Bodrum, on the tile's top edge
)
NYC_TOWNS = (
    (-73.970, 40.780, 9000.0, 1.0),  # Manhattan and the inner boroughs
    (-73.950, 40.650, 9000.0, 0.9),  # Brooklyn
    (-74.170, 40.735, 7000.0, 0.8),  # Newark
    (-74.050, 40.890, 8000.0, 0.6),  # Hackensack
    (-73.765, 41.033, 4000.0, 0.5),  # White Plains
    (-74.420, 40.650, 8000.0, 0.4),  # Plainfield
)

# The 2023 Rhodes wildfire: outline and provenance in data/rhodes-2023-burn-scar.geojson.
# Severity (dNBR against the same day unburnt) is spread over the scar so that the USGS classes
# take the shares of the damage grades the Copernicus EMS mapped: 17.1 % slightly damaged ->
# low (0.10-0.27), 74.6 % moderately -> split between moderate-low (0.27-0.44) and
# moderate-high (0.44-0.66), 8.3 % highly damaged or destroyed -> high (> 0.66). Severity
# grows away from the perimeter. The fire spread from the central mountains (ignition point
# approximate).
SCAR_FILE = "rhodes-2023-burn-scar.geojson"
SCAR_IGNITION = (583500.0, 4006500.0)  # EPSG:32635, between Apollona and Laerma
# (cumulative share of the scar, dNBR): the quantile function of the severity.
SEVERITY_QUANTILES = ((0.0, 0.10), (0.1711, 0.27), (0.5442, 0.44), (0.9173, 0.66), (1.0, 0.88))
USGS_CLASSES = (("low", 0.10, 0.27), ("moderate-low", 0.27, 0.44),
                ("moderate-high", 0.44, 0.66), ("high", 0.66, 2.0))  # fmt: skip
CLOUD_HEIGHT = 2000.0  # metres: where shadows fall follows from the sun's position
# Sea reflectance (red band) added by coastal water: MIN offshore, MIN + COAST at the shore,
# falling off over REACH metres; the dark open sea sits DARK_SEA below the clear-water
# spectrum in the red and longer bands. INVENTED, calibrated on the real red band (see
# _sea_fields).
SEA_TURBID_MIN = 0.0015
SEA_TURBID_COAST = 0.010
SEA_TURBID_REACH = 4000.0
DARK_SEA = 0.15
DARK_SEA_BELOW = 0.02  # ... in the bands whose clear-water reflectance is below this
# How much of the red band's coastal brightening each band sees (visible most).
SEA_TURBID_WEIGHT = {"B01": 1.0, "B02": 1.0, "B03": 1.0, "B04": 1.0, "B05": 0.6}


@dataclass(frozen=True)
class Tile:
    name: str
    epsg: int
    origin: tuple[float, float]
    land_file: str
    towns: tuple[tuple[float, float, float, float], ...]
    veg_bias: float  # shifts the vegetation / bare balance
    has_scar: bool  # the tile holds the 2023 burn scar
    dark_sea_share: float = 0.0  # share of the sea that reads below zero (see _sea_fields)


Footprint = tuple[tuple[float, float], ...]  # lon/lat ring; west of it is no-data

S2_TILE = Tile("35SNA", S2_EPSG, S2_ORIGIN, "rhodes-land.geojson", RHODES_TOWNS, -0.3, True,
               dark_sea_share=0.2)
HLS_TILE = Tile("18TWL", HLS_EPSG, HLS_ORIGIN, "nyc-land.geojson", NYC_TOWNS, 0.6, False)


def _seed(*parts: object) -> int:
    """A stable seed: Python's hash() is salted per process, crc32 is not."""
    return zlib.crc32("/".join(map(str, parts)).encode())


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], sigma: float,
                  seamless: bool = False) -> F32:  # fmt: skip
    """Gaussian-filtered white noise rescaled to unit standard deviation (float32).

    Filtered in Fourier space: 10-50x faster than gaussian_filter at large sigma. A seamless
    field wraps around exactly; otherwise it is cut from a larger FFT-friendly square
    (1830 has the prime factor 61, slow for the FFT).
    """
    full = shape if seamless else tuple(scipy.fft.next_fast_len(n, real=True) for n in shape)
    spectrum = scipy.fft.rfft2(rng.standard_normal(full, dtype=np.float32))
    field = scipy.fft.irfft2(ndimage.fourier_gaussian(spectrum, sigma, n=full[1]), s=full)
    field = field[: shape[0], : shape[1]]
    return (field / field.std()).astype(np.float32)


def _coarse_xy(tile: Tile) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    x0, y1 = tile.origin
    xs = x0 + (np.arange(N) + 0.5) * CELL
    ys = y1 - (np.arange(N) + 0.5) * CELL
    return xs, ys


# ---------------------------------------------------------------------------------------------
# Coarse fields
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Base:
    """Scene-independent 60 m fields of one tile."""

    land: F32  # smoothed 0..1 land fraction
    land01: NDArray[np.uint8]  # the land polygon, rasterized
    veg: F32  # cover fractions of a land cell: veg + crop + bare + urban = 1
    bare: F32
    urban: F32
    dense: F32  # 0 phrygana .. 0.5 maquis .. 1 forest: what kind of vegetation
    crop: F32  # fields and groves, in parcels on the coastal lowlands
    scar_order: F32  # 0..1 inside the scar (when it burns, by area rank), 2 outside
    severity: F32  # inside the scar: dNBR to reach against unburnt ground, 0 outside
    turbid: F32  # sea: reflectance added by coastal water (red band; 0 on land)
    dark_sea: NDArray[np.bool_]  # open sea that the atmospheric correction drives below zero


@functools.cache
def base_fields(tile: Tile) -> Base:
    x0, y1 = tile.origin
    doc = json.loads((DATA / tile.land_file).read_text())
    geoms = [f["geometry"] for f in doc["features"]]
    land01 = rasterio.features.rasterize(
        geoms, out_shape=(N, N), transform=Affine(CELL, 0, x0, 0, -CELL, y1), dtype="uint8"
    )
    land = ndimage.gaussian_filter(land01.astype(np.float32), 0.8)

    rng = np.random.default_rng(_seed("base", tile.name))
    vegscore = 0.7 * _smooth_noise(rng, (N, N), 5) + 0.7 * _smooth_noise(rng, (N, N), 25)
    veg = 1 / (1 + np.exp(-2.0 * (vegscore + tile.veg_bias)))

    xs, ys = _coarse_xy(tile)
    lons, lats = zip(*[(t[0], t[1]) for t in tile.towns], strict=True)
    tx, ty = warp_transform("EPSG:4326", f"EPSG:{tile.epsg}", list(lons), list(lats))
    urban = np.zeros((N, N), np.float32)
    for cx, cy, (_, _, sigma, weight) in zip(tx, ty, tile.towns, strict=True):
        gx = np.exp(-0.5 * ((xs - cx) / sigma) ** 2).astype(np.float32)
        gy = np.exp(-0.5 * ((ys - cy) / sigma) ** 2).astype(np.float32)
        urban += weight * np.outer(gy, gx)
    urban = np.clip(urban * (1 + 0.4 * _smooth_noise(rng, (N, N), 2)), 0, 0.95)
    dense = np.clip(0.5 + 0.45 * _smooth_noise(rng, (N, N), 10), 0, 1).astype(np.float32)

    scar_order = np.full((N, N), 2.0, np.float32)
    severity = np.zeros((N, N), np.float32)
    if tile.has_scar:
        doc = json.loads((DATA / SCAR_FILE).read_text())
        outline = rasterio.features.rasterize(
            [f["geometry"] for f in doc["features"]], out_shape=(N, N),
            transform=Affine(CELL, 0, x0, 0, -CELL, y1), dtype="uint8",
        ).astype(bool)  # fmt: skip
        # A fire's edge is ragged: the outline, moved in and out by a few hundred metres.
        signed = (ndimage.distance_transform_edt(outline)
                  - ndimage.distance_transform_edt(~outline)) * CELL  # fmt: skip
        ragged = 450 * _smooth_noise(rng, (N, N), 4) + 200 * _smooth_noise(rng, (N, N), 1.5)
        scar = (signed + ragged > 0) & (land01 == 1)
        # Pine forest and maquis burnt: the centre of the island was well wooded before the
        # fire, more so than the lowlands, but with no edge that foretells the scar.
        wooded = ndimage.gaussian_filter(outline.astype(np.float32), 25)
        wooded = np.clip(1.6 * wooded + 0.25 * _smooth_noise(rng, (N, N), 6), 0, 1)
        veg = veg + (0.95 - veg) * np.clip(wooded, 0, None) * (veg < 0.95)
        dense = dense + (0.9 - dense) * wooded * (dense < 0.9)
        spread = np.hypot(xs[None, :] - SCAR_IGNITION[0], ys[:, None] - SCAR_IGNITION[1])
        spread = spread / 1000 + 2.5 * _smooth_noise(rng, (N, N), 8)
        scar_order[scar] = _ranks(spread[scar])
        # Severity: low along the perimeter, patchy inside, then mapped to the graded shares.
        inland = np.minimum(ndimage.distance_transform_edt(scar) * CELL / 1500, 1)
        score = 0.6 * inland + 0.4 * _smooth_noise(rng, (N, N), 4)
        u, d = zip(*SEVERITY_QUANTILES, strict=True)
        severity[scar] = np.interp(_ranks(score[scar]), u, d)
    # Farmland: ~300 m parcels within ~3 km of the sea, away from towns and the burnt forest.
    parcels = np.repeat(np.repeat(rng.random((-(-N // 5), -(-N // 5))), 5, 0), 5, 1)[:N, :N]
    lowland = ndimage.distance_transform_edt(land01) * CELL < 3000
    crop = ((parcels > 0.8) & lowland & (land01 == 1) & (scar_order > 1)).astype(np.float32)
    crop = (0.85 * crop * (1 - urban)).astype(np.float32)
    veg = (veg * (1 - urban - crop)).astype(np.float32)
    bare = (1 - urban - crop - veg).astype(np.float32)
    turbid, dark_sea = _sea_fields(tile, land01, rng)
    return Base(land, land01, veg, bare, urban, dense, crop, scar_order, severity, turbid,
                dark_sea)


def _sea_fields(tile: Tile, land01: NDArray[np.uint8], rng: np.random.Generator
                ) -> tuple[F32, NDArray[np.bool_]]:  # fmt: skip
    """Coastal water brighter than the open sea, and open sea that reads as zero.

    INVENTED, CALIBRATED: the real red band of S2A_35SNA_20230827_0_L2A at 80 m (the original
    lesson's episode 06: quartiles 165 and 315, mean 404, with a quarter of its pixels 0 where
    the swath's no-data covers only 12 %) says the tile's sea spans ~0.017-0.032 in red near
    land and that a large share of the open sea is 0: Earth Search removed the +1000 offset
    and clipped what Sen2Cor put below zero. ``tests/test_reference_figures.py`` checks it.
    """
    sea = land01 == 0
    if tile.dark_sea_share == 0:
        return np.zeros(land01.shape, np.float32), np.zeros(land01.shape, bool)
    dist = ndimage.distance_transform_edt(sea) * CELL
    turbid = SEA_TURBID_MIN + SEA_TURBID_COAST * np.exp(-dist / SEA_TURBID_REACH)
    turbid = turbid * (1 + 0.15 * _smooth_noise(rng, land01.shape, 6))
    offshore = dist + 3000 * _smooth_noise(rng, land01.shape, 20)
    dark = sea & (offshore > np.quantile(offshore[sea], 1 - tile.dark_sea_share))
    return np.where(sea, turbid, 0).astype(np.float32), dark


def _ranks(values: NDArray[Any]) -> NDArray[np.float32]:
    """Each value's rank as a fraction 0..1."""
    ranks = np.argsort(np.argsort(values, kind="stable"), kind="stable")
    return (ranks / max(len(ranks) - 1, 1)).astype(np.float32)


def _west_edge(tile: Tile, footprint: Footprint, ys: NDArray[np.float64]
               ) -> NDArray[np.float64]:  # fmt: skip
    """Easting of the footprint's western boundary at each northing in ``ys``.

    Only the west side is cut: the footprint's other sides lie on (or a metre off) the tile's
    edges, where real products have data.
    """
    lon, lat = zip(*footprint, strict=True)
    px, py = (np.asarray(a) for a in warp_transform("EPSG:4326", f"EPSG:{tile.epsg}",
                                                    list(lon), list(lat)))  # fmt: skip
    yc = np.clip(ys, py.min() + 1e-6, py.max() - 1e-6)
    west = np.full(len(ys), np.inf)
    for i in range(len(px) - 1):
        xa, ya, xb, yb = px[i], py[i], px[i + 1], py[i + 1]
        if ya == yb:
            continue
        hit = (yc >= min(ya, yb)) & (yc < max(ya, yb))
        x = xa + (yc - ya) * (xb - xa) / (yb - ya)
        west = np.where(hit, np.minimum(west, x), west)
    return west


@dataclass(frozen=True)
class SceneFields:
    cloud: F32  # opacity 0..1
    shadow: F32  # 0..1
    cirrus: F32  # extra reflectance-ish 0..1
    burnt: F32  # 0..1: how much of a land cell's reflectance is char
    ndvi: F32  # of the cloud-free ground: what the SCL's vegetation class follows
    snow: F32  # 0..1 (HLS winter scenes)
    gain: float  # per-scene brightness
    dried: float  # days of summer drying since 23 June
    aot: float
    wvp: float


def _scene_key(scene: S2Scene | HLSScene
               ) -> tuple[Tile, str, float, float, float, bool, float, float]:  # fmt: skip
    if isinstance(scene, S2Scene):
        p = s2_properties(scene)  # the item's own sun angles
        dried = (scene.day - date(2023, 6, 23)).days
        return (S2_TILE, scene.id, scene.cloud_cover, scene.burn_fraction, float(dried), False,
                p["view:sun_azimuth"], p["view:sun_elevation"])  # fmt: skip
    # Snow lay around New York through most of February 2021.
    snowy = date(2021, 2, 1) <= scene.when.date() <= date(2021, 2, 25)
    azimuth, elevation = sun_position(scene.when, -74.35, 41.08)
    return HLS_TILE, scene.id, float(scene.cloud_cover), 0.0, 0.0, snowy, azimuth, elevation


def _spectrum(tile: Tile, band: str) -> dict[str, float]:
    spectra = S2_SPECTRA if tile is S2_TILE else HLS_SPECTRA
    i = (S2_BANDS if tile is S2_TILE else HLS_REFLECTIVE).index(band)
    return {name: values[i] for name, values in spectra.items()}


def _ground(tile: Tile, b: Base, band: str, dried: float) -> F32:
    """Unburnt, cloud-free land reflectance of one band at 60 m."""
    s = _spectrum(tile, band)
    a = np.clip(2 * b.dense, 0, 1)
    c = np.clip(2 * b.dense - 1, 0, 1)
    veg = s["scrub"] + (s["maquis"] - s["scrub"]) * a + (s["forest"] - s["maquis"]) * c
    if band in NIR_BANDS:
        veg = veg * (1 - DRYING_PER_DAY * dried)
    mix = b.veg * veg + b.crop * s["crop"] + b.bare * s["bare"] + b.urban * s["urban"]
    return mix.astype(np.float32)


def _char_weight(tile: Tile, b: Base, burning: NDArray[np.bool_], dried: float) -> F32:
    """Per cell, the share of char that lowers NBR (B08, B12) by the cell's severity."""
    n0, s0 = _ground(tile, b, "B08", dried), _ground(tile, b, "B12", dried)
    nc, sc = S2_SPECTRA["char"][S2_BANDS.index("B08")], S2_SPECTRA["char"][S2_BANDS.index("B12")]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (n0 - s0) / (n0 + s0) - b.severity  # the NBR to reach
        w = (s0 * (1 + t) - n0 * (1 - t)) / ((nc - n0) * (1 - t) - (sc - s0) * (1 + t))
    return np.where(burning, np.clip(np.nan_to_num(w), 0, 1), 0).astype(np.float32)


def _shift(field: F32, rows: int, cols: int) -> F32:
    """``field`` moved by whole cells (down, right), zeros shifted in."""
    out = np.zeros_like(field)
    h, w = field.shape
    out[max(rows, 0) : h + min(rows, 0), max(cols, 0) : w + min(cols, 0)] = field[
        max(-rows, 0) : h + min(-rows, 0), max(-cols, 0) : w + min(-cols, 0)]
    return out


@functools.lru_cache(maxsize=4)
def scene_fields(tile: Tile, item_id: str, cloud_cover: float, burn: float, dried: float,
                 snow: bool, sun_azimuth: float, sun_elevation: float) -> SceneFields:  # fmt: skip
    """``burn`` is the burnt fraction of the scar; ``snow``: snow cover (HLS winter scenes)."""
    rng = np.random.default_rng(_seed("scene", item_id))
    b = base_fields(tile)
    cover = cloud_cover / 100
    cloud = np.zeros((N, N), np.float32)
    shadow = np.zeros((N, N), np.float32)
    if cover > 0:
        # Cumulus fields: small cells (sigma 180 m) clustered by a large-scale envelope.
        field = _smooth_noise(rng, (N, N), 3) + 1.2 * _smooth_noise(rng, (N, N), 30)
        threshold = float(np.quantile(field, 1 - cover))
        cloud = np.clip(0.5 + (field - threshold) / 0.6, 0, 1).astype(np.float32)
        # Shadows fall away from the sun, CLOUD_HEIGHT / tan(elevation) from their clouds.
        reach = CLOUD_HEIGHT / math.tan(math.radians(sun_elevation)) / CELL
        east = -reach * math.sin(math.radians(sun_azimuth))
        north = -reach * math.cos(math.radians(sun_azimuth))
        shadow = _shift(cloud, -round(north), round(east)) * (1 - cloud)
    cirrus = np.zeros((N, N), np.float32)
    if cloud_cover > 5:
        veil = _smooth_noise(rng, (N, N), 40)
        cirrus = np.clip((veil - 1.0) * 0.5, 0, 0.4).astype(np.float32)
    burnt = np.zeros((N, N), np.float32)
    if burn > 0:
        burnt = _char_weight(tile, b, b.scar_order <= burn, dried)
    # NDVI as the sensor sees it, thin cloud, cirrus and shadow included (Sen2Cor's view).
    red, nir = (_burnt_ground(tile, b, band, dried, burnt) * (1 - 0.6 * shadow) * (1 - cloud)
                + cloud * _spectrum(tile, band)["cloud"] + 0.15 * cirrus
                for band in _NDVI_BANDS[tile.name])  # fmt: skip
    with np.errstate(divide="ignore", invalid="ignore"):
        ndvi = np.nan_to_num((nir - red) / (nir + red)).astype(np.float32)
    snow_cover = np.zeros((N, N), np.float32)
    if snow:
        snow_cover = np.clip(0.7 + 0.3 * _smooth_noise(rng, (N, N), 10), 0, 1) * (1 - b.urban)
        snow_cover = snow_cover.astype(np.float32)
    return SceneFields(
        cloud=cloud, shadow=shadow, cirrus=cirrus, burnt=burnt, ndvi=ndvi, snow=snow_cover,
        gain=float(1 + 0.02 * rng.standard_normal()), dried=dried,
        aot=float(0.09 + 0.08 * rng.random()),
        wvp=float(1.7 + 0.9 * rng.random()),
    )  # fmt: skip


_NDVI_BANDS = {"35SNA": ("B04", "B08"), "18TWL": ("B04", "B05")}


# The visible bands turn first: scorched leaves brown and blacken before the canopy's NIR is
# gone, so burnt ground's NDVI falls about as fast as its NBR (dNDVI ~0.8 dNBR).
VISIBLE = ("B01", "B02", "B03", "B04")
VISIBLE_BURN_GAIN = 2.2


def _burnt_ground(tile: Tile, b: Base, band: str, dried: float, burnt: F32) -> F32:
    ground = _ground(tile, b, band, dried)
    if not burnt.any():
        return ground
    share = np.minimum(burnt * VISIBLE_BURN_GAIN, 1) if band in VISIBLE else burnt
    return (ground + (_spectrum(tile, band)["char"] - ground) * share).astype(np.float32)


def _fields(scene: S2Scene | HLSScene) -> tuple[Tile, Base, SceneFields]:
    key = _scene_key(scene)
    return key[0], base_fields(key[0]), scene_fields(*key)


def coarse_reflectance(scene: S2Scene | HLSScene, band: str) -> tuple[F32, F32]:
    """60 m (land, sea) surface reflectance of one band, clouds included."""
    tile, b, sf = _fields(scene)
    s = _spectrum(tile, band)
    land = _burnt_ground(tile, b, band, sf.dried, sf.burnt)
    if "snow" in s:
        land = land * (1 - sf.snow) + sf.snow * s["snow"]
    land = land * sf.gain
    sea = np.full((N, N), s["water"], np.float32)
    if tile is S2_TILE:
        sea += SEA_TURBID_WEIGHT.get(band, 0.3) * b.turbid
        if s["water"] < DARK_SEA_BELOW:  # blue and green stay bright over the open sea
            sea -= DARK_SEA * b.dark_sea
    out = []
    for r in (land, sea):
        r = r * (1 - 0.6 * sf.shadow)
        r = r * (1 - sf.cloud) + sf.cloud * s["cloud"] + 0.15 * sf.cirrus
        out.append(r.astype(np.float32))
    return out[0], out[1]


# ---------------------------------------------------------------------------------------------
# Upsampling and texture
# ---------------------------------------------------------------------------------------------


class Upsampler:
    """Bilinear resampling of a 60 m field onto an aligned grid ``k`` times finer.

    Rows (few, at coarse width) are gathered; columns are interpolated phase by phase on
    shifted views, which avoids full-width fancy indexing, the slow part of the naive version.
    """

    def __init__(self, k: int, n: int) -> None:
        self.k, self.n = k, n
        u = (np.arange(n) + 0.5) / k - 0.5
        i0 = np.clip(np.floor(u).astype(np.int64), 0, N - 1)
        self.i0, self.i1 = i0, np.minimum(i0 + 1, N - 1)
        self.w = np.clip(u - i0, 0, 1).astype(np.float32)
        # Fine column c*k + m sits at coarse c + d: between c-1 and c if d < 0, else c and c+1.
        d = (np.arange(k) + 0.5) / k - 0.5
        self.phases = [(0, np.float32(1 + dm)) if dm < 0 else (1, np.float32(dm)) for dm in d]

    def __call__(self, field: F32, r0: int, r1: int) -> F32:
        if self.k == 1:
            return field[r0:r1].copy()
        w = self.w[r0:r1, None]
        a = field[self.i0[r0:r1]]
        rows = a + (field[self.i1[r0:r1]] - a) * w
        padded = np.concatenate([rows[:, :1], rows, rows[:, -1:]], axis=1)
        diffs = [padded[:, s + 1 : s + 1 + N] - padded[:, s : s + N] for s in (0, 1)]
        out = np.empty((r1 - r0, N, self.k), np.float32)
        for m, (s, wm) in enumerate(self.phases):
            np.multiply(diffs[s], wm, out=out[:, :, m])
            out[:, :, m] += padded[:, s : s + N]
        return out.reshape(r1 - r0, N * self.k)[:, : self.n]


@functools.cache
def _texture_tile() -> F32:
    """One seeded 1020² noise tile (unit std), the surface detail of every raster."""
    rng = np.random.default_rng(_seed("texture"))
    fine = _smooth_noise(rng, (TEX, TEX), 1.0, seamless=True)
    field = _smooth_noise(rng, (TEX, TEX), 5.0, seamless=True)
    mixed = 0.6 * fine + 0.8 * field
    return (mixed / mixed.std()).astype(np.float32)


@functools.cache
def _scaled_tile(f: int, transpose: bool, scale: float, add: float) -> F32:
    tile = _texture_tile()
    return np.ascontiguousarray((tile.T if transpose else tile)[::f, ::f] * scale + add)


def _texture(f: int, r0: int, r1: int, width: int, transpose: bool = False,
             scale: float = 1.0, add: float = 0.0) -> F32:  # fmt: skip
    """``add + scale * texture`` for rows r0:r1 of a grid of f x 10 m pixels.

    The tile is indexed in 10 m ground units, so bands of different resolution see the same
    ground; each tile row is shifted sideways so the 10 km repeat doesn't line up. The rows
    must lie in one tile row (``_strips`` guarantees it).
    """
    tile = _scaled_tile(f, transpose, scale, add)
    period = TEX // f
    band, top = divmod(r0, period)
    assert r1 - band * period <= period
    rolled = np.roll(tile[top : top + r1 - r0], -(TEX_SHIFT // f) * band, axis=1)
    return np.tile(rolled, (1, -(-width // period)))[:, :width]


def _strips(n: int, f: int) -> Iterator[tuple[int, int]]:
    step = TEX // f if f > 1 else TEX // 3  # 340 rows at 10 m keeps strips ~15 MB a field
    for r0 in range(0, n, step):
        yield r0, min(r0 + step, n)


# ---------------------------------------------------------------------------------------------
# Raster content
# ---------------------------------------------------------------------------------------------


@dataclass
class Grid:
    n: int  # rows = cols
    res: float

    @property
    def f(self) -> int:
        return round(self.res / 10)

    @property
    def k(self) -> int:
        return round(CELL / self.res)


def _grid(spec: FileSpec) -> Grid:
    rows, cols = spec.shape
    a, _, c, _, e, f = spec.transform
    if rows != cols or a != -e:
        raise ValueError(f"{spec.asset_key}: only square grids are generated")
    return Grid(int(rows), float(a))


@functools.lru_cache(maxsize=4)
def _sea_bits(tile: Tile, n: int, res: float) -> NDArray[np.uint8]:
    """Sea mask on a band's grid, bit-packed (15 MB at 10 m); every band and SCL share it.

    The smooth 60 m land fraction plus texture, thresholded: coastlines sharp at 10 m.
    """
    grid = Grid(n, res)
    up = Upsampler(grid.k, n)
    land = base_fields(tile).land
    packed = np.empty((n, -(-n // 8)), np.uint8)
    for r0, r1 in _strips(n, grid.f):
        sea = up(land, r0, r1) + _texture(grid.f, r0, r1, n, transpose=True, scale=0.15) < 0.5
        packed[r0:r1] = np.packbits(sea, axis=1)
    return packed


def _sea(tile: Tile, grid: Grid, r0: int, r1: int) -> NDArray[np.bool_]:
    bits = _sea_bits(tile, grid.n, grid.res)[r0:r1]
    return np.unpackbits(bits, axis=1, count=grid.n).view(bool)


def _footprint(scene: S2Scene | HLSScene) -> Footprint | None:
    """The scene's data footprint, where its tile has a swath edge (None: all valid)."""
    return s2_footprint(scene) if isinstance(scene, S2Scene) else None


def _valid_from(tile: Tile, footprint: Footprint, grid: Grid) -> NDArray[np.int64]:
    """Per row of the band's grid: the first column east of the swath edge."""
    x0, y1 = tile.origin
    ys = y1 - (np.arange(grid.n) + 0.5) * grid.res
    west = _west_edge(tile, footprint, ys)
    return np.clip(np.ceil((west - x0) / grid.res - 0.5), 0, grid.n).astype(np.int64)


def reflectance_strips(scene: S2Scene | HLSScene, band: str, grid: Grid
                       ) -> Iterator[tuple[int, int, F32]]:  # fmt: skip
    """(r0, r1, reflectance x 10000) per strip on the band's grid, float32."""
    tile, b, sf = _fields(scene)
    land_c, sea_c = (r * np.float32(1e4) for r in coarse_reflectance(scene, band))
    flat_sea = tile is not S2_TILE and not (sf.cloud.any() or sf.cirrus.any())
    up = Upsampler(grid.k, grid.n)
    for r0, r1 in _strips(grid.n, grid.f):
        refl = up(land_c, r0, r1)
        refl *= _texture(grid.f, r0, r1, grid.n, scale=0.1, add=1.0)
        sea = _texture(grid.f, r0, r1, grid.n, transpose=True, scale=20.0)
        sea += sea_c[0, 0] if flat_sea else up(sea_c, r0, r1)
        np.copyto(refl, sea, where=_sea(tile, grid, r0, r1))
        yield r0, r1, refl


def _dn(values: F32, add: float, lo: float, hi: float, dtype: type) -> NDArray[Any]:
    values += add + 0.5  # rounds on the truncating cast (values are positive)
    return np.clip(values, lo, hi, out=values).astype(dtype)


def _s2_strips(spec: FileSpec) -> Iterator[tuple[int, int, NDArray[Any]]]:
    """(r0, r1, array[count, rows, cols]) for an S2 raster asset, no-data applied."""
    scene: S2Scene = spec.scene
    grid = _grid(spec)
    tile, b, sf = _fields(scene)
    what = S2_KEY_TO_BAND[spec.asset_key.removesuffix("-jp2")]
    valid_from = _valid_from(tile, s2_footprint(scene), grid)

    def blank(a: NDArray[Any], r0: int) -> NDArray[Any]:
        for i in range(a.shape[-2]):
            a[..., i, : valid_from[r0 + i]] = 0
        return a

    if what in S2_BANDS:
        # sentinel-2-l2a items with earthsearch:boa_offset_applied store DN = 10000 x
        # reflectance (Element 84 removed ESA's +1000 and clipped below zero, so dark sea
        # reads 0, the no-data value), although raster:bands still say offset -0.1;
        # sentinel-2-c1-l2a keeps the +1000 (dn_offset), so dark sea stays valid.
        add = np.float32(spec.dn_offset)
        for r0, r1, refl in reflectance_strips(scene, what, grid):
            # Rounded before the offset is added, so both collections hold the same counts.
            dn = np.floor(refl + np.float32(0.5), out=refl) + add
            yield r0, r1, blank(np.clip(dn, 1 if add else 0, 65535).astype(np.uint16)[None], r0)
    elif what == "CLD":  # cloud probability, percent
        up = Upsampler(grid.k, grid.n)
        for r0, r1 in _strips(grid.n, grid.f):
            v = up(sf.cloud, r0, r1) * 100 + _texture(grid.f, r0, r1, grid.n, scale=2.0)
            yield r0, r1, blank(_dn(v, 0, 0, 100, np.uint8)[None], r0)
    elif what == "SNW":  # snow probability: none in a Rhodes summer
        for r0, r1 in _strips(grid.n, grid.f):
            yield r0, r1, np.zeros((1, r1 - r0, grid.n), np.uint8)
    elif what == "TCI":
        parts = [reflectance_strips(scene, band, grid) for band in ("B04", "B03", "B02")]
        for strips in zip(*parts, strict=True):
            r0, r1 = strips[0][0], strips[0][1]
            # Saturates at reflectance 0.25, about as bright as Sen2Cor's TCI stretch.
            rgb = np.stack([_dn(s[2] * np.float32(0.102), 0, 1, 255, np.uint8) for s in strips])
            yield r0, r1, blank(rgb, r0)
    elif what in ("AOT", "WVP"):
        up = Upsampler(grid.k, grid.n)
        if what == "AOT":  # AOT x 1000, thicker where hazy
            field = (sf.aot + 0.05 * b.urban + 0.1 * sf.cirrus) * 1000
        else:  # water vapour, cm x 1000: drier over land (elevation), wetter over sea
            field = (sf.wvp - 0.4 * b.land) * 1000
        field = field.astype(np.float32)
        for r0, r1 in _strips(grid.n, grid.f):
            v = up(field, r0, r1) + _texture(grid.f, r0, r1, grid.n, scale=3.0)
            yield r0, r1, blank(_dn(v, 0, 1, 65535, np.uint16)[None], r0)
    elif what == "SCL":
        up = Upsampler(grid.k, grid.n)
        t = scl_thresholds(scene)
        for r0, r1 in _strips(grid.n, grid.f):
            tex = _texture(grid.f, r0, r1, grid.n)
            land = ~_sea(tile, grid, r0, r1)
            scl = np.where(land, np.uint8(5), np.uint8(6))
            # Sen2Cor calls bright-red, high-NDVI land vegetated; burnt ground is not.
            scl[land & (up(sf.ndvi, r0, r1) > t.vegetation)] = 4
            scl[land & (up(t.dark_field, r0, r1) < t.dark)] = 2
            scl[up(sf.shadow, r0, r1) + 0.1 * tex > t.shadow] = 3
            if sf.cirrus.any():
                scl[up(sf.cirrus, r0, r1) > t.cirrus] = 10
            cloud = up(sf.cloud, r0, r1) + 0.1 * tex
            scl[cloud > t.medium] = 8
            scl[cloud > t.high] = 9
            yield r0, r1, blank(scl[None], r0)
    else:
        raise ValueError(f"no generator for S2 asset {spec.asset_key!r}")


@dataclass(frozen=True)
class SclThresholds:
    vegetation: float  # NDVI above which clear land is vegetation (4)
    dark: float  # red reflectance below which land is a dark feature (2)
    dark_field: F32  # that red reflectance, 60 m
    shadow: float
    cirrus: float
    medium: float  # cloud opacity above which: medium probability (8)
    high: float  # ... and high probability (9)


def _top(values: F32, share: float, default: float) -> float:
    """The threshold above which ``share`` of ``values`` lie (``default`` when none should)."""
    if share <= 0 or values.size == 0:
        return default
    return float(np.quantile(values, 1 - min(share, 1.0)))


@functools.lru_cache(maxsize=4)
def _scl_thresholds(item_id: str) -> SclThresholds:
    scene = s2_scene(item_id)
    tile, b, sf = _fields(scene)
    p = s2_properties(scene)
    xs, ys = _coarse_xy(tile)
    valid = xs[None, :] >= _west_edge(tile, s2_footprint(scene), ys)[:, None]
    n = valid.sum()

    def share(key: str) -> float:  # a class's share of the valid cells, 0..1
        return p[f"s2:{key}_percentage"] / 100

    cloud = sf.cloud[valid]
    high = _top(cloud, share("high_proba_clouds"), 2.0)
    medium = _top(cloud, share("high_proba_clouds") + share("medium_proba_clouds"), 2.0)
    cirrus = _top(sf.cirrus[valid], share("thin_cirrus"), 2.0)
    shadow = _top(sf.shadow[valid], share("cloud_shadow"), 2.0)
    land = valid & (b.land01 == 1) & (sf.cloud < min(medium, 1.0)) & (sf.shadow < shadow)
    vegetation = _top(sf.ndvi[land], share("vegetation") * n / max(land.sum(), 1), 2.0)
    # Dark features: the darkest unburnt ground (steep shade), so that the scar stays land.
    red, _ = coarse_reflectance(scene, "B04")
    red = np.where(b.scar_order > 1, red, np.float32(9.0))
    dark_share = share("dark_features") * n / max(land.sum(), 1)
    dark = -_top(-red[land], dark_share, 1.0) if dark_share > 0 else -1.0
    return SclThresholds(vegetation, dark, red, shadow, cirrus, medium, high)


def scl_thresholds(scene: S2Scene) -> SclThresholds:
    """Per scene, the SCL's thresholds on the 60 m fields, chosen so that each class covers
    the share of the valid pixels that the item's ``s2:*_percentage`` states."""
    return _scl_thresholds(scene.id)


HLS_THERMAL = ("B10", "B11")
HLS_ANGLES = ("SAA", "SZA", "VAA", "VZA")


def _hls_strips(spec: FileSpec) -> Iterator[tuple[int, int, NDArray[Any]]]:
    scene: HLSScene = spec.scene
    grid = _grid(spec)
    tile, b, sf = _fields(scene)
    key = spec.asset_key
    up = Upsampler(grid.k, grid.n)
    if key in HLS_REFLECTIVE:
        for r0, r1, refl in reflectance_strips(scene, key, grid):
            yield r0, r1, _dn(refl, 0, -9998, 16000, np.int16)[None]
    elif key in HLS_THERMAL:  # brightness temperature, 0.01 deg C
        mean = 2.0 + 0.25 * (scene.when.timetuple().tm_yday - 30)
        field = (mean + 3 * b.urban - 2 * sf.snow - 25 * sf.cloud) * b.land
        field = field + (1 - b.land) * 4.0 - (1.0 if key == "B11" else 0.0)
        field = (field * 100).astype(np.float32)
        for r0, r1 in _strips(grid.n, grid.f):
            v = up(field, r0, r1) + _texture(grid.f, r0, r1, grid.n, scale=30.0)
            yield r0, r1, np.clip(v, -9998, 32767).astype(np.int16)[None]
    elif key == "Fmask":
        for r0, r1 in _strips(grid.n, grid.f):
            tex = _texture(grid.f, r0, r1, grid.n)
            land = ~_sea(tile, grid, r0, r1)
            cloud = up(sf.cloud, r0, r1) + 0.1 * tex > 0.4
            near = up(sf.cloud, r0, r1) > 0.02
            shadow = up(sf.shadow, r0, r1) + 0.1 * tex > 0.5
            snow = up(sf.snow, r0, r1) + 0.1 * tex > 0.5
            m = np.full((r1 - r0, grid.n), 64, np.uint8)  # bits 6-7 = 01: low aerosol
            m |= np.where(cloud, 2, 0).astype(np.uint8)
            m |= np.where(near & ~cloud, 4, 0).astype(np.uint8)
            m |= np.where(shadow & ~cloud, 8, 0).astype(np.uint8)
            m |= np.where(snow & land & ~cloud, 16, 0).astype(np.uint8)
            m |= np.where(~land & ~cloud, 32, 0).astype(np.uint8)
            yield r0, r1, m[None]
    elif key in HLS_ANGLES:
        lon, lat = -74.35, 41.08
        azimuth, elevation = sun_position(scene.when, lon, lat)
        cols = np.arange(grid.n, dtype=np.float32) / grid.n
        rows = np.arange(grid.n, dtype=np.float32) / grid.n
        # Landsat's ground track runs NNE-SSW west of this tile: view zenith grows eastwards.
        if key == "SZA":
            plane = (90 - elevation) + 0.6 * rows[:, None] - 0.2 * cols[None, :]
        elif key == "SAA":
            plane = azimuth - 0.5 * cols[None, :] + 0.1 * rows[:, None]
        elif key == "VZA":
            plane = 1.5 + 5.5 * cols[None, :] + 0.3 * rows[:, None]
        else:  # VAA: looking back west-south-west at the sensor, as a signed angle
            plane = 102.0 + 0.8 * rows[:, None] - 0.3 * cols[None, :]
        full = np.broadcast_to(plane * 100, (grid.n, grid.n))
        dtype = np.dtype(spec.dtype or "int16")
        yield 0, grid.n, np.rint(full).astype(dtype)[None]
    else:
        raise ValueError(f"no generator for HLS asset {key!r}")


# ---------------------------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------------------------

# No .aux.xml side-cars (they would be left behind by the temp-file rename).
# A small block cache: the default (5 % of RAM) would hold a second copy of every raster.
_GDAL_ENV: dict[str, Any] = {
    "GDAL_PAM_ENABLED": "NO", "GDAL_NUM_THREADS": "1", "GDAL_CACHEMAX": 128 * 2**20,
}  # fmt: skip


def overview_factors(n: int, blocksize: int) -> list[int]:
    """The levels GDAL's COG driver picks: halve until a level fits in one block."""
    factors, f = [], 2
    while -(-n // (f // 2)) > blocksize:
        factors.append(f)
        f *= 2
    return factors


def _write_raster(spec: FileSpec, dest: Path, strips: Iterator[tuple[int, int, NDArray[Any]]],
                  *, nodata: float | None, tags: dict[str, str],
                  band_tags: dict[str, str] | None = None, blocksize: int = 1024,
                  resampling: str = "AVERAGE") -> None:  # fmt: skip
    """Strips -> uncompressed in-memory GeoTIFF (+ overviews) -> one CreateCopy to the COG.

    Building the overviews on the uncompressed copy and letting the COG driver reuse them is
    ~40 % faster than letting the COG driver compute them through its temporary file.
    """
    rows, cols = spec.shape
    first = next(strips)
    count, dtype = first[2].shape[0], first[2].dtype
    staging = f"/vsimem/satlesson-{uuid.uuid4().hex}.tif"  # the name never reaches the output
    profile: dict[str, Any] = {
        "driver": "GTiff", "width": cols, "height": rows, "count": count, "dtype": dtype,
        "crs": f"EPSG:{spec.epsg}", "transform": Affine(*spec.transform),
        "tiled": True, "blockxsize": blocksize, "blockysize": blocksize,
        "nodata": nodata, "interleave": "pixel" if count > 1 else "band",
    }  # fmt: skip
    options = {"driver": "COG", "BLOCKSIZE": blocksize, "COMPRESS": "DEFLATE",
               "PREDICTOR": 2, "LEVEL": DEFLATE_LEVEL, "OVERVIEWS": "FORCE_USE_EXISTING",
               "NUM_THREADS": 1}  # fmt: skip
    tags = {"OVR_RESAMPLING_ALG": resampling, **tags}
    with rasterio.Env(**_GDAL_ENV):
        try:
            with rasterio.open(staging, "w", **profile) as dst:
                for r0, r1, arr in _chain(first, strips):
                    dst.write(arr, window=((r0, r1), (0, cols)))
                dst.update_tags(**tags)
                for i in range(1, count + 1):
                    if band_tags:
                        dst.update_tags(i, **band_tags)
                dst.build_overviews(overview_factors(rows, blocksize),
                                    Resampling[resampling.lower()])  # fmt: skip
            rasterio.shutil.copy(staging, dest, **options)
        finally:
            rasterio.shutil.delete(staging)


def _chain(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    yield first
    yield from rest


def _render_s2_raster(spec: FileSpec, dest: Path) -> None:
    classes = spec.asset_key.startswith("scl")  # class codes must not be averaged
    if spec.kind == "c1-snow":  # no probability anywhere: nothing to mask either
        _write_raster(spec, dest, _s2_strips(spec), nodata=None, tags={},
                      resampling="NEAREST")  # fmt: skip
        return
    _write_raster(spec, dest, _s2_strips(spec), nodata=0, tags={},
                  resampling="NEAREST" if classes else "AVERAGE")  # fmt: skip


# The JPEG 2000 twins are lossless like ESA's products (reversible 5/3 wavelet, one quality
# layer), with 6 resolutions in 1024² tiles. BYPASS ("lazy" coding: a code-block's lower
# bit-planes are stored raw instead of arithmetic-coded) is still lossless and cuts the
# encoding time by about a quarter for files ~3 % bigger. GDAL can't carry no-data in a JP2
# without a side-car, so none is written, as before.
JP2_OPTIONS: dict[str, Any] = {
    "driver": "JP2OpenJPEG", "REVERSIBLE": "YES", "QUALITY": 100, "RESOLUTIONS": 6,
    "BLOCKXSIZE": 1024, "BLOCKYSIZE": 1024, "CODEBLOCK_STYLE": "BYPASS",
}  # fmt: skip


def _write_jp2(cog: Path, dest: Path) -> None:
    """Re-encode a rendered COG as its JPEG 2000 twin: same grid, CRS and values, no re-render."""
    with rasterio.Env(**_GDAL_ENV):
        rasterio.shutil.copy(cog, dest, **JP2_OPTIONS)


@functools.cache
def _advertised() -> dict[tuple[str, str], FileSpec]:
    return {(s.item_id, s.asset_key): s for s in advertised_files().values()}


def cog_twin(spec: FileSpec) -> FileSpec:
    """The COG asset a JPEG 2000 asset is a copy of (same item, key without ``-jp2``)."""
    return _advertised()[(spec.item_id, spec.asset_key.removesuffix("-jp2"))]


def _render_jp2(spec: FileSpec, dest: Path) -> None:
    """A JPEG 2000 twin outside the cache (``ensure`` reuses the cached COG instead)."""
    with tempfile.TemporaryDirectory(prefix="satlesson-jp2-") as tmp:
        cog = Path(tmp) / "twin.tif"
        _render_s2_raster(cog_twin(spec), cog)
        _write_jp2(cog, dest)


def _render_hls_band(spec: FileSpec, dest: Path) -> None:
    key = spec.asset_key
    if key in HLS_REFLECTIVE:
        nodata: float = -9999
        band_tags = {"scale_factor": "0.0001", "add_offset": "0", "_FillValue": "-9999"}
    elif key in HLS_THERMAL:
        nodata = -9999
        band_tags = {"scale_factor": "0.01", "add_offset": "0", "_FillValue": "-9999",
                     "units": "Celsius"}  # fmt: skip
    elif key == "Fmask":
        nodata, band_tags = 255, {"_FillValue": "255"}
    else:
        nodata = 40000 if spec.dtype == "uint16" else -9999
        band_tags = {"scale_factor": "0.01", "add_offset": "0", "units": "degree",
                     "_FillValue": str(nodata)}  # fmt: skip
    band_tags["long_name"] = key
    tags = {"ACCODE": "Lasrc; Lasrc", "SENSING_TIME": spec.scene.datetime}
    _write_raster(
        spec,
        dest,
        _hls_strips(spec),
        nodata=nodata,
        tags=tags,
        band_tags=band_tags,
        blocksize=512,
        resampling="NEAREST" if key == "Fmask" else "AVERAGE",
    )  # Fmask is bits


def _preview(scene: S2Scene | HLSScene, size: int, bands: tuple[str, str, str],
             stretch: float) -> Image.Image:  # fmt: skip
    """True-colour preview straight from the 60 m fields."""
    tile, b, _ = _fields(scene)
    land = b.land > 0.5
    rgb = np.stack([np.where(land, *coarse_reflectance(scene, band)) for band in bands], -1)
    rgb = np.clip(rgb * stretch * 255 + 0.5, 0, 255).astype(np.uint8)
    footprint = _footprint(scene)
    if footprint is not None:
        xs, ys = _coarse_xy(tile)
        rgb[xs[None, :] < _west_edge(tile, footprint, ys)[:, None]] = 0
    return Image.fromarray(rgb, "RGB").resize((size, size), Image.Resampling.BOX)


def _render_preview_cog(spec: FileSpec, dest: Path) -> None:
    scene: S2Scene = spec.scene
    rgb = np.asarray(_preview(scene, 343, ("B04", "B03", "B02"), 4.0)).transpose(2, 0, 1)
    x0, y1 = S2_ORIGIN
    preview = replace(spec, shape=(343, 343), transform=(320.0, 0, x0, 0, -320.0, y1),
                      epsg=S2_EPSG)  # fmt: skip
    _write_raster(preview, dest, iter([(0, 343, np.ascontiguousarray(rgb))]), nodata=0,
                  tags={}, blocksize=512)  # fmt: skip


def _product_xml(scene: S2Scene) -> str:
    """A short product metadata document (INVENTED content, ESA's element names)."""
    p = s2_properties(scene)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<n1:Level-2A_User_Product>\n'
            f"  <PRODUCT_URI>{p['s2:product_uri']}</PRODUCT_URI>\n"
            f"  <PROCESSING_BASELINE>{p['s2:processing_baseline']}</PROCESSING_BASELINE>\n"
            f"  <BOA_ADD_OFFSET>-1000</BOA_ADD_OFFSET>\n"
            f"  <BOA_QUANTIFICATION_VALUE>10000</BOA_QUANTIFICATION_VALUE>\n"
            f"</n1:Level-2A_User_Product>\n")


def _render_jpeg(image: Image.Image, dest: Path) -> None:
    # Plain baseline JPEG, no EXIF/JFIF timestamps: PIL writes none unless asked.
    image.save(dest, "JPEG", quality=85, optimize=False, progressive=False)


def _granule_xml(scene: S2Scene) -> str:
    p = s2_properties(scene)  # the item's own numbers, so the two agree
    x0, y1 = S2_ORIGIN
    sizes = "".join(
        f'\n        <Size resolution="{r}">\n          <NROWS>{109800 // r}</NROWS>\n'
        f"          <NCOLS>{109800 // r}</NCOLS>\n        </Size>"
        for r in (10, 20, 60)
    )
    geopos = "".join(
        f'\n        <Geoposition resolution="{r}">\n          <ULX>{int(x0)}</ULX>\n'
        f"          <ULY>{int(y1)}</ULY>\n          <XDIM>{r}</XDIM>\n"
        f"          <YDIM>-{r}</YDIM>\n        </Geoposition>"
        for r in (10, 20, 60)
    )
    zenith = 90 - p["view:sun_elevation"]
    return f"""<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<n1:Level-2A_Tile_ID xmlns:n1="https://psd-14.sentinel2.eo.esa.int/PSD/S2_PDI_Level-2A_Tile_Metadata.xsd" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <n1:General_Info>
    <L1C_TILE_ID metadataLevel="Brief">{p["s2:granule_id"].replace("L2A", "L1C")}</L1C_TILE_ID>
    <TILE_ID metadataLevel="Brief">{p["s2:granule_id"]}</TILE_ID>
    <DATASTRIP_ID metadataLevel="Standard">{p["s2:datastrip_id"]}</DATASTRIP_ID>
    <DOWNLINK_PRIORITY metadataLevel="Standard">NOMINAL</DOWNLINK_PRIORITY>
    <SENSING_TIME metadataLevel="Standard">{scene.datetime}</SENSING_TIME>
    <Archiving_Info metadataLevel="Expertise">
      <ARCHIVING_CENTRE>{p["s2:granule_id"].split("_")[6][:4]}</ARCHIVING_CENTRE>
      <ARCHIVING_TIME>{p["s2:generation_time"]}</ARCHIVING_TIME>
    </Archiving_Info>
  </n1:General_Info>
  <n1:Geometric_Info>
    <Tile_Geocoding metadataLevel="Brief">
      <HORIZONTAL_CS_NAME>WGS84 / UTM zone 35N</HORIZONTAL_CS_NAME>
      <HORIZONTAL_CS_CODE>EPSG:{S2_EPSG}</HORIZONTAL_CS_CODE>{sizes}{geopos}
    </Tile_Geocoding>
    <Tile_Angles metadataLevel="Standard">
      <Mean_Sun_Angle>
        <ZENITH_ANGLE unit="deg">{zenith:.10f}</ZENITH_ANGLE>
        <AZIMUTH_ANGLE unit="deg">{p["view:sun_azimuth"]:.10f}</AZIMUTH_ANGLE>
      </Mean_Sun_Angle>
    </Tile_Angles>
  </n1:Geometric_Info>
  <n1:Quality_Indicators_Info metadataLevel="Standard">
    <Image_Content_QI>
      <NODATA_PIXEL_PERCENTAGE>{p["s2:nodata_pixel_percentage"]}</NODATA_PIXEL_PERCENTAGE>
      <SATURATED_DEFECTIVE_PIXEL_PERCENTAGE>{p["s2:saturated_defective_pixel_percentage"]}</SATURATED_DEFECTIVE_PIXEL_PERCENTAGE>
      <DARK_FEATURES_PERCENTAGE>{p["s2:dark_features_percentage"]}</DARK_FEATURES_PERCENTAGE>
      <CLOUD_SHADOW_PERCENTAGE>{p["s2:cloud_shadow_percentage"]}</CLOUD_SHADOW_PERCENTAGE>
      <VEGETATION_PERCENTAGE>{p["s2:vegetation_percentage"]}</VEGETATION_PERCENTAGE>
      <NOT_VEGETATED_PERCENTAGE>{p["s2:not_vegetated_percentage"]}</NOT_VEGETATED_PERCENTAGE>
      <WATER_PERCENTAGE>{p["s2:water_percentage"]}</WATER_PERCENTAGE>
      <UNCLASSIFIED_PERCENTAGE>{p["s2:unclassified_percentage"]}</UNCLASSIFIED_PERCENTAGE>
      <MEDIUM_PROBA_CLOUDS_PERCENTAGE>{p["s2:medium_proba_clouds_percentage"]}</MEDIUM_PROBA_CLOUDS_PERCENTAGE>
      <HIGH_PROBA_CLOUDS_PERCENTAGE>{p["s2:high_proba_clouds_percentage"]}</HIGH_PROBA_CLOUDS_PERCENTAGE>
      <THIN_CIRRUS_PERCENTAGE>{p["s2:thin_cirrus_percentage"]}</THIN_CIRRUS_PERCENTAGE>
      <SNOW_ICE_PERCENTAGE>{p["s2:snow_ice_percentage"]}</SNOW_ICE_PERCENTAGE>
    </Image_Content_QI>
  </n1:Quality_Indicators_Info>
</n1:Level-2A_Tile_ID>
"""  # noqa: E501


def _tileinfo_json(scene: S2Scene) -> str:
    p = s2_properties(scene)
    day = scene.day
    x0, y1 = S2_ORIGIN
    x1, y0 = x0 + 109800, y1 - 109800
    crs = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG:8.8.1:{S2_EPSG}"}}
    lon, lat = zip(*s2_footprint(scene), strict=True)
    fx, fy = warp_transform("EPSG:4326", f"EPSG:{S2_EPSG}", list(lon), list(lat))
    data_ring = [[round(x, 1), round(y, 1)] for x, y in zip(fx, fy, strict=True)]
    ds = p["s2:datastrip_id"]
    doc = {
        "path": f"tiles/35/S/NA/{day.year}/{day.month}/{day.day}/0",
        "timestamp": scene.datetime.replace("000Z", "Z"),
        "utmZone": 35,
        "latitudeBand": "S",
        "gridSquare": "NA",
        "datastrip": {"id": ds, "path": f"products/{day.year}/{day.month}/{day.day}/{ds}"},
        "tileGeometry": {
            "type": "Polygon",
            "crs": crs,
            "coordinates": [[[x0, y1], [x1, y1], [x1, y0], [x0, y0], [x0, y1]]],
        },  # fmt: skip
        "tileDataGeometry": {"type": "Polygon", "crs": crs, "coordinates": [data_ring]},
        "tileOrigin": {"type": "Point", "crs": crs, "coordinates": [x0, y1]},
        "dataCoveragePercentage": round(100 - p["s2:nodata_pixel_percentage"], 2),
        "cloudyPixelPercentage": round(scene.cloud_cover, 2),
        "productName": p["s2:product_uri"].removesuffix(".SAFE"),
        "productPath": f"products/{day.year}/{day.month}/{day.day}/"
        + p["s2:product_uri"].removesuffix(".SAFE"),
    }
    return json.dumps(doc, indent=2) + "\n"


def _hls_metadata_xml(scene: HLSScene) -> str:
    when = scene.when
    produced = (when + timedelta(days=2, hours=7, minutes=13)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    begin = (when - timedelta(seconds=12)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    end = (when + timedelta(seconds=12)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    lon, lat = warp_transform(f"EPSG:{HLS_EPSG}", "EPSG:4326",
                              [HLS_ORIGIN[0], HLS_ORIGIN[0] + 109800],
                              [HLS_ORIGIN[1] - 109800, HLS_ORIGIN[1]])  # fmt: skip
    files = "".join(
        f"\n      <OnlineAccessURL>\n        <URL>https://data.lpdaac.earthdatacloud.nasa.gov/"
        f"lp-prod-protected/HLSL30.020/{scene.id}/{scene.id}.{k}.tif</URL>\n"
        f"        <URLDescription>Download {scene.id}.{k}.tif</URLDescription>\n"
        f"      </OnlineAccessURL>"
        for k in (*HLS_REFLECTIVE, *HLS_THERMAL, "Fmask", *HLS_ANGLES)
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Granule>
  <GranuleUR>{scene.id}</GranuleUR>
  <InsertTime>{produced}</InsertTime>
  <LastUpdate>{produced}</LastUpdate>
  <Collection>
    <ShortName>HLSL30</ShortName>
    <VersionId>2.0</VersionId>
  </Collection>
  <DataGranule>
    <DayNightFlag>DAY</DayNightFlag>
    <ProductionDateTime>{produced}</ProductionDateTime>
  </DataGranule>
  <Temporal>
    <RangeDateTime>
      <BeginningDateTime>{begin}</BeginningDateTime>
      <EndingDateTime>{end}</EndingDateTime>
    </RangeDateTime>
  </Temporal>
  <Spatial>
    <HorizontalSpatialDomain>
      <Geometry>
        <BoundingRectangle>
          <WestBoundingCoordinate>{lon[0]:.6f}</WestBoundingCoordinate>
          <NorthBoundingCoordinate>{lat[1]:.6f}</NorthBoundingCoordinate>
          <EastBoundingCoordinate>{lon[1]:.6f}</EastBoundingCoordinate>
          <SouthBoundingCoordinate>{lat[0]:.6f}</SouthBoundingCoordinate>
        </BoundingRectangle>
      </Geometry>
    </HorizontalSpatialDomain>
  </Spatial>
  <AdditionalAttributes>
    <AdditionalAttribute>
      <Name>CLOUD_COVERAGE</Name>
      <Values><Value>{scene.cloud_cover}</Value></Values>
    </AdditionalAttribute>
    <AdditionalAttribute>
      <Name>MGRS_TILE_ID</Name>
      <Values><Value>18TWL</Value></Values>
    </AdditionalAttribute>
    <AdditionalAttribute>
      <Name>SPATIAL_RESOLUTION</Name>
      <Values><Value>30.0</Value></Values>
    </AdditionalAttribute>
  </AdditionalAttributes>
  <OnlineAccessURLs>{files}
  </OnlineAccessURLs>
</Granule>
"""


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def _renderer(spec: FileSpec) -> Callable[[Path], None]:
    kind, scene = spec.kind, spec.scene
    if kind in ("s2-band", "s2-tci", "s2-scl", "c1-cloud", "c1-snow"):
        return lambda p: _render_s2_raster(spec, p)
    if kind == "c1-preview":  # L2A_PVI: the true-colour preview, 343 px of 320 m, as a COG
        return lambda p: _render_preview_cog(spec, p)
    if kind == "c1-product-xml":
        return lambda p: p.write_text(_product_xml(scene))
    if kind == "s2-jp2":
        return lambda p: _render_jp2(spec, p)
    if kind == "s2-thumbnail":
        return lambda p: _render_jpeg(_preview(scene, 343, ("B04", "B03", "B02"), 4.0), p)
    if kind == "s2-granule-xml":
        return lambda p: p.write_text(_granule_xml(scene))
    if kind == "s2-tileinfo-json":
        return lambda p: p.write_text(_tileinfo_json(scene))
    if kind == "hls-band":
        return lambda p: _render_hls_band(spec, p)
    if kind == "hls-browse":
        return lambda p: _render_jpeg(_preview(scene, 915, ("B04", "B03", "B02"), 3.5), p)
    if kind == "hls-metadata":
        return lambda p: p.write_text(_hls_metadata_xml(scene))
    if kind == "truth-json":
        from satlesson.mirror.synthetic import truth  # it reads this module's fields

        return lambda p: p.write_text(truth.truth_json())
    if kind == "dem":
        # Float32 heights, no no-data value (upstream has none: the sea is 0 m).
        return lambda p: _write_raster(spec, p, dem.dem_strips(*scene), nodata=None,
                                       tags={}, resampling="AVERAGE")  # fmt: skip
    raise ValueError(f"unknown asset kind {kind!r}")


_SUFFIX = {
    "s2-band": ".tif", "s2-tci": ".tif", "s2-scl": ".tif", "s2-jp2": ".jp2",
    "c1-cloud": ".tif", "c1-snow": ".tif", "c1-preview": ".tif", "c1-product-xml": ".xml",
    "s2-thumbnail": ".jpg", "s2-granule-xml": ".xml", "s2-tileinfo-json": ".json",
    "hls-band": ".tif", "hls-browse": ".jpg", "hls-metadata": ".xml", "dem": ".tif",
    "truth-json": ".json",
}  # fmt: skip


def render(spec: FileSpec, dest: Path) -> None:
    """Write the file for one advertised asset to ``dest``, atomically."""
    _write_atomically(Path(dest), _SUFFIX[spec.kind], _renderer(spec))


def _write_atomically(dest: Path, suffix: str, write: Callable[[Path], None]) -> None:
    """``write`` a temp file beside ``dest``, then rename it: no reader sees half a file."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=suffix, dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide the file from a server run as another user
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def cache_path(spec: FileSpec, cache_dir: Path) -> Path:
    """Where :func:`ensure` keeps a file: keyed on the snapshot version, item and asset."""
    name = spec.asset_key + _SUFFIX[spec.kind]
    return Path(cache_dir) / SNAPSHOT_VERSION / spec.item_id / name


def ensure(spec: FileSpec, cache_dir: Path) -> Path:
    """The cached file for ``spec``, rendered on first use.

    A per-file ``flock`` serializes renderers of the same file across threads and processes
    (flock belongs to the open file, so two threads with their own descriptors exclude each
    other); other files render in parallel. A JPEG 2000 twin is made from its COG, which is
    ensured (and so cached) first.
    """
    dest = cache_path(spec, cache_dir)
    if dest.exists():
        return dest
    cog = ensure(cog_twin(spec), cache_dir) if spec.kind == "s2-jp2" else None
    dest.parent.mkdir(parents=True, exist_ok=True)
    lock = dest.with_name(f".{dest.name}.lock")
    with open(lock, "a") as handle, _flocked(handle.fileno()):
        if dest.exists():  # another worker finished it while we waited
            pass
        elif cog is not None:
            _write_atomically(dest, ".jp2", lambda p: _write_jp2(cog, p))
        else:
            render(spec, dest)
    return dest


@contextlib.contextmanager
def _flocked(fd: int) -> Iterator[None]:
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
