"""Save search results to a GeoJSON file and load them back, so a search runs only once.

Saving is atomic: the file is written beside its target under a temporary name, flushed to
disk and then renamed over the target. A save interrupted by an error, Ctrl-C or a full disk
leaves the previous file as it was and no half-written file behind.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pystac

from satlesson.atomic import atomic_output
from satlesson.errors import ItemsFileError

__all__ = ["ItemsFileError", "atomic_output", "load_items", "save_items"]


def save_items(
    items: pystac.ItemCollection | Iterable[pystac.Item], path: str | os.PathLike[str]
) -> Path:
    """Save ``items`` to ``path`` as a GeoJSON FeatureCollection and return the path.

    Args:
        items: A :class:`pystac.ItemCollection` (what ``search_items`` returns) or any
            iterable of :class:`pystac.Item`.
        path: Where to write, e.g. ``"rhodes_sentinel-2.json"``. Parent folders are created;
            an existing file is replaced only once the new one is completely written.

    Returns:
        The path written, as a :class:`pathlib.Path`.
    """
    if not isinstance(items, pystac.ItemCollection):
        items = pystac.ItemCollection(items)
    # transform_hrefs=False keeps the links exactly as the API wrote them.
    doc = items.to_dict(transform_hrefs=False)
    target = Path(path)
    with atomic_output(target) as tmp:
        # "x": the temporary name must be new; mode follows the umask like any saved file.
        with open(tmp, "x", encoding="utf-8") as f:
            # json.dump streams, so a value it cannot encode fails midway through the
            # temporary file, never the real one.
            json.dump(doc, f, indent=2, ensure_ascii=False)
            f.write("\n")
    return target


def load_items(path: str | os.PathLike[str]) -> pystac.ItemCollection:
    """Load search results saved by :func:`save_items` (or any STAC ItemCollection file).

    Raises:
        ItemsFileError: The file is missing or empty, is not JSON, or is not a GeoJSON
            FeatureCollection of STAC items. (A subclass of ValueError.)
    """
    source = Path(path)
    if not source.exists():
        raise ItemsFileError(
            f"No saved search results at {source}: run the search and save_items() first, "
            "or check the file name and the folder you are in."
        )
    if source.is_dir():
        raise ItemsFileError(f"{source} is a folder; give the path of a saved results file.")
    try:
        # utf-8-sig: accept a file re-saved by an editor that adds a byte-order mark.
        text = source.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise ItemsFileError(
            f"{source} is not UTF-8 text (was it saved in another encoding, e.g. UTF-16 by "
            "PowerShell's `>`?); save the search results again with save_items()."
        ) from err
    except OSError as err:
        raise ItemsFileError(f"Cannot read {source}: {err.strerror}.") from err
    if not text.strip():
        raise ItemsFileError(f"{source} is empty: save the search results again.")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise ItemsFileError(
            f"{source} is not valid JSON (line {err.lineno}, column {err.colno}: {err.msg}); "
            "was it cut short or edited by hand? Save the search results again."
        ) from err
    _check_feature_collection(doc, source)
    try:
        return pystac.ItemCollection.from_dict(doc, preserve_dict=False)
    except Exception as err:
        raise ItemsFileError(
            f"{source} holds a FeatureCollection that pystac cannot read as STAC items: {err}"
        ) from err


def _check_feature_collection(doc: Any, source: Path) -> None:
    """Say what is wrong with ``doc`` in the learner's terms, before pystac tries it."""
    expected = "expected a GeoJSON FeatureCollection of STAC items, as save_items() writes"
    if not isinstance(doc, dict):
        raise ItemsFileError(f"{source} holds a JSON {type(doc).__name__}; {expected}.")
    kind = doc.get("type")
    if kind == "Feature" and "stac_version" in doc:
        raise ItemsFileError(
            f"{source} holds a single STAC Item, not a collection of them; "
            "read it with pystac.Item.from_file()."
        )
    if kind != "FeatureCollection" or not isinstance(doc.get("features"), list):
        what = f"a {kind!r} object" if kind else "JSON without a GeoJSON type"
        raise ItemsFileError(f"{source} holds {what}; {expected}.")
    for i, feature in enumerate(doc["features"]):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            raise ItemsFileError(f"{source}: feature {i} is not a GeoJSON Feature; {expected}.")
        if "stac_version" not in feature or "assets" not in feature:
            name = feature.get("id", i)
            raise ItemsFileError(
                f"{source}: feature {name!r} is plain GeoJSON, not a STAC item "
                f"(no stac_version or assets); {expected}."
            )
