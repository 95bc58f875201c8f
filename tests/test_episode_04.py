"""Episode 4 (how much burned?) runs on its own from an empty folder against the mirror, finds
the snapshot's burn scar, writes a valid COG, and its hidden checks catch wrong solutions."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
import rasterio
import requests
from nbclient.exceptions import CellExecutionError
from test_episode import _execute, _mutate, _stdout

ROOT = Path(__file__).resolve().parents[1]
EPISODE = ROOT / "episodes" / "04-how-much-burned.md"
LABELS = ["ch-nbr", "ch-scl", "ch-area"]


def test_every_challenge_has_a_gated_solution_with_a_hidden_check() -> None:
    text = EPISODE.read_text()
    assert re.findall(r"^::::\{challenge\}[^\n]*\n:label: (\S+)$", text, flags=re.M) == LABELS
    for label in LABELS:
        start = text.index(f":::{{solution-start}} {label}\n")
        block = text[start : text.index(":::{solution-end}", start)]
        assert ":class: dropdown" in block
        assert re.search(r"```\{code-cell\} python\n:tags: \[remove-cell\]\n(.*\n)*?assert ", block)


@pytest.fixture(scope="module")
def executed(
    tmp_path_factory: pytest.TempPathFactory, mirror_base: str, mirror_state_dir: Path
) -> tuple[nbformat.NotebookNode, Path]:
    workdir = tmp_path_factory.mktemp("episode04")  # empty: no saved search results yet
    try:
        nb = _execute(EPISODE.read_text(), workdir, mirror_base, mirror_state_dir)
    except CellExecutionError as err:
        pytest.fail(f"episode 4 failed to execute: {err.ename}: {err.evalue}\n{err}")
    return nb, workdir


def test_runs_first_and_names_the_two_scenes(
    executed: tuple[nbformat.NotebookNode, Path],
) -> None:
    nb, workdir = executed
    assert (workdir / "rhodes_sentinel-2.json").stat().st_size > 0
    out = _stdout(nb)
    assert "before: S2A_35SNA_20230708_0_L2A" in out
    assert "after:  S2A_35SNA_20230827_0_L2A" in out


def test_burnt_area_was_compared_with_the_snapshots_truth(
    executed: tuple[nbformat.NotebookNode, Path], mirror_base: str
) -> None:
    """Where the mirror publishes the scar's truth, the hidden check must read it, not skip."""
    truth = requests.get(
        f"{mirror_base}/satlesson.invalid/truth/rhodes-2023-burn-scar.json", timeout=30
    )
    if truth.status_code == 404:
        pytest.skip("this snapshot publishes no ground truth for the burn scar")
    out = _stdout(executed[0])
    assert "No ground truth" not in out
    assert len(re.findall(r"^Ground truth \(dnbr_gt_0\.(10|27)\): measured", out, re.M)) == 2


def test_writes_the_severity_map_as_a_small_uint8_cog(
    executed: tuple[nbformat.NotebookNode, Path],
) -> None:
    _, workdir = executed
    path = workdir / "rhodes_burn_severity.tif"
    with rasterio.open(path) as src:
        assert src.dtypes == ("uint8",) and src.nodata == 0
        assert src.crs.to_epsg() == 32635
        codes = set(src.read(1).ravel().tolist())
    assert {0, 3, 4, 5, 6, 7} <= codes <= set(range(8))
    assert path.stat().st_size < 200_000


def test_figures_have_alt_text(executed: tuple[nbformat.NotebookNode, Path]) -> None:
    nb, _ = executed
    figures = [
        cell for cell in nb.cells if cell.cell_type == "code"
        and any("image/png" in out.get("data", {}) for out in cell.get("outputs", []))
    ]  # fmt: skip
    assert len(figures) == 4  # NDVI, dNBR, severity classes, burnt area by elevation
    for cell in figures:
        alt = cell.metadata["mystnb"]["image"]["alt"]
        assert len(alt) > 40 and "synthetic" in alt


@pytest.mark.parametrize(
    ("label", "old", "new", "message"),
    [
        # NDVI instead of NBR: red in place of the shortwave infrared.
        ("ch-nbr", 'after["nir"] - after["swir22"]', 'after["nir"] - after["red"]',
         "nbr_after: wrong values"),
        # Forgetting the clouds of high probability.
        ("ch-scl", "[0, 1, 3, 6, 8, 9, 10, 11]", "[0, 1, 3, 6, 8, 10, 11]",
         "masked_classes: clouds"),
        # Pixel area in the wrong unit (1e3 instead of 1e6 m² per km²).
        ("ch-area", "abs(width * height) / 1e6", "abs(width * height) / 1e3", "pixel_km2:"),
    ],
)
def test_hidden_check_catches_a_wrong_solution(
    tmp_path: Path, mirror_base: str, mirror_state_dir: Path,
    label: str, old: str, new: str, message: str,
) -> None:  # fmt: skip
    text = _mutate(EPISODE.read_text(), label, old, new)
    # Stop after the challenge: what follows cannot change whether its check fails.
    end = text.index(":::{solution-end}", text.index(f":::{{solution-start}} {label}\n"))
    with pytest.raises(CellExecutionError) as caught:
        _execute(text[:end], tmp_path, mirror_base, mirror_state_dir)
    assert caught.value.ename == "AssertionError", caught.value
    assert message in caught.value.evalue, caught.value.evalue


def test_ground_truth_check_catches_a_wrong_dnbr(
    tmp_path: Path, mirror_base: str, mirror_state_dir: Path
) -> None:
    """dNBR the wrong way round passes every local check but not the comparison with the scar."""
    truth = requests.get(
        f"{mirror_base}/satlesson.invalid/truth/rhodes-2023-burn-scar.json", timeout=30
    )
    if truth.status_code == 404:
        pytest.skip("this snapshot publishes no ground truth for the burn scar")
    text = EPISODE.read_text()
    old, new = "dnbr = nbr_before - nbr_after\n", "dnbr = nbr_after - nbr_before\n"
    assert text.count(old) == 1
    text = text.replace(old, new)
    end = text.index("## Save the map")
    with pytest.raises(CellExecutionError) as caught:
        _execute(text[:end], tmp_path, mirror_base, mirror_state_dir)
    assert caught.value.ename == "AssertionError", caught.value
    assert "but the snapshot's scar has" in caught.value.evalue, caught.value.evalue
