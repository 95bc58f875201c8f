"""What the real Earth Search answered for the lesson's scenes: the facts the snapshot keeps.

``earth-search-rhodes-2023.json`` (package data, written by
``scripts/transcribe_earth_search.py``) holds, for the eleven real ``sentinel-2-l2a`` items over
Rhodes with ``eo:cloud_cover < 1`` in July-August 2023, their extension list, footprint, bbox
and properties exactly as the live API returned them; its ``source`` key says where from.
Every value the mirror serves for these items comes from here, never from a model.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib.resources import files
from typing import Any

__all__ = ["published_item", "published_ids", "SOURCE"]

_FILE = "earth-search-rhodes-2023.json"


@cache
def _doc() -> dict[str, Any]:
    return json.loads(files("satlesson").joinpath("data", _FILE).read_text())


SOURCE: str = _doc()["source"]


def published_ids() -> tuple[str, ...]:
    """The real items' IDs, newest first, as upstream returned them."""
    return tuple(_doc()["items"])


def published_item(item_id: str) -> dict[str, Any] | None:
    """A real item's ``stac_extensions``, ``geometry``, ``bbox`` and ``properties`` (a copy),
    or None when the item is not one upstream was seen to serve."""
    item = _doc()["items"].get(item_id)
    return None if item is None else copy.deepcopy(item)
