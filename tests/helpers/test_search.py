"""satlesson.search: argument checks, one clear error when offline, and searches on the mirror."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pystac
import pytest
from pystac_client.exceptions import APIError
from shapely.geometry import Point, box

from satlesson.search import SearchError, list_collections, search_items

EARTH_SEARCH = "https://earth-search.aws.element84.com/v1"
RHODES = (27.95, 36.20)
SUMMER = "2023-07-01/2023-08-31"
LAND = (Path(__file__).resolve().parents[2] / "src" / "satlesson" / "data"
        / "rhodes-region-land.geojson")


def closed_port() -> int:
    """A local port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- bad arguments: ValueError before any request ---------------------------------------------
# The URL is a closed port, so a check that let an argument through would fail differently.


@pytest.fixture(scope="module")
def nowhere() -> str:
    return f"http://127.0.0.1:{closed_port()}/v1"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bbox": (27.9, 36.1, 28.0)}, "4 numbers"),
        ({"bbox": "27.9,36.1,28,36.3"}, "4 numbers"),
        ({"bbox": (27.9, 36.3, 28.0, 36.1)}, "miny"),
        ({"bbox": (560900, 3995000, 570900, 4015000)}, "projected coordinates"),
        ({"bbox": (27.9, 136.1, 28.0, 136.3)}, "lat within -90..90"),
        ({"intersects": (36.20, 127.95)}, "swap"),
        ({"intersects": (200.0, 36.2)}, "lon must be within -180..180"),
        ({"intersects": (27.95, 36.20, 5.0)}, "(lon, lat) point"),
        ({"intersects": "POINT (27.95 36.2)"}, "intersects must be"),
        ({"intersects": {"type": "Point"}}, "not a valid GeoJSON"),
        ({"intersects": RHODES, "bbox": (27.9, 36.1, 28.0, 36.3)}, "not both"),
        ({"max_items": 0}, "max_items"),
        ({"timeout": 0}, "timeout"),
        ({"retries": -1}, "retries"),
    ],
)
def test_bad_arguments_are_value_errors(nowhere: str, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        search_items(nowhere, collection="sentinel-2-l2a", **kwargs)


def test_geojson_in_utm_is_refused_with_a_hint(nowhere: str) -> None:
    # The lesson's own land mask is in EPSG:32635; a STAC API wants lon/lat.
    land = json.loads(LAND.read_text())
    with pytest.raises(ValueError, match="EPSG::32635.*lon/lat"):
        search_items(nowhere, collection="sentinel-2-l2a", intersects=land)


def test_url_must_be_http(nowhere: str) -> None:
    with pytest.raises(ValueError, match="http"):
        search_items("earth-search.aws.element84.com/v1", collection="sentinel-2-l2a")


# --- unreachable or failing APIs: one SearchError sentence ------------------------------------


def test_unreachable_api_is_one_clear_error(nowhere: str) -> None:
    start = time.monotonic()
    with pytest.raises(SearchError) as caught:
        search_items(nowhere, collection="sentinel-2-l2a", intersects=RHODES, retries=1)
    message = str(caught.value)
    assert message == (
        f"Could not reach the STAC API at {nowhere} (connection refused). Check your internet "
        "connection or start the offline mirror: satlesson mirror serve"
    )
    assert isinstance(caught.value.__cause__, APIError)  # the original stays inspectable
    assert time.monotonic() - start < 10


def test_list_collections_unreachable(nowhere: str) -> None:
    with pytest.raises(SearchError, match="Could not reach"):
        list_collections(nowhere, retries=0)


def test_silent_server_times_out() -> None:
    # Accepts connections (the kernel's backlog) but never answers.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
        start = time.monotonic()
        with pytest.raises(SearchError, match=r"did not answer within 0.3 s \(2 attempts\)"):
            list_collections(url, timeout=0.3, retries=1)
        assert time.monotonic() - start < 5


class FlakyApi(BaseHTTPRequestHandler):
    """A tiny STAC API whose first ``failures`` requests get HTTP 503."""

    failures = 0
    seen = 0

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        type(self).seen += 1
        if type(self).seen <= type(self).failures:
            self._send(503, {"code": "ServiceUnavailable", "description": "overloaded"})
        elif self.path.rstrip("/") == "/v1":
            root = f"http://{self.headers['Host']}/v1"
            self._send(
                200,
                {
                    "type": "Catalog",
                    "id": "flaky",
                    "description": "test",
                    "stac_version": "1.0.0",
                    "conformsTo": [
                        "https://api.stacspec.org/v1.0.0/core",
                        "https://api.stacspec.org/v1.0.0/collections",
                    ],
                    "links": [
                        {"rel": "self", "href": root},
                        {"rel": "root", "href": root},
                        {"rel": "data", "href": f"{root}/collections"},
                    ],
                },
            )
        elif self.path.rstrip("/") == "/v1/collections":
            self._send(
                200, {"collections": [_collection("b-one"), _collection("a-two")], "links": []}
            )
        else:
            self._send(404, {"code": "NotFound", "description": "no such thing"})

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _collection(cid: str) -> dict:
    return pystac.Collection(
        cid,
        "test",
        pystac.Extent(
            pystac.SpatialExtent([[-180, -90, 180, 90]]), pystac.TemporalExtent([[None, None]])
        ),
    ).to_dict(include_self_link=False)


@dataclass
class Flaky:
    url: str
    api: type[FlakyApi]


@pytest.fixture
def flaky() -> Iterator[Flaky]:
    FlakyApi.failures, FlakyApi.seen = 0, 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), FlakyApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield Flaky(f"http://127.0.0.1:{server.server_address[1]}/v1", FlakyApi)
    server.shutdown()
    server.server_close()


