"""``satlesson drift``: do the services still give what the pages show?

Measures every fact of :mod:`satlesson.facts` from the live services (or from a mirror-style
base URL, where ``https://HOST/PATH`` is read at ``BASE/HOST/PATH``) and prints one table of
fact, snapshot, now and changed, then names what moved in plain words.
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import requests

from satlesson import facts
from satlesson.errors import SatlessonError

# What measuring may run into when a service is down, unreachable or answers nonsense.
# Anything else is a bug and keeps its traceback.
_NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    requests.RequestException, json.JSONDecodeError, SatlessonError, OSError,
)

UNCHANGED, CHANGED, GREW = "no", "yes", "grew, as expected"


class Unreachable(SatlessonError):
    """A service could not be asked; the message is one sentence for the CLI to print."""


@dataclass(frozen=True)
class Row:
    fact: facts.Fact
    now: Any
    words: list[str]  # what moved; empty when nothing did

    @property
    def changed(self) -> str:
        if self.words:
            return CHANGED
        return GREW if self.fact.grew(self.now) else UNCHANGED


def measure(services: facts.Services, progress: bool = True) -> list[Row]:
    """Measure every fact, in page order. Raises :class:`Unreachable`."""
    from pystac_client.exceptions import APIError
    from rasterio.errors import RasterioError
    from tqdm import tqdm

    rows = []
    for fact in tqdm(list(facts.FACTS.values()), desc="measuring", unit="fact",
                     file=sys.stderr, leave=False,
                     disable=None if progress else True):  # None: only on a terminal
        try:
            now = fact.measure(services)
        except (*_NETWORK_ERRORS, APIError, RasterioError) as err:
            raise Unreachable(f"Could not measure {fact.name}: {facts.failure(err)}") from err
        rows.append(Row(fact, now, fact.changes(now)))
    return rows


def table(rows: list[Row]) -> str:
    """The rows as a plain-text table: fact, snapshot, now, changed."""
    cells = [("fact", "snapshot", "now", "changed")]
    cells += [(r.fact.name, facts.show(r.fact.snapshot), facts.show(r.now), r.changed)
              for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def report(rows: list[Row], source: str, out: TextIO) -> int:
    """Print the table and what moved; return the exit status (0 nothing moved, 1 some)."""
    print(f"Facts the pages state, measured from {source}:\n", file=out)
    print(table(rows), file=out)
    moved = [words for row in rows for words in row.words]
    if not moved:
        print("\nNothing moved: the services still give what the pages show.", file=out)
        return 0
    print(f"\n{len(moved)} change{'s' if len(moved) != 1 else ''} since the snapshot:", file=out)
    for words in moved:
        print(f"- {words}", file=out)
    return 1


def run(against: str | None = None, out: TextIO = sys.stdout, progress: bool = True) -> int:
    """Measure against the live services, or against the mirror-style base ``against``."""
    source = "the live services"
    folder = None
    if against:
        if not against.startswith(("http://", "https://")):
            raise Unreachable(f"--against needs an http(s) base URL, got {against!r}.")
        from satlesson.mirror.client import routing
        from satlesson.mirror.errors import MirrorError

        base = against.rstrip("/")
        folder = tempfile.TemporaryDirectory()
        try:  # requests, pystac-client and GDAL: through the mirror's proxy
            routing.install(base, Path(folder.name))
        except MirrorError as err:
            folder.cleanup()
            raise Unreachable(str(err)) from None
        source = base
    try:
        rows = measure(facts.Services(), progress)
    except Unreachable as err:
        hint = (f"is {source} a running mirror?" if against
                else "check your internet connection.")
        raise Unreachable(f"{err}; {hint}") from err.__cause__
    finally:
        if folder is not None:
            routing.uninstall()
            folder.cleanup()
    return report(rows, source, out)
