"""What every episode's tests share: run an episode as a learner would (an empty folder, a fresh
kernel routed to the mirror), break one solution, and read what the run printed or drew.

An episode is executed once per test session. Its mutation tests are *trials*: a changed copy
of the episode whose changed cells run in the same kernel, just before the unchanged cells at
the same place, so each trial starts from exactly the state the episode had reached there and
costs only the cells it changes (up to its check). The unchanged cells then run as the control:
the same check, in the same state, must pass.
"""

from __future__ import annotations

import copy
import os
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from satlesson.mirror.client.routing import kernel_env

ROOT = Path(__file__).resolve().parents[1]
CELL_TIMEOUT = 900  # seconds; the first read of a band may render it in the mirror
SOLUTION_END = ":::{solution-end}"
HIDDEN = "remove-cell"  # the build-time checks: on no page and in no learner notebook
# Hidden cells run in a copy of the learner's namespace, so whatever they import or assign
# is seen by later hidden cells but never by the learner's cells: the run of the episode is
# then also a run of its learner notebook (the same cells less the hidden ones).
_ISOLATE = """\
def _satlesson_hidden(source, _kept={}):
    names = get_ipython().user_ns
    space = {**_kept, **names}
    exec(compile(source, "<hidden check>", "exec"), space)
    _kept.update((k, v) for k, v in space.items() if k not in names)
"""


@dataclass(frozen=True)
class Trial:
    """A changed copy of an episode. It runs from its first changed cell up to (not including)
    the first cell from there on whose source contains ``until``."""

    name: str
    text: str
    until: str = SOLUTION_END


@dataclass
class Outcome:
    """What a trial's cells printed, and the error that stopped them (None: they all ran)."""

    cells: list[nbformat.NotebookNode]
    error: CellExecutionError | None = None


@dataclass
class EpisodeRun:
    nb: nbformat.NotebookNode
    workdir: Path
    trials: dict[str, Outcome] = field(default_factory=dict)


def _client(nb: nbformat.NotebookNode, workdir: Path) -> NotebookClient:
    # No timings in the cells' metadata: the site build's cache matches a page on its code
    # cells' sources and metadata, and takes this run's outputs only if they are unchanged.
    return NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=False,
                          record_timing=False,
                          resources={"metadata": {"path": str(workdir)}})  # fmt: skip


def execute(text: str, workdir: Path, base: str, state_dir: Path) -> nbformat.NotebookNode:
    """Run the notebook in ``text`` in a kernel routed to the mirror, with ``workdir`` as cwd."""
    nb = jupytext.reads(text, fmt="myst")
    _client(nb, workdir).execute(env={**os.environ, **kernel_env(base, state_dir)})
    return nb


Plan = dict[int, list[tuple[Trial, list]]]


def _plan(nb: nbformat.NotebookNode, trials: Iterable[Trial]) -> Plan:
    """For each trial, the cell index of ``nb`` it starts at and the changed cells it runs."""
    plan: Plan = defaultdict(list)
    for trial in trials:
        changed = jupytext.reads(trial.text, fmt="myst").cells
        start = next((i for i, (a, b) in enumerate(zip(nb.cells, changed, strict=False))
                      if (a.cell_type, a.source) != (b.cell_type, b.source)),
                     min(len(nb.cells), len(changed)))  # fmt: skip
        assert start < len(changed), f"trial {trial.name!r} changes nothing"
        end = next((i for i in range(start, len(changed)) if trial.until in changed[i].source),
                   None)  # fmt: skip
        assert end is not None, f"{trial.name!r}: no cell after the change holds {trial.until!r}"
        plan[start].append((trial, copy.deepcopy(changed[start:end])))
    return plan


def _execute_cell(client: NotebookClient, cell: nbformat.NotebookNode, index: int) -> None:
    if HIDDEN not in cell.metadata.get("tags", []):
        client.execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
        return
    source = cell.source
    cell.source = f"_satlesson_hidden({source!r})"
    try:
        client.execute_cell(cell, index)
    finally:
        cell.source = source


