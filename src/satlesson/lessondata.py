"""The lesson's small vector files (the outline of Rhodes, named places), shipped with the package.

They are package data, ``src/satlesson/data/lesson/``, with their provenance in its
``README.md``; a checkout and an installed wheel find them the same way, through
``importlib.resources``. :func:`copy_to` puts them where an episode reads them, so a notebook
runs from an empty folder.
"""

from __future__ import annotations

import os
import shutil
from importlib.resources import files
from pathlib import Path

from satlesson.atomic import atomic_output

__all__ = ["copy_to", "data_path", "names"]

_SUFFIXES = (".geojson", ".csv")


def _folder() -> Path:
    folder = files("satlesson").joinpath("data", "lesson")
    # pip installs satlesson as plain files, so its resources are real paths, never a zip's.
    if not isinstance(folder, Path) or not folder.is_dir():
        raise FileNotFoundError(
            "The lesson's data files are missing from this installation of satlesson; "
            "reinstall it: python -m pip install --force-reinstall satlesson"
        )
    return folder


def names() -> list[str]:
    """File names of the lesson's data files, e.g. ``["rhodes-places.csv", "rhodes.geojson"]``."""
    return sorted(p.name for p in _folder().iterdir() if p.suffix in _SUFFIXES)


def data_path(name: str) -> Path:
    """Path of the lesson's data file ``name`` inside the installed package."""
    path = _folder() / name
    if name not in names():
        known = ", ".join(names())
        raise FileNotFoundError(f"The lesson has no data file {name!r}; it has: {known}")
    return path


def copy_to(folder: str | os.PathLike[str] = "data") -> list[Path]:
    """Copy the lesson's data files into ``folder`` (created if needed), leaving files already
    there alone, so a learner's own edits survive. Returns the paths in ``folder``."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    copied = []
    for name in names():
        dest = target / name
        if not dest.exists():
            with atomic_output(dest) as tmp:  # never a half-written file under the real name
                shutil.copyfile(data_path(name), tmp)
        copied.append(dest)
    return copied
