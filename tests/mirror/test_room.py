"""A room of learners on one mirror: repeated API requests are answered from prepared bytes,
identical to what the database path gives, keyed on everything that makes answers differ."""

from __future__ import annotations

import gzip
import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import requests.adapters
from pystac_client import Client
from shapely.geometry import Point

from satlesson.mirror.client.urls import CMR_LPCLOUD_API, EARTH_SEARCH_API
from satlesson.mirror.server.cache import PreparedResponse, Store

RHODES = Point(27.95, 36.20)
SUMMER = "2023-07-01/2023-08-31"
CACHE = "x-mirror-cache"


def episode_api_calls(headers: dict[str, str]) -> list[tuple[str, str, bytes | None, bytes, str]]:
    """Episode 1's calls to the STAC APIs, made through pystac-client with extra ``headers``;
    returns (method, url, body, answer bytes, cache state) for every request they sent."""
    sent: list[tuple[str, str, bytes | None, bytes, str]] = []
    routed = requests.adapters.HTTPAdapter.send

    def record(self, request, *args, **kwargs):  # type: ignore[no-untyped-def]
        response = routed(self, request, *args, **kwargs)
        body = request.body.encode() if isinstance(request.body, str) else request.body
        sent.append((request.method, request.url, body, response.content,
                     response.headers.get(CACHE, "")))
        return response

    requests.adapters.HTTPAdapter.send = record  # type: ignore[method-assign]
    try:
        client = Client.open(EARTH_SEARCH_API, headers=headers)
        list(client.get_collections())
        for kwargs in ({}, {"datetime": SUMMER},
                       {"datetime": SUMMER, "query": ["eo:cloud_cover<1"]}):
            search = client.search(collections=["sentinel-2-l2a"], intersects=RHODES, **kwargs)
            search.matched()
            if kwargs:
                search.item_collection()
        cmr = Client.open(CMR_LPCLOUD_API, headers=headers)
        cmr.search(collections=["HLSL30.v2.0"], intersects=Point(-73.97, 40.78),
                   datetime="2021-02-01/2021-03-30").item_collection()
    finally:
        requests.adapters.HTTPAdapter.send = routed  # type: ignore[method-assign]
    return sent


def test_cached_answers_are_the_uncached_bytes(mirror_base: str) -> None:
    # A header never sent before makes its own cache key: these answers come from pgstac.
    fresh = episode_api_calls({"X-Test-Run": uuid.uuid4().hex})
    firsts = {}
    for method, url, body, _, state in fresh:  # pystac-client repeats some requests
        firsts.setdefault((method, url, body), state)
    assert len(firsts) > 5 and set(firsts.values()) == {"miss"}
    episode_api_calls({})  # fills the cache (unless an earlier test did)
    cached = episode_api_calls({})
    assert {state for *_, state in cached} == {"hit"}
    assert [(m, u, b) for m, u, b, _, _ in cached] == [(m, u, b) for m, u, b, _, _ in fresh]
    for (method, url, _, uncached_bytes, _), (*_, cached_bytes, _) in zip(fresh, cached,
                                                                          strict=True):
        assert cached_bytes == uncached_bytes, f"{method} {url}"


def test_answers_are_the_same_at_every_address(mirror_base: str) -> None:
    port = mirror_base.rsplit(":", 1)[1]
    url = f"{mirror_base}/earth-search.aws.element84.com/v1/search"
    body = {"collections": ["sentinel-2-l2a"], "intersects": RHODES.__geo_interface__,
            "datetime": "2023-07-01T00:00:00Z/2023-08-31T23:59:59Z", "limit": 3}
    answers = {}
    for host in ("127.0.0.1", "127.0.0.2", "127.0.0.1", "127.0.0.2"):
        response = requests.post(url, json=body, headers={"Host": f"{host}:{port}"}, timeout=60)
        assert response.status_code == 200
        answers.setdefault(host, []).append((response.content, response.headers[CACHE]))
    for (first, _), (second, state) in answers.values():
        assert state == "hit" and first == second
        hrefs = [a["href"] for f in json.loads(first)["features"] for a in f["assets"].values()]
        # The real addresses, whichever address the mirror was reached at.
        assert hrefs and all(h.startswith("https://") for h in hrefs)
        assert f":{port}" not in first.decode()
    assert answers["127.0.0.1"][0][0] == answers["127.0.0.2"][0][0]
    # Another search body is another answer, not the cached one.
    other = requests.post(url, json={**body, "limit": 2}, timeout=60).json()
    assert len(other["features"]) == 2


