"""First-run browser provisioning: find a Chromium on the user's machine, or download Playwright's
headless shell into the user's cache.

Order of preference (see :func:`browser_candidates`):

1. ``REELWRIGHT_CHROMIUM`` (explicit choice, always wins);
2. a headless shell — frame-exact capture: Playwright-managed ones, the system package
   (Debian's ``chromium-headless-shell``), then one this module downloaded earlier;
3. a full Chromium/Chrome/Edge — real-time capture only.

The download reproduces what ``playwright install chromium-headless-shell`` does, without Node: the
archive for the Playwright version we ship (``browsers.json`` in its driver) comes from
``<host>/builds/cft/<version>/<platform>/chrome-headless-shell-<platform>.zip`` and is unpacked into
``<user cache>/reelwright/browsers/chromium_headless_shell-<revision>/`` — the same layout Playwright
uses, so uninstalling means deleting the user cache folder.  The host is overridable with
``REELWRIGHT_BROWSER_DOWNLOAD_HOST`` (mirrors, and the tests' loopback stand-in).

The download is written to a temporary name, checked (size, optional sha256, archive members that
stay inside the target, an executable that runs ``--version``) and renamed into place only then:
a cancelled or broken download leaves nothing behind.  No Qt here; the app wraps
:func:`download_headless_shell` in a progress dialog.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import shutil
import stat
import sys
import threading
import urllib.error
import urllib.request
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import platformdirs

from ..errors import Cancelled, ReelwrightError, ToolMissingError
from .fs import hashing_copy
from .progress import CancelToken, Progress, ProgressCallback
from .tools import _CHROMIUM_CANDIDATES, _HEADLESS_SHELL_CANDIDATES, Browser, BrowserKind

BROWSERS_DIR_ENV = "REELWRIGHT_BROWSERS_DIR"
DOWNLOAD_HOST_ENV = "REELWRIGHT_BROWSER_DOWNLOAD_HOST"
DEFAULT_DOWNLOAD_HOST = "https://cdn.playwright.dev"
CHROMIUM_ENV = "REELWRIGHT_CHROMIUM"

Source = Literal["override", "playwright", "system", "provisioned", "installed"]

_CHUNK = 1 << 20


class ProvisionError(ReelwrightError):
    """The browser could not be found or downloaded; the message says why and what to do instead."""

    exit_code = 3


# ---------------------------------------------------------------------------- what to download


@dataclass(frozen=True)
class HeadlessShellBuild:
    """One Chrome-for-Testing headless shell build, as Playwright names and lays it out."""

    revision: str  # Playwright's revision, names the install folder
    browser_version: str  # e.g. "159.0.8154.6", names the download
    platform: str  # "linux64", "linux-arm64", "mac-x64", "mac-arm64", "win64"

    @property
    def folder(self) -> str:
        return f"chrome-headless-shell-{self.platform}"

    @property
    def archive(self) -> str:
        return f"{self.folder}.zip"

    @property
    def executable_name(self) -> str:
        return "chrome-headless-shell.exe" if self.platform == "win64" else "chrome-headless-shell"

    def url(self, host: str) -> str:
        return f"{host.rstrip('/')}/builds/cft/{self.browser_version}/{self.platform}/{self.archive}"

    def install_dir(self, root: Path) -> Path:
        return root / f"chromium_headless_shell-{self.revision}"

    def executable(self, root: Path) -> Path:
        return self.install_dir(root) / self.folder / self.executable_name


def host_platform(system: str | None = None, machine: str | None = None) -> str:
    """Chrome for Testing's platform name for this machine; :class:`ProvisionError` if it has none."""
    system = system or sys.platform
    machine = (machine or platform.machine()).lower()
    arm = machine in ("arm64", "aarch64")
    if system.startswith("linux"):
        return "linux-arm64" if arm else "linux64"
    if system == "darwin":
        return "mac-arm64" if arm else "mac-x64"
    if system in ("win32", "cygwin") and not arm:
        return "win64"
    raise ProvisionError(f"no headless shell is published for {system}/{machine}",
                         hint="install Chrome or Chromium, or set REELWRIGHT_CHROMIUM to a Chromium binary")


