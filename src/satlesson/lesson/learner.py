"""Learner notebooks: an episode's MyST source turned into a plain notebook for Jupyter.

The site renders MyST directives (Carpentries blocks, sphinx-exercise challenges), roles and
hidden build-time checks; Jupyter shows the same source as raw syntax and would run the checks.
This module parses each Markdown cell with the MyST Markdown parser and rewrites what Jupyter
cannot render into plain Markdown (headings, block quotes, ``<details>``), drops what is only
for the build (``remove-cell`` checks, instructor notes, targets, comments) and keeps solutions
collapsed but runnable: their code cells stay code cells, as later cells use their results.
Text the parser does not need to change is copied from the source byte for byte.

``learner_notebook(path)`` needs no Sphinx; ``write_learner_notebook`` writes it atomically.
"""

from __future__ import annotations

import base64
import mimetypes
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import jupytext
import nbformat
from markdown_it.token import Token

from satlesson.atomic import atomic_output
from satlesson.lesson.blocks import BLOCKS
from satlesson.lesson.myst import ADMONITIONS, is_directive, parser, read_directive

# Cell tags that only steer how the site shows a cell: turned into Jupyter's own collapse
# metadata or dropped. Other tags (raises-exception, skip-execution) mean something to Jupyter
# tools and stay.
HIDE_INPUT = frozenset({"remove-input", "hide-input", "hide-cell"})
HIDE_OUTPUT = frozenset({"remove-output", "hide-output", "hide-cell"})
BUILD_TAGS = HIDE_INPUT | HIDE_OUTPUT | {"remove-cell", "remove-stderr", "remove-stdout"}

# Blocks a learner reads as a headed list at the top or bottom of the notebook.
HEADED = frozenset({"questions", "objectives", "keypoints"})
# Blocks that stay closed until clicked, as on the site.
COLLAPSED = frozenset(name for name, block in BLOCKS.items() if block.collapsed) | {"dropdown"}
# Only for the people teaching: not in a learner's notebook.
INSTRUCTOR_ONLY = frozenset({"instructor"})
# Site furniture with nothing to show in a notebook.
DROPPED = frozenset(
    {"toctree", "contents", "include", "literalinclude", "glue", "glue:any", "glue:figure",
     "glue:math", "lesson-schedule", "lesson-keypoints", "lesson-instructor-notes",
     "lesson-figures", "exercise-end", "solution-end", "solution-start"}
)  # fmt: skip
CODE = frozenset({"code", "code-block", "sourcecode", "code-cell"})
EXERCISES = {"challenge": "Challenge", "exercise": "Exercise", "exercise-start": "Exercise"}

SOLUTION_NOTE = (
    "*The solution's code cells are collapsed: run them anyway, later cells use their "
    "results. Click a cell's collapsed input to read it.*"
)


@dataclass
class _Solution:
    """Marks where a gated solution (``solution-start`` … ``solution-end``) begins or ends."""

    label: str | None
    start: bool


