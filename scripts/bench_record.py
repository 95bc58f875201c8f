"""Benchmark: the size of a recorded snapshot of episode 2, next to the whole files it read from.

Starts the synthetic mirror as the upstream (it stands in for the internet), records episode 2
through ``satlesson mirror record`` and prints, per kind of file, how many bytes the snapshot
keeps against the size of the whole files, plus the API documents and the time it took.
Usage: python scripts/bench_record.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from satlesson.mirror.server import service
from satlesson.mirror.server.postgres import free_port

ROOT = Path(__file__).resolve().parents[1]
EPISODE = ROOT / "episodes" / "02-open-remote-imagery.md"
EXECUTE = """
import sys, jupytext
from nbclient import NotebookClient
nb = jupytext.read(sys.argv[1], fmt="myst")
NotebookClient(nb, timeout=900, kernel_name="python3",
               resources={"metadata": {"path": sys.argv[2]}}).execute()
"""


def main() -> None:
    state = service.default_state_dir()
    with service.running(free_port(), state) as base, tempfile.TemporaryDirectory() as tmp:
        out, work = Path(tmp) / "snapshot", Path(tmp) / "work"
        work.mkdir()
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "satlesson", "mirror", "record", "--out", str(out),
             "--upstream", base, "--", sys.executable, "-c", EXECUTE, str(EPISODE), str(work)],
            env={**os.environ, "NETRC": str(state / "netrc")}, check=True,
            stdout=subprocess.DEVNULL,
        )
        took = time.perf_counter() - started
        manifest = json.loads((out / "manifest.json").read_text())
        on_disk = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    rows: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for entry in manifest["files"].values():
        kind = "COG (header + tiles read)" if entry.get("tiff") else \
            "whole file" if entry["whole"] else "other, ranges read"
        row = rows[kind]
        row[0] += 1
        row[1] += entry["stored_bytes"]
        row[2] += entry["size"] or 0
    sizes = manifest["sizes"]
    print(f"recorded episode 2 in {took:.1f} s (upstream: the synthetic mirror)")
    print(f"{'files':<28} {'count':>5} {'kept bytes':>14} {'whole-file bytes':>18} {'share':>7}")
    for kind, (count, kept, whole) in sorted(rows.items()):
        print(f"{kind:<28} {count:>5} {kept:>14,} {whole:>18,} {kept / max(whole, 1):>7.2%}")
    print(f"{'all files':<28} {len(manifest['files']):>5} {sizes['stored_file_bytes']:>14,} "
          f"{sizes['whole_file_bytes']:>18,} "
          f"{sizes['stored_file_bytes'] / max(sizes['whole_file_bytes'], 1):>7.2%}")
    print(f"STAC API documents: {sizes['api_json_bytes']:,} bytes; "
          f"snapshot folder on disk: {on_disk:,} bytes")


if __name__ == "__main__":
    main()
