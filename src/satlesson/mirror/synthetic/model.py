"""The synthetic snapshot's physical model: what the ground, the sea and the sky of a region
are, on a coarse 60 m grid, and the reflectance a band sees there.

A region is the area one sensor's tiles cover: for Sentinel-2 over Rhodes, the MGRS tiles
35SNA, 35SNV and 35SPA (3497² cells); for HLS, tile 18TWL. Every field is computed once for
the whole region, and a tile's files are read from its window of it (``Window``), so where
two tiles overlap they show the same ground, the same clouds and the same pixels.

1. Scene-independent fields (cached per process, and in a file for the other processes
   rendering into the same folder, ``keep_fields_in``): land from the GSHHG polygon
   in ``satlesson/data``, vegetation / farmland / bare / urban fractions and the kind of
   vegetation (scrub, maquis, forest), the 2023 burn scar from its outline in
   ``satlesson/data`` with its severity and the order in which it burnt, coastal and dark sea.
2. Per-pass fields (cached for a few passes): clouds sized to ``eo:cloud_cover``, their
   shadows cast away from the item's sun azimuth and elevation, cirrus, the share of char in
   each burnt cell (chosen so that the cell's NBR drops by its severity), and the NDVI that
   the scene classification (SCL) follows, with the SCL's thresholds per scene.
3. Per band, the coarse land and sea reflectance, mixed from those fields and the cover
   types' spectra (cheap at 60 m). ``pixels.py`` upsamples them onto the bands' grids;
   ``truth.py`` states what the scar should measure, from the same fields.
"""

from __future__ import annotations

import dataclasses
import fcntl
import functools
import hashlib
import json
import math
import zlib
from dataclasses import dataclass
from datetime import date
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.features
import scipy
import scipy.fft
from numpy.typing import NDArray
from rasterio.transform import Affine
from rasterio.warp import transform as warp_transform
from scipy import ndimage

from satlesson.atomic import atomic_output
from satlesson.mirror.synthetic.archive import s2_scene
from satlesson.mirror.synthetic.scenes import (
    HLS_EPSG,
    HLS_ORIGIN,
    MGRS_TILES,
    S2_EPSG,
    S2_ORIGIN,
    SNAPSHOT_VERSION,
    HLSScene,
    S2Scene,
    s2_footprint,
    s2_tile,
    sun_position,
)
from satlesson.mirror.synthetic.sentinel2 import s2_properties

F32 = NDArray[np.float32]

DATA = files("satlesson").joinpath("data")  # package data (src/satlesson/data/)
CELL = 60.0  # coarse grid, metres
N = 1830  # coarse cells across a 109.8 km tile

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

# HLS L30: B01 coastal, B02-B04 blue/green/red, B05 NIR, B06/B07 SWIR, B09 cirrus (TOA).
HLS_REFLECTIVE = ("B01", "B02", "B03", "B04", "B05", "B06", "B07", "B09")
HLS_THERMAL = ("B10", "B11")  # brightness temperature
HLS_ANGLES = ("SAA", "SZA", "VAA", "VZA")  # sun and view angles
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
SEA_TURBID_COAST = 0.0075
SEA_TURBID_REACH = 4000.0
DARK_SEA = 0.15
DARK_SEA_BELOW = 0.02  # ... in the bands whose clear-water reflectance is below this
# How much of the red band's coastal brightening each band sees (visible most).
SEA_TURBID_WEIGHT = {"B01": 1.0, "B02": 1.0, "B03": 1.0, "B04": 1.0, "B05": 0.6}


@dataclass(frozen=True)
class Tile:
    """A modelled region: its fields are ``n`` x ``n`` cells from ``origin`` (upper left)."""

    name: str
    epsg: int
    origin: tuple[float, float]
    n: int
    land_file: str
    towns: tuple[tuple[float, float, float, float], ...]
    veg_bias: float  # shifts the vegetation / bare balance
    has_scar: bool  # the tile holds the 2023 burn scar
    dark_sea_share: float = 0.0  # share of the sea that reads below zero (see _sea_fields)
    calibration: tuple[int, int] = (0, 0)  # the window the sea is calibrated on (row, col)
    kept: bool = False  # its base fields are kept in a file (``keep_fields_in``): worth it


Footprint = tuple[tuple[float, float], ...]  # lon/lat ring; west of it is no-data

