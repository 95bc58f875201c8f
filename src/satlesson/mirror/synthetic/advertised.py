"""The advertised-files table: every asset href the catalogs advertise, mapped to what is
needed to produce the file. Above the API modules, which each list their own files."""

from __future__ import annotations

from satlesson.mirror.client.urls import TRUTH_HOST
from satlesson.mirror.synthetic.cmr import cmr_files
from satlesson.mirror.synthetic.collection1 import c1_files
from satlesson.mirror.synthetic.earth_search import dem_files, l2a_files
from satlesson.mirror.synthetic.filespec import FileSpec

TRUTH_URL = f"https://{TRUTH_HOST}/truth/rhodes-2023-burn-scar.json"


def advertised_files() -> dict[str, FileSpec]:
    """Every asset href the catalogs advertise, mapped to what is needed to produce the file
    (see ``filespec.FileSpec``)."""
    files = c1_files() | l2a_files() | dem_files()
    # The synthetic snapshot's ground truth (see truth.py), at a host only the mirror serves.
    files[TRUTH_URL] = FileSpec("truth-json", "truth", "rhodes-2023-burn-scar", None, shape=None,
                                transform=None, epsg=None, protected=False)  # fmt: skip
    return files | cmr_files()
