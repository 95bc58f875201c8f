"""The mirror's files that the lesson's episodes read: what ``satlesson mirror build`` makes.

The list is recorded, not written by hand: ``scripts/record_episode_files.py`` runs every
episode against a mirror and keeps, per episode, the advertised files the mirror's request log
shows it fetched (``satlesson/data/episode-files.json``: episode -> item id -> asset keys).
A new episode, or one that reads more, only needs that script run again;
``tests/mirror/test_build.py`` checks the record against a real run of episode 2.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from satlesson.atomic import atomic_output
from satlesson.mirror.errors import MirrorError

if TYPE_CHECKING:
    from satlesson.mirror.synthetic.filespec import FileSpec

RECORD_FILE = "episode-files.json"  # package data, written in a checkout by RECORD_SCRIPT
RECORD_SCRIPT = "scripts/record_episode_files.py"
CELL_TIMEOUT = 900  # seconds: a band not rendered yet renders on its first read

Record = dict[str, dict[str, list[str]]]  # episode -> item id -> asset keys


def requested(log_lines: Iterable[str], advertised: dict[str, FileSpec]) -> dict[str, list[str]]:
    """Item id -> asset keys of the advertised files that the request log shows were served.

    Log paths are ``/HOST/PATH`` (the mirror's one URL rule); refused requests (a 401 without
    credentials, a 404) produced no file and do not count.
    """
    found: dict[str, set[str]] = {}
    for line in log_lines:
        if not line.strip():
            continue
        entry = json.loads(line)
        spec = advertised.get("https:/" + entry["path"])
        if spec is not None and entry.get("status") in (200, 206):
            found.setdefault(spec.item_id, set()).add(spec.asset_key)
    return {item: sorted(keys) for item, keys in sorted(found.items())}


def notebook_episodes(folder: Path) -> list[Path]:
    """The episodes in ``folder`` that are notebooks (a kernelspec in their front matter)."""
    import jupytext

    return [p for p in sorted(folder.glob("*.md"))
            if "kernelspec" in jupytext.read(p, fmt="myst").metadata]  # fmt: skip


def run_episode(episode: Path, base: str, state_dir: Path) -> None:
    """Execute every cell of an episode (a MyST notebook) in a kernel routed to the mirror at
    ``base``, in a temporary working folder."""
    import jupytext
    from nbclient import NotebookClient

    from satlesson.mirror.client.routing import kernel_env

    nb = jupytext.read(episode, fmt="myst")
    with tempfile.TemporaryDirectory() as workdir:
        client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                                resources={"metadata": {"path": workdir}})
        client.execute(env={**os.environ, **kernel_env(base, state_dir)})


def load(path: Path | None = None) -> Record:
    """The record at ``path``; by default the one the package ships."""
    if path is None:
        return json.loads(files("satlesson").joinpath("data", RECORD_FILE).read_text())
    return json.loads(path.read_text())


def save(record: Record, path: Path) -> None:
    """Write the record atomically, one key per line so a diff shows what an episode gained."""
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(dict(sorted(record.items())), indent=2) + "\n")


def specs(advertised: dict[str, FileSpec], record: Record | None = None) -> list[FileSpec]:
    """The advertised files any episode reads, each once, in catalog order."""
    wanted = {(item, key) for files in (record or load()).values()
              for item, keys in files.items() for key in keys}  # fmt: skip
    chosen = [s for s in advertised.values() if (s.item_id, s.asset_key) in wanted]
    missing = wanted - {(s.item_id, s.asset_key) for s in chosen}
    if missing:
        item, key = sorted(missing)[0]
        raise MirrorError(
            f"The episodes' file list names {item} {key}, which this snapshot does not have: "
            f"record it again with {RECORD_SCRIPT}."
        )
    return chosen
