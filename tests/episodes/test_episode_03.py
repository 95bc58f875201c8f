"""Episode 3 (read rasters: header, xarray, CRS, overviews) runs on its own from an empty
folder against the mirror, and its hidden checks catch wrong solutions."""

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
EPISODE = ROOT / "episodes" / "03-read-rasters.md"
LABELS = ["ch-point-pixel", "ch-crs-units"]

# Wrong solutions, each with what its hidden check must say: (label, old, new, message).
MUTATIONS = [
    # longitude and latitude where the grid wants metres: a pixel at the tile's edge
    ("ch-point-pixel", "x=point_x, y=point_y", "x=27.95, y=36.20", "point_dn:"),
    ("ch-crs-units", "zone = crs.utm_zone", "zone = crs.name", "zone:"),
]


def trials() -> list[Trial]:
    text = EPISODE.read_text()
    return [solution_trial(text, *m[:3]) for m in MUTATIONS]


def test_every_challenge_has_a_gated_solution_with_a_hidden_check() -> None:
    assert_gated_challenges(EPISODE, LABELS)


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory, mirror_base: str, mirror_state_dir: Path,
             executed_episodes: ExecutedEpisodes) -> EpisodeRun:  # fmt: skip
    return executed_episodes.run(EPISODE, tmp_path_factory.mktemp("episode03"),
                                 mirror_base, mirror_state_dir, trials())  # fmt: skip


def test_runs_first_and_recreates_the_saved_search(
    executed: EpisodeRun,
) -> None:
    nb, workdir = executed.nb, executed.workdir
    assert (workdir / "rhodes_sentinel-2.json").stat().st_size > 0
    out = stdout(nb)
    assert "11 scenes, newest first" in out
    assert "EPSG:32635" in out and "metre 35N" in out


def test_figures_have_alt_text(executed: EpisodeRun) -> None:
    assert_figures_described(executed.nb, 1)  # the overview with the default colour scale


@pytest.mark.parametrize(("label", "old", "new", "message"), MUTATIONS)
def test_hidden_check_catches_a_wrong_solution(
    executed: EpisodeRun, label: str, old: str, new: str, message: str
) -> None:
    assert_caught(executed.trials[f"{label}: {old!r} -> {new!r}"], message)
