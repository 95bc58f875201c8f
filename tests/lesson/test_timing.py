"""The teaching-time estimate counts what an instructor does in front of a room: shown code,
figures, prose and challenges, not the hidden checks. Fast: no build."""

from __future__ import annotations

from pathlib import Path

from satlesson.lesson import timing

HEADER = "---\ntitle: T\nteaching: 5\nexercises: 5\n---\n# T\n\n"
CELL = "```{code-cell} python\nx = 1\ny = 2\n```\n\n"
HIDDEN = "```{code-cell} python\n:tags: [remove-cell]\nassert x == 1\nassert y == 2\n```\n\n"
PLOT = "```{code-cell} python\nimport matplotlib.pyplot as plt\nplt.plot([1, 2])\n```\n\n"
CHALLENGE = """::::{challenge} Try it
:label: ch-try

Add one to x and print the result, then explain what you saw to your neighbour.
::::

:::{solution-start} ch-try
:::

```{code-cell} python
x += 1
print(x)
```

:::{solution-end}
:::

"""


def _estimate(tmp_path: Path, body: str) -> timing.Estimate:
    path = tmp_path / "episode.md"
    path.write_text(HEADER + body)
    return timing.estimate(path)


def test_shown_cells_count_and_hidden_checks_do_not(tmp_path: Path) -> None:
    shown = _estimate(tmp_path, CELL)
    assert (shown.cells, shown.code_lines) == (1, 2)
    assert _estimate(tmp_path, CELL + HIDDEN) == shown


def test_a_figure_costs_more_than_a_cell_of_the_same_length(tmp_path: Path) -> None:
    plain, plot = _estimate(tmp_path, CELL), _estimate(tmp_path, PLOT)
    assert plot.figures == 1 and plain.figures == 0
    assert plot.teaching - plain.teaching == timing.MINUTES_PER_FIGURE


def test_a_challenge_is_exercise_time_and_its_solution_is_not_teaching(tmp_path: Path) -> None:
    alone = _estimate(tmp_path, CELL)
    with_challenge = _estimate(tmp_path, CELL + CHALLENGE)
    assert with_challenge.challenges == 1 and with_challenge.solution_lines == 2
    assert (with_challenge.cells, with_challenge.words) == (alone.cells, alone.words)
    minutes = timing.MINUTES_PER_CHALLENGE + 2 * timing.MINUTES_PER_SOLUTION_LINE
    assert with_challenge.exercises == int(minutes + 0.5)


def test_prose_counts_and_code_in_it_does_not(tmp_path: Path) -> None:
    words = "word " * 400 + "\n\n"
    printed = "```text\n" + "output " * 400 + "\n```\n\n"
    assert _estimate(tmp_path, words).words == 400
    assert _estimate(tmp_path, words + printed).words == 400
    assert _estimate(tmp_path, words).teaching == 4 * timing.MINUTES_PER_100_WORDS


def test_tolerance() -> None:
    assert timing.within(60, 60) and timing.within(50, 60) and timing.within(72, 60)
    assert not timing.within(45, 60) and not timing.within(75, 60)
    assert timing.within(8, 3) and not timing.within(9, 3)  # small episodes: five minutes' slack

