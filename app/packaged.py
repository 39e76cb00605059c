"""The packaged app's entry point (PyInstaller runs this file as ``Reelwright`` and ``reelwright-cli``).

``Reelwright``                          the desktop app; on first use without a browser it offers to
                                        download Playwright's headless shell with a progress dialog
``Reelwright --self-test [--out-dir D]`` browser, ffmpeg, voice and Qt plugin checks, then a short render
``Reelwright --smoke-screenshot FILE``  open the main window with the example, save a PNG, exit 0
``Reelwright --version``
``Reelwright --cli …`` / ``reelwright-cli …``  the full command line (``render``, ``self-test``, …), as
                                        ``reelwright``

The self-test and the smoke screenshot are the ones the CLI has (``app.cli.cmd_self_test`` and
``app.cli_gui``); this file only adds what is specific to a frozen build: the Qt plugin check, the
browser provisioning and where the logs go.
"""

from __future__ import annotations

import argparse
import functools
import logging
import logging.handlers
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from app import __version__

log = logging.getLogger("reelwright.packaged")

CLI_NAMES = ("reelwright-cli", "reelwright")


def log_dir() -> Path:
    """Per-user log folder (``platformdirs.user_log_dir``), or ``$REELWRIGHT_LOG_DIR``."""
    import platformdirs

    env = os.environ.get("REELWRIGHT_LOG_DIR")
    return Path(env) if env else Path(platformdirs.user_log_dir("reelwright"))


def setup_logging() -> Path | None:
    """INFO to stderr and to a small rotating file in the user's log folder; returns the file."""
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(fmt)
    console.setLevel(logging.WARNING)
    root.addHandler(console)
    try:
        folder = log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "reelwright.log"
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=1_000_000, backupCount=2, encoding="utf-8")
    except OSError as exc:  # a read-only home must not stop the app
        log.warning("no log file (%s)", exc)
        return None
    handler.setFormatter(fmt)
    root.addHandler(handler)
    return path


# --------------------------------------------------------------------------- Qt plugin check


def qt_plugin_report() -> tuple[bool, list[str]]:
    """Load the Qt pieces the app needs dynamically: the platform plugin (through a QApplication),
    image formats and the multimedia backend.  Returns (ok, lines)."""
    from PySide6.QtCore import QBuffer, QIODevice, QLibraryInfo
    from PySide6.QtGui import QImageReader

    from app.ui.qt import QApplication, QImage

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
        from PySide6.QtMultimedia import QMediaFormat
        from PySide6.QtMultimediaWidgets import QVideoWidget  # noqa: F401 - the preview's video widget
    except ImportError as exc:
        ok = False
        lines.append(f"FAIL QtMultimedia is missing (preview player): {exc}")
    else:
        decoders = QMediaFormat().supportedFileFormats(QMediaFormat.ConversionMode.Decode)
        if QMediaFormat.FileFormat.MPEG4 not in decoders:
            ok = False
            lines.append("FAIL no QtMultimedia backend can play MP4 (multimedia plugin missing)")
        else:
            lines.append(f"multimedia backend plays MP4 ({len(decoders)} container formats)")
    lines.append(f"image formats: {', '.join(sorted(formats))}")
    del app
    return ok, lines


# --------------------------------------------------------------------------- browser on first use


def ensure_browser_interactive() -> None:
    """Before the main window: use the best browser here, or offer the headless shell download with
    a progress dialog.  Declining (or a failed download) still opens the app; rendering then says
    what is missing."""
    from app.core.browser_provision import activate, locate_browser
    from app.core.errors import ReelwrightError

    try:
        found = locate_browser()
    except ReelwrightError as exc:
        log.warning("%s", exc)
        return
    if found is not None:
        activate(found)
        log.info("browser: %s", found.describe())
        return
    offer_browser_download()


def offer_browser_download(*, ask: bool = True, host: str | None = None, root: Path | None = None) -> object:
    """Ask, then download the headless shell with a progress dialog; returns the BrowserCandidate
    (activated) or None when declined, cancelled or failed (the failure is shown)."""
    import asyncio

    import qasync

    from app.ui.app import create_app
    from app.ui.qt import QMessageBox

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


@functools.cache
def _download_dialog_class() -> type:
    from app.core.browser_provision import ProvisionError, activate, download_headless_shell
    from app.core.errors import Cancelled
    from app.core.progress import CancelToken, Progress
    from app.ui.qt import QDialog, QLabel, QMessageBox, QProgressBar, QPushButton, QVBoxLayout

    class _BrowserDownloadDialog(QDialog):
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

    return _BrowserDownloadDialog


def make_download_dialog() -> Any:
    """The download dialog (its class is built on first use so importing this module loads no Qt)."""
    return _download_dialog_class()()


# --------------------------------------------------------------------------- entry


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="Reelwright", description="Reelwright desktop app.")
    p.add_argument("--version", action="version", version=f"Reelwright {__version__}")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--self-test", action="store_true",
                      help="check the browser, ffmpeg, voice and Qt plugins, render a short clip, exit 0 if fine")
    mode.add_argument("--smoke-screenshot", type=Path, metavar="FILE",
                      help="open the main window with the example project, save a PNG of it, exit")
    p.add_argument("--out-dir", help="with --self-test: keep the clip here")
    return p


def self_test(out_dir: str | None) -> int:
    from app import cli
    from app.core.browser_provision import locate_browser

    print(f"Reelwright {__version__} {'packaged build' if getattr(sys, 'frozen', False) else 'from source'}: "
          "Qt plugins", flush=True)
    ok, lines = qt_plugin_report()
    for line in lines:
        print(f"  {'FAIL' if line.startswith('FAIL') else 'ok':<4} {'qt':<8} {line.removeprefix('FAIL ')}")
    found = locate_browser()
    if found is not None:
        from app.core.browser_provision import activate

        activate(found)
    argv = ["self-test"] + (["--out-dir", out_dir] if out_dir else [])
    code = cli.main(argv)
    if not ok:
        print("self-test FAILED: Qt plugins are missing from this build", flush=True)
        return code or 1
    return code


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    prog = Path(sys.argv[0]).stem.lower()
    if args_list[:1] == ["--cli"] or (prog in CLI_NAMES and args_list[:1] not in (["--self-test"],
                                                                                 ["--smoke-screenshot"])):
        from app import cli

        return cli.main(args_list[1:] if args_list[:1] == ["--cli"] else args_list)
    args = build_parser().parse_args(args_list)
    setup_logging()
    if args.self_test:
        return self_test(args.out_dir)
    from app.ui.app import main as gui_main

    if args.smoke_screenshot is None:
        ensure_browser_interactive()
    return gui_main(smoke_screenshot=args.smoke_screenshot)


if __name__ == "__main__":
    if getattr(sys, "frozen", False):
        import multiprocessing

        multiprocessing.freeze_support()
    sys.exit(main())
