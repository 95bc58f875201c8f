"""Write a file so that no reader ever sees half of it: the one way satlesson writes files.

The content goes to a temporary name beside the target (same folder, so the final
``os.replace`` is a rename on one file system), which becomes the target only when the
writer finished. If the writer raises (an error, Ctrl-C, a full disk), the temporary file
is removed and the target is as it was.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str], suffix: str = ".tmp",
                  durable: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success move it onto ``path`` atomically.

    The caller writes the whole file to the yielded path (ending in ``suffix``, for writers
    that pick a format by extension). Parent folders are created. ``durable`` flushes the
    data and the rename to disk, so a crash soon after cannot leave an empty file; caches
    that can be rebuilt skip it.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}{suffix}")
    try:
        yield tmp
        if durable:
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    if durable:
        _fsync_dir(target.parent)


def _fsync_dir(folder: Path) -> None:
    """Persist the rename itself (POSIX); Windows cannot open folders, and needs not."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
