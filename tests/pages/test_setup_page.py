"""The setup page's workshop commands work as written: serve the mirror, install the routed
kernel, run the lesson's code in it; for one mirror for the room and for one per laptop.

Three things differ from the page: the mirror listens on a free port (not 8642, which another
mirror on this machine may use), ``.venv`` and ``satlesson-env`` are the environment running
the tests, and the room's ``ADDRESS`` is 127.0.0.2, another address of this machine.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from satlesson.mirror.client.kernel import KERNEL_NAME
from satlesson.mirror.server.postgres import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PAGE_PORT = "8642"

# What a learner types in the notebook once Jupyter runs: the lesson's own first calls.
NOTEBOOK_CODE = """
from pystac_client import Client
from shapely.geometry import Point
client = Client.open("https://earth-search.aws.element84.com/v1")
search = client.search(collections=["sentinel-2-l2a"], intersects=Point(27.95, 36.20),
                       datetime="2023-07-01/2023-08-31")
print("MATCHED", search.matched())
href = next(search.items()).assets["red"].href
print("HREF", href)
import rasterio
with rasterio.open(href) as red:  # GDAL, through the same route
    print("WIDTH", red.width)
"""


def workshop_blocks(way: str) -> list[str]:
    """The bash blocks of the workshop section's part titled ``way``."""
    text = (ROOT / "learners" / "setup.md").read_text()
    section = text.split("## Use the lesson in a workshop", 1)[1].split("\n## ", 1)[0]
    part = section.split(f"\n### {way}\n", 1)[1].split("\n### ", 1)[0]
    part = part.split("\n#### ", 1)[0]  # a sub-part, such as the container's, is not run here
    return re.findall(r"```bash\n(.*?)```", part, flags=re.S)


def replace(block: str, old: str, new: str) -> str:
    assert old in block, f"the page's command no longer contains {old!r}"
    return block.replace(old, new)


