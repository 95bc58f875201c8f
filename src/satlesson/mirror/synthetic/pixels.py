"""Pixels per asset: the 60 m model (``model.py``) upsampled, strip by strip, onto each band's
grid, with the surface detail and sharp coastlines a 10 m band shows.

Upsampling is bilinear; coastlines are re-sharpened with a seeded texture, and the same
texture (tiled in ground metres, so 10 m and 20 m bands see the same ground, and the same
factor on every band, so band ratios keep their value) adds surface detail. Every band, the
true-colour image and the previews come from the same 60 m mix, so NDVI, NBR and the SCL
agree at 10, 20 and 60 m. Strips go straight to the writer (``rasters.py``), so no
full-size float array exists.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from satlesson.mirror.synthetic.filespec import FileSpec
from satlesson.mirror.synthetic.model import (
    CELL,
    F32,
    HLS_ANGLES,
    HLS_REFLECTIVE,
    HLS_THERMAL,
    S2_BANDS,
    S2_REGION,
    Footprint,
    N,
    Window,
    base_fields,
    coarse_reflectance,
    fields,
    scl_thresholds,
    seed,
    smooth_noise,
    west_edge,
    window,
)
from satlesson.mirror.synthetic.scenes import (
    HLSScene,
    S2Scene,
    s2_footprint,
    sun_position,
)

TEX = 1020  # texture tile, in 10 m pixels: divisible by the 10/20/30/60 m factors 1, 2, 3, 6
TEX_SHIFT = 390  # per tile row, in 10 m pixels: breaks the texture's grid (divisible by 6)
S2_KEY_TO_BAND = {
    "coastal": "B01", "blue": "B02", "green": "B03", "red": "B04", "rededge1": "B05",
    "rededge2": "B06", "rededge3": "B07", "nir": "B08", "nir08": "B8A", "nir09": "B09",
    "swir16": "B11", "swir22": "B12", "aot": "AOT", "wvp": "WVP", "scl": "SCL", "visual": "TCI",
    "cloud": "CLD", "snow": "SNW",
}  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Upsampling and texture
# ---------------------------------------------------------------------------------------------


class Upsampler:
    """Bilinear resampling of a tile's window of a 60 m region field onto an aligned grid
    ``k`` times finer.

    The window's neighbours in the region take part, so two tiles that overlap resample the
    same ground to the same values; only at the region's edge is the edge cell repeated.
    Rows (few, at coarse width) are gathered; columns are interpolated phase by phase on
    shifted views, which avoids full-width fancy indexing, the slow part of the naive version.
    """

    def __init__(self, k: int, n: int, window: Window) -> None:
        self.k, self.n, self.window = k, n, window
        size = window.region.n
        u = (np.arange(n) + 0.5) / k - 0.5 + window.row
        i0 = np.clip(np.floor(u).astype(np.int64), 0, size - 1)
        self.i0, self.i1 = i0, np.minimum(i0 + 1, size - 1)
        self.w = np.clip(u - i0, 0, 1).astype(np.float32)
        # Fine column c*k + m sits at coarse c + d: between c-1 and c if d < 0, else c and c+1.
        d = (np.arange(k) + 0.5) / k - 0.5
        self.phases = [(0, np.float32(1 + dm)) if dm < 0 else (1, np.float32(dm)) for dm in d]

    def __call__(self, field: F32, r0: int, r1: int) -> F32:
        if self.k == 1:
            return self.window.of(field)[r0:r1].copy()
        w = self.w[r0:r1, None]
        c0, size = self.window.col, field.shape[1]
        a = field[self.i0[r0:r1], max(c0 - 1, 0) : c0 + N + 1]
        rows = a + (field[self.i1[r0:r1], max(c0 - 1, 0) : c0 + N + 1] - a) * w
        # One column either side: the region's own, or the edge repeated where it ends.
        left = [rows[:, :1]] if c0 == 0 else []
        right = [rows[:, -1:]] if c0 + N + 1 > size else []
        padded = np.concatenate([*left, rows, *right], axis=1)
        diffs = [padded[:, s + 1 : s + 1 + N] - padded[:, s : s + N] for s in (0, 1)]
        out = np.empty((r1 - r0, N, self.k), np.float32)
        for m, (s, wm) in enumerate(self.phases):
            np.multiply(diffs[s], wm, out=out[:, :, m])
            out[:, :, m] += padded[:, s : s + N]
        return out.reshape(r1 - r0, N * self.k)[:, : self.n]


@functools.cache
def _texture_tile() -> F32:
    """One seeded 1020² noise tile (unit std), the surface detail of every raster."""
    rng = np.random.default_rng(seed("texture"))
    fine = smooth_noise(rng, (TEX, TEX), 1.0, seamless=True)
    field = smooth_noise(rng, (TEX, TEX), 5.0, seamless=True)
    mixed = 0.6 * fine + 0.8 * field
    return (mixed / mixed.std()).astype(np.float32)


@functools.cache
def _scaled_tile(f: int, transpose: bool, scale: float, add: float) -> F32:
    tile = _texture_tile()
    return np.ascontiguousarray((tile.T if transpose else tile)[::f, ::f] * scale + add)


def _texture(f: int, r0: int, r1: int, width: int, transpose: bool = False, scale: float = 1.0,
             add: float = 0.0, at: tuple[int, int] = (0, 0)) -> F32:  # fmt: skip
    """``add + scale * texture`` for rows r0:r1 of a grid of f x 10 m pixels whose first pixel
    is pixel ``at`` (row, col) of its region's grid.

    The tile is indexed in 10 m ground units from the region's corner, so bands of different
    resolution, and overlapping tiles, see the same ground; each tile row is shifted sideways
    so the 10 km repeat doesn't line up.
    """
    tile = _scaled_tile(f, transpose, scale, add)
    period = TEX // f
    parts = []
    row = r0 + at[0]
    while row < r1 + at[0]:
        band, top = divmod(row, period)
        take = min(r1 + at[0] - row, period - top)
        shift = ((TEX_SHIFT // f) * band + at[1]) % period
        rolled = np.roll(tile[top : top + take], -shift, axis=1)
        parts.append(np.tile(rolled, (1, -(-width // period)))[:, :width])
        row += take
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


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

    def at(self, window: Window) -> tuple[int, int]:
        """The grid's first pixel on the region's grid of the same resolution (row, col)."""
        return window.row * self.k, window.col * self.k


def _grid(spec: FileSpec) -> Grid:
    (rows, cols), (a, _, c, _, e, f) = spec.grid
    if rows != cols or a != -e:
        raise ValueError(f"{spec.asset_key}: only square grids are generated")
    return Grid(int(rows), float(a))


@functools.lru_cache(maxsize=4)
def _sea_bits(window: Window, n: int, res: float) -> NDArray[np.uint8]:
    """Sea mask on a band's grid, bit-packed (15 MB at 10 m); every band and SCL share it.

    The smooth 60 m land fraction plus texture, thresholded: coastlines sharp at 10 m.
    """
    grid = Grid(n, res)
    up = Upsampler(grid.k, n, window)
    land = base_fields(window.region).land
    packed = np.empty((n, -(-n // 8)), np.uint8)
    at = grid.at(window)
    for r0, r1 in _strips(n, grid.f):
        sea = up(land, r0, r1) + _texture(grid.f, r0, r1, n, True, scale=0.15, at=at) < 0.5
        packed[r0:r1] = np.packbits(sea, axis=1)
    return packed


def _sea(window: Window, grid: Grid, r0: int, r1: int) -> NDArray[np.bool_]:
    bits = _sea_bits(window, grid.n, grid.res)[r0:r1]
    return np.unpackbits(bits, axis=1, count=grid.n).view(bool)
def _valid_from(window: Window, footprint: Footprint, grid: Grid) -> NDArray[np.int64]:
    """Per row of the band's grid: the first column east of the swath edge."""
    x0, y1 = window.origin
    ys = y1 - (np.arange(grid.n) + 0.5) * grid.res
    west = west_edge(window.region, footprint, ys)
    return np.clip(np.ceil((west - x0) / grid.res - 0.5), 0, grid.n).astype(np.int64)


