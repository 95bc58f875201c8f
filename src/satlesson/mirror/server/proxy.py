"""The mirror's front door: an intercepting HTTPS proxy (mitmproxy) for the lesson's hosts.

Clients are told to use it with the standard settings (``HTTPS_PROXY`` and a CA bundle: see
``mirror/client/routing.py``), so the lesson's code, GDAL and Dask workers reach
``https://earth-search.aws.element84.com/...`` at its real address while the answers come
from this machine. TLS is terminated with certificates signed by a CA that mitmproxy creates
in the state folder on first start; its private key stays there (mode 0600, never served).

mitmproxy pins its dependencies too tightly to share the lesson's environment, so it runs
as ``mitmdump`` from its own one (``make deps`` installs it in ``.venv/proxy``) with the addon
``proxy_addon.py``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from satlesson.mirror.client.urls import MIRRORED_HOSTS
from satlesson.mirror.errors import MirrorError
from satlesson.settings import MITMDUMP_ENV

# mitmproxy 12 needs Python 3.12; 11 is the newest series for the lesson's Python 3.11.
REQUIREMENT = "mitmproxy>=11,<12"
ADDON = Path(__file__).with_name("proxy_addon.py")
CA_CERT = "mitmproxy-ca-cert.pem"  # the public certificate mitmproxy writes into its confdir
START_TIMEOUT = 60  # seconds: the first start also generates the CA's key


def ca_dir(state_dir: Path) -> Path:
    return state_dir / "proxy"


def ca_certificate(state_dir: Path) -> Path:
    """The mirror's CA certificate (public), once the proxy has started there."""
    return ca_dir(state_dir) / CA_CERT


def own_environment() -> Path:
    """Where ``install`` puts mitmproxy: ``proxy/`` inside this Python's environment."""
    return Path(sys.prefix) / "proxy"


def mitmdump() -> str:
    """Path of ``mitmdump``: ``$SATLESSON_MITMDUMP``, the one ``install`` made, or on PATH."""
    named = os.environ.get(MITMDUMP_ENV)
    candidates = [named] if named else [
        str(own_environment() / "bin" / "mitmdump"), shutil.which("mitmdump")]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise MirrorError(
        "The mirror's proxy needs mitmproxy in an environment of its own: run "
        f"`{Path(sys.executable).name} -m satlesson.mirror.server.proxy` (or `make deps`), or "
        f"set {MITMDUMP_ENV} to a mitmdump program."
    )


def install() -> Path:
    """Create ``own_environment()`` with mitmproxy in it, unless it is there; return mitmdump."""
    program = own_environment() / "bin" / "mitmdump"
    if not program.exists():
        subprocess.run([sys.executable, "-m", "venv", str(own_environment())], check=True)
        subprocess.run([str(own_environment() / "bin" / "python"), "-m", "pip", "install",
                        "-q", REQUIREMENT], check=True)
    return program


def command(app: tuple[str, int], host: str, port: int, state_dir: Path,
            allow_other_hosts: bool = False) -> list[str]:
    return [
        mitmdump(), "--quiet", "-s", str(ADDON),
        "--listen-host", host, "--listen-port", str(port),
        "--set", f"confdir={ca_dir(state_dir)}",
        # Never dial the real host at CONNECT time: offline there is none to dial.
        "--set", "connection_strategy=lazy", "--set", "upstream_cert=false",
        # Files pass through as they come; JSON answers are small.
        "--set", "stream_large_bodies=128k",
        "--set", "onboarding=false", "--set", "http3=false",
        "--set", f"satlesson_app={app[0]}:{app[1]}",
        "--set", f"satlesson_hosts={','.join(MIRRORED_HOSTS)}",
        "--set", f"satlesson_allow_other_hosts={'true' if allow_other_hosts else 'false'}",
    ]


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@contextmanager
def running(app: tuple[str, int], host: str, port: int, state_dir: Path,
            allow_other_hosts: bool = False, log: Path | None = None) -> Iterator[None]:
    """Run the proxy in front of the app at ``app`` until the block ends; its CA lives in
    ``state_dir`` (created there on first start), its output goes to ``log``."""
    folder = ca_dir(state_dir)
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)  # the CA's private key lives here
    log = log or state_dir / "proxy.log"
    with log.open("w") as out:
        proc = subprocess.Popen(command(app, host, port, state_dir, allow_other_hosts),
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        probe = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        deadline = time.monotonic() + START_TIMEOUT
        while not (_listening(probe, port) and ca_certificate(state_dir).exists()):
            if proc.poll() is not None:
                raise MirrorError("The mirror's proxy stopped before it was ready: "
                                  + log.read_text().strip()[-1500:])
            if time.monotonic() > deadline:
                raise MirrorError(f"The mirror's proxy did not listen on {host}:{port} "
                                  f"within {START_TIMEOUT} s.")
            time.sleep(0.1)
        yield
    finally:
        from satlesson.mirror.server.service import stop

        stop(proc, 20)


if __name__ == "__main__":
    print(install())
