"""Finding the external programs the pipeline needs: a Chromium, ffmpeg (and ffprobe).

Each finder returns a path or raises :class:`ToolMissingError` that says what to install.
Environment overrides: ``REELWRIGHT_CHROMIUM`` (a browser binary), ``REELWRIGHT_FFMPEG``,
``REELWRIGHT_FFPROBE``, ``REELWRIGHT_SYSTEM_FFMPEG=1`` (prefer the system ffmpeg over the bundled one).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from ..errors import ToolMissingError

BrowserKind = Literal["headless-shell", "chromium"]

#: Flags every launch uses: no sandbox (root in containers), no GPU, and nothing that phones home
#: (a closed network otherwise costs seconds of refused connections at each start).
CHROMIUM_ARGS: tuple[str, ...] = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-default-apps",
    "--disable-extensions",
    "--mute-audio",
    "--hide-scrollbars",
    "--font-render-hinting=none",
)

#: ``1``: keep Chromium's own sandbox (user namespaces + seccomp-bpf). Only where the kernel and the
#: container's seccomp profile allow unprivileged user namespaces (see docs/cloud.md "The recorder image").
SANDBOX_ENV = "REELWRIGHT_CHROMIUM_SANDBOX"


def chromium_sandbox() -> bool:
    return os.environ.get(SANDBOX_ENV) == "1"


def chromium_args() -> list[str]:
    """The launch flags: CHROMIUM_ARGS, without ``--no-sandbox`` when the sandbox is asked for."""
    return [a for a in CHROMIUM_ARGS if not (a == "--no-sandbox" and chromium_sandbox())]


_HEADLESS_SHELL_CANDIDATES = (
    "/usr/lib/chromium/chromium-headless-shell",
    "/usr/bin/chromium-headless-shell",
)
_CHROMIUM_CANDIDATES = (
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
    "/usr/bin/google-chrome-stable",
    "/opt/google/chrome/chrome",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    r"C:\Program Files\Google\Chrome\Application\chrome.exe",
    r"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe",
)


@dataclass(frozen=True)
class Browser:
    path: Path
    kind: BrowserKind  # headless-shell supports frame-exact capture; chromium only real time


def _playwright_managed() -> list[Path]:
    roots = []
    env = os.environ.get("PLAYWRIGHT_BROWSERS_PATH")
    if env and env != "0":
        roots.append(Path(env))
    roots.append(Path.home() / ".cache" / "ms-playwright")
    found: list[Path] = []
    for root in roots:
        pattern = str(root / "chromium_headless_shell-*" / "*" / "headless_shell")
        found += [Path(p) for p in sorted(glob.glob(pattern), reverse=True)]
        pattern = str(root / "chromium_headless_shell-*" / "*" / "chrome-headless-shell")
        found += [Path(p) for p in sorted(glob.glob(pattern), reverse=True)]
    return found


def find_browser(prefer: BrowserKind | None = None) -> Browser:
    """The best Chromium available: a headless shell (frame-exact) first, else a full Chromium."""
    override = os.environ.get("REELWRIGHT_CHROMIUM")
    if override:
        p = Path(override)
        if not p.is_file():
            raise ToolMissingError(f"REELWRIGHT_CHROMIUM points to '{p}', which does not exist")
        kind: BrowserKind = "headless-shell" if "headless" in p.name and "shell" in p.name else "chromium"
        return Browser(p, kind)
    shells = [Path(c) for c in _HEADLESS_SHELL_CANDIDATES if Path(c).is_file()] + _playwright_managed()
    fulls = [Path(c) for c in _CHROMIUM_CANDIDATES if Path(c).is_file()]
    for name in ("chromium", "chromium-browser", "google-chrome"):
        w = shutil.which(name)
        if w:
            fulls.append(Path(w))
    order: list[Browser] = [Browser(p, "headless-shell") for p in shells] + [Browser(p, "chromium") for p in fulls]
    if prefer == "chromium":
        order.sort(key=lambda b: b.kind != "chromium")
    if order:
        return order[0]
    raise ToolMissingError(
        "no Chromium found for rendering",
        hint="install Debian's 'chromium-headless-shell' (frame-exact, recommended) or 'chromium' "
        "(apt-get install chromium-headless-shell chromium), or set REELWRIGHT_CHROMIUM",
    )


@lru_cache(maxsize=1)
def find_ffmpeg() -> Path:
    override = os.environ.get("REELWRIGHT_FFMPEG")
    if override:
        if not Path(override).is_file():
            raise ToolMissingError(f"REELWRIGHT_FFMPEG points to '{override}', which does not exist")
        return Path(override)
    system = shutil.which("ffmpeg")
    if system and os.environ.get("REELWRIGHT_SYSTEM_FFMPEG") == "1":
        return Path(system)
    try:
        import imageio_ffmpeg

        return Path(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError):
        pass
    if system:
        return Path(system)
    raise ToolMissingError("ffmpeg not found", hint="pip install imageio-ffmpeg, or apt-get install ffmpeg")


@lru_cache(maxsize=16)
def ffmpeg_has_filter(ffmpeg: Path, name: str) -> bool:
    """Whether this ffmpeg build has the filter ``name`` (``ffmpeg -filters``; False when it cannot run)."""
    try:
        out = subprocess.run([str(ffmpeg), "-hide_banner", "-filters"], capture_output=True, text=True,
                             timeout=20, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return any(len(f) > 1 and f[1] == name for f in (line.split() for line in out.splitlines()))


@lru_cache(maxsize=1)
def find_ffprobe() -> Path | None:
    """ffprobe if installed (the bundled ffmpeg has none); callers must cope with None."""
    override = os.environ.get("REELWRIGHT_FFPROBE")
    if override and Path(override).is_file():
        return Path(override)
    w = shutil.which("ffprobe")
    return Path(w) if w else None