def reflectance_strips(scene: S2Scene | HLSScene, band: str, grid: Grid
                       ) -> Iterator[tuple[int, int, F32]]:  # fmt: skip
    """(r0, r1, reflectance x 10000) per strip on the band's grid, float32."""
    tile, b, sf = fields(scene)
    w = window(scene)
    at = grid.at(w)
    land_c, sea_c = (r * np.float32(1e4) for r in coarse_reflectance(scene, band))
    flat_sea = tile is not S2_REGION and not (sf.cloud.any() or sf.cirrus.any())
    up = Upsampler(grid.k, grid.n, w)
    for r0, r1 in _strips(grid.n, grid.f):
        refl = up(land_c, r0, r1)
        refl *= _texture(grid.f, r0, r1, grid.n, scale=0.1, add=1.0, at=at)
        sea = _texture(grid.f, r0, r1, grid.n, transpose=True, scale=20.0, at=at)
        sea += sea_c[0, 0] if flat_sea else up(sea_c, r0, r1)
        np.copyto(refl, sea, where=_sea(w, grid, r0, r1))
        yield r0, r1, refl


def _dn(values: F32, add: float, lo: float, hi: float, dtype: type) -> NDArray[Any]:
    values += add + 0.5  # rounds on the truncating cast (values are positive)
    return np.clip(values, lo, hi, out=values).astype(dtype)


