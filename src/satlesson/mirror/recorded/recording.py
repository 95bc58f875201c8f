"""What a recording holds while the command runs: the API documents and answers seen, and of
every file the byte ranges relayed, spooled to disk under the staging folder."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from satlesson.mirror.upstream import Upstream

TIMEOUT = (10, 300)  # connect, read (seconds)


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
