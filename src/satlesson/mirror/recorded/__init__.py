"""Recorded snapshots: what the lesson read from the real services, kept to be served offline.

- ``recorder.py``: ``satlesson mirror record`` relays a command's requests to the services (or
  to another mirror) and keeps the STAC answers, small files whole and, of COGs, their headers
  plus exactly the byte ranges read;
- ``folder.py``: the snapshot folder (manifest, API documents, file bytes), written atomically;
- ``tiff.py``: COG headers, and the sparse replay of tiles never read;
- ``replay.py``: the snapshot as a mirror serves it (``satlesson mirror serve --snapshot DIR``).
"""
