"""Episode 10 (burn severity in parallel) runs on its own from an empty folder against the
mirror, without any file episode 9 writes, on a local Dask cluster that it starts and closes
itself, saves a valid COG, and its hidden checks catch wrong solutions and unsafe writes."""

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
    replaced,
    solution_trial,
    stdout,
)
from sharing import ExecutedEpisodes

ROOT = Path(__file__).resolve().parents[2]
EPISODE = ROOT / "episodes" / "10-parallel-severity.md"
LABELS = ["ch-burnt-area"]

# Wrong solutions, each with what its hidden check must say: (label, old, new, message).
MUTATIONS = [
    # The area of every pixel with dNBR >= 0.1, low severity included.
    ("ch-burnt-area", "(dnbr_kept >= 0.27)", "(dnbr_kept >= 0.1)",
     "burnt_km2: expected the area with dNBR of at least 0.27"),
]
# Saving the chunked result the wrong way: (old, new, what the saving check says).
UNSAFE_WRITES = [
    # Overviews that average class codes into codes that are not there.
    ('"DEFLATE", RESAMPLING="NEAREST")', '"DEFLATE", RESAMPLING="AVERAGE")',
     "the overviews mix class codes"),
    # The chunk-by-chunk staging file left behind next to the COG.
    ("staging.unlink()\n", "\n", "the temporary files should be gone"),
]


def trials() -> list[Trial]:
    text = EPISODE.read_text()
    return [solution_trial(text, *m[:3]) for m in MUTATIONS] + [
        Trial(f"unsafe write: {old!r} -> {new!r}", replaced(text, old, new),
              until="The workers keep `dnbr_kept` in memory")
        for old, new, _ in UNSAFE_WRITES]


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
    return executed_episodes.run(EPISODE, tmp_path_factory.mktemp("episode10"),
                                 mirror_base, mirror_state_dir, trials())  # fmt: skip


def test_runs_first_on_a_local_cluster_and_closes_it(
    executed: EpisodeRun,
) -> None:
    nb, workdir = executed.nb, executed.workdir
    assert (workdir / "rhodes_sentinel-2.json").stat().st_size > 0
    out = stdout(nb)
    assert "11 scenes; before: S2A_35SNA_20230708_0_L2A after: S2A_35SNA_20230827_0_L2A" in out
    assert re.search(r"dashboard: http://127\.0\.0\.1:\d+/status", out)
    assert re.search(r"parallel: [\d.]+ s \(serial: [\d.]+ s\)", out)
    assert "Status.closed" in out


def test_saves_one_finished_cog_and_no_temporary_file(executed: EpisodeRun) -> None:
    workdir = executed.workdir
    assert (workdir / "rhodes_severity_tile.tif").stat().st_size > 0
    assert not (workdir / "severity_tile_chunks.tif").exists()
    assert not (workdir / "rhodes_severity_tile.tif.partial").exists()


def test_needs_nothing_the_dask_episode_wrote() -> None:
    text = EPISODE.read_text()
    for written in ("nir_reflectance", "one_block", "swir = "):
        assert written not in text, written


def test_figures_have_alt_text(executed: EpisodeRun) -> None:
    assert_figures_described(executed.nb, 1)  # the task stream


@pytest.mark.parametrize(("label", "old", "new", "message"), MUTATIONS)
def test_hidden_check_catches_a_wrong_solution(
    executed: EpisodeRun, label: str, old: str, new: str, message: str
) -> None:
    assert_caught(executed.trials[f"{label}: {old!r} -> {new!r}"], message)


@pytest.mark.parametrize(("old", "new", "message"), UNSAFE_WRITES)
def test_saving_check_catches_an_unsafe_write(
    executed: EpisodeRun, old: str, new: str, message: str
) -> None:
    assert_caught(executed.trials[f"unsafe write: {old!r} -> {new!r}"], message)
