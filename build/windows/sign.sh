#!/usr/bin/env bash
# Sign Windows executables with signtool when WINDOWS_CERTIFICATE_PFX (base64 of a .pfx) is set; say so
# and succeed when it is not (unsigned builds still install, SmartScreen warns).
#   build/windows/sign.sh FILE...
set -euo pipefail
# Git Bash rewrites arguments that start with / as paths (/VERYSILENT → C:/Program Files/Git/VERYSILENT):
# these are Windows switches, and the paths below are converted explicitly with cygpath -w
export MSYS2_ARG_CONV_EXCL='*'
if [ -z "${WINDOWS_CERTIFICATE_PFX:-}" ]; then
  echo "signing skipped: WINDOWS_CERTIFICATE_PFX is not set"
  exit 0
fi
PFX=$(mktemp --suffix=.pfx)
trap 'rm -f "$PFX"' EXIT
printf '%s' "$WINDOWS_CERTIFICATE_PFX" | base64 -d >"$PFX"
SIGNTOOL=$(ls -d "/c/Program Files (x86)/Windows Kits/10/bin/"*/x64/signtool.exe 2>/dev/null | sort -V | tail -1)
[ -n "$SIGNTOOL" ] || { echo "error: signtool.exe not found (Windows SDK)" >&2; exit 1; }
"$SIGNTOOL" sign /f "$(cygpath -w "$PFX")" /p "${WINDOWS_CERTIFICATE_PASSWORD:-}" /fd sha256 \
  /tr http://timestamp.digicert.com /td sha256 "$@"
