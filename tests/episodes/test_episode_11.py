"""Episode 11 (a data cube of the summer) runs on its own from an empty folder against the
mirror, without any file episodes 9 and 10 write, on a local Dask cluster that it starts and closes
itself, and its hidden check catches a wrong solution."""

from __future__ import annotations

import re
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
EPISODE = ROOT / "episodes" / "11-data-cubes.md"
LABELS = ["ch-ndvi-series"]

# Wrong solutions, each with what its hidden check must say: (label, old, new, message).
MUTATIONS = [
    # y limits from south to north: an empty window, a series of NaN.
    ("ch-ndvi-series", "slice(4012000, 4010000)", "slice(4010000, 4012000)",
     "ndvi_unburnt has no values"),
]


def trials() -> list[Trial]:
    text = EPISODE.read_text()
    return [solution_trial(text, *m[:3]) for m in MUTATIONS]


def test_every_challenge_has_a_gated_solution_with_a_hidden_check() -> None:
    assert_gated_challenges(EPISODE, LABELS)


def test_the_cluster_stays_on_this_machine_and_is_closed() -> None:
    """Its own cluster, on loopback only, closed at the end; the remote client is plain code."""
    text = EPISODE.read_text()
    assert 'dashboard_address="127.0.0.1:0"' in text
    assert "client.close()\ncluster.close()" in text
    assert text.count("Client(") == 2  # the local one, and the remote one shown as plain code
    assert '```python\nfrom dask.distributed import Client\n\nclient = Client("tcp://' in text
    assert text.index('os.environ["GDAL_DISABLE_READDIR_ON_OPEN"]') < text.index("LocalCluster(")


def test_needs_nothing_the_dask_episode_wrote() -> None:
    text = EPISODE.read_text()
    for written in ("rhodes_severity_tile", "dnbr_kept", "dnbr_parallel"):
        assert written not in text, written


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory, mirror_base: str, mirror_state_dir: Path,
             executed_episodes: ExecutedEpisodes) -> EpisodeRun:  # fmt: skip
    return executed_episodes.run(EPISODE, tmp_path_factory.mktemp("episode11"),
                                 mirror_base, mirror_state_dir, trials())  # fmt: skip


def test_runs_first_builds_the_cube_and_closes_its_cluster(executed: EpisodeRun) -> None:
    nb, workdir = executed.nb, executed.workdir
    assert (workdir / "rhodes_sentinel-2.json").stat().st_size > 0
    out = stdout(nb)
    assert "11 scenes; before: S2A_35SNA_20230708_0_L2A after: S2A_35SNA_20230827_0_L2A" in out
    assert re.search(r"dashboard: http://127\.0\.0\.1:\d+/status", out)
    assert "11 time steps" in out
    assert "run the client's versions" in out
    assert "Status.closed" in out


def test_figures_have_alt_text(executed: EpisodeRun) -> None:
    assert_figures_described(executed.nb, 2)  # NDVI before/after, NDVI time series


@pytest.mark.parametrize(("label", "old", "new", "message"), MUTATIONS)
def test_hidden_check_catches_a_wrong_solution(
    executed: EpisodeRun, label: str, old: str, new: str, message: str
) -> None:
    assert_caught(executed.trials[f"{label}: {old!r} -> {new!r}"], message)
