"""``satlesson mirror record``: run a command through a relay to the services; keep what it read.

The command is routed exactly as a mirror's clients are: through the mirror's proxy
(``server/proxy.py``), which sends the lesson's hosts to the recorder's app at
``/HOST/PATH``. The app fetches each request from ``https://HOST/PATH``, or from
``{upstream}/HOST/PATH`` when another mirror stands in for the internet, and relays upstream's
answer unchanged, so the command sees the URLs the live services serve. What passes is kept:
the API documents (collections, items, the exact answers), small files whole, and of every
other file the byte ranges read; after the command, COG headers are completed from upstream,
and the snapshot folder is put in place in one rename. Recording live, the proxy tunnels
other hosts (Earthdata Login's) untouched.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import requests
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from satlesson.mirror.client.routing import CA_PATH
from satlesson.mirror.client.urls import DEFAULT_HOST, MIRRORED_HOSTS
from satlesson.mirror.errors import MirrorError
from satlesson.mirror.recorded import folder as snapshot_folder
from satlesson.mirror.recorded import tiff
from satlesson.mirror.server import proxy
from satlesson.mirror.upstream import UPSTREAMS, Upstream

CHUNK = 256 * 1024
HEADER_BYTES = 16384  # what GDAL reads first of a remote TIFF: kept for every TIFF touched
TIMEOUT = (10, 300)  # connect, read (seconds)
FORWARDED_REQUEST = ("range", "authorization", "cookie", "content-type", "accept",
                     "user-agent")
RELAYED_RESPONSE = ("content-type", "content-range", "accept-ranges", "last-modified", "etag",
                    "www-authenticate", "cache-control")
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


@dataclass
class ApiLog:
    collections: dict[str, Any] = field(default_factory=dict)  # id -> document, first seen first
    items: dict[tuple[str, str], Any] = field(default_factory=dict)  # (collection, id) -> item
    answers: dict[str, Any] = field(default_factory=dict)  # request key -> answer


@dataclass
class FileLog:
    spool: Path
    size: int | None = None
    content_type: str | None = None
    protected: bool = False
    authorization: str | None = None  # to complete a protected COG's header afterwards
    pieces: list[tuple[int, int, int]] = field(default_factory=list)  # offset, length, spool pos
    spooled: int = 0

    def ranges(self) -> list[tuple[int, int]]:
        return merge((off, off + n) for off, n, _ in self.pieces)

    def read(self, start: int, end: int) -> bytes:
        out = bytearray(end - start)
        if not self.pieces:
            return bytes(out)
        with self.spool.open("rb") as spool:
            for off, n, pos in self.pieces:
                lo, hi = max(off, start), min(off + n, end)
                if lo < hi:
                    spool.seek(pos + lo - off)
                    out[lo - start:hi - start] = spool.read(hi - lo)
        return bytes(out)


def merge(ranges: Any) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


class Recording:
    """What the relayed requests brought back, spooled under the staging folder."""

    def __init__(self, staging: Path, upstream: str | None) -> None:
        self.staging = staging
        self.upstream = upstream.rstrip("/") if upstream else None
        self.lock = threading.Lock()
        self.apis: dict[str, ApiLog] = {}
        self.files: dict[str, FileLog] = {}
        self.session = requests.Session()
        self.session.trust_env = False  # forward exactly what the command sent: no netrc, proxies
        # Known from the start, so a build being recorded can already name its outputs' source.
        self.started = datetime.now(UTC).replace(microsecond=0)
        self.id = f"{self.started:%Y%m%dT%H%M%SZ}"
        (staging / ".spool").mkdir()

    # --- addresses ---------------------------------------------------------------------------

    @property
    def recorded(self) -> str:
        return self.started.isoformat().replace("+00:00", "Z")

    def fetch_url(self, url: str) -> str:
        """Where to fetch ``https://HOST/PATH?QUERY`` from."""
        if self.upstream is None:
            return url
        return f"{self.upstream}/{url.removeprefix('https://')}"

    # --- what was seen -----------------------------------------------------------------------

    def note_api(self, api: Upstream, key: str, status: int, content_type: str,
                 body: bytes) -> None:
        try:
            doc = json.loads(body)
        except ValueError:
            return
        with self.lock:
            log = self.apis.setdefault(api.dbname, ApiLog())
            log.answers[key] = {"status": status, "content_type": content_type,
                                "body": body.decode()}
            if not isinstance(doc, dict):
                return
            kind = doc.get("type")
            if kind == "Feature":
                features = [doc]
            elif kind == "FeatureCollection":
                features = [f for f in doc.get("features", []) if isinstance(f, dict)]
            else:
                features = []
            for item in features:
                if item.get("id") and item.get("collection"):
                    log.items[(item["collection"], item["id"])] = item
            listed = doc.get("collections")
            collections: list[Any] = (listed if isinstance(listed, list)
                                      else [doc] if kind == "Collection" else [])
            for collection in collections:
                if isinstance(collection, dict) and collection.get("id"):
                    log.collections.setdefault(collection["id"], collection)

    def file(self, url: str) -> FileLog:
        with self.lock:
            if url not in self.files:
                spool = self.staging / ".spool" / f"{len(self.files)}.bin"
                self.files[url] = FileLog(spool)
            return self.files[url]

    def note_bytes(self, url: str, offset: int, chunk: bytes) -> None:
        log = self.file(url)
        with self.lock:
            with log.spool.open("ab") as spool:
                spool.write(chunk)
            log.pieces.append((offset, len(chunk), log.spooled))
            log.spooled += len(chunk)

    # --- after the command -------------------------------------------------------------------

    def _get(self, url: str, headers: dict[str, str] | None = None) -> requests.Response:
        response = self.session.get(self.fetch_url(url), timeout=TIMEOUT,
                                    headers={"Accept-Encoding": "identity", **(headers or {})})
        response.raise_for_status()
        return response

    def complete_collections(self) -> None:
        """Fetch the collections that recorded items belong to but the command never read."""
        for api in UPSTREAMS:
            api_log = self.apis.get(api.dbname)
            if api_log is None:
                continue
            for cid in sorted({cid for cid, _ in api_log.items} - set(api_log.collections)):
                body = self._get(f"{api.url}/collections/{cid}").content
                api_log.collections[cid] = json.loads(body)

    def complete_header(self, url: str, log: FileLog) -> None:
        """Make sure the TIFF's whole header (every IFD and tag value) is in the recording."""

        def read(offset: int, length: int) -> bytes:
            end = offset + length
            if not tiff.covered(log.ranges(), offset, end):
                start, stop = offset, max(end, offset + HEADER_BYTES)
                if log.size:
                    stop = min(stop, log.size)
                auth = {"Authorization": log.authorization} if log.authorization else {}
                got = self._get(url, {"Range": f"bytes={start}-{stop - 1}", **auth}).content
                self.note_bytes(url, start, got)
            return log.read(offset, end)

        read(0, min(HEADER_BYTES, log.size) if log.size else HEADER_BYTES)
        tiff.parse(read)  # reading every IFD and tag value brings them into the recording

    def finish(self, command: Sequence[str]) -> dict[str, Any]:
        """Write the snapshot into the staging folder; return its manifest."""
        self.complete_collections()
        files: dict[str, Any] = {}
        for url, flog in sorted(self.files.items()):
            head = flog.read(0, 4) if tiff.covered(flog.ranges(), 0, 4) else b""
            looks_tiff = tiff.is_tiff(head) or (not head and (
                "tiff" in (flog.content_type or "") or url.lower().endswith((".tif", ".tiff"))))
            if looks_tiff and flog.size and not tiff.covered(flog.ranges(), 0, flog.size):
                try:
                    self.complete_header(url, flog)
                except (ValueError, struct.error):  # not a TIFF after all: unread bytes are zeros
                    looks_tiff = False
            files[url] = self._store(url, flog, looks_tiff)
        apis = {}
        for api in UPSTREAMS:
            log = self.apis.get(api.dbname)
            if log is None:
                continue
            folder = self.staging / "apis" / api.dbname
            snapshot_folder.write_json(folder / "collections.json", list(log.collections.values()))
            snapshot_folder.write_json(folder / "items.json", list(log.items.values()))
            snapshot_folder.write_json(folder / "answers.json", log.answers)
            apis[api.dbname] = {"url": api.url, "collections": len(log.collections),
                                "items": len(log.items), "answers": len(log.answers)}
        shutil.rmtree(self.staging / ".spool")
        stored = sum(f["stored_bytes"] for f in files.values())
        json_bytes = sum(p.stat().st_size for p in (self.staging / "apis").rglob("*.json")) \
            if apis else 0
        manifest: dict[str, Any] = {
            "format": snapshot_folder.FORMAT,
            "kind": "recorded",
            "id": self.id,
            "recorded": self.recorded,
            "upstream": self.upstream or "https://HOST/PATH (the live services)",
            "command": " ".join(command),
            "apis": apis,
            "files": files,
            "sizes": {
                "stored_file_bytes": stored,
                "whole_file_bytes": sum(f["size"] or 0 for f in files.values()),
                "api_json_bytes": json_bytes,
            },
        }
        snapshot_folder.write_json(self.staging / snapshot_folder.MANIFEST, manifest)
        return manifest

    def _store(self, url: str, log: FileLog, is_tiff: bool) -> dict[str, Any]:
        ranges = log.ranges()
        size = log.size if log.size is not None else (ranges[-1][1] if ranges else 0)
        whole = ranges == [(0, size)] or size == 0
        name = snapshot_folder.stored_name(url, partial=not whole)
        path = self.staging / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as out:
            for lo, hi in ranges:
                out.write(log.read(lo, hi))
        entry: dict[str, Any] = {"stored": name, "size": size, "content_type": log.content_type,
                                 "protected": log.protected, "whole": whole,
                                 "stored_bytes": path.stat().st_size}
        if not whole:
            entry["ranges"] = [list(r) for r in ranges]
            entry["tiff"] = is_tiff
        return entry


