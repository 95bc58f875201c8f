"""The mirror's ASGI application: two stac-fastapi-pgstac APIs and a byte-range file server.

Every upstream URL ``https://HOST/PATH`` is answered at ``/HOST/PATH``, where the mirror's
proxy (``proxy.py``) sends the requests made at the real address, and where a browser can
read it directly:
- the STAC APIs are stac-fastapi-pgstac apps routed at their upstream paths, behind a guard
  that refuses request bodies as upstream does (``guard.py``); their JSON is reshaped on the
  way out (the links stac-fastapi builds from the request name the real host, upstream key
  order); a recorded snapshot answers the requests it saw with upstream's own bytes
  (``RecordedAnswers``); repeated requests are answered from the bytes prepared the first
  time (``cache.py``);
- asset files are served by ``FileResponse`` (206 for Range requests) from the snapshot
  snapshot (``mirror/snapshot.py``: synthetic, rendered on first request, or recorded). Only
  the files the snapshot advertises exist: any other path is a 404, so nothing outside the snapshot
  can be reached.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import orjson

# stac-fastapi builds default Settings at import, which warns about default titles; ours are set.
logging.getLogger("stac_fastapi.types.config").setLevel(logging.ERROR)

from asyncpg.exceptions import DataError, RaiseError  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from stac_fastapi.pgstac.app import instantiate_api  # noqa: E402
from stac_fastapi.pgstac.config import PostgresSettings, Settings  # noqa: E402
from stac_fastapi.pgstac.core import CoreCrudClient  # noqa: E402
from stac_fastapi.pgstac.db import close_db_connection, connect_to_db  # noqa: E402
from stac_fastapi.pgstac.models.extensions import Extensions  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import FileResponse, JSONResponse, Response  # noqa: E402
from starlette.routing import Route  # noqa: E402
from starlette.types import ASGIApp, Message, Receive, Scope, Send  # noqa: E402

from satlesson.mirror.client.login import EARTHDATA_LOGIN, EARTHDATA_MACHINE, netrc_text  # noqa: E402
from satlesson.mirror.client.routing import CA_PATH  # noqa: E402
from satlesson.mirror.client.urls import MIRRORED_HOSTS  # noqa: E402
from satlesson.mirror.server.cache import ResponseCache, Store  # noqa: E402
from satlesson.mirror.server.guard import BodyGuard, SearchGuard, bad_request  # noqa: E402
from satlesson.mirror.server.listing import FolderIndex, index_page  # noqa: E402
from satlesson.mirror.server.postgres import Cluster  # noqa: E402
from satlesson.mirror.server.proxy import ca_certificate  # noqa: E402
from satlesson.mirror.snapshot import ServedApi, Snapshot  # noqa: E402


def write_netrc(state_dir: Path) -> Path:
    path = state_dir / "netrc"
    path.write_text(netrc_text())
    path.chmod(0o600)
    return path


def _geojson(answer: Any) -> Any:
    """The document as the route's GeoJSON response would send it, made by orjson: handed a
    dict, FastAPI walks it with ``jsonable_encoder`` first, which took more than half the time
    of a large search (a search of 851 items, 19 MB: 6.4 s with it, 3.7 s without)."""
    if isinstance(answer, Response):  # what pgstac already made (a `fields` answer)
        return answer
    return Response(orjson.dumps(answer), media_type="application/geo+json")


class UpstreamClient(CoreCrudClient):
    """Claims exactly the conformance classes upstream advertises (set as the base classes),
    not the union stac-fastapi derives from its extensions' defaults; sends its items and
    item collections as they come from the database, without FastAPI's encoder."""

    def conformance_classes(self) -> list[str]:
        return list(self.base_conformance_classes)

    async def get_search(self, *args: Any, **kwargs: Any) -> Any:
        return _geojson(await super().get_search(*args, **kwargs))

    async def post_search(self, *args: Any, **kwargs: Any) -> Any:
        return _geojson(await super().post_search(*args, **kwargs))

    async def item_collection(self, *args: Any, **kwargs: Any) -> Any:
        return _geojson(await super().item_collection(*args, **kwargs))

    async def get_item(self, *args: Any, **kwargs: Any) -> Any:
        return _geojson(await super().get_item(*args, **kwargs))


