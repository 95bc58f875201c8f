"""The advertised-files table: every asset href the catalogs advertise, mapped to what is
needed to produce the file. Above the API modules, which each list their own files."""

from __future__ import annotations

from satlesson.mirror.synthetic.cmr import cmr_files
from satlesson.mirror.synthetic.collection1 import c1_files
from satlesson.mirror.synthetic.earth_search import dem_files, l2a_files
from satlesson.mirror.synthetic.stac import Json
from satlesson.mirror.urls import TRUTH_HOST

TRUTH_URL = f"https://{TRUTH_HOST}/truth/rhodes-2023-burn-scar.json"


def advertised_files() -> dict[str, Json]:
    """Every asset href the catalogs advertise, mapped to what is needed to produce the file.

    Keys of each entry: kind, item_id, asset_key, scene, shape (rows, cols), transform
    (GDAL-order six numbers), epsg, protected. Non-raster files carry ``None`` for the raster
    fields. HLS bands also carry dtype, which the generator needs to pick the angle bands'
    type and no-data; an S2 file's type follows from its asset key. A DEM tile's ``scene`` is
    its (lat, lon) south-west corner in whole degrees.
    """
    files = c1_files() | l2a_files() | dem_files()
    # The synthetic snapshot's ground truth (see truth.py), at a host only the mirror serves.
    files[TRUTH_URL] = {
        "kind": "truth-json", "item_id": "truth", "asset_key": "rhodes-2023-burn-scar",
        "scene": None, "shape": None, "transform": None, "epsg": None, "protected": False,
    }  # fmt: skip
    return files | cmr_files()
