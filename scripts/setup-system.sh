#!/usr/bin/env bash
# Installs the Debian packages Reelwright needs, idempotently.  As root with apt it installs what is
# missing; otherwise it prints exactly what to install and exits non-zero if anything required is missing.
set -euo pipefail

REQUIRED=(
  chromium-headless-shell   # frame-exact capture (virtual time + beginFrame)
  chromium                  # fallback browser (real-time capture) and Playwright's recorder
  ffmpeg                    # ffprobe for tests; the app itself uses the bundled imageio-ffmpeg
  espeak-ng                 # TTS fallback
  fonts-dejavu-core fonts-liberation fonts-noto-core fonts-noto-color-emoji
  xvfb xauth                # UI screenshots on a virtual display
  binutils                  # strip/readelf for the PyInstaller build
  zstd                      # the portable .tar.zst (make package); dpkg-deb makes the .deb
  libegl1 libgl1 libxkbcommon0 libfontconfig1 libglib2.0-0 libdbus-1-3
  libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0
  libxcb-render-util0 libxcb-randr0 libxcb-shape0 libx11-xcb1 libpulse0
)
# strip the comments bash left in the array (words after '#' are not elements, but be safe)
missing=()
for pkg in "${REQUIRED[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "system packages: installed"
  exit 0
fi
echo "Reelwright needs these system packages, which are missing:" >&2
echo "  sudo apt-get install ${missing[*]}" >&2
echo "(on other systems: a Chromium or chromium-headless-shell, ffmpeg, espeak-ng and the Qt xcb libraries)" >&2
exit 1
