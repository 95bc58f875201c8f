"""What a mirror serves: a snapshot behind one small interface.

Two kinds exist side by side:
- ``synthetic.served.SyntheticSnapshot``: the deterministic synthetic snapshot (the default);
- ``recorded.replay.RecordedSnapshot``: a folder written by ``satlesson mirror record``.
This module is only the interface and imports neither; ``open_snapshot`` picks one.

The server layer (``server/database.py``, ``server/app.py``) asks a snapshot only this:
``apis`` (each STAC API with its collections and items), ``describe()`` (what the mirror's
index says about the snapshot), ``file(url)`` (the entry of an advertised file, or None),
``ready_path``/``produce`` (the file's bytes on disk; producing may be slow) and
``missing(host, path)`` (the 404 message for a file outside the snapshot).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypedDict, TypeVar

from satlesson.mirror.upstream import Upstream


class RecordedAnswer(TypedDict):
    """Upstream's answer to one API request, as a recording kept it."""

    status: int
    content_type: str
    body: str  # upstream's JSON text


class FileEntry(Protocol):
    """One file a snapshot has; the server reads only this, the rest is the snapshot's own."""

    @property
    def protected(self) -> bool:
        """Served only with the (demo) Earthdata login."""
        ...


@dataclass(frozen=True)
class ServedApi:
    """One upstream STAC API with the content a snapshot holds for it."""

    upstream: Upstream
    collections: Callable[[], list[dict]]
    items: Callable[[], list[dict]]
    # A recorded snapshot answers the requests it saw exactly as upstream did (a count of all
    # matches, say, which pgstac cannot know); None, or no answer, leaves the request to pgstac.
    answer: Callable[[str, str, str, bytes], RecordedAnswer | None] | None = None


Entry = TypeVar("Entry", bound=FileEntry)


class Snapshot(Protocol[Entry]):
    """A snapshot; ``Entry`` is its own type of file entry, which only it reads."""

    apis: tuple[ServedApi, ...]

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
