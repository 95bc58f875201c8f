"""Episode 3 (vectors meet rasters) runs on its own from an empty folder against the mirror,
and its hidden checks catch wrong solutions."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient.exceptions import CellExecutionError
from test_episode import _execute, _mutate, _stdout

ROOT = Path(__file__).resolve().parents[1]
EPISODE = ROOT / "episodes" / "03-vectors-meet-rasters.md"
LABELS = ["ch-buffer", "ch-before", "ch-elevation"]


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
    workdir = tmp_path_factory.mktemp("episode03")  # empty: no data files, no saved search
    try:
        nb = _execute(EPISODE.read_text(), workdir, mirror_base, mirror_state_dir)
    except CellExecutionError as err:
        pytest.fail(f"episode 3 failed to execute: {err.ename}: {err.evalue}\n{err}")
    return nb, workdir


def test_runs_first_with_the_lesson_data(executed: tuple[nbformat.NotebookNode, Path]) -> None:
    nb, workdir = executed
    assert (workdir / "rhodes_sentinel-2.json").stat().st_size > 0
    for name in ("rhodes.geojson", "rhodes-places.csv"):
        assert (workdir / "data" / name).read_bytes() == (ROOT / "data" / name).read_bytes()
    out = _stdout(nb)
    assert "S2A_35SNA_20230708_0_L2A S2A_35SNA_20230827_0_L2A" in out
    assert "WGS 84 / UTM zone 35N" in out
    assert "1216 m at 36.2092 N, 27.8636 E" in out  # Attavyros, the island's highest point


def test_figures_have_alt_text(executed: tuple[nbformat.NotebookNode, Path]) -> None:
    nb, _ = executed
    figures = [
        cell for cell in nb.cells if cell.cell_type == "code"
        and any("image/png" in out.get("data", {}) for out in cell.get("outputs", []))
    ]  # fmt: skip
    assert len(figures) == 5  # places, buffers, clipped true colour, before/after, elevation
    for cell in figures:
        assert len(cell.metadata["mystnb"]["image"]["alt"]) > 40


@pytest.mark.parametrize(
    ("label", "old", "new", "message"),
    [
        # Discs that reach into the sea are counted as land.
        ("ch-buffer", "rhodes_utm.intersection(discs.union_all())", "discs", "share:"),
        ("ch-before", 'clip_asset(before, "nir"', 'clip_asset(after, "nir"', "nir_before:"),
        # Longitude and latitude looked up on a grid in metres.
        ("ch-elevation", "places_utm.geometry.x.values", "places.geometry.x.values",
         "elevation of"),
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
