"""`satlesson check`: each rule fires on its own bad fixture, at the right line, and the good
fixture lesson passes. Fast: no Sphinx build."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from satlesson import cli
from satlesson.lesson import check

FIXTURES = Path(__file__).parent / "lesson_fixtures" / "check"

# (fixture under bad/, line, what the message says)
CASES = [
    ("episodes/no-keypoints.md", 1, "episode has no keypoints block"),
    ("episodes/no-timings.md", 1, "needs 'exercises' in whole minutes"),
    ("episodes/wrong-times.md", 1, "'teaching: 60' but the episode's content takes about 1 minute"),
    ("challenge-no-solution.md", 3, "challenge 'ch-alone' has no solution"),
    ("challenge-no-label.md", 5, "challenge has no :label:"),
    ("image-no-alt.md", 3, "has no alt text"),
    ("figure-no-alt.md", 3, "figure has no :alt: text"),
    ("code-cell-no-alt.md", 3, "mystnb image metadata has no alt text"),
    ("code-cell-short-no-alt.md", 3, "mystnb image metadata has no alt text"),
    ("plot-no-alt.md", 5, "code cell shows an image but has no mystnb image alt text"),
    ("broken-link.md", 3, "link target 'missing.md' does not exist"),
    ("broken-anchor.md", 3, "anchor '#nowhere' matches no heading"),
    ("broken-ref.md", 3, "{ref} target 'nowhere-label' is not defined"),
    ("unknown-term.md", 3, "term 'banana' is not in the glossary"),
    ("vague-link.md", 3, "link text 'click here' says nothing"),
    ("plain-http.md", 3, "plain-http link 'http://example.org/page'"),
    ("heading-skip.md", 5, "heading level 3 skips level 2"),
    ("unknown-block.md", 3, "unknown block type 'challange'"),
    ("output-fence.md", 3, "pasted output"),
    ("repl-fence.md", 5, "pasted output"),
]


@pytest.fixture
def in_fixtures(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(FIXTURES)
    return FIXTURES


@pytest.mark.parametrize(("name", "line", "message"), CASES, ids=[c[0] for c in CASES])
def test_rule_fires_at_line(
    in_fixtures: Path, capsys: pytest.CaptureFixture[str], name: str, line: int, message: str
) -> None:
    path = f"bad/{name}"
    assert check.main([path]) == 1
    reported = capsys.readouterr().out.splitlines()
    assert len(reported) == 1, reported
    assert reported[0].startswith(f"{path}:{line}: "), reported
    assert message in reported[0]


def test_every_bad_fixture_is_covered() -> None:
    fixtures = {p.relative_to(FIXTURES / "bad").as_posix() for p in FIXTURES.glob("bad/**/*.md")}
    assert fixtures == {c[0] for c in CASES}


def test_good_lesson_is_quiet(in_fixtures: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check.main([]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == ["satlesson check: 3 file(s) checked, no problems"]


def test_good_fixture_book_is_quiet() -> None:
    problems, count = check.check([], root=FIXTURES.parent / "book")
    assert problems == [] and count >= 7


def test_missing_path_is_a_usage_error(in_fixtures: Path) -> None:
    assert check.main(["no-such-file.md"]) == 2


def test_cli_subcommand(in_fixtures: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["check", "bad/vague-link.md"]) == 1
    assert capsys.readouterr().out.startswith("bad/vague-link.md:3: ")


def test_module_entry_point(in_fixtures: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "satlesson.lesson.check", "bad/heading-skip.md"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert done.stdout.startswith("bad/heading-skip.md:5: heading level 3 skips level 2")


VAGUE = "# Page\n\nSee [click here](https://example.org).\n"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A lesson repository: pages, plus Markdown that is not the lesson's, each with a problem."""
    files = {
        "_config.yml": "title: T\nexclude_patterns:\n  - tests/**\n  - notes.md\n",
        "index.md": "# Home\n",
        "extra/page.md": "# Extra\n",
        "README.md": VAGUE,
        "notes.md": VAGUE,
        ".venv/lib/pkg/README.md": VAGUE,
        ".venv/lib/pkg/doc.md": VAGUE,
        "_build/html/_sources/page.md": VAGUE,
        "episodes/.ipynb_checkpoints/01-checkpoint.md": VAGUE,
        "tests/fixtures/bad.md": VAGUE,
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "scene.tif").write_bytes(b"II*\x00\xff\xfe\x00")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_folder_holds_only_lesson_pages(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check.main(["."]) == 0
    assert capsys.readouterr().out == "satlesson check: 2 file(s) checked, no problems\n"


def test_default_pages_skip_checkpoints(repo: Path) -> None:
    assert check.check([], root=repo) == ([], 1)  # index.md; extra/ is not an episode folder


def test_excluded_folder_named_is_checked(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check.main(["tests"]) == 1
    assert capsys.readouterr().out.startswith("tests/fixtures/bad.md:3: link text")


def test_excluded_page_named_is_checked(repo: Path) -> None:
    problems, count = check.check([Path("README.md"), Path("notes.md")])
    assert count == 2 and [p.path for p in problems] == ["README.md", "notes.md"]


def test_non_markdown_path_is_a_usage_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check.main(["scene.tif"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "satlesson check: scene.tif: not a Markdown lesson page (.md)\n"


def test_non_markdown_file_is_a_problem_in_the_api(repo: Path) -> None:
    problems, _ = check.check([Path("scene.tif")])
    assert [str(p) for p in problems] == ["scene.tif:1: not a Markdown lesson page (.md)"]


def test_undecodable_page_is_a_problem(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "latin.md").write_bytes("# Page\n\nCaf\xe9 au lait\n".encode("latin-1"))
    assert check.main(["latin.md"]) == 1
    assert capsys.readouterr().out.startswith("latin.md:3: not UTF-8 text (")


def test_undecodable_page_in_the_lesson_is_a_problem(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "episodes" / "01-latin.md").write_bytes(b"# Episode\n\n\xff\n")
    assert check.main([]) == 1
    assert (
        capsys.readouterr().out
        == "episodes/01-latin.md:3: not UTF-8 text (invalid start byte at byte 11)\n"
    )