@dataclass
class _Converter:
    source_dir: Path
    cells: list[nbformat.NotebookNode] = field(default_factory=list)
    level: int = 1  # of the author's last heading
    challenge_level: int = 2
    in_solution: bool = False
    titles: dict[str, str] = field(default_factory=dict)  # challenge label -> title
    attachments: dict[str, dict[str, str]] = field(default_factory=dict)  # of the next cell
    open_text: bool = False  # the last cell is plain Markdown that more text may join
    reopen: bool = False  # ... once a dropped cell is all that separates them

    # --- cells -------------------------------------------------------------------------------

    def markdown_cell(self, text: str) -> None:
        pieces: list[str] = []
        for item in self._blocks(text):
            if isinstance(item, _Solution):
                self._flush(pieces)
                pieces = []
                self.in_solution = item.start
                if item.start:
                    self._solution_heading(item.label)
            else:
                pieces.append(item)
        self._flush(pieces)
        self.reopen, self.open_text = self.open_text, False  # an author's cell break stays

    def code_cell(self, cell: nbformat.NotebookNode) -> None:
        tags = list(cell.metadata.get("tags", []))
        if "remove-cell" in tags:
            self.open_text = self.reopen  # the text around it may join up again
            return  # a build-time check, or set-up only the site needs
        jupyter: dict[str, bool] = {}
        if self.in_solution or HIDE_INPUT & set(tags):
            jupyter["source_hidden"] = True
        if HIDE_OUTPUT & set(tags):
            jupyter["outputs_hidden"] = True
        metadata: dict[str, Any] = {}
        kept = [tag for tag in tags if tag not in BUILD_TAGS]
        if kept:
            metadata["tags"] = kept
        if jupyter:
            metadata["jupyter"] = jupyter
        self._append(nbformat.v4.new_code_cell(cell.source, metadata=metadata))

    def raw_cell(self, cell: nbformat.NotebookNode) -> None:
        self._append(nbformat.v4.new_raw_cell(cell.source))

    def _append(self, cell: nbformat.NotebookNode, open_text: bool = False) -> None:
        self.cells.append(cell)
        self.open_text, self.reopen = open_text, False

    def _flush(self, pieces: list[str]) -> None:
        text = "\n\n".join(p for p in pieces if p.strip()).strip()
        attachments, self.attachments = self.attachments, {}
        if not text:
            return
        last = self.cells[-1] if self.cells else None
        if (
            not self.in_solution
            and self.open_text
            and last is not None
            and not set(attachments) & set(last.get("attachments", {}))
        ):
            # Only a dropped cell stood between the two: one cell, as the author wrote it.
            last.source += "\n\n" + text
            if attachments:
                last.attachments = {**last.get("attachments", {}), **attachments}
            return
        cell = nbformat.v4.new_markdown_cell(
            _details("Solution", text) if self.in_solution else text
        )
        if attachments:
            cell.attachments = attachments
        self._append(cell, open_text=not self.in_solution)

    def _solution_heading(self, label: str | None) -> None:
        title = self.titles.get(label or "")
        heading = _heading(min(self.challenge_level + 1, 6), _titled("Solution", title))
        self._append(nbformat.v4.new_markdown_cell(f"{heading}\n\n{SOLUTION_NOTE}"))

    # --- Markdown ----------------------------------------------------------------------------

    def _blocks(self, text: str) -> Iterator[str | _Solution]:
        """The converted top-level blocks of ``text``, and the solution markers among them.

        A generator on purpose: images met in a block are attached to the cell that the
        blocks before the next solution marker make.
        """
        lines = text.splitlines()
        for group in _top_level(parser().parse(text)):
            first = group[0]
            if first.type in {"myst_target", "myst_line_comment", "myst_block_break",
                              "front_matter"}:  # fmt: skip
                continue
            if is_directive(first):
                yield from self._directive(first)
                continue
            if first.type == "heading_open":
                self.level = int(first.tag[1:])
            assert first.map is not None  # every top-level block token has one
            source = "\n".join(lines[first.map[0] : first.map[1]]).rstrip()
            inline = [c for t in group if t.type == "inline" for c in t.children or []]
            yield self._inline(source, inline)

    def _markdown(self, text: str) -> str:
        """A directive's body converted; solution markers cannot nest in a block."""
        return "\n\n".join(p for p in self._blocks(text) if isinstance(p, str) and p.strip())

    def _title(self, text: str) -> str:
        """A directive's title, roles and all, as Markdown inline text."""
        tokens = parser().parseInline(text)
        return self._inline(text, tokens[0].children or []) if tokens else text

    def _inline(self, source: str, tokens: Iterable[Token]) -> str:
        """``source`` with the parser's roles rewritten and local images attached.

        The tokens come in source order; each is found in ``source`` after the previous one,
        and code spans are stepped over so that a role written inside one stays literal.
        """
        out: list[str] = []
        pos = 0
        for token in tokens:
            if token.type in {"code_inline", "math_inline", "math_inline_double"}:
                match = _find(_literal_pattern(token), source, pos)
                if match:
                    out.append(source[pos : match.end()])
                    pos = match.end()
            elif token.type == "myst_role":
                match = _find(_role_pattern(token), source, pos)
                if match:
                    out.append(source[pos : match.start()])
                    out.append(_role(token.meta.get("name", ""), token.content))
                    pos = match.end()
            elif token.type == "image":
                src = str(token.attrGet("src") or "")
                name = self._attach(src)
                start = source.find(src, pos) if name else -1
                if name and start >= 0:
                    out.append(source[pos:start] + f"attachment:{name}")
                    pos = start + len(src)
        out.append(source[pos:])
        return "".join(out)

    def _attach(self, src: str) -> str | None:
        """Embed a local image in the cell (the notebook travels alone); its attachment name."""
        parts = urlsplit(src)
        if parts.scheme or parts.netloc or not parts.path:
            return None
        path = (self.source_dir / unquote(parts.path)).resolve()
        mime = mimetypes.guess_type(path.name)[0]
        if not path.is_file() or not mime or not mime.startswith("image/"):
            return None
        data = {mime: _b64(path)}
        name, number = path.name, 1
        while self.attachments.get(name, data) != data:  # another file of the same name
            number += 1
            name = f"{number}-{path.name}"
        self.attachments[name] = data
        return name

    # --- directives --------------------------------------------------------------------------

    def _directive(self, token: Token) -> Iterator[str | _Solution]:
        parts = read_directive(token)
        name, argument, options, body = parts.name, parts.argument, parts.options, parts.body

        if name == "solution-start":
            yield _Solution(argument or None, start=True)
        elif name == "solution-end":
            yield _Solution(None, start=False)
        elif name in DROPPED or name in INSTRUCTOR_ONLY:
            return
        elif name in EXERCISES:
            yield self._exercise(EXERCISES[name], argument, options, body)
        elif name == "solution":
            title = self.titles.get(argument)
            heading = _heading(min(self.challenge_level + 1, 6), _titled("Solution", title))
            yield f"{heading}\n\n{_details('Solution', self._markdown(body))}"
        elif name in HEADED:
            yield f"## {self._title(argument) or BLOCKS[name].title}\n\n{self._markdown(body)}"
        elif name in COLLAPSED:
            default = BLOCKS[name].title if name in BLOCKS else "Details"
            yield _details(self._title(argument) or default, self._markdown(body))
        elif name in BLOCKS:  # callout, discussion, caution, prereq: a labelled quote
            title = _titled(BLOCKS[name].title, self._title(argument))
            yield _quote(f"**{title}**\n\n{self._markdown(body)}")
        elif name in ADMONITIONS:
            yield _quote(f"**{ADMONITIONS[name]}**\n\n{self._markdown(body)}")
        elif name in {"admonition", "sidebar", "margin", "topic"}:
            yield _quote(f"**{self._title(argument) or name.title()}**\n\n{self._markdown(body)}")
        elif name in CODE:
            yield _fence(body, argument.split()[0] if argument else "")
        elif name == "math":
            yield f"$$\n{body.strip()}\n$$"
        elif name in {"figure", "image"}:
            yield self._figure(argument, options, body if name == "figure" else "")
        elif name == "rubric":
            yield f"**{self._title(argument)}**"
        else:  # tab-item, card, list-table, only, ...: their body is what a reader needs
            shown = argument and name not in {"only", "tab-set", "grid"}
            title = f"**{self._title(argument)}**\n\n" if shown else ""
            yield title + self._markdown(body)

    def _exercise(self, kind: str, title: str, options: dict[str, Any], body: str) -> str:
        title = self._title(title)
        label = options.get("label")
        if label:
            self.titles[str(label)] = title
        self.challenge_level = min(self.level + 1, 6)
        return f"{_heading(self.challenge_level, _titled(kind, title))}\n\n{self._markdown(body)}"

    def _figure(self, src: str, options: dict[str, Any], caption: str) -> str:
        alt = str(options.get("alt") or "").replace("\n", " ")
        name = self._attach(src)
        image = f"![{alt}](attachment:{name})" if name else f"![{alt}]({src})"
        caption = self._markdown(caption) if caption.strip() else ""
        return f"{image}\n\n{caption}" if caption else image


