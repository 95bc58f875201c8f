"""The whole Sentinel-2 L2A archive over the lesson's tile, as metadata items.

The lesson's table (``scenes.S2_SCENES``) holds the scenes its episodes read. An all-time
search over Rhodes meets many more: every pass of relative orbit 107 over MGRS tile 35SNA
since Earth Search's L2A record begins there. This module lists them, newest first, up to
the snapshot's date. Their pixels are generated only if someone reads them.

The acquisition pattern is real: each satellite passes every 10 days on the same relative
orbit (Sentinel-2A from the first L2A products in Europe, November 2016; 2B from July 2017;
2C took 2A's place on 21 January 2025 and appears in Earth Search from 18 February 2025).
INVENTED, CALIBRATED: the reprocessed duplicates (sequence ``_1_``) of November 2019 to
January 2021, which bring the count over the seed's point to the 611 that the original
lesson printed on 9 April 2024 (commit 306610a; its 513 of 28 February 2024 is met by the
passes alone). INVENTED: each archive scene's cloud cover (a draw from a Rhodes-like season:
clear summers, cloudy winters), and its sub-second timing.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from functools import cache

from satlesson.mirror.synthetic.scenes import NEIGHBOUR_SCENES, S2_SCENES, S2Scene

__all__ = ["ARCHIVE_UNTIL", "archive_scenes", "all_s2_scenes", "s2_scene"]

ARCHIVE_UNTIL = date(2026, 11, 25)  # the snapshot's date: the newest pass it holds

# (satellite, a real pass on relative orbit 107, first, last) day of each record.
_RECORDS = (
    ("A", date(2023, 8, 27), date(2016, 11, 1), date(2025, 1, 20)),
    ("B", date(2023, 8, 22), date(2017, 7, 4), ARCHIVE_UNTIL),
    ("C", date(2023, 8, 27), date(2025, 2, 18), ARCHIVE_UNTIL),  # on 2A's old phase
)
_REPROCESSED = (date(2019, 11, 1), date(2021, 1, 24))  # INVENTED, CALIBRATED (see above)

# INVENTED: the chance that a pass over Rhodes is cloudy, by month.
_CLOUDY = (0.55, 0.5, 0.45, 0.35, 0.2, 0.08, 0.04, 0.04, 0.1, 0.25, 0.4, 0.55)


def _passes(first: date, last: date, anchor: date) -> list[date]:
    start = first + timedelta(days=(anchor - first).days % 10)  # the first pass on or after
    return [start + timedelta(days=10 * k) for k in range((last - start).days // 10 + 1)]


def _scene(sat: str, day: date, sequence: int) -> S2Scene:
    item_id = f"S2{sat}_35SNA_{day:%Y%m%d}_{sequence}_L2A"
    rng = random.Random(f"satlesson/archive/{item_id}")
    if rng.random() < _CLOUDY[day.month - 1]:
        cloud = round(min(100.0, 1 + 99 * rng.betavariate(1.2, 1.5)), 6)
    else:
        cloud = round(min(rng.expovariate(2.0), 5.0), 6)
    when = f"{day:%Y-%m-%d}T09:00:{rng.uniform(17.5, 23.5):09.6f}Z"
    return S2Scene(item_id, when, cloud)


@cache
def archive_scenes() -> tuple[S2Scene, ...]:
    """Every archive pass not in the lesson's table, newest first."""
    taken = {scene.day for scene in S2_SCENES}
    scenes = []
    for sat, anchor, first, last in _RECORDS:
        for day in _passes(first, last, anchor):
            if day in taken or not first <= day <= last:
                continue
            scenes.append(_scene(sat, day, 0))
            if _REPROCESSED[0] <= day <= _REPROCESSED[1]:
                scenes.append(_scene(sat, day, 1))
    return tuple(sorted(scenes, key=lambda s: (s.datetime, s.id), reverse=True))


@cache
def all_s2_scenes() -> tuple[S2Scene, ...]:
    """The lesson's scenes (with their 35SNV and 35SPA neighbours) and the archive's, newest
    first, as an all-time search lists them."""
    return tuple(sorted((*S2_SCENES, *NEIGHBOUR_SCENES, *archive_scenes()),
                        key=lambda s: (s.datetime, s.id), reverse=True))


@cache
def _by_id() -> dict[str, S2Scene]:
    return {scene.id: scene for scene in all_s2_scenes()}


def s2_scene(item_id: str) -> S2Scene:
    """The scene of an item ID (KeyError if the snapshot holds no such item)."""
    return _by_id()[item_id]
