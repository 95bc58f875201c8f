"""Send a Python process's requests for the mirrored hosts to the offline mirror.

The lesson's code names the real services (``https://earth-search.aws.element84.com/v1``).
When a kernel runs with ``SATLESSON_MIRROR`` set, this hook rewrites those requests to the
mirror; the mirror's responses already point into the mirror, so what follows (item links,
asset hrefs read by GDAL) never leaves the machine. The code learners read stays unchanged.
"""

from __future__ import annotations

from pathlib import Path

import requests.adapters

from satlesson.mirror.urls import mirror_url

ENV_VAR = "SATLESSON_MIRROR"
_original_send = requests.adapters.HTTPAdapter.send
_base: str | None = None


def _send(self: requests.adapters.HTTPAdapter, request, *args, **kwargs):  # type: ignore[no-untyped-def]
    if _base and request.url:
        request.url = mirror_url(request.url, _base)
    return _original_send(self, request, *args, **kwargs)


def install(base: str) -> None:
    """Route requests (and so pystac-client) for the mirrored hosts to the mirror at ``base``."""
    global _base
    _base = base.rstrip("/")
    requests.adapters.HTTPAdapter.send = _send  # type: ignore[method-assign]


def uninstall() -> None:
    global _base
    _base = None
    requests.adapters.HTTPAdapter.send = _original_send  # type: ignore[method-assign]


_STARTUP = """\
# Written by satlesson: route the lesson's services to the mirror named by $SATLESSON_MIRROR.
import os
if os.environ.get("SATLESSON_MIRROR"):
    from satlesson.mirror import routing
    routing.install(os.environ["SATLESSON_MIRROR"])
"""


def kernel_env(base: str, state_dir: Path) -> dict[str, str]:
    """Environment for a Jupyter kernel whose IPython starts routed to the mirror at ``base``.

    IPython runs every file in ``$IPYTHONDIR/profile_default/startup`` when a kernel starts,
    which is the one hook that works for myst-nb, jupyter-cache and nbclient alike.
    """
    ipython_dir = state_dir / "ipython"
    startup = ipython_dir / "profile_default" / "startup" / "00-satlesson-mirror.py"
    startup.parent.mkdir(parents=True, exist_ok=True)
    if not startup.exists() or startup.read_text() != _STARTUP:
        startup.write_text(_STARTUP)
    env = {ENV_VAR: base.rstrip("/"), "IPYTHONDIR": str(ipython_dir)}
    netrc = state_dir / "netrc"
    if netrc.exists():
        env["NETRC"] = str(netrc)
    return env

