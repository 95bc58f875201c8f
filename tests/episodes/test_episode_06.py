"""Episode 6 (vectors meet rasters: clip to a polygon, match a DEM) runs on its own from an
empty folder against the mirror, and its hidden checks catch wrong solutions."""

from __future__ import annotations

from pathlib import Path

import pytest
from episode_runs import (
    EpisodeRun,
    Trial,
    assert_caught,
    assert_figures_described,
    assert_gated_challenges,
    solution_trial,
    stdout,
)
from sharing import ExecutedEpisodes

ROOT = Path(__file__).resolve().parents[2]
LESSON_DATA = ROOT / "src" / "satlesson" / "data" / "lesson"
EPISODE = ROOT / "episodes" / "06-vectors-meet-rasters.md"
LABELS = ["ch-before", "ch-elevation"]

# Wrong solutions, each with what its hidden check must say: (label, old, new, message).
MUTATIONS = [
    ("ch-before", 'clip_asset(before, "nir"', 'clip_asset(after, "nir"', "nir_before:"),
    # Longitude and latitude looked up on a grid in metres.
    ("ch-elevation", "places_utm.geometry.x.values", "places.geometry.x.values",
     "elevation of"),
]


def trials() -> list[Trial]:
    text = EPISODE.read_text()
    return [solution_trial(text, *m[:3]) for m in MUTATIONS]


def test_every_challenge_has_a_gated_solution_with_a_hidden_check() -> None:
    assert_gated_challenges(EPISODE, LABELS)


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory, mirror_base: str, mirror_state_dir: Path,
             executed_episodes: ExecutedEpisodes) -> EpisodeRun:  # fmt: skip
    return executed_episodes.run(EPISODE, tmp_path_factory.mktemp("episode06"),
                                 mirror_base, mirror_state_dir, trials())  # fmt: skip


def test_runs_first_with_the_lesson_data(executed: EpisodeRun) -> None:
    nb, workdir = executed.nb, executed.workdir
    assert (workdir / "rhodes_sentinel-2.json").stat().st_size > 0
    for name in ("rhodes.geojson", "rhodes-places.csv"):
        assert (workdir / "data" / name).read_bytes() == (LESSON_DATA / name).read_bytes()
    out = stdout(nb)
    assert "S2A_35SNA_20230827_0_L2A EPSG:32635" in out
    assert "1216 m at 36.2092 N, 27.8636 E" in out  # Attavyros, the island's highest point


def test_figures_have_alt_text(executed: EpisodeRun) -> None:
    # clipped true colour, before/after, elevation
    assert_figures_described(executed.nb, 3)


@pytest.mark.parametrize(("label", "old", "new", "message"), MUTATIONS)
def test_hidden_check_catches_a_wrong_solution(
    executed: EpisodeRun, label: str, old: str, new: str, message: str
) -> None:
    assert_caught(executed.trials[f"{label}: {old!r} -> {new!r}"], message)
