"""A lesson page as ``satlesson check`` sees it, read from the MyST parser's tokens.

Front matter, directives with their options (a directive's body is read as MyST again, so
blocks nested in a challenge or a solution are found, with their own line numbers), plain code
fences, headings, targets and the prose lines around them: what a lint report needs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from satlesson.lesson import frontmatter
from satlesson.lesson.myst import is_directive, parser, read_directive

HEADING_ANCHOR_DEPTH = 3  # myst_heading_anchors in _config.yml


@dataclass
class Directive:
    line: int
    name: str
    argument: str
    options: dict[str, Any]
    body: list[tuple[int, str]]  # only for backtick/tilde fences; colon bodies are prose
    fenced: bool  # backtick/tilde (body is not parsed as Markdown by this reader)


@dataclass
class Fence:
    line: int
    info: str
    body: list[tuple[int, str]]


@dataclass
class Page:
    path: Path
    meta: dict[str, Any]
    prose: list[tuple[int, str]] = field(default_factory=list)  # Markdown outside fences
    headings: list[tuple[int, int, str]] = field(default_factory=list)  # (line, level, text)
    targets: set[str] = field(default_factory=set)  # (label)=, :label:, :name:
    anchors: set[str] = field(default_factory=set)  # heading slugs and targets
    directives: list[Directive] = field(default_factory=list)
    fences: list[Fence] = field(default_factory=list)  # plain code fences, not directives

    @property
    def glossary(self) -> set[str]:
        terms: set[str] = set()
        for d in self.directives:
            if d.name == "glossary":
                for _, text in d.body:
                    if text.strip() and not text[0].isspace():
                        terms.add(text.strip().lower())
        return terms


def slug(text: str) -> str:
    """MyST's heading anchor (GitHub style)."""
    text = re.sub(r"\{[\w:-]+\}`([^`<]*?)(?:\s*<[^>]*>)?`", r"\1", text)  # {term}`X <y>` -> X
    text = text.replace("`", "")
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def read_page(path: Path) -> Page:
    text = path.read_text(encoding="utf-8")
    meta, skip = frontmatter.split(text)
    page = Page(path=path, meta=meta)
    lines = text.splitlines()
    _read(page, lines[skip:], first=skip + 1, in_block=False)
    for d in page.directives:
        for key in ("label", "name"):
            if isinstance(d.options.get(key), str):
                page.targets.add(d.options[key])
    page.anchors |= page.targets
    return page


def _read(page: Page, lines: list[str], first: int, in_block: bool) -> None:
    """Read ``lines`` (the first is line ``first`` of the file) into ``page``."""
    not_prose: set[int] = set()  # indexes into ``lines``
    tokens = parser().parse("\n".join(lines))
    for i, token in enumerate(tokens):
        if token.map is None:
            continue
        start, end = token.map
        if is_directive(token):
            parts = read_directive(token)
            body_start = start + 1 + parts.body_offset  # the body's first line, an index
            closed = end - 1 > start and re.fullmatch(r"\s*([`~:])\1{2,}\s*", lines[end - 1])
            body_end = end - 1 if closed else end
            not_prose.update(range(start, end))
            if token.type == "colon_fence":
                page.directives.append(Directive(first + start, parts.name, parts.argument,
                                                 parts.options, [], fenced=False))
                _read(page, lines[body_start:body_end], first + body_start, in_block=True)
            else:
                body = [(first + k, lines[k]) for k in range(body_start, body_end)]
                page.directives.append(Directive(first + start, parts.name, parts.argument,
                                                 parts.options, body, fenced=True))
        elif token.type == "fence":
            closed = end - 1 > start and re.fullmatch(r"\s*([`~])\1{2,}\s*", lines[end - 1])
            body = [(first + k, lines[k]) for k in range(start + 1, end - 1 if closed else end)]
            page.fences.append(Fence(first + start, token.info.strip(), body))
            not_prose.update(range(start, end))
        elif token.type == "myst_target":
            page.targets.add(token.content)
            not_prose.add(start)
        elif token.type == "heading_open" and not in_block:  # a heading in a block: no section
            level = int(token.tag[1:])
            heading = tokens[i + 1].content
            page.headings.append((first + start, level, heading))
            if level <= HEADING_ANCHOR_DEPTH:
                page.anchors.add(slug(heading))
            not_prose.update(range(start, end))
    # Lines inside a nested block were read by the inner call: only the outer call's own.
    page.prose.extend((first + k, line) for k, line in enumerate(lines) if k not in not_prose)
