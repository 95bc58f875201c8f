"""Episode 9 (scale out with Dask) runs on its own from an empty folder against the mirror, on a
local Dask cluster that it closes again, and its hidden check catches a wrong solution."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from episode_runs import (
    EpisodeRun,
    Trial,
    assert_caught,
    assert_gated_challenges,
    solution_trial,
    stdout,
)
from sharing import ExecutedEpisodes

ROOT = Path(__file__).resolve().parents[2]
EPISODE = ROOT / "episodes" / "09-dask.md"
LABELS = ["ch-chunks"]

# Wrong solutions, each with what its hidden check must say: (label, old, new, message).
MUTATIONS = [
    # Chunk edges that cut through the COG's 1024-pixel blocks.
    ("ch-chunks", '"y": 2048, "x": 2048}, lock=False)', '"y": 2000, "x": 2000}, lock=False)',
     "cut through the file's 1024-pixel blocks"),
]


def trials() -> list[Trial]:
    text = EPISODE.read_text()
    return [solution_trial(text, *m[:3]) for m in MUTATIONS]


def test_every_challenge_has_a_gated_solution_with_a_hidden_check() -> None:
    assert_gated_challenges(EPISODE, LABELS)


def test_the_cluster_stays_on_this_machine_and_is_closed() -> None:
    """Workers and dashboard on loopback only; the page ends by closing client and cluster."""
    text = EPISODE.read_text()
    assert 'dashboard_address="127.0.0.1:0"' in text
    assert "client.close()\ncluster.close()" in text
    assert text.count("Client(") == 1  # the local one: remote clusters are episode 11's
    # The GDAL settings reach the worker processes only if they are set before these start.
    assert text.index('os.environ["GDAL_DISABLE_READDIR_ON_OPEN"]') < text.index("LocalCluster(")


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory, mirror_base: str, mirror_state_dir: Path,
             executed_episodes: ExecutedEpisodes) -> EpisodeRun:  # fmt: skip
    return executed_episodes.run(EPISODE, tmp_path_factory.mktemp("episode09"),
                                 mirror_base, mirror_state_dir, trials())  # fmt: skip


def test_runs_first_on_a_local_cluster_and_closes_it(
    executed: EpisodeRun,
) -> None:
    nb, workdir = executed.nb, executed.workdir
    assert (workdir / "rhodes_sentinel-2.json").stat().st_size > 0
    out = stdout(nb)
    assert "11 scenes; before: S2A_35SNA_20230708_0_L2A after: S2A_35SNA_20230827_0_L2A" in out
    assert re.search(r"dashboard:  http://127\.0\.0\.1:\d+/status", out)
    assert "tasks in layer" in out
    assert "Status.closed" in out


@pytest.mark.parametrize(("label", "old", "new", "message"), MUTATIONS)
def test_hidden_check_catches_a_wrong_solution(
    executed: EpisodeRun, label: str, old: str, new: str, message: str
) -> None:
    assert_caught(executed.trials[f"{label}: {old!r} -> {new!r}"], message)
