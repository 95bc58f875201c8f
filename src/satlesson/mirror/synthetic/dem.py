"""Copernicus DEM GLO-30 tiles around Rhodes: synthetic relief, but place-true.

The heights are not the Copernicus DEM's: they are generated. What is true to the place is
what a lesson reads off them:

* the coastline (GSHHG, ``satlesson/data/rhodes-region-land.geojson``), with the sea at exactly
  0 m as upstream (the Copernicus DEM has no no-data value; its ocean is flattened to 0);
* the named summits at their published positions and heights: Attavyros 1216 m, the
  island's highest point; its south-west top Voskopi 1062 m; Akramitis 825 m; Profitis
  Ilias 798 m; Koutsoutis 557 m (positions from the mountains' Wikipedia articles, which
  give Attavyros as 1215 or 1216 m; the latter is the common figure);
* the shape of the land: a mountain chain from Akramitis over Attavyros, Profitis Ilias and
  Koutsoutis down to Tsambika on the east coast, hills elsewhere rising with distance from
  the sea, slopes mostly under 30 degrees.

Files are shaped like upstream's: one float32 COG per 1-degree tile on its 1 arc-second grid
(3600 x 3600, pixel centres on whole seconds, so the grid starts half a pixel west and north
of the whole degree), ids like ``Copernicus_DSM_COG_10_N36_00_E027_00_DEM``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from importlib.resources import files
from typing import Any

import numpy as np
import rasterio.features
import scipy.fft
from numpy.typing import NDArray
from pyproj import Transformer
from rasterio.transform import Affine
from scipy import ndimage
from shapely import transform as shp_transform
from shapely.geometry import mapping, shape

DATA = files("satlesson").joinpath("data")  # package data (src/satlesson/data/)
LAND_FILE = "rhodes-region-land.geojson"
ARCSEC = 1 / 3600
SIZE = 3600  # pixels across a tile below 50 degrees latitude
COARSE = 3  # relief is shaped on a 3 arc-second grid, then refined

# The tiles over Rhodes (south-west corner, whole degrees): the island spans 35.88-36.46 N,
# 27.68-28.25 E; no land of it lies in N35 E028.
TILES: tuple[tuple[int, int], ...] = ((36, 27), (36, 28), (35, 27))

# (name, lat, lon, height m, radius m): the summits the relief is built around.
SUMMITS: tuple[tuple[str, float, float, float, float], ...] = (
    ("Attavyros", 36.2092, 27.8636, 1216.0, 3200.0),  # 36 12 33 N, 27 51 49 E
    ("Voskopi", 36.1800, 27.8300, 1062.0, 2200.0),  # Attavyros' south-west top, ~4.5 km off
    ("Akramitis", 36.1619, 27.7644, 825.0, 2600.0),  # 36 09 43 N, 27 45 52 E
    ("Profitis Ilias", 36.2722, 27.9333, 798.0, 2400.0),  # 36 16 20 N, 27 56 00 E
    ("Koutsoutis", 36.2900, 28.0300, 557.0, 2200.0),
)
HIGHEST = SUMMITS[0]
# The island's spine, west to east: (lat, lon, ridge height m) from Akramitis over the
# Attavyros massif, Profitis Ilias and Koutsoutis down to Tsambika on the east coast.
RIDGE: tuple[tuple[float, float, float], ...] = (
    (36.1619, 27.7644, 520.0), (36.1800, 27.8300, 700.0), (36.2092, 27.8636, 760.0),
    (36.2722, 27.9333, 520.0), (36.2900, 28.0300, 380.0), (36.2330, 28.1300, 200.0),
)  # fmt: skip


def tile_id(lat: int, lon: int) -> str:
    return f"Copernicus_DSM_COG_10_N{lat:02d}_00_E{lon:03d}_00_DEM"


def tile_transform(lat: int, lon: int) -> tuple[float, ...]:
    """GDAL-order geotransform of a tile: pixel centres on whole arc-seconds."""
    return (ARCSEC, 0.0, lon - ARCSEC / 2, 0.0, -ARCSEC, lat + 1 + ARCSEC / 2)


@functools.cache
def _land_geometries() -> list[dict[str, Any]]:
    """The land polygon in lon/lat."""
    doc = json.loads((DATA / LAND_FILE).read_text())
    to_lonlat = Transformer.from_crs(32635, 4326, always_xy=True)

    def project(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        lon, lat = to_lonlat.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return [mapping(shp_transform(shape(f["geometry"]), project)) for f in doc["features"]]


def _noise(seed: int, n: int, sigma: float) -> NDArray[np.float32]:
    """Seeded, Gaussian-filtered white noise with unit standard deviation."""
    rng = np.random.default_rng(seed)
    full = scipy.fft.next_fast_len(n, real=True)
    spectrum = scipy.fft.rfft2(rng.standard_normal((full, full), dtype=np.float32))
    field = scipy.fft.irfft2(ndimage.fourier_gaussian(spectrum, sigma, n=full), s=(full, full))
    field = field[:n, :n]
    return (field / field.std()).astype(np.float32)


def _land(lat: int, lon: int, step: int) -> NDArray[np.uint8]:
    n = SIZE // step
    t = tile_transform(lat, lon)
    transform = Affine(t[0] * step, 0, t[2], 0, t[4] * step, t[5])
    return rasterio.features.rasterize(_land_geometries(), out_shape=(n, n),
                                       transform=transform, dtype="uint8")  # fmt: skip


@functools.lru_cache(maxsize=1)
def _coarse_relief(lat: int, lon: int) -> NDArray[np.float32]:
    """Heights on the tile's 3 arc-second grid (1200 x 1200), sea 0."""
    n = SIZE // COARSE
    land = _land(lat, lon, COARSE)
    step_m = COARSE * 30.8  # metres per coarse pixel, north-south (east-west ~ 25 m)
    # Hills rise with distance from the sea (half-height at ~2 km), with a rough surface.
    dist = ndimage.distance_transform_edt(land) * step_m
    seed = lat * 1000 + lon
    rough = 0.55 * _noise(seed, n, 30) + 0.35 * _noise(seed + 1, n, 8) + 0.1 * _noise(
        seed + 2, n, 2)
    hills = 330 * (1 - np.exp(-dist / 2500)) * np.clip(1 + 0.6 * rough, 0.15, None)
    # Mountains: a bump per summit, reaching the summit's exact height at its centre.
    t = tile_transform(lat, lon)
    lons = t[2] + (np.arange(n) + 0.5) * t[0] * COARSE
    lats = t[5] + (np.arange(n) + 0.5) * t[4] * COARSE
    height = hills.astype(np.float32)
    coslat = np.cos(np.radians(36.2))
    x = (lons[None, :] - 28.0) * 111320 * coslat  # metres, local
    y = (lats[:, None] - 36.2) * 110950
    for (la0, lo0, h0), (la1, lo1, h1) in zip(RIDGE, RIDGE[1:], strict=False):
        ax, ay = (lo0 - 28.0) * 111320 * coslat, (la0 - 36.2) * 110950
        bx, by = (lo1 - 28.0) * 111320 * coslat, (la1 - 36.2) * 110950
        f = np.clip(((x - ax) * (bx - ax) + (y - ay) * (by - ay))
                    / ((bx - ax) ** 2 + (by - ay) ** 2), 0, 1)  # fmt: skip
        off2 = (x - ax - f * (bx - ax)) ** 2 + (y - ay - f * (by - ay)) ** 2
        crest = (h0 + (h1 - h0) * f) * (1 + 0.15 * rough)
        height = np.maximum(height, (crest * np.exp(-0.5 * off2 / 1800**2)).astype(np.float32))
    for _, plat, plon, top, radius in SUMMITS:
        dx = (lons[None, :] - plon) * 111320 * coslat
        dy = (lats[:, None] - plat) * 110950
        r2 = (dx**2 + dy**2) / radius**2
        bump = np.exp(-0.5 * r2) * (1 + 0.08 * rough * (1 - np.exp(-4 * r2)))
        height = np.maximum(height, (top * bump).astype(np.float32))
    # Cliffs stay plausible: heights ease to the shore over a few hundred metres.
    height *= 1 - np.exp(-(dist + step_m) / 400)
    return np.where(land == 1, np.maximum(height, 1.0), 0.0).astype(np.float32)


