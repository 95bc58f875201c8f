"""The mirror answers at the real addresses: its proxy serves the lesson's hosts, refuses the rest.

This test process is routed as a learner's kernel is (``routing.install`` in conftest): the
standard proxy and CA-bundle settings, nothing patched. There is no internet here, so anything
that reads a real address and gets an answer got it from the mirror.
"""

from __future__ import annotations

import ast
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import certifi
import pystac
import pytest
import requests

from satlesson.clip import clip_asset
from satlesson.mirror.client.routing import VARIABLES

# One item of the original lesson's own ItemCollection, saved from the live Earth Search API
# (public as Ridima28/geospatial-python, August 2026), cut to its red band: real hrefs.
SAVED_ONLINE = Path(__file__).parent / "data" / "saved-online-rhodes.json"
SEARCH = "https://earth-search.aws.element84.com/v1/search"
BODY = {"collections": ["sentinel-2-l2a"], "ids": ["S2A_35SNA_20230827_0_L2A"]}


@pytest.fixture(scope="module")
def proxy_address(mirror_base: str) -> tuple[str, int]:
    info = requests.get(mirror_base + "/", timeout=10).json()
    return urlsplit(mirror_base).hostname or "127.0.0.1", info["proxy_port"]


def connect(proxy: tuple[str, int], target: str) -> str:
    """Send ``CONNECT target`` to the proxy; return its status line."""
    with socket.create_connection(proxy, timeout=10) as sock:
        sock.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
        return sock.recv(4096).decode("latin-1").split("\r\n", 1)[0]


def test_a_file_saved_online_reads_offline(mirror_base: str) -> None:
    [item] = pystac.ItemCollection.from_file(str(SAVED_ONLINE))
    assert item.assets["red"].href.startswith("https://sentinel-cogs.s3.us-west-2.amazonaws.com/")
    clip = clip_asset(item, "red", bbox=(27.9, 36.1, 28.0, 36.2), bbox_crs="EPSG:4326")
    assert clip.rio.crs.to_epsg() == 32635
    assert 1000 < clip.shape[1] < 1200 and 850 < clip.shape[2] < 950  # 10 m pixels
    assert int(clip.max()) > 0


def test_both_doors_give_the_same_bytes(mirror_base: str) -> None:
    through_proxy = requests.post(SEARCH, json=BODY, timeout=60)
    direct = requests.post(f"{mirror_base}/earth-search.aws.element84.com/v1/search", json=BODY,
                           timeout=60)
    assert through_proxy.status_code == direct.status_code == 200
    assert through_proxy.content == direct.content
    assert urlsplit(mirror_base).netloc not in through_proxy.text
    [feature] = through_proxy.json()["features"]
    assert feature["assets"]["red"]["href"].startswith("https://sentinel-cogs.")


def test_the_lesson_hosts_are_served_with_the_mirrors_certificate(
        proxy_address: tuple[str, int]) -> None:
    assert connect(proxy_address, "earth-search.aws.element84.com:443").split()[1] == "200"
    # A client that trusts only the public CAs refuses the mirror's certificate: the trust is
    # the routed process's own, given by its CA bundle.
    with pytest.raises(requests.exceptions.SSLError):
        requests.get("https://earth-search.aws.element84.com/v1", timeout=10,
                     verify=certifi.where())


def test_other_hosts_are_refused_with_their_name(proxy_address: tuple[str, int]) -> None:
    status = connect(proxy_address, "example.com:443")
    assert status.startswith("HTTP/1.1 403 ")
    assert "example.com is not served by the satlesson mirror" in status
    with pytest.raises(requests.exceptions.ProxyError, match="not served by the satlesson"):
        requests.get("https://pypi.org/simple/", timeout=10)
    plain = requests.get("http://example.com/", timeout=10,
                         proxies={"http": f"http://{proxy_address[0]}:{proxy_address[1]}"})
    assert plain.status_code == 403 and "only the lesson's services" in plain.text


def test_only_the_public_certificate_is_served(mirror_base: str, mirror_state_dir: Path) -> None:
    ca = requests.get(mirror_base + "/ca.pem", timeout=10)
    assert ca.ok and ca.text.startswith("-----BEGIN CERTIFICATE-----")
    assert "PRIVATE" not in ca.text
    key = mirror_state_dir / "proxy" / "mitmproxy-ca.pem"
    assert "PRIVATE KEY" in key.read_text()
    assert key.stat().st_mode & 0o077 == 0 and (key.parent.stat().st_mode & 0o077) == 0
    for path in ("/proxy/mitmproxy-ca.pem", "/mitmproxy-ca.pem", "/.mirror/proxy/"):
        assert requests.get(mirror_base + path, timeout=10).status_code == 404
    assert json.loads(requests.get(mirror_base + "/", timeout=10).text)["ca_certificate"] == (
        mirror_base + "/ca.pem")


def test_the_addon_needs_only_mitmproxy() -> None:
    """mitmdump loads the addon in its own environment, where satlesson is not installed."""
    from satlesson.mirror.server import proxy

    tree = ast.parse(proxy.ADDON.read_text())
    roots = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
             for alias in node.names}
    roots |= {(node.module or "").split(".")[0] for node in ast.walk(tree)
              if isinstance(node, ast.ImportFrom)}
    assert roots - {"__future__"} <= {"mitmproxy"} | set(sys.stdlib_module_names)
    assert "mitmproxy" in roots


def test_mirror_env_routes_a_shell_curl_included(mirror_base: str, tmp_path: Path) -> None:
    """`eval "$(satlesson mirror env)"`: programs started from that shell, even a terminal's
    curl, reach the real address and get the mirror's answer."""
    script = (f'eval "$({sys.executable} -m satlesson mirror env --base {mirror_base} '
              f'--state-dir {tmp_path})"\n'
              "curl -sS --fail https://earth-search.aws.element84.com/v1/collections/sentinel-2-l2a")
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES}  # a fresh shell
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["id"] == "sentinel-2-l2a"
