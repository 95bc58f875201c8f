"""Episode 8 (how much burned?) runs on its own from an empty folder against the mirror, finds
the snapshot's burn scar, writes a valid COG, and its hidden checks catch wrong solutions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import rasterio
import requests
from episode_runs import (
    EpisodeRun,
    Trial,
    assert_caught,
    assert_figures_described,
    assert_gated_challenges,
    figures,
    replaced,
    solution_trial,
    stdout,
)
from sharing import ExecutedEpisodes

ROOT = Path(__file__).resolve().parents[2]
EPISODE = ROOT / "episodes" / "08-how-much-burned.md"
LABELS = ["ch-area", "ch-zones"]

# Wrong solutions, each with what its hidden check must say: (label, old, new, message).
MUTATIONS = [
    # Pixel area in the wrong unit (1e3 instead of 1e6 m² per km²).
    ("ch-area", "abs(width * height) / 1e6", "abs(width * height) / 1e3", "pixel_km2:"),
    # The mask of each disc inverted: every pixel outside the disc counted instead.
    ("ch-zones", "invert=True", "invert=False", "burnt_5km: Lindos should be"),
    # Every pixel the disc touches, not only those whose centre lies inside it.
    ("ch-zones", "invert=True", "invert=True, all_touched=True", "burnt_5km: Lardos should be"),
]


def trials() -> list[Trial]:
    text = EPISODE.read_text()
    # dNBR the wrong way round, up to the comparison with the snapshot's scar.
    reversed_dnbr = replaced(text, "dnbr = nbr(before) - nbr(after)\n",
                             "dnbr = nbr(after) - nbr(before)\n")
    return [solution_trial(text, *m[:3]) for m in MUTATIONS] + [
        Trial("dNBR reversed", reversed_dnbr, until="## Save the map")]


def test_every_challenge_has_a_gated_solution_with_a_hidden_check() -> None:
    assert_gated_challenges(EPISODE, LABELS)


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory, mirror_base: str, mirror_state_dir: Path,
             executed_episodes: ExecutedEpisodes) -> EpisodeRun:  # fmt: skip
    return executed_episodes.run(EPISODE, tmp_path_factory.mktemp("episode08"),
                                 mirror_base, mirror_state_dir, trials())  # fmt: skip


def test_runs_first_and_names_the_two_scenes(
    executed: EpisodeRun,
) -> None:
    nb, workdir = executed.nb, executed.workdir
    assert (workdir / "rhodes_sentinel-2.json").stat().st_size > 0
    out = stdout(nb)
    assert "S2A_35SNA_20230708_0_L2A S2A_35SNA_20230827_0_L2A" in out


def test_burnt_area_was_compared_with_the_snapshots_truth(
    executed: EpisodeRun, mirror_base: str
) -> None:
    """The synthetic mirror always publishes the scar's truth: the hidden check must read it."""
    truth = requests.get(
        f"{mirror_base}/satlesson.invalid/truth/rhodes-2023-burn-scar.json", timeout=30
    )
    assert truth.status_code == 200
    out = stdout(executed.nb)
    assert "No ground truth" not in out
    assert len(re.findall(r"^Ground truth \(dnbr_gt_0\.(10|27)\): measured", out, re.M)) == 2


def test_writes_the_severity_map_as_a_small_uint8_cog(
    executed: EpisodeRun,
) -> None:
    workdir = executed.workdir
    path = workdir / "rhodes_burn_severity.tif"
    with rasterio.open(path) as src:
        assert src.dtypes == ("uint8",) and src.nodata == 0
        assert src.crs.to_epsg() == 32635
        codes = set(src.read(1).ravel().tolist())
    assert {0, 3, 4, 5, 6, 7} <= codes <= set(range(8))
    assert path.stat().st_size < 200_000


def test_figures_have_alt_text(executed: EpisodeRun) -> None:
    assert_figures_described(executed.nb, 3)  # severity, dNBR histogram, burnt by elevation
    for cell in figures(executed.nb):
        assert "synthetic" in cell.metadata["mystnb"]["image"]["alt"]


def test_tabulates_the_burnt_area_within_3_km_of_each_village(executed: EpisodeRun) -> None:
    """The zones rasterized from the villages' discs come out as one table, a row per zone."""
    shown = [out.get("data", {}).get("text/plain", "")
             for cell in executed.nb.cells if cell.cell_type == "code"
             for out in cell.get("outputs", [])]  # fmt: skip
    tables = [text for text in shown if "clear_km2" in text]
    assert len(tables) == 1
    rows = [line.split()[0] for line in tables[0].splitlines()[2:]]
    assert rows == ["outside", "Lindos", "Lardos", "Embonas"]
    assert "overlap of the discs: 0.00 km²" in stdout(executed.nb)


@pytest.mark.parametrize(("label", "old", "new", "message"), MUTATIONS)
def test_hidden_check_catches_a_wrong_solution(
    executed: EpisodeRun, label: str, old: str, new: str, message: str
) -> None:
    assert_caught(executed.trials[f"{label}: {old!r} -> {new!r}"], message)


def test_ground_truth_check_catches_a_wrong_dnbr(executed: EpisodeRun, mirror_base: str) -> None:
    """dNBR the wrong way round passes every local check but not the comparison with the scar."""
    truth = requests.get(
        f"{mirror_base}/satlesson.invalid/truth/rhodes-2023-burn-scar.json", timeout=30
    )
    assert truth.status_code == 200
    assert_caught(executed.trials["dNBR reversed"], "but the snapshot's scar has")
