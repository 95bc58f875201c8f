"""The mirror's container image, checked from outside as a room uses it.

Run by ``make test-container`` (scripts/test-container.sh), which builds the image, starts it
and names it in ``SATLESSON_CONTAINER_URL``; not collected by ``make test`` (its file name does
not start with ``test_``). A learner's side only: the kernel ``satlesson kernel install
--mirror URL`` registers, the seed's calls and episode 2's learner notebook in it, and the same
answers as ``satlesson mirror serve`` on this machine.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from jupyter_client.manager import KernelManager

from satlesson.lesson.learner import write_learner_notebook
from satlesson.mirror.client.kernel import KERNEL_NAME
from satlesson.mirror.server.postgres import free_port

ROOT = Path(__file__).resolve().parents[2]
EPISODE_2 = ROOT / "episodes" / "02-open-remote-imagery.md"
CELL_TIMEOUT = 900

SEED_IDS = [
    "S2A_35SNA_20230827_0_L2A", "S2B_35SNA_20230822_0_L2A", "S2A_35SNA_20230817_0_L2A",
    "S2B_35SNA_20230812_0_L2A", "S2A_35SNA_20230807_0_L2A", "S2B_35SNA_20230802_0_L2A",
    "S2A_35SNA_20230728_0_L2A", "S2B_35SNA_20230723_0_L2A", "S2A_35SNA_20230718_0_L2A",
    "S2B_35SNA_20230713_0_L2A", "S2A_35SNA_20230708_0_L2A", "S2B_35SNA_20230703_0_L2A",
]
SEED_COLLECTIONS = [
    "cop-dem-glo-30", "naip", "sentinel-2-l2a", "sentinel-2-l1c", "cop-dem-glo-90",
    "landsat-c2-l2", "sentinel-1-grd", "sentinel-2-c1-l2a",
]
# The seed's calls, as a learner types them in the kernel: the real service's address.
SEED_CODE = """
import json
from pystac_client import Client
from shapely.geometry import Point
client = Client.open("https://earth-search.aws.element84.com/v1")
collections = [c.id for c in client.get_collections()]
search = client.search(collections=["sentinel-2-l2a"], intersects=Point(27.95, 36.20),
                       datetime="2023-07-01/2023-08-31")
items = search.item_collection()
import rasterio
with rasterio.open(items[0].assets["red"].href) as red:  # GDAL, through the image's proxy
    width = red.width
print("RESULT " + json.dumps({"collections": collections, "matched": search.matched(),
                              "ids": [i.id for i in items],
                              "red": items[0].assets["red"].href, "width": width}))
