"""``satlesson check``: lint lesson sources and report each problem as ``file:line: message``.

Catches before a build (and before learners do) what the Workbench's own checks would: missing
episode structure, challenges without solutions, images without alt text, broken internal
links and glossary terms, unhelpful link text, plain-http links, skipped heading levels,
unknown blocks and output pasted by hand.

Run as ``satlesson check [PATHS]`` or ``python -m satlesson.lesson.check [PATHS]``.
"""

from __future__ import annotations

import argparse
import fnmatch
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from satlesson.lesson import frontmatter, timing
from satlesson.lesson.blocks import EPISODES_DIR, KNOWN_DIRECTIVES, PAGE_DIRS
from satlesson.lesson.page import Directive, Page, read_page

REQUIRED_BLOCKS = ("questions", "objectives", "keypoints")
TIMINGS = ("teaching", "exercises")
VAGUE_LINK_TEXT = {"here", "this link", "link", "click here", "this", "more", "read more"}
LOCAL_HOSTS = {"localhost", "127.0.0.1", "0.0.0.0", "[::1]"}
NOT_LESSON_PAGES = {"README.md"}  # in any folder: repository notes, not pages (see _config.yml)
SKIPPED_FOLDERS = {"_build"}  # and every dot-folder (.venv, .git, .ipynb_checkpoints...)

NOT_MARKDOWN = "not a Markdown lesson page (.md)"

_ROLE = re.compile(r"\{([\w:-]+)\}`([^`]+)`")
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
_LINK = re.compile(r"(!?)\[([^\]]*)\]\(\s*<?([^)\s>]*)>?(?:\s+[\"'][^)]*[\"'])?\s*\)")
_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
_BARE_HTTP = re.compile(r"http://[^\s)>\]\"']+")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_SHOWS_IMAGE = re.compile(
    r"\.imshow\(|plt\.show\(|\.plot\(|\.plot\.\w+\(|IPython\.display\.Image|\bImage\("
)
_REPL = re.compile(r"^\s*(>>>\s|In \[\d*\]:|Out\[\d*\]:)")
_OUTPUT_START = re.compile(r"^\s*(Traceback \(most recent call last\)|<[\w.]+[\s>:]|array\()")
_OUTPUT_FENCE_LANGS = {"", "python", "py", "python3", "pycon", "ipython", "text", "none"}
_HIDDEN_OUTPUT_TAGS = {"remove-output", "remove-cell"}


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class Lesson:
    """Every lesson page, parsed once: cross-file targets (labels, glossary) live here."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._sources: dict[Path, Page] = {}
        self.unreadable: dict[Path, tuple[int, str]] = {}  # resolved path: (line, why)
        self.labels: set[str] = set()
        self.glossary: set[str] = set()
        for path in lesson_pages(self.root):
            src = self.source(path)
            self.labels |= src.targets
            self.glossary |= src.glossary

    def source(self, path: Path) -> Page:
        """The parsed page; an empty one if it cannot be read (see ``unreadable``)."""
        key = path.resolve()
        if key not in self._sources:
            try:
                self._sources[key] = read_page(path)
            except UnicodeDecodeError as error:
                line = error.object.count(b"\n", 0, error.start) + 1
                why = f"not UTF-8 text ({error.reason} at byte {error.start})"
                self.unreadable[key] = (line, why)
                self._sources[key] = Page(path=path, meta={})
            except OSError as error:
                self.unreadable[key] = (1, f"cannot read: {error.strerror}")
                self._sources[key] = Page(path=path, meta={})
        return self._sources[key]

    def is_episode(self, path: Path) -> bool:
        try:
            parts = path.resolve().relative_to(self.root).parts
        except ValueError:
            parts = path.parts
        return EPISODES_DIR in parts[:-1]


def book_excludes(root: Path) -> list[str]:
    """The book's ``exclude_patterns`` (_config.yml), globs on paths relative to its root."""
    try:
        config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []
    patterns = config.get("exclude_patterns") if isinstance(config, dict) else None
    return [str(p) for p in patterns] if isinstance(patterns, list) else []


def _excluded(relative: Path, excludes: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(relative.as_posix(), pattern) for pattern in excludes)


def _markdown_under(folder: Path, root: Path, excludes: Sequence[str]) -> list[Path]:
    """The lesson pages in ``folder``: ``*.md`` files, minus dot-folders, ``_build``, READMEs
    and what the book excludes (unless ``folder`` itself is excluded: then it was asked for)."""
    try:
        place = folder.resolve().relative_to(root)
    except ValueError:
        place = None
    # A folder outside the book, or one the book excludes (anything inside it is), was asked for.
    if place is None or (place != Path(".") and _excluded(place / "x", excludes)):
        excludes = []
    pages = []
    for path in sorted(folder.rglob("*.md")):
        inner = path.relative_to(folder).parts[:-1]
        if (
            not path.is_file()
            or path.name in NOT_LESSON_PAGES
            or any(part.startswith(".") or part in SKIPPED_FOLDERS for part in inner)
            or (place is not None and _excluded(place / path.relative_to(folder), excludes))
        ):
            continue
        pages.append(path)
    return pages


