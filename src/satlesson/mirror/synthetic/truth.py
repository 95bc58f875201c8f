"""What the synthetic snapshot's 2023 Rhodes burn scar really is: the answer the lesson's
burned-area analysis should find.

The generator burns the scar in ``data/rhodes-2023-burn-scar.geojson`` into every Sentinel-2
scene after the fire, each 60 m cell with a severity (dNBR against the same ground unburnt).
:func:`burn_scar_truth` counts those cells: the area a learner measures with dNBR between a
clear scene before (``BEFORE``) and after (``AFTER``) the fire, total and per USGS severity
class. Summer drying adds about 0.02 to every dNBR between those two dates, so a measured
area sits a little above the truth at a given threshold.

The mirror serves the same document as JSON at ``TRUTH_URL`` (through the one URL rule, at
``{mirror}/satlesson.invalid/truth/rhodes-2023-burn-scar.json``), so a check can read it
over HTTP without importing the mirror.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from satlesson.mirror.client.urls import TRUTH_HOST
from satlesson.mirror.synthetic import model
from satlesson.mirror.synthetic.scenes import S2_SCENES, SNAPSHOT_VERSION

BEFORE = "S2A_35SNA_20230708_0_L2A"
AFTER = "S2A_35SNA_20230827_0_L2A"
TRUTH_URL = f"https://{TRUTH_HOST}/truth/rhodes-2023-burn-scar.json"
CELL_KM2 = (model.CELL / 1000) ** 2


@functools.cache
def burn_scar_truth() -> dict[str, Any]:
    """The scar's areas in km² (see the module docstring) with the account they follow."""
    scene = next(s for s in S2_SCENES if s.id == AFTER)
    tile, b, sf = model.fields(scene)
    scar = b.scar_order <= 1
    # The severity each cell reached (clouds aside): NBR of the unburnt ground minus NBR now.
    nir, swir = (model.unburnt_ground(tile, b, band, sf.dried) for band in ("B08", "B12"))
    nir_b, swir_b = (model.burnt_ground(tile, b, band, sf.dried, sf.burnt)
                     for band in ("B08", "B12"))  # fmt: skip
    dnbr = (nir - swir) / (nir + swir) - (nir_b - swir_b) / (nir_b + swir_b)
    dnbr = dnbr[scar]
    doc = json.loads((model.DATA / model.SCAR_FILE).read_text())
    props = doc["features"][0]["properties"]
    by_class = {name: round(float(((dnbr >= lo) & (dnbr < hi)).sum() * CELL_KM2), 3)
                for name, lo, hi in model.USGS_CLASSES}  # fmt: skip
    return {
        "snapshot": SNAPSHOT_VERSION,
        "event": props["event"],
        "before": BEFORE,
        "after": AFTER,
        "scar_km2": round(float(scar.sum() * CELL_KM2), 3),
        "burned_km2": {
            "dnbr_gt_0.10": round(float((dnbr >= 0.10).sum() * CELL_KM2), 3),
            "dnbr_gt_0.27": round(float((dnbr >= 0.27).sum() * CELL_KM2), 3),
        },
        "usgs_classes_km2": by_class,
        "usgs_class_bounds": {name: [lo, hi] for name, lo, hi in model.USGS_CLASSES},
        "account_km2": round(props["burnt_ha"] / 100, 3),
        "account_grades_km2": {k: round(v / 100, 3) for k, v in props["grades_ha"].items()},
        "provenance": doc["provenance"],
    }


def burn_scar_area_km2(min_dnbr: float = 0.10) -> float:
    """Area of the scar burnt at dNBR >= ``min_dnbr`` (0.10 or 0.27), km²."""
    return burn_scar_truth()["burned_km2"][f"dnbr_gt_{min_dnbr:.2f}"]


def truth_json() -> str:
    return json.dumps(burn_scar_truth(), indent=2) + "\n"
