"""Episode 7 (band indices: NDVI, NBR, dNBR, the SCL mask) runs on its own from an empty folder
against the mirror, and its hidden checks catch wrong solutions."""

from __future__ import annotations

from pathlib import Path

import pytest
from episode_runs import (
    EpisodeRun,
    Trial,
    assert_caught,
    assert_figures_described,
    assert_gated_challenges,
    figures,
    solution_trial,
    stdout,
)
from sharing import ExecutedEpisodes

ROOT = Path(__file__).resolve().parents[2]
EPISODE = ROOT / "episodes" / "07-band-indices.md"
LABELS = ["ch-nbr", "ch-scl"]

# Wrong solutions, each with what its hidden check must say: (label, old, new, message).
MUTATIONS = [
    # NDVI instead of NBR: red in place of the shortwave infrared.
    ("ch-nbr", 'after["nir"] - after["swir22"]', 'after["nir"] - after["red"]',
     "nbr_after: wrong values"),
    # Forgetting the clouds of high probability.
    ("ch-scl", "[0, 1, 3, 6, 8, 9, 10, 11]", "[0, 1, 3, 6, 8, 10, 11]", "masked_classes: clouds"),
]


def trials() -> list[Trial]:
    text = EPISODE.read_text()
    return [solution_trial(text, *m[:3]) for m in MUTATIONS]


def test_every_challenge_has_a_gated_solution_with_a_hidden_check() -> None:
    assert_gated_challenges(EPISODE, LABELS)


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory, mirror_base: str, mirror_state_dir: Path,
             executed_episodes: ExecutedEpisodes) -> EpisodeRun:  # fmt: skip
    return executed_episodes.run(EPISODE, tmp_path_factory.mktemp("episode07"),
                                 mirror_base, mirror_state_dir, trials())  # fmt: skip


def test_runs_first_and_names_the_two_scenes(
    executed: EpisodeRun,
) -> None:
    nb, workdir = executed.nb, executed.workdir
    assert (workdir / "rhodes_sentinel-2.json").stat().st_size > 0
    out = stdout(nb)
    assert "before: S2A_35SNA_20230708_0_L2A" in out
    assert "after:  S2A_35SNA_20230827_0_L2A" in out


def test_figures_have_alt_text(executed: EpisodeRun) -> None:
    assert_figures_described(executed.nb, 2)  # NDVI, dNBR
    for cell in figures(executed.nb):
        assert "synthetic" in cell.metadata["mystnb"]["image"]["alt"]


@pytest.mark.parametrize(("label", "old", "new", "message"), MUTATIONS)
def test_hidden_check_catches_a_wrong_solution(
    executed: EpisodeRun, label: str, old: str, new: str, message: str
) -> None:
    assert_caught(executed.trials[f"{label}: {old!r} -> {new!r}"], message)
