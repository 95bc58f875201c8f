"""Episode 1 (search for imagery) executes against the offline mirror, and its hidden checks
catch wrong solutions.

The episode is a MyST Markdown notebook. Every cell runs, solution cells included; the hidden
``remove-cell`` checks assert what a learner should find (12 scenes, 11 clear ones, ...) with
``satlesson.facts.check``. The mutation tests break one solution at a time and expect that
check to fail, naming the change in the words of ``satlesson drift``.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from episode_runs import (
    EpisodeRun,
    Trial,
    assert_caught,
    assert_gated_challenges,
    assert_myst_notebook,
    assert_nothing_pasted,
    solution_trial,
    stdout,
)
from sharing import ExecutedEpisodes

ROOT = Path(__file__).resolve().parents[2]
EPISODE = ROOT / "episodes" / "01-search-for-imagery.md"

# Wrong solutions, each with what its hidden check must say: (label, old, new, message).
MUTATIONS = [
    # One day instead of the month of August: one scene instead of six.
    ("ch-time-filter", 'datetime="2023-08"', 'datetime="2023-08-27"', "august:"),
    # No cloud filter on the server: the cloudy 3 July scene comes back too.
    ("ch-cloud-filter", '    query=["eo:cloud_cover<1"],\n', "",
     "Drift: 11 clear scenes became 12 (fact 'clear-scenes')"),
    # A stricter filter in Python than on the server: the two ways disagree.
    ("ch-cloud-filter", '"eo:cloud_cover"] < 1]', '"eo:cloud_cover"] < 0.05]', "clear_ids:"),
]
def trials() -> list[Trial]:
    text = EPISODE.read_text()
    return [solution_trial(text, *m[:3]) for m in MUTATIONS]


# --- static checks: the syntax contract, no pasted outputs ---------------------------------------


def test_episode_parses_as_a_myst_notebook() -> None:
    assert_myst_notebook(EPISODE, 15)


def test_every_challenge_has_a_solution_with_hidden_checks() -> None:
    assert_gated_challenges(EPISODE, ["ch-time-filter", "ch-cloud-filter"])


def test_no_pasted_outputs_or_missing_figures() -> None:
    assert_nothing_pasted(EPISODE)


# --- execution --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory, mirror_base: str, mirror_state_dir: Path,
             executed_episodes: ExecutedEpisodes) -> EpisodeRun:  # fmt: skip
    return executed_episodes.run(EPISODE, tmp_path_factory.mktemp("episode01"),
                                 mirror_base, mirror_state_dir, trials())  # fmt: skip


def test_episode_saves_its_search(executed: EpisodeRun, mirror_base: str) -> None:
    saved = json.loads((executed.workdir / "rhodes_sentinel-2.json").read_text())
    assert len(saved["features"]) == 11
    hrefs = [a["href"] for f in saved["features"] for a in f["assets"].values()]
    # A saved search works anywhere: real addresses, none of the mirror's.
    assert hrefs and all(h.startswith("https://") for h in hrefs)
    assert urlsplit(mirror_base).netloc not in json.dumps(saved)


def test_outputs_show_the_real_service(executed: EpisodeRun, mirror_base: str) -> None:
    """Run under the mirror, the page prints what it prints online: the real service's title
    and collections, never the mirror's address."""
    out = stdout(executed.nb)
    assert "Earth Search by Element 84" in out and "sentinel-2-l2a" in out
    assert "127.0.0.1" not in out and f":{urlsplit(mirror_base).port}/" not in out


@pytest.mark.parametrize(("label", "old", "new", "message"), MUTATIONS)
def test_hidden_check_catches_a_wrong_solution(
    executed: EpisodeRun, label: str, old: str, new: str, message: str
) -> None:
    assert_caught(executed.trials[f"{label}: {old!r} -> {new!r}"], message)
