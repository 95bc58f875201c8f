"""The lesson's block types: one table that the Sphinx extension and ``satlesson check`` share.

Names follow the Carpentries Workbench so that instructors meet the blocks they know.
"""

from __future__ import annotations

from dataclasses import dataclass

# Where the lesson's pages live, relative to the book root (the folder with _config.yml).
EPISODES_DIR = "episodes"  # every page under it is an episode (structure, timings, schedule)
# The folders of the lesson's other pages, by who they are for (as the Carpentries Workbench).
PAGE_DIRS = ("learners", "instructors")
SETUP_DOC = "learners/setup"  # the setup page's docname: first row of the schedule


@dataclass(frozen=True)
class Block:
    name: str
    title: str  # default title bar text; a directive argument replaces it
    collapsed: bool = False  # rendered as a closed dropdown (sphinx-togglebutton)


BLOCKS: dict[str, Block] = {
    b.name: b
    for b in (
        Block("questions", "Questions"),
        Block("objectives", "Objectives"),
        Block("keypoints", "Key points"),
        Block("callout", "Callout"),
        Block("prereq", "Prerequisite"),
        Block("hint", "Hint", collapsed=True),
        Block("discussion", "Discussion"),
        Block("instructor", "Instructor note"),
        Block("spoiler", "Spoiler", collapsed=True),
        Block("caution", "Caution"),
    )
}

# ``challenge`` is sphinx-exercise's exercise under another name, so gated solutions can refer
# to it; it is listed apart because it is not built from ``Block``.
CHALLENGE = "challenge"

# Placeholders on the generated pages, filled from every episode at build time.
COLLECTIONS: dict[str, str] = {
    "lesson-schedule": "schedule",
    "lesson-keypoints": "keypoints",
    "lesson-instructor-notes": "instructor",
    "lesson-figures": "figures",
}

SPHINX_EXERCISE = frozenset(
    {"exercise", "exercise-start", "exercise-end", "solution", "solution-start", "solution-end"}
)

# Builtins an author may use. Anything else is most likely a typo or a Workbench block we do
# not support, which Sphinx would only report as a warning buried in the build log.
BUILTINS = frozenset(
    {
        # MyST / docutils / Sphinx
        "admonition", "note", "tip", "important", "warning", "seealso", "attention", "danger",
        "error", "figure", "image", "math", "code", "code-block", "sourcecode", "literalinclude",
        "include", "glossary", "toctree", "list-table", "csv-table", "table", "eval-rst",
        "epigraph", "sidebar", "margin", "topic", "rubric", "only", "contents", "versionadded",
        "versionchanged", "deprecated",
        # myst-nb
        "code-cell", "glue", "glue:any", "glue:figure", "glue:math",
        # sphinx-design
        "dropdown", "tab-set", "tab-item", "tab-set-code", "card", "grid", "grid-item",
        "grid-item-card", "button-link", "button-ref",
    }
)  # fmt: skip

KNOWN_DIRECTIVES: frozenset[str] = frozenset(
    {*BLOCKS, CHALLENGE, *COLLECTIONS, *SPHINX_EXERCISE, *BUILTINS}
)
