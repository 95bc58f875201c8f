"""Which snapshot a mirror serves: above ``snapshot.py`` (the interface) and both kinds, so
the interface never imports what implements it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from satlesson.mirror.snapshot import Snapshot


def open_snapshot(folder: Path | None = None) -> Snapshot[Any]:
    """The recorded snapshot in ``folder``, or the synthetic one when None."""
    # Imported here: a recorded mirror needs none of the synthetic snapshot's rendering stack.
    if folder is None:
        from satlesson.mirror.synthetic.served import SyntheticSnapshot

        return SyntheticSnapshot()
    from satlesson.mirror.recorded.replay import RecordedSnapshot

    return RecordedSnapshot(Path(folder))
