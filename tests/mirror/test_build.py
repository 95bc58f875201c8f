"""`satlesson mirror build` readies a workshop: the episodes' files ahead of time, in parallel.

The session's mirror serves a state folder the real command has built (the ``mirror_build``
fixture; from empty on a fresh clone): episode 2 run against it renders nothing new. An
interrupted build, in a folder of its own, leaves only whole files and resumes.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rio_cogeo.cogeo import cog_validate

from satlesson.mirror import episode_files
from satlesson.mirror.synthetic import pool, render
from satlesson.mirror.synthetic.advertised import advertised_files

ROOT = Path(__file__).resolve().parents[2]
EPISODE_2 = ROOT / "episodes" / "02-open-remote-imagery.md"
S2 = "S2B_35SNA_20230623_0_L2A"  # items the episodes don't read: nothing is built for them yet
HLS = "HLS.L30.T18TWL.2021087T153254.v2.0"


def _build(state: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "satlesson", "mirror", "build",
                           "--state-dir", str(state), *args],
                          capture_output=True, text=True, timeout=timeout)  # fmt: skip


def _files(state: Path) -> set[Path]:
    """Every file in the asset cache, lock and temp files included."""
    return {p for p in (state / "assets").rglob("*") if p.is_file()}


def test_every_episode_has_its_files_recorded() -> None:
    recorded = set(episode_files.load())
    episodes = {p.stem for p in episode_files.notebook_episodes(ROOT / "episodes")}
    assert recorded == episodes, f"run {episode_files.RECORD_SCRIPT} for the new episodes"


@pytest.mark.quiet_mirror
@pytest.mark.slow
def test_episode_1_renders_nothing_after_a_build(
    mirror_build: subprocess.CompletedProcess[str], mirror_base: str, mirror_state_dir: Path
) -> None:
    assert "asset files: 100%" in mirror_build.stderr  # the progress bar reached the end
    before = {p: p.stat().st_mtime_ns for p in _files(mirror_state_dir)}
    advertised = advertised_files()
    assert len(before) >= len(episode_files.specs(advertised))
    requests_log = mirror_state_dir / "requests.log"
    seen = len(requests_log.read_text().splitlines())
    episode_files.run_episode(EPISODE_2, mirror_base, mirror_state_dir)
    log = requests_log.read_text().splitlines()[seen:]
    assert {p: p.stat().st_mtime_ns for p in _files(mirror_state_dir)} == before
    # ...and the committed list is what the episode really reads.
    recorded = episode_files.load()[EPISODE_2.stem]
    assert episode_files.requested(log, advertised) == recorded


def test_pool_writes_valid_files(tmp_path: Path) -> None:
    specs = {(s.item_id, s.asset_key): s for s in advertised_files().values()}
    chosen = [specs[k] for k in [(S2, "coastal-jp2"), (S2, "wvp"), (S2, "thumbnail"),
                                 (S2, "tileinfo_metadata"), (HLS, "Fmask"), (HLS, "SZA")]]
    assert pool.render_all(chosen, tmp_path, jobs=2) == 6
    paths = {s.asset_key: render.cache_path(s, tmp_path) for s in chosen}
    for key in ("wvp", "Fmask", "SZA"):
        valid, errors, _ = cog_validate(str(paths[key]), quiet=True)
        assert valid, (key, errors)
    # The JPEG 2000 twin was made from its COG, which is cached too, and holds the same values.
    coastal = render.cache_path(specs[(S2, "coastal")], tmp_path)
    with rasterio.open(paths["coastal-jp2"]) as jp2, rasterio.open(coastal) as cog:
        assert jp2.driver == "JP2OpenJPEG" and jp2.crs == cog.crs
        assert jp2.transform == cog.transform and jp2.shape == cog.shape == (1830, 1830)
        assert np.array_equal(jp2.read(1), cog.read(1))
    assert paths["thumbnail"].read_bytes()[:2] == b"\xff\xd8"
    assert not [p for p in tmp_path.rglob(".*") if not p.name.endswith(".lock")]
    assert pool.render_all(chosen, tmp_path, jobs=2) == 0  # all there: nothing to do


def test_each_worker_keeps_to_one_scene_while_it_has_files() -> None:
    """The build's workers each compute a scene's fields once: a worker is handed the files of
    the item it did last until none is left, then the biggest item nobody has, and at the end
    helps with what is left; every file is handed out once, twins after their COGs."""
    specs = [s for s in episode_files.specs(advertised_files())
             if s.item_id.startswith("S2") and s.kind != "truth-json"]  # fmt: skip
    lanes = pool._Lanes(specs)
    handed: dict[int, list] = {0: [], 1: []}
    while (spec := lanes.next(lane := min(handed, key=lambda k: len(handed[k])))) is not None:
        handed[lane].append(spec)
    assert sorted(map(id, handed[0] + handed[1])) == sorted(map(id, specs))
    items = {lane: [s.item_id for s in got] for lane, got in handed.items()}
    for lane, seq in items.items():
        switches = sum(a != b for a, b in zip(seq, seq[1:], strict=False))
        # one switch per item it finished; items split between workers only at the end
        assert switches < len(set(seq)) + 2, (lane, seq)
    assert not set(items[0][:-3]) & set(items[1][:-3])


def test_interrupted_build_keeps_whole_files_and_resumes(tmp_path: Path) -> None:
    built = tmp_path / "state"
    item = [s for s in advertised_files().values() if s.item_id == HLS]
    folder = render.cache_path(item[0], built / "assets").parent
    cmd = [sys.executable, "-m", "satlesson", "mirror", "build", "--item", HLS,
           "--state-dir", str(built)]
    # Its own session, like a terminal's foreground job: Ctrl-C reaches it and its workers.
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while len(list(folder.glob("[!.]*"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGINT)
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    assert "Traceback" not in stderr
    assert re.search(rf"\b[1-9]\d*/{len(item)}\b", stderr)  # the bar moved as files finished
    assert stderr.strip().splitlines()[-1] == (
        "satlesson: build interrupted; every file it finished is kept, so running it again "
        "resumes where it stopped.")
    made = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    assert 2 <= len(made) < len(item), "the interrupt came too late to test anything"
    assert not [p for p in folder.glob(".*") if not p.name.endswith(".lock")]  # no temp files
    for path in made:
        if path.suffix == ".tif":
            assert cog_validate(str(path), quiet=True)[0], path.name

    result = _build(built, "--item", HLS)
    assert result.returncode == 0, result.stderr[-2000:]
    rendered_now = len(item) - len(made)
    assert f"{len(item)} files ready ({rendered_now} rendered now)" in result.stderr
    assert len([p for p in folder.iterdir() if not p.name.startswith(".")]) == len(item)
