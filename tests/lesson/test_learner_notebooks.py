"""The notebook a learner downloads next to each episode: plain Jupyter Markdown, no build-time
checks, solutions collapsed but runnable, and every episode's notebook runs top to bottom.

The tests convert every episode under episodes/ (and the fixture book's) and look at the
result; the last one checks that each episode's run (tests/episode_runs.py) ran exactly the
learner notebook's cells.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import jupytext
import nbformat
import pytest
from episode_runs import HIDDEN, run_episode

from satlesson.lesson import learner
from satlesson.lesson.learner import learner_notebook, write_learner_notebook

ROOT = Path(__file__).resolve().parents[2]
EPISODES = sorted((ROOT / "episodes").glob("*.md"))
FIXTURE = Path(__file__).parent / "lesson_fixtures" / "book" / "episodes"
SOURCES = EPISODES + sorted(FIXTURE.glob("*.md"))

# MyST syntax Jupyter shows as raw text.
MYST_SYNTAX = {
    "colon fence": re.compile(r"^\s*:::", re.M),
    "backtick directive": re.compile(r"^\s*```+\s*\{", re.M),
    "role": re.compile(r"\{[\w:+-]+\}`"),
    "target": re.compile(r"^\s*\([\w:.-]+\)=\s*$", re.M),
    "comment": re.compile(r"^%", re.M),
    "block break": re.compile(r"^\+\+\+", re.M),
}


def _ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


def _source_cells(path: Path) -> list[tuple[nbformat.NotebookNode, bool]]:
    """The source's cells, each with whether it lies inside a gated solution."""
    cells, inside = [], False
    for cell in jupytext.read(path, fmt="md:myst").cells:
        if cell.cell_type == "markdown":
            for match in re.finditer(r"\{solution-(start|end)\}", cell.source):
                inside = match.group(1) == "start"
                # a cell may hold both an end and a later start: the last one wins
        cells.append((cell, inside))
    return cells


def _code(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in nb.cells if c.cell_type == "code"]


def _markdown(nb: nbformat.NotebookNode) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "markdown"]


@pytest.fixture(scope="module", params=SOURCES, ids=_ids(SOURCES))
def converted(request: pytest.FixtureRequest) -> tuple[Path, nbformat.NotebookNode]:
    return request.param, learner_notebook(request.param)


# --- every episode ------------------------------------------------------------------------------


def test_there_are_episodes_to_convert() -> None:
    assert EPISODES, "no episodes/*.md found"


def test_markdown_has_no_myst_syntax(converted: tuple[Path, nbformat.NotebookNode]) -> None:
    path, nb = converted
    for text in _markdown(nb):
        for what, pattern in MYST_SYNTAX.items():
            match = pattern.search(text)
            assert not match, f"{path.name}: {what} left in Markdown: {match and match.group()!r}"


def test_no_build_time_checks(converted: tuple[Path, nbformat.NotebookNode]) -> None:
    path, nb = converted
    hidden = [
        c.source for c, _ in _source_cells(path) if "remove-cell" in c.metadata.get("tags", [])
    ]
    code = "\n".join(c.source for c in _code(nb))
    for source in hidden:
        assert source not in code, f"{path.name}: a remove-cell cell is in the notebook"
    assert not any("remove-cell" in c.metadata.get("tags", []) for c in nb.cells)


def test_solutions_are_collapsed_code_cells(converted: tuple[Path, nbformat.NotebookNode]) -> None:
    """Solution code stays code (later cells need it) with its input collapsed; nothing else
    is collapsed but what the author hid on the page."""
    path, nb = converted
    source = _source_cells(path)
    expected = [
        (c.source, inside or bool(learner.HIDE_INPUT & set(c.metadata.get("tags", []))))
        for c, inside in source
        if c.cell_type == "code" and "remove-cell" not in c.metadata.get("tags", [])
    ]
    got = [(c.source, c.metadata.get("jupyter", {}).get("source_hidden", False)) for c in _code(nb)]
    assert got == expected
    assert not any(set(c.metadata.get("tags", [])) & learner.BUILD_TAGS for c in _code(nb))
    starts = sum(len(re.findall(r"\{solution-start\}", c.source)) for c, _ in source)
    headings = [t for t in _markdown(nb) if re.match(r"#+ Solution\b", t)]
    assert len(headings) == starts
    if starts:
        assert any(hidden for _, hidden in got), f"{path.name}: solutions without code cells"


