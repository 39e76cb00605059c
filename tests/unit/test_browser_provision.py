"""First-run browser provisioning: finding a browser, and the headless-shell download path tested
against a loopback HTTP server standing in for Playwright's download host (nothing leaves the machine)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_provision_fakes import ARCHIVE_PATH, BUILD, FAKE_SHELL, LoopbackDownloadHost, fake_shell_archive

from app.core.errors import Cancelled
from app.core.infra import browser_provision as bp
from app.core.infra.progress import CancelToken, Progress
from app.core.infra.tools import find_browser


@pytest.fixture
def download_host() -> Iterator[LoopbackDownloadHost]:
    host = LoopbackDownloadHost()
    yield host
    host.close()


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No override, an empty Playwright cache and a private download folder."""
    root = tmp_path / "browsers"
    monkeypatch.setenv(bp.BROWSERS_DIR_ENV, str(root))
    # set, then delete: monkeypatch then restores "unset" even after activate() writes the variable
    monkeypatch.setenv(bp.CHROMIUM_ENV, "")
    monkeypatch.delenv(bp.CHROMIUM_ENV)
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path / "pw"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return root


def download(host: LoopbackDownloadHost, root: Path, **kw: object) -> tuple[bp.BrowserCandidate, list[Progress]]:
    events: list[Progress] = []

    async def go() -> bp.BrowserCandidate:
        return await bp.download_headless_shell(events.append, kw.pop("cancel", None),  # type: ignore[arg-type]
                                                host=host.url, build=BUILD, root=root, **kw)  # type: ignore[arg-type]

    return asyncio.run(go()), events


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


# ---------------------------------------------------------------------------- what to download


def test_build_comes_from_the_shipped_playwright() -> None:
    data = json.loads(bp.playwright_browsers_json().read_text())
    entry = next(b for b in data["browsers"] if b["name"] == "chromium-headless-shell")
    build = bp.headless_shell_build(plat="linux64")
    assert (build.revision, build.browser_version) == (entry["revision"], entry["browserVersion"])
    assert build.url("https://mirror.example/") == (
        f"https://mirror.example/builds/cft/{entry['browserVersion']}/linux64/chrome-headless-shell-linux64.zip")
    assert build.executable(Path("/r")) == Path(
        f"/r/chromium_headless_shell-{entry['revision']}/chrome-headless-shell-linux64/chrome-headless-shell")


def test_platform_names_match_chrome_for_testing() -> None:
    assert bp.host_platform("linux", "x86_64") == "linux64"
    assert bp.host_platform("linux", "aarch64") == "linux-arm64"
    assert bp.host_platform("darwin", "arm64") == "mac-arm64"
    assert bp.host_platform("darwin", "x86_64") == "mac-x64"
    assert bp.host_platform("win32", "AMD64") == "win64"
    win = bp.HeadlessShellBuild("1", "2", "win64")
    assert win.executable_name == "chrome-headless-shell.exe"
    with pytest.raises(bp.ProvisionError, match="no headless shell is published"):
        bp.host_platform("freebsd14", "amd64")


def test_a_broken_browsers_json_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "browsers.json"
    bad.write_text('{"browsers": [{"name": "firefox"}]}')
    with pytest.raises(bp.ProvisionError, match="cannot tell which headless shell"):
        bp.headless_shell_build(bad, plat="linux64")


def test_downloads_go_to_the_user_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    import platformdirs

    monkeypatch.delenv(bp.BROWSERS_DIR_ENV, raising=False)
    assert bp.browsers_dir() == Path(platformdirs.user_cache_dir("reelwright")) / "browsers"


# ---------------------------------------------------------------------------- finding one


def test_the_system_headless_shell_is_found_first(isolated: Path) -> None:
    found = bp.locate_browser()
    assert found is not None
    assert found.browser.kind == "headless-shell"
    assert found.source == "system"
    assert found.browser.path == find_browser().path  # agrees with the render core
    kinds = [c.browser.kind for c in bp.browser_candidates()]
    assert kinds == sorted(kinds, key=lambda k: k != "headless-shell")  # shells before full browsers


