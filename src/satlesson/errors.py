"""The errors the helper API raises on purpose.

Each carries one sentence a learner can act on. Catch :class:`SatlessonError` to handle them
all; each module re-exports its own (``from satlesson.search import SearchError``).
"""

from __future__ import annotations


class SatlessonError(Exception):
    """Base class of the helper API's deliberate errors."""


class SearchError(SatlessonError):
    """A STAC API could not be reached, refused the search, or lacks the collection."""


class ItemsFileError(SatlessonError, ValueError):
    """A saved search-results file is missing, empty or not a STAC ItemCollection."""


class ClipError(SatlessonError):
    """An asset could not be clipped: unknown asset key, box off the raster, unreachable href."""
