"""Offline, each STAC API claims and does what its upstream does (``server/upstream.py``)."""

from __future__ import annotations

import json

import pytest
import requests

from satlesson.mirror.server.upstream import CMR_LPCLOUD, EARTH_SEARCH_V1, UPSTREAMS, Upstream

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


@pytest.mark.parametrize("upstream", UPSTREAMS.values(), ids=lambda u: u.mount.split("/")[1])
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
