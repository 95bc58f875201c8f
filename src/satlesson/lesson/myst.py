"""The MyST Markdown parser the lesson tooling reads episodes with, and its directive reader.

One parser for ``satlesson check``, the time estimate and the learner notebooks: myst-parser's
markdown-it configuration with the syntax extensions ``_config.yml`` enables, so every tool
sees the blocks, fences and line numbers the site build sees. myst-parser is imported only
when a page is read: the command line loads these modules for every command, and the mirror's
image has no docs extra.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

# The syntax extensions the lesson's _config.yml enables (colon fences carry every block).
MYST_EXTENSIONS = frozenset({"colon_fence", "deflist", "dollarmath"})

# docutils admonitions: no title argument, the first line is body text. ``hint`` and
# ``caution`` are the lesson's own blocks, which take a title.
ADMONITIONS = {
    "note": "Note", "tip": "Tip", "important": "Important", "warning": "Warning",
    "attention": "Attention", "danger": "Danger", "error": "Error", "seealso": "See also",
}  # fmt: skip


@cache
def parser() -> MarkdownIt:
    from markdown_it.renderer import RendererHTML
    from myst_parser.config.main import MdParserConfig
    from myst_parser.parsers.mdit import create_md_parser

    return create_md_parser(MdParserConfig(enable_extensions=set(MYST_EXTENSIONS)), RendererHTML)


@dataclass
class DirectiveText:
    """A directive's parts as MyST reads them from its fence."""

    name: str
    argument: str  # the title or argument on the opening line ("" if none)
    options: dict[str, Any]
    body: str
    body_offset: int  # lines between the line after the opening fence and the body's first


def is_directive(token: Token) -> bool:
    return token.type == "colon_fence" or (
        token.type == "fence" and token.info.lstrip().startswith("{"))


@cache
def _directive_classes() -> dict[str, type]:
    from docutils.parsers.rst import Directive

    class Titled(Directive):
        """Any directive with an optional one-line title and free-form options (YAML)."""

        option_spec = {"_": str}  # non-empty, so myst-parser looks for an options block
        optional_arguments = 1
        final_argument_whitespace = True
        has_content = True

    class Untitled(Titled):
        optional_arguments = 0

    class Bare(Titled):
        option_spec = {}  # type: ignore[assignment]

    return {"titled": Titled, "untitled": Untitled, "bare": Bare}


def read_directive(token: Token) -> DirectiveText:
    """The parts of a directive token (``is_directive``), options parsed as MyST parses them
    (``:key: value`` lines or a ``---`` YAML block); unreadable options stay in the body."""
    from myst_parser.parsers.directives import MarkupError, parse_directive_text

    name, _, first_line = token.info.strip()[1:].partition("}")
    name, first_line = name.strip(), first_line.strip()
    classes = _directive_classes()
    cls = classes["untitled" if name in ADMONITIONS else "titled"]
    if token.content.lstrip().startswith("::"):
        cls = classes["bare"]  # a nested colon fence first, not an option line
    try:
        parsed = parse_directive_text(cls, first_line, token.content, validate_options=False)
    except MarkupError:
        return DirectiveText(name, first_line, {}, token.content, 0)
    argument = parsed.arguments[0] if parsed.arguments else ""
    return DirectiveText(name, argument, dict(parsed.options), "\n".join(parsed.body),
                         parsed.body_offset)
