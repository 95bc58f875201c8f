"""GDAL's default open of a mirrored COG costs one folder listing, not a probe per sidecar."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

FOLDER = ("/sentinel-cogs.s3.us-west-2.amazonaws.com/sentinel-s2-l2a-cogs/35/S/NA/2023/7/"
          "S2A_35SNA_20230708_0_L2A/")
BOX = (560900, 3995000, 570900, 4015000)  # the lesson's clip (scripts/bench_clip.py)
HLS_FOLDER = ("/data.lpdaac.earthdatacloud.nasa.gov/lp-prod-protected/HLSL30.020/"
              "HLS.L30.T18TWL.2021039T153324.v2.0/")

# Plain rioxarray with GDAL's defaults, in a fresh process: GDAL caches listings per process.
CLIP = """
import sys, rioxarray
red = rioxarray.open_rasterio(sys.argv[1])
print(float(red.rio.clip_box(*map(float, sys.argv[2:])).mean()))
"""


def test_folder_lists_the_snapshots_files_only(mirror_base: str) -> None:
    page = requests.get(mirror_base + FOLDER, timeout=30)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert f"<title>Index of {FOLDER.rstrip('/')}</title>" in page.text  # what GDAL matches
    assert '<a href="B04.tif">' in page.text and '<a href="B03.tif">' in page.text
    assert ".aux.xml" not in page.text and ".msk" not in page.text
    parent = requests.get(mirror_base + FOLDER.rsplit("/", 2)[0] + "/", timeout=30).text
    assert '<a href="S2A_35SNA_20230708_0_L2A/">' in parent  # subfolders end in "/"
    missing = requests.get(mirror_base + FOLDER.replace("20230708", "20230709"), timeout=30)
    assert missing.status_code == 404 and missing.json()["description"]
    # A folder of files that need a login needs one too.
    assert requests.get(mirror_base + HLS_FOLDER, timeout=30).status_code == 401
    listed = requests.get(mirror_base + HLS_FOLDER, auth=("satlesson", "offline-mirror"),
                          timeout=30)
    assert ".B04.tif</a>" in listed.text


@pytest.mark.quiet_mirror
def test_default_gdal_open_and_clip_costs_at_most_six_requests(mirror_base: str,
                                                               mirror_state_dir: Path) -> None:
    log = mirror_state_dir / "requests.log"
    start = log.stat().st_size
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GDAL_", "CPL_", "VSI_"))}
    result = subprocess.run(
        [sys.executable, "-c", CLIP, f"{mirror_base}{FOLDER}B04.tif", *map(str, BOX)],
        capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    with log.open() as f:
        f.seek(start)
        records = [json.loads(line) for line in f if line.strip()]
    mine = [r for r in records if r["path"].startswith(FOLDER)]
    assert [r["status"] for r in mine if r["path"] == FOLDER] == [200]  # listed once
    assert all(r["status"] in (200, 206) for r in mine), mine  # no probe for a sidecar
    assert len(mine) <= 6, [(r["method"], r["path"][len(FOLDER):], r.get("range")) for r in mine]