def run_workshop(serve: str, learner: str, port: int, state: Path, tmp_path: Path) -> str:
    """Start ``serve`` in the background, run the ``learner``'s commands with `jupyter lab`
    replaced by executing a notebook of the lesson's code; return the notebook's output."""
    notebook = tmp_path / "check.ipynb"
    notebook.write_text(json.dumps({
        "cells": [{"cell_type": "code", "metadata": {}, "source": NOTEBOOK_CODE,
                   "outputs": [], "execution_count": None}],
        "metadata": {"kernelspec": {"name": KERNEL_NAME, "display_name": "satlesson mirror",
                                    "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5}))
    learner = replace(learner, "jupyter lab", f"jupyter execute --inplace {notebook}")
    serve = replace(serve, "satlesson mirror serve", "satlesson mirror serve --port " + str(port))
    # The state folder is the test's own, so a mirror the test session already runs is left
    # alone; the kernel goes to a private Jupyter folder.
    env = {**os.environ, "SATLESSON_MIRROR_DIR": str(state),
           "JUPYTER_DATA_DIR": str(tmp_path / "jupyter")}
    script = f"""
set -e
cd {ROOT}
( {serve.strip()} ) > {tmp_path}/serve.log 2>&1 &
server=$!
trap 'kill -TERM $server; wait $server' EXIT
for i in $(seq 1 240); do
  curl -sf http://127.0.0.1:{port}/ >/dev/null && break
  kill -0 $server 2>/dev/null || {{ cat {tmp_path}/serve.log; exit 1; }}
  sleep 0.5
done
(
{learner}
)
"""
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env,
                            timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    # Stopping the mirror stopped its database too.
    assert "stopped" in (tmp_path / "serve.log").read_text()
    out = json.loads(notebook.read_text())
    return "".join("".join(o.get("text", "")) for o in out["cells"][0]["outputs"])


def test_one_mirror_for_the_room(own_state: Callable[[str], Path], tmp_path: Path) -> None:
    _clone, serve, learner, remove = workshop_blocks("One mirror for the room")
    assert "--host 0.0.0.0" in serve
    serve = replace(serve, ".venv/bin/", f"{BIN}/")
    port = free_port()
    learner = replace(learner, "source satlesson-env/bin/activate", f"source {BIN}/activate")
    learner = replace(learner, f"http://ADDRESS:{PAGE_PORT}", f"http://127.0.0.2:{port}")
    kernel_dir = tmp_path / "jupyter" / "kernels" / KERNEL_NAME
    text = run_workshop(serve, learner + f"test -d {kernel_dir}\n" + remove, port,
                        own_state("setup-page"), tmp_path)  # fmt: skip
    assert "MATCHED 12" in text
    assert "HREF https://sentinel-cogs." in text and "WIDTH 10980" in text
    assert "satlesson kernel install --mirror http://" in (tmp_path / "serve.log").read_text()
    assert not kernel_dir.exists()  # `satlesson kernel remove` as on the page


def test_a_mirror_on_every_laptop(own_state: Callable[[str], Path], tmp_path: Path) -> None:
    _clone, serve, learner = workshop_blocks("A mirror on every laptop")
    port = free_port()
    serve = replace(serve, "source .venv/bin/activate", f"source {BIN}/activate")
    learner = replace(learner, "source .venv/bin/activate", f"source {BIN}/activate")
    learner = replace(learner, f"http://127.0.0.1:{PAGE_PORT}", f"http://127.0.0.1:{port}")
    text = run_workshop(serve, learner, port, own_state("setup-page"), tmp_path)
    assert "MATCHED 12" in text
    assert "HREF https://sentinel-cogs." in text and "WIDTH 10980" in text


def episode_imports() -> set[str]:
    """Every module an episode's code cells import, outside the standard library."""
    import ast

    import jupytext

    modules: set[str] = set()
    for path in sorted((ROOT / "episodes").glob("*.md")):
        for cell in jupytext.read(path, fmt="md:myst").cells:
            if cell.cell_type != "code":
                continue
            code = "\n".join(line for line in cell.source.splitlines()
                             if not line.lstrip().startswith(("%", "!")))  # IPython magics
            for node in ast.walk(ast.parse(code)):
                if isinstance(node, ast.Import):
                    modules |= {alias.name for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules.add(node.module)
    return {m for m in modules if m.split(".")[0] not in sys.stdlib_module_names}


def installation_check() -> str:
    text = (ROOT / "learners" / "setup.md").read_text()
    section = text.split("## Check your installation", 1)[1]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)[0]


# Run the page's check, then import each module the episodes import: the check passes only
# if none of them needs a package the check did not load (such as distributed for
# dask.distributed, or odc-stac, whose `odc` is a namespace shared with odc-geo).
PROBE = """
import importlib, json, sys
exec(compile(sys.argv[1], "check", "exec"))
before = {name.split(".")[0] for name in sys.modules}
missed = {}
for module in json.loads(sys.argv[2]):
    if module not in sys.modules:
        importlib.import_module(module)
        new = {name.split(".")[0] for name in sys.modules} - before
        if new:
            missed[module] = sorted(new)
        before |= new
print(json.dumps(missed))
"""


def test_installation_check_imports_what_the_episodes_import() -> None:
    check = installation_check()
    modules = episode_imports()
    assert {"geopandas", "odc.stac", "dask.distributed", "rioxarray"} <= modules
    done = subprocess.run([sys.executable, "-c", PROBE, check, json.dumps(sorted(modules))],
                          capture_output=True, text=True, timeout=300, check=True)
    assert json.loads(done.stdout.splitlines()[-1]) == {}
    assert re.search(r"^satlesson \S+$", done.stdout, flags=re.M)  # the check's own line
    # And it imports nothing the episodes do not use.
    checked = set(re.findall(r"^import (\S+)", check, flags=re.M))
    assert {m.split(".")[0] for m in checked} <= {m.split(".")[0] for m in modules} | {
        "satlesson"}


def test_binder_environment_resolves(tmp_path: Path) -> None:
    """binder/requirements.txt installs the lesson's package from the repository's zip (the
    one the setup page offers without git) and resolves against the package index; the
    archive itself is this checkout (the test has no GitHub)."""
    import yaml

    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"].rstrip("/")
    lines = [line for line in (ROOT / "binder" / "requirements.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    package = f"satlesson @ {url}/archive/refs/heads/main.zip"
    assert package in lines
    setup = (ROOT / "learners" / "setup.md").read_text()
    assert f'"{package}"' in setup.replace("{{ repository_url }}", url)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("\n".join(str(ROOT) if line == package else line
                                      for line in lines) + "\n")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
         "--quiet", "--report", str(tmp_path / "report.json"), "-r", str(requirements)],
        capture_output=True, text=True, timeout=600, check=False,
        # The package index directly: not through the mirror's proxy, which this test
        # session's routing put into the environment (the mirror serves no index).
        env={k: v for k, v in os.environ.items()
             if k.lower() not in ("https_proxy", "http_proxy", "no_proxy")})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    names = {i["metadata"]["name"].lower()
             for i in json.loads((tmp_path / "report.json").read_text())["install"]}
    assert {"satlesson", "jupyterlab", "odc-stac", "distributed", "geopandas"} <= names