def s2_strips(spec: FileSpec) -> Iterator[tuple[int, int, NDArray[Any]]]:
    """(r0, r1, array[count, rows, cols]) for an S2 raster asset, no-data applied."""
    scene = spec.s2
    grid = _grid(spec)
    tile, b, sf = fields(scene)
    w = window(scene)
    at = grid.at(w)
    what = S2_KEY_TO_BAND[spec.asset_key.removesuffix("-jp2")]
    valid_from = _valid_from(w, s2_footprint(scene), grid)

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
        up = Upsampler(grid.k, grid.n, w)
        for r0, r1 in _strips(grid.n, grid.f):
            v = up(sf.cloud, r0, r1) * 100 + _texture(grid.f, r0, r1, grid.n, scale=2.0, at=at)
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
        up = Upsampler(grid.k, grid.n, w)
        if what == "AOT":  # AOT x 1000, thicker where hazy
            field = (sf.aot + 0.05 * b.urban + 0.1 * sf.cirrus) * 1000
        else:  # water vapour, cm x 1000: drier over land (elevation), wetter over sea
            field = (sf.wvp - 0.4 * b.land) * 1000
        field = field.astype(np.float32)
        for r0, r1 in _strips(grid.n, grid.f):
            v = up(field, r0, r1) + _texture(grid.f, r0, r1, grid.n, scale=3.0, at=at)
            yield r0, r1, blank(_dn(v, 0, 1, 65535, np.uint16)[None], r0)
    elif what == "SCL":
        up = Upsampler(grid.k, grid.n, w)
        t = scl_thresholds(scene)
        for r0, r1 in _strips(grid.n, grid.f):
            tex = _texture(grid.f, r0, r1, grid.n, at=at)
            land = ~_sea(w, grid, r0, r1)
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


def hls_strips(spec: FileSpec) -> Iterator[tuple[int, int, NDArray[Any]]]:
    scene = spec.hls
    grid = _grid(spec)
    tile, b, sf = fields(scene)
    w = window(scene)
    key = spec.asset_key
    up = Upsampler(grid.k, grid.n, w)
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
            land = ~_sea(w, grid, r0, r1)
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