# --- pure helpers --------------------------------------------------------------------------------


def _top_level(tokens: list[Token]) -> Iterator[list[Token]]:
    """Group a token stream into its top-level blocks (an open token up to its close)."""
    i = 0
    while i < len(tokens):
        depth, j = 0, i
        while True:
            depth += tokens[j].nesting
            if depth <= 0:
                break
            j += 1
        yield tokens[i : j + 1]
        i = j + 1


def _loose(text: str) -> str:
    """A pattern for ``text`` as it may be wrapped in the source (line breaks, quote marks)."""
    return r"(?:\s|>)+".join(re.escape(word) for word in text.split())


def _literal_pattern(token: Token) -> str:
    mark = re.escape(token.markup or "`")
    return rf"{mark}\s*{_loose(token.content)}\s*{mark}"


def _role_pattern(token: Token) -> str:
    name = re.escape(token.meta.get("name", ""))
    return rf"\{{{name}\}}(`+)\s*{_loose(token.content)}\s*\1"


def _find(pattern: str, source: str, pos: int) -> re.Match[str] | None:
    return re.compile(pattern).search(source, pos)


def _split_target(content: str) -> tuple[str, str]:
    """``text <target>`` -> (text, target); ``target`` alone -> ("", target)."""
    content = " ".join(content.split())
    if content.endswith(">") and " <" in content:
        text, _, target = content[:-1].rpartition(" <")
        return text.strip(), target.strip()
    return "", content


