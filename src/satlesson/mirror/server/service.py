"""Start, stop and prepare the mirror: the code behind ``satlesson mirror ...``."""

from __future__ import annotations

import errno
import fcntl
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import requests

from satlesson.mirror.client.urls import DEFAULT_HOST, DEFAULT_PORT
from satlesson.mirror.errors import MirrorError
from satlesson.mirror.open_snapshot import open_snapshot
from satlesson.mirror.snapshot import Snapshot
from satlesson.settings import STATE_ENV


def default_state_dir() -> Path:
    """Where the mirror keeps its database and asset cache (``.mirror`` in the working folder)."""
    return Path(os.environ.get(STATE_ENV, ".mirror")).resolve()


def check_port_free(host: str, port: int) -> None:
    with socket.socket() as s:
        # As uvicorn binds: a port whose last connections linger in TIME_WAIT is free.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise MirrorError(
                    f"Port {port} on {host} is already in use (is a mirror already running?): "
                    "stop that program or choose another port with --port."
                ) from None
            raise MirrorError(f"Cannot listen on {host}:{port}: {exc.strerror}.") from None


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _log(message: str) -> None:
    print(f"[mirror] {message}", file=sys.stderr, flush=True)


_held_locks: list[IO[str]] = []


def _claim(state_dir: Path) -> None:
    """One mirror per state folder: hold an exclusive lock on it for this process's life.

    The kernel releases the lock however the process ends, so a killed mirror never blocks
    the next one; a database it left running is stopped by ``Cluster.start``.
    """
    handle = (state_dir / "mirror.lock").open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        owner = handle.read().strip() or "another process"
        handle.close()
        raise MirrorError(
            f"Another mirror ({owner}) is using {state_dir}: stop it, or give this one its own "
            "--state-dir."
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"process {os.getpid()}")
    handle.flush()
    _held_locks.append(handle)


def prepare(state_dir: Path, snapshot: Snapshot[Any]):  # -> Cluster, started and loaded
    """Create, start and load the database cluster; the caller must ``cluster.stop()`` it."""
    from satlesson.mirror.server.database import ensure_loaded
    from satlesson.mirror.server.postgres import Cluster

    _claim(state_dir)
    cluster = Cluster(state_dir / "pg")
    if cluster.ensure_initialized():
        _log("created a PostgreSQL cluster")
    cluster.start()
    try:
        for api in snapshot.apis:
            ensure_loaded(cluster, api, log=_log)
    except BaseException:
        cluster.stop()
        raise
    return cluster


def serve(
    host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, state_dir: Path | None = None,
    snapshot: Path | None = None, proxy_port: int | None = None,
    allow_other_hosts: bool = False,
) -> None:
    """Serve the mirror in the foreground until Ctrl-C or SIGTERM; stop everything it started.

    ``snapshot`` is a recorded snapshot's folder; without it the synthetic snapshot is served.
    The proxy listens on ``proxy_port`` (default ``port + 1``) of the same ``host``; it
    refuses hosts outside the lesson unless ``allow_other_hosts``.
    """
    import uvicorn

    from satlesson.mirror.server import proxy
    from satlesson.mirror.server.addresses import ALL_INTERFACES, serving_message
    from satlesson.mirror.server.app import build_app, write_netrc

    state_dir = state_dir or default_state_dir()
    served = open_snapshot(snapshot)
    proxy_port = proxy_port or port + 1
    proxy.mitmdump()  # a missing proxy is one sentence now, not after the database started
    check_port_free(host, port)
    check_port_free(host, proxy_port)
    state_dir.mkdir(parents=True, exist_ok=True)
    # SIGTERM becomes an exception (as SIGINT already is) from here on, so a stop during the
    # database start-up, and uvicorn re-raising the signal after its shutdown, both reach the
    # cleanup below.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    cluster = prepare(state_dir, served)
    try:
        write_netrc(state_dir)

        def ready() -> None:
            print(serving_message(host, port, proxy_port), flush=True)

        app = build_app(cluster, state_dir, on_ready=ready, snapshot=served,
                        proxy_port=proxy_port)
        # The proxy keeps one connection to the app per learner's connection and reuses it;
        # uvicorn's default 5 s idle close races that reuse (a 502 now and then in a room).
        config = uvicorn.Config(app, host=host, port=port, log_level="warning",
                                access_log=False, lifespan="on", timeout_keep_alive=900)
        app_host = "127.0.0.1" if host in ALL_INTERFACES else host
        with proxy.running((app_host, port), host, proxy_port, state_dir, allow_other_hosts):
            uvicorn.Server(config).run()
    finally:
        cluster.stop()
        _log("stopped")


