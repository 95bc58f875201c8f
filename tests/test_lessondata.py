"""The lesson's data files reach a learner: ``satlesson.lessondata`` finds them (in the
checkout's data/ folder here; as ``satlesson.lessonfiles`` in an installed package) and copies
them into a working folder."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from satlesson import lessondata

ROOT = Path(__file__).resolve().parents[1]
FILES = ["rhodes-places.csv", "rhodes.geojson"]


def test_the_files_are_found_and_copied(tmp_path: Path) -> None:
    assert lessondata.names() == FILES
    copied = lessondata.copy_to(tmp_path / "data")
    assert [p.name for p in copied] == FILES
    for path in copied:
        assert path.read_bytes() == (ROOT / "data" / path.name).read_bytes()
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

