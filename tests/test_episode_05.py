"""Episode 5 (Dask and data cubes) runs on its own from an empty folder against the mirror, on a
local Dask cluster that it closes again, and its hidden checks catch wrong solutions."""

from __future__ import annotations

import re
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
    without,
)

ROOT = Path(__file__).resolve().parents[1]
EPISODE = ROOT / "episodes" / "05-dask-and-data-cubes.md"
LABELS = ["ch-chunks", "ch-burnt-area", "ch-ndvi-series"]


def test_every_challenge_has_a_gated_solution_with_a_hidden_check() -> None:
    assert_gated_challenges(EPISODE, LABELS)


def test_the_cluster_stays_on_this_machine_and_is_closed() -> None:
    """Workers and dashboard on loopback only; the page ends by closing client and cluster."""
    text = EPISODE.read_text()
    assert 'dashboard_address="127.0.0.1:0"' in text
    assert "client.close()\ncluster.close()" in text
    assert text.count("Client(") == 2  # the local one, and the remote one shown as plain code
    assert '```python\nfrom dask.distributed import Client\n\nclient = Client("tcp://' in text


@pytest.fixture(scope="module")
def executed(
    tmp_path_factory: pytest.TempPathFactory, mirror_base: str, mirror_state_dir: Path
) -> Run:
    return run_first(EPISODE, tmp_path_factory.mktemp("episode05"), mirror_base, mirror_state_dir)


def test_runs_first_on_a_local_cluster_and_closes_it(
    executed: Run,
) -> None:
    nb, workdir = executed
    assert (workdir / "rhodes_sentinel-2.json").stat().st_size > 0
    out = stdout(nb)
    assert "11 scenes; before: S2A_35SNA_20230708_0_L2A after: S2A_35SNA_20230827_0_L2A" in out
    assert re.search(r"dashboard:  http://127\.0\.0\.1:\d+/status", out)
    assert re.search(r"parallel: [\d.]+ s \(serial: [\d.]+ s\)", out)
    assert "11 time steps" in out
    assert "Status.closed" in out


def test_figures_have_alt_text(executed: Run) -> None:
    assert_figures_described(executed[0], 3)  # task stream, NDVI before/after, NDVI time series


@pytest.mark.parametrize(
    ("label", "old", "new", "message"),
    [
        # Chunk edges that cut through the COG's 1024-pixel blocks.
        ("ch-chunks", '"y": 2048, "x": 2048}, lock=False)', '"y": 2000, "x": 2000}, lock=False)',
         "cut through the file's 1024-pixel blocks"),
        # The area of every pixel with dNBR >= 0.1, low severity included.
        ("ch-burnt-area", "(dnbr_kept >= 0.27)", "(dnbr_kept >= 0.1)",
         "burnt_km2: expected the area with dNBR of at least 0.27"),
        # y limits from south to north: an empty window, a series of NaN.
        ("ch-ndvi-series", 'slice(4012000, 4010000)', 'slice(4010000, 4012000)',
         "ndvi_unburnt has no values"),
    ],
)
def test_hidden_check_catches_a_wrong_solution(
    tmp_path: Path, mirror_base: str, mirror_state_dir: Path,
    label: str, old: str, new: str, message: str,
) -> None:  # fmt: skip
    text = mutate(EPISODE.read_text(), label, old, new)
    if label == "ch-ndvi-series":
        # The data cube needs only the cluster: skip the whole-tile burn severity before it.
        text = without(text, "## Burn severity, serial and parallel", "## A data cube with")
        text = text.replace("```{code-cell} python\nimport odc.stac\n",
                            "```{code-cell} python\nimport matplotlib.pyplot as plt\n"
                            "import numpy as np\n"
                            "masked_classes = [0, 1, 3, 6, 8, 9, 10, 11]\nimport odc.stac\n")
    assert_check_fails(text, tmp_path, mirror_base, mirror_state_dir, message)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        # Overviews that average class codes into codes that are not there.
        ('"DEFLATE", RESAMPLING="NEAREST")', '"DEFLATE", RESAMPLING="AVERAGE")',
         "the overviews mix class codes"),
        # The chunk-by-chunk staging file left behind next to the COG.
        ("staging.unlink()\n", "\n", "the temporary files should be gone"),
    ],
)
def test_saving_check_catches_an_unsafe_write(
    tmp_path: Path, mirror_base: str, mirror_state_dir: Path, old: str, new: str, message: str,
) -> None:  # fmt: skip
    text = EPISODE.read_text()
    assert text.count(old) == 1
    text = text.replace(old, new)
    end = text.index("The workers keep `dnbr_kept` in memory")
    assert_check_fails(text[:end], tmp_path, mirror_base, mirror_state_dir, message)