def _role(name: str, content: str) -> str:
    """A MyST role as Jupyter Markdown: the words a reader sees on the page."""
    text, target = _split_target(content)
    short = name.rpartition(":")[2]  # py:func -> func
    if name == "math":
        return f"${content}$"
    if name in {"sub", "sup", "kbd"}:
        return f"<{name}>{content}</{name}>"
    if name in {"guilabel", "menuselection"}:
        return f"**{content}**"
    if name in {"pep", "rfc"}:
        return f"{name.upper()} {content}"
    if name == "eq":
        return f"({content})"
    if name in {"code", "literal", "command", "file", "samp", "envvar", "program", "option"} or (
        short in {"func", "class", "meth", "mod", "attr", "obj", "data", "exc", "const"}
    ):
        shown = text or target.lstrip("!")
        if shown.startswith("~"):
            shown = shown.rpartition(".")[2]
        return _code_span(shown)
    # term, ref, doc, numref, download, abbr and anything else: the words, without the target
    return text or target


def _code_span(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    mark = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{mark}{pad}{text}{pad}{mark}"


def _fence(code: str, language: str) -> str:
    longest = max((len(run) for run in re.findall(r"^\s*(`{3,})", code, re.M)), default=2)
    mark = "`" * (longest + 1)
    return f"{mark}{language}\n{code.rstrip()}\n{mark}"


def _heading(level: int, text: str) -> str:
    return f"{'#' * level} {text}"


def _titled(kind: str, title: str | None) -> str:
    return f"{kind}: {title}" if title else kind


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line.strip() else ">" for line in text.strip().splitlines())


def _details(summary: str, body: str) -> str:
    # Blank lines around the body let Jupyter render it as Markdown, not as raw HTML.
    return f"<details>\n<summary>{summary}</summary>\n\n{body.strip()}\n\n</details>"


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode("ascii")


# --- the notebook --------------------------------------------------------------------------------


def _read(path: Path) -> nbformat.NotebookNode:
    # Say MyST outright: jupytext guesses plain Markdown unless the header names it fully.
    return jupytext.read(path, fmt="md:myst" if path.suffix == ".md" else None)


def learner_notebook(path: str | os.PathLike[str]) -> nbformat.NotebookNode:
    """The notebook a learner downloads for the episode at ``path`` (MyST ``.md`` or ``.ipynb``).

    Markdown in plain Jupyter syntax, no build-time checks, solutions collapsed but runnable,
    no outputs, and only the kernel and language in the metadata.
    """
    path = Path(path)
    source = _read(path)
    converter = _Converter(path.parent.resolve())
    for cell in source.cells:
        if cell.cell_type == "markdown":
            converter.markdown_cell(cell.source)
        elif cell.cell_type == "code":
            converter.code_cell(cell)
        else:
            converter.raw_cell(cell)
    for number, cell in enumerate(converter.cells):
        cell.id = f"cell-{number:03d}"  # stable across builds, unlike nbformat's random ids

    kernel = source.metadata.get("kernelspec", {})
    notebook = nbformat.v4.new_notebook(cells=converter.cells)
    notebook.metadata = nbformat.from_dict({
        "kernelspec": {
            "name": kernel.get("name", "python3"),
            "display_name": kernel.get("display_name", "Python 3"),
            "language": "python",
        },
        "language_info": {
            "name": "python",
            "file_extension": ".py",
            "mimetype": "text/x-python",
            "pygments_lexer": "ipython3",
            "codemirror_mode": {"name": "ipython", "version": 3},
            "nbconvert_exporter": "python",
        },
    })  # fmt: skip
    nbformat.validate(notebook)
    return notebook


def write_notebook(notebook: nbformat.NotebookNode, target: str | os.PathLike[str]) -> None:
    """Write ``notebook`` to ``target`` through a temporary file, so no half-written file
    is ever left where a reader (or a web server) finds it."""
    with atomic_output(target, durable=False) as tmp, open(tmp, "w", encoding="utf-8") as handle:
        nbformat.write(notebook, handle)


def write_learner_notebook(
    source: str | os.PathLike[str], target: str | os.PathLike[str]
) -> nbformat.NotebookNode:
    """Convert the episode at ``source`` and write its learner notebook to ``target``."""
    notebook = learner_notebook(source)
    write_notebook(notebook, target)
    return notebook
