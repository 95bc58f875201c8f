"""Transcribe the real Earth Search facts the mirror serves into
src/satlesson/data/earth-search-rhodes-2023.json.

The input is an ItemCollection saved from the live Earth Search v1 API: the eleven clear
``sentinel-2-l2a`` scenes over Rhodes in July-August 2023, as a learner of the original
Carpentries lesson saved them (public on GitHub as Ridima28/geospatial-python, August 2026).
Only the per-item facts are kept (extension list, footprint, bbox, properties, in upstream's
key order); links and assets follow one pattern that ``earth_search.py`` writes for every item.

    .venv/bin/python scripts/transcribe_earth_search.py PATH/TO/rhodes_sentinel-2.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src" / "satlesson" / "data" / (
    "earth-search-rhodes-2023.json")
SOURCE = ("Earth Search v1 (https://earth-search.aws.element84.com/v1), collection "
          "sentinel-2-l2a: the eleven items with eo:cloud_cover < 1 over Rhodes, 2023-07-01 to "
          "2023-08-31, as an ItemCollection saved from the live API (public on GitHub as "
          "Ridima28/geospatial-python, August 2026)")


def main(path: str) -> None:
    features = json.loads(Path(path).read_text())["features"]
    items = {f["id"]: {key: f[key] for key in ("stac_extensions", "geometry", "bbox",
                                               "properties")} for f in features}
    doc = {"source": SOURCE, "items": items}
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"{OUT}: {len(items)} items")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(sys.argv[1])
