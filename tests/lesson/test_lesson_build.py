"""Build the tiny fixture book with Jupyter Book and check what the lesson extension makes.

The fixture's cells are pure Python, so no mirror or network is needed: the data source is
what the extension learns from a mirror's index document, served by a small HTTP server. Builds
(about 10 s each): fresh from the live services, unchanged (executes nothing), one cell edited
(executes only that episode), switched to a synthetic mirror (executes both); a fork's copy
built from a recorded snapshot; a build whose mirror does not answer (fails at once).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import nbformat
import pytest
import yaml

import satlesson
from satlesson.lesson import datasource
from satlesson.lesson.sphinxext import PACKAGE, helper_digest, helper_files

FIXTURE = Path(__file__).parent / "lesson_fixtures" / "book"
JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")


@dataclass
class Book:
    root: Path
    html: Path
    log: str
    days: tuple[date, date] = (date.min, date.min)  # UTC dates at the build's start and end

    def page(self, name: str) -> str:
        return (self.html / name).read_text(encoding="utf-8")


def run_build(root: Path, mirror: str | None = None) -> subprocess.CompletedProcess[str]:
    """``jupyter-book build`` as `make site` runs it: under a mirror, or (None) live."""
    env = {k: v for k, v in os.environ.items() if k != "SATLESSON_MIRROR"}
    if mirror:
        env["SATLESSON_MIRROR"] = mirror
    return subprocess.run(
        [str(JUPYTER_BOOK), "build", str(root), "--builder", "html", "-W", "--keep-going"],
        capture_output=True, text=True, check=False, timeout=300, env=env,
    )


def build(root: Path, mirror: str | None = None) -> str:
    done = run_build(root, mirror)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log
    return log


def today() -> date:
    return datetime.now(UTC).date()


def long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


@contextmanager
def mirror_index(snapshot: dict[str, str]) -> Iterator[str]:
    """A server on loopback answering ``GET /`` as the mirror's index does; yields its URL."""
    body = json.dumps({"description": "satlesson offline mirror", "snapshot": snapshot}).encode()

    class Index(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self.send_response(200 if self.path == "/" else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body if self.path == "/" else b"{}")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Index)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def notice(html: str) -> str | None:
    """The data-source notice's text, or None when the page has none."""
    match = re.search(r'<div class="satlesson-data-notice[^"]*"[^>]*>(.*?)</div>', html, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip() if match else None


def executed(log: str) -> list[str]:
    return re.findall(r"(episodes/[\w-]+)\.md: Executing notebook", log)


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Book:
    root = tmp_path_factory.mktemp("lesson") / "book"
    shutil.copytree(FIXTURE, root)
    start = today()
    log = build(root)
    return Book(root, root / "_build" / "html", log, (start, today()))


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
    assert 'href="../learners/reference.html#term-COG"' in html  # {term} resolves to the glossary


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
        ["00:00", "1. First episode", "5", "10"],
        ["00:15", "2. Second episode", "5", "0"],
        ["00:20", "Finish", "", ""],
    ]


def test_keypoints_page_in_order(book: Book) -> None:
    html = book.page("learners/keypoints.html")
    points = re.findall(r"<li><p>(.*?)</p></li>", html)
    assert points == ["First key point.", "Second key point.", "Third key point."]


def test_instructor_notes_collected(book: Book) -> None:
    html = book.page("instructors/instructor-notes.html")
    assert "Fixture general note." in html
    first = html.index("First episode instructor note.")
    assert first < html.index("Second episode instructor note.")
    assert html.index('id="instructor-episodes-01-first"') < first


def test_figures_page_lists_alt_text(book: Book) -> None:
    html = book.page("instructors/figures.html")
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


def test_live_build_says_so_on_every_episode(book: Book) -> None:
    for page in ("episodes/01-first.html", "episodes/02-second.html"):
        text = notice(book.page(page))
        assert text and text.startswith("Live data"), page
        assert "live services" in text
        assert any(long_date(day) in text for day in book.days), text
    # Right under the title, before the episode's own first block.
    html = book.page("episodes/01-first.html")
    assert html.index("</h1>") < html.index("satlesson-data-notice") < html.index(
        "satlesson-questions")
    for page in ("index.html", "learners/setup.html", "learners/keypoints.html",
                 "instructors/figures.html"):
        assert notice(book.page(page)) is None, page


def test_cache_is_keyed_on_data_source_and_package(book: Book) -> None:
    folders = [p.name for p in (book.root / "_build" / ".jupyter_cache").iterdir()]
    assert len(folders) == 1
    day = folders[0].removeprefix("live-")[:10]
    assert date.fromisoformat(day) in book.days
    assert folders[0] == f"live-{day}-{satlesson.__version__}-{helper_digest()}"


def test_cache_key_hashes_what_outputs_depend_on() -> None:
    """Helpers and snapshot content re-execute episodes; the mirror's server code does not."""
    hashed = {p.relative_to(PACKAGE).as_posix() for p in helper_files()}
    for name in ("__init__.py", "search.py", "items.py", "clip.py", "bands.py", "errors.py"):
        assert name in hashed
    for name in ("synthetic/scenes.py", "synthetic/earth_search.py", "synthetic/model.py",
                 "client/routing.py", "client/urls.py"):
        assert f"mirror/{name}" in hashed
    data = {p.relative_to(PACKAGE).as_posix() for p in (PACKAGE / "data").rglob("*")
            if p.is_file()}  # fmt: skip
    assert "data/lesson/rhodes.geojson" in data and data <= hashed
    server = ("server/app.py", "server/service.py", "server/postgres.py",
              "server/database.py", "errors.py")
    for name in [f"mirror/{n}" for n in server] + ["cli.py", "__main__.py"]:
        assert name not in hashed
    assert not any(name.startswith("lesson/") for name in hashed)