# --- the relay ----------------------------------------------------------------------------------


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


# --- running a command through it ---------------------------------------------------------------


@contextmanager
def _serving(rec: Recording, port: int) -> Iterator[str]:
    """Serve the recorder on a thread of this process, its proxy in front; yield its base URL."""
    import uvicorn

    from satlesson.mirror.server.postgres import free_port
    from satlesson.mirror.server.service import check_port_free

    check_port_free(DEFAULT_HOST, port)
    base = f"http://{DEFAULT_HOST}:{port}"
    proxy_port = free_port()
    config = uvicorn.Config(recorder_app(rec, proxy_port), host=DEFAULT_HOST, port=port,
                            log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="recorder", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise MirrorError(f"The recorder could not start at {base}.")
        time.sleep(0.05)
    try:
        with proxy.running((DEFAULT_HOST, port), DEFAULT_HOST, proxy_port,
                           rec.staging / ".proxy", allow_other_hosts=rec.upstream is None):
            yield base
    finally:
        server.should_exit = True
        thread.join(30)


class _Stop:
    """SIGTERM during a recording: stop the command, then give up the recording.

    The handler only sets a flag and terminates the command if it has started: raising from
    the handler could land inside ``Popen`` after the fork and leave the command running.
    """

    def __init__(self) -> None:
        self.requested = False
        self.command: subprocess.Popen[bytes] | None = None

    def __call__(self, signum: int, frame: object) -> None:
        self.requested = True
        if self.command is not None:
            self.command.terminate()

    def run(self, command: Sequence[str], env: dict[str, str]) -> int:
        self.command = subprocess.Popen(list(command), env=env)
        if self.requested:  # the signal came before the command existed
            self.command.terminate()
        try:
            code = self.command.wait()
        except BaseException:  # Ctrl-C: the command may not have seen it
            self.command.kill()
            self.command.wait()
            raise
        if self.requested:
            raise KeyboardInterrupt
        return code


def record(out: Path, command: Sequence[str], upstream: str | None = None,
           port: int | None = None) -> dict[str, Any]:
    """Run ``command`` through a recorder; write the snapshot to ``out``; return its manifest.

    Nothing is written to ``out`` unless the command succeeds and the snapshot is complete.
    """
    from satlesson.mirror.client.routing import kernel_env
    from satlesson.mirror.server.postgres import free_port

    out = out.resolve()
    staging = snapshot_folder.staging_folder(out)
    stop = _Stop()
    previous = signal.signal(signal.SIGTERM, stop)
    try:
        rec = Recording(staging, upstream)
        with _serving(rec, port or free_port()) as base:
            if stop.requested:
                raise KeyboardInterrupt
            # The CA bundle lives in the staging folder and goes before the rename.
            env = {**os.environ, **kernel_env(base, staging / ".kernel")}
            print(f"[record] running {' '.join(command)} through {base} "
                  f"(upstream: {rec.upstream or 'the live services'})", file=sys.stderr,
                  flush=True)
            code = stop.run(command, env)
        if code != 0:
            raise MirrorError(f"{command[0]} exited with status {code}, so nothing was recorded "
                              f"and {out} is unchanged.")
        for private in (".kernel", ".proxy"):  # the CA's key must not reach the snapshot
            shutil.rmtree(staging / private, ignore_errors=True)
        try:
            manifest = rec.finish(command)
        except requests.RequestException as exc:
            raise MirrorError(f"Completing the snapshot from upstream failed ({exc}), so "
                              f"nothing was recorded and {out} is unchanged.") from None
        snapshot_folder.commit(staging, out)
        return manifest
    except KeyboardInterrupt:
        raise MirrorError(f"Interrupted: nothing was recorded and {out} is unchanged.") from None
    finally:
        signal.signal(signal.SIGTERM, previous)
        shutil.rmtree(staging, ignore_errors=True)


def summary(manifest: dict[str, Any], out: Path) -> str:
    """One line on what a snapshot holds."""
    apis = manifest["apis"].values()
    sizes = manifest["sizes"]
    return (f"Recorded snapshot {manifest['id']} in {out}: "
            f"{sum(a['collections'] for a in apis)} collections, {sum(a['items'] for a in apis)} "
            f"items, {len(manifest['files'])} files ({sizes['stored_file_bytes'] / 1e6:.1f} MB "
            f"kept of {sizes['whole_file_bytes'] / 1e6:.1f} MB in the whole files).")
