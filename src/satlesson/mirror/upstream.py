"""The two STAC APIs the lesson reads, one record each: who they are and what they support
upstream, so the mirror serves them under their own names and claims and does no more.

Each record holds the API's identity (its root URL, landing page id and title, and the
database the mirror keeps it in), the conformance classes upstream advertises (landing page
``conformsTo`` and ``/conformance``), the stac-fastapi-pgstac extensions that serve them, the
parameters upstream accepts but ignores, and the requests upstream refuses, with its exact
answer (including request bodies bigger than its gateway, function or app takes).
Each record says when it was checked and from where; re-check it when upstream changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from satlesson.mirror.client.urls import CMR_LPCLOUD_API, EARTH_SEARCH_API

STAC = "https://api.stacspec.org"
OGC_FEATURES = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf"


@dataclass(frozen=True)
class Refusal:
    """Upstream's error answer to a search it does not accept."""

    status: int
    body: dict[str, Any]


@dataclass(frozen=True)
class BodyLimit:
    """The largest request body (bytes) one layer in front of upstream's code takes, and the
    answer to a bigger one."""

    max_bytes: int
    refusal: Refusal


@dataclass(frozen=True)
class Upstream:
    """One upstream STAC API: its identity and its capability surface."""

    url: str  # the upstream root, https://HOST/PATH
    landing_id: str  # the upstream landing page's id
    title: str
    dbname: str  # the mirror's pgstac database for it
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
    # What each layer (gateway, function, app) takes: a body over several limits gets the answer
    # of the outermost layer, the one with the largest limit. Empty: no limit.
    body_limits: tuple[BodyLimit, ...] = ()

    @property
    def mount(self) -> str:
        """Where the mirror serves it: "/HOST/PATH" of the upstream URL."""
        return "/" + self.url.removeprefix("https://")

    def body_refusal(self, size: int) -> Refusal | None:
        """Upstream's answer to a request body of ``size`` bytes; None: it takes it."""
        over = [limit for limit in self.body_limits if size > limit.max_bytes]
        return max(over, key=lambda limit: limit.max_bytes).refusal if over else None


EARTH_SEARCH_V1 = Upstream(
    url=EARTH_SEARCH_API,
    landing_id="earth-search-aws",
    title="Earth Search by Element 84",
    dbname="earth_search",
    checked="2026-11-25",
    sources=(
        # stac-server, which Earth Search v1 runs, before its CQL2 support: getConformance.
        "github.com/stac-utils/stac-server src/lib/api.js getConformance (v1.0.0 classes)",
        # The maintainers: Earth Search v1 has no CQL2 filter; `query` is the way to filter.
        "github.com/Element84/earth-search/issues/62 (2025-03-04)",
        # Body limits (checked 2026-12-03), innermost first. stac-server parses a body with
        # express.json({limit: '1mb'}) (since v0.5.1) and its error handler answers the
        # parser's 413 with code InternalServerError and the parser's message (since v3.4.0):
        "github.com/stac-utils/stac-server src/lambdas/api/app.js (commits b95f2d8, 4b84017)",
        # It runs as a Lambda function behind an API Gateway REST API (serverless `http`
        # events), whose Lambda invocation takes at most 6 MB (6,291,456 bytes, counting the
        # event around the body, so a body a little smaller is already refused) ...
        "github.com/stac-utils/stac-server serverless.example.yml (functions.api.events)",
        "docs.aws.amazon.com/lambda/latest/dg/API_Invoke.html (synchronous payload 6 MB)",
        # ... which API Gateway answers with 413 {"message": "Request Too Long"}; past its own
        # 10 MB it answers 413 with the text "HTTP content length exceeded 10485760 bytes.",
        # which the mirror, whose refusals are JSON, does not copy (the 6 MB answer stands).
        "docs.aws.amazon.com/apigateway/latest/developerguide/"
        "api-gateway-execution-service-limits-table.html (payload size 10 MB)",
        "github.com/koki-develop/lgtm-generator/issues/10 (both 413 answers, 2021-09-12)",
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
    body_limits=(
        BodyLimit(1024 * 1024, Refusal(413, {"code": "InternalServerError",
                                             "description": "request entity too large"})),
        BodyLimit(6 * 1024 * 1024, Refusal(413, {"message": "Request Too Long"})),
    ),
)

CMR_LPCLOUD = Upstream(
    url=CMR_LPCLOUD_API,
    landing_id="LPCLOUD",
    title="LPCLOUD",
    dbname="cmr_lpcloud",
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
        # Body limit (checked 2026-12-03): express.json() with body-parser's default limit,
        # 100 kB (102,400 bytes). Its 413 PayloadTooLargeError has no `handle`, so errorHandler
        # answers it with HTTP 500 and its generic {"errors": ["Oops! Something has gone
        # wrong. ..."]}; the mirror, which never answers 5xx, keeps the 413 and the parser's
        # words in CMR's error shape.
        "github.com/nasa/cmr-stac src/app.ts createApp, src/middleware/index.ts errorHandler",
        # Further out, the function is a Lambda target of CMR's Application Load Balancer,
        # which passes a Lambda target at most 1 MB and refuses more with a 413 of its own
        # (not JSON); the mirror answers those bodies too with the JSON refusal below.
        "github.com/nasa/cmr-stac cdk/cmr-stac/lib/cmr-stac-stack.ts (StacAlbTargetGroup)",
        "docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html",
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
    body_limits=(BodyLimit(100 * 1024, Refusal(413, {"errors": ["request entity too large"]})),),
)

UPSTREAMS: tuple[Upstream, ...] = (EARTH_SEARCH_V1, CMR_LPCLOUD)
