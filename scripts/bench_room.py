"""Benchmark: one mirror serving a room of learners.

Records the HTTP requests episode 2 makes (its code cells run in this process, routed to the
mirror's proxy as a learner's kernel is; the requests library's calls are captured as sent,
GDAL's range reads come from the mirror's request log), then replays them, at the real
https:// addresses through the proxy (TLS included), from many threads at once:
- 50 simultaneous searches (the lesson's search for the eleven clear scenes), in rounds:
  p50/p99 latency and searches/s;
- 50 simulated learners replaying the whole episode at once: failures and total time.
A failure is an error, a timeout, a status other than the recorded one, or a JSON answer whose
bytes differ from the recorded one. Everything goes to a mirror on loopback, bounded in count
and time. Also: the cost of a new connection (CONNECT and the TLS handshake, 50 at once) and
of a search on a kept-alive connection. Prints the figures next to those measured before the
response cache (then without TLS: the mirror was reached at http://127.0.0.1:PORT/HOST/PATH).
Usage: python scripts/bench_room.py [--learners 50] [--rounds 5] [--base http://127.0.0.1:PORT]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import io
import ipaddress
import json
import os
import ssl
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import jupytext
import requests
import requests.adapters

from satlesson.mirror.client import routing
from satlesson.mirror.server import service
from satlesson.mirror.server.postgres import free_port

ROOT = Path(__file__).resolve().parents[1]
EPISODE = ROOT / "episodes" / "02-open-remote-imagery.md"
TIMEOUT = 60  # seconds per request
DEADLINE = 900  # seconds for the whole replay phase

# Measured with this script on this 2-core machine, shared with other work, against the mirror
# as it was before the response cache (main at 621ac32; the bursts then came from threads,
# one connection per search). On a quieter day the same mirror gave ~70 ms for one search, a
# p99 of ~4 s for 50 at once and ~20 searches/s.
BASELINE: dict[str, float | None] = {
    "one search alone, median ms": 248.1,
    "burst p50 ms": 7641.7,
    "burst p99 ms": 14735.6,
    "burst searches/s": 3.7,
    "new search burst, max ms": 10801.5,
    "burst failures": 0,
    "room failures": 0,
    "room total s": 76.4,
}
BASELINE_LOAD = "9.1, 8.6, 7.4"


@dataclass
class Call:
    """One recorded request and what the mirror answered."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    stream: bool = False  # the episode closed the response before reading the body
    status: int = 0
    json_body: bytes | None = None  # a JSON answer's exact bytes, compared on replay


# --- recording ------------------------------------------------------------------------------

KEPT_HEADERS = ("accept", "content-type", "range", "authorization")


def _log_records(log: Path, offset: int) -> tuple[list[dict], int]:
    with log.open() as f:
        f.seek(offset)
        text = f.read()
        return [json.loads(line) for line in text.splitlines() if line.strip()], f.tell()


def record_episode(state_dir: Path) -> list[Call]:
    """Run episode 2's code cells (this process routed to the mirror whose state folder is
    ``state_dir``); return its requests."""
    import matplotlib

    matplotlib.use("Agg")
    captured: list[Call] = []
    routed_send = requests.adapters.HTTPAdapter.send

    def capture(self, request, *args, **kwargs):  # type: ignore[no-untyped-def]
        response = routed_send(self, request, *args, **kwargs)
        body = request.body.encode() if isinstance(request.body, str) else request.body
        call = Call(request.method, request.url, body=body, stream=bool(kwargs.get("stream")),
                    headers={k: v for k, v in request.headers.items()
                             if k.lower() in KEPT_HEADERS},
                    status=response.status_code)
        if not call.stream and "json" in response.headers.get("content-type", ""):
            call.json_body = response.content
        captured.append(call)
        return response

    requests.adapters.HTTPAdapter.send = capture  # type: ignore[method-assign]
    log = state_dir / "requests.log"
    calls: list[Call] = []
    namespace: dict = {}
    cwd = os.getcwd()
    os.environ["NETRC"] = str(state_dir / "netrc")  # the demo login the mirror wrote
    try:
        with tempfile.TemporaryDirectory() as work:
            os.chdir(work)
            _, offset = _log_records(log, 0)
            for cell in jupytext.read(EPISODE, fmt="myst").cells:
                if cell.cell_type != "code":
                    continue
                captured.clear()
                with redirect_stdout(io.StringIO()):
                    exec(compile(cell.source, str(EPISODE), "exec"), namespace)
                records, offset = _log_records(log, offset)
                # The mirror logs a request once its answer is sent: wait for the last lines.
                for _ in range(100):
                    if len(records) >= len(captured):
                        break
                    time.sleep(0.05)
                    more, offset = _log_records(log, offset)
                    records += more
                calls += _merge(records, captured)
    finally:
        os.chdir(cwd)
        requests.adapters.HTTPAdapter.send = routed_send  # type: ignore[method-assign]
    return calls