def playwright_browsers_json() -> Path:
    """``browsers.json`` of the Playwright driver we ship (inside the bundle when frozen)."""
    import playwright

    return Path(playwright.__file__).resolve().parent / "driver" / "package" / "browsers.json"


def headless_shell_build(browsers_json: Path | None = None, plat: str | None = None) -> HeadlessShellBuild:
    """The headless shell build matching the shipped Playwright."""
    path = browsers_json or playwright_browsers_json()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        entry = next(b for b in data["browsers"] if b.get("name") == "chromium-headless-shell")
        return HeadlessShellBuild(str(entry["revision"]), str(entry["browserVersion"]), plat or host_platform())
    except (OSError, ValueError, KeyError, StopIteration, TypeError) as exc:
        raise ProvisionError(f"cannot tell which headless shell Playwright expects ({path}: {exc})",
                             hint="reinstall Reelwright") from None


# ---------------------------------------------------------------------------- finding one


def browsers_dir() -> Path:
    """Where downloaded browsers go: ``$REELWRIGHT_BROWSERS_DIR`` or ``<user cache>/reelwright/browsers``."""
    env = os.environ.get(BROWSERS_DIR_ENV)
    return Path(env) if env else Path(platformdirs.user_cache_dir("reelwright")) / "browsers"


@dataclass(frozen=True)
class BrowserCandidate:
    browser: Browser
    source: Source

    def describe(self) -> str:
        mode = "frame-exact" if self.browser.kind == "headless-shell" else "real time only"
        return f"{self.browser.path} ({self.source}, {mode})"


def _playwright_roots() -> list[Path]:
    roots: list[Path] = []
    env = os.environ.get("PLAYWRIGHT_BROWSERS_PATH")
    if env and env != "0":
        roots.append(Path(env))
    home = Path.home()
    if sys.platform == "darwin":
        roots.append(home / "Library" / "Caches" / "ms-playwright")
    elif sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA")
        if local:
            roots.append(Path(local) / "ms-playwright")
    roots.append(Path(os.environ.get("XDG_CACHE_HOME") or home / ".cache") / "ms-playwright")
    return list(dict.fromkeys(roots))


def _shells_under(root: Path) -> list[Path]:
    """Headless shells in a Playwright-layout folder, newest revision first."""
    found: list[Path] = []
    if not root.is_dir():
        return found
    for rev_dir in sorted(root.glob("chromium_headless_shell-*"), key=_revision_key, reverse=True):
        for name in ("chrome-headless-shell", "chrome-headless-shell.exe", "headless_shell", "headless_shell.exe"):
            found += sorted(p for p in rev_dir.glob(f"*/{name}") if p.is_file())
    return found


def _revision_key(p: Path) -> int:
    tail = p.name.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else -1


def _installed_browsers() -> list[Path]:
    """System Chromium/Chrome/Edge installs (full browsers: real-time capture only)."""
    paths = [Path(c) for c in _CHROMIUM_CANDIDATES]
    paths += [
        Path("/usr/bin/microsoft-edge"),
        Path("/opt/microsoft/msedge/msedge"),
        Path("/Applications/Chromium.app/Contents/MacOS/Chromium"),
        Path("/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge"),
        Path(r"C:\Program Files (x86)\Google\Chrome\Application\chrome.exe"),
        Path(r"C:\Program Files\Microsoft\Edge\Application\msedge.exe"),
    ]
    local = os.environ.get("LOCALAPPDATA")
    if local:
        paths.append(Path(local) / "Google" / "Chrome" / "Application" / "chrome.exe")
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "microsoft-edge"):
        w = shutil.which(name)
        if w:
            paths.append(Path(w))
    return [p for p in paths if p.is_file()]


