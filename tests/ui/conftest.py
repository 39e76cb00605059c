"""Fixtures of the desktop app's tests: offscreen Qt, a qasync loop, a throwaway data folder."""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before Qt loads, else it aborts without a display
os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false")
# no browser started ahead of "Preview card" whenever a test picks a card (tests/ui/test_card_preview_ui.py
# turns it on where it is what is tested)
os.environ.setdefault("REELWRIGHT_PREVIEW_WARMUP", "0")

import asyncio
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import pytest

T = TypeVar("T")

# Every scenario a test runs on the qasync loop ends within this, or fails saying where it waited.  A UI test
# that waits forever cannot be stopped by pytest-timeout's SIGALRM: Python runs a signal handler only
# between bytecodes, and a qasync loop with nothing scheduled sits in Qt's C++ event dispatcher (a CI run
# hung there for 50 minutes).  The Qt runs also use pytest-timeout's thread method (scripts/run-tests.sh).
RUN_BUDGET_S = float(os.environ.get("REELWRIGHT_TEST_RUN_BUDGET_S", "240"))


async def _within(awaitable: Any, budget: float) -> Any:
    try:
        return await asyncio.wait_for(awaitable, budget)
    except TimeoutError as exc:
        raise AssertionError(f"the scenario did not end within {budget:.0f} s (the test harness's budget); "
                             "the traceback above shows where it was waiting") from exc


def _bounded(loop: Any) -> Any:
    """``loop`` whose ``run_until_complete`` gives up after :data:`RUN_BUDGET_S`, cancelling what it ran."""
    inner = loop.run_until_complete

    def run_until_complete(awaitable: Any) -> Any:
        return inner(_within(awaitable, RUN_BUDGET_S))

    loop.run_until_complete = run_until_complete
    return loop


@pytest.fixture(autouse=True, scope="session")
def _collect_on_the_gui_thread(qapp: Any) -> None:
    """The app's own garbage-collection policy (``app.ui.main_thread_gc``) for pytest-qt's QApplication."""
    from app.ui.main_thread_gc import install

    install(qapp)


@pytest.fixture
def aloop(qapp: Any) -> Iterator[Any]:
    """A qasync event loop on the test's QApplication; run scenarios with ``aloop.run_until_complete``."""
    import qasync

    from app.ui.ops import Op

    loop = _bounded(qasync.QEventLoop(qapp))
    asyncio.set_event_loop(loop)
    yield loop
    try:
        # a test that failed half-way may leave ops behind: stop them here, not in the next test
        for op in list(Op.running):
            op.cancel()
        loop.run_until_complete(asyncio.wait_for(Op.wait_all(), 30))
        Op.running.clear()
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        loop.close()
        asyncio.set_event_loop(None)


@pytest.fixture
def run(aloop: Any) -> Callable[[Coroutine[Any, Any, T]], T]:
    def _run(coro: Coroutine[Any, Any, T]) -> T:
        return aloop.run_until_complete(coro)  # type: ignore[no-any-return]

    return _run


def _dispose(widget: Any) -> None:
    """Close a top-level widget and delete it *now*, while the test's store and event loop still exist.

    ``deleteLater()`` alone defers the deletion to some later event pass; pytest-qt processes events
    after every test, so the window died inside an unrelated later test, after its store and qasync
    loop were closed, and that crashed the interpreter now and then (a segfault in a fresh-clone run)."""
    from app.ui.qt import QApplication, QEvent

    widget.close()
    widget.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QApplication.processEvents()


@pytest.fixture
def dispose() -> Callable[[Any], None]:
    """See :func:`_dispose`: window fixtures tear down with it."""
    return _dispose

