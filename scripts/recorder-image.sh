#!/usr/bin/env bash
# make recorder-image: build the recorder container image here, then print its size.
#   No registry is reachable here, so the base image is Debian bookworm made with debootstrap from apt's
#   own mirror and `docker import`ed (once; kept as local/debian:bookworm). The recorder's wheels are
#   downloaded on the host (host pip config + CA bundle) into recorder/wheels/, so pip in the build needs
#   no network. Idempotent: the base is reused, docker's cache reuses unchanged layers.
# Env: DOCKER_HOST (default: /work/docker/docker.sock if present), RECORDER_IMAGE, RECORDER_BASE,
#      RECORDER_MAX_MB (500), RECORDER_TARGET (recorder; `emulator` = make emulator-image: the image
#      docker-compose.yml runs, the recorder plus moto, pycognito and Piper for the fake Polly).
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${RECORDER_TARGET:-recorder}
if [ "$TARGET" = emulator ]; then IMAGE=${RECORDER_IMAGE:-reelwright-emulator:local}; else IMAGE=${RECORDER_IMAGE:-reelwright-recorder:local}; fi
BASE=${RECORDER_BASE:-local/debian:bookworm}
MAX_MB=${RECORDER_MAX_MB:-500}
if [ -z "${DOCKER_HOST:-}" ] && [ ! -S /var/run/docker.sock ] && [ -S /work/docker/docker.sock ]; then
  export DOCKER_HOST=unix:///work/docker/docker.sock
fi
if ! command -v docker >/dev/null || ! docker info >/dev/null 2>&1; then
  echo "recorder-image: no Docker engine reachable (DOCKER_HOST=${DOCKER_HOST:-unset})." >&2
  echo "  Start one as root, e.g.: dockerd --storage-driver=vfs --iptables=false --bridge=none \\" >&2
  echo "    --data-root /srv/docker --exec-root /srv/docker-exec -H unix:///srv/docker.sock &" >&2
  echo "  then: DOCKER_HOST=unix:///srv/docker.sock make recorder-image   (see docs/cloud.md)" >&2
  exit 2
fi

if ! docker image inspect "$BASE" >/dev/null 2>&1; then
  [ "$BASE" = local/debian:bookworm ] || { echo "recorder-image: base image $BASE is missing" >&2; exit 2; }
  command -v debootstrap >/dev/null || { echo "recorder-image: debootstrap is needed to make $BASE (apt-get install debootstrap)" >&2; exit 2; }
  # (no /etc/apt/sources.list on deb822-only systems: grep's status 2 must not end the script)
  mirror=$( { grep -rhoE '(URIs:|^deb) +https?://[^ ]*debian/?' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null || true; } \
           | grep -v security | head -1 | awk '{print $NF}')
  mirror=${mirror:-http://deb.debian.org/debian}
  root=$(mktemp -d /tmp/recorder-base.XXXXXX)
  chmod 755 "$root"  # mktemp makes it 0700, which would become the image's / : the non-root user could run nothing
  trap 'rm -rf "$root"' EXIT
  echo "recorder-image: making $BASE with debootstrap from $mirror"
  debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.log" 2>&1 \
    || { echo "recorder-image: debootstrap failed, see $root.log" >&2; exit 1; }
  tar -C "$root" --exclude='./var/cache/apt/archives/*.deb' --exclude='./usr/share/doc/*' \
      --exclude='./usr/share/man/*' --exclude='./usr/share/locale/*' --exclude='./var/lib/apt/lists/*' -c . \
    | docker import - "$BASE" >/dev/null
  rm -rf "$root" "$root.log"
fi

py=${PYTHON:-.venv/bin/python}
download_wheels() {  # <dir> <requirements file>: linux x86_64 / Python 3.11 wheels, host pip configuration
  "$py" -m pip download -q -d "$1" -r "$2" --only-binary=:all: \
    --python-version 3.11 --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 --platform any 2>&1 | grep -v '^WARNING: Location' || true
}
echo "recorder-image: downloading the recorder's wheels (host pip configuration)"
download_wheels recorder/wheels recorder/requirements.txt
if [ "$TARGET" = emulator ]; then
  echo "recorder-image: downloading the emulator's wheels (recorder/requirements-emulator.txt)"
  download_wheels recorder/wheels-emulator recorder/requirements-emulator.txt
fi

start=$(date +%s)
docker build --network host -f recorder/Dockerfile --target "$TARGET" --build-arg BASE="$BASE" -t "$IMAGE" .
echo "recorder-image: built $IMAGE in $(( $(date +%s) - start )) s"
docker image prune -f >/dev/null  # vfs keeps every dangling layer in full

if [ "$TARGET" = emulator ]; then
  echo "recorder-image: $IMAGE is $(( $(docker image inspect -f '{{.Size}}' "$IMAGE") / 1000000 )) MB (never deployed: no size target)"
  exit 0
fi
bytes=$(docker image inspect -f '{{.Size}}' "$IMAGE")
mb=$(( bytes / 1000000 ))
echo "recorder-image: layers (largest first):"
docker history --format '{{.Size}}\t{{.CreatedBy}}' "$IMAGE" | grep -v '^0B' | cut -c1-110 | sort -rh
echo "recorder-image: $IMAGE is $mb MB (target <= $MAX_MB MB)"
if [ "$mb" -gt "$MAX_MB" ]; then echo "recorder-image: OVER the $MAX_MB MB target by $(( mb - MAX_MB )) MB"; fi
