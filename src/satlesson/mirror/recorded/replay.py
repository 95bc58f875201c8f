"""A recorded snapshot as a mirror serves it: ``satlesson mirror serve --snapshot DIR``.

Collections and items go into pgstac like the synthetic ones, and the requests made while
recording get upstream's exact answers. Files read whole come back as recorded. Any other
file is rebuilt once, at its original size and layout, from the byte ranges read: for a COG
its header and tiles stay at their offsets and the tiles never read are marked absent, so GDAL
reads them as nodata; unread bytes of other files are zeros. Files never read are a 404.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path
from typing import Any

from satlesson.atomic import atomic_output
from satlesson.mirror.errors import MirrorError
from satlesson.mirror.recorded import folder as snapshot_folder
from satlesson.mirror.recorded import tiff
from satlesson.mirror.snapshot import RecordedAnswer, ServedApi
from satlesson.mirror.upstream import UPSTREAMS


@cache
def _load(path: Path) -> Any:
    return json.loads(path.read_text())


@dataclass(frozen=True)
class RecordedFile:
    """One file of the manifest (see ``recorder.py``): the mirror's ``FileEntry``."""

    url: str
    stored: str  # the file in the snapshot folder: the whole file, or the ranges read
    size: int
    protected: bool
    whole: bool
    ranges: tuple[tuple[int, int], ...] = ()
    tiff: bool = False

    @classmethod
    def from_manifest(cls, url: str, entry: dict[str, Any]) -> RecordedFile:
        return cls(url, entry["stored"], entry["size"], bool(entry.get("protected")),
                   entry["whole"], tuple((lo, hi) for lo, hi in entry.get("ranges", ())),
                   bool(entry.get("tiff")))  # fmt: skip


class RecordedSnapshot:
    def __init__(self, folder: Path) -> None:
        self.folder = folder.resolve()
        self.manifest = snapshot_folder.read_manifest(self.folder)
        self.id: str = self.manifest["id"]
        for url, entry in self.manifest["files"].items():
            stored = (self.folder / entry["stored"]).resolve()
            if not stored.is_relative_to(self.folder) or not stored.is_file():
                raise MirrorError(f"The recorded snapshot in {self.folder} is incomplete: "
                                  f"{entry['stored']} (for {url}) is missing.")
        apis = []
        for upstream in UPSTREAMS:
            if upstream.dbname in self.manifest["apis"]:
                where = self.folder / "apis" / upstream.dbname
                answers = _load(where / "answers.json")

                def answer(method: str, path: str, query: str, body: bytes,
                           answers: dict[str, RecordedAnswer] = answers
                           ) -> RecordedAnswer | None:  # fmt: skip
                    return answers.get(snapshot_folder.request_key(method, path, query, body))

                apis.append(ServedApi(upstream, partial(_load, where / "collections.json"),
                                      partial(_load, where / "items.json"), answer))
        self.apis: tuple[ServedApi, ...] = tuple(apis)

    def describe(self) -> dict[str, str]:
        return {"kind": "recorded", "version": self.id, "recorded": self.manifest["recorded"]}

    def file(self, url: str) -> RecordedFile | None:
        entry = self.manifest["files"].get(url)
        return RecordedFile.from_manifest(url, entry) if entry else None

    def urls(self) -> Iterable[str]:
        return self.manifest["files"].keys()

    def _built(self, entry: RecordedFile, cache_dir: Path) -> Path:
        return cache_dir / "recorded" / self.id / entry.stored.removesuffix(".ranges")

    def ready_path(self, entry: RecordedFile, cache_dir: Path) -> Path | None:
        if entry.whole:
            return self.folder / entry.stored
        built = self._built(entry, cache_dir)
        return built if built.exists() else None

    def produce(self, entry: RecordedFile, cache_dir: Path) -> Path:
        dest = self._built(entry, cache_dir)
        with atomic_output(dest, durable=False) as tmp, open(tmp, "w+b") as out, \
                (self.folder / entry.stored).open("rb") as parts:
            out.truncate(entry.size)  # a sparse file: unread bytes take no disk space
            have = list(entry.ranges)
            for lo, hi in have:
                out.seek(lo)
                out.write(parts.read(hi - lo))
            if entry.tiff:
                _mark_absent_tiles(out, have)
        return dest

    def missing(self, host: str, path: str) -> str:
        return (f"No file at /{host}/{path} in the recorded snapshot {self.id}: it was not read "
                "while recording.")


def _mark_absent_tiles(out: Any, have: list[tuple[int, int]]) -> None:
    def read(offset: int, length: int) -> bytes:
        out.seek(offset)
        return out.read(length)

    try:
        _, ifds = tiff.parse(read)
    except (ValueError, KeyError, struct.error):
        return  # not a TIFF we can read: its unread bytes stay zeros
    for position, data in tiff.absent_tile_patches(ifds, have):
        out.seek(position)
        out.write(data)
