"""A Jupyter kernel routed to a mirror: ``satlesson kernel install --mirror URL`` and ``remove``.

In a workshop with one mirror for the room, each learner needs only the pip package and
Jupyter. The kernel this module registers is Jupyter's own Python kernel with an environment
that routes it, and every process it starts, to the mirror's proxy (``routing.py``):
the mirror's CA certificate, fetched at install time, is added to a CA bundle in the kernel's
folder and trusted by that kernel only. The folder also holds a netrc with the mirror's demo
Earthdata login, named by the kernel's ``NETRC``, so the lesson's code for protected files
works unchanged.

Imports only the standard library, requests and (when called) jupyter_client: a learner's
install has none of the mirror's server libraries.
"""

from __future__ import annotations

import ipaddress
import json
import re
import shutil
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from satlesson.mirror.client.login import netrc_text
from satlesson.mirror.client.routing import client_env, describe
from satlesson.mirror.errors import MirrorError

KERNEL_NAME = "satlesson-mirror"
_HOST_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


def mirror_base(url: str) -> str:
    """``http://HOST:PORT`` from what a learner typed, or a one-sentence MirrorError."""
    parts = urlsplit(url.strip())
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        valid = (parts.scheme in ("http", "https") and bool(parts.hostname)
                 and parts.path in ("", "/") and not (parts.query or parts.fragment)
                 and parts.username is None and _valid_host(parts.hostname or ""))
    except ValueError:
        valid = False
    if not valid:
        raise MirrorError(
            f"{url!r} is not a mirror address: give it as http://HOST:PORT, as the "
            "instructor's mirror printed it (e.g. http://192.168.1.20:8642)."
        )
    return f"{parts.scheme}://{parts.netloc}"


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return all(_HOST_LABEL.match(label) for label in host.rstrip(".").split("."))


def _kernel_specs():  # -> jupyter_client.kernelspec.KernelSpecManager
    try:
        from jupyter_client.kernelspec import KernelSpecManager
    except ImportError:
        raise MirrorError(
            "Jupyter is not installed in this Python: run python -m pip install jupyterlab."
        ) from None
    return KernelSpecManager()


def install(url: str) -> tuple[Path, str]:
    """Register the routed kernel for this user: (its folder, the mirror's base).

    The mirror must be answering: the kernel trusts the CA certificate it gives.
    """
    base = mirror_base(url)
    describe(base)  # a mirror that does not answer is one sentence, before anything is written
    specs = _kernel_specs()
    try:
        from ipykernel.kernelspec import RESOURCES  # Jupyter's Python logos
    except ImportError:
        raise MirrorError(
            "The kernel needs ipykernel: run python -m pip install jupyterlab."
        ) from None
    # Where install_kernel_spec(user=True) puts it: under $JUPYTER_DATA_DIR when that is set.
    folder = Path(specs.user_kernel_dir) / KERNEL_NAME
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / KERNEL_NAME
        source.mkdir()
        env = client_env(base, source)  # writes the CA bundle, installed with the rest
        env.update({name: str(folder / Path(value).name) for name, value in env.items()
                    if Path(value).parent == source})
        spec = {
            # Jupyter's own kernel; a cell failing because the mirror went away says so.
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                     "--IPKernelApp.exec_lines=import satlesson.mirror.client.gone"],
            "display_name": f"Python 3 (satlesson mirror at {base})",
            "language": "python",
            "env": {**env, "NETRC": str(folder / "netrc")},
            "metadata": {"debugger": True},
        }
        for logo in Path(RESOURCES).glob("logo-*"):
            shutil.copy(logo, source)
        (source / "kernel.json").write_text(json.dumps(spec, indent=1) + "\n")
        (source / "netrc").write_text(netrc_text())
        (source / "netrc").chmod(0o600)
        installed = Path(specs.install_kernel_spec(str(source), KERNEL_NAME, user=True,
                                                   replace=True))
    if installed.resolve() != folder.resolve():
        raise MirrorError(f"Jupyter put the kernel in {installed}, not in {folder} as expected.")
    return installed, base


def remove() -> Path:
    """Unregister the routed kernel; return the folder removed."""
    specs = _kernel_specs()
    try:
        return Path(specs.remove_kernel_spec(KERNEL_NAME))
    except KeyError:
        raise MirrorError(
            f"No {KERNEL_NAME} kernel is installed, so there is nothing to remove."
        ) from None
    except PermissionError as exc:
        raise MirrorError(f"Cannot remove the {KERNEL_NAME} kernel from {exc.filename}: "
                          "it belongs to another user or to the system.") from None
