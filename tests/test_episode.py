"""Episode 1 executes against the offline mirror, and its hidden checks catch wrong solutions.

The episode is a MyST Markdown notebook. Every cell runs, solution cells included; the hidden
``remove-cell`` checks assert what a learner should find (12 scenes, 11 clear ones, 5 HLS items,
...) with ``satlesson.facts.check``. The mutation tests break one solution at a time and expect
that check to fail, naming the change in the words of ``satlesson drift``.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import jupytext
import pytest
from episode_runs import (
    Run,
    assert_check_fails,
    assert_gated_challenges,
    execute,
    figures,
    mutate,
    run_first,
    stdout,
    without,
)

ROOT = Path(__file__).resolve().parents[1]
EPISODE = ROOT / "episodes" / "01-access-satellite-imagery.md"


# --- static checks: the syntax contract, no pasted outputs ---------------------------------------


def test_episode_parses_as_a_myst_notebook() -> None:
    nb = jupytext.read(EPISODE, fmt="myst")
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert len(code) > 30
    # Plain `jupytext --to ipynb` (no --from) must also see the code cells.
    assert len([c for c in jupytext.read(EPISODE).cells if c.cell_type == "code"]) == len(code)


def test_every_challenge_has_a_solution_with_hidden_checks() -> None:
    assert_gated_challenges(EPISODE, ["ch-time-filter", "ch-cloud-filter", "ch-hls"])


def test_no_pasted_outputs_or_missing_figures() -> None:
    text = EPISODE.read_text()
    assert "```output" not in text
    assert "![" not in text, "images must come from executed cells, not from files"
    assert "http://" not in text, "links must use https"


# --- execution --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def executed(
    tmp_path_factory: pytest.TempPathFactory, mirror_base: str, mirror_state_dir: Path
) -> Run:
    return run_first(EPISODE, tmp_path_factory.mktemp("episode01"), mirror_base, mirror_state_dir)


def test_episode_writes_its_files(executed: Run, mirror_base: str) -> None:
    _, workdir = executed
    saved = json.loads((workdir / "rhodes_sentinel-2.json").read_text())
    hrefs = [a["href"] for f in saved["features"] for a in f["assets"].values()]
    # A saved search works anywhere: real addresses, none of the mirror's.
    assert hrefs and all(h.startswith("https://") for h in hrefs)
    assert urlsplit(mirror_base).netloc not in json.dumps(saved)
    subset = workdir / "red_subset.tif"
    assert 0 < subset.stat().st_size < 10_000_000
    assert not (workdir / "red.tif").exists(), "the full band must not be written to disk"


def test_thumbnails_are_images_with_alt_text(executed: Run) -> None:
    nb, _ = executed
    image_cells = figures(nb, ("image/jpeg", "image/png"))
    assert len(image_cells) == 4  # before, after, the clipped band, HLS browse
    for cell in image_cells:
        alt = cell.metadata["mystnb"]["image"]["alt"]
        assert len(alt) > 20


def test_protected_asset_needs_credentials(executed: Run) -> None:
    out = stdout(executed[0])
    assert "401 Unauthorized" in out
    assert "200 OK" in out


def test_outputs_show_the_real_addresses(executed: Run, mirror_base: str) -> None:
    """Run under the mirror, the page prints what it prints online: the real services'
    addresses, never the mirror's."""
    out = stdout(executed[0])
    assert "https://sentinel-cogs.s3.us-west-2.amazonaws.com/" in out
    assert "127.0.0.1" not in out and f":{urlsplit(mirror_base).port}/" not in out


# --- mutation tests: a wrong solution must trip the hidden check --------------------------------


@pytest.mark.parametrize(
    ("label", "old", "new", "message"),
    [
        # One day instead of the month of August: one scene instead of six.
        ("ch-time-filter", 'datetime="2023-08"', 'datetime="2023-08-27"', "august:"),
        # No cloud filter on the server: the cloudy 3 July scene comes back too.
        ("ch-cloud-filter", '    query=["eo:cloud_cover<1"],\n', "",
         "Drift: 11 clear scenes became 12 (fact 'clear-scenes')"),
        # A stricter filter in Python than on the server: the two ways disagree.
        ("ch-cloud-filter", '"eo:cloud_cover"] < 1]', '"eo:cloud_cover"] < 0.05]', "clear_ids:"),
        # February only: three of the five HLS items.
        ("ch-hls", '"2021-02-01/2021-03-30"', '"2021-02-01/2021-02-28"',
         "Drift: 5 HLS items became 3 (fact 'hls-items')"),
        # Sorted the wrong way round: the cloudiest usable item first.
        ("ch-hls", "sorted(hls_items, key=cloud_cover)",
         "sorted(hls_items, key=cloud_cover, reverse=True)", "usable: not clearest first"),
    ],
)
def test_hidden_check_catches_a_wrong_solution(
    tmp_path: Path, mirror_base: str, mirror_state_dir: Path,
    label: str, old: str, new: str, message: str,
) -> None:
    text = mutate(EPISODE.read_text(), label, old, new)
    if label == "ch-hls":
        # Skip the raster reads before the HLS exercise: only its own check matters here.
        text = without(text, "## Open a band remotely", "## Beyond Earth Search")
    assert_check_fails(text, tmp_path, mirror_base, mirror_state_dir, message)


def test_netrc_cell_skips_without_an_earthdata_login(
    tmp_path: Path, mirror_base: str, mirror_state_dir: Path
) -> None:
    """A learner with no Earthdata account runs every cell: the netrc cell says so and goes on."""
    text = without(EPISODE.read_text(), "## Open a band remotely", "## Beyond Earth Search")
    netrc_cell = "```{code-cell} python\nimport netrc\n"
    assert text.count(netrc_cell) == 1
    # No netrc file at all, as on a fresh laptop (the mirror's kernel names its demo one).
    text = text.replace(netrc_cell, "```{code-cell} python\nos.environ['NETRC'] = 'none'\n```\n\n"
                        + netrc_cell)
    out = stdout(execute(text, tmp_path, mirror_base, mirror_state_dir))
    assert "No Earthdata login in a netrc file: skipping the download that needs one." in out
    assert "401 Unauthorized" in out and "200 OK" not in out
