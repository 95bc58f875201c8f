"""Episode 4 (from pixel values to reflectance) runs on its own from an empty folder against
the mirror, and its hidden checks catch wrong solutions."""

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
EPISODE = ROOT / "episodes" / "04-pixel-values.md"
LABELS = ["ch-stretch", "ch-offset", "ch-reflectance"]

# Wrong solutions, each with what its hidden check must say: (label, old, new, message).
MUTATIONS = [
    ("ch-stretch", "quantile([0.05, 0.95])", "quantile([0.02, 0.98])", "5th percentile"),
    # trusting raster:bands' offset although the item says it was already applied
    ("ch-offset", "offset = 0.0\n", 'offset = red_info["offset"]\n', "offset: the sea"),
    ("ch-reflectance", "* scale + offset\n", "* scale - 0.1\n", "red_centre: wrong values"),
]


def trials() -> list[Trial]:
    text = EPISODE.read_text()
    return [solution_trial(text, *m[:3]) for m in MUTATIONS]


def test_every_challenge_has_a_gated_solution_with_a_hidden_check() -> None:
    assert_gated_challenges(EPISODE, LABELS)


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory, mirror_base: str, mirror_state_dir: Path,
             executed_episodes: ExecutedEpisodes) -> EpisodeRun:  # fmt: skip
    return executed_episodes.run(EPISODE, tmp_path_factory.mktemp("episode04"),
                                 mirror_base, mirror_state_dir, trials())  # fmt: skip


def test_runs_first_and_recreates_the_saved_search(
    executed: EpisodeRun,
) -> None:
    nb, workdir = executed.nb, executed.workdir
    assert (workdir / "rhodes_sentinel-2.json").stat().st_size > 0
    out = stdout(nb)
    assert "S2A_35SNA_20230827_0_L2A" in out


def test_figures_have_alt_text(executed: EpisodeRun) -> None:
    # robust stretch, own stretch, true colour
    assert_figures_described(executed.nb, 3)


@pytest.mark.parametrize(("label", "old", "new", "message"), MUTATIONS)
def test_hidden_check_catches_a_wrong_solution(
    executed: EpisodeRun, label: str, old: str, new: str, message: str
) -> None:
    assert_caught(executed.trials[f"{label}: {old!r} -> {new!r}"], message)
