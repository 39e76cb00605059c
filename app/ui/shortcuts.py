"""Help › Keyboard shortcuts: every menu action that has a shortcut, read from the menus themselves.

The list is built from the window's menu bar each time it opens, so an action added to a menu with a
shortcut is documented here without anyone remembering to; tests check that no two actions share a key
and that the frequent actions have one.
"""

from __future__ import annotations

from .qt import (
    QAction,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QKeySequence,
    QLabel,
    QMainWindow,
    QMenu,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)


def menu_shortcuts(window: QMainWindow) -> list[tuple[str, str, str]]:
    """(menu, action, shortcut text) for every enabled-or-not menu action with a shortcut, in menu order."""
    rows: list[tuple[str, str, str]] = []

    def walk(menu: QMenu, path: str) -> None:
        for act in menu.actions():
            sub = act.menu()
            if isinstance(sub, QMenu):
                walk(sub, f"{path} › {act.text().replace('&', '')}")
                continue
            keys = [k for k in act.shortcuts() if _typeable(k)]
            if act.isSeparator() or not keys:
                continue
            shown = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in keys)
            rows.append((path, act.text().replace("&", "").rstrip("…").rstrip("."), shown))

    for act in window.menuBar().actions():
        menu = act.menu()
        if isinstance(menu, QMenu):
            walk(menu, act.text().replace("&", ""))
    return rows


def _typeable(key: QKeySequence) -> bool:
    """Whether a sequence is one a user types: dedicated media keys such as "Redo" or "Help" (which
    Qt's standard bindings include on some desktops) are left out of the list."""
    if key.isEmpty():
        return False
    text = key.toString(QKeySequence.SequenceFormat.PortableText)
    return "+" in text or len(text) <= 3  # a chord, or F1…F12 / a single key


def menu_actions(window: QMainWindow) -> list[QAction]:
    """Every action in the window's menus (submenus included), separators left out."""
    found: list[QAction] = []

    def walk(menu: QMenu) -> None:
        for act in menu.actions():
            sub = act.menu()
            if isinstance(sub, QMenu):
                walk(sub)
            elif not act.isSeparator():
                found.append(act)

    for act in window.menuBar().actions():
        menu = act.menu()
        if isinstance(menu, QMenu):
            walk(menu)
    return found


def shortcut_clashes(window: QMainWindow) -> dict[str, list[str]]:
    """Key sequences bound to more than one menu action (Qt fires neither: an 'ambiguous shortcut')."""
    seen: dict[str, list[str]] = {}
    for act in menu_actions(window):
        for k in act.shortcuts():
            if not k.isEmpty():
                seen.setdefault(k.toString(QKeySequence.SequenceFormat.PortableText), []).append(
                    act.text().replace("&", ""))
    return {k: v for k, v in seen.items() if len(v) > 1}


class ShortcutsDialog(QDialog):
    """A non-modal table of the app's keyboard shortcuts (Help › Keyboard shortcuts, F1)."""

    def __init__(self, window: QMainWindow, parent: QWidget | None = None) -> None:
        super().__init__(parent or window)
        self.setWindowTitle("Keyboard shortcuts — Reelwright")
        self.setObjectName("shortcutsDialog")
        self.setModal(False)
        rows = menu_shortcuts(window)
        self.table = QTableWidget(len(rows), 3)
        self.table.setObjectName("shortcutTable")
        self.table.setAccessibleName("Keyboard shortcuts")
        self.table.setHorizontalHeaderLabels(["Menu", "Action", "Shortcut"])
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        for r, (menu, action, keys) in enumerate(rows):
            for c, text in enumerate((menu, action, keys)):
                self.table.setItem(r, c, QTableWidgetItem(text))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        lay = QVBoxLayout(self)
        note = QLabel("Also: Ctrl+Up / Ctrl+Down move the selected card or file, Delete removes it, "
                             "Ctrl+Enter in the library adds the selection to the project.")
        note.setWordWrap(True)
        lay.addWidget(note)
        lay.addWidget(self.table, 1)
        lay.addWidget(buttons)
        self.resize(640, 720)
