"""Episode 2 (open remote imagery) runs on its own from an empty folder against the mirror:
assets, thumbnails, a remote band clipped, the same with the lesson's helpers; its hidden check
catches wrong solutions."""

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
    figures,
    solution_trial,
    stdout,
)
from sharing import ExecutedEpisodes

ROOT = Path(__file__).resolve().parents[2]
EPISODE = ROOT / "episodes" / "02-open-remote-imagery.md"

# Wrong solutions, each with what its hidden check must say: (label, old, new, message).
MUTATIONS = [
    # The 10 m red band again instead of the 20 m shortwave infrared.
    ("ch-swir-clip", 'clip_asset(reloaded[0], "swir16"', 'clip_asset(reloaded[0], "red"',
     "swir_subset: expected the 20 m pixels of swir16"),
    # A box 500 m taller than the red clip's.
    ("ch-swir-clip", 'bbox=(560900, 3995000, 570900, 4015000))',
     'bbox=(560900, 3995000, 570900, 4015500))', "swir_subset: expected the box of red_helper"),
]


def trials() -> list[Trial]:
    text = EPISODE.read_text()
    return [solution_trial(text, *m[:3]) for m in MUTATIONS]


# --- static checks: the syntax contract, no pasted outputs ---------------------------------------


def test_episode_parses_as_a_myst_notebook() -> None:
    assert_myst_notebook(EPISODE, 20)


def test_every_challenge_has_a_solution_with_hidden_checks() -> None:
    assert_gated_challenges(EPISODE, ["ch-swir-clip"])


def test_no_pasted_outputs_or_missing_figures() -> None:
    assert_nothing_pasted(EPISODE)


# --- execution --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory, mirror_base: str, mirror_state_dir: Path,
             executed_episodes: ExecutedEpisodes) -> EpisodeRun:  # fmt: skip
    return executed_episodes.run(EPISODE, tmp_path_factory.mktemp("episode02"),
                                 mirror_base, mirror_state_dir, trials())  # fmt: skip


def test_episode_writes_its_files(executed: EpisodeRun, mirror_base: str) -> None:
    workdir = executed.workdir
    saved = json.loads((workdir / "rhodes_sentinel-2.json").read_text())
    hrefs = [a["href"] for f in saved["features"] for a in f["assets"].values()]
    # A saved search works anywhere: real addresses, none of the mirror's.
    assert hrefs and all(h.startswith("https://") for h in hrefs)
    assert urlsplit(mirror_base).netloc not in json.dumps(saved)
    subset = workdir / "red_subset.tif"
    assert 0 < subset.stat().st_size < 10_000_000
    assert not (workdir / "red.tif").exists(), "the full band must not be written to disk"


def test_thumbnails_are_images_with_alt_text(executed: EpisodeRun) -> None:
    nb = executed.nb
    image_cells = figures(nb, ("image/jpeg", "image/png"))
    assert len(image_cells) == 3  # before, after, the clipped band
    for cell in image_cells:
        alt = cell.metadata["mystnb"]["image"]["alt"]
        assert len(alt) > 20


def test_outputs_show_the_real_addresses(executed: EpisodeRun, mirror_base: str) -> None:
    """Run under the mirror, the page prints what it prints online: the real services'
    addresses, never the mirror's."""
    out = stdout(executed.nb)
    assert "https://sentinel-cogs.s3.us-west-2.amazonaws.com/" in out
    assert "127.0.0.1" not in out and f":{urlsplit(mirror_base).port}/" not in out


# --- mutation tests: a wrong solution must trip the hidden check --------------------------------


@pytest.mark.parametrize(("label", "old", "new", "message"), MUTATIONS)
def test_hidden_check_catches_a_wrong_solution(
    executed: EpisodeRun, label: str, old: str, new: str, message: str
) -> None:
    assert_caught(executed.trials[f"{label}: {old!r} -> {new!r}"], message)