def _merge(records: list[dict], captured: list[Call]) -> list[Call]:
    """The mirror's log in order; a line the requests library made takes its captured call,
    any other line (GDAL's reads) becomes a GET/HEAD with its Range."""
    pending = list(captured)
    merged: list[Call] = []
    for rec in records:
        match = next((c for c in pending if c.method == rec["method"]
                      and "/" + urlsplit(c.url).netloc + unquote(urlsplit(c.url).path)
                      == rec["path"]), None)
        if match is not None:
            pending.remove(match)
            merged.append(match)
            continue
        headers = {"range": rec["range"]} if "range" in rec else {}
        merged.append(Call(rec["method"], "https:/" + rec["path"], headers=headers,
                           status=rec["status"]))
    if pending:
        raise RuntimeError(f"{len(pending)} captured requests are missing from the mirror's log")
    return merged


# --- replay -----------------------------------------------------------------------------------


def _send(session: requests.Session, call: Call) -> str | None:
    """Send one recorded request; return what went wrong, or None."""
    try:
        with session.request(call.method, call.url, headers=call.headers, data=call.body,
                             stream=True, timeout=TIMEOUT) as response:
            if response.status_code != call.status:
                return f"{call.method} {call.url}: {response.status_code} != {call.status}"
            if call.stream:
                return None
            body = response.content
    except requests.RequestException as exc:
        return f"{call.method} {call.url}: {type(exc).__name__}"
    if call.json_body is not None and body != call.json_body:
        return f"{call.method} {call.url}: answer differs from the recorded one"
    return None


def _tls() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=os.environ["REQUESTS_CA_BUNDLE"])


async def _timed_request(call: Call, go: asyncio.Event,
                         tls: ssl.SSLContext) -> tuple[float, float, tuple[int, bytes, str]]:
    """Open a tunnel through the proxy and shake hands, wait for ``go``, send ``call`` as
    pystac-client does (accepting gzip) and read the answer as it comes on the wire:
    (ms for the tunnel and handshake, ms from sending to the last byte, answer)."""
    parts = urlsplit(call.url)
    proxy = urlsplit(os.environ["HTTPS_PROXY"])
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    body = call.body or b""
    head = "".join(f"{k}: {v}\r\n" for k, v in call.headers.items()
                   if k.lower() not in ("content-length", "accept-encoding", "connection"))
    request = (f"{call.method} {target} HTTP/1.1\r\nHost: {parts.netloc}\r\n{head}"
               f"Accept-Encoding: gzip, deflate\r\nContent-Length: {len(body)}\r\n"
               "Connection: close\r\n\r\n").encode() + body
    opened = time.perf_counter()
    reader, writer = await asyncio.open_connection(proxy.hostname, proxy.port)
    try:
        writer.write(f"CONNECT {parts.hostname}:443 HTTP/1.1\r\nHost: {parts.hostname}:443"
                     "\r\n\r\n".encode())
        tunnel = (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n", 1)[0]
        if b" 200 " not in tunnel + b" ":
            raise ValueError(tunnel.decode("latin-1"))
        await writer.start_tls(tls, server_hostname=parts.hostname)
        handshake = (time.perf_counter() - opened) * 1000
        await go.wait()
        started = time.perf_counter()
        writer.write(request)
        status_line, *lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":")
                                                                for line in lines if line)}
        content = await reader.readexactly(int(headers.get("content-length", "0")))
        elapsed = (time.perf_counter() - started) * 1000
    finally:
        writer.close()
    return handshake, elapsed, (int(status_line.split()[1]), content,
                                headers.get("content-encoding", ""))


