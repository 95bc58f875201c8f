"""What every episode's tests share: run an episode as a learner would (an empty folder, a fresh
kernel routed to the mirror), break one solution, and read what the run printed or drew."""

from __future__ import annotations

import os
import re
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from satlesson.mirror.client.routing import kernel_env

ROOT = Path(__file__).resolve().parents[1]
CELL_TIMEOUT = 900  # seconds; the first read of a band may render it in the mirror
Run = tuple[nbformat.NotebookNode, Path]


def execute(text: str, workdir: Path, base: str, state_dir: Path) -> nbformat.NotebookNode:
    """Run the notebook in ``text`` in a kernel routed to the mirror, with ``workdir`` as cwd."""
    nb = jupytext.reads(text, fmt="myst")
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(workdir)}})  # fmt: skip
    client.execute(env={**os.environ, **kernel_env(base, state_dir)})
    return nb


def run_first(episode: Path, workdir: Path, base: str, state_dir: Path) -> Run:
    """Execute ``episode`` top to bottom in ``workdir`` (empty: as if opened first)."""
    assert not any(workdir.iterdir()), "an episode must run from an empty folder"
    try:
        return execute(episode.read_text(), workdir, base, state_dir), workdir
    except CellExecutionError as err:
        pytest.fail(f"{episode.name} failed to execute: {err.ename}: {err.evalue}\n{err}")


def solution(text: str, label: str) -> tuple[int, int]:
    """Start and end offsets of the solution block of challenge ``label``."""
    start = text.index(f":::{{solution-start}} {label}\n")
    return start, text.index(":::{solution-end}", start)


def mutate(text: str, label: str, old: str, new: str) -> str:
    """Replace ``old`` by ``new`` once, inside the solution of ``label`` only."""
    start, end = solution(text, label)
    block = text[start:end]
    assert block.count(old) == 1, f"{old!r} should occur once in the solution of {label}"
    return text[:start] + block.replace(old, new) + text[end:]


def without(text: str, start_marker: str, end_marker: str) -> str:
    """``text`` less everything from ``start_marker`` up to ``end_marker``."""
    start, end = text.index(start_marker), text.index(end_marker)
    return text[:start] + text[end:]


def stdout(nb: nbformat.NotebookNode) -> str:
    return "\n".join(
        out.get("text", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "stream"
    )


def figures(nb: nbformat.NotebookNode, mimes: tuple[str, ...] = ("image/png",)) -> list:
    """The code cells whose outputs include an image."""
    return [
        cell for cell in nb.cells if cell.cell_type == "code"
        and any(m in out.get("data", {}) for out in cell.get("outputs", []) for m in mimes)
    ]  # fmt: skip


def assert_figures_described(nb: nbformat.NotebookNode, count: int) -> None:
    """Exactly ``count`` figures, each with an alt text that describes it."""
    drawn = figures(nb)
    assert len(drawn) == count
    for cell in drawn:
        assert len(cell.metadata["mystnb"]["image"]["alt"]) > 40


def assert_gated_challenges(episode: Path, labels: list[str]) -> None:
    """The episode's challenges are ``labels``, each with a dropdown solution and a hidden
    check (a ``remove-cell`` code cell that asserts) inside it."""
    text = episode.read_text()
    assert re.findall(r"^::::\{challenge\}[^\n]*\n:label: (\S+)$", text, flags=re.M) == labels
    for label in labels:
        start, end = solution(text, label)
        block = text[start:end]
        assert ":class: dropdown" in block, label
        hidden = r"```\{code-cell\} python\n:tags: \[remove-cell\]\n(.*\n)*?(assert |check\()"
        assert re.search(hidden, block), f"the solution of {label} has no hidden check"


def assert_check_fails(text: str, workdir: Path, base: str, state_dir: Path, message: str) -> None:
    """Running ``text`` stops at a hidden check whose AssertionError says ``message``."""
    with pytest.raises(CellExecutionError) as caught:
        execute(text, workdir, base, state_dir)
    assert caught.value.ename == "AssertionError", caught.value
    assert message in caught.value.evalue, caught.value.evalue