# Rhodes: from 35SNA's corner to the far corners of 35SNV (south) and 35SPA (east). Its
# vegetation bias and SEA_TURBID_COAST are CALIBRATED on the real red band's statistics
# (tests/mirror/test_reference_figures.py): mean 400, std 599, q75 334 against 404, 528, 315.
S2_REGION = Tile("rhodes", S2_EPSG, S2_ORIGIN, 3497, "rhodes-region-land.geojson", RHODES_TOWNS,
                 -0.1, True, dark_sea_share=0.2, kept=True)
# Its base fields take 0.7 s, faster than reading their 127 MB back.
HLS_TILE = Tile("18TWL", HLS_EPSG, HLS_ORIGIN, N, "nyc-land.geojson", NYC_TOWNS, 0.6, False)


@dataclass(frozen=True)
class Window:
    """A tile's N x N cells of its region, from cell (row, col)."""

    region: Tile
    row: int
    col: int

    @property
    def origin(self) -> tuple[float, float]:
        x0, y1 = self.region.origin
        return x0 + self.col * CELL, y1 - self.row * CELL

    def of(self, field: NDArray[Any]) -> NDArray[Any]:
        return field[self.row : self.row + N, self.col : self.col + N]


def window_at(region: Tile, origin: tuple[float, float]) -> Window:
    col, row = ((origin[0] - region.origin[0]) / CELL, (region.origin[1] - origin[1]) / CELL)
    assert col == int(col) and row == int(row), "a tile's corner is on its region's 60 m grid"
    assert 0 <= row <= region.n - N and 0 <= col <= region.n - N
    return Window(region, int(row), int(col))


def window(scene: S2Scene | HLSScene) -> Window:
    """The scene's tile within its region."""
    if isinstance(scene, S2Scene):
        return window_at(S2_REGION, s2_tile(scene).origin)
    return Window(HLS_TILE, 0, 0)


# Every Sentinel-2 tile of the region lies on its grid (checked once, at import).
assert all(window_at(S2_REGION, t.origin) for t in MGRS_TILES.values())


def seed(*parts: object) -> int:
    """A stable seed: Python's hash() is salted per process, crc32 is not."""
    return zlib.crc32("/".join(map(str, parts)).encode())


