"""What the packaged app shows before its main window: the Qt plugin check of ``--self-test`` and the
headless-shell download dialog offered on first use without a browser (``app.packaged`` calls these;
it loads no Qt itself until it does)."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path

import qasync

from app.core.errors import Cancelled
from app.core.infra.browser_provision import ProvisionError, activate, download_headless_shell
from app.core.infra.progress import CancelToken, Progress

from . import qt
from .qt import (
    QApplication,
    QBuffer,
    QDialog,
    QImage,
    QImageReader,
    QIODevice,
    QLabel,
    QLibraryInfo,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
)

log = logging.getLogger("reelwright.packaged")


# --------------------------------------------------------------------------- Qt plugin check


def qt_plugin_report() -> tuple[bool, list[str]]:
    """Load the Qt pieces the app needs dynamically: the platform plugin (through a QApplication),
    image formats and the multimedia backend.  Returns (ok, lines)."""
    lines: list[str] = []
    ok = True
    app = QApplication.instance() or QApplication(sys.argv[:1])
    lines.append(f"platform plugin '{QApplication.platformName()}' loaded from "
                 f"{QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)}")
    formats = {bytes(f.data()).decode() for f in QImageReader.supportedImageFormats()}
    for fmt in ("jpeg", "png"):
        if fmt not in formats:
            ok = False
            lines.append(f"FAIL image format plugin '{fmt}' missing (have {sorted(formats)})")
    # round-trip a frame through the JPEG plugin: the capture stage's frames are JPEG
    buf = QBuffer()
    buf.open(QIODevice.OpenModeFlag.ReadWrite)
    frame = QImage(16, 16, QImage.Format.Format_RGB32)
    frame.fill(0x3366CC)
    # PySide6 wants str formats at run time although its stubs say bytes
    saved = frame.save(buf, "JPEG")  # type: ignore[call-overload]
    if not saved or QImage.fromData(buf.data(), "JPEG").isNull():  # type: ignore[arg-type]
        ok = False
        lines.append("FAIL the JPEG plugin does not encode and decode")
    try:
        media_format = qt.QMediaFormat
        _ = qt.QVideoWidget  # the preview's video widget: loads QtMultimediaWidgets
    except ImportError as exc:
        ok = False
        lines.append(f"FAIL QtMultimedia is missing (preview player): {exc}")
    else:
        decoders = media_format().supportedFileFormats(media_format.ConversionMode.Decode)
        if media_format.FileFormat.MPEG4 not in decoders:
            ok = False
            lines.append("FAIL no QtMultimedia backend can play MP4 (multimedia plugin missing)")
        else:
            lines.append(f"multimedia backend plays MP4 ({len(decoders)} container formats)")
    lines.append(f"image formats: {', '.join(sorted(formats))}")
    del app
    return ok, lines


# --------------------------------------------------------------------------- browser on first use


def offer_browser_download(*, ask: bool = True, host: str | None = None, root: Path | None = None) -> object:
    """Ask, then download the headless shell with a progress dialog; returns the BrowserCandidate
    (activated) or None when declined, cancelled or failed (the failure is shown)."""
    from .app import create_app

    app = create_app()
    if ask:
        answer = QMessageBox.question(
            None, "Reelwright needs a browser",
            "Reelwright records your flows in Chromium, and none was found on this computer.\n\n"
            "Download Playwright's Chromium headless shell now (about 100 MB, into your user cache)?\n\n"
            "You can also install Google Chrome, Microsoft Edge or Chromium and restart Reelwright.")
        if answer != QMessageBox.StandardButton.Yes:
            return None
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    dialog = make_download_dialog()
    try:
        with loop:
            return loop.run_until_complete(dialog.run(host=host, root=root))
    finally:
        asyncio.set_event_loop(None)  # the app's main() installs its own loop next


class BrowserDownloadDialog(QDialog):
    """Progress of the headless shell download, with Cancel (nothing partial is left behind)."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("Downloading the browser")
        self.setMinimumWidth(420)
        self.label = QLabel("Connecting…")
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.cancel_button = QPushButton("Cancel")
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self.token = CancelToken()
        self.cancel_button.clicked.connect(lambda: self.token.cancel("download cancelled"))
        self.rejected.connect(lambda: self.token.cancel("download cancelled"))
        self.error: str | None = None

    def on_progress(self, p: Progress) -> None:
        if p.stage == "download":
            self.bar.setValue(round(p.fraction * 900))
        else:
            self.bar.setValue(900 + round(p.fraction * 100))
        if p.message:
            self.label.setText(p.message)

    async def run(self, host: str | None = None, root: Path | None = None) -> object:
        self.show()
        try:
            found = await download_headless_shell(self.on_progress, self.token, host=host, root=root)
        except Cancelled:
            return None
        except ProvisionError as exc:
            self.error = str(exc)
            log.warning("browser download failed: %s", exc)
            if not os.environ.get("REELWRIGHT_NO_DIALOGS"):
                QMessageBox.warning(self, "Browser download failed", self.error)
            return None
        finally:
            self.hide()
        activate(found)
        log.info("browser downloaded: %s", found.describe())
        return found



def make_download_dialog() -> BrowserDownloadDialog:
    return BrowserDownloadDialog()
