"""The installed Qt binding keeps Python's reference counts straight.

PySide6 6.12.0 on Python 3.11 returns ``None`` and ``True`` from every void call and every ``emit``
without taking a reference, so each call drops a reference the interpreter owns; after a few
thousand calls (a render's progress events, a minute of typing) the app dies with "Fatal Python error:
none_dealloc".  Python 3.12+ hides it (immortal singletons); 3.11 does not.  This test fails fast on
such a binding instead of the app crashing in a user's hands.
"""

from __future__ import annotations

import sys
from typing import Any

from app.ui.qt import QLabel, QObject, QProgressBar, Signal


class _Emitter(QObject):
    changed = Signal(object)


def test_void_calls_and_emit_do_not_steal_references(qapp: Any) -> None:
    label, bar, emitter = QLabel(), QProgressBar(), _Emitter()
    emitter.changed.connect(lambda _v: None)
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for i in range(500):
        label.setText(str(i))
        bar.setValue(i % 100)
        emitter.changed.emit(i)
        qapp.processEvents()
    lost_none = none_before - sys.getrefcount(None)
    lost_true = true_before - sys.getrefcount(True)
    # a healthy binding loses nothing (a little noise from the event loop either way)
    assert lost_none < 100 and lost_true < 100, (
        f"the Qt binding dropped {lost_none} references to None and {lost_true} to True in 500 rounds; "
        "PySide6 6.12.0 on Python 3.11 does this and crashes the app — use PySide6 6.11.x")
