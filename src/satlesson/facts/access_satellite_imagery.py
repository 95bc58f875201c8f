"""Facts of episodes 1 and 2, "Search for satellite imagery" and "Open remote imagery": their
searches and what they read.

The searches below are the episodes' own (same API, collection, point, dates, filters), so the
numbers measured here are the numbers a learner running the page would get.
"""

from __future__ import annotations

from typing import Any

from satlesson.facts.base import Fact, Services, count, ids, per_scene, value

EARTH_SEARCH = "https://earth-search.aws.element84.com/v1"
CMR_LPCLOUD = "https://cmr.earthdata.nasa.gov/stac/LPCLOUD"
COLLECTION = "sentinel-2-l2a"
POINT = {"type": "Point", "coordinates": [27.95, 36.20]}  # Rhodes
PERIOD = "2023-07-01/2023-08-31"
CLEAR = ["eo:cloud_cover<1"]
RED_BOX = (560900, 3995000, 570900, 4015000)  # EPSG:32635, west of Rhodes
HLS_COLLECTION = "HLSL30.v2.0"
HLS_POINT = {"type": "Point", "coordinates": [-73.97, 40.78]}  # Central Park
HLS_PERIOD = "2021-02-01/2021-03-30"
AUGUST_27 = "S2A_35SNA_20230827_0_L2A"  # the item whose metadata the page prints

# The scenes of July-August 2023 newest first, as the page lists them, with their cloud cover.
# Upstream's cloud covers (the real items; the cloudy 3 July scene is the snapshot's own).
PERIOD_CLOUD_COVER = {
    "S2A_35SNA_20230827_0_L2A": 0.955362,
    "S2B_35SNA_20230822_0_L2A": 0.006306,
    "S2A_35SNA_20230817_0_L2A": 0.093958,
    "S2B_35SNA_20230812_0_L2A": 0.697368,
    "S2A_35SNA_20230807_0_L2A": 0.088923,
    "S2B_35SNA_20230802_0_L2A": 0.013581,
    "S2A_35SNA_20230728_0_L2A": 0.06248,
    "S2B_35SNA_20230723_0_L2A": 0.013039,
    "S2A_35SNA_20230718_0_L2A": 0.010717,
    "S2B_35SNA_20230713_0_L2A": 0.004254,
    "S2A_35SNA_20230708_0_L2A": 0.029514,
    "S2B_35SNA_20230703_0_L2A": 23.417581,
}
PERIOD_IDS = tuple(PERIOD_CLOUD_COVER)
# The HLS items of February-March 2021 (whole percent), in the order the page sorts them.
HLS_CLOUD_COVER = {
    "HLS.L30.T18TWL.2021039T153324.v2.0": 4,
    "HLS.L30.T18TWL.2021071T153309.v2.0": 12,
    "HLS.L30.T18TWL.2021055T153318.v2.0": 36,
    "HLS.L30.T18TWL.2021087T153254.v2.0": 58,
    "HLS.L30.T18TWL.2021046T153933.v2.0": 97,
}


# --- the episode's queries (each runs once per drift run) ---------------------------------------


def _search(s: Services, **extra: Any) -> Any:
    return s.client(EARTH_SEARCH).search(collections=[COLLECTION], intersects=POINT, **extra)


def all_time(s: Services) -> Any:
    return _search(s).matched()


def period(s: Services) -> Any:
    return _search(s, datetime=PERIOD)


def period_items(s: Services) -> list[Any]:
    return list(s.once(period).items())


def clear(s: Services) -> Any:
    return _search(s, datetime=PERIOD, query=CLEAR)


def clear_items(s: Services) -> list[Any]:
    return list(s.once(clear).items())


def august_27(s: Services) -> dict[str, Any] | None:
    """Properties of the item the page prints, or None when it is gone."""
    found = [i for i in s.once(period_items) if i.id == AUGUST_27]
    return found[0].properties if found else None


def crs_code(properties: dict[str, Any] | None) -> str | None:
    """The CRS as episode 3 works it out from the item: proj:code, else proj:epsg."""
    if properties is None:
        return None
    if "proj:code" in properties:
        return str(properties["proj:code"])
    return f"EPSG:{properties['proj:epsg']}" if "proj:epsg" in properties else None


def before(s: Services) -> Any:
    """The oldest clear scene: the page's "before" image, whose red band it clips."""
    items = s.once(clear_items)
    return items[-1] if items else None


