"""Backups: export the library, projects and settings to one zip; restore one in place of the data
folder (the current folder is kept beside it)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.workbench.sessions import SessionStore
from app.workbench.storage import StorageError, Store, export_backup, restore_backup

from ..ops import Op, ProgressView, show_error
from ..qt import QFileDialog, QMessageBox, QObject, QWidget, Signal


class BackupController(QObject):
    """``restored`` carries the new store and the folder where the previous data was kept."""

    restored = Signal(object, object)  # Store, Path
    message = Signal(str)

    def __init__(self, window: QWidget, view: ProgressView, store: Callable[[], Store],
                 save_now: Callable[[], None]) -> None:
        super().__init__(window)
        self.window = window
        self.view = view
        self.store = store  # the window's current store (a restore replaces it)
        self.save_now = save_now

    def choose_export(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self.window, "Export backup",
                                              str(Path.home() / "reelwright-backup.zip"), "Backup (*.zip)")
        if name:
            self.export(Path(name), include_sessions=self.ask_include_sessions())

    def ask_include_sessions(self) -> bool:
        """Saved sessions are sign-ins: a backup leaves them out unless the user says otherwise."""
        n = len(SessionStore(self.store().root).list())
        if not n:
            return False
        box = QMessageBox(QMessageBox.Icon.Question, "Export backup",
                          f"The library holds {n} saved session(s) — live sign-ins to the sites you recorded. "
                          "Anyone with the backup could use them.\n\nInclude them in the backup?",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self.window)
        box.setObjectName("includeSessions")
        box.setDefaultButton(QMessageBox.StandardButton.No)
        return box.exec() == QMessageBox.StandardButton.Yes

    def export(self, path: Path, *, include_sessions: bool = False) -> Op[Path]:
        self.save_now()
        store = self.store()

        async def op_fn(on_progress: Any, cancel: Any) -> Path:
            return await asyncio.to_thread(export_backup, store, path, include_sessions=include_sessions)

        op: Op[Path] = Op(self.window, op_fn, title="Export backup", view=self.view, cancellable=False)
        op.success(lambda p: self.message.emit(f"Backup written to {p}"))
        op.run()
        return op

    def choose_restore(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self.window, "Restore backup", str(Path.home()), "Backup (*.zip)")
        if not name:
            return
        if QMessageBox.question(self.window, "Restore backup", "Replace the library and all projects with the "
                                "backup's? The current data folder is kept beside it.") \
                != QMessageBox.StandardButton.Yes:
            return
        self.restore(Path(name))

    def restore(self, path: Path) -> None:
        self.save_now()
        old = self.store()
        root = old.root
        old.close()
        try:
            kept = restore_backup(path, root)
        except StorageError as exc:
            self.restored.emit(Store(root), None)
            show_error(self.window, "Restore backup", exc)
            return
        self.restored.emit(Store(root), kept)
