"""Route a process, and every process it starts, to a mirror: standard settings, no patching.

The lesson's code names the real services (``https://earth-search.aws.element84.com/v1``).
A mirror runs an HTTPS proxy for those hosts (``server/proxy.py``); a process is routed to it
by the variables every client the lesson touches reads: ``HTTPS_PROXY`` (requests and
pystac-client, GDAL's curl, urllib) and a CA bundle that adds the mirror's CA to the ones
already trusted (``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE`` for GDAL, ``SSL_CERT_FILE`` for
Python's ``ssl``). Child processes, Dask workers included, inherit them. The bundle is a file
of this process's own: nothing is added to the system's trust store.

Imports only the standard library and requests: a learner's install has none of the
mirror's server libraries.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import requests

from satlesson.atomic import atomic_output
from satlesson.mirror.errors import MirrorError
from satlesson.settings import MIRROR_ENV

CA_PATH = "/ca.pem"  # where a mirror serves its CA certificate (public)
BUNDLE = "ca-bundle.pem"
# GDAL reads GDAL_CURL_CA_BUNDLE before CURL_CA_BUNDLE, and pyogrio sets it to certifi's
# bundle on import unless it is set already.
_CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "GDAL_CURL_CA_BUNDLE", "SSL_CERT_FILE")
_PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy")
# Everything ``kernel_env`` may set: what a build against the live services must drop.
VARIABLES = (MIRROR_ENV, *_PROXY_VARIABLES, *_CA_VARIABLES, "NETRC")
_saved: dict[str, str | None] = {}


def _trusted_now() -> str:
    """The CA bundle this process trusts today: the one its settings name, else certifi's."""
    for name in _CA_VARIABLES:
        path = os.environ.get(name)
        if path and Path(path).is_file():
            return Path(path).read_text()
    import certifi  # a dependency of requests

    return Path(certifi.where()).read_text()


def describe(base: str, timeout: float = 10) -> dict:
    """The mirror's own description of itself (``GET {base}/``), or a one-sentence error."""
    try:
        response = requests.get(base.rstrip("/") + "/", timeout=timeout,
                                proxies={"http": "", "https": ""})
        response.raise_for_status()
        info = response.json()
    except requests.RequestException as exc:
        raise MirrorError(f"No satlesson mirror answers at {base} ({type(exc).__name__}): "
                          "check the address, or ask whoever runs the mirror.") from None
    except ValueError:
        info = None
    if not isinstance(info, dict) or "proxy_port" not in info:
        raise MirrorError(f"{base} answers, but not as a satlesson mirror.")
    return info


def client_env(base: str, folder: Path) -> dict[str, str]:
    """The variables that route a process to the mirror at ``base``.

    Fetches the mirror's CA certificate and writes ``folder/ca-bundle.pem``: what this
    process already trusts plus that CA.
    """
    base = base.rstrip("/")
    info = describe(base)
    try:
        ca = requests.get(base + CA_PATH, timeout=10, proxies={"http": "", "https": ""})
        ca.raise_for_status()
    except requests.RequestException as exc:
        raise MirrorError(f"The mirror at {base} did not give its CA certificate "
                          f"({type(exc).__name__}).") from None
    folder.mkdir(parents=True, exist_ok=True)
    bundle = folder / BUNDLE
    with atomic_output(bundle) as tmp:
        tmp.write_text(_trusted_now().rstrip("\n") + "\n" + ca.text)
    host = urlsplit(base).hostname or "127.0.0.1"
    proxy = f"http://{host if ':' not in host else f'[{host}]'}:{info['proxy_port']}"
    # The mirror's own address, and loopback (Dask's dashboard), are reached directly.
    direct = ",".join(dict.fromkeys([host, "localhost", "127.0.0.1", "::1"]))
    env = {MIRROR_ENV: base, "HTTPS_PROXY": proxy, "https_proxy": proxy,
           "NO_PROXY": direct, "no_proxy": direct}
    env.update({name: str(bundle) for name in _CA_VARIABLES})
    return env


def kernel_env(base: str, state_dir: Path) -> dict[str, str]:
    """Environment for Jupyter kernels (and the build that starts them) routed to ``base``."""
    env = client_env(base, state_dir / "client")
    netrc = state_dir / "netrc"
    if netrc.exists():
        env["NETRC"] = str(netrc)
    return env


def install(base: str, folder: Path) -> None:
    """Route this process (requests, GDAL) to the mirror at ``base`` until ``uninstall``."""
    env = client_env(base, folder)
    for name, value in env.items():
        _saved.setdefault(name, os.environ.get(name))
        os.environ[name] = value


def uninstall() -> None:
    for name, value in _saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    _saved.clear()
