#!/usr/bin/env bash
# `make test-container`: build the mirror's image (Containerfile) with Podman, start it, check
# it through the learner path (tests/mirror/container_checks.py: the seed's calls, episode 2's learner
# notebook in the kernel `satlesson kernel install --mirror URL` makes, the same answers as
# `satlesson mirror serve` on this machine), and stop it.
#
# Nothing is pulled from an image registry: the base is Debian bookworm made here with
# `debootstrap --variant=minbase` and `podman import`ed. The base's tarball is cached in
# $SATLESSON_CACHE (default ~/.cache/satlesson), the image's layers in Podman's own storage
# (/var/lib/containers as root), so a second run, even from a fresh clone, rebuilds only what
# changed. pip in the build reaches the package index as pip does here: the index URLs as
# build arguments, the CA bundle as a build secret (never in the image). Runs as root (or with
# sudo for apt-get), with the Podman options that work on these machines (runc, cgroupfs, the
# host's network; all traffic stays on 127.0.0.1).
#
#   KEEP=1  leave the container running afterwards (it prints how to stop it)
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-.venv/bin/python}
CACHE=${SATLESSON_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/satlesson}/container
BASE_TAR=$CACHE/debian-bookworm-minbase.tar
BASE_IMAGE=localhost/satlesson-base:bookworm
IMAGE=${IMAGE:-localhost/satlesson-mirror:test}
NAME=satlesson-mirror-test-$$
PODMAN=(podman --runtime runc --cgroup-manager=cgroupfs)
SECONDS=0

say() { printf '[test-container %3ss] %s\n' "$SECONDS" "$*" >&2; }

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
missing=()
command -v podman >/dev/null || missing+=(podman)
command -v runc >/dev/null || missing+=(runc)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends \
    "${missing[@]}"
fi

# The base: made once per machine, then reused (delete $BASE_TAR to make it again).
mkdir -p "$CACHE"
if [ ! -s "$BASE_TAR" ]; then
  say "making the base with debootstrap --variant=minbase bookworm (once per machine)"
  tmp=$(mktemp -d "$CACHE/rootfs.XXXXXX")
  $sudo debootstrap --variant=minbase bookworm "$tmp" http://deb.debian.org/debian >&2
  $sudo rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/*
  $sudo tar --numeric-owner -C "$tmp" -cf "$BASE_TAR.part" .
  $sudo rm -rf "$tmp"
  mv "$BASE_TAR.part" "$BASE_TAR"
fi
if ! "${PODMAN[@]}" image exists "$BASE_IMAGE"; then
  say "importing the base as $BASE_IMAGE"
  "${PODMAN[@]}" import --change 'CMD ["/bin/bash"]' "$BASE_TAR" "$BASE_IMAGE" >/dev/null
fi

# What pip and apt need here, passed into the build without baking any of it in.
build_args=(--build-arg "BASE=$BASE_IMAGE")
pip_config() { "$PYTHON" -m pip config get "$1" 2>/dev/null || true; }
index=${PIP_INDEX_URL:-$(pip_config global.index-url)}
[ -n "$index" ] && build_args+=(--build-arg "PIP_INDEX_URL=$index")
extra=""  # only the indexes a container can reach (file:// ones are this machine's folders)
for url in ${PIP_EXTRA_INDEX_URL:-$(pip_config global.extra-index-url)}; do
  case $url in http://*|https://*) extra="${extra:+$extra }$url" ;; esac
done
[ -n "$extra" ] && build_args+=(--build-arg "PIP_EXTRA_INDEX_URL=$extra")
cert=${PIP_CERT:-$(pip_config global.cert)}
cert=${cert:-/etc/ssl/certs/ca-certificates.crt}
[ -s "$cert" ] && build_args+=(--secret "id=pip-cert,src=$cert")
apt_options=""  # a frozen Debian mirror's Release files are past their Valid-Until
apt_config=$(apt-config dump 2>/dev/null || true)
for option in Acquire::Check-Valid-Until Acquire::Check-Date; do
  if grep -qx "$option \"false\";" <<<"$apt_config"; then
    apt_options+=" -o $option=false"
  fi
done
[ -n "$apt_options" ] && build_args+=(--build-arg "APT_OPTIONS=${apt_options# }")

say "building $IMAGE (podman build --isolation chroot; cached layers are reused)"
build_start=$SECONDS
"${PODMAN[@]}" build --isolation chroot --network=host --format docker --pull=never \
  --ulimit nofile=20000:20000 --ulimit nproc=4096:4096 \
  "${build_args[@]}" -t "$IMAGE" -f Containerfile . >&2
# Earlier builds' images, which nothing names any more, go (their ~3 GB each add up); the
# layers this build reuses are kept.
"${PODMAN[@]}" image prune -f >/dev/null
size=$("${PODMAN[@]}" image inspect --format '{{.Size}}' "$IMAGE")
say "built in $((SECONDS - build_start)) s; image size $((size / 1000000)) MB"

# Free ports for the mirror and its proxy beside it (port + 1) on this machine's loopback.
port=$("$PYTHON" - <<'EOF'
import socket
for port in range(18642, 19642, 2):
    try:
        with socket.socket() as a, socket.socket() as b:
            a.bind(("127.0.0.1", port)); b.bind(("127.0.0.1", port + 1))
    except OSError:
        continue
    print(port)
    break
EOF
)
stop() {
  local status=$?
  if [ "$status" -ne 0 ]; then
    say "failed; the container's last words:"
    "${PODMAN[@]}" logs --tail 40 "$NAME" >&2 || true
  fi
  if [ "${KEEP:-}" = 1 ]; then
    say "left running: ${PODMAN[*]} stop $NAME && ${PODMAN[*]} rm -v $NAME"
    return
  fi
  "${PODMAN[@]}" stop --time 30 "$NAME" >/dev/null 2>&1 || true
  "${PODMAN[@]}" rm -v -f "$NAME" >/dev/null 2>&1 || true
}
trap stop EXIT
say "starting $NAME on port $port"
"${PODMAN[@]}" run -d --name "$NAME" --network=host \
  --ulimit nofile=20000:20000 --ulimit nproc=4096:4096 \
  -e SATLESSON_PORT="$port" -e SATLESSON_PROXY_PORT="$((port + 1))" "$IMAGE" >/dev/null

base=http://127.0.0.1:$port
until "$PYTHON" -c "import urllib.request; urllib.request.urlopen('$base/', timeout=5)" 2>/dev/null
do
  if [ "$("${PODMAN[@]}" inspect --format '{{.State.Running}}' "$NAME")" != true ] \
      || [ "$SECONDS" -gt $((build_start + 3600)) ]; then
    "${PODMAN[@]}" logs "$NAME" >&2 || true
    say "the container did not start"
    exit 1
  fi
  sleep 1
done
say "serving at $base; its health check:"
"${PODMAN[@]}" healthcheck run "$NAME" >&2 && say "healthy"
"${PODMAN[@]}" logs "$NAME" 2>&1 | sed 's/^/  | /' >&2

# The host's mirror to compare with has a state folder of its own (not a running mirror's).
SATLESSON_CONTAINER_URL=$base SATLESSON_MIRROR_DIR=${SATLESSON_MIRROR_DIR:-$CACHE/host-mirror} \
  "$PYTHON" -m pytest -p no:cacheprovider -v tests/mirror/container_checks.py
say "passed in $SECONDS s (image $((size / 1000000)) MB)"
