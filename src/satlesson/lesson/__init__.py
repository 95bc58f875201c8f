"""Lesson machinery: a Sphinx extension (``satlesson.lesson`` in ``_config.yml``) and the
``satlesson check`` linter.

Sphinx is imported only when Sphinx loads the extension, so the linter runs without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sphinx.application import Sphinx


def setup(app: Sphinx) -> dict[str, Any]:
    from satlesson.lesson.sphinxext import setup as _setup

    return _setup(app)
