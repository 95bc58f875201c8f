"""The scenes the snapshot holds: one table that the catalog and the raster generator share.

Sentinel-2 L2A over Rhodes from relative orbit 107, and Landsat-8 HLS over tile T18TWL (New
York). MGRS tile 35SNA holds most of the island; the same passes also cover 35SNV to the south
(the island's southern end, where the 2023 fire reached Kiotari and Gennadi) and 35SPA to the
east (a sliver of the east coast), which an island-wide search returns beside it. The eleven
clear 35SNA scenes of July-August 2023 are real: their datetimes and cloud covers are read
from the transcribed Earth Search answer (``published``). The other rows, and every 35SNV and
35SPA scene, are INVENTED (``real=False``): plausible values of the same kind, fixed so that
every build is the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import datetime as DateTime  # the scenes have a field called datetime

from satlesson.mirror.synthetic.published import published_ids, published_item


@dataclass(frozen=True)
class S2Scene:
    id: str
    datetime: str  # ISO 8601, UTC, as Earth Search writes it
    cloud_cover: float  # eo:cloud_cover, percent
    real: bool = False  # True: every property is upstream's (``published``); False: invented

    @property
    def when(self) -> DateTime:
        """``datetime`` parsed, timezone-aware (UTC)."""
        return datetime.fromisoformat(self.datetime)

    @property
    def tile(self) -> str:
        """The MGRS tile, e.g. ``35SNA``."""
        return self.id.split("_")[1]

    @property
    def platform(self) -> str:
        return f"sentinel-2{self.id[2].lower()}"

    @property
    def day(self) -> date:
        return self.when.date()

    @property
    def burn_fraction(self) -> float:
        """How much of the final burn scar is visible: the fire on Rhodes ran 18-27 July 2023."""
        if self.day < date(2023, 7, 20):
            return 0.0
        if self.day < date(2023, 7, 27):
            return 0.6
        return 1.0


def _real(item_id: str) -> S2Scene:
    item = published_item(item_id)
    assert item is not None
    p = item["properties"]
    return S2Scene(item_id, p["datetime"], p["eo:cloud_cover"], real=True)


# INVENTED: scenes around the real ones (cloudier days, before July and after August) that
# the lesson's searches meet; their values are plausible, not upstream's.
_INVENTED: tuple[S2Scene, ...] = (
    S2Scene("S2A_35SNA_20230906_0_L2A", "2023-09-06T09:00:17.904000Z", 12.718334),
    S2Scene("S2B_35SNA_20230901_0_L2A", "2023-09-01T09:00:20.114000Z", 0.104226),
    S2Scene("S2B_35SNA_20230703_0_L2A", "2023-07-03T09:00:21.036000Z", 23.417581),
    S2Scene("S2A_35SNA_20230628_0_L2A", "2023-06-28T09:00:23.259000Z", 5.204388),
    S2Scene("S2B_35SNA_20230623_0_L2A", "2023-06-23T09:00:21.421000Z", 0.326097),
)

# Newest first, the order Earth Search returns.
S2_SCENES: tuple[S2Scene, ...] = tuple(sorted(
    (*_INVENTED, *(_real(item_id) for item_id in published_ids())),
    key=lambda scene: scene.datetime, reverse=True))

S2_EPSG = 32635  # every Rhodes tile is in UTM zone 35N
S2_EXTENT_M = 109800.0  # an MGRS tile's side


@dataclass(frozen=True)
class MgrsTile:
    name: str
    origin: tuple[float, float]  # upper-left corner, EPSG:32635
    # The acquisition footprint of relative orbit 107 (lon, lat): the swath's west edge cuts
    # 35SNA's west side and 35SNV's north-west corner, which are no-data in every scene.
    footprint: tuple[tuple[float, float], ...]
    seconds_after: float  # sensing time after 35SNA's on the same pass
    # Measured on the land polygon (tests/mirror/test_catalog.py): the sea's share of the valid
    # pixels, and the no-data share of the tile, percent.
    water_share: float
    nodata_percentage: float


# 35SNA's corner is real (every real item's proj:transform). INVENTED, from the tiling grid's
# 100 km pattern: the corners of 35SNV and 35SPA, and their footprints (the tile bounds, cut by
# 35SNA's swath edge extended south). 35SNV is sensed ~15 s later (a 110 km step along track
# at 7 km/s); 35SPA on the same line as 35SNA.
MGRS_TILES: dict[str, MgrsTile] = {t.name: t for t in (
    MgrsTile("35SNA", (499980.0, 4100040.0), (
        (27.290401625602243, 37.04621863329741),
        (27.23303872472207, 36.83882218126937),
        (27.011145718480538, 36.05673246264742),
        (28.21878905911668, 36.05053734221328),
        (28.234426643135546, 37.04015200857309),
        (27.290401625602243, 37.04621863329741),
    ), 0.0, 0.738, 12.31),
    MgrsTile("35SNV", (499980.0, 4000020.0), (
        (27.036219, 36.144801),
        (26.99978, 36.017858),
        (26.99978, 35.15489),
        (28.205204, 35.148896),
        (28.220162, 36.138683),
        (27.036219, 36.144801),
    ), 14.8, 0.928, 0.19),
    MgrsTile("35SPA", (600000.0, 4100040.0), (
        (28.124486, 37.041254),
        (28.11024, 36.051583),
        (29.328614, 36.034105),
        (29.358468, 37.023138),
        (28.124486, 37.041254),
    ), 0.4, 0.608, 0.0),
)}  # fmt: skip
S2_ORIGIN = MGRS_TILES["35SNA"].origin
S2_FOOTPRINT = MGRS_TILES["35SNA"].footprint


def _neighbour(scene: S2Scene, tile: MgrsTile) -> S2Scene:
    when = scene.when + timedelta(seconds=tile.seconds_after)
    return S2Scene(scene.id.replace("_35SNA_", f"_{tile.name}_"),
                   when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "000Z", scene.cloud_cover)


# INVENTED: the same passes over 35SNV and 35SPA, with 35SNA's cloud cover.
NEIGHBOUR_SCENES: tuple[S2Scene, ...] = tuple(
    _neighbour(scene, tile) for scene in S2_SCENES
    for tile in MGRS_TILES.values() if tile.name != "35SNA")


def s2_tile(scene: S2Scene) -> MgrsTile:
    return MGRS_TILES[scene.tile]


def s2_footprint(scene: S2Scene) -> tuple[tuple[float, float], ...]:
    """The scene's data footprint (lon, lat): upstream's own for a real scene."""
    published = published_item(scene.id)
    if published is None:
        return s2_tile(scene).footprint
    return tuple((lon, lat) for lon, lat in published["geometry"]["coordinates"][0])


@dataclass(frozen=True)
class HLSScene:
    id: str
    datetime: str  # ISO 8601, UTC
    cloud_cover: int  # HLS reports whole percent

    @property
    def when(self) -> DateTime:
        """``datetime`` parsed, timezone-aware (UTC)."""
        return datetime.fromisoformat(self.datetime)


# HLS Landsat-8 (L30) v2.0 over T18TWL; five fall in February-March 2021.
HLS_SCENES: tuple[HLSScene, ...] = (
    HLSScene("HLS.L30.T18TWL.2021103T153244.v2.0", "2021-04-13T15:32:44.120000Z", 8),
    HLSScene("HLS.L30.T18TWL.2021087T153254.v2.0", "2021-03-28T15:32:54.430000Z", 58),
    HLSScene("HLS.L30.T18TWL.2021071T153309.v2.0", "2021-03-12T15:33:09.870000Z", 12),
    HLSScene("HLS.L30.T18TWL.2021055T153318.v2.0", "2021-02-24T15:33:18.210000Z", 36),
    HLSScene("HLS.L30.T18TWL.2021046T153933.v2.0", "2021-02-15T15:39:33.560000Z", 97),
    HLSScene("HLS.L30.T18TWL.2021039T153324.v2.0", "2021-02-08T15:33:24.640000Z", 4),
    HLSScene("HLS.L30.T18TWL.2021023T153331.v2.0", "2021-01-23T15:33:31.050000Z", 71),
)

# UTM 18N tile T18TWL: 109800 m square, upper-left corner (499980, 4600020), 30 m pixels.
HLS_EPSG = 32618
HLS_ORIGIN = (499980.0, 4600020.0)
HLS_EXTENT_M = 109800.0


def sun_positions(whens: list[datetime], lon: float, lat: float
                  ) -> list[tuple[float, float]]:  # fmt: skip
    """Solar azimuth and geometric elevation in degrees (NREL's SPA, via pvlib), one call for
    many times at one place: the algorithm is vectorized, and per call it costs ~10 ms."""
    import pandas as pd
    import pvlib

    sun = pvlib.solarposition.get_solarposition(
        pd.DatetimeIndex(whens), lat, lon, method="nrel_numpy")
    return [(float(a), float(e)) for a, e in zip(sun["azimuth"], sun["elevation"], strict=True)]


def sun_position(when: datetime, lon: float, lat: float) -> tuple[float, float]:
    """Solar azimuth and geometric elevation in degrees at one time and place."""
    return sun_positions([when], lon, lat)[0]


# Bumped whenever anything that changes the snapshot's bytes changes; build caches key on it.
SNAPSHOT_VERSION = "2026.12.3"
