#!/usr/bin/env bash
# Install the setup.exe silently for the current user into a scratch folder, self-test the installed app
# with its console twin, then uninstall silently.
#   build/windows/check_installer.sh dist/Reelwright-*-setup.exe out/selftest
set -euo pipefail
# Git Bash rewrites arguments that start with / as paths (/VERYSILENT → C:/Program Files/Git/VERYSILENT):
# these are Windows switches, and the paths below are converted explicitly with cygpath -w
export MSYS2_ARG_CONV_EXCL='*'
SETUP=${1:?usage: check_installer.sh path/to/setup.exe OUT_DIR}
OUT=${2:-out/selftest}
DEST="$PWD/out/installed-app"
rm -rf "$DEST"
"$SETUP" /VERYSILENT /SUPPRESSMSGBOXES /NORESTART /CURRENTUSER "/DIR=$(cygpath -w "$DEST")" "/LOG=$(cygpath -w "$OUT/setup.log")"
"$DEST/reelwright-cli.exe" --version
"$DEST/reelwright-cli.exe" --self-test --out-dir "$OUT/installed"
"$DEST/unins000.exe" /VERYSILENT /SUPPRESSMSGBOXES /NORESTART
for _ in $(seq 60); do [ -e "$DEST/Reelwright.exe" ] || break; sleep 1; done
[ ! -e "$DEST/Reelwright.exe" ] || { echo "error: the uninstaller left Reelwright.exe behind" >&2; exit 1; }
echo "installer check passed"