def browser_candidates() -> list[BrowserCandidate]:
    """Every usable browser on this machine, best first (duplicates removed)."""
    override = os.environ.get(CHROMIUM_ENV)
    out: list[BrowserCandidate] = []
    if override:
        p = Path(override)
        if not p.is_file():
            raise ProvisionError(f"{CHROMIUM_ENV} points to '{p}', which does not exist",
                                 hint=f"unset {CHROMIUM_ENV} or point it at a Chromium binary")
        kind: BrowserKind = "headless-shell" if "headless" in p.name and "shell" in p.name else "chromium"
        out.append(BrowserCandidate(Browser(p, kind), "override"))
    for root in _playwright_roots():
        out += [BrowserCandidate(Browser(p, "headless-shell"), "playwright") for p in _shells_under(root)]
    out += [BrowserCandidate(Browser(Path(c), "headless-shell"), "system")
            for c in _HEADLESS_SHELL_CANDIDATES if Path(c).is_file()]
    out += [BrowserCandidate(Browser(p, "headless-shell"), "provisioned") for p in _shells_under(browsers_dir())]
    out += [BrowserCandidate(Browser(p, "chromium"), "installed") for p in _installed_browsers()]
    seen: set[Path] = set()
    unique: list[BrowserCandidate] = []
    for c in out:
        key = c.browser.path.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(c)
    return unique


def locate_browser() -> BrowserCandidate | None:
    """The best browser here, or None when the user has to be offered a download."""
    found = browser_candidates()
    return found[0] if found else None


def activate(candidate: BrowserCandidate) -> None:
    """Make the render core (:func:`app.core.infra.tools.find_browser`) use this browser in this process.

    ``find_browser`` does not know the download folder, so a provisioned browser is handed to it
    through ``REELWRIGHT_CHROMIUM``; an explicit user choice is never overwritten."""
    if candidate.source != "override":
        os.environ[CHROMIUM_ENV] = str(candidate.browser.path)


# ---------------------------------------------------------------------------- downloading one


def _safe_extract(archive: Path, dest: Path) -> None:
    """Unzip keeping Unix permission bits; refuses members that would land outside ``dest``."""
    root = dest.resolve()
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            target = (root / info.filename).resolve()
            if not target.is_relative_to(root):
                raise ProvisionError(f"the browser archive contains an unsafe path: {info.filename!r}")
            mode = (info.external_attr >> 16) & 0o7777
            if stat.S_ISLNK(info.external_attr >> 16):
                raise ProvisionError(f"the browser archive contains a symbolic link: {info.filename!r}")
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst, _CHUNK)
            if mode:
                target.chmod(mode)


def _fetch(url: str, dest: Path, expected_sha256: str | None, report: ProgressCallback,
           stop: threading.Event, timeout_s: float) -> None:
    """Blocking download of ``url`` to ``dest`` (run in a thread)."""
    if not url.startswith(("https://", "http://")):
        raise ProvisionError(f"the browser download host must be an http(s) URL, not {url!r}",
                             hint=f"fix {DOWNLOAD_HOST_ENV}")
    done = 0
    total = 0

    def on_bytes(n: int) -> None:
        nonlocal done
        done += n
        mb = done / 1e6
        msg = f"{mb:.1f} of {total / 1e6:.1f} MB" if total else f"{mb:.1f} MB"
        report(Progress("download", done / total if total else 0.0, msg))

    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp, open(dest, "wb") as out:
            total = int(resp.headers.get("Content-Length") or 0)
            sha, _ = hashing_copy(resp, out, on_bytes=on_bytes, should_stop=stop.is_set,
                                  stopped=lambda: Cancelled("browser download cancelled"))
    except urllib.error.HTTPError as exc:
        raise ProvisionError(f"the browser download failed: {url} answered HTTP {exc.code} {exc.reason}",
                             hint=_OFFLINE_HINT) from None
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ProvisionError(f"the browser download from {url} failed: {reason}", hint=_OFFLINE_HINT) from None
    if total and done != total:
        raise ProvisionError(f"the browser download from {url} stopped after {done} of {total} bytes",
                             hint="try again; " + _OFFLINE_HINT)
    if expected_sha256 and sha != expected_sha256.lower():
        raise ProvisionError(f"the browser download from {url} is corrupt (sha256 {sha}, "
                             f"expected {expected_sha256})", hint="try again; " + _OFFLINE_HINT)


