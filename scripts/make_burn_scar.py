"""Derive the mirror's outline of the July 2023 Rhodes burn scar.

Writes ``src/satlesson/data/rhodes-2023-burn-scar.geojson`` (EPSG:32635).

The outline is drawn through the places the published accounts name as burnt or reached by
the fire, then scaled about its centre until its land area equals the area that the
Copernicus Emergency Management Service mapped (17,628.7 ha). The asset generator reads the
file at run time; re-run this only to change it:

    .venv/bin/python scripts/make_burn_scar.py
"""

from __future__ import annotations

import json
from pathlib import Path

import shapely
import shapely.affinity
from pyproj import Transformer
from shapely.geometry import Polygon, mapping, shape

DATA = Path(__file__).resolve().parents[1] / "src" / "satlesson" / "data"
OUT = DATA / "rhodes-2023-burn-scar.geojson"

BURNT_HA = 17628.7  # CEMS: total burnt area
GRADES_HA = {"slightly damaged": 3016.4, "moderately damaged": 13155.1,
             "highly damaged": 1450.9, "destroyed": 6.3}  # fmt: skip

PROVENANCE = (
    "Outline of the 18-27 July 2023 wildfire on Rhodes, drawn through the places the accounts "
    "name as burnt or reached (the centre of the island around Laerma and the Gadoura "
    "reservoir, east to Pylonas and Lardos, south-east to the coast at Kiotari and Gennadi, "
    "south to Asklipieio and Vati), then scaled about its centre with "
    "scripts/make_burn_scar.py so that its land area (GSHHG coast) equals the burnt area "
    "that the Copernicus Emergency Management Service mapped: 17,628.7 ha, of which "
    "3,016.4 ha slightly, 13,155.1 ha moderately and 1,450.9 ha highly damaged and 6.3 ha "
    "destroyed. An approximation of the real perimeter, not a copy of it. Sources: European "
    "Commission, Joint Research Centre (2023): Wildfire in Rhodes Island, Greece "
    "(2023-07-26), CEMS Risk and Recovery Mapping activation (wildfire delineation and "
    "grading, P07), following Rapid Mapping activation EMSR675, "
    "https://data.jrc.ec.europa.eu/dataset/0a7e38d7-a862-50bd-be80-7d85c50502ef ; "
    "the Hellenic Fire Service's evacuation orders and reports of 20-24 July 2023 as carried "
    "by the press (Laerma, the Gadoura dam, Lardos, Pylonas, Kiotari, Gennadi, Asklipieio, "
    "Vati; Malona and Massari threatened)."
)

# (lon, lat), clockwise from the north-west: the outline before scaling.
OUTLINE = (
    (27.940, 36.215),  # south of Apollona, the central mountains
    (27.985, 36.232),  # west shore of the Gadoura reservoir
    (28.025, 36.222),  # the Gadoura dam
    (28.040, 36.180),  # east of the reservoir
    (28.030, 36.135),  # west of Pylonas
    (28.015, 36.100),  # Lardos
    (27.995, 36.065),  # the Lardos-Kiotari plain
    (27.980, 36.042),  # Kiotari
    (27.945, 36.040),  # Asklipieio
    (27.915, 36.030),  # behind Gennadi
    (27.885, 36.038),  # Vati
    (27.880, 36.080),  # north of Vati
    (27.895, 36.130),  # south-west of Laerma
    (27.915, 36.180),
)


def main() -> None:
    to_utm = Transformer.from_crs(4326, 32635, always_xy=True)
    ring = [to_utm.transform(lon, lat) for lon, lat in OUTLINE]
    outline = Polygon(ring)
    land_doc = json.loads((DATA / "rhodes-region-land.geojson").read_text())
    land = shapely.union_all([shape(f["geometry"]) for f in land_doc["features"]])
    centre = outline.centroid
    scale = 1.0
    for _ in range(30):  # area grows about as scale²; a few rounds converge to a square metre
        scar = shapely.affinity.scale(outline, scale, scale, origin=centre).intersection(land)
        scale *= (BURNT_HA * 1e4 / scar.area) ** 0.5
    scar = shapely.set_precision(
        shapely.affinity.scale(outline, scale, scale, origin=centre).intersection(land), 1.0
    )
    doc = {
        "type": "FeatureCollection",
        "name": "rhodes-2023-burn-scar",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32635"}},
        "provenance": PROVENANCE,
        "license": "CC-BY-4.0 (outline drawn for this lesson)",
        "features": [{
            "type": "Feature",
            "properties": {"event": "Rhodes wildfire, 18-27 July 2023", "ignition": "2023-07-18",
                           "burnt_ha": BURNT_HA, "grades_ha": GRADES_HA},
            "geometry": mapping(scar),
        }],
    }  # fmt: skip
    OUT.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    print(f"{OUT}: land area {scar.area / 1e6:.2f} km² (scale {scale:.3f})")


if __name__ == "__main__":
    main()
