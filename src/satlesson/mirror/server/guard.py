"""Searches reach pgstac as upstream would read them, and bad ones get a 4xx, never a 500.

``BodyGuard`` sits in front of each API, before anything reads a request body: it refuses a
body bigger than upstream takes, with upstream's answer and before reading it, and answers with
a 400 a body nested deeper than ``MAX_JSON_DEPTH``, which Python's json module (recursive)
and pydantic's serializer cannot take.

``SearchGuard`` sits in front of one stac-fastapi app. For item searches (``/search`` and
``/collections/{id}/items``) it drops the parameters upstream ignores, narrows ``query`` to
what upstream understands, answers the requests upstream refuses with upstream's own error, and
answers with a 400 the input stac-fastapi-pgstac would crash on (a POST body that is not a JSON
object, a URL `intersects` or `query` that is not one or is nested too deeply); it drops empty
names from `fields`.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from satlesson.mirror.upstream import Refusal, Upstream

# Far deeper than any search (a GeometryCollection of MultiPolygons is 8 levels, a CQL2 filter
# a few dozen), well below where the json module's recursion (about 1,000 levels) and
# pydantic-core's serializer (about 255 levels) fail with a 500.
MAX_JSON_DEPTH = 100
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_A_BRACKET = bytes(sorted(set(range(256)) - set(b"[]{}")))


def bad_request(description: str) -> JSONResponse:
    """The mirror's own 4xx body, as stac-fastapi writes its errors."""
    return JSONResponse({"code": "BadRequest", "description": description}, 400)


def nested_too_deeply(text: bytes) -> bool:
    """Whether the JSON ``text`` (or what it would be, if malformed) nests arrays and objects
    deeper than ``MAX_JSON_DEPTH``, found without parsing it: brackets outside strings."""
    brackets = _JSON_STRING.sub(b"", text).translate(None, _NOT_A_BRACKET)
    if len(brackets) <= MAX_JSON_DEPTH:
        return False
    depth = 0
    for byte in brackets:
        depth += 1 if byte in b"[{" else -1
        if depth > MAX_JSON_DEPTH:
            return True
    return False


def _too_deep(what: str) -> JSONResponse:
    return bad_request(f"{what} nests arrays and objects more than {MAX_JSON_DEPTH} levels deep.")


class BodyGuard:
    """In front of one API: the request body within upstream's limits and nesting depth.

    A Content-Length over a limit is answered at once, unread. A body streamed without one is
    counted as it arrives, kept only up to the smallest limit, and read at most one byte past
    the largest, whose answer is upstream's whatever the size beyond.
    """

    def __init__(self, app: ASGIApp, upstream: Upstream) -> None:
        self.app = app
        self.upstream = upstream
        limits = [limit.max_bytes for limit in upstream.body_limits]
        self.keep = min(limits, default=None)  # None: no limit
        self.count_to = max(limits, default=0)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = _content_length(headers.get(b"content-length"))
        if length is not None:
            refusal = self.upstream.body_refusal(length)
            if refusal is not None:
                await _answer(refusal, scope, receive, send)
                return
        elif b"transfer-encoding" not in headers:  # HTTP/1.1: no body at all
            await self.app(scope, receive, send)
            return
        if length == 0:
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            size += len(message.get("body", b""))
            if self.keep is None or size <= self.keep:
                messages.append(message)
            else:
                messages.clear()  # refused whatever follows: keep nothing
                if size > self.count_to:
                    break
            if not message.get("more_body"):
                break
        refusal = self.upstream.body_refusal(size)
        if refusal is not None:
            await _answer(refusal, scope, receive, send)
            return
        if nested_too_deeply(b"".join(m.get("body", b"") for m in messages)):
            await _too_deep("The request body")(scope, receive, send)
            return
        pending = iter(messages)

        async def replay() -> Message:
            return next(pending, None) or await receive()

        await self.app(scope, replay, send)