def test_solution_text_is_in_details(converted: tuple[Path, nbformat.NotebookNode]) -> None:
    """Markdown between a solution's cells is folded away too, with a label."""
    _, nb = converted
    for text in _markdown(nb):
        if "<details>" in text:
            assert text.count("<details>") == text.count("</details>")
            assert re.search(r"<details>\n<summary>[^<]+</summary>\n\n", text)


def test_clean_valid_notebook(converted: tuple[Path, nbformat.NotebookNode]) -> None:
    path, nb = converted
    nbformat.validate(nb)
    assert set(nb.metadata) == {"kernelspec", "language_info"}
    assert nb.metadata.kernelspec.name == "python3"
    assert nb.metadata.language_info.name == "python"
    for cell in _code(nb):
        assert cell.outputs == [] and cell.execution_count is None
        assert set(cell.metadata) <= {"tags", "jupyter"}, f"{path.name}: {dict(cell.metadata)}"
    assert all(not c.metadata for c in nb.cells if c.cell_type == "markdown")
    assert len({c.id for c in nb.cells}) == len(nb.cells)
    assert learner_notebook(path) == nb, "the conversion must be deterministic"


def test_instructor_notes_are_not_for_learners(
    converted: tuple[Path, nbformat.NotebookNode],
) -> None:
    path, nb = converted
    text = path.read_text(encoding="utf-8")
    notes = re.findall(r"^:::\{instructor\}[^\n]*\n(.*?)^:::$", text, flags=re.S | re.M)
    for note in notes:
        first_line = note.strip().splitlines()[0]
        assert all(first_line not in t for t in _markdown(nb)), f"{path.name}: {first_line}"


# --- what each block becomes (the fixture book has every block type) ---------------------------


@pytest.fixture(scope="module")
def first() -> nbformat.NotebookNode:
    return learner_notebook(FIXTURE / "01-first.md")


def test_blocks_become_plain_markdown(first: nbformat.NotebookNode) -> None:
    text = "\n\n".join(_markdown(first))
    assert "## Questions\n\n- How do blocks look?" in text
    assert "## Objectives\n\n- See every block type." in text
    assert "## Key points\n\n- First key point.\n- Second key point." in text
    assert "> **Callout: Cloud Optimized GeoTIFFs**\n>\n> A COG can be read in pieces." in text
    assert "> **Prerequisite**\n>\n> Knowing Python." in text
    assert "> **Discussion**\n>\n> Talk about STAC." in text
    assert "> **Caution**\n>\n> Mind the gap." in text
    assert "## Challenge: Add the numbers\n\nAdd 40 and 2." in text
    assert "<details>\n<summary>Hint</summary>\n\nUse `+`.\n\n</details>" in text
    assert "<details>\n<summary>Spoiler</summary>\n\nHidden detail.\n\n</details>" in text
    assert "### Solution: Add the numbers" in text
    assert "instructor note" not in text


def test_local_images_travel_inside_the_notebook(first: nbformat.NotebookNode) -> None:
    cell = next(c for c in first.cells if "attachment:" in c.source)
    assert "![An orange square standing in for a satellite scene](attachment:square.svg)" in (
        cell.source
    )
    data = cell.attachments["square.svg"]["image/svg+xml"]
    assert base64.b64decode(data) == (FIXTURE / "fig" / "square.svg").read_bytes()


SAMPLE = """\
---
kernelspec:
  name: python3
  display_name: Python 3
---
(intro)=
# Sample {term}`STAC`

% an author's comment

See {ref}`the intro <intro>`, {math}`x^2`, H{sub}`2`O, {py:func}`~pystac.Item.from_file`,
`{term}` in code, and a {term}`wrapped
term`.

:::{figure} fig/square.svg
:alt: The square again
:name: fig-square

A caption about {term}`COG`.
:::

:::{admonition} About {term}`STAC`
:class: tip
Admonition body.
:::

:::{note}
A note.
:::

```{code-block} python
:linenos:
print("shown, not run")
```

::::{tab-set}
:::{tab-item} First tab
Tab body.
:::
::::

::::{exercise} Plain exercise
:label: ex-plain
Do it.
::::

::::{solution} ex-plain
```python
x = 1
```
Explained.
::::

```{code-cell} python
:tags: [remove-input]
setup = 1
```

```{code-cell} python
:tags: [hide-output, raises-exception]
raise ValueError("expected")
```
"""


