"""The one place a long core operation meets the UI (in the spirit of Anki's ``CollectionOp``).

An operation is a coroutine factory ``(on_progress, cancel) -> awaitable``: it gets only data, a
progress callback and a :class:`~app.core.infra.progress.CancelToken`.  :class:`Op` runs it on the qasync
loop, disables the control that triggered it, shows progress (stage, fraction, ETA) in a
:class:`ProgressView`, offers cancel, and on failure shows a dialog by default — the typed error's
message, never a traceback (that goes to the log).  Success and failure callbacks run on the UI
thread.  Widgets never call Playwright, ffmpeg or boto3 themselves: they start an ``Op``.

Usage::

    Op(self, lambda on_progress, cancel: core.render(job, out, on_progress, cancel), title="Render")
        .success(self._show_result).failure(self._mark_failed).run()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

from app.core.errors import Cancelled, ReelwrightError
from app.core.infra.progress import CancelToken, Progress
from app.workbench.services import OpFactory

from .qt import QAction, QMessageBox, QObject, QWidget, Signal

log = logging.getLogger(__name__)

T = TypeVar("T")


class ProgressView(Protocol):
    def op_started(self, op: Op[Any]) -> None: ...
    def op_progress(self, op: Op[Any], progress: Progress) -> None: ...
    def op_finished(self, op: Op[Any]) -> None: ...


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return ""
    s = round(seconds)
    if s >= 3600:
        return f"{s // 3600} h {s % 3600 // 60:02d} min left"
    if s >= 60:
        return f"{s // 60} min {s % 60:02d} s left"
    return f"{s} s left"


def describe_progress(p: Progress) -> str:
    """'capture 42% — card 2 of 3 · 12 s left'"""
    text = f"{p.stage} {round(p.fraction * 100)}%"
    if p.message:
        text += f" — {p.message}"
    eta = format_eta(p.eta_s)
    if eta:
        text += f" · {eta}"
    return text


def error_text(exc: BaseException) -> str:
    """What the user reads for an error: the typed message, or a one-line summary of a bug."""
    if isinstance(exc, ReelwrightError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else "")
    return f"{type(exc).__name__}: {exc}"


class Op(QObject, Generic[T]):
    """A running (or ready) core operation bound to a parent widget."""

    progressed = Signal(object)  # Progress
    done = Signal(object)  # the result
    errored = Signal(object)  # the exception (Cancelled included)

    #: every op alive, so tests and the close handler can wait for or cancel them
    running: set[Op[Any]] = set()  # noqa: RUF012

    def __init__(self, parent: QWidget, factory: OpFactory[T], *, title: str,
                 trigger: QWidget | QAction | None = None, view: ProgressView | None = None,
                 cancellable: bool = True) -> None:
        super().__init__(parent)
        self._parent = parent
        self._factory = factory
        self.title = title
        self._trigger = trigger
        self._view = view
        self.cancellable = cancellable
        self.cancel_token = CancelToken()
        self._on_success: Callable[[T], None] | None = None
        self._on_failure: Callable[[BaseException], bool | None] | None = None
        self._on_progress: Callable[[Progress], None] | None = None
        self.task: asyncio.Task[T | None] | None = None
        self.last_progress: Progress | None = None
        self._last_report: tuple[str, float] | None = None
        self.result: T | None = None
        self.error: BaseException | None = None

    def success(self, cb: Callable[[T], None]) -> Op[T]:
        self._on_success = cb
        return self

    def failure(self, cb: Callable[[BaseException], bool | None]) -> Op[T]:
        """``cb(exc)``; return True to say it was handled (no dialog)."""
        self._on_failure = cb
        return self

    def with_progress(self, cb: Callable[[Progress], None]) -> Op[T]:
        self._on_progress = cb
        return self

    def cancel(self) -> None:
        self.cancel_token.cancel()
        if self.task is not None and not self.task.done():
            # a coroutine that never polls the token still stops at its next await
            loop = self.task.get_loop()
            loop.call_later(2.0, self._force_cancel)

    def _force_cancel(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()

    def run(self) -> asyncio.Task[T | None]:
        # at once, so the trigger is disabled before the click returns and a caller can wait for
        # every op a click started
        Op.running.add(self)
        self.progressed.connect(self._deliver)
        self._set_trigger_enabled(False)
        if self._view is not None:
            self._view.op_started(self)
        log.info("%s: started", self.title)
        self.task = asyncio.ensure_future(self._run())
        # a task cancelled before its first step never runs _run's bookkeeping: it must not stay "running"
        # (the close handler and wait_all would wait for it forever)
        self.task.add_done_callback(lambda _t: Op.running.discard(self))
        return self.task

    @classmethod
    async def wait_all(cls) -> None:
        """Wait until no op is running (ops started meanwhile included)."""
        while cls.running:
            await asyncio.gather(*(op.task for op in list(cls.running) if op.task is not None),
                                 return_exceptions=True)

    #: at most this many progress updates per second reach the widgets (stage changes always do)
    MAX_UPDATES_PER_S = 20

    def _report(self, p: Progress) -> None:
        # the capture stage reports every frame: repaint the progress a few times a second, not 30
        now = time.monotonic()
        last = self._last_report
        if last is not None and last[0] == p.stage and p.fraction < 1.0 \
                and now - last[1] < 1.0 / self.MAX_UPDATES_PER_S:
            return
        self._last_report = (p.stage, now)
        # the core may report from a worker thread (asyncio.to_thread); the signal hops to the Qt
        # thread (a queued connection to this object's thread)
        self.progressed.emit(p)

    def _deliver(self, p: Progress) -> None:
        self.last_progress = p
        if self._view is not None:
            self._view.op_progress(self, p)
        if self._on_progress is not None:
            self._on_progress(p)

    def _set_trigger_enabled(self, enabled: bool) -> None:
        if self._trigger is not None:
            with contextlib.suppress(RuntimeError):  # the widget was deleted meanwhile
                self._trigger.setEnabled(enabled)

    async def _run(self) -> T | None:
        try:
            result = await self._factory(self._report, self.cancel_token)
        except asyncio.CancelledError:
            self.error = Cancelled()
            self._finish()
            log.info("%s: cancelled", self.title)
            self._fail(self.error)
            return None
        except Exception as exc:
            self.error = exc
            self._finish()
            if isinstance(exc, ReelwrightError):
                log.info("%s: failed: %s", self.title, exc)
            else:
                log.exception("%s: unexpected failure", self.title)
            self._fail(exc)
            return None
        self.result = result
        self._finish()
        log.info("%s: done", self.title)
        if self._on_success is not None:
            try:
                self._on_success(result)
            except Exception as exc:
                log.exception("%s: the result could not be shown", self.title)
                show_error(self._parent, self.title, exc)
        self.done.emit(result)
        return result

    def _finish(self) -> None:
        Op.running.discard(self)
        self._set_trigger_enabled(True)
        if self._view is not None:
            self._view.op_finished(self)

    def _fail(self, exc: BaseException) -> None:
        handled = self._on_failure(exc) if self._on_failure is not None else None
        self.errored.emit(exc)
        if handled or isinstance(exc, Cancelled):
            return
        show_error(self._parent, self.title, exc)


def show_error(parent: QWidget | None, title: str, exc: BaseException) -> None:
    """The default error dialog (non-modal, so tests and the event loop keep running)."""
    box = QMessageBox(QMessageBox.Icon.Warning, f"{title} failed", error_text(exc).split("\n")[0][:300],
                      QMessageBox.StandardButton.Ok, parent)
    full = error_text(exc)
    if "\n" in full or len(full) > 300:
        box.setDetailedText(full)
    box.setObjectName("errorDialog")
    box.setModal(False)
    box.show()
