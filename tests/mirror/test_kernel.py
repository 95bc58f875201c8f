"""One mirror for the room: `serve --host 0.0.0.0` says where it is, and a learner's
`satlesson kernel install --mirror URL` gives a Jupyter kernel that talks to it: through the
mirror's proxy, at the real addresses, for requests, GDAL and Dask's worker processes alike."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager

from satlesson.mirror.client.kernel import KERNEL_NAME
from satlesson.mirror.client.login import EARTHDATA_LOGIN
from satlesson.mirror.server.addresses import network_addresses
from satlesson.mirror.server.postgres import free_port

CLEAR_IDS = [
    "S2A_35SNA_20230827_0_L2A", "S2B_35SNA_20230822_0_L2A", "S2A_35SNA_20230817_0_L2A",
    "S2B_35SNA_20230812_0_L2A", "S2A_35SNA_20230807_0_L2A", "S2B_35SNA_20230802_0_L2A",
    "S2A_35SNA_20230728_0_L2A", "S2B_35SNA_20230723_0_L2A", "S2A_35SNA_20230718_0_L2A",
    "S2B_35SNA_20230713_0_L2A", "S2A_35SNA_20230708_0_L2A",
]
SERVER_MODULES = {"psycopg", "pypgstac", "stac_fastapi", "uvicorn", "starlette", "fastapi"}

# What the learner runs in a notebook: the lesson's search and netrc code, unchanged.
LESSON_CODE = """
import json, netrc, os, sys
from pystac_client import Client
from shapely.geometry import Point
client = Client.open("https://earth-search.aws.element84.com/v1")
search = client.search(collections=["sentinel-2-l2a"], intersects=Point(27.95, 36.20),
                       datetime="2023-07-01/2023-08-31", query=["eo:cloud_cover<1"])
items = search.item_collection()
login, _, password = netrc.netrc(os.environ.get("NETRC")).authenticators("urs.earthdata.nasa.gov")

import rasterio
from dask.distributed import Client as DaskClient

def width(href):  # GDAL, in whichever process runs it
    with rasterio.open(href) as ds:
        return ds.width

href = items[-1].assets["red"].href
with DaskClient(processes=True, n_workers=1, threads_per_worker=1,
                dashboard_address=None) as dask:
    worker_width = dask.submit(width, href).result()
print("RESULT " + json.dumps({
    "matched": search.matched(), "ids": [i.id for i in items],
    "hrefs": [i.assets["red"].href for i in items],
    "search_link": client.get_search_link().href, "login": [login, password],
    "width": width(href), "worker_width": worker_width,
    "server_modules": sorted({m.split(".")[0] for m in sys.modules} & SERVER_MODULES),
}))
""".replace("SERVER_MODULES", repr(SERVER_MODULES))


def satlesson(*args: str) -> subprocess.CompletedProcess:
    """The `satlesson` command as a learner runs it (inheriting JUPYTER_DATA_DIR)."""
    return subprocess.run([sys.executable, "-m", "satlesson", *args], capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def jupyter_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private Jupyter data folder, where a learner's `kernel install` writes."""
    folder = tmp_path / "jupyter"
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(folder))
    return folder


@pytest.fixture(scope="module")
def room_mirror(own_state: Callable[[str], Path]) -> Iterator[tuple[int, str]]:
    """A mirror served on every interface, as an instructor runs it: (port, what it printed)."""
    state = own_state("room")
    port = free_port("0.0.0.0")
    log = state / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "satlesson", "mirror", "serve", "--host", "0.0.0.0",
             "--port", str(port), "--state-dir", str(state)],
            stdout=out, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 300
        while "satlesson kernel install" not in log.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.5)
        yield port, log.read_text()
    finally:
        proc.terminate()
        proc.wait(60)


def run_in_kernel(code: str, timeout: float = 180, expect_error: bool = False) -> str:
    """Start the installed satlesson-mirror kernel, run ``code``, return its stdout (and any
    traceback); the cell must succeed, or fail if ``expect_error``."""
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
        assert (reply["content"]["status"] == "ok") != expect_error, "".join(out)
        return "".join(out)
    finally:
        km.shutdown_kernel(now=True)


