"""Record from live, replay offline: episodes 2 and 12 recorded through the recorder, then
replayed (Earth Search and its files; NASA's CMR, its browse image and a protected file).

The running synthetic mirror stands in for the internet (``--upstream``). Cost: one recording
of the two episodes and one replay of them, shared by the module (about 2 minutes on 2 cores,
most of it the executions and the replay's new database cluster).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import jupytext
import nbformat
import numpy as np
import pytest
import rasterio
import requests
from nbclient import NotebookClient
from pystac_client import Client
from rasterio.windows import Window
from shapely.geometry import box, shape

from satlesson.mirror.client.routing import kernel_env
from satlesson.mirror.client.urls import EARTH_SEARCH_API, mirror_url
from satlesson.mirror.recorded.folder import MANIFEST
from satlesson.mirror.recorded.tiff import parse
from satlesson.mirror.server import service
from satlesson.mirror.server.postgres import free_port

ROOT = Path(__file__).resolve().parents[2]
EPISODES = [ROOT / "episodes" / "02-open-remote-imagery.md",
            ROOT / "episodes" / "12-other-catalogs.md"]
RED_BEFORE = ("https://sentinel-cogs.s3.us-west-2.amazonaws.com/sentinel-s2-l2a-cogs/35/S/NA/"
              "2023/7/S2A_35SNA_20230708_0_L2A/B04.tif")
NIR_BEFORE = RED_BEFORE.replace("B04.tif", "B08.tif")  # advertised, never read by the episode

# Run by `satlesson mirror record` as its COMMAND: execute each episode given, in the folder
# given, and write the executed notebooks into another.
EXECUTE = """
import sys, pathlib, jupytext, nbformat
from nbclient import NotebookClient
workdir, out = sys.argv[1], pathlib.Path(sys.argv[2])
for episode in sys.argv[3:]:
    nb = jupytext.read(episode, fmt="myst")
    NotebookClient(nb, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": workdir}}).execute()
    nbformat.write(nb, out / (pathlib.Path(episode).stem + ".ipynb"))
"""


def _texts(nb: nbformat.NotebookNode) -> list[str]:
    """Each code cell's text outputs run together (a stream may come in several pieces)."""
    return ["".join(out.get("text") or out.get("data", {}).get("text/plain", "")
                    for out in cell.get("outputs", []))
            for cell in nb.cells if cell.cell_type == "code"]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory, mirror_base: str,
             mirror_state_dir: Path) -> tuple[Path, list[str]]:
    """The snapshot recorded from the episodes, and their text outputs while recording."""
    tmp = tmp_path_factory.mktemp("record")
    workdir, out, executed = tmp / "work", tmp / "snapshot", tmp / "executed"
    workdir.mkdir()
    executed.mkdir()
    env = {**os.environ, "NETRC": str(mirror_state_dir / "netrc")}
    result = subprocess.run(
        [sys.executable, "-m", "satlesson", "mirror", "record", "--out", str(out),
         "--upstream", mirror_base, "--", sys.executable, "-c", EXECUTE, str(workdir),
         str(executed), *map(str, EPISODES)],
        env=env, capture_output=True, text=True, timeout=1200,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Recorded snapshot" in result.stdout
    texts = [text for episode in EPISODES
             for text in _texts(nbformat.read(executed / f"{episode.stem}.ipynb", as_version=4))]
    # The command saw the real addresses, as online, though everything went through the recorder.
    assert "https://sentinel-cogs.s3.us-west-2.amazonaws.com/" in "".join(texts)
    assert "127.0.0.1" not in "".join(texts)
    return out, texts


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory,
           recorded: tuple[Path, list[str]]) -> Iterator[tuple[str, Path]]:
    """A mirror serving the recorded snapshot (its own state folder); its base and state."""
    state = tmp_path_factory.mktemp("replay-state")
    with service.running(free_port(), state, snapshot=recorded[0]) as base:
        yield base, state


@pytest.fixture(scope="module")
def manifest(recorded: tuple[Path, list[str]]) -> dict:
    return json.loads((recorded[0] / MANIFEST).read_text())


def test_replay_gives_the_episode_the_same_outputs(
    tmp_path: Path, recorded: tuple[Path, list[str]], replay: tuple[str, Path]
) -> None:
    base, state = replay
    replayed = []
    for episode in EPISODES:
        nb = jupytext.reads(episode.read_text(), fmt="myst")
        NotebookClient(nb, timeout=900, kernel_name="python3",
                       resources={"metadata": {"path": str(tmp_path)}}).execute(
            env={**os.environ, **kernel_env(base, state)})
        replayed += _texts(nb)
    assert len(replayed) > 20
    assert replayed == recorded[1]