def build(state_dir: Path | None = None, item_ids: Sequence[str] = (), everything: bool = False,
          jobs: int | None = None) -> None:
    """Make the snapshot ready ahead of time: the databases, then the files the episodes read
    (``everything``: every file of the lesson's scenes, not the archive's; ``item_ids``: every
    file of those items), rendered
    in parallel, one worker process per core unless ``jobs`` says otherwise."""
    from satlesson.mirror import episode_files
    from satlesson.mirror.synthetic import pool
    from satlesson.mirror.synthetic.advertised import advertised_files

    state_dir = state_dir or default_state_dir()
    advertised = advertised_files()
    if item_ids:
        unknown = sorted(set(item_ids) - {s.item_id for s in advertised.values()})
        if unknown:
            raise MirrorError(f"This snapshot has no item {unknown[0]}.")
        specs = [s for s in advertised.values() if s.item_id in item_ids]
        what = "files of " + ", ".join(item_ids)
    elif everything:
        # The archive's hundreds of scenes stay metadata until someone reads one of them.
        from satlesson.mirror.synthetic.archive import archive_scenes

        archive = set(archive_scenes())
        specs = [s for s in advertised.values() if s.scene not in archive]
        what = "every file of the lesson's scenes"
    else:
        specs, what = episode_files.specs(advertised), "the files the episodes read"
    state_dir.mkdir(parents=True, exist_ok=True)
    try:
        with pool.fields_ahead(state_dir / "assets", specs):
            prepare(state_dir, open_snapshot()).stop()
        _log(f"rendering {what} into {state_dir / 'assets'}")
        made = pool.render_all(specs, state_dir / "assets", jobs)
    except KeyboardInterrupt:
        print("satlesson: build interrupted; every file it finished is kept, so running it "
              "again resumes where it stopped.", file=sys.stderr, flush=True)
        raise
    _log(f"{len(specs)} files ready ({made} rendered now)")


@contextmanager
def running(port: int | None = None, state_dir: Path | None = None,
            timeout: float = 300, snapshot: Path | None = None) -> Iterator[str]:
    """Run ``satlesson mirror serve`` in a child process; yield its base URL; stop it after."""
    from satlesson.mirror.server.postgres import free_port

    state_dir = state_dir or default_state_dir()
    port = port or DEFAULT_PORT
    check_port_free(DEFAULT_HOST, port)
    proxy_port = port + 1 if port == DEFAULT_PORT else free_port()
    base = f"http://{DEFAULT_HOST}:{port}"
    cmd = [sys.executable, "-m", "satlesson", "mirror", "serve", "--port", str(port),
           "--proxy-port", str(proxy_port), "--state-dir", str(state_dir)]
    if snapshot is not None:
        from satlesson.mirror.recorded.folder import read_manifest

        read_manifest(Path(snapshot))  # a wrong folder is one sentence here, not a child's log
        cmd += ["--snapshot", str(Path(snapshot).resolve())]
    state_dir.mkdir(parents=True, exist_ok=True)
    # A file, not a pipe: nobody reads a pipe while the mirror runs, and a full one blocks it.
    log = state_dir / "mirror.log"
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, text=True)
    try:
        _wait_ready(proc, base, timeout, log)
        yield base
    finally:
        stop(proc, 60)


def stop(proc: subprocess.Popen, grace: float) -> None:
    """Ask a child server to stop; kill it if it has not within ``grace`` seconds."""
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _wait_ready(proc: subprocess.Popen[str], base: str, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            output = log.read_text().strip()[-2000:]
            raise MirrorError(f"The mirror stopped before it was ready: {output}")
        try:
            if requests.get(base + "/", timeout=2).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.5)
    raise MirrorError(f"The mirror did not answer at {base} within {timeout:.0f} s.")


def run_with_mirror(command: Sequence[str], port: int | None = None,
                    state_dir: Path | None = None, snapshot: Path | None = None) -> int:
    """Run ``command`` with the mirror up and its kernels routed to it; return its exit code."""
    from satlesson.mirror.client.routing import kernel_env

    state_dir = state_dir or default_state_dir()
    with running(port, state_dir, snapshot=snapshot) as base:
        env = {**os.environ, **kernel_env(base, state_dir)}
        _log(f"running {' '.join(command)} against {base}")
        return subprocess.call(list(command), env=env)
