"""The mirror's container image, as written (Containerfile, compose.yaml, the release workflow,
the setup page): its ports are the mirror's, no secret goes into it, and it is published for
both platforms. ``make test-container`` builds and runs it (tests/mirror/container_checks.py)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from satlesson.mirror.client.urls import DEFAULT_PORT

ROOT = Path(__file__).resolve().parents[2]
CONTAINERFILE = (ROOT / "Containerfile").read_text()
PORTS = [DEFAULT_PORT, DEFAULT_PORT + 1]  # the mirror's, and its HTTPS proxy's beside it


def instructions(name: str) -> list[str]:
    """The arguments of every ``name`` instruction, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", CONTAINERFILE)
    return [line.split(None, 1)[1] for line in text.splitlines()
            if line.split(None, 1)[:1] == [name]]


def test_the_images_ports_are_the_mirrors() -> None:
    env = dict(re.findall(r"(\w+)=(\S+)", " ".join(instructions("ENV"))))
    assert [int(env["SATLESSON_PORT"]), int(env["SATLESSON_PROXY_PORT"])] == PORTS
    assert instructions("EXPOSE") == ["${SATLESSON_PORT} ${SATLESSON_PROXY_PORT}"]
    assert "--port \\\"$SATLESSON_PORT\\\"" in instructions("CMD")[0]
    assert "--host 0.0.0.0" in instructions("CMD")[0]
    assert "--proxy-port \\\"$SATLESSON_PROXY_PORT\\\"" in instructions("CMD")[0]
    # mitmproxy, for that proxy, is installed in the image's own proxy environment.
    assert any("satlesson.mirror.server.proxy" in run for run in instructions("RUN"))
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert compose["services"]["mirror"]["ports"] == [f"{p}:{p}" for p in PORTS]
    published = " ".join(f"-p {p}:{p}" for p in PORTS)
    assert f"docker run --rm {published} ghcr.io/" in (ROOT / "learners" / "setup.md").read_text()


def test_the_image_runs_as_a_user_with_its_state_on_a_volume() -> None:
    assert instructions("USER") == ["satlesson"]
    assert instructions("VOLUME") == ['["/var/lib/satlesson"]']
    assert "SATLESSON_MIRROR_DIR=/var/lib/satlesson/mirror" in " ".join(instructions("ENV"))
    # Files rendered at build time, without the base fields the build's workers shared.
    assert instructions("RUN")[-1] == ('satlesson mirror build && '
                                       'rm -rf "$SATLESSON_MIRROR_DIR/assets/fields"')
    assert CONTAINERFILE.index("mirror build") < CONTAINERFILE.index("VOLUME")
    assert instructions("HEALTHCHECK")
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert compose["services"]["mirror"]["volumes"] == ["mirror-state:/var/lib/satlesson"]


def test_no_certificate_or_index_setting_stays_in_the_image() -> None:
    """pip's CA bundle comes in as a build secret, mounted only while pip runs; the index URLs
    are build arguments, which no layer keeps."""
    assert "ca-certificates.crt" not in CONTAINERFILE
    pip_runs = [run for run in instructions("RUN") if "pip install" in run]
    assert len(pip_runs) == 2
    assert all(run.startswith("--mount=type=secret,id=pip-cert ") for run in pip_runs)
    assert not any("PIP_" in e for e in instructions("ENV") if "INDEX" in e or "CERT" in e)
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert ignored[ignored.index("*") + 1:][:1] == ["!pyproject.toml"]  # only what it copies


def test_base_is_an_official_image_unless_given() -> None:
    assert instructions("ARG")[0] == "BASE=docker.io/library/debian:bookworm-slim"
    assert instructions("FROM") == ["${BASE}"]


def test_release_publishes_both_platforms_to_ghcr() -> None:
    flow = yaml.safe_load((ROOT / ".github" / "workflows" / "container.yml").read_text())
    assert flow[True]["release"]["types"] == ["published"]  # YAML 1.1 reads `on` as True
    builds = flow["jobs"]["build"]["strategy"]["matrix"]["include"]
    assert {b["platform"] for b in builds} == {"linux/amd64", "linux/arm64"}
    build = {s.get("uses", "").split("@")[0]: s for s in flow["jobs"]["build"]["steps"]}
    assert build["docker/build-push-action"]["with"]["file"] == "Containerfile"
    assert flow["env"]["REGISTRY"] == "ghcr.io"
    assert flow["jobs"]["build"]["permissions"]["packages"] == "write"
    assert flow["permissions"] == {"contents": "read"}


def test_the_local_test_pulls_from_no_registry() -> None:
    script = (ROOT / "scripts" / "test-container.sh").read_text()
    assert "podman pull" not in script and "--pull=never" in script
    assert "debootstrap --variant=minbase bookworm" in script
    assert "--secret \"id=pip-cert,src=$cert\"" in script
    assert "make test-container" in (ROOT / ".ci" / "run").read_text()
