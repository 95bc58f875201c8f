"""``satlesson mirror record``: run a command through a relay to the services; keep what it read.

The command is routed exactly as a mirror's clients are: through the mirror's proxy
(``server/proxy.py``), which sends the lesson's hosts to the recorder's app at
``/HOST/PATH``. The app fetches each request from ``https://HOST/PATH``, or from
``{upstream}/HOST/PATH`` when another mirror stands in for the internet, and relays upstream's
answer unchanged, so the command sees the URLs the live services serve. What passes is kept:
the API documents (collections, items, the exact answers), small files whole, and of every
other file the byte ranges read; after the command, COG headers are completed from upstream,
and the snapshot folder is put in place in one rename. Recording live, the proxy tunnels
other hosts (Earthdata Login's) untouched.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from satlesson.mirror.client.urls import DEFAULT_HOST
from satlesson.mirror.errors import MirrorError
from satlesson.mirror.recorded import folder as snapshot_folder
from satlesson.mirror.recorded.recording import Recording
from satlesson.mirror.recorded.relay import recorder_app
from satlesson.mirror.recorded.writer import write_snapshot
from satlesson.mirror.server import proxy


@contextmanager
def _serving(rec: Recording, port: int) -> Iterator[str]:
    """Serve the recorder on a thread of this process, its proxy in front; yield its base URL."""
    import uvicorn

    from satlesson.mirror.server.postgres import free_port
    from satlesson.mirror.server.service import check_port_free

    check_port_free(DEFAULT_HOST, port)
    base = f"http://{DEFAULT_HOST}:{port}"
    proxy_port = free_port()
    config = uvicorn.Config(recorder_app(rec, proxy_port), host=DEFAULT_HOST, port=port,
                            log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="recorder", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise MirrorError(f"The recorder could not start at {base}.")
        time.sleep(0.05)
    try:
        with proxy.running((DEFAULT_HOST, port), DEFAULT_HOST, proxy_port,
                           rec.staging / ".proxy", allow_other_hosts=rec.upstream is None):
            yield base
    finally:
        server.should_exit = True
        thread.join(30)


class _Stop:
    """SIGTERM during a recording: stop the command, then give up the recording.

    The handler only sets a flag and terminates the command if it has started: raising from
    the handler could land inside ``Popen`` after the fork and leave the command running.
    """

    def __init__(self) -> None:
        self.requested = False
        self.command: subprocess.Popen[bytes] | None = None

    def __call__(self, signum: int, frame: object) -> None:
        self.requested = True
        if self.command is not None:
            self.command.terminate()

    def run(self, command: Sequence[str], env: dict[str, str]) -> int:
        self.command = subprocess.Popen(list(command), env=env)
        if self.requested:  # the signal came before the command existed
            self.command.terminate()
        try:
            code = self.command.wait()
        except BaseException:  # Ctrl-C: the command may not have seen it
            self.command.kill()
            self.command.wait()
            raise
        if self.requested:
            raise KeyboardInterrupt
        return code


def record(out: Path, command: Sequence[str], upstream: str | None = None,
           port: int | None = None) -> dict[str, Any]:
    """Run ``command`` through a recorder; write the snapshot to ``out``; return its manifest.

    Nothing is written to ``out`` unless the command succeeds and the snapshot is complete.
    """
    from satlesson.mirror.client.routing import kernel_env
    from satlesson.mirror.server.postgres import free_port

    out = out.resolve()
    staging = snapshot_folder.staging_folder(out)
    stop = _Stop()
    previous = signal.signal(signal.SIGTERM, stop)
    try:
        rec = Recording(staging, upstream)
        with _serving(rec, port or free_port()) as base:
            if stop.requested:
                raise KeyboardInterrupt
            # The CA bundle lives in the staging folder and goes before the rename.
            env = {**os.environ, **kernel_env(base, staging / ".kernel")}
            print(f"[record] running {' '.join(command)} through {base} "
                  f"(upstream: {rec.upstream or 'the live services'})", file=sys.stderr,
                  flush=True)
            code = stop.run(command, env)
        if code != 0:
            raise MirrorError(f"{command[0]} exited with status {code}, so nothing was recorded "
                              f"and {out} is unchanged.")
        for private in (".kernel", ".proxy"):  # the CA's key must not reach the snapshot
            shutil.rmtree(staging / private, ignore_errors=True)
        try:
            manifest = write_snapshot(rec, command)
        except requests.RequestException as exc:
            raise MirrorError(f"Completing the snapshot from upstream failed ({exc}), so "
                              f"nothing was recorded and {out} is unchanged.") from None
        snapshot_folder.commit(staging, out)
        return manifest
    except KeyboardInterrupt:
        raise MirrorError(f"Interrupted: nothing was recorded and {out} is unchanged.") from None
    finally:
        signal.signal(signal.SIGTERM, previous)
        shutil.rmtree(staging, ignore_errors=True)


def summary(manifest: dict[str, Any], out: Path) -> str:
    """One line on what a snapshot holds."""
    apis = manifest["apis"].values()
    sizes = manifest["sizes"]
    return (f"Recorded snapshot {manifest['id']} in {out}: "
            f"{sum(a['collections'] for a in apis)} collections, {sum(a['items'] for a in apis)} "
            f"items, {len(manifest['files'])} files ({sizes['stored_file_bytes'] / 1e6:.1f} MB "
            f"kept of {sizes['whole_file_bytes'] / 1e6:.1f} MB in the whole files).")
