"""Episode 5 (Dask and data cubes) runs on its own from an empty folder against the mirror, on a
local Dask cluster that it closes again, and its hidden checks catch wrong solutions."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient.exceptions import CellExecutionError
from test_episode import _execute, _mutate, _stdout

ROOT = Path(__file__).resolve().parents[1]
EPISODE = ROOT / "episodes" / "05-dask-and-data-cubes.md"
LABELS = ["ch-chunks", "ch-burnt-area", "ch-ndvi-series"]


def test_every_challenge_has_a_gated_solution_with_a_hidden_check() -> None:
    text = EPISODE.read_text()
    assert re.findall(r"^::::\{challenge\}[^\n]*\n:label: (\S+)$", text, flags=re.M) == LABELS
    for label in LABELS:
        start = text.index(f":::{{solution-start}} {label}\n")
        block = text[start : text.index(":::{solution-end}", start)]
        assert ":class: dropdown" in block
        assert re.search(r"```\{code-cell\} python\n:tags: \[remove-cell\]\n(.*\n)*?assert ", block)


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
) -> tuple[nbformat.NotebookNode, Path]:
    workdir = tmp_path_factory.mktemp("episode05")  # empty: no saved search results yet
    try:
        nb = _execute(EPISODE.read_text(), workdir, mirror_base, mirror_state_dir)
    except CellExecutionError as err:
        pytest.fail(f"episode 5 failed to execute: {err.ename}: {err.evalue}\n{err}")
    return nb, workdir


def test_runs_first_on_a_local_cluster_and_closes_it(
    executed: tuple[nbformat.NotebookNode, Path],
) -> None:
    nb, workdir = executed
    assert (workdir / "rhodes_sentinel-2.json").stat().st_size > 0
    out = _stdout(nb)
    assert "11 scenes; before: S2A_35SNA_20230708_0_L2A after: S2A_35SNA_20230827_0_L2A" in out
    assert re.search(r"dashboard:  http://127\.0\.0\.1:\d+/status", out)
    assert re.search(r"parallel: [\d.]+ s \(serial: [\d.]+ s\)", out)
    assert "11 time steps" in out
    assert "Status.closed" in out


def test_figures_have_alt_text(executed: tuple[nbformat.NotebookNode, Path]) -> None:
    nb, _ = executed
    figures = [
        cell for cell in nb.cells if cell.cell_type == "code"
        and any("image/png" in out.get("data", {}) for out in cell.get("outputs", []))
    ]  # fmt: skip
    assert len(figures) == 3  # task stream, NDVI before/after, NDVI time series
    for cell in figures:
        assert len(cell.metadata["mystnb"]["image"]["alt"]) > 40


def _without(text: str, start_marker: str, end_marker: str) -> str:
    start, end = text.index(start_marker), text.index(end_marker)
    return text[:start] + text[end:]


@pytest.mark.parametrize(
    ("label", "old", "new", "message"),
    [
        # Chunk edges that cut through the COG's 1024-pixel tiles.
        ("ch-chunks", '"y": 2048, "x": 2048}, lock=False)', '"y": 2000, "x": 2000}, lock=False)',
         "fall between the file's 1024-pixel tiles"),
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
    text = _mutate(EPISODE.read_text(), label, old, new)
    if label == "ch-ndvi-series":
        # The data cube needs only the cluster: skip the whole-tile burn severity before it.
        text = _without(text, "## Burn severity, serial and parallel", "## A data cube with")
        text = text.replace("```{code-cell} python\nimport odc.stac\n",
                            "```{code-cell} python\nimport matplotlib.pyplot as plt\n"
                            "import numpy as np\n"
                            "masked_classes = [0, 1, 3, 6, 8, 9, 10, 11]\nimport odc.stac\n")
    with pytest.raises(CellExecutionError) as caught:
        _execute(text, tmp_path, mirror_base, mirror_state_dir)
    assert caught.value.ename == "AssertionError", caught.value
    assert message in caught.value.evalue, caught.value.evalue