def test_errors_are_not_kept(mirror_base: str) -> None:
    url = f"{mirror_base}/earth-search.aws.element84.com/v1/search"
    bad = {"collections": ["sentinel-2-l2a"], "datetime": "not a date"}
    states = [requests.post(url, json=bad, timeout=60).headers[CACHE] for _ in range(2)]
    assert states == ["miss", "miss"]


def test_fifty_simultaneous_searches(mirror_base: str) -> None:
    """A room runs the same cell at once: no failure, one database query, one answer."""
    url = f"{mirror_base}/earth-search.aws.element84.com/v1/search"
    body = {"collections": ["sentinel-2-l2a"], "intersects": RHODES.__geo_interface__,
            "datetime": "2023-07-01T00:00:00Z/2023-08-31T23:59:59Z",
            "query": {"eo:cloud_cover": {"lt": 1}}, "limit": 20}
    room = {"X-Test-Room": uuid.uuid4().hex}  # a key no earlier request made
    barrier = threading.Barrier(50)

    def learner(_: int) -> tuple[int, bytes, str]:
        with requests.Session() as session:
            barrier.wait(timeout=60)
            response = session.post(url, json=body, headers=room, timeout=60)
            return response.status_code, response.content, response.headers.get(CACHE, "")

    with ThreadPoolExecutor(50) as pool:
        results = list(pool.map(learner, range(50)))
    assert [status for status, _, _ in results] == [200] * 50
    assert len({content for _, content, _ in results}) == 1
    assert len(json.loads(results[0][1])["features"]) == 11
    assert sorted(state for *_, state in results) == ["hit"] * 49 + ["miss"]
    reference = requests.post(url, json=body, headers={"X-Test-Run": uuid.uuid4().hex},
                              timeout=60)
    assert reference.headers[CACHE] == "miss" and reference.content == results[0][1]


def test_repeats_go_compressed_to_clients_that_accept_it(mirror_base: str) -> None:
    url = f"{mirror_base}/earth-search.aws.element84.com/v1/search"
    body = {"collections": ["sentinel-2-l2a"], "intersects": RHODES.__geo_interface__,
            "limit": 12}
    room = {"X-Test-Room": uuid.uuid4().hex}
    first = requests.post(url, json=body, headers=room, timeout=60)
    packed = requests.post(url, json=body, headers=room, timeout=60, stream=True)
    wire = packed.raw.read(decode_content=False)
    plain = requests.post(url, json=body, headers={**room, "Accept-Encoding": "identity"},
                          timeout=60)
    assert first.headers[CACHE] == "miss" and "content-encoding" not in first.headers
    assert packed.headers[CACHE] == "hit" and packed.headers["content-encoding"] == "gzip"
    assert gzip.decompress(wire) == first.content and len(wire) < len(first.content) / 5
    assert plain.headers[CACHE] == "hit" and "content-encoding" not in plain.headers
    assert plain.content == first.content


@pytest.mark.parametrize("sizes", [[10] * 20, [30, 30, 50, 10]])
def test_store_stays_within_its_bound(sizes: list[int]) -> None:
    store = Store(max_bytes=100, max_answer=40)
    for i, size in enumerate(sizes):
        store.put(bytes([i]), PreparedResponse({"status": 200, "headers": []}, b"x" * size))
        assert store.size == sum(len(a.body) for a in store.answers.values()) <= 100
    kept = [key[0] for key in store.answers]
    # Independently: the newest answers that fit within 100 bytes together; too big ones
    # (over 40) are never kept. A store that evicts too much or too little fails.
    expected: list[int] = []
    total = 0
    for i in reversed(range(len(sizes))):
        if sizes[i] <= 40 and total + sizes[i] <= 100:
            expected.insert(0, i)
            total += sizes[i]
        elif sizes[i] <= 40:
            break
    assert kept == expected
