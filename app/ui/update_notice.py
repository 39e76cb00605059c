"""The UI side of the opt-in update check (:mod:`app.workbench.updates` does the work, off the UI thread).

After the first paint, if the user turned the check on and a day has passed, the feed is asked once; a
newer version shows as a link in the status bar ("Reelwright X is available — download"), which opens the
release page in the browser.  Help › Check for updates asks now, whatever the setting.  Nothing is
downloaded or installed by the app.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from app import __version__
from app.workbench.updates import UpdateCheckError, UpdateResult, check_for_update

from .qt import QLabel, Qt

if TYPE_CHECKING:
    from .main_window import MainWindow

log = logging.getLogger(__name__)

NOTICE_NAME = "updateNotice"


def notice_label(window: MainWindow) -> QLabel:
    label = window.statusBar().findChild(QLabel, NOTICE_NAME)
    if isinstance(label, QLabel):
        return label
    label = QLabel()
    label.setObjectName(NOTICE_NAME)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setOpenExternalLinks(True)  # the release page opens in the user's browser; nothing else happens
    label.hide()
    window.statusBar().addPermanentWidget(label)
    return label


def show_result(window: MainWindow, result: UpdateResult, *, say_current: bool = False) -> None:
    newer = result.newer
    if newer is None:
        if say_current:
            window.statusBar().showMessage(result.message(), 8000)
        return
    from html import escape

    label = notice_label(window)
    label.setText(f'Reelwright {escape(newer.version)} is available — '
                  f'<a href="{escape(newer.url, quote=True)}">download</a>')
    label.setToolTip(newer.notes[:500] or newer.url)
    label.show()
    window.statusBar().showMessage(result.message(), 15000)


async def check(window: MainWindow, *, force: bool = False) -> UpdateResult | None:
    """One check (in a worker thread); problems go to the status bar and the log, never a dialog."""
    s = window.settings
    try:
        result = await asyncio.to_thread(check_for_update, s.update_feed_url, __version__, window.store.root,
                                         force=force)
    except UpdateCheckError as exc:
        log.warning("update check failed: %s", exc)
        if force:
            window.statusBar().showMessage(f"Update check failed: {exc.message}", 10000)
        return None
    if result is not None:
        show_result(window, result, say_current=force)
    return result


_tasks: set[asyncio.Task[UpdateResult | None]] = set()  # keep a reference: the loop holds tasks weakly


def start_if_enabled(window: MainWindow) -> asyncio.Task[UpdateResult | None] | None:
    """The daily check at startup, only when the user opted in."""
    if not window.settings.update_check:
        return None
    task = asyncio.ensure_future(check(window))
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)
    return task


def check_now(window: MainWindow) -> asyncio.Task[UpdateResult | None]:
    task = asyncio.ensure_future(check(window, force=True))
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)
    return task