"""
SEARCH = {"collections": ["sentinel-2-l2a"], "intersects": {"type": "Point",
          "coordinates": [27.95, 36.20]}, "datetime": "2023-07-01T00:00:00Z/2023-08-31T23:59:59Z",
          "limit": 100}
RED = "sentinel-cogs.s3.us-west-2.amazonaws.com/sentinel-s2-l2a-cogs/35/S/NA/2023/8/" \
      "S2A_35SNA_20230827_0_L2A/B04.tif"


@pytest.fixture(scope="module")
def container() -> str:
    base = os.environ.get("SATLESSON_CONTAINER_URL")
    if not base:
        pytest.fail("SATLESSON_CONTAINER_URL is not set: run `make test-container`.")
    return base.rstrip("/")


@pytest.fixture(scope="module")
def kernel(container: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The learner's one command, into a private Jupyter folder: yields that folder."""
    folder = tmp_path_factory.mktemp("jupyter")
    env = {**os.environ, "JUPYTER_DATA_DIR": str(folder)}
    done = subprocess.run([sys.executable, "-m", "satlesson", "kernel", "install", "--mirror",
                           container], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stderr, done.stderr  # the container answered
    assert f"satlesson mirror at {container}" in done.stdout
    old = os.environ.get("JUPYTER_DATA_DIR")
    os.environ["JUPYTER_DATA_DIR"] = str(folder)
    try:
        yield folder
    finally:
        if old is None:
            del os.environ["JUPYTER_DATA_DIR"]
        else:
            os.environ["JUPYTER_DATA_DIR"] = old


@pytest.fixture(scope="module")
def host_mirror(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``satlesson mirror serve`` on this machine, on a free port, with its own state folder."""
    state = Path(os.environ.get("SATLESSON_MIRROR_DIR")
                 or tmp_path_factory.mktemp("host-mirror"))  # the script names a kept one
    state.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = tmp_path_factory.mktemp("host") / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "satlesson", "mirror", "serve", "--port",
                                 str(port), "--state-dir", str(state)],
                                stdout=out, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 600
        while "satlesson kernel install" not in log.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.5)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(60)


def run_in_kernel(code: str, timeout: float = 300) -> str:
    km = KernelManager(kernel_name=KERNEL_NAME)
    km.start_kernel()
    try:
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=120)
        out: list[str] = []

        def hook(msg: dict) -> None:
            if msg["msg_type"] == "stream":
                out.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                out.append("\n".join(msg["content"]["traceback"]))

        reply = kc.execute_interactive(code, timeout=timeout, output_hook=hook)
        kc.stop_channels()
        assert reply["content"]["status"] == "ok", "".join(out)
        return "".join(out)
    finally:
        km.shutdown_kernel(now=True)


def test_the_seeds_calls_in_the_learners_kernel(container: str, kernel: Path) -> None:
    result = json.loads(run_in_kernel(SEED_CODE).split("RESULT ", 1)[1])
    assert result["collections"] == SEED_COLLECTIONS
    assert result["matched"] == 12
    assert result["ids"] == SEED_IDS
    assert result["red"] == f"https://{RED}"  # the real address, answered by the image
    assert result["width"] == 10980


def test_episode_1_learner_notebook_runs_in_the_learners_kernel(kernel: Path,
                                                                tmp_path: Path) -> None:
    folder = tmp_path / "learner"
    write_learner_notebook(EPISODE_2, folder / f"{EPISODE_2.stem}.ipynb")
    command = [sys.executable, "-m", "pytest", "--nbmake", f"--nbmake-kernel={KERNEL_NAME}",
               f"--nbmake-timeout={CELL_TIMEOUT}", "-p", "no:cacheprovider", "-q",
               "--rootdir", str(folder), str(folder)]
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=3600,
                          env={**os.environ, "JUPYTER_DATA_DIR": str(kernel)})
    report = done.stdout[-6000:] + done.stderr[-2000:]
    assert done.returncode == 0, report
    assert re.search(r"\b1 passed\b", done.stdout), report


def _search(base: str) -> dict:
    answer = requests.post(f"{base}/earth-search.aws.element84.com/v1/search", json=SEARCH,
                           timeout=120)
    answer.raise_for_status()
    return json.loads(answer.text.replace(base, "BASE"))


def test_same_search_as_the_host_mirror(container: str, host_mirror: str) -> None:
    inside, outside = _search(container), _search(host_mirror)
    assert [f["id"] for f in inside["features"]] == SEED_IDS
    assert inside == outside


@pytest.mark.parametrize("span", ["0-16383", "1000000-1065535"])
def test_same_bytes_as_the_host_mirror(container: str, host_mirror: str, span: str) -> None:
    answers = [requests.get(f"{base}/{RED}", headers={"Range": f"bytes={span}"}, timeout=600)
               for base in (container, host_mirror)]
    for answer in answers:
        assert answer.status_code == 206, answer.text[:200]
    inside, outside = answers
    assert inside.headers["Content-Range"] == outside.headers["Content-Range"]
    assert len(inside.content) == int(span.split("-")[1]) - int(span.split("-")[0]) + 1
    assert inside.content == outside.content
