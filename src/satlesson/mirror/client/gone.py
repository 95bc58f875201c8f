"""One sentence instead of a traceback when a kernel's mirror has stopped answering.

The kernel ``satlesson kernel install`` registers loads this module at start-up
(``--IPKernelApp.exec_lines``). When a cell fails because the mirror's proxy cannot be
reached (the instructor's laptop slept, its address changed), IPython shows which mirror is
silent and what to do, rather than a page of ``ProxyError``/``CURL error`` traceback.
Any other error is shown as usual.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

from satlesson.settings import MIRROR_ENV

# How requests/urllib3 and GDAL's curl say that the proxy did not answer.
_SIGNS = ("Unable to connect to proxy", "Failed to connect to", "Could not connect to",
          "Connection refused", "timed out", "No route to host")


def explanation(error: BaseException) -> str | None:
    """The sentence for ``error`` if it is the mirror's proxy not answering, else None."""
    base, proxy = os.environ.get(MIRROR_ENV), os.environ.get("HTTPS_PROXY")
    if not base or not proxy:
        return None
    text = f"{type(error).__name__}: {error}"
    proxy_at = urlsplit(proxy)
    # requests names the proxy; curl says "... port 443 via PROXY_HOST".
    mentions_proxy = ("proxy" in text.lower() or f"via {proxy_at.hostname} " in text
                      or f"{proxy_at.hostname}:{proxy_at.port}" in text)
    if not (mentions_proxy and any(sign in text for sign in _SIGNS)):
        return None
    return (f"The workshop mirror at {base} is not answering (its computer may be asleep or "
            "on another network): ask your instructor, or use the live services with "
            "`satlesson kernel remove` and the default Python kernel.")


def _handler(shell: Any, etype: type, value: BaseException, tb: Any,
             tb_offset: int | None = None) -> None:
    sentence = explanation(value)
    if sentence is None:
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
    else:
        print(sentence)


def register() -> None:
    """Install the handler in the running IPython, if any."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        shell.set_custom_exc((Exception,), _handler)


register()