def lesson_pages(root: Path) -> list[Path]:
    """The default set: the episodes, the learners' and instructors' pages and the top-level
    pages."""
    excludes = book_excludes(root)
    top = [
        p
        for p in sorted(root.glob("*.md"))
        if p.is_file() and p.name not in NOT_LESSON_PAGES and not _excluded(Path(p.name), excludes)
    ]
    folders = [root / name for name in (*PAGE_DIRS, EPISODES_DIR)]
    return top + [p for folder in folders for p in _markdown_under(folder, root, excludes)]


def find_root(start: Path) -> Path:
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / "_config.yml").exists():
            return folder
    return start if start.is_dir() else start.parent


# --- rules -----------------------------------------------------------------------------------


def _episode_structure(src: Page, display: str) -> Iterable[Problem]:
    names = {d.name for d in src.directives}
    for block in REQUIRED_BLOCKS:
        if block not in names:
            yield Problem(display, 1, f"episode has no {block} block")
    stated = {key: frontmatter.minutes(src.meta, key) for key in TIMINGS}
    for key, minutes in stated.items():
        if minutes is None:
            yield Problem(display, 1, f"episode front matter needs '{key}' in whole minutes")
    estimate = timing.estimate(src.path)
    for key, minutes in stated.items():
        expected = getattr(estimate, key)
        if minutes is not None and not timing.within(minutes, expected):
            unit = "minute" if expected == 1 else "minutes"
            yield Problem(display, 1, f"'{key}: {minutes}' but the episode's content takes about "
                                      f"{expected} {unit} (see satlesson.lesson.timing)")


def _challenges(src: Page, display: str) -> Iterable[Problem]:
    solved = {d.argument for d in src.directives if d.name in {"solution", "solution-start"}}
    for d in src.directives:
        if d.name != "challenge":
            continue
        label = d.options.get("label")
        if not label:
            yield Problem(display, d.line, "challenge has no :label:, so no solution can follow it")
        elif str(label) not in solved:
            yield Problem(display, d.line, f"challenge '{label}' has no solution")


def _code_cell_alt(d: Directive) -> str | None:
    """Problem with a code cell's image alt text, if any."""
    tags = d.options.get("tags") or []
    if isinstance(tags, list) and _HIDDEN_OUTPUT_TAGS & set(map(str, tags)):
        return None
    mystnb = d.options.get("mystnb")
    settings = mystnb if isinstance(mystnb, dict) else {}
    for key in ("image", "figure"):
        if key in settings:
            value = settings[key]
            if not (isinstance(value, dict) and str(value.get("alt", "")).strip()):
                return f"code cell's mystnb {key} metadata has no alt text"
            return None
    if any(_SHOWS_IMAGE.search(text) for _, text in d.body):
        return "code cell shows an image but has no mystnb image alt text"
    return None


def _alt_text(src: Page, display: str) -> Iterable[Problem]:
    for d in src.directives:
        if d.name in {"figure", "image"} and not str(d.options.get("alt") or "").strip():
            yield Problem(display, d.line, f"{d.name} has no :alt: text")
        elif d.name == "code-cell":
            message = _code_cell_alt(d)
            if message:
                yield Problem(display, d.line, message)
    for number, line in _prose(src):
        for match in _LINK.finditer(line):
            if match.group(1) and not match.group(2).strip():
                yield Problem(display, number, f"image '{match.group(3)}' has no alt text")


def _prose(src: Page) -> Iterable[tuple[int, str]]:
    """Prose lines with roles and code spans blanked out (their content is not Markdown)."""
    for number, line in src.prose:
        yield number, _CODE_SPAN.sub("", _ROLE.sub("", line))


def _is_plain_http(url: str) -> bool:
    if not url.lower().startswith("http://"):
        return False
    host = url[len("http://") :].split("/")[0].split("?")[0].rsplit("@")[-1]
    host = host if host.startswith("[") else host.split(":")[0]
    return host.lower() not in LOCAL_HOSTS


def _vague(text: str) -> bool:
    return re.sub(r"[^\w ]", "", text).strip().lower() in VAGUE_LINK_TEXT


def _resolve_page(lesson: Lesson, src: Page, target: str) -> Path | None:
    base = lesson.root if target.startswith("/") else src.path.parent
    path = (base / target.lstrip("/")).resolve()
    if path.exists():
        return path
    # Pages link to each other's built forms; episode notebooks are written by the build.
    if path.suffix in {".ipynb", ".html"} and path.with_suffix(".md").exists():
        return path.with_suffix(".md")
    return None


def _internal_link(lesson: Lesson, src: Page, target: str) -> str | None:
    path_part, _, anchor = target.partition("#")
    if not path_part:
        if anchor and anchor not in src.anchors:
            return f"anchor '#{anchor}' matches no heading or label in this page"
        return None
    page = _resolve_page(lesson, src, path_part)
    if page is None:
        return f"link target '{path_part}' does not exist"
    if anchor and page.suffix == ".md" and anchor not in lesson.source(page).anchors:
        return f"anchor '#{anchor}' matches no heading or label in '{path_part}'"
    return None


