"""Benchmark: what the archive-sized snapshot costs (catalog, mirror start, archive searches).

    .venv/bin/python scripts/bench_archive.py

Prints the time to build the catalog documents, a mirror's cold start (new PostgreSQL cluster,
pgstac loaded with every item) and warm start (database already loaded), and the latency of
the searches an all-time query makes: ``matched()``, every item page by page, and a sort by
cloud cover. All traffic goes to a mirror on 127.0.0.1 started for the run.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from pystac_client import Client
from shapely.geometry import Point

from satlesson.mirror.client import routing
from satlesson.mirror.client.urls import EARTH_SEARCH_API
from satlesson.mirror.server import service
from satlesson.mirror.server.postgres import free_port
from satlesson.mirror.synthetic import earth_search
from satlesson.mirror.synthetic.advertised import advertised_files

POINT = Point(27.95, 36.20)


def timed(what, *args, **kwargs):  # noqa: ANN001, ANN201 - a bench helper
    started = time.perf_counter()
    result = what(*args, **kwargs)
    return result, time.perf_counter() - started


def main() -> None:
    items, seconds = timed(earth_search.earth_search_items)
    size = len(json.dumps(items)) / 1e6
    print(f"catalog: {len(items)} Earth Search items, {size:.1f} MB of JSON, {seconds:.1f} s")
    _, seconds = timed(advertised_files)
    print(f"advertised files table: {seconds:.1f} s")
    with tempfile.TemporaryDirectory(prefix="satlesson-bench-") as state:
        rows = []
        for start in ("cold (new cluster, items loaded)", "warm (database kept)"):
            started = time.perf_counter()
            with service.running(free_port(), Path(state)) as base:
                ready = time.perf_counter() - started
                rows.append((f"mirror start, {start}", ready))
                if start.startswith("warm"):
                    routing.install(base)
                    try:
                        client = Client.open(EARTH_SEARCH_API)
                        search = client.search(collections=["sentinel-2-l2a"], intersects=POINT)
                        count, seconds = timed(search.matched)
                        rows.append((f"all-time matched() = {count}", seconds))
                        got, seconds = timed(lambda s=search: len(s.item_collection()))
                        rows.append((f"all-time item_collection(): {got} items, pages of 100",
                                     seconds))  # fmt: skip
                        clearest = client.search(collections=["sentinel-2-l2a"], intersects=POINT,
                                                 sortby="properties.eo:cloud_cover",
                                                 max_items=10)  # fmt: skip
                        _, seconds = timed(lambda s=clearest: list(s.items()))
                        rows.append(("ten clearest of the archive (sortby)", seconds))
                    finally:
                        routing.uninstall()
    print(f"{'mirror over the archive':<60} {'s':>7}")
    for name, seconds in rows:
        print(f"{name:<60} {seconds:>7.2f}")


if __name__ == "__main__":
    main()
