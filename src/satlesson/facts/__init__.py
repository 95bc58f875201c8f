"""The facts the lesson's pages state about the live services, in one place.

Each episode's facts live in a module of this package (one line per fact: name, the value the
page shows, the words for a change, how to measure it). Episodes assert them in their hidden
checks with :func:`check`; ``satlesson drift`` measures them all and compares.

To add a fact, add one line to the episode's ``FACTS`` with ``count``, ``ids``, ``per_scene``
or ``value`` from :mod:`satlesson.facts.base` (and, if it needs a new search, a small query
function beside the others), then call ``check("its-name", value)`` in the page's hidden check.
A new episode's module is added to ``_EPISODES`` below.
"""

from __future__ import annotations

from typing import Any

from satlesson.facts import (
    access_satellite_imagery,
    dask_and_data_cubes,
    how_much_burned,
    vectors_meet_rasters,
)
from satlesson.facts.base import Fact, Services, failure, show

__all__ = ["FACTS", "Fact", "Services", "check", "failure", "show"]

_EPISODES = (access_satellite_imagery, vectors_meet_rasters, how_much_burned, dask_and_data_cubes)



def _by_name() -> dict[str, Fact]:
    facts: dict[str, Fact] = {}
    for module in _EPISODES:
        for fact in module.FACTS:
            if fact.name in facts:
                raise ValueError(f"Two facts are called {fact.name!r}: names must be unique")
            facts[fact.name] = fact
    return facts


FACTS: dict[str, Fact] = _by_name()


def check(name: str, now: Any) -> None:
    """Assert that fact ``name`` still has the value the page shows.

    Raises:
        AssertionError: "Drift: 11 clear scenes became 12 ...", in the words of
            ``satlesson drift``.
        KeyError: no fact is called ``name``.
    """
    fact = FACTS[name]
    words = fact.changes(now)
    if words:
        raise AssertionError(
            f"Drift: {'; '.join(words)} (fact '{name}'). Unless the code above changed, the "
            "service no longer answers what the page shows; `satlesson drift` lists "
            "everything that moved."
        )