def _global_addresses() -> set[str]:
    """This machine's global IPv4 addresses as iproute2 lists them (an independent account)."""
    if shutil.which("ip") is None:
        pytest.skip("iproute2's `ip` is not installed")
    out = subprocess.run(["ip", "-4", "-o", "addr", "show", "scope", "global"],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    return {line.split()[3].split("/")[0] for line in out.splitlines()}


def test_network_addresses_are_this_machines() -> None:
    found = network_addresses()
    assert set(found) >= _global_addresses(), found  # none of the machine's addresses missed
    for addr in found:
        assert not addr.startswith("127.")
        with socket.socket() as s:
            s.bind((addr, 0))  # only an address of this machine can be bound


def test_serve_on_all_interfaces_prints_the_addresses(room_mirror: tuple[int, str]) -> None:
    port, printed = room_mirror
    assert f"http://127.0.0.1:{port}" in printed
    assert set(network_addresses()) >= _global_addresses()
    for addr in network_addresses():
        assert f"http://{addr}:{port}" in printed
    command = printed.split("satlesson kernel install --mirror ", 1)[1].split()[0]
    assert command.endswith(f":{port}") and command.startswith("http://")
    assert "0.0.0.0" not in command


def test_kernel_routes_the_lesson_to_the_room_mirror(room_mirror: tuple[int, str],
                                                      jupyter_dir: Path) -> None:
    port, _ = room_mirror
    base = f"http://127.0.0.2:{port}"  # another address than the mirror's default
    installed = satlesson("kernel", "install", "--mirror", base)
    assert installed.returncode == 0, installed.stderr
    spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    assert base in spec.display_name
    assert Path(spec.resource_dir).parent == jupyter_dir / "kernels"
    # Routed by settings alone: Jupyter's own kernel, the proxy beside the mirror's port, and
    # a CA bundle of the kernel's own that holds the mirror's CA.
    assert spec.argv[:3] == [sys.executable, "-m", "ipykernel_launcher"]
    assert spec.env["HTTPS_PROXY"] == f"http://127.0.0.2:{port + 1}"
    bundle = Path(spec.env["REQUESTS_CA_BUNDLE"])
    assert bundle.parent == Path(spec.resource_dir) and spec.env["CURL_CA_BUNDLE"] == str(bundle)
    ca = requests.get(f"{base}/ca.pem", timeout=10).text
    assert "BEGIN CERTIFICATE" in ca and ca.strip() in bundle.read_text()
    assert "PRIVATE KEY" not in bundle.read_text()

    result = json.loads(run_in_kernel(LESSON_CODE, timeout=300).split("RESULT ", 1)[1])
    assert result["matched"] == 11
    assert result["ids"] == CLEAR_IDS
    # The real addresses, exactly as online, and the files behind them read by GDAL in the
    # kernel and in a Dask worker process (no internet here: only the mirror can answer).
    assert len(result["hrefs"]) == len(CLEAR_IDS)
    assert all(h.startswith("https://sentinel-cogs.s3.us-west-2.amazonaws.com/")
               for h in result["hrefs"])
    assert result["search_link"] == "https://earth-search.aws.element84.com/v1/search"
    assert result["width"] == result["worker_width"] == 10980
    assert tuple(result["login"]) == EARTHDATA_LOGIN  # what the mirror accepts
    assert result["server_modules"] == []

    # The mirror goes away (here: the kernel's proxy address no longer answers): the cell
    # says so in one sentence, for requests and GDAL alike, instead of a traceback.
    kernel_json = Path(spec.resource_dir) / "kernel.json"
    gone = json.loads(kernel_json.read_text())
    gone["env"]["HTTPS_PROXY"] = gone["env"]["https_proxy"] = f"http://127.0.0.2:{free_port()}"
    kernel_json.write_text(json.dumps(gone))
    for code in ('Client.open("https://earth-search.aws.element84.com/v1")',
                 f'rasterio.open("{result["hrefs"][0]}")'):
        said = run_in_kernel(f"import rasterio\nfrom pystac_client import Client\n{code}",
                             expect_error=True)
        assert said.strip() == (
            f"The workshop mirror at {base} is not answering (its computer may be asleep or on "
            "another network): ask your instructor, or use the live services with "
            "`satlesson kernel remove` and the default Python kernel."), said

    removed = satlesson("kernel", "remove")
    assert removed.returncode == 0, removed.stderr
    assert KERNEL_NAME not in KernelSpecManager().find_kernel_specs()
    assert not Path(spec.resource_dir).exists()
    again = satlesson("kernel", "remove")
    assert again.returncode == 1
    assert again.stderr.strip() == (
        f"satlesson: No {KERNEL_NAME} kernel is installed, so there is nothing to remove.")


@pytest.mark.parametrize("address", [
    "192.168.1.20:8642", "http://", "ftp://192.168.1.20:8642", "http://192.168.1.20:port",
    "http://192.168.1.20:8642/earth-search.aws.element84.com/v1", "http://bad host:8642",
])
def test_malformed_mirror_address_is_refused(address: str, jupyter_dir: Path) -> None:
    result = satlesson("kernel", "install", "--mirror", address)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "is not a mirror address" in result.stderr
    assert not (jupyter_dir / "kernels").exists()


def test_silent_mirror_is_one_sentence_and_installs_nothing(jupyter_dir: Path) -> None:
    base = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    result = satlesson("kernel", "install", "--mirror", base + "/")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"satlesson: No satlesson mirror answers at {base} ")
    assert not (jupyter_dir / "kernels").exists()


def test_learner_side_needs_no_server_libraries(jupyter_dir: Path) -> None:
    code = (
        "import sys; from satlesson import cli\n"
        "cli.main(['kernel', 'install', '--mirror', 'http://127.0.0.1:9'])\n"
        "from satlesson.mirror.client import routing, urls\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {SERVER_MODULES!r}))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
