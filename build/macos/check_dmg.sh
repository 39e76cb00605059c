#!/usr/bin/env bash
# Install the .dmg as a user would (mount, copy the .app out, unmount) and self-test the copy.
#   build/macos/check_dmg.sh dist/Reelwright-*.dmg out/selftest
set -euo pipefail
DMG=${1:?usage: check_dmg.sh path/to/Reelwright.dmg OUT_DIR}
OUT=${2:-out/selftest}
MNT=$(mktemp -d)
DEST=$(mktemp -d)
trap 'hdiutil detach "$MNT" -quiet 2>/dev/null || true; rm -rf "$DEST"' EXIT
hdiutil attach "$DMG" -nobrowse -readonly -mountpoint "$MNT" -quiet
ditto "$MNT/Reelwright.app" "$DEST/Reelwright.app"
hdiutil detach "$MNT" -quiet
mkdir -p "$OUT/installed-home"
if [ -n "${REELWRIGHT_CODESIGN_IDENTITY:-}" ]; then
  codesign --verify --deep --strict "$DEST/Reelwright.app"
fi
env -i HOME="$PWD/$OUT/installed-home" PATH=/usr/bin:/bin QT_QPA_PLATFORM=offscreen \
  "$DEST/Reelwright.app/Contents/MacOS/Reelwright" --version --verbose
env -i HOME="$PWD/$OUT/installed-home" PATH=/usr/bin:/bin QT_QPA_PLATFORM=offscreen \
  "$DEST/Reelwright.app/Contents/MacOS/Reelwright" --self-test --out-dir "$PWD/$OUT/installed"
