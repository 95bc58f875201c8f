"""What a mirror serves: a snapshot source behind one small interface.

Two sources exist side by side:
- ``synthetic.source.SyntheticSource``: the deterministic synthetic snapshot (the default);
- ``recorded.replay.RecordedSource``: a folder written by ``satlesson mirror record``.
This module is only the interface and imports neither; ``sources.open_source`` picks one.

The server layer (``server/database.py``, ``server/app.py``) asks a source only this:
``apis`` (each STAC API with its collections and items), ``describe()`` (what the mirror's
index says about the snapshot), ``file(url)`` (the entry of an advertised file, or None),
``ready_path``/``produce`` (the file's bytes on disk; producing may be slow) and
``missing(host, path)`` (the 404 message for a file outside the snapshot).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from satlesson.mirror.client.urls import CMR_LPCLOUD_API, EARTH_SEARCH_API

Answer = dict[str, Any]  # "status", "content_type", "body" (upstream's JSON text)


class FileEntry(Protocol):
    """One file a source has; the server reads only this, the rest is the source's own."""

    @property
    def protected(self) -> bool:
        """Served only with the (demo) Earthdata login."""
        ...


@dataclass(frozen=True)
class Api:
    """One mirrored STAC API: its database, its path in the mirror, its content."""

    dbname: str
    landing_id: str  # the upstream landing page's id
    mount: str  # where the mirror serves it: "/HOST/PATH" of the upstream URL
    title: str
    collections: Callable[[], list[dict]]
    items: Callable[[], list[dict]]
    # A recorded snapshot answers the requests it saw exactly as upstream did (a count of all
    # matches, say, which pgstac cannot know); None, or no answer, leaves the request to pgstac.
    answer: Callable[[str, str, str, bytes], Answer | None] | None = None


@dataclass(frozen=True)
class UpstreamApi:
    """A STAC API the lesson reads, as upstream names it."""

    dbname: str
    landing_id: str
    url: str  # the upstream root, https://HOST/PATH
    title: str

    @property
    def mount(self) -> str:
        return "/" + self.url.removeprefix("https://")

    def with_content(self, collections: Callable[[], list[dict]],
                     items: Callable[[], list[dict]],
                     answer: Callable[[str, str, str, bytes], Answer | None] | None = None) -> Api:
        return Api(self.dbname, self.landing_id, self.mount, self.title, collections, items,
                   answer)


UPSTREAM_APIS: tuple[UpstreamApi, ...] = (
    UpstreamApi("earth_search", "earth-search-aws", EARTH_SEARCH_API, "Earth Search by Element 84"),
    UpstreamApi("cmr_lpcloud", "LPCLOUD", CMR_LPCLOUD_API, "LPCLOUD"),
)


Entry = TypeVar("Entry", bound=FileEntry)


class Source(Protocol[Entry]):
    """A snapshot; ``Entry`` is its own type of file entry, which only it reads."""

    apis: tuple[Api, ...]

    def describe(self) -> dict[str, str]:
        """The index's ``snapshot`` field: kind, version (and, if recorded, the date)."""
        ...

    def file(self, url: str) -> Entry | None:
        """The entry for ``https://HOST/PATH`` if the snapshot has that file."""
        ...

    def urls(self) -> Iterable[str]:
        """Every file the snapshot has, as ``https://HOST/PATH`` (for folder listings)."""
        ...

    def ready_path(self, entry: Entry, cache_dir: Path) -> Path | None:
        """The file on disk if it is there already (cheap)."""
        ...

    def produce(self, entry: Entry, cache_dir: Path) -> Path:
        """Make the file on disk and return it (may be slow: call it in a worker thread)."""
        ...

    def missing(self, host: str, path: str) -> str:
        """One sentence for a 404 at ``/HOST/PATH``."""
        ...