def summit_pixel(lat: int, lon: int, plat: float, plon: float) -> tuple[int, int]:
    """(row, col) of a summit in a tile's 1 arc-second grid."""
    t = tile_transform(lat, lon)
    return round((plat - t[5]) / t[4] - 0.5), round((plon - t[2]) / t[0] - 0.5)


def dem_strips(lat: int, lon: int) -> Iterator[tuple[int, int, NDArray[np.float32]]]:
    """(r0, r1, heights[1, rows, 3600]) strips of one tile at 1 arc-second, float32."""
    coarse = _coarse_relief(lat, lon)
    land = _land(lat, lon, 1)
    fine = _noise(lat * 1000 + lon + 7, SIZE, 1.5)  # metre-scale detail, not at the summits
    peaks = [summit_pixel(lat, lon, s[1], s[2]) for s in SUMMITS]
    step = 600
    for r0 in range(0, SIZE, step):
        r1 = r0 + step
        # Bilinear refinement, centre-aligned: fine pixel i sits at coarse (i + 0.5) / 3 - 0.5.
        rows = (np.arange(r0, r1) + 0.5) / COARSE - 0.5
        cols = (np.arange(SIZE) + 0.5) / COARSE - 0.5
        rr, cc = np.meshgrid(rows, cols, indexing="ij")
        h = ndimage.map_coordinates(coarse, [rr, cc], order=1, mode="nearest")
        h = h * (1 + 0.01 * fine[r0:r1]) + 2.0 * fine[r0:r1] * (h > 0)
        for (pr, pc), summit in zip(peaks, SUMMITS, strict=True):
            # Each summit is the top of its massif, at its published height to the metre.
            near = 60  # pixels, ~1.5 km
            if r0 - near <= pr < r1 + near and -near <= pc < SIZE + near:
                a, b = max(pr - near - r0, 0), min(pr + near + 1 - r0, r1 - r0)
                c, d = max(pc - near, 0), min(pc + near + 1, SIZE)
                np.minimum(h[a:b, c:d], summit[3] - 0.5, out=h[a:b, c:d])
                if r0 <= pr < r1 and 0 <= pc < SIZE:
                    h[pr - r0, pc] = summit[3]
        h = np.where(land[r0:r1] == 1, np.maximum(h, 0.5), 0.0).astype(np.float32)
        yield r0, r1, h[None]
