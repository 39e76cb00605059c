#!/usr/bin/env bash
# Install test: the .deb on a Debian bookworm machine that has never seen the project.
#
#   sudo build/install_test.sh dist/reelwright_<version>_amd64.deb [OUT_DIR]
#
# Starts its own Docker engine (Debian's docker.io; vfs storage, no iptables/bridge: works in a VM or a
# container), makes a bookworm base image with debootstrap + `docker import` (no registry needed), then in
# a fresh container: `apt-get install ./reelwright_*.deb` (dependencies from the Debian mirror the host's
# apt uses), and as a non-root user under Xvfb: --version, --self-test, --smoke-screenshot, a render of
# the bundled example, a job bundle opened through its MIME type; then `apt-get purge` and a search of the
# whole file system for anything of the app outside the user's home.  Screenshots, logs and the rendered
# video land in OUT_DIR (default out/install-test).
#
# Needs root (it starts dockerd).  Exit 77 = skipped because no Docker engine can be started here.
# Idempotent and tidy: it stops the engine it started and deletes its images and containers (vfs copies
# every layer in full).  Kept between runs, outside the clone, in $REELWRIGHT_ITEST_STATE
# (/var/lib/reelwright-install-test): the debootstrapped base as a tarball and apt's downloaded .debs, so a
# second run does not download them again.  `REELWRIGHT_ITEST_FRESH=1` throws both away first.
set -euo pipefail

DEB=${1:?usage: build/install_test.sh path/to/reelwright_VERSION_ARCH.deb [OUT_DIR]}
OUT=${2:-out/install-test}
HERE=$(cd "$(dirname "$0")" && pwd)
STATE=${REELWRIGHT_ITEST_STATE:-/var/lib/reelwright-install-test}
SUITE=bookworm
IMAGE=local/reelwright-itest-base:$SUITE
NAME=reelwright-itest-$$

say() { printf '[install-test %s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }
skip() { say "SKIP: $*"; exit 77; }

[ -f "$DEB" ] || { echo "error: no such package: $DEB" >&2; exit 2; }
DEB=$(readlink -f "$DEB")
mkdir -p "$OUT"
OUT=$(readlink -f "$OUT")
[ "$(id -u)" = 0 ] || skip "needs root to start a Docker engine (dockerd); run with sudo"

# ------------------------------------------------------------------------------------- host tools
need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v debootstrap >/dev/null || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]} (apt)"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; }; then
    skip "could not install ${need[*]}"
  fi
fi

# the Debian mirror the host's apt uses (deb822 or one-line sources)
MIRROR=$(sed -n 's/^URIs: *\(http[^ ]*debian\/\{0,1\}\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)
[ -n "$MIRROR" ] || MIRROR=$(awk '$1=="deb" && $2 ~ /debian\/?$/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
MIRROR=${MIRROR:-http://deb.debian.org/debian}

# ------------------------------------------------------------------------------------- the engine
[ "${REELWRIGHT_ITEST_FRESH:-0}" = 1 ] && rm -rf "$STATE"
mkdir -p "$STATE/apt-archives/partial"
RUN=$(mktemp -d /tmp/rw-itest-run.XXXXXX)   # short: the socket path must stay under 108 bytes
DATA=$STATE/docker
export DOCKER_HOST=unix://$RUN/docker.sock
DOCKERD_PID=

cleanup() {
  local rc=$?
  set +e
  if [ -n "$DOCKERD_PID" ]; then
    docker rm -f "$NAME" >/dev/null 2>&1
    docker rmi -f "$IMAGE" >/dev/null 2>&1
    docker image prune -af >/dev/null 2>&1
    kill "$DOCKERD_PID" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$DOCKERD_PID" 2>/dev/null
  fi
  # dockerd leaves its network namespace (and, if killed, layer mounts) mounted under its folders
  awk -v run="$RUN" -v data="$DATA" 'index($2, run) == 1 || index($2, data) == 1 {print $2}' /proc/mounts \
    | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf "$DATA" "$RUN"   # vfs layers are full copies: nothing of the engine is worth keeping
  exit $rc
}
trap cleanup EXIT INT TERM

say "starting dockerd (vfs, data in $DATA)"
dockerd --storage-driver=vfs --iptables=false --ip6tables=false --bridge=none --data-root "$DATA" \
  --exec-root "$RUN/exec" --pidfile "$RUN/docker.pid" -H "$DOCKER_HOST" >"$OUT/dockerd.log" 2>&1 &
DOCKERD_PID=$!
for _ in $(seq 150); do
  docker version >/dev/null 2>&1 && break
  kill -0 "$DOCKERD_PID" 2>/dev/null || break
  sleep 0.2
done
if ! docker version >/dev/null 2>&1; then
  tail -5 "$OUT/dockerd.log" >&2
  DOCKERD_PID=
  skip "the Docker engine did not start (see $OUT/dockerd.log)"
fi

# ------------------------------------------------------------------------------------- base image
BASE_TAR=$STATE/$SUITE-minbase.tar
if [ ! -s "$BASE_TAR" ]; then
  say "debootstrap $SUITE from $MIRROR"
  ROOTFS=$(mktemp -d "$STATE/rootfs.XXXXXX")
  debootstrap --variant=minbase "$SUITE" "$ROOTFS" "$MIRROR" >"$OUT/debootstrap.log" 2>&1 \
    || { tail -20 "$OUT/debootstrap.log" >&2; rm -rf "$ROOTFS"; exit 1; }
  # the same sources as the host (its mirror and the security suite), nothing else
  rm -f "$ROOTFS/etc/apt/sources.list"
  mkdir -p "$ROOTFS/etc/apt/sources.list.d"
  if ls /etc/apt/sources.list.d/debian*.sources >/dev/null 2>&1; then
    cp /etc/apt/sources.list.d/debian*.sources "$ROOTFS/etc/apt/sources.list.d/"
  else
    echo "deb $MIRROR $SUITE main" >"$ROOTFS/etc/apt/sources.list"
  fi
  # keep downloaded .debs (the archive folder is the host's cache, mounted at run time)
  echo 'Binary::apt::APT::Keep-Downloaded-Packages "true";' >"$ROOTFS/etc/apt/apt.conf.d/01keep-debs"
  # the archive cache is a host folder mounted at run time, which apt's _apt sandbox user cannot write
  echo 'APT::Sandbox::User "root";' >"$ROOTFS/etc/apt/apt.conf.d/02sandbox"
  chmod 755 "$ROOTFS"   # mktemp made it 0700, and it becomes the container's /: users could not traverse it
  tar -C "$ROOTFS" -cf "$BASE_TAR.part" . && mv "$BASE_TAR.part" "$BASE_TAR"
  rm -rf "$ROOTFS"
fi
say "docker import $(du -m "$BASE_TAR" | cut -f1) MB base"
docker import "$BASE_TAR" "$IMAGE" >/dev/null

# ------------------------------------------------------------------------------------- the test
say "fresh $SUITE container"
docker run -d --name "$NAME" --network host --shm-size 1g \
  -v "$DEB:/tmp/pkg/$(basename "$DEB"):ro" -v "$HERE/install_test_inside.sh:/itest/inside.sh:ro" \
  -v "$OUT:/out" -v "$STATE/apt-archives:/var/cache/apt/archives" \
  "$IMAGE" sleep infinity >/dev/null
docker exec -e DEB="/tmp/pkg/$(basename "$DEB")" -e RENDER_ARGS="${REELWRIGHT_ITEST_RENDER_ARGS:-}" "$NAME" bash /itest/inside.sh
say "install test PASSED"
