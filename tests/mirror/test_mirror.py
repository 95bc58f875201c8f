"""The mirror answers the lesson's calls as the live services do, and fails politely."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from pystac_client import Client
from pystac_client.warnings import DoesNotConformTo
from shapely.geometry import Point, shape

from satlesson.mirror.client.urls import CMR_LPCLOUD_API, EARTH_SEARCH_API, mirror_url
from satlesson.mirror.errors import MirrorError
from satlesson.mirror.server import postgres

RHODES = Point(27.95, 36.20)
SUMMER = "2023-07-01/2023-08-31"
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


@pytest.fixture(scope="module")
def earth_search(mirror_base: str) -> Client:
    return Client.open(EARTH_SEARCH_API)


def test_url_rule() -> None:
    url = "https://sentinel-cogs.s3.us-west-2.amazonaws.com/a/b/B04.tif"
    base = "http://127.0.0.1:9"
    assert mirror_url(url, base) == "http://127.0.0.1:9/sentinel-cogs.s3.us-west-2.amazonaws.com/a/b/B04.tif"
    assert mirror_url("https://example.org/x", base) == "https://example.org/x"


def test_collections_are_the_seeds(earth_search: Client) -> None:
    assert [c.id for c in earth_search.get_collections()] == SEED_COLLECTIONS


def test_point_and_time_search_gives_the_seeds_scenes(earth_search: Client) -> None:
    search = earth_search.search(collections=["sentinel-2-l2a"], intersects=RHODES, datetime=SUMMER)
    assert search.matched() == 12
    items = search.item_collection()
    assert [item.id for item in items] == SEED_IDS
    assert all(shape(item.geometry).contains(RHODES) for item in items)
    everything = earth_search.search(collections=["sentinel-2-l2a"], intersects=RHODES)
    assert everything.matched() > 12  # the time filter narrows the snapshot's scenes


def test_cloud_cover_query_leaves_eleven(earth_search: Client) -> None:
    search = earth_search.search(collections=["sentinel-2-l2a"], intersects=RHODES,
                                 datetime=SUMMER, query=["eo:cloud_cover<1"])
    assert search.matched() == 11
    ids = [item.id for item in search.items()]
    assert "S2B_35SNA_20230703_0_L2A" not in ids
    assert ids == [i for i in SEED_IDS if i != "S2B_35SNA_20230703_0_L2A"]


def test_paging_get_and_post_agree(earth_search: Client, mirror_base: str) -> None:
    url = f"{mirror_base}/earth-search.aws.element84.com/v1/search"
    params = {"collections": "sentinel-2-l2a", "limit": 5,
              "datetime": "2023-07-01T00:00:00Z/2023-08-31T23:59:59Z",
              "intersects": json.dumps(RHODES.__geo_interface__)}
    seen_get: list[str] = []
    page = requests.get(url, params=params, timeout=30).json()
    while True:
        seen_get += [f["id"] for f in page["features"]]
        nxt = [link for link in page["links"] if link["rel"] == "next"]
        if not nxt:
            break
        page = requests.request(nxt[0].get("method", "GET"), nxt[0]["href"],
                                json=nxt[0].get("body"), timeout=30).json()
    body = {"collections": ["sentinel-2-l2a"], "datetime": SUMMER, "limit": 5,
            "intersects": RHODES.__geo_interface__}
    search = earth_search.search(**{k: v for k, v in body.items() if k != "limit"}, limit=5,
                                 method="POST")
    assert seen_get == [item.id for item in search.items()] == SEED_IDS


def test_cql2_filter_is_ignored_as_upstream_ignores_it(earth_search: Client) -> None:
    # Earth Search v1 has no filter extension: a CQL2 filter changes nothing there, nor here.
    # pystac-client warns, as it does against Earth Search itself.
    with pytest.warns(DoesNotConformTo, match="FILTER"):
        search = earth_search.search(
            collections=["sentinel-2-l2a"], intersects=RHODES, datetime=SUMMER,
            filter_lang="cql2-json",
            filter={"op": ">=", "args": [{"property": "eo:cloud_cover"}, 1]})
    assert [item.id for item in search.items()] == SEED_IDS


def test_first_item_is_the_seeds(earth_search: Client) -> None:
    item = next(earth_search.search(collections=["sentinel-2-l2a"], intersects=RHODES,
                                    datetime=SUMMER).items())
    assert item.datetime.isoformat() == "2023-08-27T09:00:21.327000+00:00"
    props = item.properties
    assert props["eo:cloud_cover"] == 0.955362
    assert props["s2:product_uri"] == (
        "S2A_MSIL2A_20230827T084601_N0509_R107_T35SNA_20230827T115803.SAFE")
    assert props["earthsearch:s3_path"].endswith("/35/S/NA/2023/8/S2A_35SNA_20230827_0_L2A")
    assert props.get("proj:code", f"EPSG:{props.get('proj:epsg')}") == "EPSG:32635"
    assert [round(v, 3) for v in item.bbox] == [27.011, 36.051, 28.234, 37.046]
    # Printed in the upstream order, not pgstac's (jsonb sorts keys by length).
    assert list(props)[:4] == ["created", "platform", "constellation", "instruments"]


def test_asset_hrefs_are_the_real_addresses(earth_search: Client, mirror_base: str) -> None:
    item = next(earth_search.search(ids=["S2A_35SNA_20230827_0_L2A"]).items())
    assert len(item.assets) == 35
    assert list(item.assets)[:5] == ["aot", "blue", "coastal", "granule_metadata", "green"]
    assert list(item.assets)[-2:] == ["visual-jp2", "wvp-jp2"]
    red = item.assets["red"]
    assert red.href == ("https://sentinel-cogs.s3.us-west-2.amazonaws.com/"
                        "sentinel-s2-l2a-cogs/35/S/NA/2023/8/S2A_35SNA_20230827_0_L2A/B04.tif")
    assert red.title == "Red (band 4) - 10m"
    assert all(a.href.startswith("https://") for a in item.assets.values())
    assert all(link.href.startswith(("https://", "s3://")) for link in item.links)
    assert mirror_base.removeprefix("http://") not in json.dumps(item.to_dict())


def test_hls_search_finds_five_and_the_least_cloudy(mirror_base: str) -> None:
    client = Client.open(CMR_LPCLOUD_API)
    items = client.search(collections=["HLSL30.v2.0"], intersects=Point(-73.97, 40.78),
                          datetime="2021-02-01/2021-03-30").item_collection()
    assert len(items) == 5
    best = min(items, key=lambda i: i.properties["eo:cloud_cover"])
    assert best.id == "HLS.L30.T18TWL.2021039T153324.v2.0"
    browse = requests.get(best.assets["browse"].href, timeout=120)
    assert browse.status_code == 200 and browse.content[:3] == b"\xff\xd8\xff"  # a JPEG


def test_protected_hls_data_needs_credentials(mirror_base: str, mirror_state_dir: Path) -> None:
    import netrc

    item = next(Client.open(CMR_LPCLOUD_API).search(
        ids=["HLS.L30.T18TWL.2021039T153324.v2.0"], collections=["HLSL30.v2.0"]).items())
    href = item.assets["B04"].href
    denied = requests.head(href, timeout=60)
    assert denied.status_code == 401
    assert "Basic" in denied.headers["WWW-Authenticate"]
    assert requests.head(href, auth=("someone", "wrong"), timeout=60).status_code == 401
    login, _, password = netrc.netrc(mirror_state_dir / "netrc").authenticators(
        "urs.earthdata.nasa.gov")
    allowed = requests.get(href, auth=(login, password), headers={"Range": "bytes=0-3"},
                           timeout=300)
    assert allowed.status_code == 206 and allowed.content in (b"II*\x00", b"MM\x00*")


def test_byte_ranges(mirror_base: str, earth_search: Client) -> None:
    item = next(earth_search.search(ids=["S2B_35SNA_20230703_0_L2A"]).items())
    href = item.assets["coastal"].href
    size = int(requests.head(href, timeout=300).headers["content-length"])
    part = requests.get(href, headers={"Range": "bytes=100-199"}, timeout=60)
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-199/{size}"
    assert len(part.content) == 100
    beyond = requests.get(href, headers={"Range": f"bytes={size + 10}-{size + 20}"}, timeout=60)
    assert beyond.status_code == 416
    assert requests.get(mirror_base + "/", timeout=10).ok  # and it keeps serving


@pytest.mark.parametrize("path", [
    "/sentinel-cogs.s3.us-west-2.amazonaws.com/../../../../etc/passwd",
    "/sentinel-cogs.s3.us-west-2.amazonaws.com/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/sentinel-cogs.s3.us-west-2.amazonaws.com//etc/passwd",
    "/sentinel-cogs.s3.us-west-2.amazonaws.com/sentinel-s2-l2a-cogs/%2e%2e%2f%2e%2e%2fetc/passwd",
    "//etc/passwd",
    "/etc/passwd",
])
def test_no_file_outside_the_snapshot(mirror_base: str, path: str) -> None:
    # Send the path exactly as written: requests would normalise the dots away.
    host, port = mirror_base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        response = b""
        while chunk := conn.recv(65536):
            response += chunk
    status = int(response.split(b" ", 2)[1])
    assert status in (400, 404)
    assert b"root:" not in response


@pytest.mark.parametrize(("method", "suffix", "payload"), [
    ("POST", "/search", "{not json"),
    ("POST", "/search", json.dumps({"bbox": [1, 2, 3]})),
    ("GET", "/search?bbox=1,2,three,4", None),
    ("GET", "/search?datetime=2023-13-45", None),
    ("GET", "/search?limit=-5", None),
    ("GET", "/collections/no-such-collection", None),
    ("GET", "/collections/no-such-collection/items", None),
    ("GET", "/collections/sentinel-2-l2a/items/no-such-item", None),
])
def test_bad_requests_get_a_clear_json_4xx(mirror_base: str, method: str, suffix: str,
                                           payload: str | None) -> None:
    url = f"{mirror_base}/earth-search.aws.element84.com/v1{suffix}"
    response = requests.request(method, url, data=payload, timeout=30,
                                headers={"Content-Type": "application/json"})
    assert 400 <= response.status_code < 500
    assert response.json()  # a JSON body that says what went wrong
    assert requests.get(f"{mirror_base}/earth-search.aws.element84.com/v1/", timeout=10).ok


def test_unadvertised_file_is_404(mirror_base: str) -> None:
    response = requests.get(f"{mirror_base}/sentinel-cogs.s3.us-west-2.amazonaws.com/nope.tif",
                            timeout=10)
    assert response.status_code == 404
    assert "snapshot" in response.json()["description"]


def test_port_in_use_is_one_clear_sentence(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "satlesson", "mirror", "serve", "--port", str(port),
             "--state-dir", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert f"Port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_free_ports_are_outside_the_ephemeral_range_and_never_repeat(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Ports from bind(0) are ephemeral: any outgoing connection may take one before the
    # server that was promised it binds, which once failed a CI run's room mirror.
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = [postgres.free_port("0.0.0.0") for _ in range(40)]
    assert len(set(ports)) == len(ports)
    assert all(1024 <= port < low for port in ports)
    with socket.socket() as busy:  # a port some other program listens on is passed over
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        picks = iter([taken, ports[0], ports[0] + 1, ports[0] - 1])

        class Picker:
            def randrange(self, start: int, stop: int) -> int:
                return next(picks)

        monkeypatch.setattr(postgres.random, "SystemRandom", Picker)
        assert postgres.free_port() not in {taken, ports[0]}


def test_missing_postgresql_is_one_clear_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postgres.glob, "glob", lambda pattern: [])
    with pytest.raises(MirrorError, match="needs PostgreSQL with PostGIS, which is missing"):
        postgres.find_bindir()


def test_second_mirror_on_the_same_state_folder_is_refused(mirror_base: str,
                                                          mirror_state_dir: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "satlesson", "mirror", "serve", "--port",
         str(postgres.free_port()), "--state-dir", str(mirror_state_dir)],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "Another mirror (process" in result.stderr and "Traceback" not in result.stderr
    assert requests.get(mirror_base + "/", timeout=10).ok  # the first one is untouched
