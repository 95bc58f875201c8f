"""The synthetic snapshot as a mirror serves it: catalog JSON, files rendered on first request."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from pathlib import Path

from satlesson.mirror.snapshot import ServedApi
from satlesson.mirror.synthetic import render
from satlesson.mirror.synthetic.advertised import advertised_files
from satlesson.mirror.synthetic.cmr import cmr_collections, cmr_items
from satlesson.mirror.synthetic.earth_search import (
    dem_items,
    earth_search_collections,
    earth_search_items,
)
from satlesson.mirror.synthetic.filespec import FileSpec
from satlesson.mirror.synthetic.scenes import SNAPSHOT_VERSION
from satlesson.mirror.upstream import UPSTREAMS


def _earth_search_items() -> list[dict]:
    """Sentinel-2 L2A scenes, then the Copernicus DEM tiles over Rhodes."""
    return earth_search_items() + dem_items()


_CONTENT = {
    "earth_search": (earth_search_collections, _earth_search_items),
    "cmr_lpcloud": (cmr_collections, cmr_items),
}


class SyntheticSnapshot:
    def __init__(self) -> None:
        self.apis: tuple[ServedApi, ...] = tuple(
            ServedApi(upstream, *_CONTENT[upstream.dbname]) for upstream in UPSTREAMS)

    @cached_property
    def _files(self) -> dict[str, FileSpec]:
        return advertised_files()

    def describe(self) -> dict[str, str]:
        return {"kind": "synthetic", "version": SNAPSHOT_VERSION}

    def file(self, url: str) -> FileSpec | None:
        return self._files.get(url)

    def urls(self) -> Iterable[str]:
        return self._files.keys()

    def ready_path(self, entry: FileSpec, cache_dir: Path) -> Path | None:
        path = render.cache_path(entry, cache_dir)
        return path if path.exists() else None

    def produce(self, entry: FileSpec, cache_dir: Path) -> Path:
        return render.ensure(entry, cache_dir)

    def missing(self, host: str, path: str) -> str:
        return f"No file at /{host}/{path} in this mirror's snapshot."
