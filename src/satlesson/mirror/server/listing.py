"""Folder listings, so GDAL opening a file learns what lies beside it in one request.

When GDAL's ``/vsicurl/`` opens ``.../FOLDER/FILE`` it first GETs ``.../FOLDER/`` and reads the
answer as a directory listing: an S3 ``ListBucketResult`` document, or an Apache-style HTML
index (``<title>Index of PATH</title>`` and one ``<a href="NAME">`` per line). With a listing
it knows which sidecar files (``.aux.xml``, ``.msk``, ``.ovr``, ...) do not exist and asks for
none of them; without one it probes each name (nine requests for a GeoTIFF). The HTML form is
served because it may leave sizes out: an S3 listing must give every file's size, which for a
synthetic file is known only once it is rendered. A listing names only the snapshot's files.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from urllib.parse import quote

from starlette.responses import HTMLResponse


class FolderIndex:
    """Which files and subfolders the snapshot has in each folder of each host."""

    def __init__(self, urls: Iterable[str]) -> None:
        self._children: dict[str, set[str]] = {}  # "HOST/FOLDER/" -> names, "sub/" for folders
        for url in urls:
            parts = url.removeprefix("https://").split("/")
            for depth in range(1, len(parts)):
                folder = "/".join(parts[:depth]) + "/"
                leaf = depth == len(parts) - 1
                self._children.setdefault(folder, set()).add(
                    parts[depth] if leaf else parts[depth] + "/")

    def names(self, host: str, folder: str) -> list[str] | None:
        """The entries of ``https://HOST/FOLDER`` (FOLDER empty or ending in "/"); None if the
        snapshot has nothing there."""
        found = self._children.get(f"{host}/{folder}")
        return sorted(found) if found is not None else None


def index_page(path: str, names: list[str]) -> HTMLResponse:
    """An Apache-style index of ``path`` (the request's path, as GDAL compares it)."""
    shown = html.escape(path.rstrip("/") or "/")
    lines = ["<!DOCTYPE html>", "<html>", f"<head><title>Index of {shown}</title></head>",
             "<body>", f"<h1>Index of {shown}</h1>", "<pre>"]
    lines += [f'<a href="{quote(name)}">{html.escape(name)}</a>' for name in names]
    lines += ["</pre>", "</body>", "</html>", ""]
    return HTMLResponse("\n".join(lines))
