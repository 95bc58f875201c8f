"""Build the tiny fixture book with Jupyter Book and check what the lesson extension makes.

The fixture's cells are pure Python, so no mirror or network is needed. Three builds: fresh,
unchanged (executes nothing), one cell edited (executes only that episode).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

import satlesson
from satlesson.lesson.sphinxext import PACKAGE, cache_key, helper_files, snapshot_version

FIXTURE = Path(__file__).parent / "lesson_fixtures" / "book"
JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")


@dataclass
class Book:
    root: Path
    html: Path
    log: str

    def page(self, name: str) -> str:
        return (self.html / name).read_text(encoding="utf-8")


def build(root: Path) -> str:
    done = subprocess.run(
        [str(JUPYTER_BOOK), "build", str(root), "--builder", "html", "-W", "--keep-going"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0, log
    return log


def executed(log: str) -> list[str]:
    return re.findall(r"(episodes/[\w-]+)\.md: Executing notebook", log)


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Book:
    root = tmp_path_factory.mktemp("lesson") / "book"
    shutil.copytree(FIXTURE, root)
    log = build(root)
    return Book(root, root / "_build" / "html", log)


def _block(html: str, cls: str) -> str:
    match = re.search(rf'<div class="[^"]*\b{cls}\b[^"]*"[^>]*>(.*?)</div>', html, re.S)
    assert match, f"no block with class {cls}"
    return match.group(1)


def test_first_build_executes_both_episodes(book: Book) -> None:
    assert executed(book.log) == ["episodes/01-first", "episodes/02-second"]


@pytest.mark.parametrize(
    "block",
    ["questions", "objectives", "keypoints", "callout", "prereq", "challenge", "hint",
     "discussion", "instructor", "spoiler", "caution"],
)  # fmt: skip
def test_every_block_renders_with_its_class(book: Book, block: str) -> None:
    html = book.page("episodes/01-first.html")
    assert re.search(rf'class="[^"]*\bsatlesson-{block}\b[^"]*\badmonition\b', html)


def test_block_titles(book: Book) -> None:
    html = book.page("episodes/01-first.html")
    assert "Cloud Optimized GeoTIFFs</p>" in _block(html, "satlesson-callout")
    assert "Challenge: Add the numbers" in _block(html, "satlesson-challenge")
    assert re.search(r'class="[^"]*satlesson-hint[^"]*dropdown', html)
    assert 'href="../reference.html#term-COG"' in html  # {term} resolves to the glossary


def test_solution_is_hidden_and_its_code_ran(book: Book) -> None:
    html = book.page("episodes/01-first.html")
    match = re.search(r'<div class="solution dropdown admonition"[^>]*>(.*?)</section>', html, re.S)
    assert match, "solution missing or not a dropdown"
    solution = match.group(1)
    assert 'href="#ch-add"' in solution
    assert 'answer</span> <span class="o">=</span>' in solution  # its code cell
    assert "the answer is 42" in solution  # and that cell's output
    assert "assert" not in solution  # the remove-cell check is hidden


def test_schedule(book: Book) -> None:
    html = book.page("index.html")
    table = re.search(r'<table class="satlesson-schedule.*?</table>', html, re.S)
    assert table
    rows = [
        [
            re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r, re.S)
        ]
        for r in re.findall(r"<tr[^>]*>(.*?)</tr>", table.group(0), re.S)
    ]
    assert rows == [
        ["Start", "Episode", "Teaching (min)", "Exercises (min)"],
        ["00:00", "Setup instructions", "", ""],
        ["00:00", "1. First episode", "30", "15"],
        ["00:45", "2. Second episode", "20", "10"],
        ["01:15", "Finish", "", ""],
    ]


def test_keypoints_page_in_order(book: Book) -> None:
    html = book.page("keypoints.html")
    points = re.findall(r"<li><p>(.*?)</p></li>", html)
    assert points == ["First key point.", "Second key point.", "Third key point."]


def test_instructor_notes_collected(book: Book) -> None:
    html = book.page("instructor-notes.html")
    assert "Fixture general note." in html
    first = html.index("First episode instructor note.")
    assert first < html.index("Second episode instructor note.")
    assert html.index('id="instructor-episodes-01-first"') < first


def test_figures_page_lists_alt_text(book: Book) -> None:
    html = book.page("figures.html")
    assert 'alt="An orange square standing in for a satellite scene"' in html
    assert 'alt="A small generated gradient image"' in html  # from a code cell's output
    assert html.count("<figure") == 2  # one per output, not one per mime type


def test_notebook_download(book: Book) -> None:
    html = book.page("episodes/01-first.html")
    assert 'href="01-first.ipynb"' in html
    notebook = nbformat.read(book.html / "episodes" / "01-first.ipynb", as_version=4)
    nbformat.validate(notebook)
    code = [c.source for c in notebook.cells if c.cell_type == "code"]
    assert "answer = 40 + 2" in "\n".join(code)
    assert len(code) == 3  # the hidden check (a remove-cell cell) is not for learners
    assert ":::" not in "\n".join(c.source for c in notebook.cells)
    assert notebook.metadata.kernelspec.name == "python3"


def test_cache_is_keyed_on_snapshot_and_package(book: Book) -> None:
    folders = [p.name for p in (book.root / "_build" / ".jupyter_cache").iterdir()]
    assert folders == [cache_key()]
    assert folders[0].startswith(f"{snapshot_version()}-{satlesson.__version__}-")


def test_cache_key_hashes_what_outputs_depend_on() -> None:
    """Helpers and snapshot content re-execute episodes; the mirror's server code does not."""
    hashed = {p.relative_to(PACKAGE).as_posix() for p in helper_files()}
    for name in ("__init__.py", "search.py", "items.py", "clip.py", "bands.py", "errors.py"):
        assert name in hashed
    for name in ("synthetic/scenes.py", "synthetic/catalog.py", "synthetic/assets.py",
                 "routing.py", "urls.py"):
        assert f"mirror/{name}" in hashed
    assert {f"data/{p.name}" for p in (PACKAGE / "data").iterdir()} <= hashed
    server = ("server/app.py", "server/service.py", "server/postgres.py",
              "server/database.py", "errors.py")
    for name in [f"mirror/{n}" for n in server] + ["cli.py", "cli_check.py", "__main__.py"]:
        assert name not in hashed
    assert not any(name.startswith("lesson/") for name in hashed)


def test_rebuilds_execute_only_what_changed(book: Book) -> None:
    assert executed(build(book.root)) == []

    episode = book.root / "episodes" / "02-second.md"
    episode.write_text(episode.read_text().replace("value = 2", "value = 3"))
    log = build(book.root)
    assert executed(log) == ["episodes/02-second"]
    assert ">3\n" in (book.html / "episodes" / "02-second.html").read_text()
