#!/usr/bin/env bash
# System packages the project needs: PostgreSQL + PostGIS for the mirror's STAC API, Chromium
# for the page tests. Installs only what is missing; needs root (or sudo).
#
# Package names differ between Debian (postgresql-15-postgis-3 on bookworm), Ubuntu
# (postgresql-16-postgis-3 on 24.04) and the PostgreSQL project's apt repository (PGDG, any
# version): rather than naming one, this asks apt which PostgreSQL majors it offers PostGIS 3
# for, and prefers a server already installed (GitHub's Ubuntu images ship one, without PostGIS).
#
#   --dry-run  print the packages that would be installed, one per line, and install nothing
#   PG_LIB, PG_SHARE  where servers and extensions live (default /usr/lib|share/postgresql)
set -euo pipefail

dry_run=false
[ "${1:-}" = "--dry-run" ] && dry_run=true
PG_LIB=${PG_LIB:-/usr/lib/postgresql}
PG_SHARE=${PG_SHARE:-/usr/share/postgresql}

installed_majors() {  # PostgreSQL servers installed here, newest first
  local pg_ctl
  for pg_ctl in "$PG_LIB"/*/bin/pg_ctl; do
    [ -e "$pg_ctl" ] && basename "$(dirname "$(dirname "$pg_ctl")")"
  done | sort -rn
}

has_postgis() {  # some installed server has PostGIS beside it (what the mirror looks for)
  local v
  for v in $(installed_majors); do
    [ -f "$PG_SHARE/$v/extension/postgis.control" ] && return 0
  done
  return 1
}

installable() {  # those of the named packages apt can install (not merely names provided)
  apt-cache policy "$@" 2>/dev/null | awk '
    /^[^ ]/ { package = $1; sub(/:$/, "", package) }
    /Candidate:/ && $2 != "(none)" { print package }'
}

postgres_packages() {  # server + PostGIS of the first suitable major, or nothing
  local v majors names=() ok
  majors="$(installed_majors) $(apt-cache pkgnames postgresql- 2>/dev/null \
    | sed -n 's/^postgresql-\([0-9][0-9]*\)-postgis-3$/\1/p' | sort -rn)"
  for v in $majors; do names+=("postgresql-$v" "postgresql-$v-postgis-3"); done
  [ ${#names[@]} -eq 0 ] && return
  ok=$(installable "${names[@]}")  # one apt-cache call: it is slow on a busy machine
  for v in $majors; do
    if grep -qx "postgresql-$v" <<<"$ok" && grep -qx "postgresql-$v-postgis-3" <<<"$ok"; then
      echo "postgresql-$v postgresql-$v-postgis-3"
      return
    fi
  done
}

need_postgres=true
has_postgis && need_postgres=false
need_browser=true
command -v chromium >/dev/null 2>&1 && need_browser=false
$need_postgres || $need_browser || exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$dry_run || $sudo apt-get update -q

need=()
if $need_postgres; then
  pg=$(postgres_packages)
  if [ -z "$pg" ]; then
    echo "No PostgreSQL with PostGIS 3 in the apt sources: add the PostgreSQL apt repository" \
      "(https://wiki.postgresql.org/wiki/Apt), then run this again." >&2
    exit 1
  fi
  read -r -a pg_list <<<"$pg"
  need+=("${pg_list[@]}")
fi
if $need_browser; then
  if [ -n "$(installable chromium)" ]; then
    need+=(chromium)
  else  # Ubuntu ships Chromium as a snap only
    echo "Note: apt offers no chromium package here, so the page tests (pytest -m browser)" \
      "cannot run; the site builds without it." >&2
  fi
fi
[ ${#need[@]} -eq 0 ] && exit 0

if $dry_run; then
  printf '%s\n' "${need[@]}"
  exit 0
fi
echo "Installing system packages: ${need[*]}"
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${need[@]}"
