"""After the command: complete a recording from upstream (collections its items belong to,
whole COG headers) and write it as a snapshot folder (``folder.py``)."""

from __future__ import annotations

import json
import shutil
import struct
from collections.abc import Sequence
from typing import Any

import requests

from satlesson.mirror.recorded import folder as snapshot_folder
from satlesson.mirror.recorded import tiff
from satlesson.mirror.recorded.recording import TIMEOUT, FileLog, Recording
from satlesson.mirror.upstream import UPSTREAMS

HEADER_BYTES = 16384  # what GDAL reads first of a remote TIFF: kept for every TIFF touched


def _get(rec: Recording, url: str, headers: dict[str, str] | None = None
         ) -> requests.Response:  # fmt: skip
    response = rec.session.get(rec.fetch_url(url), timeout=TIMEOUT,
                                headers={"Accept-Encoding": "identity", **(headers or {})})
    response.raise_for_status()
    return response

def complete_collections(rec: Recording) -> None:
    """Fetch the collections that recorded items belong to but the command never read."""
    for api in UPSTREAMS:
        api_log = rec.apis.get(api.dbname)
        if api_log is None:
            continue
        for cid in sorted({cid for cid, _ in api_log.items} - set(api_log.collections)):
            body = _get(rec, f"{api.url}/collections/{cid}").content
            api_log.collections[cid] = json.loads(body)

def complete_header(rec: Recording, url: str, log: FileLog) -> None:
    """Make sure the TIFF's whole header (every IFD and tag value) is in the recording."""

    def read(offset: int, length: int) -> bytes:
        end = offset + length
        if not tiff.covered(log.ranges(), offset, end):
            start, stop = offset, max(end, offset + HEADER_BYTES)
            if log.size:
                stop = min(stop, log.size)
            auth = {"Authorization": log.authorization} if log.authorization else {}
            got = _get(rec, url, {"Range": f"bytes={start}-{stop - 1}", **auth}).content
            rec.note_bytes(url, start, got)
        return log.read(offset, end)

    read(0, min(HEADER_BYTES, log.size) if log.size else HEADER_BYTES)
    tiff.parse(read)  # reading every IFD and tag value brings them into the recording

def write_snapshot(rec: Recording, command: Sequence[str]) -> dict[str, Any]:
    """Complete the recording from upstream and write it as a snapshot into its staging
    folder; return the manifest."""
    complete_collections(rec)
    files: dict[str, Any] = {}
    for url, flog in sorted(rec.files.items()):
        head = flog.read(0, 4) if tiff.covered(flog.ranges(), 0, 4) else b""
        looks_tiff = tiff.is_tiff(head) or (not head and (
            "tiff" in (flog.content_type or "") or url.lower().endswith((".tif", ".tiff"))))
        if looks_tiff and flog.size and not tiff.covered(flog.ranges(), 0, flog.size):
            try:
                complete_header(rec, url, flog)
            except (ValueError, struct.error):  # not a TIFF after all: unread bytes are zeros
                looks_tiff = False
        files[url] = _store(rec, url, flog, looks_tiff)
    apis = {}
    for api in UPSTREAMS:
        log = rec.apis.get(api.dbname)
        if log is None:
            continue
        folder = rec.staging / "apis" / api.dbname
        snapshot_folder.write_json(folder / "collections.json", list(log.collections.values()))
        snapshot_folder.write_json(folder / "items.json", list(log.items.values()))
        snapshot_folder.write_json(folder / "answers.json", log.answers)
        apis[api.dbname] = {"url": api.url, "collections": len(log.collections),
                            "items": len(log.items), "answers": len(log.answers)}
    shutil.rmtree(rec.staging / ".spool")
    stored = sum(f["stored_bytes"] for f in files.values())
    json_bytes = sum(p.stat().st_size for p in (rec.staging / "apis").rglob("*.json")) \
        if apis else 0
    manifest: dict[str, Any] = {
        "format": snapshot_folder.FORMAT,
        "kind": "recorded",
        "id": rec.id,
        "recorded": rec.recorded,
        "upstream": rec.upstream or "https://HOST/PATH (the live services)",
        "command": " ".join(command),
        "apis": apis,
        "files": files,
        "sizes": {
            "stored_file_bytes": stored,
            "whole_file_bytes": sum(f["size"] or 0 for f in files.values()),
            "api_json_bytes": json_bytes,
        },
    }
    snapshot_folder.write_json(rec.staging / snapshot_folder.MANIFEST, manifest)
    return manifest

def _store(rec: Recording, url: str, log: FileLog, is_tiff: bool) -> dict[str, Any]:
    ranges = log.ranges()
    size = log.size if log.size is not None else (ranges[-1][1] if ranges else 0)
    whole = ranges == [(0, size)] or size == 0
    name = snapshot_folder.stored_name(url, partial=not whole)
    path = rec.staging / name
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
