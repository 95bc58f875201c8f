"""The lesson's data files reach a learner: ``satlesson.lessondata`` finds them (package data,
``src/satlesson/data/lesson/``, the same way in this checkout and in an installed wheel) and
copies them into a working folder; the wheel carries every data file of the package."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from satlesson import lessondata
from satlesson.mirror import episode_files

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "satlesson"
LESSON_DATA = PACKAGE / "data" / "lesson"
FILES = ["rhodes-places.csv", "rhodes.geojson"]


def test_the_files_are_found_and_copied(tmp_path: Path) -> None:
    assert lessondata.names() == FILES
    copied = lessondata.copy_to(tmp_path / "data")
    assert [p.name for p in copied] == FILES
    for path in copied:
        assert path.read_bytes() == (LESSON_DATA / path.name).read_bytes()
    assert not list((tmp_path / "data").glob(".*")), "no temporary file is left behind"


def test_copy_keeps_a_learners_own_file(tmp_path: Path) -> None:
    own = tmp_path / "rhodes-places.csv"
    own.write_text("name,kind,lat,lon\nMy village,village,36.2,28.0\n")
    lessondata.copy_to(tmp_path)
    assert "My village" in own.read_text()
    assert (tmp_path / "rhodes.geojson").exists()


def test_unknown_name_is_one_sentence() -> None:
    with pytest.raises(FileNotFoundError, match="no data file 'roads.gpkg'; it has: rhodes"):
        lessondata.data_path("roads.gpkg")


def test_places_lie_on_the_island() -> None:
    island = gpd.read_file(lessondata.data_path("rhodes.geojson"))
    table = pd.read_csv(lessondata.data_path("rhodes-places.csv"))
    points = gpd.points_from_xy(table["lon"], table["lat"], crs="EPSG:4326")
    assert island.crs.to_epsg() == 4326 and len(island) == 1
    assert all(island.geometry.iloc[0].contains(p) for p in points)
    assert set(table["kind"]) == {"town", "village", "summit"}



# Run in a venv holding only the wheel; its dependencies come from this Python's site-packages.
IN_THE_WHEEL = """
import json, sys
from importlib.resources import files
import satlesson
from satlesson import lessondata
from satlesson.mirror import episode_files
from satlesson.mirror.synthetic import dem, model, published
copied = lessondata.copy_to(sys.argv[1])
print(json.dumps({
    "package": satlesson.__file__,
    "names": lessondata.names(),
    "copied": [str(p) for p in copied],
    "record": episode_files.load(),
    "source": published.SOURCE,
    "scar": len((model.DATA / model.SCAR_FILE).read_text()),
    "dem_land": len((dem.DATA / dem.LAND_FILE).read_text()),
    "css": files("satlesson").joinpath("lesson", "static", "satlesson.css").is_file(),
}))
"""


def _run(*cmd: str | Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_the_wheel_carries_the_data_and_finds_it(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, project)
    shutil.copytree(ROOT / "src", project / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    # Offline: the build uses this Python's setuptools and fetches nothing.
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "-q", "-w", tmp_path / "dist", project)
    wheel = next((tmp_path / "dist").glob("satlesson-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        shipped = {n for n in archive.namelist() if n.startswith("satlesson/")}
    package_files = {p.relative_to(ROOT / "src").as_posix() for p in PACKAGE.rglob("*")
                     if p.is_file() and "__pycache__" not in p.parts}  # fmt: skip
    assert shipped == package_files

    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
         "-q", wheel)
    out = tmp_path / "learner" / "data"
    result = _run(python, "-c", IN_THE_WHEEL, out, cwd=tmp_path,
                  env={"PYTHONPATH": sysconfig.get_paths()["purelib"], "PATH": "/usr/bin:/bin"})
    found = json.loads(result.stdout.splitlines()[-1])
    assert Path(found["package"]).is_relative_to(venv), found["package"]  # not this checkout
    assert found["names"] == FILES
    assert [Path(p).name for p in found["copied"]] == FILES
    for name in FILES:
        assert (out / name).read_bytes() == (LESSON_DATA / name).read_bytes()
    assert found["record"] == episode_files.load()
    assert found["source"] and found["scar"] > 1000 and found["dem_land"] > 1000
    assert found["css"] is True
