"""Episode 1 executes against the offline mirror, and its hidden checks catch wrong solutions.

The episode is a MyST Markdown notebook. Every cell runs, solution cells included; the hidden
``remove-cell`` checks assert what a learner should find (12 scenes, 11 clear ones, 5 HLS items,
...) with ``satlesson.facts.check``. The mutation tests break one solution at a time and expect
that check to fail, naming the change in the words of ``satlesson drift``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from satlesson.mirror.routing import kernel_env

ROOT = Path(__file__).resolve().parents[1]
EPISODE = ROOT / "episodes" / "01-access-satellite-imagery.md"
CELL_TIMEOUT = 900  # seconds; the first read of a band may render it in the mirror


def _execute(text: str, workdir: Path, base: str, state_dir: Path) -> nbformat.NotebookNode:
    """Run the notebook in ``text`` in a kernel routed to the mirror, with ``workdir`` as cwd."""
    nb = jupytext.reads(text, fmt="myst")
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        allow_errors=False,
        resources={"metadata": {"path": str(workdir)}},
    )
    client.execute(env={**os.environ, **kernel_env(base, state_dir)})
    return nb


def _solution(text: str, label: str) -> tuple[int, int]:
    """Start and end offsets of the solution block of challenge ``label``."""
    start = text.index(f":::{{solution-start}} {label}\n")
    end = text.index(":::{solution-end}", start)
    return start, end


def _mutate(text: str, label: str, old: str, new: str) -> str:
    """Replace ``old`` by ``new`` once, inside the solution of ``label`` only."""
    start, end = _solution(text, label)
    block = text[start:end]
    assert block.count(old) == 1, f"{old!r} should occur once in the solution of {label}"
    return text[:start] + block.replace(old, new) + text[end:]


def _stdout(nb: nbformat.NotebookNode) -> str:
    return "\n".join(
        out.get("text", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "stream"
    )


# --- static checks: the syntax contract, no pasted outputs ---------------------------------------


def test_episode_parses_as_a_myst_notebook() -> None:
    nb = jupytext.read(EPISODE, fmt="myst")
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert len(code) > 30
    # Plain `jupytext --to ipynb` (no --from) must also see the code cells.
    assert len([c for c in jupytext.read(EPISODE).cells if c.cell_type == "code"]) == len(code)


def test_every_challenge_has_a_solution_with_hidden_checks() -> None:
    text = EPISODE.read_text()
    labels = re.findall(r"^::::\{challenge\}[^\n]*\n:label: (\S+)$", text, flags=re.M)
    assert labels == ["ch-time-filter", "ch-cloud-filter", "ch-hls"]
    for label in labels:
        start, end = _solution(text, label)
        block = text[start:end]
        assert ":class: dropdown" in block
        hidden = r"```\{code-cell\} python\n:tags: \[remove-cell\]\n(.*\n)*?(assert |check\()"
        assert re.search(hidden, block), f"the solution of {label} has no hidden check"


def test_no_pasted_outputs_or_missing_figures() -> None:
    text = EPISODE.read_text()
    assert "```output" not in text
    assert "![" not in text, "images must come from executed cells, not from files"
    assert "http://" not in text.replace("http://127.0.0.1:8642/", ""), "links must use https"


# --- execution --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def executed(
    tmp_path_factory: pytest.TempPathFactory, mirror_base: str, mirror_state_dir: Path
) -> tuple[nbformat.NotebookNode, Path]:
    workdir = tmp_path_factory.mktemp("episode01")
    try:
        nb = _execute(EPISODE.read_text(), workdir, mirror_base, mirror_state_dir)
    except CellExecutionError as err:
        pytest.fail(f"episode 1 failed to execute: {err.ename}: {err.evalue}\n{err}")
    return nb, workdir


def test_episode_executes_without_errors(executed: tuple[nbformat.NotebookNode, Path]) -> None:
    nb, _ = executed
    errors = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert not errors


def test_episode_writes_its_files(executed: tuple[nbformat.NotebookNode, Path]) -> None:
    _, workdir = executed
    assert (workdir / "rhodes_sentinel-2.json").stat().st_size > 0
    subset = workdir / "red_subset.tif"
    assert 0 < subset.stat().st_size < 10_000_000
    assert not (workdir / "red.tif").exists(), "the full band must not be written to disk"


def test_thumbnails_are_images_with_alt_text(executed: tuple[nbformat.NotebookNode, Path]) -> None:
    nb, _ = executed
    image_cells = [
        cell
        for cell in nb.cells
        if cell.cell_type == "code"
        and any("image/jpeg" in out.get("data", {}) or "image/png" in out.get("data", {})
                for out in cell.get("outputs", []))
    ]
    assert len(image_cells) == 4  # before, after, the clipped band, HLS browse
    for cell in image_cells:
        alt = cell.metadata["mystnb"]["image"]["alt"]
        assert len(alt) > 20


def test_protected_asset_needs_credentials(executed: tuple[nbformat.NotebookNode, Path]) -> None:
    out = _stdout(executed[0])
    assert "401 Unauthorized" in out
    assert "200 OK" in out


def test_outputs_name_the_mirror(
    executed: tuple[nbformat.NotebookNode, Path], mirror_base: str
) -> None:
    """The note cell prints addresses that show the build ran against the mirror."""
    assert mirror_base.rstrip("/") + "/" in _stdout(executed[0])


# --- mutation tests: a wrong solution must trip the hidden check --------------------------------


@pytest.mark.parametrize(
    ("label", "old", "new", "message"),
    [
        # July only: the six scenes of July instead of twelve.
        ("ch-time-filter", '"2023-07-01/2023-08-31"', '"2023-07-01/2023-07-31"',
         "Drift: 12 scenes became 6 (fact 'scenes')"),
        # No cloud filter: the cloudy 3 July scene comes back too.
        ("ch-cloud-filter", '    query=["eo:cloud_cover<1"],\n', "",
         "Drift: 11 clear scenes became 12 (fact 'clear-scenes')"),
        # February only: three of the five HLS items.
        ("ch-hls", '"2021-02-01/2021-03-30"', '"2021-02-01/2021-02-28"',
         "Drift: 5 HLS items became 3 (fact 'hls-items')"),
    ],
)
def test_hidden_check_catches_a_wrong_solution(
    tmp_path: Path, mirror_base: str, mirror_state_dir: Path,
    label: str, old: str, new: str, message: str,
) -> None:
    text = _mutate(EPISODE.read_text(), label, old, new)
    if label == "ch-hls":
        # Skip the raster reads before the HLS exercise: only its own check matters here.
        text = _drop_cells_between(text, "## Open a band remotely", "## Beyond Earth Search")
    with pytest.raises(CellExecutionError) as caught:
        _execute(text, tmp_path, mirror_base, mirror_state_dir)
    assert caught.value.ename == "AssertionError", caught.value
    assert message in caught.value.evalue, caught.value.evalue


def _drop_cells_between(text: str, start_marker: str, end_marker: str) -> str:
    start, end = text.index(start_marker), text.index(end_marker)
    return text[:start] + text[end:]
