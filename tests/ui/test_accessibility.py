"""Every control a user can reach has a name a screen reader can say.

The test walks the widget tree of the main window (with a project open, so the card editor is filled)
and of every window and dialog the menus open, and asks Qt's accessibility layer — what a screen reader
queries — for each interactive widget's name.  A button's text or a label's buddy counts; a bare line
edit, list or combo box does not.  Qt's own internals (header sections, the table corner button) are
skipped: they are not separate stops for the user.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.ui.main_window import MainWindow
from app.ui.ops import Op
from app.ui.qt import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QAccessible,
    QAction,
    QApplication,
    QComboBox,
    QHeaderView,
    QLineEdit,
    QPlainTextEdit,
    QSlider,
    QTextEdit,
    QWidget,
)
from app.workbench.storage import ProjectData, Store

pytestmark = pytest.mark.ui

INTERACTIVE = (QAbstractButton, QComboBox, QLineEdit, QAbstractSpinBox, QSlider, QAbstractItemView,
               QPlainTextEdit, QTextEdit)

SCRIPT = {"title": "T", "settings": {"base_url": "http://127.0.0.1:9/"},
          "cards": [{"id": "a", "title": "First", "narration": "Hello there.",
                     "actions": [{"type": "goto", "url": "/"}]},
                    {"id": "b", "title": "Second", "narration": "Bye now.", "actions": []}]}


@pytest.fixture
def window(store: Store, aloop: Any, dispose: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
           ) -> Iterator[MainWindow]:
    monkeypatch.setenv("REELWRIGHT_CLOUD_HOME", str(tmp_path / "cloud"))
    monkeypatch.setenv("REELWRIGHT_CLOUD_CONFIG", str(tmp_path / "cloud" / "config.json"))
    monkeypatch.setenv("REELWRIGHT_NO_KEYRING", "1")
    w = MainWindow(store)
    w.start()
    w.show()
    yield w
    for op in list(Op.running):
        op.cancel()
    aloop.run_until_complete(Op.wait_all())
    dispose(w)


def unnamed_controls(top: QWidget) -> list[str]:
    """The visible interactive widgets under ``top`` whose accessible name is empty."""
    missing = []
    for w in [top, *top.findChildren(QWidget)]:
        if not isinstance(w, INTERACTIVE) or isinstance(w, QHeaderView) or not w.isVisibleTo(top):
            continue
        if w.objectName().startswith("qt_"):
            continue
        iface = QAccessible.queryAccessibleInterface(w)
        name = iface.text(QAccessible.Text.Name) if iface is not None else ""
        if not name.strip():
            parent = w.parentWidget()
            inside = f" (inside {type(parent).__name__} '{parent.objectName()}')" if parent is not None else ""
            missing.append(f"{type(w).__name__} '{w.objectName() or '(no objectName)'}'{inside} "
                           f"in {type(top).__name__}")
    return missing


def test_every_control_in_the_main_window_and_its_windows_has_an_accessible_name(
        window: MainWindow, qtbot: Any) -> None:
    p = window.projects.create("A11y", ProjectData(script=SCRIPT))
    window.projects.open(p.id)
    checked = [window]
    for tab in range(window.tabs.count()):
        window.tabs.setCurrentIndex(tab)
        qtbot.wait(10)
        assert not unnamed_controls(window), unnamed_controls(window)
    # every non-modal window a menu action opens (modal ones are built directly below)
    for name in ("videoSettings", "recordFlow", "languages"):
        act = window.findChild(QAction, name)
        assert act is not None, name
        act.trigger()
    qtbot.wait(50)
    from app.ui.settings_dialog import SettingsDialog
    settings = SettingsDialog(window.settings, window.store.root, window)
    settings.show()
    window.cloud.sign_in_or_out()
    for top in QApplication.topLevelWidgets():
        if top.isVisible() and top is not window:
            checked.append(top)
    assert len(checked) >= 4, [type(t).__name__ for t in checked]
    problems = [m for top in checked for m in unnamed_controls(top)]
    assert not problems, "controls without an accessible name:\n" + "\n".join(problems)
    for top in checked[1:]:
        top.close()


#: what users do many times a session: each needs a key (issue 14, "keyboard shortcuts for every frequent action")
FREQUENT = ["New project", "Import files", "Record a flow", "Undo", "Redo", "Find in library", "Draft script",
            "Add card", "Play card voice", "Check card in browser", "Render video", "Script", "Render",
            "Show log", "Keyboard shortcuts", "Quit"]


def test_frequent_actions_have_shortcuts_listed_in_help_and_none_clash(window: MainWindow, qtbot: Any) -> None:
    from app.ui.shortcuts import menu_shortcuts, shortcut_clashes

    assert shortcut_clashes(window) == {}
    listed = {action: keys for _menu, action, keys in menu_shortcuts(window)}
    missing = [a for a in FREQUENT if not listed.get(a)]
    assert not missing, f"frequent actions without a shortcut: {missing}"
    act = window.findChild(QAction, "keyboardShortcuts")
    assert act is not None
    act.trigger()
    dlg = window.shortcuts_dialog
    assert dlg.isVisible() and not dlg.isModal()
    shown = {(dlg.table.item(r, 1).text(), dlg.table.item(r, 2).text()) for r in range(dlg.table.rowCount())}
    assert ("Render video", "Ctrl+R") in shown
    assert len(shown) == len(listed) >= len(FREQUENT)
    assert not unnamed_controls(dlg)
    dlg.close()
