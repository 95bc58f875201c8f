"""Which source a mirror serves: above ``source.py`` (the interface) and both implementations,
so the interface never imports what implements it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from satlesson.mirror.source import Source


def open_source(snapshot: Path | None = None) -> Source[Any]:
    """The recorded snapshot in folder ``snapshot``, or the synthetic one when None."""
    # Imported here: a recorded mirror needs none of the synthetic snapshot's rendering stack.
    if snapshot is None:
        from satlesson.mirror.synthetic.source import SyntheticSource

        return SyntheticSource()
    from satlesson.mirror.recorded.replay import RecordedSource

    return RecordedSource(Path(snapshot))