def _run_trial(client: NotebookClient, cells: list) -> Outcome:
    main, client.nb = client.nb, nbformat.v4.new_notebook(cells=cells)
    try:
        for index, cell in enumerate(cells):
            _execute_cell(client, cell, index)
    except CellExecutionError as err:
        return Outcome(cells, err)
    finally:
        client.nb = main
    return Outcome(cells)


def run_episode(episode: Path, workdir: Path, base: str, state_dir: Path,
                trials: Iterable[Trial] = ()) -> EpisodeRun:  # fmt: skip
    """Execute ``episode`` top to bottom in ``workdir`` (empty: as if opened first), running each
    trial where its change begins."""
    assert not any(workdir.iterdir()), "an episode must run from an empty folder"
    trials = list(trials)
    nb = jupytext.reads(episode.read_text(), fmt="myst")
    plan = _plan(nb, trials)
    run = EpisodeRun(nb, workdir)
    client = _client(nb, workdir)
    client.reset_execution_trackers()
    with client.setup_kernel(env={**os.environ, **kernel_env(base, state_dir)}):
        # As NotebookClient.execute does: the page's code highlighting reads the language.
        info = client.wait_for_reply(client.kc.kernel_info())
        nb.metadata["language_info"] = info["content"]["language_info"]
        assert _run_trial(client, [nbformat.v4.new_code_cell(_ISOLATE)]).error is None
        for index, cell in enumerate(nb.cells):
            for trial, cells in plan.get(index, []):
                run.trials[trial.name] = _run_trial(client, cells)
            try:
                _execute_cell(client, cell, index)
            except CellExecutionError as err:
                pytest.fail(f"{episode.name} failed to execute: {err.ename}: {err.evalue}\n{err}")
    assert set(run.trials) == {t.name for t in trials}, "trial names must be unique"
    return run


def assert_caught(outcome: Outcome, message: str) -> None:
    """The trial stopped at a hidden check whose AssertionError says ``message``."""
    assert outcome.error is not None, "the changed cells ran without tripping any check"
    assert outcome.error.ename == "AssertionError", outcome.error
    assert message in outcome.error.evalue, outcome.error.evalue


def solution(text: str, label: str) -> tuple[int, int]:
    """Start and end offsets of the solution block of challenge ``label``."""
    start = text.index(f":::{{solution-start}} {label}\n")
    return start, text.index(SOLUTION_END, start)


def mutate(text: str, label: str, old: str, new: str) -> str:
    """Replace ``old`` by ``new`` once, inside the solution of ``label`` only."""
    start, end = solution(text, label)
    block = text[start:end]
    assert block.count(old) == 1, f"{old!r} should occur once in the solution of {label}"
    return text[:start] + block.replace(old, new) + text[end:]


def solution_trial(text: str, label: str, old: str, new: str) -> Trial:
    """``old`` replaced by ``new`` in the solution of ``label``, run up to the solution's end."""
    return Trial(f"{label}: {old!r} -> {new!r}", mutate(text, label, old, new))


def replaced(text: str, old: str, new: str) -> str:
    """``text`` with its one occurrence of ``old`` replaced by ``new``."""
    assert text.count(old) == 1, f"{old!r} should occur once"
    return text.replace(old, new)


def stdout(cells: nbformat.NotebookNode | list) -> str:
    """Everything the code cells (of a notebook, or a trial's list of cells) printed."""
    cells = cells.cells if isinstance(cells, nbformat.NotebookNode) else cells
    return "\n".join(
        out.get("text", "")
        for cell in cells
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


def assert_myst_notebook(episode: Path, min_code_cells: int) -> None:
    """The episode reads as a MyST notebook with more than ``min_code_cells`` code cells, and
    plain ``jupytext --to ipynb`` (no ``--from``) sees the same code cells."""
    nb = jupytext.read(episode, fmt="myst")
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert len(code) > min_code_cells
    assert len([c for c in jupytext.read(episode).cells if c.cell_type == "code"]) == len(code)


def assert_nothing_pasted(episode: Path) -> None:
    """No pasted output block, no image file (figures come from executed cells), no http link."""
    text = episode.read_text()
    assert "```output" not in text
    assert "![" not in text, "images must come from executed cells, not from files"
    assert "http://" not in text, "links must use https"