_OFFLINE_HINT = ("check the internet connection, or install Chromium yourself (Linux: 'apt-get install "
                 "chromium-headless-shell'; elsewhere Google Chrome or Microsoft Edge) and restart Reelwright")


async def _verify(executable: Path, timeout_s: float = 30.0) -> str:
    """Runs ``executable --version``; returns its answer or raises ProvisionError."""
    try:
        proc = await asyncio.create_subprocess_exec(
            str(executable), "--version", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        out, _ = await asyncio.wait_for(proc.communicate(), timeout_s)
    except (OSError, TimeoutError) as exc:
        raise ProvisionError(f"the downloaded browser does not start ({executable}: {exc})",
                             hint=_OFFLINE_HINT) from None
    text = out.decode("utf-8", "replace").strip()
    if proc.returncode != 0:
        raise ProvisionError(f"the downloaded browser does not start ({executable} exited {proc.returncode}: "
                             f"{text[-300:]})", hint=_OFFLINE_HINT)
    return text


async def download_headless_shell(
    on_progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    *,
    host: str | None = None,
    build: HeadlessShellBuild | None = None,
    root: Path | None = None,
    expected_sha256: str | None = None,
    timeout_s: float = 60.0,
) -> BrowserCandidate:
    """Download and install Playwright's headless shell; returns it, already verified.

    Blocking network and disk work runs in a thread; ``cancel`` stops it between chunks and removes
    the partial files (raising :class:`Cancelled`).
    """
    build = build or headless_shell_build()
    root = root or browsers_dir()
    host = host or os.environ.get(DOWNLOAD_HOST_ENV) or DEFAULT_DOWNLOAD_HOST
    url = build.url(host)
    report = on_progress or (lambda _p: None)
    loop = asyncio.get_running_loop()

    def report_threadsafe(p: Progress) -> None:
        loop.call_soon_threadsafe(report, p)

    stop = threading.Event()
    unregister = cancel.on_cancel(stop.set) if cancel else (lambda: None)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ProvisionError(f"cannot create the browser folder {root}: {exc}") from None
    tag = uuid.uuid4().hex[:8]
    archive = root / f".download-{tag}.zip"
    staging = root / f".staging-{tag}"
    final = build.install_dir(root)
    try:
        report(Progress("download", 0.0, f"downloading the headless shell {build.browser_version}"))
        await asyncio.to_thread(_fetch, url, archive, expected_sha256, report_threadsafe, stop, timeout_s)
        if cancel:
            cancel.raise_if_cancelled()
        report(Progress("unpack", 0.0, "unpacking"))
        try:
            await asyncio.to_thread(_safe_extract, archive, staging)
        except zipfile.BadZipFile as exc:
            raise ProvisionError(f"the browser download from {url} is not a zip archive ({exc})",
                                 hint="try again; " + _OFFLINE_HINT) from None
        exe = staging / build.folder / build.executable_name
        if not exe.is_file():
            raise ProvisionError(f"the browser archive from {url} has no {build.folder}/{build.executable_name}",
                                 hint=_OFFLINE_HINT)
        exe.chmod(exe.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        report(Progress("unpack", 0.5, "checking the browser starts"))
        version = await _verify(exe)
        if cancel:
            cancel.raise_if_cancelled()
        if final.exists():  # an older, broken install of the same revision
            await asyncio.to_thread(shutil.rmtree, final)
        os.replace(staging, final)
        report(Progress("unpack", 1.0, f"installed {version}"))
        return BrowserCandidate(Browser(build.executable(root), "headless-shell"), "provisioned")
    finally:
        unregister()
        with contextlib.suppress(OSError):
            archive.unlink()
        if staging.exists():
            await asyncio.to_thread(shutil.rmtree, staging, True)


def require_browser() -> BrowserCandidate:
    """The best browser, activated; :class:`ToolMissingError` naming the download when there is none."""
    found = locate_browser()
    if found is None:
        raise ToolMissingError("no Chromium found for rendering",
                               hint="let Reelwright download its headless shell (the app offers it on first use), "
                                    "or install Chromium/Chrome, or set REELWRIGHT_CHROMIUM")
    activate(found)
    return found
