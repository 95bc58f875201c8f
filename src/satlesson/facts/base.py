"""What a fact is, how a change in it is worded, and how the services are asked.

A fact is one thing a page states about the live services: a count, a list of scene IDs, one
value per scene, or a single value. It holds the value the page shows (the snapshot the site
was built from) and a function that measures it now. The same wording serves the episodes'
hidden checks and ``satlesson drift``, so a failed check in a live build and the drift report
say the same.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

T = TypeVar("T")
Kind = Literal["count", "ids", "per-scene", "value"]


@dataclass(frozen=True)
class Fact:
    """One value a page states, and how to measure it from the services."""

    name: str  # what hidden checks and the drift table call it, e.g. "clear-scenes"
    snapshot: Any  # the value the page shows
    label: str  # the words for it in a change, see changes()
    measure: Callable[[Services], Any]
    kind: Kind = "value"
    grows: bool = False  # a count the page says will grow: growth is expected, not drift

    def changes(self, now: Any) -> list[str]:
        """What moved between the snapshot and ``now``, in plain words; empty if nothing did."""
        if self.kind == "count":
            return self._count_changes(now)
        if self.kind == "ids":
            return self._id_changes(list(now) if now is not None else [])
        if self.kind == "per-scene":
            # Scenes that came or went are the business of the "ids" facts; here only the
            # values of scenes that are still there.
            now = now or {}
            return [f"{self.label.format(i)} was {show(old)}, now {show(now[i])}"
                    for i, old in self.snapshot.items() if i in now and not _same(now[i], old)]
        if _same(now, self.snapshot):
            return []
        return [f"{self.label} was {show(self.snapshot)}, now {show(now)}"]

    def grew(self, now: Any) -> bool:
        """True when a count that is expected to grow did so (reported, but not drift)."""
        return self.grows and isinstance(now, int) and now > self.snapshot

    def _count_changes(self, now: Any) -> list[str]:
        if now is None:
            return [f"the number of {self.label} is no longer reported (the page says "
                    f"{self.snapshot})"]
        if now == self.snapshot or self.grew(now):
            return []
        return [f"{self.snapshot} {self.label} became {now}"]

    def _id_changes(self, now: list[str]) -> list[str]:
        # label names the list when it is a subset ("the clear scenes"); none: "the scenes".
        gone = [i for i in self.snapshot if i not in now]
        new = [i for i in now if i not in self.snapshot]
        words = [f"scene {i} left {self.label}" if self.label else f"scene {i} is gone"
                 for i in gone]
        words += [f"scene {i} joined {self.label}" if self.label else f"scene {i} is new"
                  for i in new]
        if not words and now != list(self.snapshot):
            words.append(f"{self.label or 'the scenes'} come in a different order")
        return words


def count(name: str, snapshot: int, label: str, measure: Callable[[Services], Any],
          grows: bool = False) -> Fact:
    """A number of things, worded "12 scenes became 13" (``label`` is the plural noun)."""
    return Fact(name, snapshot, label, measure, "count", grows)


def ids(name: str, snapshot: Sequence[str], label: str,
        measure: Callable[[Services], Any]) -> Fact:
    """Scene IDs in the order the page lists them, worded "scene X is gone" (``label`` empty)
    or "scene X left the clear scenes" (``label`` names the subset)."""
    return Fact(name, tuple(snapshot), label, measure, "ids")


def per_scene(name: str, snapshot: dict[str, Any], label: str,
              measure: Callable[[Services], Any]) -> Fact:
    """One value for each scene, worded "the cloud cover of X was 0.96, now 5" (``label`` has a
    ``{}`` for the scene ID). Scenes that came or went are left to an ``ids`` fact."""
    return Fact(name, dict(snapshot), label, measure, "per-scene")


def value(name: str, snapshot: Any, label: str, measure: Callable[[Services], Any]) -> Fact:
    """One value, worded "the cloud cover of X was 0.96, now 5" (``label`` names the value)."""
    return Fact(name, snapshot, label, measure, "value")


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return list(a) == list(b)
    return bool(a == b)


def show(value: Any) -> str:
    """A value as the table and the messages print it."""
    if value is None:
        return "none"
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return f"{len(value)} IDs"
    if isinstance(value, dict):
        return f"{len(value)} scenes"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


class Services:
    """The lesson's services as a learner's code reaches them (directly, or through the proxy
    that this process's settings name). Each query runs once however many facts read it.
    """

    def __init__(self, timeout: float = 60) -> None:
        self.timeout = timeout
        self._memo: dict[Any, Any] = {}

    def once(self, query: Callable[[Services], T]) -> T:
        """``query(self)``, computed on first use only."""
        if query not in self._memo:
            self._memo[query] = query(self)
        return self._memo[query]

    def client(self, url: str) -> Any:
        """A pystac-client Client for the STAC API at ``url``, with timeouts and retries."""
        key = ("client", url)
        if key not in self._memo:
            from pystac_client import Client
            from pystac_client.stac_api_io import StacApiIO
            from urllib3.util.retry import Retry

            retry = Retry(total=2, backoff_factor=0.5, allowed_methods=None,
                          status_forcelist=(429, 500, 502, 503, 504), raise_on_status=False)
            io = StacApiIO(timeout=self.timeout, max_retries=retry)
            self._memo[key] = Client.open(url, stac_io=io, timeout=self.timeout)
        return self._memo[key]

    def status(self, href: str) -> int:
        """The HTTP status a request for ``href`` without any credentials ends with."""
        import os

        import requests

        with requests.Session() as anonymous:
            anonymous.trust_env = False  # no netrc: what a learner without a login sees
            # ... but the same route and trusted CAs as the rest of this process.
            proxies = requests.utils.get_environ_proxies(href)
            verify = os.environ.get("REQUESTS_CA_BUNDLE") or True
            with anonymous.get(href, stream=True, timeout=self.timeout, proxies=proxies,
                               verify=verify) as r:
                return r.status_code


def failure(exc: BaseException) -> str:
    """Why measuring failed, as a clause: "earth-search.aws.element84.com did not answer"."""
    import requests

    seen: list[BaseException] = []
    link: BaseException | None = exc
    while link is not None and link not in seen:
        seen.append(link)
        link = link.__cause__ or link.__context__
    for err in seen:
        if isinstance(err, requests.RequestException) and err.request is not None:
            from urllib.parse import urlsplit

            host = urlsplit(err.request.url or "").netloc or "the service"
            if isinstance(err, requests.Timeout):
                return f"{host} did not answer in time"
            if isinstance(err, requests.HTTPError) and err.response is not None:
                return f"{host} answered HTTP {err.response.status_code}"
            return f"{host} could not be reached ({_reason(err)})"
    for err in seen:
        status = getattr(err, "status_code", None)
        if status is not None:
            return f"the service answered HTTP {status}"
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, json.JSONDecodeError):
        return "the service did not answer with JSON"
    return first.rstrip(".")


def _reason(err: BaseException) -> str:
    text = str(err).lower()
    if "refused" in text:
        return "connection refused"
    if "name or service not known" in text or "resolution" in text or "getaddrinfo" in text:
        return "the host name could not be looked up"
    if "unreachable" in text:
        return "network unreachable"
    if "ssl" in text or "certificate" in text:
        return "secure connection failed"
    return type(err).__name__
