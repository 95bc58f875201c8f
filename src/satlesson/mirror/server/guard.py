"""Searches reach pgstac as upstream would read them, and bad ones get a 4xx, never a 500.

``SearchGuard`` sits in front of one stac-fastapi app. For item searches (``/search`` and
``/collections/{id}/items``) it drops the parameters upstream ignores, narrows ``query`` to
what upstream understands, answers the requests upstream refuses with upstream's own error, and
answers with a 400 the input stac-fastapi-pgstac would crash on (a POST body that is not a JSON
object, a URL `intersects` or `query` that is not one); it drops empty names from `fields`.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from satlesson.mirror.server.upstream import Refusal, Upstream


def bad_request(description: str) -> JSONResponse:
    """The mirror's own 4xx body, as stac-fastapi writes its errors."""
    return JSONResponse({"code": "BadRequest", "description": description}, 400)


class SearchGuard:
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
        fields.append(name.strip().lstrip("+-").removeprefix("properties."))
    return fields


async def _answer(refusal: Refusal, scope: Scope, receive: Receive, send: Send) -> None:
    await JSONResponse(refusal.body, refusal.status)(scope, receive, send)