def _links(lesson: Lesson, src: Page, display: str) -> Iterable[Problem]:
    for number, raw in src.prose:
        for role, content in _ROLE.findall(raw):
            text, _, target = content.partition("<")
            explicit = bool(target)
            target = (target.rstrip(">") if explicit else content).strip()
            if role in {"ref", "numref"} and target not in lesson.labels:
                yield Problem(display, number, f"{{{role}}} target '{target}' is not defined")
            elif role == "term" and target.lower() not in lesson.glossary:
                yield Problem(display, number, f"term '{target}' is not in the glossary")
            elif role == "doc" and not any(
                _resolve_page(lesson, src, target + ext) for ext in ("", ".md", ".ipynb")
            ):
                yield Problem(display, number, f"{{doc}} target '{target}' does not exist")
            if role in {"ref", "doc"} and explicit and _vague(text):
                yield Problem(display, number, f"link text '{text.strip()}' says nothing")
    for number, line in _prose(src):
        rest = line
        for match in _LINK.finditer(line):
            is_image, text, target = match.groups()
            rest = rest.replace(match.group(0), "")
            if not is_image and _vague(text):
                yield Problem(display, number, f"link text '{text}' says nothing")
            if _SCHEME.match(target):
                if _is_plain_http(target):
                    yield Problem(display, number, f"plain-http link '{target}': use https")
            elif target:
                message = _internal_link(lesson, src, target)
                if message:
                    yield Problem(display, number, message)
        for url in _AUTOLINK.findall(rest) + _BARE_HTTP.findall(_AUTOLINK.sub("", rest)):
            if _is_plain_http(url):
                yield Problem(display, number, f"plain-http link '{url}': use https")


def _headings(src: Page, display: str) -> Iterable[Problem]:
    previous = 1 if src.meta.get("title") else 0
    for number, level, _ in src.headings:
        if level > previous + 1:
            yield Problem(display, number, f"heading level {level} skips level {previous + 1}")
        previous = level


def _unknown_blocks(src: Page, display: str) -> Iterable[Problem]:
    for d in src.directives:
        if d.name not in KNOWN_DIRECTIVES:
            yield Problem(display, d.line, f"unknown block type '{d.name}'")


def _pasted_output(src: Page, display: str) -> Iterable[Problem]:
    message = "pasted output: outputs come from executing code cells, not by hand"
    for fence in src.fences:
        lang = fence.info.split()[0].lower() if fence.info else ""
        lines = [t for _, t in fence.body if t.strip()]
        if lang == "output":
            yield Problem(display, fence.line, message)
        elif (
            lang in _OUTPUT_FENCE_LANGS
            and lines
            and (any(_REPL.match(t) for t in lines) or _OUTPUT_START.match(lines[0]))
        ):
            yield Problem(display, fence.line, message)


def check_file(lesson: Lesson, path: Path, display: str) -> list[Problem]:
    if path.suffix != ".md":
        return [Problem(display, 1, NOT_MARKDOWN)]
    src = lesson.source(path)
    unreadable = lesson.unreadable.get(path.resolve())
    if unreadable:
        return [Problem(display, *unreadable)]
    problems: list[Problem] = []
    if lesson.is_episode(path):
        problems += _episode_structure(src, display)
    for rule in (_challenges, _alt_text, _headings, _unknown_blocks, _pasted_output):
        problems += rule(src, display)
    problems += _links(lesson, src, display)
    return sorted(set(problems), key=lambda p: (p.line, p.message))


def _expand(paths: Sequence[Path], root: Path) -> list[Path]:
    """Files as given (a non-Markdown one is reported by ``check_file``); folders' lesson pages."""
    excludes = book_excludes(root)
    files: dict[Path, Path] = {}  # by resolved path, so a page named twice is checked once
    for path in paths:
        for file in _markdown_under(path, root, excludes) if path.is_dir() else [path]:
            files.setdefault(file.resolve(), file)
    return list(files.values())


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def check(paths: Sequence[Path] = (), root: Path | None = None) -> tuple[list[Problem], int]:
    """Problems in ``paths`` (default: the lesson's pages) and how many files were read."""
    root = root or find_root(paths[0] if paths else Path.cwd())
    lesson = Lesson(root)
    files = _expand(paths, lesson.root) if paths else lesson_pages(lesson.root)
    problems: list[Problem] = []
    for path in files:
        problems += check_file(lesson, path, _display(path))
    return problems, len(files)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        help="files or folders to check (default: episodes/ and the top-level pages)",
    )


def run(args: argparse.Namespace) -> int:
    for path in args.paths:
        if not path.exists():
            print(f"satlesson check: no such file or folder: {path}", file=sys.stderr)
            return 2
        if not path.is_dir() and path.suffix != ".md":
            print(f"satlesson check: {path}: {NOT_MARKDOWN}", file=sys.stderr)
            return 2
    problems, count = check(args.paths)
    for problem in problems:
        print(problem)
    if problems:
        print(f"satlesson check: {len(problems)} problem(s) in {count} file(s)", file=sys.stderr)
        return 1
    print(f"satlesson check: {count} file(s) checked, no problems")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="satlesson check", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
