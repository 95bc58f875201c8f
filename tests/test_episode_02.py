"""Episode 2 (read and look at rasters) runs on its own from an empty folder against the
mirror, and its hidden checks catch wrong solutions."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient.exceptions import CellExecutionError
from test_episode import _execute, _mutate, _stdout

ROOT = Path(__file__).resolve().parents[1]
EPISODE = ROOT / "episodes" / "02-read-rasters.md"
LABELS = ["ch-crs-units", "ch-stretch", "ch-reflectance"]


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
    workdir = tmp_path_factory.mktemp("episode02")  # empty: no saved search results yet
    try:
        nb = _execute(EPISODE.read_text(), workdir, mirror_base, mirror_state_dir)
    except CellExecutionError as err:
        pytest.fail(f"episode 2 failed to execute: {err.ename}: {err.evalue}\n{err}")
    return nb, workdir


def test_runs_first_and_recreates_the_saved_search(
    executed: tuple[nbformat.NotebookNode, Path],
) -> None:
    nb, workdir = executed
    assert (workdir / "rhodes_sentinel-2.json").stat().st_size > 0
    out = _stdout(nb)
    assert "11 scenes, newest first" in out
    assert "EPSG:32635" in out and "metre 35N" in out


def test_figures_have_alt_text(executed: tuple[nbformat.NotebookNode, Path]) -> None:
    nb, _ = executed
    figures = [
        cell for cell in nb.cells if cell.cell_type == "code"
        and any("image/png" in out.get("data", {}) for out in cell.get("outputs", []))
    ]  # fmt: skip
    assert len(figures) == 4  # default stretch, robust stretch, own stretch, true colour
    for cell in figures:
        assert len(cell.metadata["mystnb"]["image"]["alt"]) > 40


@pytest.mark.parametrize(
    ("label", "old", "new", "message"),
    [
        ("ch-crs-units", "zone = crs.utm_zone", "zone = crs.name", "zone:"),
        ("ch-stretch", "quantile([0.05, 0.95])", "quantile([0.02, 0.98])", "5th percentile"),
        ("ch-reflectance", "* scale + offset\n", "* scale\n", "red_centre: wrong values"),
    ],
)
def test_hidden_check_catches_a_wrong_solution(
    tmp_path: Path, mirror_base: str, mirror_state_dir: Path,
    label: str, old: str, new: str, message: str,
) -> None:  # fmt: skip
    text = _mutate(EPISODE.read_text(), label, old, new)
    with pytest.raises(CellExecutionError) as caught:
        _execute(text, tmp_path, mirror_base, mirror_state_dir)
    assert caught.value.ename == "AssertionError", caught.value
    assert message in caught.value.evalue, caught.value.evalue
