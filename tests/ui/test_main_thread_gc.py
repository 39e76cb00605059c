"""Cycles are collected on the GUI thread, never in a worker that happened to allocate (see
``app.ui.main_thread_gc``: a Qt object freed in a worker thread crashed the app's timers)."""

from __future__ import annotations

import gc
import threading
from typing import Any

from app.ui.main_thread_gc import MainThreadCollector, install


class _Cycle:
    """Half of a reference cycle that notes the thread its finaliser ran in."""

    def __init__(self, seen: list[str]) -> None:
        self.seen = seen
        self.other: _Cycle | None = None

    def __del__(self) -> None:
        self.seen.append(threading.current_thread().name)


def test_a_cycle_dropped_while_a_worker_allocates_is_collected_on_the_gui_thread(qapp: Any, qtbot: Any) -> None:
    collector = install(qapp)
    assert isinstance(collector, MainThreadCollector) and install(qapp) is collector  # one per app
    assert not gc.isenabled()
    seen: list[str] = []
    a, b = _Cycle(seen), _Cycle(seen)
    a.other, b.other = b, a
    del a, b  # now only the cycle collector can free them

    kept: list[list[int]] = []

    def allocate() -> None:  # far past every generation's threshold: CPython would collect here
        kept.extend([i] for i in range(200_000))

    worker = threading.Thread(target=allocate, name="worker")
    worker.start()
    worker.join()
    assert seen == [], "the cycle was collected in the worker thread"
    before = collector.collections
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=5000)
    assert set(seen) == {threading.main_thread().name}
    assert collector.collections > before
    kept.clear()
