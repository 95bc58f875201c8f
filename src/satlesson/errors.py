"""The errors satlesson raises on purpose: one root, each error one sentence to act on.

Catch :class:`SatlessonError` to handle them all. The helper API's are here, and each of its
modules re-exports its own (``from satlesson.search import SearchError``); the mirror's
(``mirror.errors.MirrorError``), ``drift``'s and the lesson build's derive from the same root.
"""

from __future__ import annotations


class SatlessonError(Exception):
    """Base class of satlesson's deliberate errors (the CLI prints just their message)."""


class SearchError(SatlessonError):
    """A STAC API could not be reached, refused the search, or lacks the collection."""


class ItemsFileError(SatlessonError, ValueError):
    """A saved search-results file is missing, empty or not a STAC ItemCollection."""


class ClipError(SatlessonError):
    """An asset could not be clipped: unknown asset key, box off the raster, unreachable href."""