def smooth_noise(rng: np.random.Generator, shape: tuple[int, int], sigma: float,
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


def coarse_xy(area: Tile | Window) -> tuple[NDArray[np.floating[Any]], NDArray[np.floating[Any]]]:
    """Cell centres (x, y) of a region or of a tile's window."""
    x0, y1 = area.origin
    n = area.n if isinstance(area, Tile) else N
    xs = x0 + (np.arange(n) + 0.5) * CELL
    ys = y1 - (np.arange(n) + 0.5) * CELL
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


# Where the base fields are kept across processes (``keep_fields_in``); None: not kept.
_fields_folder: Path | None = None
_CODE = hashlib.sha256(Path(__file__).read_bytes()).digest()  # as imported, not as edited since


def keep_fields_in(folder: Path | None, replace: bool = True) -> None:
    """Keep the base fields of the ``kept`` tiles in ``folder`` from now on (``replace``
    false: unless they are kept in one already, which serves as well: a file's name says what
    it holds). The Sentinel-2 region's take ~13 s to compute and every process that renders
    needs them (each pool worker, each mirror, the test session)."""
    global _fields_folder
    if replace or _fields_folder is None:
        _fields_folder = folder


def fields_folder() -> Path | None:
    """Where this process keeps the base fields (None: nowhere)."""
    return _fields_folder


def _fields_key(tile: Tile) -> str:
    """A hash of all the base fields are made of: the snapshot version, this module's code,
    the tile, its data files and the libraries that compute them (so a stale file is never
    read: any change makes a new name)."""
    h = hashlib.sha256()
    for text in (SNAPSHOT_VERSION, repr(tile), np.__version__, scipy.__version__,
                 rasterio.__version__, rasterio.__gdal_version__):  # fmt: skip
        h.update(text.encode() + b"\0")
    h.update(_CODE)
    for name in (tile.land_file, SCAR_FILE):
        h.update((DATA / name).read_bytes())
    return h.hexdigest()[:20]


@functools.cache
def base_fields(tile: Tile) -> Base:
    return stored_base_fields(tile)


def stored_base_fields(tile: Tile) -> Base:
    """The tile's base fields, read from the folder ``keep_fields_in`` set if it has them,
    else computed (and saved there)."""
    if _fields_folder is None or not tile.kept:
        return _compute_base_fields(tile)
    path = _fields_folder / f"{tile.name}-{_fields_key(tile)}.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    # One process computes them; the others wait on the lock, then read its file.
    with open(path.with_name(f".{path.name}.lock"), "a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)  # released when the file closes
        if not path.exists():
            base = _compute_base_fields(tile)
            with atomic_output(path, ".npz", durable=False) as tmp:
                np.savez(tmp, **{f.name: getattr(base, f.name) for f in dataclasses.fields(Base)})
            for stale in path.parent.glob(f"{tile.name}-*.npz"):  # 465 MB each, never read
                if stale != path:
                    stale.unlink(missing_ok=True)
            return base
    with np.load(path) as saved:
        return Base(**{name: saved[name] for name in saved.files})


def _compute_base_fields(tile: Tile) -> Base:
    x0, y1 = tile.origin
    n = tile.n
    doc = json.loads((DATA / tile.land_file).read_text())
    geoms = [f["geometry"] for f in doc["features"]]
    land01 = rasterio.features.rasterize(
        geoms, out_shape=(n, n), transform=Affine(CELL, 0, x0, 0, -CELL, y1), dtype="uint8"
    )
    land = ndimage.gaussian_filter(land01.astype(np.float32), 0.8)

    rng = np.random.default_rng(seed("base", tile.name))
    vegscore = 0.7 * smooth_noise(rng, (n, n), 5) + 0.7 * smooth_noise(rng, (n, n), 25)
    veg = 1 / (1 + np.exp(-2.0 * (vegscore + tile.veg_bias)))

    xs, ys = coarse_xy(tile)
    lons, lats = zip(*[(t[0], t[1]) for t in tile.towns], strict=True)
    tx, ty = warp_transform("EPSG:4326", f"EPSG:{tile.epsg}", list(lons), list(lats))
    urban = np.zeros((n, n), np.float32)
    for cx, cy, (_, _, sigma, weight) in zip(tx, ty, tile.towns, strict=True):
        gx = np.exp(-0.5 * ((xs - cx) / sigma) ** 2).astype(np.float32)
        gy = np.exp(-0.5 * ((ys - cy) / sigma) ** 2).astype(np.float32)
        urban += weight * np.outer(gy, gx)
    urban = np.clip(urban * (1 + 0.4 * smooth_noise(rng, (n, n), 2)), 0, 0.95)
    dense = np.clip(0.5 + 0.45 * smooth_noise(rng, (n, n), 10), 0, 1).astype(np.float32)

    scar_order = np.full((n, n), 2.0, np.float32)
    severity = np.zeros((n, n), np.float32)
    if tile.has_scar:
        doc = json.loads((DATA / SCAR_FILE).read_text())
        outline = rasterio.features.rasterize(
            [f["geometry"] for f in doc["features"]], out_shape=(n, n),
            transform=Affine(CELL, 0, x0, 0, -CELL, y1), dtype="uint8",
        ).astype(bool)  # fmt: skip
        # A fire's edge is ragged: the outline, moved in and out by a few hundred metres.
        signed = (_inside_distance(outline)
                  - ndimage.distance_transform_edt(~outline)) * CELL  # fmt: skip
        ragged = 450 * smooth_noise(rng, (n, n), 4) + 200 * smooth_noise(rng, (n, n), 1.5)
        scar = (signed + ragged > 0) & (land01 == 1)
        # Pine forest and maquis burnt: the centre of the island was well wooded before the
        # fire, more so than the lowlands, but with no edge that foretells the scar.
        wooded = _blurred(outline, 25)
        wooded = np.clip(1.6 * wooded + 0.25 * smooth_noise(rng, (n, n), 6), 0, 1)
        veg = veg + (0.95 - veg) * np.clip(wooded, 0, None) * (veg < 0.95)
        dense = dense + (0.9 - dense) * wooded * (dense < 0.9)
        spread = np.hypot(xs[None, :] - SCAR_IGNITION[0], ys[:, None] - SCAR_IGNITION[1])
        spread = spread / 1000 + 2.5 * smooth_noise(rng, (n, n), 8)
        scar_order[scar] = _ranks(spread[scar])
        # Severity: low along the perimeter, patchy inside, then mapped to the graded shares.
        inland = np.minimum(_inside_distance(scar) * CELL / 1500, 1)
        score = 0.6 * inland + 0.4 * smooth_noise(rng, (n, n), 4)
        u, d = zip(*SEVERITY_QUANTILES, strict=True)
        severity[scar] = np.interp(_ranks(score[scar]), u, d)
    # Farmland: ~300 m parcels within ~3 km of the sea, away from towns and the burnt forest.
    parcels = np.repeat(np.repeat(rng.random((-(-n // 5), -(-n // 5))), 5, 0), 5, 1)[:n, :n]
    lowland = ndimage.distance_transform_edt(land01) * CELL < 3000
    crop = ((parcels > 0.8) & lowland & (land01 == 1) & (scar_order > 1)).astype(np.float32)
    crop = (0.85 * crop * (1 - urban)).astype(np.float32)
    veg = (veg * (1 - urban - crop)).astype(np.float32)
    bare = (1 - urban - crop - veg).astype(np.float32)
    turbid, dark_sea = _sea_fields(tile, land01, rng)
    return Base(land, land01, veg, bare, urban, dense, crop, scar_order, severity, turbid,
                dark_sea)


# The scar is a small part of the region: its fields are computed on its box (~3 s less), with
# the same values as on the whole region (tests/mirror/test_island.py checks them).
def _box(mask: NDArray[np.bool_], margin: int) -> tuple[slice, slice]:
    """The bounding box of ``mask``'s cells, ``margin`` cells wider (within the array)."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return (slice(max(rows[0] - margin, 0), rows[-1] + margin + 1),
            slice(max(cols[0] - margin, 0), cols[-1] + margin + 1))  # fmt: skip


def _inside_distance(mask: NDArray[np.bool_]) -> NDArray[np.float64]:
    """``distance_transform_edt(mask)``: no cell outside the mask is nearer than its box's
    border, which lies outside it."""
    out = np.zeros(mask.shape)
    if mask.any():
        box = _box(mask, 1)
        out[box] = ndimage.distance_transform_edt(mask[box])
    return out


def _blurred(mask: NDArray[np.bool_], sigma: float) -> F32:
    """``gaussian_filter(mask as float32, sigma)``: beyond the kernel's reach (4 sigma) of
    the mask it sums zeros, and the box's reflecting edges reflect only zeros."""
    out = np.zeros(mask.shape, np.float32)
    if mask.any():
        box = _box(mask, int(4 * sigma + 0.5) + 1)
        out[box] = ndimage.gaussian_filter(mask[box].astype(np.float32), sigma)
    return out


def _sea_fields(tile: Tile, land01: NDArray[np.uint8], rng: np.random.Generator
                ) -> tuple[F32, NDArray[np.bool_]]:  # fmt: skip
    """Coastal water brighter than the open sea, and open sea that reads as zero.

    INVENTED, CALIBRATED: the real red band of S2A_35SNA_20230827_0_L2A at 80 m (the original
    lesson's episode 06: quartiles 165 and 315, mean 404, with a quarter of its pixels 0 where
    the swath's no-data covers only 12 %) says the tile's sea spans ~0.017-0.032 in red near
    land and that a large share of the open sea is 0: Earth Search removed the +1000 offset
    and clipped what Sen2Cor put below zero. ``tests/mirror/test_reference_figures.py`` checks it.
    """
    sea = land01 == 0
    if tile.dark_sea_share == 0:
        return np.zeros(land01.shape, np.float32), np.zeros(land01.shape, bool)
    dist = ndimage.distance_transform_edt(sea) * CELL
    turbid = SEA_TURBID_MIN + SEA_TURBID_COAST * np.exp(-dist / SEA_TURBID_REACH)
    turbid = turbid * (1 + 0.15 * smooth_noise(rng, land01.shape, 6))
    offshore = dist + 3000 * smooth_noise(rng, land01.shape, 20)
    # The share is calibrated on one tile's sea (35SNA's: the real figures are of it).
    calibrated = Window(tile, *tile.calibration)
    share = np.quantile(calibrated.of(offshore)[calibrated.of(sea)], 1 - tile.dark_sea_share)
    dark = sea & (offshore > share)
    return np.where(sea, turbid, 0).astype(np.float32), dark


def _ranks(values: NDArray[Any]) -> NDArray[np.float32]:
    """Each value's rank as a fraction 0..1."""
    ranks = np.argsort(np.argsort(values, kind="stable"), kind="stable")
    return (ranks / max(len(ranks) - 1, 1)).astype(np.float32)


def west_edge(tile: Tile, footprint: Footprint, ys: NDArray[np.floating[Any]]
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
        # One pass, one sky: every tile of it has 35SNA's clouds, sun and drying.
        first = s2_scene(scene.id.replace(f"_{scene.tile}_", "_35SNA_"))
        p = s2_properties(first)  # the item's own sun angles
        dried = (first.day - date(2023, 6, 23)).days
        return (S2_REGION, first.id, first.cloud_cover, first.burn_fraction, float(dried),
                False, p["view:sun_azimuth"], p["view:sun_elevation"])  # fmt: skip
    # Snow lay around New York through most of February 2021.
    snowy = date(2021, 2, 1) <= scene.when.date() <= date(2021, 2, 25)
    azimuth, elevation = sun_position(scene.when, -74.35, 41.08)
    return HLS_TILE, scene.id, float(scene.cloud_cover), 0.0, 0.0, snowy, azimuth, elevation


def _spectrum(tile: Tile, band: str) -> dict[str, float]:
    spectra = S2_SPECTRA if tile is S2_REGION else HLS_SPECTRA
    i = (S2_BANDS if tile is S2_REGION else HLS_REFLECTIVE).index(band)
    return {name: values[i] for name, values in spectra.items()}


def unburnt_ground(tile: Tile, b: Base, band: str, dried: float) -> F32:
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
    n0, s0 = unburnt_ground(tile, b, "B08", dried), unburnt_ground(tile, b, "B12", dried)
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
    rng = np.random.default_rng(seed("scene", item_id))
    b = base_fields(tile)
    n = tile.n
    cover = cloud_cover / 100
    cloud = np.zeros((n, n), np.float32)
    shadow = np.zeros((n, n), np.float32)
    if cover > 0:
        # Cumulus fields: small cells (sigma 180 m) clustered by a large-scale envelope.
        field = smooth_noise(rng, (n, n), 3) + 1.2 * smooth_noise(rng, (n, n), 30)
        threshold = float(np.quantile(field, 1 - cover))
        cloud = np.clip(0.5 + (field - threshold) / 0.6, 0, 1).astype(np.float32)
        # Shadows fall away from the sun, CLOUD_HEIGHT / tan(elevation) from their clouds.
        reach = CLOUD_HEIGHT / math.tan(math.radians(sun_elevation)) / CELL
        east = -reach * math.sin(math.radians(sun_azimuth))
        north = -reach * math.cos(math.radians(sun_azimuth))
        shadow = _shift(cloud, -round(north), round(east)) * (1 - cloud)
    cirrus = np.zeros((n, n), np.float32)
    if cloud_cover > 5:
        veil = smooth_noise(rng, (n, n), 40)
        cirrus = np.clip((veil - 1.0) * 0.5, 0, 0.4).astype(np.float32)
    burnt = np.zeros((n, n), np.float32)
    if burn > 0:
        burnt = _char_weight(tile, b, b.scar_order <= burn, dried)
    # NDVI as the sensor sees it, thin cloud, cirrus and shadow included (Sen2Cor's view).
    red, nir = (burnt_ground(tile, b, band, dried, burnt) * (1 - 0.6 * shadow) * (1 - cloud)
                + cloud * _spectrum(tile, band)["cloud"] + 0.15 * cirrus
                for band in _NDVI_BANDS[tile.name])  # fmt: skip
    with np.errstate(divide="ignore", invalid="ignore"):
        ndvi = np.nan_to_num((nir - red) / (nir + red)).astype(np.float32)
    snow_cover = np.zeros((n, n), np.float32)
    if snow:
        snow_cover = np.clip(0.7 + 0.3 * smooth_noise(rng, (n, n), 10), 0, 1) * (1 - b.urban)
        snow_cover = snow_cover.astype(np.float32)
    return SceneFields(
        cloud=cloud, shadow=shadow, cirrus=cirrus, burnt=burnt, ndvi=ndvi, snow=snow_cover,
        gain=float(1 + 0.02 * rng.standard_normal()), dried=dried,
        aot=float(0.09 + 0.08 * rng.random()),
        wvp=float(1.7 + 0.9 * rng.random()),
    )  # fmt: skip


_NDVI_BANDS = {"rhodes": ("B04", "B08"), "18TWL": ("B04", "B05")}


# The visible bands turn first: scorched leaves brown and blacken before the canopy's NIR is
# gone, so burnt ground's NDVI falls about as fast as its NBR (dNDVI ~0.8 dNBR).
VISIBLE = ("B01", "B02", "B03", "B04")
VISIBLE_BURN_GAIN = 2.2


def burnt_ground(tile: Tile, b: Base, band: str, dried: float, burnt: F32) -> F32:
    ground = unburnt_ground(tile, b, band, dried)
    if not burnt.any():
        return ground
    share = np.minimum(burnt * VISIBLE_BURN_GAIN, 1) if band in VISIBLE else burnt
    return (ground + (_spectrum(tile, band)["char"] - ground) * share).astype(np.float32)


def fields(scene: S2Scene | HLSScene) -> tuple[Tile, Base, SceneFields]:
    key = _scene_key(scene)
    return key[0], base_fields(key[0]), scene_fields(*key)


def coarse_reflectance(scene: S2Scene | HLSScene, band: str) -> tuple[F32, F32]:
    """60 m (land, sea) surface reflectance of one band, clouds included."""
    tile, b, sf = fields(scene)
    s = _spectrum(tile, band)
    land = burnt_ground(tile, b, band, sf.dried, sf.burnt)
    if "snow" in s:
        land = land * (1 - sf.snow) + sf.snow * s["snow"]
    land = land * sf.gain
    sea = np.full((tile.n, tile.n), s["water"], np.float32)
    if tile is S2_REGION:
        sea += SEA_TURBID_WEIGHT.get(band, 0.3) * b.turbid
        if s["water"] < DARK_SEA_BELOW:  # blue and green stay bright over the open sea
            sea -= DARK_SEA * b.dark_sea
    out = []
    for r in (land, sea):
        r = r * (1 - 0.6 * sf.shadow)
        r = r * (1 - sf.cloud) + sf.cloud * s["cloud"] + 0.15 * sf.cirrus
        out.append(r.astype(np.float32))
    return out[0], out[1]


def data_footprint(scene: S2Scene | HLSScene) -> Footprint | None:
    """The scene's data footprint, where its tile has a swath edge (None: all valid)."""
    return s2_footprint(scene) if isinstance(scene, S2Scene) else None


# ---------------------------------------------------------------------------------------------
# Scene classification
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SclThresholds:
    vegetation: float  # NDVI above which clear land is vegetation (4)
    dark: float  # red reflectance below which land is a dark feature (2)
    dark_field: F32  # that red reflectance, 60 m, over the region
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
    tile, b, sf = fields(scene)
    w = window(scene)
    p = s2_properties(scene)
    xs, ys = coarse_xy(w)
    valid = xs[None, :] >= west_edge(tile, s2_footprint(scene), ys)[:, None]
    n = valid.sum()

    def share(key: str) -> float:  # a class's share of the valid cells, 0..1
        return p[f"s2:{key}_percentage"] / 100

    cloud, shadow_field = w.of(sf.cloud), w.of(sf.shadow)
    high = _top(cloud[valid], share("high_proba_clouds"), 2.0)
    medium = _top(cloud[valid], share("high_proba_clouds") + share("medium_proba_clouds"), 2.0)
    cirrus = _top(w.of(sf.cirrus)[valid], share("thin_cirrus"), 2.0)
    shadow = _top(shadow_field[valid], share("cloud_shadow"), 2.0)
    land = (valid & (w.of(b.land01) == 1) & (cloud < min(medium, 1.0))
            & (shadow_field < shadow))  # fmt: skip
    vegetation = _top(w.of(sf.ndvi)[land], share("vegetation") * n / max(land.sum(), 1), 2.0)
    # Dark features: the darkest unburnt ground (steep shade), so that the scar stays land.
    red, _ = coarse_reflectance(scene, "B04")
    red = np.where(b.scar_order > 1, red, np.float32(9.0))
    dark_share = share("dark_features") * n / max(land.sum(), 1)
    dark = -_top(-w.of(red)[land], dark_share, 1.0) if dark_share > 0 else -1.0
    return SclThresholds(vegetation, dark, red, shadow, cirrus, medium, high)


def scl_thresholds(scene: S2Scene) -> SclThresholds:
    """Per pass, the SCL's thresholds on the 60 m fields, chosen so that each class covers
    the share of 35SNA's valid pixels that its item's ``s2:*_percentage`` states.

    The pass's other tiles are classified with the same thresholds, so that where tiles
    overlap their SCL agrees; their own percentages are INVENTED, not counted from it.
    """
    return _scl_thresholds(scene.id.replace(f"_{scene.tile}_", "_35SNA_"))

