"""Shared fixtures: one offline mirror for the whole session, as the build uses it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from satlesson.mirror.client import routing
from satlesson.mirror.server import service
from satlesson.mirror.server.postgres import free_port

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def mirror_state_dir() -> Path:
    """The mirror's database and file cache; kept between runs so a warm cache stays warm."""
    return Path(os.environ.get(service.STATE_ENV, ROOT / ".mirror")).resolve()


@pytest.fixture(scope="session")
def mirror_base(mirror_state_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a running mirror; this process's requests to the real hosts (requests,
    GDAL) go through its proxy."""
    with service.running(free_port(), mirror_state_dir) as base:
        routing.install(base, tmp_path_factory.mktemp("mirror-client"))
        try:
            yield base
        finally:
            routing.uninstall()