def _stac_app(api: ServedApi) -> FastAPI:
    upstream = api.upstream
    settings = Settings(
        prefix_path=upstream.mount,
        openapi_url=f"{upstream.mount}/api",
        docs_url=f"{upstream.mount}/api.html",
        stac_fastapi_title=upstream.title,
        stac_fastapi_description=f"Offline mirror of {upstream.title} for the satlesson lesson",
        stac_fastapi_landing_id=upstream.landing_id,
        stac_fastapi_version="1.0.0",
        # Only what upstream supports: no CQL2 filter, no collection search, no free text.
        enabled_extensions=list(upstream.extensions),
    )

    @asynccontextmanager
    async def no_lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield  # Dispatch sends lifespan events to the file app, which opens these pools

    stac_api = instantiate_api(client=UpstreamClient, settings=settings,
                               extensions=Extensions(settings=settings), lifespan=no_lifespan)
    # The client took its landing-page fields from process-wide defaults: give it ours.
    stac_api.client.landing_page_id = upstream.landing_id
    stac_api.client.title = upstream.title
    stac_api.client.description = settings.stac_fastapi_description
    stac_api.client.base_conformance_classes = list(upstream.conformance)
    app = stac_api.app

    async def invalid_input(request: Request, exc: Exception) -> Response:
        # pgstac raises these for input it cannot use (a made-up paging token, a value of
        # the wrong type): the request's fault, not the server's.
        return bad_request(str(exc).strip() or "The request cannot be answered.")

    app.add_exception_handler(RaiseError, invalid_input)
    app.add_exception_handler(DataError, invalid_input)
    key_order = {item["id"]: {"properties": list(item["properties"]),
                              "assets": list(item["assets"])} for item in api.items()}
    app.add_middleware(SearchGuard, upstream=upstream)
    app.add_middleware(UpstreamShape, mount=upstream.mount, key_order=key_order,
                       collection_order=[c["id"] for c in api.collections()])
    if api.answer is not None:  # outermost: a recorded request is looked up as the client
        # sent it, and upstream's bytes go out untouched
        app.add_middleware(RecordedAnswers, answer=api.answer)
    return app


class RecordedAnswers:
    """Answer a request the recording saw with upstream's answer to it; pass the rest on."""

    def __init__(self, app: ASGIApp,
                 answer: Callable[[str, str, str, bytes], dict[str, Any] | None]) -> None:
        self.app = app
        self.answer = answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        while not messages or messages[-1].get("more_body"):
            messages.append(await receive())
            if messages[-1]["type"] != "http.request":
                break
        body = b"".join(m.get("body", b"") for m in messages)
        found = self.answer(scope["method"], scope["path"], scope["query_string"].decode(), body)
        if found is not None:
            response = Response(found["body"], found["status"],
                                media_type=found["content_type"] or "application/json")
            await response(scope, receive, send)
            return
        pending = iter(messages)

        async def replay() -> Message:
            return next(pending, None) or await receive()

        await self.app(scope, replay, send)


