"""How long an episode takes to teach, estimated from what it holds.

The rule counts what an instructor does in front of a room: every code cell learners see is
typed live, run and its output read (a figure is looked at and discussed), the prose is said
in the instructor's own words, and every challenge is read, tried and then gone through
together. The rates are round numbers, checked against the original lesson ("Introduction to
Geospatial Raster and Vector Data with Python", episodes 05-12, whose pages are in its own
Workbench format, counted once by a throwaway script): at these rates its eight episodes
come to 410 minutes where they state 450, although single episodes differ by
up to half (its own timings are rough). The instructor notes explain the rule to instructors;
``satlesson check`` compares each episode's front matter with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from satlesson.lesson.blocks import CHALLENGE
from satlesson.lesson.myst import parser

if TYPE_CHECKING:
    from markdown_it.token import Token

MINUTES_PER_CELL = 1.0  # type it, run it, read the output
MINUTES_PER_CODE_LINE = 0.25
MINUTES_PER_FIGURE = 1.0  # a cell that draws: look at it and say what it shows
MINUTES_PER_100_WORDS = 0.5  # prose, said rather than read out
MINUTES_PER_CHALLENGE = 8.0  # read it, try it, go through the solution
MINUTES_PER_SOLUTION_LINE = 0.3
# A stated time may differ from the estimate by this share of it, or by SLACK_MINUTES.
TOLERANCE = 0.2
SLACK_MINUTES = 5

_WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")
_DRAWS = re.compile(r"\.plot\b|\.imshow\(|\bplt\.|\.explore\(")
_HIDDEN = {"remove-cell"}


@dataclass(frozen=True)
class Estimate:
    """The counts an episode's estimate follows, and the minutes they come to."""

    cells: int = 0  # code cells learners see outside challenges
    code_lines: int = 0
    figures: int = 0
    words: int = 0  # of prose outside challenges
    challenges: int = 0
    solution_lines: int = 0

    @property
    def teaching(self) -> int:
        return _whole(self.cells * MINUTES_PER_CELL + self.code_lines * MINUTES_PER_CODE_LINE
                     + self.figures * MINUTES_PER_FIGURE
                     + self.words / 100 * MINUTES_PER_100_WORDS)  # fmt: skip

    @property
    def exercises(self) -> int:
        return _whole(self.challenges * MINUTES_PER_CHALLENGE
                     + self.solution_lines * MINUTES_PER_SOLUTION_LINE)  # fmt: skip


def _whole(minutes: float) -> int:
    return int(minutes + 0.5)  # half a minute rounds up, not to the even number


def within(stated: int, estimated: int) -> bool:
    """Whether a stated time is close enough to its estimate."""
    return abs(stated - estimated) <= max(SLACK_MINUTES, TOLERANCE * estimated)


def estimate(path: Path) -> Estimate:
    """Count an episode (a MyST Markdown notebook) and estimate its minutes."""
    import jupytext  # see _parser

    notebook = jupytext.read(path, fmt="md:myst")
    counts = dict.fromkeys(("cells", "code_lines", "figures", "words", "challenges",
                            "solution_lines"), 0)  # fmt: skip
    in_solution = False
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for token in parser().parse(cell.source):
                in_solution = _count_block(token, in_solution, counts)
        elif cell.cell_type == "code" and not _HIDDEN & set(cell.metadata.get("tags", [])):
            lines = [ln for ln in cell.source.splitlines()
                     if ln.strip() and not ln.lstrip().startswith("#")]  # fmt: skip
            if in_solution:
                counts["solution_lines"] += len(lines)
            else:
                counts["cells"] += 1
                counts["code_lines"] += len(lines)
                counts["figures"] += bool(_DRAWS.search(cell.source))
    return Estimate(**counts)


def _count_block(token: Token, in_solution: bool, counts: dict[str, int]) -> bool:
    """Count one block token's words; return whether a gated solution is open after it."""
    name = token.info.strip().split(" ", 1)[0] if token.type in {"colon_fence", "fence"} else ""
    if name == "{solution-start}":
        return True
    if name == "{solution-end}":
        return False
    if token.type == "fence" and not name.startswith("{"):
        return in_solution  # a plain code block: printed, not said
    text = token.content if token.type in {"colon_fence", "fence", "inline"} else ""
    words = len(_WORD.findall(_without_code(text)))
    if name == f"{{{CHALLENGE}}}":
        counts["challenges"] += 1
    elif not in_solution:
        counts["words"] += words
    return in_solution


def _without_code(text: str) -> str:
    """Markdown without its fenced code blocks and URLs: what is said, not shown."""
    text = re.sub(r"^(`{3,}|~{3,}).*?^\1", "", text, flags=re.S | re.M)
    return re.sub(r"\(?https?://\S+", "", text)
