"""Python's cycle collector runs on the GUI thread only, while the app runs.

CPython collects reference cycles in whichever thread happens to cross the allocation threshold.
In this app that is often not the GUI thread: ``asyncio.to_thread`` workers, qasync's executor and
asyncio's child watchers allocate all the time.  When such a collection frees a cycle that holds a
Qt object (a widget, a model, a timer), the C++ destructor runs in that worker thread, racing the
GUI thread; the GUI thread's timer list then keeps a dangling receiver and the next timer tick
crashes the process (seen as segfaults in ``QTimerInfoList::activateTimers`` →
``QCoreApplication::notifyInternal2`` in the UI test suite, a few tests after a render).

So automatic collection is switched off and a GUI-thread timer collects whenever the usual
thresholds say a generation is due — the same policy, only on the right thread.  Reference
counting (which frees most objects) is untouched.
"""

from __future__ import annotations

import gc

from .qt import QObject, QTimer

__all__ = ["MainThreadCollector", "install"]

INTERVAL_MS = 250


class MainThreadCollector(QObject):
    """Collects on a timer in the thread it lives in (the GUI thread)."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        self.setObjectName("mainThreadCollector")
        self.thresholds = gc.get_threshold()
        self.collections = 0
        gc.disable()
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check)
        self.timer.start()

    def check(self) -> None:
        """Collect the oldest generation whose count is over its threshold (as CPython itself would)."""
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > self.thresholds[generation]:
                gc.collect(generation)
                self.collections += 1
                return


def install(app: QObject) -> MainThreadCollector:
    """Start the collector once per application (it is a child of ``app``); returns the one running."""
    existing = app.findChild(MainThreadCollector, "mainThreadCollector")
    if isinstance(existing, MainThreadCollector):
        return existing
    return MainThreadCollector(app)
