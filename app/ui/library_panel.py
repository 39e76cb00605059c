"""The library: import (button, folder, drag from the file manager), filter as you type, sort, rename,
tag, delete with undo, reveal in the file manager, and preview (PDF page text, code, audio)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from app.workbench import services
from app.workbench.sessions import SessionStore
from app.workbench.storage import ImportReport, LibraryFile, StorageError, Store

from . import qt
from .library_models import LibraryModel
from .ops import Op, ProgressView, show_error
from .qt import (
    QAbstractItemView,
    QDragEnterEvent,
    QDropEvent,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QKeyEvent,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    Qt,
    QTableView,
    QUrl,
    QVBoxLayout,
    QWidget,
    Signal,
)
from .widgets import CodeHighlighter, monospace

_LANG = {"playwright-python": "python", "playwright-js": "js", "playwright-ts": "js", "markdown": "markdown"}


class LibraryTable(QTableView):
    """The library table: Delete removes (undoable), Ctrl+Return adds to the project, F2 renames."""

    delete_requested = Signal()
    add_requested = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        mods = event.modifiers()
        if event.key() == Qt.Key.Key_Delete and not mods:
            self.delete_requested.emit()
        elif event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and mods & Qt.KeyboardModifier.ControlModifier:
            self.add_requested.emit()
        else:
            super().keyPressEvent(event)
            return
        event.accept()


class LibraryPanel(QWidget):
    files_changed = Signal()
    add_to_project = Signal(list)  # list[LibraryFile]
    message = Signal(str)
    record_requested = Signal()

    def __init__(self, store: Store, view: ProgressView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self._view = view
        self._last_deleted: list[LibraryFile] = []
        self.setAcceptDrops(True)

        self.search = QLineEdit()
        self.search.setPlaceholderText("Filter the library (name, kind, tag)…")
        self.search.setClearButtonEnabled(True)
        self.search.setObjectName("librarySearch")
        self.search.setAccessibleName("Search the library")

        self.model = LibraryModel(parent=self)
        self.table = LibraryTable()
        self.table.setObjectName("libraryTable")
        self.table.setAccessibleName("Library files")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(4, Qt.SortOrder.AscendingOrder)
        self.table.setDragEnabled(True)
        self.table.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.setWordWrap(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        # fixed widths: ResizeToContents would measure every row after each filter keystroke
        for col, width in ((1, 104), (2, 62), (3, 60), (4, 130)):
            hh.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            hh.resizeSection(col, width)
        self.table.setColumnHidden(4, True)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.doubleClicked.connect(lambda _i: self.add_to_project.emit(self.selected_files()))

        self.import_button = QPushButton("Import files…")
        self.import_button.setObjectName("importFiles")
        self.folder_button = QPushButton("Import folder…")
        self.add_button = QPushButton("Add to project →")
        self.add_button.setObjectName("addToProject")
        self.add_button.setToolTip("Append the selected files to the project's ordered selection (Ctrl+Return)")
        self.count_label = QLabel()
        self.record_button = QPushButton("● Record…")
        self.record_button.setObjectName("recordFlow")
        self.record_button.setToolTip("Record a flow in a browser window with Playwright's recorder")

        # saved sessions (sign-ins): secrets, so only their names are ever shown
        self.sessions_label = QLabel("Saved sessions (sign-ins)")
        self.sessions_list = QListWidget()
        self.sessions_list.setObjectName("sessionList")
        self.sessions_list.setAccessibleName("Saved sign-in sessions")
        self.sessions_list.setMaximumHeight(72)
        self.sessions_list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.sessions_list.customContextMenuRequested.connect(self._session_menu)
        self.sessions_list.setToolTip("Stored privately in the data folder; contents never shown, and left out "
                                      "of backups unless you include them. Right-click to delete one.")

        self.preview = QPlainTextEdit()
        self.preview.setObjectName("libraryPreview")
        self.preview.setAccessibleName("File preview")
        self.preview.setReadOnly(True)
        self.preview.setFont(monospace())
        self.preview.setPlaceholderText("Select a file to preview it")
        self._highlighter: CodeHighlighter | None = None
        self.play_button = QPushButton("▶ Play audio")
        self.play_button.setVisible(False)
        self._player: Any = None

        top = QHBoxLayout()
        top.addWidget(self.import_button)
        top.addWidget(self.folder_button)
        top.addWidget(self.record_button)
        top.addStretch(1)
        top.addWidget(self.add_button)

        upper = QWidget()
        ul = QVBoxLayout(upper)
        ul.setContentsMargins(0, 0, 0, 0)
        title = QLabel("<b>Library</b>")
        ul.addWidget(title)
        ul.addLayout(top)
        ul.addWidget(self.search)
        ul.addWidget(self.table, 1)
        ul.addWidget(self.count_label)
        ul.addWidget(self.sessions_label)
        ul.addWidget(self.sessions_list)
        lower = QWidget()
        ll = QVBoxLayout(lower)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.preview, 1)
        ll.addWidget(self.play_button)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(upper)
        split.addWidget(lower)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(split)

        self.search.textChanged.connect(self._filter)
        self.import_button.clicked.connect(self.choose_files)
        self.folder_button.clicked.connect(self.choose_folder)
        self.record_button.clicked.connect(self.record_requested.emit)
        self.add_button.clicked.connect(lambda: self.add_to_project.emit(self.selected_files()))
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._show_preview())
        self.model.on_rename = self.rename
        self.table.delete_requested.connect(self.delete_selected)
        self.table.add_requested.connect(lambda: self.add_to_project.emit(self.selected_files()))

    # -- contents

    def reload(self) -> None:
        """Show the library's entries (one SQL query; the files themselves are checked later)."""
        self.model.set_files(self.store.list_files())
        self._update_count()
        self.reload_sessions()
        self.files_changed.emit()

    def reload_sessions(self) -> None:
        self.sessions_list.clear()
        for s in SessionStore(self.store.root).list():
            item = QListWidgetItem(f"🔒 {s.name} · saved {s.saved_text}")
            item.setToolTip(s.masked())
            item.setData(Qt.ItemDataRole.UserRole, s.name)
            self.sessions_list.addItem(item)
        n = self.sessions_list.count()
        self.sessions_label.setVisible(n > 0)
        self.sessions_list.setVisible(n > 0)

    def _session_menu(self, pos: Any) -> None:
        item = self.sessions_list.itemAt(pos)
        if item is None:
            return
        name = str(item.data(Qt.ItemDataRole.UserRole))
        menu = QMenu(self)
        menu.addAction(f"Delete the session “{name}”…", lambda: self.delete_session(name))
        menu.popup(self.sessions_list.viewport().mapToGlobal(pos))

    def delete_session(self, name: str, confirm: bool = True) -> None:
        from .qt import QMessageBox

        if confirm and QMessageBox.question(
                self, "Delete session", f"Delete the saved session “{name}”? Scripts that use it will need a "
                "new recording to sign in.") != QMessageBox.StandardButton.Yes:
            return
        SessionStore(self.store.root).delete(name)
        self.reload_sessions()
        self.message.emit(f"Deleted the session “{name}”")

    def check_files(self) -> Op[Any]:
        """In the background: drop what earlier sessions deleted, then find entries whose stored content
        vanished (shown in red and reported, never deleted)."""
        files = self.model.files()

        async def op_fn(on_progress: Any, cancel: Any) -> set[int]:
            def work() -> set[int]:
                self.store.purge_deleted()
                return {f.id for f in self.store.check_blobs(files)}

            return await asyncio.to_thread(work)

        def checked(missing: set[int]) -> None:
            if missing:
                self.model.set_missing(missing)
                self.message.emit(f"{len(missing)} library file(s) have lost their stored content; shown in red")

        op = Op(self, op_fn, title="Library check", cancellable=False)
        op.success(checked)
        op.run()
        return op

    def _update_count(self) -> None:
        total = self.model.total()
        shown = self.model.rowCount()
        noun = "file" if total == 1 else "files"
        self.count_label.setText(f"{total} {noun}" if shown == total else f"{shown} of {total} {noun}")

    def _filter(self, text: str) -> None:
        self.model.set_query(text)
        self._update_count()

    def selected_files(self) -> list[LibraryFile]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.model.file_at(r) for r in rows]

    def files_by_ids(self, ids: list[int]) -> list[LibraryFile | None]:
        by_id = {f.id: f for f in self.model.files()}
        return [by_id.get(i) for i in ids]

    # -- import

    def choose_files(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(self, "Import files into the library", str(Path.home()),
                                                "Supported files (*.pdf *.py *.js *.ts *.mjs *.md *.markdown "
                                                "*.txt *.png *.jpg *.jpeg *.gif *.webp *.svg *.wav *.mp3 *.ogg "
                                                "*.flac *.m4a);;All files (*)")
        if names:
            self.import_paths([Path(n) for n in names])

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Import a folder into the library", str(Path.home()))
        if folder:
            self.import_paths([Path(folder)])

    def import_paths(self, paths: list[Path]) -> Op[Any]:
        op = Op(self, services.import_files(self.store, paths), title="Import", trigger=self.import_button,
                view=self._view)
        op.success(self._imported)
        op.run()
        return op

    def _imported(self, report: ImportReport) -> None:
        self.model.add_files(report.imported)
        self._update_count()
        self.files_changed.emit()
        self.message.emit(f"Import: {report.summary()}")
        if report.skipped:
            from .qt import QMessageBox

            lines = "\n".join(f"{Path(p).name}: {why}" for p, why in report.skipped[:30])
            more = f"\n… and {len(report.skipped) - 30} more" if len(report.skipped) > 30 else ""
            box = QMessageBox(QMessageBox.Icon.Information, "Some files were not imported",
                              f"{report.summary()}.\n\n{lines}{more}", QMessageBox.StandardButton.Ok, self)
            box.setObjectName("importReport")
            box.setModal(False)
            box.show()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.import_paths(paths)

    # -- edit

    def _context_menu(self, pos: Any) -> None:
        files = self.selected_files()
        if not files:
            return
        menu = QMenu(self)
        menu.addAction("Add to project", lambda: self.add_to_project.emit(files))
        menu.addSeparator()
        menu.addAction("Rename…", self.rename_selected).setEnabled(len(files) == 1)
        menu.addAction("Tags…", self.tag_selected)
        menu.addAction("Reveal in file manager", self.reveal_selected)
        menu.addSeparator()
        menu.addAction("Delete", self.delete_selected)
        menu.popup(self.table.viewport().mapToGlobal(pos))

    def rename_selected(self) -> None:
        idx = self.table.currentIndex()
        if idx.isValid():
            self.table.edit(self.model.index(idx.row(), 0))

    def rename(self, file: LibraryFile, name: str) -> None:
        try:
            self.store.rename_file(file.id, name)
        except StorageError as exc:
            show_error(self, "Rename", exc)
            return
        updated = self.store.get_file(file.id)
        if updated:
            self.model.update_file(updated)
            self.files_changed.emit()

    def tag_selected(self) -> None:
        files = self.selected_files()
        if not files:
            return
        current = ", ".join(sorted({t for f in files for t in f.tags}))
        text, ok = QInputDialog.getText(self, "Tags", "Tags (comma-separated):", text=current)
        if ok:
            self.set_tags(files, [t for t in text.split(",")])

    def set_tags(self, files: list[LibraryFile], tags: list[str]) -> None:
        for f in files:
            self.store.set_tags(f.id, tags)
            updated = self.store.get_file(f.id)
            if updated:
                self.model.update_file(updated)

    def delete_selected(self) -> None:
        files = self.selected_files()
        if files:
            self.delete(files)

    def delete(self, files: list[LibraryFile]) -> None:
        self.store.delete_files([f.id for f in files])
        self.model.remove_ids([f.id for f in files])
        self._last_deleted = files
        self._update_count()
        self.files_changed.emit()
        self.message.emit(f"Deleted {len(files)} file(s) — Edit › Undo delete (Ctrl+Shift+Z) brings them back")

    def undo_delete(self) -> None:
        if not self._last_deleted:
            return
        self.store.restore_files([f.id for f in self._last_deleted])
        self.model.add_files(self._last_deleted)
        self.message.emit(f"Restored {len(self._last_deleted)} file(s)")
        self._last_deleted = []
        self._update_count()
        self.files_changed.emit()

    def reveal_selected(self) -> None:
        from .reveal import reveal

        for f in self.selected_files()[:1]:
            if not reveal(self.store.blob_path(f.sha256)):
                self.message.emit(f"{f.name}: the library's copy is missing")

    # -- preview

    @property
    def player(self) -> Any:
        """The preview's media player (None until the first audio or video preview)."""
        return self._player

    def _show_preview(self) -> None:
        files = self.selected_files()
        if self._player is not None:
            qt.stop_player(self._player)
        self.play_button.setVisible(False)
        if len(files) != 1:
            self.preview.setPlainText("")
            return
        f = files[0]
        if self._highlighter is not None:
            self._highlighter.setDocument(None)
            self._highlighter = None
        if f.kind in ("image", "audio"):
            kind = "an image" if f.kind == "image" else "audio"
            self.preview.setPlainText(f"{f.name}\n{kind}, {f.size} bytes")
            if f.kind == "audio" and qt.have_multimedia():
                self.play_button.setVisible(True)
                with contextlib.suppress(RuntimeError, TypeError):  # nothing connected yet
                    self.play_button.clicked.disconnect()
                self.play_button.clicked.connect(lambda: self.play_audio(f))
            return
        lang = _LANG.get(f.kind)
        if lang:
            self._highlighter = CodeHighlighter(self.preview.document(), lang)
        op = Op(self, services.preview_text(self.store, f), title="Preview", cancellable=False)
        op.success(self.preview.setPlainText)
        op.failure(self._preview_failed)
        op.run()

    def _preview_failed(self, exc: BaseException) -> bool:
        self.preview.setPlainText(str(exc))
        return True  # shown in the preview itself, no dialog

    def play_audio(self, f: LibraryFile) -> None:
        if self._player is None:
            self._player = qt.QMediaPlayer(self)
            self._audio = qt.QAudioOutput(self)
            self._player.setAudioOutput(self._audio)
        self._player.setSource(QUrl.fromLocalFile(str(self.store.blob_path(f.sha256))))
        self._player.play()