def test_503_is_retried(flaky: Flaky) -> None:
    flaky.api.failures = 1
    assert list_collections(flaky.url, retries=1) == ["b-one", "a-two"]
    assert flaky.api.seen == 3  # 503, landing page, collections


def test_persistent_503_says_so_after_the_retries(flaky: Flaky) -> None:
    flaky.api.failures = 100
    with pytest.raises(SearchError, match=r"HTTP 503 after 3 attempts: overloaded"):
        list_collections(flaky.url, retries=2)
    assert flaky.api.seen == 3


def test_wrong_url_is_not_a_stac_api(flaky: Flaky) -> None:
    url = flaky.url.replace("/v1", "/v2")
    with pytest.raises(SearchError, match=r"No STAC API answered at .*/v2 \(HTTP 404"):
        list_collections(url, retries=0)


def test_unknown_collection_lists_the_available_ones(flaky: Flaky) -> None:
    with pytest.raises(SearchError) as caught:
        search_items(flaky.url, collection="sentinel-2-l3a", retries=0)
    assert str(caught.value) == (
        f"Collection 'sentinel-2-l3a' does not exist at {flaky.url}; available: a-two, b-one"
    )


# --- the mirror: the lesson's real searches ------------------------------------------------------


def ids(items: pystac.ItemCollection) -> list[str]:
    return [item.id for item in items]


def test_point_search_on_the_mirror(mirror_base: str) -> None:
    items = search_items(
        EARTH_SEARCH, collection="sentinel-2-l2a", intersects=RHODES, datetime=SUMMER
    )
    assert isinstance(items, pystac.ItemCollection)
    assert len(items) == 12
    assert ids(items)[0] == "S2A_35SNA_20230827_0_L2A"
    assert ids(items)[-1] == "S2B_35SNA_20230703_0_L2A"
    dates = [item.datetime for item in items]
    assert dates == sorted(dates, reverse=True)  # newest first
    assert all(item.assets["red"].href.startswith("https://sentinel-cogs.") for item in items)


def test_cloud_cover_query_list_and_dict_agree(mirror_base: str) -> None:
    as_list = search_items(
        EARTH_SEARCH,
        collection="sentinel-2-l2a",
        intersects=RHODES,
        datetime=SUMMER,
        query=["eo:cloud_cover<1"],
    )
    as_dict = search_items(
        EARTH_SEARCH,
        collection="sentinel-2-l2a",
        intersects=RHODES,
        datetime=SUMMER,
        query={"eo:cloud_cover": {"lt": 1}},
    )
    assert len(as_list) == 11
    assert ids(as_list) == ids(as_dict)
    assert all(item.properties["eo:cloud_cover"] < 1 for item in as_list)


def test_geometry_forms_agree(mirror_base: str) -> None:
    point = ids(
        search_items(EARTH_SEARCH, collection="sentinel-2-l2a", intersects=RHODES, datetime=SUMMER)
    )
    shapely_point = ids(
        search_items(
            EARTH_SEARCH, collection="sentinel-2-l2a", intersects=Point(RHODES), datetime=SUMMER
        )
    )
    feature = {"type": "Feature", "properties": {}, "geometry": Point(RHODES).__geo_interface__}
    geojson = ids(
        search_items(EARTH_SEARCH, collection="sentinel-2-l2a", intersects=feature, datetime=SUMMER)
    )
    small_box = ids(
        search_items(
            EARTH_SEARCH,
            collection="sentinel-2-l2a",
            bbox=box(*RHODES, RHODES[0] + 0.01, RHODES[1] + 0.01).bounds,
            datetime=SUMMER,
        )
    )
    assert point == shapely_point == geojson == small_box


def test_max_items_caps(mirror_base: str) -> None:
    items = search_items(
        EARTH_SEARCH, collection="sentinel-2-l2a", intersects=RHODES, datetime=SUMMER, max_items=3
    )
    assert ids(items) == [
        "S2A_35SNA_20230827_0_L2A",
        "S2B_35SNA_20230822_0_L2A",
        "S2A_35SNA_20230817_0_L2A",
    ]


def test_unknown_collection_on_the_mirror(mirror_base: str) -> None:
    with pytest.raises(
        SearchError,
        match=r"Collection 'sentinel-2-l3a' does not exist at "
        r"https://earth-search.aws.element84.com/v1; available: .*sentinel-2-l2a",
    ):
        search_items(EARTH_SEARCH, collection="sentinel-2-l3a", intersects=RHODES)


def test_list_collections_on_the_mirror(mirror_base: str) -> None:
    assert "sentinel-2-l2a" in list_collections(EARTH_SEARCH)


def test_bad_datetime_is_a_value_error(mirror_base: str) -> None:
    with pytest.raises(ValueError, match="Invalid search argument"):
        search_items(
            EARTH_SEARCH, collection="sentinel-2-l2a", intersects=RHODES, datetime="July 2023"
        )
