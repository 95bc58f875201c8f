"""Shared fixtures: one offline mirror for the whole session, as the build uses it."""

from __future__ import annotations

import os
import subprocess
import sys
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


@pytest.fixture(scope="session", autouse=True)
def base_fields_kept(mirror_state_dir: Path) -> None:
    """Renders in this process read the model's base fields from the session's state folder,
    as the build's workers and the mirror do, instead of computing them once more (~13 s)."""
    from satlesson.mirror.synthetic import render

    render.keep_fields(mirror_state_dir / "assets")


@pytest.fixture(scope="session")
def mirror_build(mirror_state_dir: Path) -> subprocess.CompletedProcess[str]:
    """`satlesson mirror build` on the session's state before its mirror starts, as an
    instructor readies a workshop: on a fresh clone the files the episodes read are rendered
    here, in parallel, instead of one by one as the episodes ask; later it checks and goes."""
    result = subprocess.run([sys.executable, "-m", "satlesson", "mirror", "build",
                             "--state-dir", str(mirror_state_dir)],
                            capture_output=True, text=True, timeout=1800)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    return result


@pytest.fixture(scope="session")
def mirror_base(mirror_state_dir: Path, mirror_build: subprocess.CompletedProcess[str],
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:  # fmt: skip
    """Base URL of a running mirror, on the state `mirror build` readied; this process's
    requests to the real hosts (requests, GDAL) go through its proxy."""
    with service.running(free_port(), mirror_state_dir) as base:
        routing.install(base, tmp_path_factory.mktemp("mirror-client"))
        try:
            yield base
        finally:
            routing.uninstall()


@pytest.fixture(scope="session")
def executed_episodes() -> dict[Path, object]:
    """Each episode's executed notebook, by source path, once its tests have run it: the site
    build takes its outputs from here instead of executing the episode a second time."""
    return {}
