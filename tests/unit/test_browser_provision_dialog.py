"""The packaged app's first-run download dialog, driven for real (offscreen Qt, qasync) against the
loopback stand-in for the download host."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_provision_fakes import ARCHIVE_PATH, BUILD, LoopbackDownloadHost, fake_shell_archive

from app import packaged
from app.core.infra import browser_provision as bp
from app.ui import browser_setup


@pytest.fixture
def host(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[LoopbackDownloadHost]:
    h = LoopbackDownloadHost()
    monkeypatch.setenv(bp.DOWNLOAD_HOST_ENV, h.url)
    monkeypatch.setenv(bp.BROWSERS_DIR_ENV, str(tmp_path / "browsers"))
    monkeypatch.setenv("REELWRIGHT_NO_DIALOGS", "1")
    # set, then delete: monkeypatch then restores "unset" even after activate() writes the variable
    monkeypatch.setenv(bp.CHROMIUM_ENV, "")
    monkeypatch.delenv(bp.CHROMIUM_ENV)
    monkeypatch.setattr(bp, "headless_shell_build", lambda *a, **k: BUILD)
    yield h
    h.close()


def test_dialog_downloads_shows_progress_and_activates(host: LoopbackDownloadHost, tmp_path: Path) -> None:
    host.files[ARCHIVE_PATH] = fake_shell_archive(padding=4 * 1024 * 1024)
    seen: list[int] = []
    dialog_cls = browser_setup.BrowserDownloadDialog
    original = dialog_cls.on_progress

    def spy(self: object, p: object) -> None:
        original(self, p)
        seen.append(self.bar.value())  # type: ignore[attr-defined]

    dialog_cls.on_progress = spy
    try:
        found = browser_setup.offer_browser_download(ask=False)
    finally:
        dialog_cls.on_progress = original
    assert isinstance(found, bp.BrowserCandidate)
    assert found.browser.path == BUILD.executable(tmp_path / "browsers")
    assert os.environ[bp.CHROMIUM_ENV] == str(found.browser.path)
    assert seen == sorted(seen) and seen[-1] == 1000 and len(set(seen)) >= 4  # the bar moved to the end


def test_a_failed_download_returns_none_and_leaves_nothing(host: LoopbackDownloadHost, tmp_path: Path) -> None:
    # nothing served: the stand-in host answers 404
    assert browser_setup.offer_browser_download(ask=False) is None
    assert bp.CHROMIUM_ENV not in os.environ
    assert [p.name for p in (tmp_path / "browsers").iterdir()] == []


def test_first_run_without_a_browser_downloads_then_the_main_window_opens(
        host: LoopbackDownloadHost, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The packaged GUI's start-up sequence: no browser → the user accepts → download dialog (its own
    event loop) → the main window starts its loop on the same QApplication and paints."""
    from app.ui.qt import QMessageBox

    host.files[ARCHIVE_PATH] = fake_shell_archive()
    monkeypatch.setattr(bp, "locate_browser", lambda: None)
    asked: list[str] = []

    def accept(*args: object, **kwargs: object) -> object:
        asked.append(str(args[1]))
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", accept)
    monkeypatch.setenv("REELWRIGHT_DATA_DIR", str(tmp_path / "data"))
    packaged.ensure_browser_interactive()
    assert asked == ["Reelwright needs a browser"]
    assert os.environ[bp.CHROMIUM_ENV] == str(BUILD.executable(tmp_path / "browsers"))

    from app.ui.app import main as gui_main

    shot = tmp_path / "shot.png"
    assert gui_main(smoke_screenshot=shot) == 0
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