async def _burst_round(search: Call, clients: int,
                       handshakes: list[float]) -> list[tuple[float, tuple | str]]:
    go = asyncio.Event()
    tls = _tls()

    async def one() -> tuple[float, tuple | str]:
        try:
            handshake, elapsed, answer = await asyncio.wait_for(
                _timed_request(search, go, tls), TIMEOUT)
            handshakes.append(handshake)
            return elapsed, answer
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
            return TIMEOUT * 1000.0, f"{search.method} {search.url}: {type(exc).__name__}"

    tasks = [asyncio.create_task(one()) for _ in range(clients)]
    await asyncio.sleep(2)  # every tunnel open and every handshake done
    go.set()
    return await asyncio.gather(*tasks)


def kept_alive(search: Call, count: int = 20) -> list[float]:
    """ms per search when one client sends ``count`` in a row on one kept-alive connection."""
    times = []
    with requests.Session() as session:
        session.request(search.method, search.url, data=search.body, headers=search.headers,
                        timeout=TIMEOUT).raise_for_status()  # opens the tunnel once
        for _ in range(count):
            started = time.perf_counter()
            session.request(search.method, search.url, data=search.body,
                            headers=search.headers, timeout=TIMEOUT).raise_for_status()
            times.append((time.perf_counter() - started) * 1000)
    return times


def burst(search: Call, clients: int, rounds: int,
          handshakes: list[float] | None = None) -> tuple[list[float], float, list[str]]:
    """``rounds`` times, ``clients`` connections send ``search`` at the same instant.

    Returns each search's latency in ms, the searches per second over all rounds, failures.
    One event loop drives every connection and leaves the bodies as they came (decoding is
    the learner's laptop's work), so the figures are the mirror's, not this script's."""
    latencies: list[float] = []
    answers: set[tuple[int, bytes, str]] = set()
    failures: list[str] = []
    busy = 0.0
    for _ in range(rounds):
        started = time.perf_counter()
        results = asyncio.run(_burst_round(search, clients,
                                           handshakes if handshakes is not None else []))
        busy += time.perf_counter() - started - 2
        for elapsed, answer in results:
            latencies.append(elapsed)
            if isinstance(answer, str):
                failures.append(answer)
            else:
                answers.add(answer)
    bodies = {gzip.decompress(body) if coding == "gzip" else body
              for status, body, coding in answers}
    expected = {search.json_body} if search.json_body is not None else bodies
    if {status for status, _, _ in answers} - {search.status} or len(bodies) > 1 or (
            bodies != expected):
        failures.append(f"{search.method} {search.url}: answers differ from the recorded one")
    return latencies, len(latencies) / busy, failures


def room(calls: list[Call], learners: int) -> tuple[float, list[str], int]:
    """``learners`` threads replay the episode's requests at once: (seconds, failures, requests)."""
    failures: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(learners)
    deadline = time.monotonic() + DEADLINE

    def learner(_: int) -> None:
        with requests.Session() as session:
            barrier.wait()
            for call in calls:
                if time.monotonic() > deadline:
                    problem: str | None = "deadline passed"
                else:
                    problem = _send(session, call)
                if problem:
                    with lock:
                        failures.append(problem)

    started = time.perf_counter()
    with ThreadPoolExecutor(learners) as pool:
        list(pool.map(learner, range(learners)))
    return time.perf_counter() - started, failures, learners * len(calls)


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(q) - 1]


