"""The recorder's app: each request at ``/HOST/PATH`` fetched from ``https://HOST/PATH`` (or
from the mirror standing in for the internet) and relayed unchanged, what passes noted in the
``Recording``."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from functools import partial

import anyio
import requests
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from satlesson.mirror.client.routing import CA_PATH
from satlesson.mirror.client.urls import MIRRORED_HOSTS
from satlesson.mirror.recorded import folder as snapshot_folder
from satlesson.mirror.recorded.recording import TIMEOUT, Recording
from satlesson.mirror.server import proxy
from satlesson.mirror.upstream import UPSTREAMS, Upstream

CHUNK = 256 * 1024
FORWARDED_REQUEST = ("range", "authorization", "cookie", "content-type", "accept",
                     "user-agent")
RELAYED_RESPONSE = ("content-type", "content-range", "accept-ranges", "last-modified", "etag",
                    "www-authenticate", "cache-control")
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


def _api_for(path: str) -> Upstream | None:
    for api in UPSTREAMS:
        if path == api.mount or path.startswith(api.mount + "/"):
            return api
    return None


def _size(response: requests.Response) -> tuple[int, int | None]:
    """(offset of the body, whole file size) from a 200 or 206 answer."""
    match = _CONTENT_RANGE.match(response.headers.get("content-range", ""))
    if match:
        total = match.group(3)
        return int(match.group(1)), None if total == "*" else int(total)
    length = response.headers.get("content-length")
    return 0, int(length) if length else None


def recorder_app(rec: Recording, proxy_port: int) -> Starlette:
    async def index(request: Request) -> Response:
        return JSONResponse({
            "description": "satlesson recorder: https://HOST/PATH through its proxy, relayed "
                           "at /HOST/PATH",
            "proxy_port": proxy_port,
            "upstream": rec.upstream or "the live services",
            # What a build run through the recorder will be replayed from.
            "snapshot": {"kind": "recorded", "version": rec.id, "recorded": rec.recorded},
        })

    async def relay(request: Request) -> Response:
        host, path = request.path_params["host"], request.path_params["path"]
        if host not in MIRRORED_HOSTS:
            return JSONResponse({"code": "NotFound",
                                 "description": f"The recorder does not relay {host}."}, 404)
        url = f"https://{host}/{path}"
        query = request.url.query
        body = await request.body()
        headers = {k: request.headers[k] for k in FORWARDED_REQUEST if k in request.headers}
        headers["Accept-Encoding"] = "identity"
        send = partial(rec.session.request, request.method,
                       rec.fetch_url(url + (f"?{query}" if query else "")), data=body or None,
                       headers=headers, stream=True, allow_redirects=False, timeout=TIMEOUT)
        try:
            upstream = await anyio.to_thread.run_sync(send)
        except requests.RequestException as exc:
            return JSONResponse({"code": "BadGateway",
                                 "description": f"The recorder could not fetch {url}: {exc}"}, 502)
        out_headers = {k: upstream.headers[k] for k in RELAYED_RESPONSE + ("location",)
                       if k in upstream.headers}
        cookies = [(b"set-cookie", c.encode()) for c in upstream.raw.headers.getlist("set-cookie")]
        api = _api_for(request.url.path)
        listing = url.endswith("/")  # a folder listing (GDAL asks for one): not a file
        if api is not None or listing or upstream.status_code not in (200, 206):
            content = await anyio.to_thread.run_sync(lambda: upstream.content)
            upstream.close()
            if api is None:  # a file's error answer or a listing: relayed, not kept
                if (upstream.status_code == 401 and "authorization" not in request.headers
                        and not listing):
                    rec.file(url).protected = True
                return _with(Response(content, upstream.status_code, out_headers), cookies)
            if 200 <= upstream.status_code < 300:
                key = snapshot_folder.request_key(request.method, request.url.path, query, body)
                rec.note_api(api, key, upstream.status_code,
                             upstream.headers.get("content-type", ""), content)
            return _with(Response(content, upstream.status_code, out_headers), cookies)
        # A file: relay its bytes as they come, keeping each chunk at its offset.
        log = rec.file(url)
        offset, total = _size(upstream)
        log.size = total if total is not None else log.size
        log.content_type = upstream.headers.get("content-type", log.content_type)
        if "authorization" in request.headers:
            log.authorization = request.headers["authorization"]
        if "content-length" in upstream.headers and "content-encoding" not in upstream.headers:
            out_headers["content-length"] = upstream.headers["content-length"]  # requests decodes
        if request.method == "HEAD":
            upstream.close()
            return _with(Response(b"", upstream.status_code, out_headers), cookies)
        return _with(StreamingResponse(_relay_bytes(rec, upstream, url, offset),
                                       upstream.status_code, out_headers), cookies)

    async def ca(request: Request) -> Response:
        return FileResponse(proxy.ca_certificate(rec.staging / ".proxy"))

    routes = [Route("/", index),
              Route(CA_PATH, ca),
              Route("/{host:str}/{path:path}", relay,
                    methods=["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"])]
    return Starlette(routes=routes)


def _with(response: Response, cookies: list[tuple[bytes, bytes]]) -> Response:
    response.raw_headers.extend(cookies)
    return response


async def _relay_bytes(rec: Recording, upstream: requests.Response, url: str,
                       offset: int) -> AsyncIterator[bytes]:
    chunks = upstream.iter_content(CHUNK)
    position = offset

    def pull() -> bytes | None:
        chunk = next(chunks, None)
        if chunk:
            rec.note_bytes(url, position, chunk)
        return chunk

    try:
        while (chunk := await anyio.to_thread.run_sync(pull)) is not None:
            position += len(chunk)
            yield chunk
    finally:
        upstream.close()
