"""STAC shapes both mirrored APIs share: media types, providers, bounding boxes."""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]

COG = "image/tiff; application=geotiff; profile=cloud-optimized"
JP2 = "image/jp2"

GLOBAL_BBOX = [-180.0, -90.0, 180.0, 90.0]


def provider(name: str, roles: list[str], url: str) -> Json:
    return {"name": name, "roles": roles, "url": url}


def bbox(coords: list[list[float]]) -> list[float]:
    lons = [c[0] for c in coords]
    lats = [c[1] for c in coords]
    return [min(lons), min(lats), max(lons), max(lats)]