def _content_length(value: bytes | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:  # the server refuses such a request before it gets here
        return None


class SearchGuard:
    """In front of one stac-fastapi app, behind ``BodyGuard`` (which bounds what it parses)."""

    def __init__(self, app: ASGIApp, upstream: Upstream) -> None:
        self.app = app
        self.upstream = upstream

    def _is_search(self, scope: Scope) -> bool:
        path = scope["path"].removeprefix(self.upstream.mount)
        parts = path.strip("/").split("/")
        return path.rstrip("/") == "/search" or (
            len(parts) == 3 and parts[0] == "collections" and parts[2] == "items")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._is_search(scope):
            await self.app(scope, receive, send)
            return
        if scope["method"] == "POST":
            await self._post(scope, receive, send)
        elif scope["method"] == "GET":
            await self._get(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _get(self, scope: Scope, receive: Receive, send: Send) -> None:
        upstream = self.upstream
        params = [(k, v) for k, v in
                  parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
                  if k not in upstream.ignored and (k != "query" or upstream.query_in_get)]
        search: dict[str, Any] = {}
        for key, value in params:
            search.setdefault(key, value)
        for key in ("intersects", "query"):  # the URL's JSON, parsed here and by stac-fastapi
            if key in search and nested_too_deeply(search[key].encode()):
                await _too_deep(f"The {key} parameter")(scope, receive, send)
                return
        refusal = self._refusal(search)
        if refusal is not None:
            await _answer(refusal, scope, receive, send)
            return
        if search.get("intersects") and not _is_json_object(search["intersects"]):
            await bad_request("The intersects parameter must be a GeoJSON geometry.")(
                scope, receive, send)
            return
        if search.get("query"):  # an empty one means none, upstream and in stac-fastapi
            query = self._narrow_query_text(search["query"])
            if query is None:
                response = bad_request("The query parameter must be a JSON object, such as "
                                       '{"eo:cloud_cover": {"lt": 10}}.')
                await response(scope, receive, send)
                return
            params = [(k, query if k == "query" else v) for k, v in params
                      if k != "query" or query]
        # stac-fastapi-pgstac fails on an empty name in a `fields` list ("fields=a,,b").
        params = [(k, ",".join(f for f in v.split(",") if f) if k == "fields" else v)
                  for k, v in params]
        scope = {**scope, "query_string": urlencode(params).encode("latin-1")}
        await self.app(scope, receive, send)

    async def _post(self, scope: Scope, receive: Receive, send: Send) -> None:
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        try:
            search = json.loads(body)
        except ValueError:
            search = None  # not JSON: stac-fastapi answers that with a 400 itself
        else:
            if not isinstance(search, dict):
                await bad_request("The search body must be a JSON object.")(scope, receive, send)
                return
            refusal = self._refusal(search)
            if refusal is not None:
                await _answer(refusal, scope, receive, send)
                return
            for key in self.upstream.ignored:
                search.pop(key, None)
            if isinstance(search.get("query"), dict):
                search["query"] = self._narrow_query(search["query"])
                if not search["query"]:  # nothing upstream reads: as if none was given
                    search.pop("query")
            body = json.dumps(search).encode()
        headers = [(k, v) for k, v in scope["headers"] if k != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app({**scope, "headers": headers}, replay, send)

    def _narrow_query(self, query: dict[str, Any]) -> dict[str, Any]:
        """Keep the `query` terms upstream reads, with its operators folded as it folds them."""
        properties = self.upstream.query_properties
        operators = self.upstream.query_operators
        narrowed: dict[str, Any] = {}
        for name, terms in query.items():
            if properties is not None and name not in properties:
                continue
            if operators is None or not isinstance(terms, dict):
                narrowed[name] = terms
                continue
            folded: dict[str, Any] = {}
            for op, applied in operators.items():
                if op in terms:
                    folded.setdefault(applied, terms[op])
            if folded:
                narrowed[name] = folded
        return narrowed

    def _narrow_query_text(self, text: str) -> str | None:
        """The URL's `query` narrowed to what upstream reads ("": nothing); None: not JSON."""
        try:
            query = json.loads(text)
        except ValueError:
            return None
        if not isinstance(query, dict):
            return None
        narrowed = self._narrow_query(query)
        return json.dumps(narrowed) if narrowed else ""

    def _refusal(self, search: dict[str, Any]) -> Refusal | None:
        upstream = self.upstream
        if upstream.bbox_and_intersects and search.get("bbox") and search.get("intersects"):
            return upstream.bbox_and_intersects
        if upstream.sortable is not None and upstream.sort_refusal and search.get("sortby"):
            fields = _sort_fields(search["sortby"])
            if any(f not in upstream.sortable for f in fields):
                return upstream.sort_refusal
        return None


def _is_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def _sort_fields(sortby: Any) -> list[str]:
    """The field names a `sortby` (GET string or POST list) names, without sign or prefix."""
    if isinstance(sortby, str):
        rules: list[Any] = sortby.split(",")
    elif isinstance(sortby, list):
        rules = sortby
    else:
        return [str(sortby)]
    fields = []
    for rule in rules:
        name = rule.get("field", "") if isinstance(rule, dict) else str(rule)
        if not isinstance(name, str):
            # Upstream reads it as JavaScript text ("0", "null", "[object Object]"), which
            # names no sortable field (but for an array of one name): refused.
            name = f"<{type(name).__name__}>"
        fields.append(name.strip().lstrip("+-").removeprefix("properties."))
    return fields


async def _answer(refusal: Refusal, scope: Scope, receive: Receive, send: Send) -> None:
    await JSONResponse(refusal.body, refusal.status)(scope, receive, send)
