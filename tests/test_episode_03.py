"""Episode 3 (vectors meet rasters) runs on its own from an empty folder against the mirror,
and its hidden checks catch wrong solutions."""

from __future__ import annotations

from pathlib import Path

import pytest
from episode_runs import (
    Run,
    assert_check_fails,
    assert_figures_described,
    assert_gated_challenges,
    mutate,
    run_first,
    stdout,
)

ROOT = Path(__file__).resolve().parents[1]
LESSON_DATA = ROOT / "src" / "satlesson" / "data" / "lesson"
EPISODE = ROOT / "episodes" / "03-vectors-meet-rasters.md"
LABELS = ["ch-buffer", "ch-before", "ch-elevation"]


def test_every_challenge_has_a_gated_solution_with_a_hidden_check() -> None:
    assert_gated_challenges(EPISODE, LABELS)


@pytest.fixture(scope="module")
def executed(
    tmp_path_factory: pytest.TempPathFactory, mirror_base: str, mirror_state_dir: Path
) -> Run:
    return run_first(EPISODE, tmp_path_factory.mktemp("episode03"), mirror_base, mirror_state_dir)


def test_runs_first_with_the_lesson_data(executed: Run) -> None:
    nb, workdir = executed
    assert (workdir / "rhodes_sentinel-2.json").stat().st_size > 0
    for name in ("rhodes.geojson", "rhodes-places.csv"):
        assert (workdir / "data" / name).read_bytes() == (LESSON_DATA / name).read_bytes()
    out = stdout(nb)
    assert "S2A_35SNA_20230708_0_L2A S2A_35SNA_20230827_0_L2A" in out
    assert "WGS 84 / UTM zone 35N" in out
    assert "1216 m at 36.2092 N, 27.8636 E" in out  # Attavyros, the island's highest point


def test_figures_have_alt_text(executed: Run) -> None:
    # places, buffers, clipped true colour, before/after, elevation
    assert_figures_described(executed[0], 5)


@pytest.mark.parametrize(
    ("label", "old", "new", "message"),
    [
        # Discs that reach into the sea are counted as land.
        ("ch-buffer", "rhodes_utm.intersection(discs.union_all())", "discs", "share:"),
        ("ch-before", 'clip_asset(before, "nir"', 'clip_asset(after, "nir"', "nir_before:"),
        # Longitude and latitude looked up on a grid in metres.
        ("ch-elevation", "places_utm.geometry.x.values", "places.geometry.x.values",
         "elevation of"),
    ],
)
def test_hidden_check_catches_a_wrong_solution(
    tmp_path: Path, mirror_base: str, mirror_state_dir: Path,
    label: str, old: str, new: str, message: str,
) -> None:  # fmt: skip
    text = mutate(EPISODE.read_text(), label, old, new)
    assert_check_fails(text, tmp_path, mirror_base, mirror_state_dir, message)