def test_manifest_says_what_was_recorded(manifest: dict, mirror_base: str) -> None:
    assert manifest["upstream"] == mirror_base.rstrip("/")
    datetime.fromisoformat(manifest["recorded"])
    assert set(manifest["apis"]) == {"earth_search", "cmr_lpcloud"}
    files = manifest["files"]
    assert files[RED_BEFORE]["whole"] is False and files[RED_BEFORE]["tiff"] is True
    thumbnails = [f for url, f in files.items() if url.endswith("thumbnail.jpg")]
    assert thumbnails and all(f["whole"] for f in thumbnails)
    sizes = manifest["sizes"]
    assert sizes["stored_file_bytes"] < sizes["whole_file_bytes"] / 10


def test_index_names_the_recorded_snapshot(replay: tuple[str, Path], manifest: dict) -> None:
    snapshot = requests.get(replay[0] + "/", timeout=30).json()["snapshot"]
    assert snapshot == {"kind": "recorded", "version": manifest["id"],
                        "recorded": manifest["recorded"]}


def test_recorded_bytes_come_back_identical(replay: tuple[str, Path], manifest: dict,
                                            mirror_base: str) -> None:
    """Whole files byte for byte; of a COG, every tile read, at its offset."""
    whole = [url for url, f in manifest["files"].items() if f["whole"]]
    assert whole
    for url in whole:
        assert (requests.get(mirror_url(url, replay[0]), timeout=60).content
                == requests.get(mirror_url(url, mirror_base), timeout=60).content), url
    replayed_url = mirror_url(RED_BEFORE, replay[0])
    head = requests.get(replayed_url, headers={"Range": "bytes=0-65535"}, timeout=60).content
    _, ifds = parse(lambda offset, length: head[offset:offset + length])
    tiles = [(o, n) for ifd in ifds
             for o, n in zip(ifd.offsets.values, ifd.byte_counts.values, strict=True) if n]
    assert 0 < len(tiles) < sum(len(ifd.offsets.values) for ifd in ifds)
    for offset, length in tiles:
        wanted = {"Range": f"bytes={offset}-{offset + length - 1}"}
        assert (requests.get(replayed_url, headers=wanted, timeout=60).content
                == requests.get(mirror_url(RED_BEFORE, mirror_base), headers=wanted,
                                timeout=60).content)


def test_tiles_never_read_come_back_as_nodata(replay: tuple[str, Path], mirror_base: str) -> None:
    with rasterio.open(mirror_url(RED_BEFORE, replay[0])) as src, \
            rasterio.open(mirror_url(RED_BEFORE, mirror_base)) as original:
        corner = Window(5120, 5120, 1024, 1024)  # mid-tile land, far from the episode's box
        assert src.nodata == 0
        assert not src.read(1, window=corner).any()
        assert original.read(1, window=corner).any()
        clip = Window(6092, 8504, 1000, 2000)  # the episode's box
        assert np.array_equal(src.read(1, window=clip), original.read(1, window=clip))


def test_file_never_read_is_a_404_naming_the_snapshot(replay: tuple[str, Path],
                                                       manifest: dict) -> None:
    response = requests.get(mirror_url(NIR_BEFORE, replay[0]), timeout=30)
    assert response.status_code == 404
    assert manifest["id"] in response.json()["description"]


def test_other_searches_over_the_recorded_items(replay: tuple[str, Path],
                                                recorded: tuple[Path, list[str]],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A search nobody made while recording is answered by pgstac from the recorded items."""
    for name, value in kernel_env(*replay).items():  # this test's requests: to the replay
        monkeypatch.setenv(name, value)
    items = json.loads((recorded[0] / "apis" / "earth_search" / "items.json").read_text())
    rhodes = box(27.9, 36.1, 28.0, 36.3)
    expected = sorted(i["id"] for i in items if shape(i["geometry"]).intersects(rhodes)
                      and i["properties"]["datetime"].startswith("2023-08"))
    assert 0 < len(expected) < len(items)
    client = Client.open(EARTH_SEARCH_API)
    found = client.search(collections=["sentinel-2-l2a"], bbox=rhodes.bounds,
                          datetime="2023-08-01/2023-08-31", limit=4)
    assert sorted(i.id for i in found.items()) == expected
    elsewhere = client.search(collections=["sentinel-2-l2a"], bbox=[2.0, 48.0, 3.0, 49.0])
    assert list(elsewhere.items()) == []


def test_a_failed_command_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "snapshot"
    result = subprocess.run(
        [sys.executable, "-m", "satlesson", "mirror", "record", "--out", str(out), "--",
         sys.executable, "-c", "raise SystemExit(3)"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 1
    assert "exited with status 3" in result.stderr and "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_recording_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "snapshot"
    proc = subprocess.Popen(
        [sys.executable, "-m", "satlesson", "mirror", "record", "--out", str(out), "--",
         sys.executable, "-c", "import time; time.sleep(60)"],
        stderr=subprocess.PIPE, text=True,
    )
    assert proc.stderr is not None
    assert "[record] running" in proc.stderr.readline()  # the command is under way
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert err.strip() == f"satlesson: Interrupted: nothing was recorded and {out} is unchanged."
    assert list(tmp_path.iterdir()) == []
