#!/usr/bin/env bash
# CI on macOS: put the Developer ID certificate (MACOS_CERTIFICATE_P12, base64; MACOS_CERTIFICATE_PASSWORD)
# into a temporary keychain so PyInstaller's codesign step and make_dmg.sh can sign.  Without the secret
# it says so and succeeds: the build is then unsigned.
set -euo pipefail
if [ -z "${MACOS_CERTIFICATE_P12:-}" ]; then
  echo "signing setup skipped: MACOS_CERTIFICATE_P12 is not set"
  exit 0
fi
KEYCHAIN="$RUNNER_TEMP/reelwright-signing.keychain-db"
PASS=$(uuidgen)
P12="$RUNNER_TEMP/cert.p12"
printf '%s' "$MACOS_CERTIFICATE_P12" | base64 --decode >"$P12"
security create-keychain -p "$PASS" "$KEYCHAIN"
security set-keychain-settings -lut 21600 "$KEYCHAIN"
security unlock-keychain -p "$PASS" "$KEYCHAIN"
security import "$P12" -P "${MACOS_CERTIFICATE_PASSWORD:-}" -A -t cert -f pkcs12 -k "$KEYCHAIN"
security set-key-partition-list -S apple-tool:,apple: -s -k "$PASS" "$KEYCHAIN" >/dev/null
security list-keychains -d user -s "$KEYCHAIN" $(security list-keychains -d user | tr -d '"')
rm -f "$P12"
echo "signing identity imported into $KEYCHAIN"
