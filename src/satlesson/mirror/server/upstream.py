"""What each mirrored STAC API supports upstream, so the mirror claims and does no more.

One record per API: the conformance classes upstream advertises (landing page ``conformsTo``
and ``/conformance``), the stac-fastapi-pgstac extensions that serve them, the parameters
upstream accepts but ignores, and the requests upstream refuses, with its exact answer.
Each record says when it was checked and from where; re-check it when upstream changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from satlesson.mirror.urls import CMR, EARTH_SEARCH

STAC = "https://api.stacspec.org"
OGC_FEATURES = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf"


@dataclass(frozen=True)
class Refusal:
    """Upstream's error answer to a search it does not accept."""

    status: int
    body: dict[str, Any]


@dataclass(frozen=True)
class Upstream:
    """The capability surface of one upstream STAC API."""

    mount: str  # where the mirror serves it: "/HOST/PATH" of the upstream URL
    checked: str  # ISO date the record was checked
    sources: tuple[str, ...]  # where it was checked
    conformance: tuple[str, ...]
    # stac-fastapi-pgstac search extensions (ENABLED_EXTENSIONS keys) that serve the classes.
    extensions: tuple[str, ...]
    # Search parameters upstream accepts and silently ignores: the mirror drops them.
    ignored: tuple[str, ...] = ()
    # Item properties a `query` may test; None: any. Terms on other properties are ignored.
    query_properties: tuple[str, ...] | None = None
    # The `query` operators upstream reads, each mapped to the one the mirror applies, in
    # upstream's order of precedence (CMR reads lt before lte, both as an inclusive maximum);
    # None: all. Other operators are ignored.
    query_operators: dict[str, str] | None = None
    query_in_get: bool = True  # False: upstream ignores `query` given as a URL parameter
    # Fields `sortby` may name (without "properties."); None: any. Else `sort_refusal`.
    sortable: tuple[str, ...] | None = None
    sort_refusal: Refusal | None = None
    bbox_and_intersects: Refusal | None = None  # upstream's answer when both are given


EARTH_SEARCH_V1 = Upstream(
    mount=f"/{EARTH_SEARCH}/v1",
    checked="2026-11-25",
    sources=(
        # stac-server, which Earth Search v1 runs, before its CQL2 support: getConformance.
        "github.com/stac-utils/stac-server src/lib/api.js getConformance (v1.0.0 classes)",
        # The maintainers: Earth Search v1 has no CQL2 filter; `query` is the way to filter.
        "github.com/Element84/earth-search/issues/62 (2025-03-04)",
    ),
    conformance=(
        f"{STAC}/v1.0.0/core",
        f"{STAC}/v1.0.0/collections",
        f"{STAC}/v1.0.0/ogcapi-features",
        f"{STAC}/v1.0.0/item-search",
        f"{STAC}/v1.0.0/ogcapi-features#fields",
        f"{STAC}/v1.0.0/ogcapi-features#sort",
        f"{STAC}/v1.0.0/ogcapi-features#query",
        f"{STAC}/v1.0.0/item-search#fields",
        f"{STAC}/v1.0.0/item-search#sort",
        f"{STAC}/v1.0.0/item-search#query",
        f"{OGC_FEATURES}/core",
        f"{OGC_FEATURES}/oas30",
        f"{OGC_FEATURES}/geojson",
        # Upstream also advertises its aggregation extension, which the mirror does not serve
        # (the lesson does not use it), so the mirror does not claim it.
    ),
    extensions=("query", "sort", "fields", "pagination"),
    # stac-server of that version reads only the parameters it knows; a CQL2 filter is ignored.
    ignored=("filter", "filter-lang", "filter_lang", "filter-crs"),
)

CMR_LPCLOUD = Upstream(
    mount=f"/{CMR}/stac/LPCLOUD",
    checked="2026-11-25",
    sources=(
        "github.com/nasa/cmr-stac src/domains/providers.ts (conformance)",
        "github.com/nasa/cmr-stac src/domains/stac.ts buildQuery/cloudCoverQuery (what a search "
        "reads: ids, collections, bbox, intersects, datetime, limit, sortby, cursor, and `query` "
        "on eo:cloud_cover only)",
        "github.com/nasa/cmr-stac src/middleware/index.ts validateQueryTerms (refusals)",
        # The former implementation answered `filter` with HTTP 500 and "Unsupported parameter
        # filter" (github.com/nasa/EMIT-Data-Resources/issues/45, 2023-10-31) and returned no
        # items for a cloud-cover `query` (github.com/nasa/cmr-stac/issues/239, 2022-10-18);
        # the current one, live since 2023 (its {"errors": [...]} answers are quoted in
        # cmr-stac issues #275, #371, #386), ignores `filter` and honours that `query`.
    ),
    conformance=(
        f"{STAC}/v1.0.0-rc.2/core",
        f"{STAC}/v1.0.0-rc.2/item-search",
        f"{STAC}/v1.0.0-rc.2/ogcapi-features",
        f"{STAC}/v1.0.0-rc.2/item-search#fields",
        f"{STAC}/v1.0.0-rc.2/item-search#features",
        f"{STAC}/v1.0.0-rc.2/item-search#query",
        f"{STAC}/v1.0.0-rc.2/item-search#sort",
        f"{STAC}/v1.0.0-rc.2/item-search#context",
        f"{OGC_FEATURES}/core",
        f"{OGC_FEATURES}/oas30",
        f"{OGC_FEATURES}/geojson",
    ),
    extensions=("query", "sort", "fields", "pagination"),
    ignored=("filter", "filter-lang", "filter_lang", "filter-crs"),
    query_properties=("eo:cloud_cover",),
    # cloudCoverQuery: max = lt || lte, min = gt || gte; CMR's cloud_cover range is inclusive.
    query_operators={"lt": "lte", "lte": "lte", "gt": "gte", "gte": "gte"},
    query_in_get=False,  # a JSON `query` in the URL is a string, which cloudCoverQuery skips
    sortable=("startDate", "endDate", "id", "title", "eo:cloud_cover", "datetime"),
    sort_refusal=Refusal(400, {"errors": [
        "Invalid sort field(s). Valid fields are: startDate, endDate, id, title, "
        "eo:cloud_cover, datetime"]}),
    bbox_and_intersects=Refusal(400, {"errors": [
        "Query params BBOX and INTERSECTS are mutually exclusive. You may only use one at a "
        "time."]}),
)

UPSTREAMS: dict[str, Upstream] = {u.mount: u for u in (EARTH_SEARCH_V1, CMR_LPCLOUD)}
