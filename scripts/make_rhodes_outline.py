"""Derive src/satlesson/data/lesson/rhodes.geojson, the outline of the island of Rhodes, from
the GSHHG land polygon the package ships (src/satlesson/data/rhodes-region-land.geojson, see
scripts/make_land_polygon.py): the one polygon that contains Rhodes town, in lon/lat.

    .venv/bin/python scripts/make_rhodes_outline.py
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import shapely
from shapely.geometry import Point

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src" / "satlesson" / "data" / "rhodes-region-land.geojson"
OUT = ROOT / "src" / "satlesson" / "data" / "lesson" / "rhodes.geojson"
RHODES_TOWN = Point(28.217, 36.433)  # lon, lat (Wikipedia, "Rhodes (city)")


def main() -> None:
    land = gpd.read_file(SOURCE).to_crs("EPSG:4326").explode(index_parts=False)
    island = land[land.contains(RHODES_TOWN)].geometry
    if len(island) != 1:
        raise SystemExit(f"expected one polygon around Rhodes town, found {len(island)}")
    # Five decimals (about 1 m) are far finer than the 60 m grid the coast was sampled on.
    outline = shapely.set_precision(island.iloc[0], 1e-5)
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "Rhodes", "name_el": "Ρόδος"},
                "geometry": shapely.geometry.mapping(outline),
            }
        ],
    }
    OUT.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n")
    points = shapely.get_num_coordinates(outline)
    print(f"{OUT}: {OUT.stat().st_size / 1024:.0f} KB, {points} points")


if __name__ == "__main__":
    main()