@contextmanager
def _mirror(base: str | None) -> Iterator[tuple[str, Path]]:
    state = service.default_state_dir()
    with (nullcontext(base) if base else service.running(free_port(), state)) as url:
        yield url.rstrip("/"), state


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", type=int, default=50, choices=range(1, 101),
                        metavar="N (1-100)")
    parser.add_argument("--rounds", type=int, default=5, choices=range(1, 21),
                        metavar="R (1-20)")
    parser.add_argument("--base", help="a mirror already running on loopback (its state "
                        "folder must be the default one, for the request log)")
    args = parser.parse_args()
    if args.base and not ipaddress.ip_address(urlsplit(args.base).hostname or "").is_loopback:
        parser.error("--base must be a loopback address: this load stays on this machine")

    with _mirror(args.base) as (base, state), tempfile.TemporaryDirectory() as client:
        routing.install(base, Path(client))  # through the proxy, as a learner's kernel
        started = time.perf_counter()
        calls = record_episode(state)
        print(f"episode 2 recorded: {len(calls)} requests in {time.perf_counter() - started:.1f} s")
        search = next(c for c in calls if c.method == "POST" and c.json_body
                      and b"eo:cloud_cover" in (c.body or b"")
                      and len(json.loads(c.json_body)["features"]) == 11)
        one = [burst(search, 1, 1)[0][0] for _ in range(20)]
        # A search nobody made before (another page size), all at once.
        fresh = json.loads(search.body or b"{}")
        fresh["limit"] = 11 + os.getpid() % 1000
        cold_call = Call(search.method, search.url, search.headers,
                         json.dumps(fresh).encode(), status=200)
        cold, _, cold_failures = burst(cold_call, args.learners, 1)
        handshakes: list[float] = []
        latencies, rate, burst_failures = burst(search, args.learners, args.rounds, handshakes)
        reused = kept_alive(search)
        seconds, room_failures, total = room(calls, args.learners)
        routing.uninstall()

    rows = [
        ("one search alone, median ms", statistics.median(one), ".1f"),
        ("burst p50 ms", percentile(latencies, 50), ".1f"),
        ("burst p99 ms", percentile(latencies, 99), ".1f"),
        ("burst searches/s", rate, ".1f"),
        ("new search burst, max ms", max(cold), ".1f"),
        ("burst failures", len(burst_failures) + len(cold_failures), "d"),
        ("new connection (TLS) p50 ms", percentile(handshakes, 50), ".1f"),
        ("new connection (TLS) p99 ms", percentile(handshakes, 99), ".1f"),
        ("kept-alive search, median ms", statistics.median(reused), ".1f"),
        ("room failures", len(room_failures), "d"),
        ("room total s", seconds, ".1f"),
    ]
    print(f"\nburst: {args.learners} identical searches (the eleven clear scenes) sent at once, "
          f"{args.rounds} rounds, each on a tunnel opened just before;\n"
          f"new connection: CONNECT and TLS handshake, {args.learners} at once;\n"
          "kept-alive: 20 searches in a row on one connection;\n"
          "new search burst: the same with a search not made before;\n"
          f"room: {args.learners} learners replaying episode 2 at once ({total} requests).")
    print(f"\n{'figure':<30} {'now':>9} {'before':>9}")
    for name, value, fmt in rows:
        before = BASELINE.get(name)
        shown = format(before, fmt) if before is not None else "-"
        print(f"{name:<30} {format(value, fmt):>9} {shown:>9}")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nload average now {load} on {os.cpu_count()} cores; before: {BASELINE_LOAD}")
    for problem in sorted(set(room_failures + burst_failures + cold_failures))[:10]:
        print("  failure:", problem)


if __name__ == "__main__":
    main()
