"""The contract between the catalogs and the renderers: what one advertised file is.

Every API module lists its files as ``FileSpec``s (``advertised.py`` joins them); the
renderers read nothing else. Frozen, so a spec can key caches and cross to worker processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from satlesson.mirror.synthetic.scenes import HLSScene, S2Scene

Kind = Literal[
    "s2-band", "s2-tci", "s2-scl", "s2-jp2", "s2-thumbnail", "s2-granule-xml",
    "s2-tileinfo-json", "c1-cloud", "c1-snow", "c1-preview", "c1-product-xml",
    "hls-band", "hls-browse", "hls-metadata", "dem", "truth-json",
]  # fmt: skip
DemTile = tuple[int, int]  # (lat, lon) of a DEM tile's south-west corner, whole degrees


@dataclass(frozen=True)
class FileSpec:
    kind: Kind
    item_id: str
    asset_key: str
    scene: S2Scene | HLSScene | DemTile | None
    shape: tuple[int, int] | None  # (rows, cols); None for files that are not rasters
    transform: tuple[float, ...] | None  # GDAL order, six numbers
    epsg: int | None
    protected: bool  # behind the (demo) Earthdata login
    # HLS bands: the angle bands' type and no-data follow from it; an S2 file's type follows
    # from its asset key.
    dtype: str | None = None
    dn_offset: int = 0  # added to 10000 x reflectance (Collection 1 keeps ESA's +1000)

    # Typed views of the fields a renderer needs; a renderer asking for the wrong one is a bug.
    @property
    def s2(self) -> S2Scene:
        if not isinstance(self.scene, S2Scene):
            raise TypeError(f"{self.item_id}/{self.asset_key} is not a Sentinel-2 file")
        return self.scene

    @property
    def hls(self) -> HLSScene:
        if not isinstance(self.scene, HLSScene):
            raise TypeError(f"{self.item_id}/{self.asset_key} is not an HLS file")
        return self.scene

    @property
    def dem_tile(self) -> DemTile:
        if not isinstance(self.scene, tuple):
            raise TypeError(f"{self.item_id}/{self.asset_key} is not a DEM tile")
        return self.scene

    @property
    def grid(self) -> tuple[tuple[int, int], tuple[float, ...]]:
        """(rows, cols) and the GDAL geotransform of a raster file."""
        if self.shape is None or self.transform is None:
            raise TypeError(f"{self.item_id}/{self.asset_key} is not a raster")
        return self.shape, self.transform
