#!/usr/bin/env bash
# The macOS download: Reelwright.app in a compressed .dmg with an Applications link to drag it onto.
#
#   build/macos/make_dmg.sh dist/Reelwright.app dist
#
# Signing and notarisation happen when their secrets are present, and are skipped (saying so) when not:
#   REELWRIGHT_CODESIGN_IDENTITY   "Developer ID Application: …" — the .app was signed by the spec; this
#                                  signs the .dmg as well
#   APPLE_ID, APPLE_TEAM_ID, APPLE_APP_PASSWORD   notarise the .dmg with notarytool, then staple it
set -euo pipefail
APP=${1:?usage: make_dmg.sh path/to/Reelwright.app OUT_DIR}
OUT=${2:-dist}
VERSION=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$(dirname "$0")/../../app/__init__.py")
DMG="$OUT/Reelwright-$VERSION-macos-$(uname -m).dmg"
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
ditto "$APP" "$STAGE/Reelwright.app"          # ditto keeps signatures and extended attributes
ln -s /Applications "$STAGE/Applications"
rm -f "$DMG"
# ULMO (LZMA) is the smallest format macOS 10.15+ mounts; the app needs macOS 12 anyway
hdiutil create -volname "Reelwright $VERSION" -srcfolder "$STAGE" -fs HFS+ -format ULMO -ov "$DMG"
if [ -n "${REELWRIGHT_CODESIGN_IDENTITY:-}" ]; then
  codesign --force --sign "$REELWRIGHT_CODESIGN_IDENTITY" --timestamp "$DMG"
  if [ -n "${APPLE_ID:-}" ] && [ -n "${APPLE_TEAM_ID:-}" ] && [ -n "${APPLE_APP_PASSWORD:-}" ]; then
    xcrun notarytool submit "$DMG" --apple-id "$APPLE_ID" --team-id "$APPLE_TEAM_ID" \
      --password "$APPLE_APP_PASSWORD" --wait
    xcrun stapler staple "$DMG"
  else
    echo "notarisation skipped: APPLE_ID / APPLE_TEAM_ID / APPLE_APP_PASSWORD are not set"
  fi
else
  echo "signing skipped: REELWRIGHT_CODESIGN_IDENTITY is not set (Gatekeeper will ask users to confirm)"
fi
shasum -a 256 "$DMG" | sed "s#  .*/#  #" >"$DMG.sha256"
echo "wrote $DMG ($(( $(stat -f %z "$DMG") / 1000000 )) MB)"