class UpstreamShape:
    """Make the API's JSON read like upstream's: the links stac-fastapi builds from the
    request (``http://APP/HOST/...``) name the real ``https://HOST/...``, the landing link has
    no trailing slash, collections and item keys keep upstream's order."""

    def __init__(self, app: ASGIApp, mount: str, key_order: dict[str, dict[str, list[str]]],
                 collection_order: list[str]) -> None:
        self.app = app
        self.mount = mount
        self.key_order = key_order  # item id -> {"properties": [...], "assets": [...]}
        self.collection_order = collection_order

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Ask for an uncompressed body so it can be rewritten.
        scope["headers"] = [(k, v) for k, v in scope["headers"] if k != b"accept-encoding"]
        base = _base_url(scope).encode()
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            headers = dict(start["headers"])
            if b"json" in headers.get(b"content-type", b""):
                body = self._reshape(body, base)
            headers[b"content-length"] = str(len(body)).encode()
            await send({**start, "headers": list(headers.items())})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, capture)

    def _reshape(self, body: bytes, base: bytes) -> bytes:
        for host in MIRRORED_HOSTS:
            body = body.replace(base + b"/" + host.encode() + b"/", f"https://{host}/".encode())
        # pystac-client reads the landing page again when its root link differs from its URL.
        landing = b"https:/" + self.mount.encode()
        body = body.replace(b'"' + landing + b'/"', b'"' + landing + b'"')
        if b'"Feature' not in body and b'"collections"' not in body:
            return body
        doc = orjson.loads(body)
        if isinstance(doc.get("collections"), list):
            # pgstac lists collections in its own order; upstream's is the snapshot's.
            rank = {cid: i for i, cid in enumerate(self.collection_order)}
            doc["collections"].sort(key=lambda c: rank.get(c.get("id"), len(rank)))
            return json.dumps(doc, separators=(",", ":")).encode()
        # pgstac stores items as jsonb, which sorts keys; learners print properties and assets.
        for feature in doc.get("features", [doc]):
            order = self.key_order.get(feature.get("id", "")) if isinstance(feature, dict) else None
            for field, keys in (order or {}).items():
                value = feature.get(field)
                if isinstance(value, dict):
                    rank = {k: i for i, k in enumerate(keys)}
                    feature[field] = dict(sorted(value.items(),
                                                 key=lambda kv: rank.get(kv[0], len(rank))))
        return json.dumps(doc, separators=(",", ":")).encode()


def _base_url(scope: Scope) -> str:
    host = dict(scope["headers"]).get(b"host", b"").decode()
    if not host:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}"


class RequestLog:
    """Append one JSON line per request (method, path, range, status, bytes) for benchmarks."""

    def __init__(self, app: ASGIApp, path: Path) -> None:
        self.app = app
        self.path = path
        path.write_text("")  # one serving's requests: the file never outgrows a session

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        record: dict[str, Any] = {"method": scope["method"], "path": scope["path"], "bytes": 0}
        rng = dict(scope["headers"]).get(b"range")
        if rng:
            record["range"] = rng.decode()

        async def counting(message: Message) -> None:
            if message["type"] == "http.response.start":
                record["status"] = message["status"]
            elif message["type"] == "http.response.body":
                record["bytes"] += len(message.get("body", b""))
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, counting)
        finally:
            record["ms"] = round((time.perf_counter() - started) * 1000, 1)
            with self.path.open("a") as log:
                log.write(json.dumps(record) + "\n")


class Dispatch:
    """Send each request to the STAC API whose upstream path it starts with, else to ``files``.

    The APIs keep the full path (their routers carry the prefix), so the links stac-fastapi
    builds from the request are the mirror's own URLs.
    """

    def __init__(self, apis: Mapping[str, ASGIApp], files: ASGIApp) -> None:
        self.apis = apis
        self.files = files

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        for prefix, app in self.apis.items():
            if path == prefix:  # the landing page, with or without its slash, as upstream
                scope = {**scope, "path": prefix + "/", "raw_path": None}
                path = prefix + "/"
            if path.startswith(prefix + "/"):
                await app(scope, receive, send)
                return
        await self.files(scope, receive, send)


def _error(status: int, code: str, description: str, **headers: str) -> JSONResponse:
    return JSONResponse({"code": code, "description": description}, status, headers=headers)


def _needs_login() -> JSONResponse:
    return _error(401, "Unauthorized",
                  "This file needs an Earthdata Login: send your credentials (e.g. from a netrc "
                  f"entry for {EARTHDATA_MACHINE}).",
                  **{"WWW-Authenticate": 'Basic realm="Earthdata Login"'})


