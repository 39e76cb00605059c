"""Starting the desktop app: QApplication + qasync loop, theme, store, main window; and the smoke
screenshot mode used by tests and by packaged builds' self-check."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

from .qt import QApplication, QColor, QMessageBox, QPalette, Qt

log = logging.getLogger(__name__)

THEME_ENV = "REELWRIGHT_THEME"  # "dark" or "light" overrides the OS setting


def dark_palette() -> QPalette:
    p = QPalette()
    base, window, text, mid = QColor(30, 31, 34), QColor(43, 45, 48), QColor(223, 225, 229), QColor(60, 63, 65)
    accent = QColor(53, 116, 240)
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        p.setColor(group, QPalette.ColorRole.Window, window)
        p.setColor(group, QPalette.ColorRole.WindowText, text)
        p.setColor(group, QPalette.ColorRole.Base, base)
        p.setColor(group, QPalette.ColorRole.AlternateBase, mid)
        p.setColor(group, QPalette.ColorRole.ToolTipBase, window)
        p.setColor(group, QPalette.ColorRole.ToolTipText, text)
        p.setColor(group, QPalette.ColorRole.PlaceholderText, QColor(130, 133, 138))
        p.setColor(group, QPalette.ColorRole.Text, text)
        p.setColor(group, QPalette.ColorRole.Button, mid)
        p.setColor(group, QPalette.ColorRole.ButtonText, text)
        p.setColor(group, QPalette.ColorRole.Highlight, accent)
        p.setColor(group, QPalette.ColorRole.HighlightedText, QColor(255, 255, 255))
        p.setColor(group, QPalette.ColorRole.Link, QColor(88, 157, 246))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(120, 122, 126))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Base, window)
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Window, window)
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Button, window)
    return p


def apply_theme(app: QApplication) -> None:
    """Fusion, light or dark following the OS (``REELWRIGHT_THEME`` overrides)."""
    app.setStyle("Fusion")
    hints = app.styleHints()

    def update(*_: object) -> None:
        forced = os.environ.get(THEME_ENV, "").lower()
        dark = forced == "dark" or (forced != "light" and hints.colorScheme() == Qt.ColorScheme.Dark)
        app.setPalette(dark_palette() if dark else app.style().standardPalette())

    hints.colorSchemeChanged.connect(update)
    update()


def create_app() -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    app = QApplication(sys.argv[:1])
    app.setApplicationName("Reelwright")
    app.setOrganizationName("Reelwright")
    app.setApplicationDisplayName("Reelwright")
    apply_theme(app)
    from .main_thread_gc import install

    install(app)  # cycles holding Qt objects must die on this thread, not in a worker's
    return app


async def _wait_painted(window: object, timeout_s: float = 10.0) -> None:
    """Until the window is exposed on screen and its first paint has been processed."""
    from .qt import QWidget

    assert isinstance(window, QWidget)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        handle = window.windowHandle()
        if handle is not None and handle.isExposed():
            break
        await asyncio.sleep(0.02)
    QApplication.processEvents()  # the queued layout and paint events of the first frame


async def _run(smoke_screenshot: Path | None, started: float, open_path: Path | None = None) -> int:
    from app.workbench.storage import StorageError, Store

    from .main_window import MainWindow

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    try:
        store = Store()
    except StorageError as exc:
        QMessageBox.critical(None, "Reelwright", str(exc))
        return 1
    from app.workbench.storage import load_settings

    window = MainWindow(store, load_settings(store.root))
    first_run = not store.list_projects()
    store.problems.clear()
    opened = _open_file(window, open_path) if open_path is not None else False
    if not opened and (first_run or smoke_screenshot is not None):
        _open_example(window)
    window.start()
    window.show()
    closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    def last_window_closed() -> None:
        if not closed.done():
            closed.set_result(None)

    app.lastWindowClosed.connect(last_window_closed)
    await _wait_painted(window)
    painted, painted_epoch, cpu = time.perf_counter(), time.time(), time.process_time()
    log.info("first paint after %.3f s", painted - started)
    if smoke_screenshot is not None:
        shot = window.grab()
        smoke_screenshot.parent.mkdir(parents=True, exist_ok=True)
        ok = shot.save(str(smoke_screenshot))
        print(f"first paint after {painted - started:.3f} s (at epoch {painted_epoch:.3f}; "
              f"process CPU {cpu:.3f} s); screenshot "
              f"{'saved to' if ok else 'FAILED:'} {smoke_screenshot}", flush=True)
        window.close()
        store.close()
        return 0 if ok else 1
    window.library.check_files()  # after the first paint: it touches every stored file
    from .update_notice import start_if_enabled

    start_if_enabled(window)  # opt-in, at most daily, in a worker thread
    window.cloud.restore()  # after the first paint: it imports boto3
    await closed
    await window.renders.close_warm()  # the preview's kept browser, if one was started
    store.close()
    return 0


def _open_file(window: object, path: Path) -> bool:
    """A job bundle or script the user opened with the app (file manager, ``Reelwright FILE``): import it
    as a project and make it the one shown.  A bad bundle is reported in the startup problems dialog."""
    from app.core.errors import ReelwrightError
    from app.workbench.job_import import import_job

    from .main_window import MainWindow

    assert isinstance(window, MainWindow)
    try:
        project = import_job(window.store, path)
    except (ReelwrightError, OSError) as exc:
        log.warning("could not open %s: %s", path, exc)
        window.store.problems.append(f"{path} could not be opened: {exc}")
        return False
    window.settings.last_project = project.id
    print(f"opened {path} as project '{project.name}'", flush=True)
    return True


def _open_example(window: object) -> None:
    from .example import EXAMPLE_NAME, create_example_project
    from .main_window import MainWindow

    assert isinstance(window, MainWindow)
    existing = next((p for p in window.store.list_projects() if p.name == EXAMPLE_NAME), None)
    if existing is not None:
        window.settings.last_project = existing.id
        return
    try:
        project = create_example_project(window.store)
    except (OSError, ValueError) as exc:
        log.warning("the bundled example could not be loaded: %s", exc)
        window.store.problems.append(f"the bundled example project could not be loaded: {exc}")
        return
    window.settings.last_project = project.id


def main(smoke_screenshot: Path | None = None, open_path: Path | None = None) -> int:
    """Run the app until its window closes; returns the exit code.  ``open_path``: a job bundle or script
    to open as a project (what the file manager passes)."""
    import qasync

    started = time.perf_counter()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    tmp: tempfile.TemporaryDirectory[str] | None = None
    if smoke_screenshot is not None and not os.environ.get("REELWRIGHT_DATA_DIR"):
        # the self-check must not touch the user's library
        tmp = tempfile.TemporaryDirectory(prefix="reelwright-smoke-")
        os.environ["REELWRIGHT_DATA_DIR"] = tmp.name
    app = create_app()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        with loop:
            code: int = loop.run_until_complete(_run(smoke_screenshot, started, open_path))
    finally:
        if tmp is not None:
            os.environ.pop("REELWRIGHT_DATA_DIR", None)
            tmp.cleanup()
    return code
