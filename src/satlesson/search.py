"""Search a STAC API: a thin layer over :mod:`pystac_client` that fails with one clear message.

Learners often work on poor Wi-Fi, so every request has a timeout and is retried with
exponential backoff on connection errors and on the status codes that mean "try again".
When the API stays unreachable the learner sees one :class:`SearchError` sentence instead of
a wall of urllib3 tracebacks.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import pystac
import requests
import urllib3.exceptions
from pystac_client import Client
from pystac_client.exceptions import APIError
from pystac_client.item_search import ItemSearch
from pystac_client.stac_api_io import StacApiIO
from urllib3.util.retry import Retry

from satlesson.errors import SearchError

__all__ = ["SearchError", "list_collections", "search_items"]

# Statuses worth retrying: rate limiting and the gateway/overload family. Other 4xx/5xx answers
# will not change on a second try.
_RETRY_STATUSES = (429, 500, 502, 503, 504)
# Waits between attempts: 0 s, 1 s, 2 s, 4 s, ... (urllib3 skips the wait before the first retry).
_BACKOFF_FACTOR = 0.5
# One page big enough for a typical lesson search: fewer round trips on a slow link.
_PAGE_SIZE = 100
T = TypeVar("T")
_OFFLINE_HINT = "start the offline mirror: satlesson mirror serve"


def search_items(
    url: str,
    collection: str,
    intersects: Any = None,
    bbox: Sequence[float] | None = None,
    datetime: str | None = None,
    query: Sequence[str] | Mapping[str, Any] | None = None,
    max_items: int | None = 100,
    timeout: float = 30,
    retries: int = 3,
) -> pystac.ItemCollection:
    """Search ``collection`` of the STAC API at ``url`` and return the matching items.

    Args:
        url: Root URL of a STAC API, e.g. ``"https://earth-search.aws.element84.com/v1"``.
        collection: Collection id, e.g. ``"sentinel-2-l2a"``. Checked before searching.
        intersects: Area of interest: a ``(lon, lat)`` point, a shapely geometry, or a GeoJSON
            geometry/Feature/FeatureCollection dict in lon/lat (EPSG:4326).
        bbox: ``(minx, miny, maxx, maxy)`` in lon/lat degrees. Give ``bbox`` or
            ``intersects``, not both.
        datetime: A date, or a range like ``"2023-07-01/2023-08-31"``.
        query: Property filters in pystac-client syntax: ``["eo:cloud_cover<1"]`` or
            ``{"eo:cloud_cover": {"lt": 1}}``.
        max_items: Return at most this many items (``None`` for no cap).
        timeout: Seconds to wait for the server on each request.
        retries: How many times to retry a request that failed on the network or with a
            temporary server error (429, 5xx) before giving up.

    Returns:
        The items, in the order the API returns them (Earth Search: newest first).

    Raises:
        ValueError: An argument is malformed (wrong bbox length, lon/lat out of range, ...).
        SearchError: The API is unreachable, refused the search, or lacks ``collection``.
    """
    if not isinstance(collection, str) or not collection:
        raise ValueError(f"collection must be a collection id string, got {collection!r}")
    if intersects is not None and bbox is not None:
        raise ValueError("Give either intersects or bbox, not both: a STAC API takes only one.")
    geometry = _check_intersects(intersects) if intersects is not None else None
    box = _check_bbox(bbox) if bbox is not None else None
    if max_items is not None and (
        isinstance(max_items, bool) or not isinstance(max_items, int) or max_items < 1
    ):
        raise ValueError(f"max_items must be a positive whole number or None, got {max_items!r}")

    client = _open(url, timeout, retries)
    _check_collection(client, url, collection, timeout, retries)

    def build() -> ItemSearch:
        try:
            return client.search(
                collections=[collection],
                intersects=geometry,
                bbox=box,
                datetime=datetime,
                query=query,  # type: ignore[arg-type]
                max_items=max_items,
                limit=min(max_items or _PAGE_SIZE, _PAGE_SIZE),
            )
        except (APIError, NotImplementedError):
            raise
        except Exception as err:
            # Building the search only formats the arguments, and pystac-client raises bare
            # Exceptions for a malformed datetime or query: those are the caller's to fix.
            raise ValueError(f"Invalid search argument: {err}") from err

    search = _call(url, timeout, retries, "search", build)
    return _call(url, timeout, retries, "search", search.item_collection)


def list_collections(url: str, timeout: float = 30, retries: int = 3) -> list[str]:
    """Return the ids of the collections the STAC API at ``url`` offers, in the API's order.

    Raises:
        SearchError: The API is unreachable or did not answer like a STAC API.
    """
    client = _open(url, timeout, retries)
    return _collection_ids(client, url, timeout, retries)


# --- arguments -------------------------------------------------------------------------------


def _check_lonlat(lon: float, lat: float, what: str) -> None:
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise ValueError(f"{what}: coordinates must be finite numbers, got ({lon}, {lat})")
    if -180 <= lon <= 180 and -90 <= lat <= 90:
        return
    hint = ""
    if abs(lon) > 360 or abs(lat) > 360:
        hint = " These look like projected coordinates (metres); convert them to lon/lat first."
    elif -90 <= lon <= 90 and -180 <= lat <= 180:
        hint = " Did you swap them? The order is (lon, lat)."
    raise ValueError(
        f"{what}: ({lon}, {lat}) is not a lon/lat position in degrees "
        f"(lon must be within -180..180, lat within -90..90).{hint}"
    )


def _check_bbox(bbox: Sequence[float]) -> tuple[float, float, float, float]:
    if isinstance(bbox, str | bytes) or not isinstance(bbox, Sequence) or len(bbox) != 4:
        raise ValueError(
            f"bbox must be 4 numbers (minx, miny, maxx, maxy) in lon/lat degrees, got {bbox!r}"
        )
    try:
        minx, miny, maxx, maxy = (float(v) for v in bbox)
    except (TypeError, ValueError) as err:
        raise ValueError(f"bbox must hold numbers, got {bbox!r}") from err
    _check_lonlat(minx, miny, "bbox lower-left corner")
    _check_lonlat(maxx, maxy, "bbox upper-right corner")
    # minx > maxx is legal (a box across the antimeridian); miny > maxy is not.
    if miny > maxy:
        raise ValueError(
            f"bbox has miny {miny} above maxy {maxy}; the order is (minx, miny, maxx, maxy)"
        )
    return minx, miny, maxx, maxy


def _check_intersects(value: Any) -> dict[str, Any]:
    """Normalise ``intersects`` to one GeoJSON geometry dict in lon/lat and check its range."""
    from shapely.geometry import mapping, shape
    from shapely.ops import unary_union

    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        if len(value) != 2 or not all(
            isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value
        ):
            raise ValueError(
                f"intersects as a sequence must be a (lon, lat) point, got {value!r}; "
                "for an area pass a shapely geometry or a GeoJSON dict"
            )
        lon, lat = float(value[0]), float(value[1])
        _check_lonlat(lon, lat, "intersects point")
        return {"type": "Point", "coordinates": [lon, lat]}

    if hasattr(value, "__geo_interface__"):
        value = value.__geo_interface__
    if not isinstance(value, Mapping) or "type" not in value:
        raise ValueError(
            "intersects must be a (lon, lat) point, a shapely geometry or a GeoJSON dict, "
            f"got {type(value).__name__}"
        )
    crs = value.get("crs")
    if isinstance(crs, Mapping):
        name = str(crs.get("properties", {}).get("name", ""))
        if name and not name.endswith(("CRS84", "EPSG::4326", "EPSG:4326")):
            raise ValueError(
                f"intersects GeoJSON is in {name}; a STAC API needs lon/lat (EPSG:4326). "
                "Reproject it first, e.g. with geopandas .to_crs(4326)."
            )
    try:
        if value["type"] == "FeatureCollection":
            # A STAC API takes one geometry: merge the features (e.g. a land mask's parts).
            geom = unary_union([shape(f["geometry"]) for f in value["features"]])
        elif value["type"] == "Feature":
            geom = shape(value["geometry"])
        else:
            geom = shape(value)
    except Exception as err:
        raise ValueError(f"intersects is not a valid GeoJSON geometry: {err}") from err
    if geom.is_empty:
        raise ValueError("intersects is an empty geometry")
    minx, miny, maxx, maxy = geom.bounds
    _check_lonlat(minx, miny, "intersects geometry")
    _check_lonlat(maxx, maxy, "intersects geometry")
    return dict(mapping(geom))


# --- talking to the API ----------------------------------------------------------------------


def _open(url: str, timeout: float, retries: int) -> Client:
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ValueError(f"url must be the http(s) address of a STAC API, got {url!r}")
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"retries must be a whole number >= 0, got {retries!r}")
    retry = Retry(
        total=retries,
        backoff_factor=_BACKOFF_FACTOR,
        status_forcelist=_RETRY_STATUSES,
        # pystac-client searches with POST; a search changes nothing, so replaying it is safe.
        allowed_methods=None,
        # Hand the last error response back so its status and body reach the message.
        raise_on_status=False,
    )
    stac_io = StacApiIO(timeout=timeout, max_retries=retry)
    # Client.open passes its own timeout to stac_io.update(), which would reset ours to None.
    return _call(
        url, timeout, retries, "open", lambda: Client.open(url, stac_io=stac_io, timeout=timeout)
    )


def _check_collection(
    client: Client, url: str, collection: str, timeout: float, retries: int
) -> None:
    found = _call(url, timeout, retries, "collection", lambda: client.get_collection(collection))
    if found is not None:
        return
    # Only list on a miss: some APIs (e.g. NASA CMR) page through hundreds of collections.
    available = sorted(_collection_ids(client, url, timeout, retries))
    shown = ", ".join(available[:40]) + (", ..." if len(available) > 40 else "")
    raise SearchError(f"Collection '{collection}' does not exist at {url}; available: {shown}")


def _collection_ids(client: Client, url: str, timeout: float, retries: int) -> list[str]:
    return _call(
        url, timeout, retries, "collections", lambda: [c.id for c in client.get_collections()]
    )


def _call(url: str, timeout: float, retries: int, step: str, fn: Callable[[], T]) -> T:
    """Run one pystac-client call and turn its failures into one :class:`SearchError`."""
    try:
        return fn()
    except APIError as err:
        raise SearchError(_describe(url, timeout, retries, step, err)) from err
    except NotImplementedError as err:
        raise SearchError(f"The STAC catalog at {url} cannot do this: {err}") from err
    except (json.JSONDecodeError, pystac.STACError, pystac.STACTypeError, KeyError) as err:
        raise SearchError(
            f"{url} did not answer like a STAC API ({type(err).__name__}: {err}). "
            "Check the URL: it should be the API's root, e.g. "
            "https://earth-search.aws.element84.com/v1"
        ) from err


def _describe(url: str, timeout: float, retries: int, step: str, err: APIError) -> str:
    tries = f"{retries + 1} attempt{'s' if retries else ''}"
    cause = err.__cause__ or err.__context__  # pystac-client re-raises requests' error bare
    status = getattr(err, "status_code", None)
    if _timed_out(cause):
        return (
            f"The STAC API at {url} did not answer within {timeout:g} s ({tries}). "
            f"The connection may be slow: try again, pass a larger timeout=, or {_OFFLINE_HINT}"
        )
    if isinstance(cause, requests.ConnectionError) or (status is None and cause is not None):
        return (
            f"Could not reach the STAC API at {url} ({_reason(cause)}). "
            f"Check your internet connection or {_OFFLINE_HINT}"
        )
    detail = _detail(str(err))
    if status is not None and (status >= 500 or status == 429):
        return (
            f"The STAC API at {url} is having trouble (HTTP {status} after {tries}{detail}). "
            f"Try again in a few minutes or {_OFFLINE_HINT}"
        )
    if step == "open":
        return (
            f"No STAC API answered at {url} (HTTP {status}{detail}). Check the URL: it should "
            "be the API's root, e.g. https://earth-search.aws.element84.com/v1"
        )
    return f"The STAC API at {url} refused the {step} request (HTTP {status}{detail})."


def _timed_out(cause: BaseException | None) -> bool:
    if isinstance(cause, requests.Timeout):
        return True
    # Once retries run out requests reports a read timeout as a ConnectionError that wraps
    # urllib3's MaxRetryError, so look at the reason inside.
    inner = cause.args[0] if cause is not None and cause.args else None
    reason = getattr(inner, "reason", None)
    # urllib3 2 derives NewConnectionError (e.g. connection refused) from its timeout class.
    return isinstance(reason, urllib3.exceptions.TimeoutError) and not isinstance(
        reason, urllib3.exceptions.NewConnectionError
    )


def _reason(cause: BaseException | None) -> str:
    text = str(cause)
    low = text.lower()
    if "refused" in low:
        return "connection refused"
    if any(
        s in low
        for s in (
            "name or service not known",
            "nodename nor servname",
            "getaddrinfo failed",
            "temporary failure in name resolution",
            "nameresolutionerror",
        )
    ):
        return "the host name could not be looked up"
    if "unreachable" in low:
        return "network unreachable"
    if "reset" in low or "aborted" in low or "remotedisconnected" in low:
        return "the connection was cut"
    if "ssl" in low or "certificate" in low:
        return "secure connection failed"
    return type(cause).__name__ if cause is not None else "no answer"


def _detail(body: str) -> str:
    """The server's own explanation, short: stac-fastapi answers {"code", "description"}."""
    text = body.strip()
    try:
        doc = json.loads(text)
        if isinstance(doc, dict):
            text = str(doc.get("description") or doc.get("detail") or doc.get("message") or text)
    except ValueError:
        pass
    if not text or text.lstrip().startswith("<"):  # an HTML error page says nothing useful
        return ""
    text = " ".join(text.split())
    return ": " + (text if len(text) <= 200 else text[:197] + "...")
