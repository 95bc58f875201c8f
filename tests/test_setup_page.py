"""The setup page's workshop path works as written: serve the mirror, route kernels, run code."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from satlesson.mirror.server.service import check_port_free
from satlesson.mirror.urls import DEFAULT_HOST, DEFAULT_PORT

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"

# What a learner types in the notebook once Jupyter runs: the lesson's own first calls.
NOTEBOOK_CODE = """
from pystac_client import Client
from shapely.geometry import Point
client = Client.open("https://earth-search.aws.element84.com/v1")
search = client.search(collections=["sentinel-2-l2a"], intersects=Point(27.95, 36.20),
                       datetime="2023-07-01/2023-08-31")
print("MATCHED", search.matched())
print("HREF", next(search.items()).assets["red"].href)
"""


def workshop_blocks() -> list[str]:
    text = (ROOT / "setup.md").read_text()
    section = text.split("## Use the lesson in a workshop", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)```", section, flags=re.S)


def test_workshop_commands_as_written(tmp_path: Path) -> None:
    blocks = workshop_blocks()
    serve = next(b for b in blocks if "satlesson mirror serve" in b)
    route = next(b for b in blocks if "satlesson mirror env" in b)
    assert "jupyter lab" in route
    try:
        check_port_free(DEFAULT_HOST, DEFAULT_PORT)
    except Exception as exc:  # the page's command uses the default port
        pytest.skip(str(exc))

    notebook = tmp_path / "check.ipynb"
    notebook.write_text(json.dumps({
        "cells": [{"cell_type": "code", "metadata": {}, "source": NOTEBOOK_CODE,
                   "outputs": [], "execution_count": None}],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5}))
    # The learner's second terminal, with `jupyter lab` standing in for a kernel run.
    second_terminal = route.replace(
        "jupyter lab", f"jupyter execute --inplace {notebook}")
    # `source .venv/bin/activate` as on the page; the state folder is the test's own (kept
    # between runs), so a mirror the test session already runs is left alone.
    env = {**os.environ, "SATLESSON_MIRROR_DIR": str(ROOT / ".mirror" / "setup-page")}
    script = f"""
set -e
cd {ROOT}
( {serve.strip()} ) > {tmp_path}/serve.log 2>&1 &
server=$!
trap 'kill -TERM $server; wait $server' EXIT
for i in $(seq 1 240); do
  curl -sf http://{DEFAULT_HOST}:{DEFAULT_PORT}/ >/dev/null && break
  kill -0 $server 2>/dev/null || {{ cat {tmp_path}/serve.log; exit 1; }}
  sleep 0.5
done
(
{second_terminal}
)
"""
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env,
                            timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = json.loads(notebook.read_text())
    text = "".join("".join(o.get("text", "")) for o in out["cells"][0]["outputs"])
    assert "MATCHED 12" in text
    assert f"HREF http://{DEFAULT_HOST}:{DEFAULT_PORT}/sentinel-cogs." in text
    # Stopping the mirror stopped its database too.
    assert "stopped" in (tmp_path / "serve.log").read_text()