@pytest.fixture
def sample(tmp_path: Path) -> nbformat.NotebookNode:
    (tmp_path / "fig").mkdir()
    (tmp_path / "fig" / "square.svg").write_bytes((FIXTURE / "fig" / "square.svg").read_bytes())
    path = tmp_path / "sample.md"
    path.write_text(SAMPLE, encoding="utf-8")
    return learner_notebook(path)


def test_roles_and_directives_render_sensibly(sample: nbformat.NotebookNode) -> None:
    text = "\n\n".join(_markdown(sample))
    assert text.startswith("# Sample STAC\n\nSee the intro, $x^2$, H<sub>2</sub>O, `from_file`,")
    assert "`{term}` in code" in text  # a role inside a code span stays literal
    assert "a wrapped term." in text  # a role may span lines
    assert "an author's comment" not in text
    assert "![The square again](attachment:square.svg)\n\nA caption about COG." in text
    assert "> **About STAC**\n>\n> Admonition body." in text
    assert "> **Note**\n>\n> A note." in text
    assert '```python\nprint("shown, not run")\n```' in text
    assert "**First tab**\n\nTab body." in text
    assert "## Exercise: Plain exercise\n\nDo it." in text
    assert "### Solution: Plain exercise\n\n<details>\n<summary>Solution</summary>" in text
    assert "```python\nx = 1\n```\n\nExplained.\n\n</details>" in text


def test_cell_tags_become_jupyter_metadata(sample: nbformat.NotebookNode) -> None:
    setup, raises = _code(sample)
    assert setup.metadata == {"jupyter": {"source_hidden": True}}
    assert raises.metadata == {"tags": ["raises-exception"], "jupyter": {"outputs_hidden": True}}


def test_text_around_a_dropped_check_is_one_cell(tmp_path: Path) -> None:
    """A hidden check between two paragraphs leaves no seam; the author's own break stays."""
    path = tmp_path / "breaks.md"
    path.write_text(
        "# Breaks\n\nfirst\n\n+++\n\nsecond\n\n"
        "```{code-cell} python\n:tags: [remove-cell]\nassert True\n```\n\nthird\n",
        encoding="utf-8",
    )
    assert [c.source for c in learner_notebook(path).cells] == [
        "# Breaks\n\nfirst", "second\n\nthird"
    ]


def test_write_replaces_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "site" / "01-first.ipynb"
    written = write_learner_notebook(FIXTURE / "01-first.md", target)
    assert nbformat.read(target, as_version=4) == written
    before = target.read_bytes()

    def broken(nb: nbformat.NotebookNode, handle: object, **kw: object) -> None:
        handle.write('{"cells": [')  # type: ignore[attr-defined]
        raise OSError("disk full")

    monkeypatch.setattr(learner.nbformat, "write", broken)
    with pytest.raises(OSError, match="disk full"):
        write_learner_notebook(FIXTURE / "02-second.md", target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]


# --- every learner notebook runs, as a learner runs it -----------------------------------------


def test_learner_notebooks_ran_with_the_episodes(
    all_executed_episodes: dict[Path, nbformat.NotebookNode], tmp_path: Path, mirror_base: str,
    mirror_state_dir: Path,
) -> None:  # fmt: skip
    """An episode's run in its tests is also its learner notebook's run: the same code cells in
    the same order, less the hidden checks, which ran apart from the learner's namespace (see
    episode_runs), so none of them can define what a learner's cell needs. An episode that this
    session has not run yet runs here, from an empty folder."""
    for episode in EPISODES:
        nb = all_executed_episodes.get(episode)
        if nb is None:
            (workdir := tmp_path / episode.stem).mkdir()
            nb = run_episode(episode, workdir, mirror_base, mirror_state_dir).nb
        ran = [c for c in _code(nb) if HIDDEN not in c.metadata.get("tags", [])]
        assert [c.source for c in _code(learner_notebook(episode))] == [c.source for c in ran]
        assert all(c.execution_count for c in ran), f"{episode.name}: a cell did not run"