def test_an_override_wins_and_a_wrong_one_is_named(isolated: Path, monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    monkeypatch.setenv(bp.CHROMIUM_ENV, "/usr/bin/chromium")
    first = bp.browser_candidates()[0]
    assert (first.source, first.browser.kind) == ("override", "chromium")
    monkeypatch.setenv(bp.CHROMIUM_ENV, str(tmp_path / "nope"))
    with pytest.raises(bp.ProvisionError, match="nope"):
        bp.locate_browser()


def test_a_playwright_managed_shell_is_found(isolated: Path, tmp_path: Path) -> None:
    shell = tmp_path / "pw" / "chromium_headless_shell-1255" / "chrome-headless-shell-linux64" / "chrome-headless-shell"
    shell.parent.mkdir(parents=True)
    shell.write_bytes(FAKE_SHELL)
    first = bp.browser_candidates()[0]
    assert (first.source, first.browser.path) == ("playwright", shell)


# ---------------------------------------------------------------------------- downloading one


def test_download_installs_verifies_and_is_then_found(isolated: Path, download_host: LoopbackDownloadHost,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    download_host.files[ARCHIVE_PATH] = fake_shell_archive(padding=3 * 1024 * 1024)
    cand, events = download(download_host, isolated)
    assert download_host.requests == [ARCHIVE_PATH]
    exe = BUILD.executable(isolated)
    assert cand == bp.BrowserCandidate(bp.Browser(exe, "headless-shell"), "provisioned")
    assert os.access(exe, os.X_OK)
    assert leftovers(isolated) == ["chromium_headless_shell-1255"]  # no temp files left
    fractions = [e.fraction for e in events if e.stage == "download"]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(fractions) >= 4
    assert events[-1].message == "installed Fake Headless Shell 159.0.8154.6"
    assert cand in bp.browser_candidates()
    bp.activate(cand)
    assert os.environ[bp.CHROMIUM_ENV] == str(exe)
    assert find_browser() == cand.browser  # the render core now uses it


def test_the_checksum_is_enforced(isolated: Path, download_host: LoopbackDownloadHost) -> None:
    body = fake_shell_archive()
    download_host.files[ARCHIVE_PATH] = body
    with pytest.raises(bp.ProvisionError, match="corrupt"):
        download(download_host, isolated, expected_sha256="0" * 64)
    assert leftovers(isolated) == []
    cand, _ = download(download_host, isolated, expected_sha256=hashlib.sha256(body).hexdigest())
    assert cand.browser.path.is_file()


def test_cancel_mid_download_leaves_nothing(isolated: Path, download_host: LoopbackDownloadHost) -> None:
    download_host.files[ARCHIVE_PATH] = fake_shell_archive(padding=8 * 1024 * 1024)

    async def go() -> None:
        cancel = CancelToken()

        def on_progress(p: Progress) -> None:
            if p.stage == "download" and p.fraction > 0:
                cancel.cancel("user closed the dialog")

        await bp.download_headless_shell(on_progress, cancel, host=download_host.url, build=BUILD, root=isolated)

    with pytest.raises(Cancelled):
        asyncio.run(go())
    assert leftovers(isolated) == []


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing", "answered HTTP 404"),
        ("truncated", "stopped after"),
        ("not-zip", "not a zip archive"),
        ("escape", "unsafe path"),
        ("no-exe", "has no chrome-headless-shell-linux64/chrome-headless-shell"),
        ("does-not-run", "does not start"),
    ],
)
def test_bad_downloads_are_clear_errors_and_leave_nothing(isolated: Path, download_host: LoopbackDownloadHost,
                                                          setup: str, message: str) -> None:
    if setup == "truncated":
        download_host.truncate = True
        download_host.files[ARCHIVE_PATH] = fake_shell_archive(padding=2 * 1024 * 1024)
    elif setup == "not-zip":
        download_host.files[ARCHIVE_PATH] = b"<html>captive portal</html>"
    elif setup == "escape":
        download_host.files[ARCHIVE_PATH] = fake_shell_archive(extra={"../../evil.sh": b"echo pwned"})
    elif setup == "no-exe":
        download_host.files[ARCHIVE_PATH] = fake_shell_archive(folder="something-else")
    elif setup == "does-not-run":
        download_host.files[ARCHIVE_PATH] = fake_shell_archive(executable=b"#!/bin/sh\necho broken >&2\nexit 7\n")
    with pytest.raises(bp.ProvisionError, match=message) as info:
        download(download_host, isolated)
    assert "install Chromium yourself" in str(info.value) or setup == "escape"
    assert leftovers(isolated) == []
    assert not (isolated.parent / "evil.sh").exists()


def test_an_unreachable_host_is_a_clear_error(isolated: Path) -> None:
    dead = LoopbackDownloadHost()
    url = dead.url
    dead.close()

    async def go() -> None:
        await bp.download_headless_shell(host=url, build=BUILD, root=isolated, timeout_s=5)

    with pytest.raises(bp.ProvisionError, match="failed") as info:
        asyncio.run(go())
    assert url in str(info.value)
    assert leftovers(isolated) == []


def test_only_http_hosts_are_used(isolated: Path) -> None:
    async def go() -> None:
        await bp.download_headless_shell(host="file:///etc", build=BUILD, root=isolated)

    with pytest.raises(bp.ProvisionError, match="must be an http"):
        asyncio.run(go())
    assert leftovers(isolated) == []


def test_a_broken_earlier_install_is_replaced(isolated: Path, download_host: LoopbackDownloadHost) -> None:
    stale = BUILD.install_dir(isolated) / "half-unpacked.tmp"
    stale.parent.mkdir(parents=True)
    stale.write_text("x")
    download_host.files[ARCHIVE_PATH] = fake_shell_archive()
    cand, _ = download(download_host, isolated)
    assert cand.browser.path.is_file() and not stale.exists()
