"""The recorded snapshot folder: its layout, its manifest, and how it is put in place.

```
DIR/manifest.json                 what was recorded, when, from where, and the sizes
DIR/apis/<api>/collections.json   the STAC collections seen, in upstream order
DIR/apis/<api>/items.json         the STAC items seen
DIR/apis/<api>/answers.json       the API's exact answers to the requests made
DIR/files/<host>/<path>           a file read whole
DIR/files/<host>/<path>.ranges    the byte ranges read of any other file, end to end
```

JSON documents are kept as upstream wrote them (``https://HOST/PATH`` hrefs). The folder is
built beside ``DIR`` under a temporary name and renamed into place only when complete.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from satlesson.mirror.errors import MirrorError

FORMAT = 1
MANIFEST = "manifest.json"
Json = dict[str, Any]


def stored_name(url: str, partial: bool) -> str:
    """Where the bytes of ``https://HOST/PATH`` live inside the snapshot folder."""
    parts = urlsplit(url)
    segments = parts.path.lstrip("/").split("/")
    if not parts.hostname or any(s in ("", ".", "..") for s in segments):
        raise ValueError(f"cannot store {url}")
    name = "/".join(["files", parts.hostname, *segments])
    return name + ".ranges" if partial else name


def request_key(method: str, path: str, query: str, body: bytes) -> str:
    """One string per API request, the same whichever server (recorder or mirror) received it."""
    params = sorted(parse_qsl(query, keep_blank_values=True))
    try:
        content: Any = json.loads(body) if body else None
    except ValueError:
        content = body.decode("latin-1")
    return json.dumps([method.upper(), path.rstrip("/"), params, content], sort_keys=True)


def write_json(path: Path, doc: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(doc, indent=1, ensure_ascii=False)
    # A byte range on one line: [start, end] rather than four.
    text = re.sub(r"\[\s+(\d+),\s+(\d+)\s+\]", r"[\1, \2]", text)
    path.write_text(text + "\n")


def read_manifest(folder: Path) -> Json:
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise MirrorError(f"{folder} is not a recorded snapshot: it has no {MANIFEST}.") from None
    except ValueError as exc:
        raise MirrorError(f"{path} is not valid JSON ({exc}).") from None
    if manifest.get("kind") != "recorded" or manifest.get("format") != FORMAT:
        raise MirrorError(f"{path} is not a recorded snapshot of format {FORMAT}.")
    return manifest


def staging_folder(out: Path) -> Path:
    """A new empty folder beside ``out`` (same file system, so the final rename is atomic)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists() and not (out / MANIFEST).exists():
        raise MirrorError(f"{out} exists and is not a recorded snapshot: choose another --out.")
    return Path(tempfile.mkdtemp(prefix=f".{out.name}.recording-", dir=out.parent))


def commit(staging: Path, out: Path) -> None:
    """Put the finished ``staging`` folder at ``out``, replacing an older snapshot there."""
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.replace(out, old / "snapshot")
    os.replace(staging, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
