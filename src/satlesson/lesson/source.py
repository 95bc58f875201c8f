"""A line-based reading of MyST lesson sources: enough structure for ``satlesson check``.

Not a full MyST parser: it finds front matter, fences (backtick, tilde and colon), directives
with their options, headings, targets and links, each with the line it starts on, which is
what a lint report needs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from satlesson.lesson import frontmatter

HEADING_ANCHOR_DEPTH = 3  # myst_heading_anchors in _config.yml

_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*(.*)$")
_COLON_OPEN = re.compile(r"^\s*(:{3,})\{([^}\s]+)\}\s*(.*)$")
_COLON_CLOSE = re.compile(r"^\s*(:{3,})\s*$")
_DIRECTIVE_INFO = re.compile(r"^\{([^}\s]+)\}\s*(.*)$")
_OPTION = re.compile(r"^\s*:([\w-]+):\s*(.*)$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_TARGET = re.compile(r"^\s*\(([^()\s]+)\)=\s*$")


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
class Source:
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
                    if text.strip() and not text[0].isspace() and not _OPTION.match(text):
                        terms.add(text.strip().lower())
        return terms


def slug(text: str) -> str:
    """MyST's heading anchor (GitHub style)."""
    text = re.sub(r"\{[\w:-]+\}`([^`<]*?)(?:\s*<[^>]*>)?`", r"\1", text)  # {term}`X <y>` -> X
    text = text.replace("`", "")
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def _options(lines: list[tuple[int, str]]) -> tuple[dict[str, Any], int]:
    """Options at the top of a directive body (`:key: value` lines or a `---` YAML block)."""
    if lines and lines[0][1].strip() == "---":
        for i, (_, text) in enumerate(lines[1:], start=1):
            if text.strip() == "---":
                block = "\n".join(t for _, t in lines[1:i])
                try:
                    data = yaml.safe_load(block) or {}
                except yaml.YAMLError:
                    data = {}
                return (data if isinstance(data, dict) else {}), i + 1
        return {}, 0
    # Short form: every option line starts with ":"; without it the block is YAML, which is
    # how MyST reads nested values written as ":mystnb:" then ":  image:" and so on.
    used = 0
    while used < len(lines) and re.match(r"\s*:(?!:)", lines[used][1]):  # "::" opens a fence
        used += 1
    block = "\n".join(t.lstrip()[1:] for _, t in lines[:used])
    try:
        data = yaml.safe_load(block) if used else {}
    except yaml.YAMLError:
        data = None
    if not isinstance(data, dict):  # not YAML after all: read it line by line
        data = {}
        for _, text in lines[:used]:
            match = _OPTION.match(text)
            if match:
                data[match.group(1)] = match.group(2)
    return data, used


def parse(path: Path) -> Source:
    text = path.read_text(encoding="utf-8")
    meta, skip = frontmatter.split(text)
    lines = text.splitlines()
    src = Source(path=path, meta=meta)
    open_colons: list[int] = []  # colon fences we are inside, by length
    i = skip
    while i < len(lines):
        number, line = i + 1, lines[i]
        fence = _FENCE.match(line)
        if fence:
            marker = fence.group(2)
            body: list[tuple[int, str]] = []
            j = i + 1
            close = re.compile(rf"^\s*{re.escape(marker[0])}{{{len(marker)},}}\s*$")
            while j < len(lines) and not close.match(lines[j]):
                body.append((j + 1, lines[j]))
                j += 1
            info = fence.group(3).strip()
            directive = _DIRECTIVE_INFO.match(info)
            if directive:
                options, used = _options(body)
                src.directives.append(
                    Directive(number, directive.group(1), directive.group(2).strip(), options,
                              body[used:], fenced=True)
                )  # fmt: skip
            else:
                src.fences.append(Fence(number, info, body))
            i = j + 1
            continue
        colon = _COLON_OPEN.match(line)
        if colon:
            rest = [(k + 1, lines[k]) for k in range(i + 1, len(lines))]
            options, used = _options(rest)
            src.directives.append(
                Directive(number, colon.group(2), colon.group(3).strip(), options, [], fenced=False)
            )
            open_colons.append(len(colon.group(1)))
            i += 1 + used
            continue
        closing = _COLON_CLOSE.match(line)
        if closing:
            if open_colons and len(closing.group(1)) >= open_colons[-1]:
                open_colons.pop()
            i += 1
            continue
        target = _TARGET.match(line)
        heading = _HEADING.match(line)
        if target:
            src.targets.add(target.group(1))
        elif heading and not open_colons:  # a heading in a block makes no section
            level = len(heading.group(1))
            src.headings.append((number, level, heading.group(2)))
            if level <= HEADING_ANCHOR_DEPTH:
                src.anchors.add(slug(heading.group(2)))
        else:
            src.prose.append((number, line))
        i += 1
    for d in src.directives:
        for key in ("label", "name"):
            if isinstance(d.options.get(key), str):
                src.targets.add(d.options[key])
    src.anchors |= src.targets
    return src
