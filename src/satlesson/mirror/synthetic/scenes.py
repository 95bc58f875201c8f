"""The scenes the snapshot holds: one table that the catalog and the raster generator share.

Sentinel-2 L2A over MGRS tile 35SNA (Rhodes) from relative orbit 107, and Landsat-8 HLS over
tile T18TWL (New York). Values for S2A_35SNA_20230827_0_L2A are those of the real Earth Search
item; the others are plausible values of the same kind, fixed so that every build is the same.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class S2Scene:
    id: str
    datetime: str  # ISO 8601, UTC, as Earth Search writes it
    cloud_cover: float  # eo:cloud_cover, percent

    @property
    def when(self) -> datetime:
        """``datetime`` parsed, timezone-aware (UTC)."""
        return datetime.fromisoformat(self.datetime)

    @property
    def platform(self) -> str:
        return "sentinel-2a" if self.id.startswith("S2A") else "sentinel-2b"

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


# Newest first, the order Earth Search returns.
S2_SCENES: tuple[S2Scene, ...] = (
    S2Scene("S2A_35SNA_20230906_0_L2A", "2023-09-06T09:00:17.904000Z", 12.718334),
    S2Scene("S2B_35SNA_20230901_0_L2A", "2023-09-01T09:00:20.114000Z", 0.104226),
    S2Scene("S2A_35SNA_20230827_0_L2A", "2023-08-27T09:00:21.327000Z", 0.955362),
    S2Scene("S2B_35SNA_20230822_0_L2A", "2023-08-22T09:00:18.652000Z", 0.012907),
    S2Scene("S2A_35SNA_20230817_0_L2A", "2023-08-17T09:00:20.970000Z", 0.031114),
    S2Scene("S2B_35SNA_20230812_0_L2A", "2023-08-12T09:00:19.425000Z", 0.000487),
    S2Scene("S2A_35SNA_20230807_0_L2A", "2023-08-07T09:00:21.716000Z", 0.274839),
    S2Scene("S2B_35SNA_20230802_0_L2A", "2023-08-02T09:00:19.884000Z", 0.150612),
    S2Scene("S2A_35SNA_20230728_0_L2A", "2023-07-28T09:00:22.103000Z", 0.452213),
    S2Scene("S2B_35SNA_20230723_0_L2A", "2023-07-23T09:00:20.267000Z", 0.613045),
    S2Scene("S2A_35SNA_20230718_0_L2A", "2023-07-18T09:00:22.488000Z", 0.007131),
    S2Scene("S2B_35SNA_20230713_0_L2A", "2023-07-13T09:00:20.651000Z", 0.398712),
    S2Scene("S2A_35SNA_20230708_0_L2A", "2023-07-08T09:00:22.874000Z", 0.061254),
    S2Scene("S2B_35SNA_20230703_0_L2A", "2023-07-03T09:00:21.036000Z", 23.417581),
    S2Scene("S2A_35SNA_20230628_0_L2A", "2023-06-28T09:00:23.259000Z", 5.204388),
    S2Scene("S2B_35SNA_20230623_0_L2A", "2023-06-23T09:00:21.421000Z", 0.326097),
)

# MGRS 35SNA in EPSG:32635: 109800 m square, upper-left corner (499980, 4100040).
S2_EPSG = 32635
S2_ORIGIN = (499980.0, 4100040.0)
S2_EXTENT_M = 109800.0

# The acquisition footprint of relative orbit 107 over 35SNA (lon, lat): the swath edge cuts
# the tile's west side, which is no-data in every scene.
S2_FOOTPRINT: tuple[tuple[float, float], ...] = (
    (27.290401625602243, 37.04621863329741),
    (27.23303872472207, 36.83882218126937),
    (27.011145718480538, 36.05673246264742),
    (28.21878905911668, 36.05053734221328),
    (28.234426643135546, 37.04015200857309),
    (27.290401625602243, 37.04621863329741),
)


@dataclass(frozen=True)
class HLSScene:
    id: str
    datetime: str  # ISO 8601, UTC
    cloud_cover: int  # HLS reports whole percent

    @property
    def when(self) -> datetime:
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


def sun_position(when: datetime, lon: float, lat: float) -> tuple[float, float]:
    """Solar azimuth and elevation in degrees (NOAA's low-precision series, ~0.1 deg)."""
    hour = when.hour + when.minute / 60 + (when.second + when.microsecond / 1e6) / 3600
    g = 2 * math.pi / 365 * (when.timetuple().tm_yday - 1 + (hour - 12) / 24)
    eqtime = 229.18 * (
        0.000075 + 0.001868 * math.cos(g) - 0.032077 * math.sin(g)
        - 0.014615 * math.cos(2 * g) - 0.040849 * math.sin(2 * g)
    )  # fmt: skip
    decl = (
        0.006918 - 0.399912 * math.cos(g) + 0.070257 * math.sin(g)
        - 0.006758 * math.cos(2 * g) + 0.000907 * math.sin(2 * g)
        - 0.002697 * math.cos(3 * g) + 0.00148 * math.sin(3 * g)
    )  # fmt: skip
    hour_angle = math.radians((hour * 60 + eqtime + 4 * lon) / 4 - 180)
    phi = math.radians(lat)
    cos_zenith = math.sin(phi) * math.sin(decl) + math.cos(phi) * math.cos(decl) * math.cos(
        hour_angle
    )
    elevation = 90 - math.degrees(math.acos(cos_zenith))
    azimuth = 180 + math.degrees(
        math.atan2(
            math.sin(hour_angle),
            math.cos(hour_angle) * math.sin(phi) - math.tan(decl) * math.cos(phi),
        )
    )
    return azimuth, elevation


# Bumped whenever anything that changes the snapshot's bytes changes; build caches key on it.
SNAPSHOT_VERSION = "2026.11.8"
