"""Episode 12 (NASA's catalog) runs on its own from an empty folder against the mirror: the same
search code against the CMR and its protected files; its hidden checks catch wrong solutions,
and its netrc cell goes on without a login."""

from __future__ import annotations

from pathlib import Path

import pytest
from episode_runs import (
    EpisodeRun,
    Trial,
    assert_caught,
    assert_gated_challenges,
    assert_myst_notebook,
    assert_nothing_pasted,
    figures,
    replaced,
    solution_trial,
    stdout,
)
from sharing import ExecutedEpisodes

ROOT = Path(__file__).resolve().parents[2]
EPISODE = ROOT / "episodes" / "12-other-catalogs.md"

# Wrong solutions, each with what its hidden check must say: (label, old, new, message).
MUTATIONS = [
    # February only: three of the five HLS items.
    ("ch-hls", '"2021-02-01/2021-03-30"', '"2021-02-01/2021-02-28"',
     "Drift: 5 HLS items became 3 (fact 'hls-items')"),
    # Sorted the wrong way round: the cloudiest usable item first.
    ("ch-hls", "sorted(hls_items, key=cloud_cover)",
     "sorted(hls_items, key=cloud_cover, reverse=True)", "usable: not clearest first"),
]
NETRC_CELL = "```{code-cell} python\nimport netrc\n"


def no_netrc(text: str) -> Trial:
    """No netrc file at all, as on a fresh laptop (the mirror's kernel names its demo one), from
    the netrc cell to its hidden check; the kernel's NETRC is put back afterwards."""
    text = replaced(text, NETRC_CELL, "```{code-cell} python\n_netrc = os.environ['NETRC']\n"
                    "os.environ['NETRC'] = 'none'\n```\n\n" + NETRC_CELL)
    text = replaced(text, ":::{callout} Reading protected COGs", "```{code-cell} python\n"
                    "os.environ['NETRC'] = _netrc\n```\n\n:::{callout} Reading protected COGs")
    return Trial("no netrc", text, until=":::{callout} Reading protected COGs")


def trials() -> list[Trial]:
    text = EPISODE.read_text()
    return [solution_trial(text, *m[:3]) for m in MUTATIONS] + [no_netrc(text)]


# --- static checks: the syntax contract, no pasted outputs ---------------------------------------


def test_episode_parses_as_a_myst_notebook() -> None:
    assert_myst_notebook(EPISODE, 5)


def test_every_challenge_has_a_solution_with_hidden_checks() -> None:
    assert_gated_challenges(EPISODE, ["ch-hls"])


def test_no_pasted_outputs_or_missing_figures() -> None:
    assert_nothing_pasted(EPISODE)


# --- execution --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory, mirror_base: str, mirror_state_dir: Path,
             executed_episodes: ExecutedEpisodes) -> EpisodeRun:  # fmt: skip
    return executed_episodes.run(EPISODE, tmp_path_factory.mktemp("episode12"),
                                 mirror_base, mirror_state_dir, trials())  # fmt: skip


def test_runs_from_an_empty_folder_and_writes_nothing(executed: EpisodeRun) -> None:
    assert list(executed.workdir.iterdir()) == []
    assert "HLS.L30.T18TWL.2021039T153324.v2.0" in stdout(executed.nb)


def test_the_browse_image_is_an_image_with_alt_text(executed: EpisodeRun) -> None:
    image_cells = figures(executed.nb, ("image/jpeg", "image/png"))
    assert len(image_cells) == 1  # the HLS browse image
    assert len(image_cells[0].metadata["mystnb"]["image"]["alt"]) > 20


def test_protected_asset_needs_credentials(executed: EpisodeRun) -> None:
    out = stdout(executed.nb)
    assert "401 Unauthorized" in out
    assert "200 OK" in out


# --- mutation tests: a wrong solution must trip the hidden check --------------------------------


@pytest.mark.parametrize(("label", "old", "new", "message"), MUTATIONS)
def test_hidden_check_catches_a_wrong_solution(
    executed: EpisodeRun, label: str, old: str, new: str, message: str
) -> None:
    assert_caught(executed.trials[f"{label}: {old!r} -> {new!r}"], message)


def test_netrc_cell_skips_without_an_earthdata_login(executed: EpisodeRun) -> None:
    """A learner with no Earthdata account runs every cell: the netrc cell says so and goes on."""
    outcome = executed.trials["no netrc"]
    assert outcome.error is None, outcome.error
    out = stdout(outcome.cells)
    assert "No Earthdata login in a netrc file: skipping the download that needs one." in out
    assert "200 OK" not in out
