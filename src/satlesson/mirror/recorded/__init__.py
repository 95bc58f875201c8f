"""Recorded snapshots: what the lesson read from the real services, kept to be served offline.

- ``recorder.py``: ``satlesson mirror record`` runs a command through the relay (``relay.py``)
  to the services (or to another mirror); ``recording.py`` keeps what passes (the STAC answers,
  and of every file the byte ranges read) and ``writer.py`` completes it (collections, whole
  COG headers) and writes it as a snapshot, small files whole;
- ``folder.py``: the snapshot folder (manifest, API documents, file bytes), written atomically;
- ``tiff.py``: COG headers, and the sparse replay of tiles never read;
- ``replay.py``: the snapshot as a mirror serves it (``satlesson mirror serve --snapshot DIR``).
"""
