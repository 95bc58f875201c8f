"""satlesson: find and fetch satellite imagery with Python.

The helper API (``satlesson.search``, ``satlesson.items``, ``satlesson.clip``,
``satlesson.bands``) is what the episodes import. ``satlesson.mirror`` (offline copies of the
lesson's data services) and ``satlesson.lesson`` (Sphinx extension and ``satlesson check``)
sit beside it and are never imported by the helper API.
"""

from importlib.metadata import PackageNotFoundError, version

try:  # written once, in pyproject.toml
    __version__ = version("satlesson")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"
