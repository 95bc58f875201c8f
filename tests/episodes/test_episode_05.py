"""Episode 5 (vector data) runs on its own from an empty folder against the mirror, and its
hidden check catches a wrong solution."""

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
EPISODE = ROOT / "episodes" / "05-vector-data.md"
LABELS = ["ch-buffer"]

# Wrong solutions, each with what its hidden check must say: (label, old, new, message).
MUTATIONS = [
    # Discs that reach into the sea are counted as land.
    ("ch-buffer", "rhodes_utm.intersection(discs.union_all())", "discs", "share:"),
]


def trials() -> list[Trial]:
    text = EPISODE.read_text()
    return [solution_trial(text, *m[:3]) for m in MUTATIONS]


def test_every_challenge_has_a_gated_solution_with_a_hidden_check() -> None:
    assert_gated_challenges(EPISODE, LABELS)


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory, mirror_base: str, mirror_state_dir: Path,
             executed_episodes: ExecutedEpisodes) -> EpisodeRun:  # fmt: skip
    return executed_episodes.run(EPISODE, tmp_path_factory.mktemp("episode05"),
                                 mirror_base, mirror_state_dir, trials())  # fmt: skip


def test_runs_first_with_the_lesson_data(executed: EpisodeRun) -> None:
    nb, workdir = executed.nb, executed.workdir
    assert (workdir / "rhodes_sentinel-2.json").stat().st_size > 0
    for name in ("rhodes.geojson", "rhodes-places.csv"):
        assert (workdir / "data" / name).read_bytes() == (LESSON_DATA / name).read_bytes()
    out = stdout(nb)
    assert "S2A_35SNA_20230708_0_L2A S2A_35SNA_20230827_0_L2A" in out
    assert "WGS 84 / UTM zone 35N" in out


def test_figures_have_alt_text(executed: EpisodeRun) -> None:
    assert_figures_described(executed.nb, 2)  # places, buffers


@pytest.mark.parametrize(("label", "old", "new", "message"), MUTATIONS)
def test_hidden_check_catches_a_wrong_solution(
    executed: EpisodeRun, label: str, old: str, new: str, message: str
) -> None:
    assert_caught(executed.trials[f"{label}: {old!r} -> {new!r}"], message)
