"""A private PostgreSQL + PostGIS cluster for the mirror's pgstac databases.

The cluster lives in the mirror's state folder, listens on 127.0.0.1 only, on a free port
picked at start, and is stopped by whoever started it. PostgreSQL refuses to run as root, so
as root every server command runs as the ``postgres`` system user, which owns the data folder.
"""

from __future__ import annotations

import glob
import hashlib
import os
import pwd
import random
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from satlesson.mirror.errors import MirrorError

INSTALL_HINT = (
    "Install them with `make deps` (Debian: apt-get install postgresql-15 postgresql-15-postgis-3)."
)


def find_bindir() -> Path:
    """The newest PostgreSQL server bin folder that has PostGIS next to it."""
    found = []
    for pg_ctl in glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"):
        bindir = Path(pg_ctl).parent
        version = bindir.parent.name
        if Path(f"/usr/share/postgresql/{version}/extension/postgis.control").exists():
            found.append((float(version), bindir))
    if not found:
        if glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"):
            raise MirrorError(f"PostgreSQL is installed but PostGIS is not. {INSTALL_HINT}")
        raise MirrorError(
            f"The mirror needs PostgreSQL with PostGIS, which is missing. {INSTALL_HINT}"
        )
    return max(found)[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_handed_out: set[int] = set()


def _ephemeral_floor() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on, for a server about to start on ``host``.

    Picked below the kernel's ephemeral range: a port from ``bind(0)`` can be taken by any
    outgoing connection in the moment before the server binds it, which on a busy machine
    happens (and on every address, so a server on 0.0.0.0 then fails). Never the same port
    twice in one process, since the servers it is for may not have bound theirs yet.
    """
    rng = random.SystemRandom()
    ceiling = _ephemeral_floor()
    for _ in range(200):
        port = rng.randrange(max(1024, ceiling - 20000), ceiling)
        if port in _handed_out:
            continue
        with socket.socket() as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise MirrorError(f"No free port on {host} below {ceiling}.")


@dataclass
class Cluster:
    """One PostgreSQL cluster under ``root`` (``root/data`` holds the data files)."""

    root: Path
    port: int = 0
    user: str = "satlesson"

    def __post_init__(self) -> None:
        self.bindir = find_bindir()
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self._as_postgres = os.geteuid() == 0

    def dsn(self, dbname: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{dbname}"

    def _command(self, program: str, *args: str) -> list[str]:
        cmd = [str(self.bindir / program), *args]
        return ["runuser", "-u", "postgres", "--", *cmd] if self._as_postgres else cmd

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(self._command(*args), capture_output=True, text=True)
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            log_tail = self.log.read_text().strip().splitlines()[-3:] if self.log.exists() else []
            raise MirrorError(
                f"PostgreSQL command `{args[0]}` failed: " + " | ".join(detail[-3:] + log_tail)
            )
        return result

    def _prepare_root(self) -> None:
        """As root, hand the cluster's folder to ``postgres``, moving it where that user can
        reach it when the state folder is private (e.g. a checkout under /root)."""
        self.root.mkdir(parents=True, exist_ok=True)
        if not self._as_postgres:
            return
        try:
            postgres = pwd.getpwnam("postgres")
        except KeyError:
            raise MirrorError(
                "Running as root, the mirror starts PostgreSQL as the `postgres` user, "
                f"which does not exist. {INSTALL_HINT}"
            ) from None
        if not self._reachable(self.root):
            digest = hashlib.sha1(str(self.root.resolve()).encode()).hexdigest()[:12]
            fallback = Path(postgres.pw_dir) / "satlesson" / digest
            fallback.mkdir(parents=True, exist_ok=True)
            os.chown(fallback.parent, postgres.pw_uid, postgres.pw_gid)
            self.root, self.data, self.log = fallback, fallback / "data", fallback / "postgres.log"
        for path in (self.root, *self.root.rglob("*")):
            os.chown(path, postgres.pw_uid, postgres.pw_gid)
        if not self._reachable(self.root):
            raise MirrorError(
                "PostgreSQL cannot run as root, and the `postgres` user can reach neither the "
                f"state folder nor {self.root}; use a --state-dir that every user can enter."
            )

    @staticmethod
    def _reachable(path: Path) -> bool:
        """Can the ``postgres`` user enter every folder on the way to ``path``?"""
        probe = subprocess.run(["runuser", "-u", "postgres", "--", "test", "-x", str(path)],
                               capture_output=True)
        return probe.returncode == 0

    def ensure_initialized(self) -> bool:
        """Create the cluster if it does not exist yet; True when it was created now."""
        self._prepare_root()
        if (self.data / "PG_VERSION").exists():
            return False
        if self.data.exists():
            shutil.rmtree(self.data)  # a half-made cluster from an interrupted initdb
        # trust on loopback only: a throwaway cluster of public data that nothing else reaches.
        self._run("initdb", "-D", str(self.data), "-U", self.user, "--auth=trust",
                  "--encoding=UTF8", "--no-locale", "--no-instructions")
        return True

    def start(self) -> None:
        if not self.port:
            self.port = free_port()
        pidfile = self.data / "postmaster.pid"
        if pidfile.exists():
            if _alive(int(pidfile.read_text().split()[0])):
                # Orphaned by a mirror that was killed (the caller holds the mirror's lock).
                self.stop()
            pidfile.unlink(missing_ok=True)
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories='' "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=40 -c shared_buffers=128MB"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options,
                  "-w", "-t", "60", "start")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run(self._command("pg_ctl", "-D", str(self.data), "stop", "-m", "fast",
                                         "-w"), capture_output=True)