def test_rebuilds_execute_only_what_changed(book: Book) -> None:
    """Code or data source: a rebuild re-executes what changed, and only that."""
    assert executed(build(book.root)) == []

    episode = book.root / "episodes" / "02-second.md"
    episode.write_text(episode.read_text().replace("value = 2", "value = 3"))
    log = build(book.root)
    assert executed(log) == ["episodes/02-second"]
    assert ">3\n" in (book.html / "episodes" / "02-second.html").read_text()

    # Now under a mirror serving a synthetic snapshot: no page may keep its live outputs.
    with mirror_index({"kind": "synthetic", "version": "2099.1.7"}) as base:
        log = build(book.root, mirror=base)
    assert executed(log) == ["episodes/01-first", "episodes/02-second"]
    for page in ("episodes/01-first.html", "episodes/02-second.html"):
        text = notice(book.page(page)) or ""
        assert text.startswith("Synthetic data (snapshot 2099.1.7)"), text
        assert "synthetic snapshot 2099.1.7" in text
        assert "shaped like the real services" in text and "imagery is synthetic" in text
        assert "Live data" not in book.page(page)
    folders = {p.name for p in (book.root / "_build" / ".jupyter_cache").iterdir()}
    assert any(f.startswith("synthetic-2099.1.7-") for f in folders)


FORK = "https://github.com/example-org/rhodes-fork"


@pytest.fixture(scope="module")
def fork(tmp_path_factory: pytest.TempPathFactory) -> Book:
    """A copy whose _config.yml names another repository, built from a recorded snapshot."""
    root = tmp_path_factory.mktemp("fork") / "book"
    shutil.copytree(FIXTURE, root)
    config_file = root / "_config.yml"
    config = yaml.safe_load(config_file.read_text())
    assert config["repository"]["url"] != FORK
    config["repository"]["url"] = FORK
    config_file.write_text(yaml.safe_dump(config))
    snapshot = {"kind": "recorded", "version": "2026.10.1", "recorded": "2026-10-03T09:30:00Z"}
    with mirror_index(snapshot) as base:
        log = build(root, mirror=base)
    return Book(root, root / "_build" / "html", log)


def test_recorded_snapshot_says_so_with_its_date(fork: Book) -> None:
    for page in ("episodes/01-first.html", "episodes/02-second.html"):
        text = notice(fork.page(page)) or ""
        assert text.startswith("Recorded data (snapshot 2026.10.1)"), text
        assert "recorded on 3 October 2026" in text
        assert "synthetic" not in text.lower()


def test_repository_url_comes_from_config_everywhere(book: Book, fork: Book) -> None:
    """One line of _config.yml sets the setup page's commands, the repository button and the
    launch buttons."""
    def setup_page(book: Book) -> tuple[str, str]:
        """(prose, code) of the fixture's setup page, tags stripped."""
        html = book.page("learners/setup.html")
        code = re.search(r'<div class="highlight-bash.*?</pre>', html, re.S)
        assert code, "no bash block on the setup page"
        text = re.sub(r"<[^>]+>", "", code.group(0))
        return html, " ".join(text.split())

    prose, code = setup_page(fork)
    assert f"Its source lives at {FORK}." in prose  # a MyST substitution
    assert code == f"git clone {FORK}"  # a code block, filled in by the extension
    episode = fork.page("episodes/01-first.html")
    assert f'href="{FORK}"' in episode  # repository button
    # The launch buttons open the learner notebook on the fork's notebooks branch.
    assert ("mybinder.org/v2/gh/example-org/rhodes-fork/notebooks"
            "?urlpath=lab/tree/episodes/01-first.ipynb") in episode
    assert ("colab.research.google.com/github/example-org/rhodes-fork/blob/notebooks/"
            "episodes/01-first.ipynb") in episode
    for html in fork.html.rglob("*.html"):
        assert "satlesson/satlesson" not in html.read_text(encoding="utf-8"), html
    # The unchanged fixture still shows its own address.
    assert setup_page(book)[1] == "git clone https://github.com/satlesson/satlesson"


def test_build_stops_with_one_sentence_when_the_mirror_is_down(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a loopback port on which nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    root = tmp_path / "book"
    shutil.copytree(FIXTURE, root)
    done = run_build(root, mirror=f"http://127.0.0.1:{port}")
    assert done.returncode != 0
    assert (f"The mirror named by SATLESSON_MIRROR does not answer at http://127.0.0.1:{port}/"
            in done.stdout + done.stderr)
    assert not (root / "_build" / "html" / "episodes").exists()  # nothing half-built


def test_extension_does_not_import_the_mirror() -> None:
    """It learns the data source over HTTP, so a live-only install builds the lesson too."""
    code = ("import sys\n"
            "from satlesson.lesson import datasource, sphinxext\n"
            "sphinxext.cache_key(datasource.detect())\n"
            "print(sorted(m for m in sys.modules if m.startswith('satlesson.mirror')))")
    env = {k: v for k, v in os.environ.items() if k != "SATLESSON_MIRROR"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env=env)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(("snapshot", "message"), [
    ({"kind": "recorded", "version": "2026.10.1"}, "without a valid recording date"),
    ({"kind": "replayed", "version": "1"}, "a snapshot this lesson does not know"),
    ({"kind": "synthetic"}, "a snapshot this lesson does not know"),
])
def test_a_mirror_index_the_notice_cannot_word_is_an_error(snapshot: dict[str, str],
                                                          message: str) -> None:
    with mirror_index(snapshot) as base, pytest.raises(datasource.DataSourceError) as error:
        datasource.ask_mirror(base)
    assert message in str(error.value)