def red_band(s: Services) -> dict[str, Any] | None:
    """Shape and CRS of the red band of the "before" scene, and the shape of the page's clip."""
    item = s.once(before)
    if item is None:
        return None
    import rasterio
    import rioxarray
    import xarray as xr

    from satlesson.clip import clip_asset, gdal_options

    asset = item.assets["red"]
    with rasterio.Env(**gdal_options(asset.href)):
        red = rioxarray.open_rasterio(asset.href)
        assert isinstance(red, xr.DataArray)  # a one-band file, not a list of subdatasets
        with red:
            header = {"shape": tuple(red.shape), "crs": red.rio.crs.to_string()}
    # Read the pixels with the helper as the page does: the clip must really arrive.
    header["clip"] = tuple(clip_asset(item, "red", bbox=RED_BOX).shape)
    return header


def hls_items(s: Services) -> list[Any]:
    search = s.client(CMR_LPCLOUD).search(collections=[HLS_COLLECTION], intersects=HLS_POINT,
                                          datetime=HLS_PERIOD)
    return list(search.items())


def least_cloudy_hls(s: Services) -> Any:
    items = s.once(hls_items)
    return min(items, key=lambda i: i.properties["eo:cloud_cover"]) if items else None


def hls_band_status(s: Services) -> int | None:
    """What an anonymous request for the least cloudy HLS item's red band ends with."""
    item = s.once(least_cloudy_hls)
    return s.status(item.assets["B04"].href) if item is not None else None


def cloud_covers(items: list[Any]) -> dict[str, Any]:
    return {i.id: i.properties.get("eo:cloud_cover") for i in items}


def _id(item: Any) -> str | None:
    return item.id if item is not None else None


def _red(key: str) -> Any:
    return lambda s: (s.once(red_band) or {}).get(key)


def _august_27(key: str) -> Any:
    return lambda s: (s.once(august_27) or {}).get(key)


# --- the facts: one line each, in page order -----------------------------------------------------

FACTS: tuple[Fact, ...] = (
    count("all-time-scenes", 800, "scenes over the point in the whole archive", all_time,
          grows=True),
    count("scenes", 12, "scenes", lambda s: s.once(period).matched()),
    ids("scene-ids", PERIOD_IDS, "", lambda s: [i.id for i in s.once(period_items)]),
    value("newest-scene", AUGUST_27, "the newest scene of July-August 2023",
          lambda s: _id((s.once(period_items) or [None])[0])),
    per_scene("cloud-covers", PERIOD_CLOUD_COVER, "the cloud cover of {}",
              lambda s: cloud_covers(s.once(period_items))),
    value("newest-scene-time", "2023-08-27T09:00:21.327000Z", f"the time of {AUGUST_27}",
          _august_27("datetime")),
    value("newest-scene-crs", "EPSG:32635", f"the CRS of {AUGUST_27}",
          lambda s: crs_code(s.once(august_27))),
    count("clear-scenes", 11, "clear scenes", lambda s: s.once(clear).matched()),
    ids("clear-scene-ids", [i for i in PERIOD_IDS if i != "S2B_35SNA_20230703_0_L2A"],
        "the clear scenes", lambda s: [i.id for i in s.once(clear_items)]),
    value("clearest-scene", "S2B_35SNA_20230713_0_L2A", "the least cloudy clear scene",
          lambda s: _id(min(s.once(clear_items), default=None,
                            key=lambda i: i.properties["eo:cloud_cover"]))),
    value("before-scene", "S2A_35SNA_20230708_0_L2A", "the oldest clear scene (the 'before' image)",
          lambda s: _id(s.once(before))),
    value("after-scene", AUGUST_27, "the newest clear scene (the 'after' image)",
          lambda s: _id((s.once(clear_items) or [None])[0])),
    value("red-band-shape", (1, 10980, 10980), "the shape of the red band", _red("shape")),
    value("red-band-crs", "EPSG:32635", "the CRS of the red band", _red("crs")),
    value("red-clip-shape", (1, 2000, 1000), "the shape of the clipped red band", _red("clip")),
    count("hls-items", 5, "HLS items", lambda s: len(s.once(hls_items))),
    per_scene("hls-cloud-covers", HLS_CLOUD_COVER, "the cloud cover of {}",
              lambda s: cloud_covers(s.once(hls_items))),
    value("least-cloudy-hls", "HLS.L30.T18TWL.2021039T153324.v2.0", "the least cloudy HLS item",
          lambda s: _id(s.once(least_cloudy_hls))),
    value("hls-band-without-login", 401, "the HTTP status of the HLS band without a login",
          hls_band_status),
)
