"""The environment variables satlesson reads, named once."""

from __future__ import annotations

# The base URL of the mirror a build or kernel uses (http://HOST:PORT); unset: live services.
MIRROR_ENV = "SATLESSON_MIRROR"
# The mirror's state folder (database, file cache, CA); default .mirror in the working folder.
STATE_ENV = "SATLESSON_MIRROR_DIR"
# The mitmdump program the mirror's proxy runs; default the one in the venv's proxy/ folder.
MITMDUMP_ENV = "SATLESSON_MITMDUMP"
