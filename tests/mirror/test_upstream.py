"""Offline, each STAC API claims and does what its upstream does (``mirror/upstream.py``)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import requests

from satlesson.mirror.server.guard import MAX_JSON_DEPTH
from satlesson.mirror.upstream import CMR_LPCLOUD, EARTH_SEARCH_V1, UPSTREAMS, Upstream

HLS = {"collections": ["HLSL30.v2.0"],
       "intersects": {"type": "Point", "coordinates": [-73.97, 40.78]},
       "datetime": "2021-02-01T00:00:00Z/2021-03-30T23:59:59Z"}
RHODES = {"collections": ["sentinel-2-l2a"],
          "intersects": {"type": "Point", "coordinates": [27.95, 36.2]},
          "datetime": "2023-07-01T00:00:00Z/2023-08-31T23:59:59Z", "limit": 50}


def search(base: str, upstream: Upstream, body: dict) -> requests.Response:
    return requests.post(f"{base}{upstream.mount}/search", json=body, timeout=60)


def ids(response: requests.Response) -> list[str]:
    assert response.status_code == 200, response.text[:500]
    return [f["id"] for f in response.json()["features"]]


@pytest.mark.parametrize("upstream", UPSTREAMS, ids=lambda u: u.mount.split("/")[1])
def test_conformance_is_upstreams(mirror_base: str, upstream: Upstream) -> None:
    landing = requests.get(f"{mirror_base}{upstream.mount}", timeout=30).json()
    declared = requests.get(f"{mirror_base}{upstream.mount}/conformance", timeout=30).json()
    assert sorted(landing["conformsTo"]) == sorted(upstream.conformance)
    assert sorted(declared["conformsTo"]) == sorted(upstream.conformance)
    assert not any("filter" in c or "collection-search" in c for c in upstream.conformance)


def test_earth_search_ignores_filter_and_honours_query(mirror_base: str) -> None:
    everything = ids(search(mirror_base, EARTH_SEARCH_V1, RHODES))
    assert len(everything) == 12
    cql2 = {"filter-lang": "cql2-json",
            "filter": {"op": ">=", "args": [{"property": "eo:cloud_cover"}, 1]}}
    assert ids(search(mirror_base, EARTH_SEARCH_V1, {**RHODES, **cql2})) == everything
    as_text = requests.get(f"{mirror_base}{EARTH_SEARCH_V1.mount}/search", timeout=60, params={
        "collections": "sentinel-2-l2a", "limit": 50, "datetime": RHODES["datetime"],
        "intersects": json.dumps(RHODES["intersects"]), "filter": "eo:cloud_cover >= 1",
        "filter-lang": "cql2-text"})
    assert ids(as_text) == everything
    clear = {"query": {"eo:cloud_cover": {"lt": 1}}}
    assert len(ids(search(mirror_base, EARTH_SEARCH_V1, {**RHODES, **clear}))) == 11


def test_cmr_ignores_filter(mirror_base: str) -> None:
    everything = ids(search(mirror_base, CMR_LPCLOUD, HLS))
    assert len(everything) == 5
    cql2 = {"filter": {"op": "<", "args": [{"property": "eo:cloud_cover"}, 20]}}
    assert ids(search(mirror_base, CMR_LPCLOUD, {**HLS, **cql2})) == everything


def test_cmr_query_reads_cloud_cover_only_and_only_in_a_body(mirror_base: str) -> None:
    items = search(mirror_base, CMR_LPCLOUD, HLS).json()["features"]
    covers = sorted(f["properties"]["eo:cloud_cover"] for f in items)
    limit = covers[2]  # upstream reads lt as an inclusive maximum: the item at it stays
    under = search(mirror_base, CMR_LPCLOUD, {**HLS, "query": {"eo:cloud_cover": {"lt": limit}}})
    assert sorted(f["properties"]["eo:cloud_cover"] for f in under.json()["features"]) == covers[:3]
    other = {"query": {"platform": {"eq": "no-such-platform"}}}
    assert len(ids(search(mirror_base, CMR_LPCLOUD, {**HLS, **other}))) == 5
    in_url = requests.get(f"{mirror_base}{CMR_LPCLOUD.mount}/search", timeout=60, params={
        "collections": "HLSL30.v2.0", "datetime": HLS["datetime"],
        "intersects": json.dumps(HLS["intersects"]),
        "query": json.dumps({"eo:cloud_cover": {"lt": covers[0]}})})
    assert len(ids(in_url)) == 5


def test_cmr_refuses_what_it_refuses_with_its_own_words(mirror_base: str) -> None:
    refusal = CMR_LPCLOUD.sort_refusal
    assert refusal is not None
    bad_sort = search(mirror_base, CMR_LPCLOUD, {**HLS, "sortby": [{"field": "properties.gsd",
                                                                   "direction": "asc"}]})
    assert (bad_sort.status_code, bad_sort.json()) == (refusal.status, refusal.body)
    good_sort = search(mirror_base, CMR_LPCLOUD, {**HLS, "sortby": [
        {"field": "properties.eo:cloud_cover", "direction": "asc"}]})
    assert len(ids(good_sort)) == 5
    both = requests.get(f"{mirror_base}{CMR_LPCLOUD.mount}/search", timeout=60, params={
        "bbox": "-74,40,-73,41", "intersects": json.dumps(HLS["intersects"])})
    assert CMR_LPCLOUD.bbox_and_intersects is not None
    assert (both.status_code, both.json()) == (CMR_LPCLOUD.bbox_and_intersects.status,
                                               CMR_LPCLOUD.bbox_and_intersects.body)


@pytest.mark.parametrize(("method", "suffix", "payload"), [
    ("POST", "/search", "[]"),  # a JSON array, not an object
    ("POST", "/search", '[{"collections": ["sentinel-2-l2a"]}]'),
    ("GET", "/search?token=next:not-a-token", None),
    ("GET", "/search?token=garbage", None),
    ("GET", "/search?intersects=not-geojson", None),
    ("GET", "/search?query=not-json", None),
    ("GET", "/search?fields=%2C%2C", None),  # empty field names: answered, not a 500
    ("GET", "/collections/sentinel-2-l2a/items?fields=id%2C", None),
    ("GET", "/collections?q=fire&bbox=1,2,3,4&filter=x", None),  # parameters it does not take
])
def test_bad_input_gets_an_answer_not_a_server_error(mirror_base: str, method: str, suffix: str,
                                                     payload: str | None) -> None:
    url = f"{mirror_base}{EARTH_SEARCH_V1.mount}{suffix}"
    response = requests.request(method, url, data=payload, timeout=30,
                                headers={"Content-Type": "application/json"})
    assert response.status_code < 500, response.text[:300]
    assert isinstance(response.json(), dict)  # a JSON answer (an error says what went wrong)
    if response.status_code >= 400:
        assert response.json()["description"]
    assert requests.get(f"{mirror_base}{EARTH_SEARCH_V1.mount}/", timeout=10).ok  # still serving


@pytest.mark.parametrize("field", [0, False, None, {"name": "datetime"}, ["id", "title"]],
                         ids=repr)
def test_cmr_refuses_a_sort_field_that_is_not_text(mirror_base: str, field: object) -> None:
    # Schemathesis sent this (seeds 46 and 152 of test_fuzz.py): the guard read every sort
    # field as a string and crashed. Upstream reads the value as text: no sortable field.
    body = {"collections": [], "ids": [], "bbox": [0, 0, 0, 0], "query": {},
            "sortby": [{"field": field, "direction": "asc"}]}
    response = search(mirror_base, CMR_LPCLOUD, body)
    assert CMR_LPCLOUD.sort_refusal is not None
    assert (response.status_code, response.json()) == (CMR_LPCLOUD.sort_refusal.status,
                                                       CMR_LPCLOUD.sort_refusal.body)
    assert len(ids(search(mirror_base, CMR_LPCLOUD, HLS))) == 5  # and it keeps serving


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


DEEP = 20_000  # levels; the mirror's json module gives up at about 1,000


@pytest.mark.parametrize("upstream", UPSTREAMS, ids=lambda u: u.mount.split("/")[1])
@pytest.mark.parametrize(("method", "params", "payload"), [
    ("POST", None, '{"collections": ' + nested(DEEP) + "}"),
    ("POST", None, '{"intersects": ' + "[" * DEEP),  # not even JSON
    ("GET", {"intersects": nested(1500)}, None),  # a URL upstream's gateway still takes
], ids=["post", "post-unclosed", "get-intersects"])
def test_deep_nesting_is_a_400_with_a_message(mirror_base: str, upstream: Upstream, method: str,
                                              params: dict | None, payload: str | None) -> None:
    response = requests.request(method, f"{mirror_base}{upstream.mount}/search", params=params,
                                data=payload, headers={"Content-Type": "application/json"},
                                timeout=30)
    assert response.status_code == 400, response.text[:300]
    assert "levels deep" in response.json()["description"]
    assert requests.get(f"{mirror_base}{upstream.mount}/", timeout=10).ok  # still serving


def test_deep_nesting_in_earth_search_query_is_a_400(mirror_base: str) -> None:
    # The case reported: a `query` nested 20,000 objects deep (120 kB; CMR refuses the size).
    body = '{"query": ' + '{"a": ' * DEEP + "1" + "}" * DEEP + "}"
    response = requests.post(f"{mirror_base}{EARTH_SEARCH_V1.mount}/search", data=body,
                             headers={"Content-Type": "application/json"}, timeout=30)
    assert response.status_code == 400, response.text[:300]
    assert "levels deep" in response.json()["description"]
    as_url = requests.get(f"{mirror_base}{EARTH_SEARCH_V1.mount}/search", timeout=30,
                          params={"query": '{"a": ' * 1500 + "1" + "}" * 1500})
    assert as_url.status_code == 400, as_url.text[:300]


@pytest.mark.parametrize("upstream", UPSTREAMS, ids=lambda u: u.mount.split("/")[1])
def test_nesting_up_to_the_limit_is_answered(mirror_base: str, upstream: Upstream) -> None:
    def query(depth: int) -> str:  # the body's object, `query`, the property: three levels
        return '{"query": {"eo:cloud_cover": {"eq": ' + nested(depth - 3) + "}}}"

    url = f"{mirror_base}{upstream.mount}/search"
    deepest = requests.post(url, data=query(MAX_JSON_DEPTH), timeout=30,
                            headers={"Content-Type": "application/json"})
    assert deepest.status_code == 200, deepest.text[:300]
    deeper = requests.post(url, data=query(MAX_JSON_DEPTH + 1), timeout=30,
                           headers={"Content-Type": "application/json"})
    assert deeper.status_code == 400, deeper.text[:300]


def test_body_refusal_is_the_outermost_layer_exceeded() -> None:
    stac_server, lambda_invoke = EARTH_SEARCH_V1.body_limits
    assert EARTH_SEARCH_V1.body_refusal(stac_server.max_bytes) is None
    assert EARTH_SEARCH_V1.body_refusal(stac_server.max_bytes + 1) == stac_server.refusal
    assert EARTH_SEARCH_V1.body_refusal(lambda_invoke.max_bytes + 1) == lambda_invoke.refusal
    assert EARTH_SEARCH_V1.body_refusal(54_000_000) == lambda_invoke.refusal
    (express,) = CMR_LPCLOUD.body_limits
    assert CMR_LPCLOUD.body_refusal(54_000_000) == express.refusal
    for upstream in UPSTREAMS:
        assert all(limit.refusal.status == 413 for limit in upstream.body_limits)


def padded(size: int) -> bytes:
    """A search body of exactly ``size`` bytes: a real search padded with JSON whitespace."""
    head = b'{"collections": ["sentinel-2-l2a", "HLSL30.v2.0"], "limit": 1'
    return head + b" " * (size - len(head) - 1) + b"}"


@pytest.mark.parametrize("upstream", UPSTREAMS, ids=lambda u: u.mount.split("/")[1])
def test_each_body_limit_is_upstreams_to_the_byte(mirror_base: str, upstream: Upstream) -> None:
    url = f"{mirror_base}{upstream.mount}/search"
    headers = {"Content-Type": "application/json"}
    smallest = min(limit.max_bytes for limit in upstream.body_limits)
    taken = requests.post(url, data=padded(smallest), headers=headers, timeout=60)
    assert taken.status_code == 200, taken.text[:300]
    assert len(taken.json()["features"]) == 1
    for limit in upstream.body_limits:
        refused = requests.post(url, data=padded(limit.max_bytes + 1), headers=headers,
                                timeout=60)
        assert (refused.status_code, refused.json()) == (limit.refusal.status,
                                                         limit.refusal.body)


@pytest.fixture(scope="module")
def huge_search() -> bytes:
    """The reported body: three million collection names, 54 MB."""
    names = b", ".join(b'"s2-l2a-%07d"' % i for i in range(3_000_000))
    return b'{"collections": [' + names + b"]}"


def chunks(body: bytes, size: int = 1024 * 1024) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start:start + size]


@pytest.mark.parametrize("upstream", UPSTREAMS, ids=lambda u: u.mount.split("/")[1])
@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
def test_huge_body_is_refused_at_once_and_the_mirror_keeps_serving(
        mirror_base: str, upstream: Upstream, huge_search: bytes, streamed: bool) -> None:
    assert len(huge_search) > 50_000_000
    refusal = upstream.body_refusal(len(huge_search))
    assert refusal is not None
    started = time.monotonic()
    response = requests.post(f"{mirror_base}{upstream.mount}/search", timeout=120,
                             data=chunks(huge_search) if streamed else huge_search,
                             headers={"Content-Type": "application/json"})
    elapsed = time.monotonic() - started
    assert (response.status_code, response.json()) == (refusal.status, refusal.body)
    assert elapsed < 5, f"{elapsed:.1f} s"  # before: 200 after 35-55 s of a busy core
    everyday = HLS if upstream is CMR_LPCLOUD else RHODES
    assert ids(search(mirror_base, upstream, everyday))