def _authorized(request: Request) -> bool:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        login, _, password = base64.b64decode(token).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return (login, password) == EARTHDATA_LOGIN


def build_app(cluster: Cluster, state_dir: Path, on_ready: Callable[[], None],
              snapshot: Snapshot, proxy_port: int) -> ASGIApp:
    cache_dir = state_dir / "assets"
    # Rendering is CPU- and memory-heavy: at most two files at once on a 2-core machine.
    render_slots = anyio.CapacityLimiter(2)
    stac_apps = {api.upstream.mount: _stac_app(api) for api in snapshot.apis}
    folders = FolderIndex(snapshot.urls())

    async def serve_file(request: Request) -> Response:
        host, path = request.path_params["host"], request.path_params["path"]
        if path == "" or path.endswith("/"):
            return list_folder(request, host, path)
        spec = snapshot.file(f"https://{host}/{path}")
        if spec is None:
            return _error(404, "NotFound", snapshot.missing(host, path))
        if spec.protected and not _authorized(request):
            return _needs_login()
        file = snapshot.ready_path(spec, cache_dir)
        if file is None:  # only producing a file takes one of the scarce slots
            file = await anyio.to_thread.run_sync(snapshot.produce, spec, cache_dir,
                                                  limiter=render_slots)
        return FileResponse(file)

    def list_folder(request: Request, host: str, folder: str) -> Response:
        # GDAL asks for the folder of every file it opens (see listing.py).
        names = folders.names(host, folder)
        if names is None:
            return _error(404, "NotFound", snapshot.missing(host, folder))
        files = (snapshot.file(f"https://{host}/{folder}{name}") for name in names
                 if not name.endswith("/"))
        if any(f and f.protected for f in files) and not _authorized(request):
            return _needs_login()
        return index_page(request.url.path, names)

    async def index(request: Request) -> Response:
        base = _base_url(request.scope)
        return JSONResponse({
            "description": "satlesson offline mirror: https://HOST/PATH through its proxy, "
                           "or at /HOST/PATH here",
            # What `satlesson kernel install --mirror` reads to route a kernel here.
            "proxy_port": proxy_port,
            "ca_certificate": f"{base}{CA_PATH}",
            "hosts": list(MIRRORED_HOSTS),
            "services": [api.upstream.url for api in snapshot.apis],
            # What the pages built against this mirror say about where their outputs come from.
            "snapshot": snapshot.describe(),
        })

    async def ca(request: Request) -> Response:
        # The public certificate only: the key beside it never leaves the state folder.
        return FileResponse(ca_certificate(state_dir), media_type="application/x-pem-file")

    async def not_found(request: Request, exc: Exception) -> Response:
        return _error(404, "NotFound", f"Nothing is mirrored at {request.url.path}.")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        for api in snapshot.apis:
            settings = PostgresSettings(pguser=cluster.user, pgpassword="", pghost="127.0.0.1",
                                        pgport=cluster.port, pgdatabase=api.upstream.dbname,
                                        db_min_conn_size=1, db_max_conn_size=8)
            await connect_to_db(stac_apps[api.upstream.mount], postgres_settings=settings)
        on_ready()
        try:
            yield
        finally:
            for stac_app in stac_apps.values():
                await close_db_connection(stac_app)

    routes = [
        Route("/", index),
        Route(CA_PATH, ca),
        Route("/{host:str}/{path:path}", serve_file, methods=["GET", "HEAD"]),
    ]
    files = Starlette(routes=routes, lifespan=lifespan, exception_handlers={404: not_found})
    # The APIs' answers come from prepared bytes after the first time (one store for both).
    answers = Store()
    # A body upstream refuses is refused before anything (cache, recorded answers) reads it.
    apis = {api.upstream.mount: BodyGuard(ResponseCache(stac_apps[api.upstream.mount], answers),
                                          api.upstream) for api in snapshot.apis}
    return RequestLog(Dispatch(apis, files), state_dir / "requests.log")
