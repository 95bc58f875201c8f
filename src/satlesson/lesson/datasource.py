"""Where a build's executed outputs come from: the live services, or a mirror's snapshot.

A build run under ``satlesson mirror run`` has ``SATLESSON_MIRROR=<base url>`` in its
environment (the kernels route their requests there). The mirror's index ``GET <base>/`` names
the snapshot it serves; this module asks it over HTTP, so the lesson machinery never imports
the mirror. Without ``SATLESSON_MIRROR`` the kernels talk to the real services.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, date, datetime

from satlesson.errors import SatlessonError
from satlesson.settings import MIRROR_ENV

TIMEOUT = 5.0  # seconds: the mirror runs on this machine, so it answers at once or not at all


class DataSourceError(SatlessonError):
    """One sentence for the person running the build."""


@dataclass(frozen=True)
class DataSource:
    kind: str  # "live", "synthetic" or "recorded"
    version: str = ""  # the snapshot's version (mirror only)
    day: date | None = None  # live: the build date; recorded: the recording date

    @property
    def key(self) -> str:
        """Names the outputs' origin in the execution cache's folder."""
        parts = [self.kind, self.version, self.day.isoformat() if self.day else ""]
        return "-".join(p for p in parts if p)

    def as_config(self) -> dict[str, str]:
        """A plain dict, kept as a Sphinx config value (pickled with the environment)."""
        return {"kind": self.kind, "version": self.version,
                "day": self.day.isoformat() if self.day else ""}

    @classmethod
    def from_config(cls, value: dict[str, str]) -> DataSource:
        day = date.fromisoformat(value["day"]) if value.get("day") else None
        return cls(value["kind"], value.get("version", ""), day)


def build_date() -> date:
    """Today in UTC, or the date of ``SOURCE_DATE_EPOCH`` for reproducible builds."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    seconds = int(epoch) if epoch and epoch.isdigit() else time.time()
    return datetime.fromtimestamp(seconds, UTC).date()


def _parse_day(text: object) -> date:
    if not isinstance(text, str):
        raise ValueError(text)
    try:
        return date.fromisoformat(text)
    except ValueError:
        return datetime.fromisoformat(text).date()


def ask_mirror(base: str) -> DataSource:
    """The snapshot the mirror at ``base`` serves, from its index document."""
    url = base.rstrip("/") + "/"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            index = json.load(response)
    except (OSError, urllib.error.URLError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DataSourceError(
            f"The mirror named by {MIRROR_ENV} does not answer at {url} ({reason}): start it "
            f"(`satlesson mirror serve`) or unset {MIRROR_ENV} to build from the live services."
        ) from None
    except ValueError:
        raise DataSourceError(f"{url} (from {MIRROR_ENV}) did not answer with the mirror's "
                              "JSON index: is it a satlesson mirror?") from None
    snapshot = index.get("snapshot") if isinstance(index, dict) else None
    if not isinstance(snapshot, dict):
        raise DataSourceError(f"The mirror at {url} does not say which snapshot it serves "
                              "(no \"snapshot\" in its index): update satlesson.")
    kind, version = snapshot.get("kind"), str(snapshot.get("version") or "")
    if kind == "synthetic" and version:
        return DataSource("synthetic", version)
    if kind == "recorded" and version:
        try:
            return DataSource("recorded", version, _parse_day(snapshot.get("recorded")))
        except ValueError:
            raise DataSourceError(f"The mirror at {url} serves a recorded snapshot without a "
                                  "valid recording date (\"recorded\": ISO date).") from None
    raise DataSourceError(f"The mirror at {url} serves a snapshot this lesson does not know: "
                          f"{json.dumps(snapshot)}.")


def detect() -> DataSource:
    """This build's data source: the mirror in ``SATLESSON_MIRROR``, or the live services."""
    base = os.environ.get(MIRROR_ENV, "").strip()
    if base:
        return ask_mirror(base)
    return DataSource("live", day=build_date())
