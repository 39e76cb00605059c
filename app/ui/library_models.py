"""Item models of the library table and the project's ordered file selection."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from app.workbench.storage import LibraryFile

from .qt import (
    QAbstractListModel,
    QAbstractTableModel,
    QByteArray,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)

FILE_IDS_MIME = "application/x-reelwright-file-ids"
PICKED_ROWS_MIME = "application/x-reelwright-picked-rows"

AnyIndex = QModelIndex | QPersistentModelIndex

FileIdRole = Qt.ItemDataRole.UserRole + 1
SortRole = Qt.ItemDataRole.UserRole + 2

KIND_LABELS = {
    "pdf": "PDF",
    "playwright-python": "Playwright (Python)",
    "playwright-js": "Playwright (JS)",
    "playwright-ts": "Playwright (TS)",
    "markdown": "Markdown",
    "text": "Text",
    "image": "Image",
    "audio": "Audio",
}


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


class LibraryModel(QAbstractTableModel):
    """Every library file; the rows shown are those matching the filter, in the chosen sort order.

    Filtering and sorting happen here, in Python over keys computed once per file, rather than in a
    ``QSortFilterProxyModel`` that would call back into Python once per row and keystroke: on a
    10,000-file library a keystroke costs one list comprehension and one model reset.
    """

    COLUMNS = ("Name", "Kind", "Size", "Tags", "Added")

    def __init__(self, files: Sequence[LibraryFile] = (), parent: Any = None) -> None:
        super().__init__(parent)
        self._all: list[LibraryFile] = list(files)
        self._keys: list[str] = [f.search_key for f in self._all]
        self._rows: list[int] = list(range(len(self._all)))  # indices into _all, in display order
        self._words: list[str] = []
        self._missing: set[int] = set()
        self._sort: tuple[int, Qt.SortOrder] | None = None

    # -- contents

    def set_files(self, files: Iterable[LibraryFile], missing: Iterable[int] = ()) -> None:
        self.beginResetModel()
        self._all = list(files)
        self._keys = [f.search_key for f in self._all]
        self._missing = set(missing)
        self._sort_all()
        self._rows = self._matching(range(len(self._all)))
        self.endResetModel()

    def set_missing(self, ids: Iterable[int]) -> None:
        self._missing = set(ids)
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, len(self.COLUMNS) - 1))

    def add_files(self, files: Sequence[LibraryFile]) -> None:
        if not files:
            return
        first = len(self._all)
        self._all.extend(files)
        self._keys.extend(f.search_key for f in files)
        shown = self._matching(range(first, len(self._all)))
        if shown:
            at = len(self._rows)
            self.beginInsertRows(QModelIndex(), at, at + len(shown) - 1)
            self._rows.extend(shown)
            self.endInsertRows()

    def remove_ids(self, ids: Iterable[int]) -> list[LibraryFile]:
        wanted = set(ids)
        removed = [f for f in self._all if f.id in wanted]
        if not removed:
            return []
        for row in range(len(self._rows) - 1, -1, -1):
            if self._all[self._rows[row]].id in wanted:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._rows[row]
                self.endRemoveRows()
        # renumber the remaining rows' indices into the shortened list (no visible change)
        keep = [i for i, f in enumerate(self._all) if f.id not in wanted]
        new_index = {old: new for new, old in enumerate(keep)}
        self._all = [self._all[i] for i in keep]
        self._keys = [self._keys[i] for i in keep]
        self._rows = [new_index[i] for i in self._rows]
        return removed

    def update_file(self, file: LibraryFile) -> None:
        for i, f in enumerate(self._all):
            if f.id == file.id:
                self._all[i] = file
                self._keys[i] = file.search_key
                if i in self._rows:
                    row = self._rows.index(i)
                    self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.COLUMNS) - 1))
                return

    def file_at(self, row: int) -> LibraryFile:
        return self._all[self._rows[row]]

    def file_by_id(self, file_id: int) -> LibraryFile | None:
        return next((f for f in self._all if f.id == file_id), None)

    def files(self) -> list[LibraryFile]:
        """Every file in the library, shown or filtered out."""
        return list(self._all)

    def total(self) -> int:
        return len(self._all)

    # -- filter and sort

    def _matching(self, indices: Iterable[int]) -> list[int]:
        words, keys = self._words, self._keys
        if not words:
            return list(indices)
        return [i for i in indices if all(w in keys[i] for w in words)]

    def set_query(self, text: str) -> None:
        """Show only files whose name, kind or tags contain every word of ``text`` (case-insensitive)."""
        words = text.casefold().split()
        if words == self._words:
            return
        narrowing = bool(self._words) and all(any(o in w for w in words) for o in self._words)
        self._words = words
        # typing more only narrows: search the rows shown, not the whole library
        rows = self._matching(self._rows if narrowing else self._display_order())
        if rows != self._rows:
            self.beginResetModel()
            self._rows = rows
            self.endResetModel()

    def _display_order(self) -> list[int]:
        return list(range(len(self._all)))

    def _sort_all(self) -> None:
        if self._sort is None:
            return
        column, order = self._sort
        keys: dict[int, Callable[[LibraryFile], Any]] = {
            0: lambda f: f.name.casefold(),
            1: lambda f: f.kind,
            2: lambda f: f.size,
            3: lambda f: ",".join(f.tags),
            4: lambda f: f.added,
        }
        key = keys.get(column)
        if key is None:
            return
        pairs = sorted(zip(self._all, self._keys, strict=True), key=lambda p: key(p[0]),
                       reverse=order == Qt.SortOrder.DescendingOrder)
        self._all = [p[0] for p in pairs]
        self._keys = [p[1] for p in pairs]

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.COLUMNS):
            return
        self.layoutAboutToBeChanged.emit()
        before = [self._all[i].id for i in self._rows]
        self._sort = (column, order)
        self._sort_all()
        self._rows = self._matching(range(len(self._all)))
        after = {self._all[i].id: row for row, i in enumerate(self._rows)}
        from_list = self.persistentIndexList()
        to_list = []
        for idx in from_list:
            fid = before[idx.row()] if 0 <= idx.row() < len(before) else None
            row = after.get(fid) if fid is not None else None
            to_list.append(self.index(row, idx.column()) if row is not None else QModelIndex())
        self.changePersistentIndexList(from_list, to_list)
        self.layoutChanged.emit()

    # -- Qt model interface

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(self.COLUMNS):
            return self.COLUMNS[section]
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        f = self._all[self._rows[index.row()]]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole or role == Qt.ItemDataRole.EditRole:
            if col == 0:
                return f.name
            if col == 1:
                return KIND_LABELS.get(f.kind, f.kind)
            if col == 2:
                return human_size(f.size)
            if col == 3:
                return ", ".join(f.tags)
            if col == 4:
                return time.strftime("%Y-%m-%d %H:%M", time.localtime(f.added))
        elif role == FileIdRole:
            return f.id
        elif role == Qt.ItemDataRole.ToolTipRole:
            tip = f"{f.name}\n{KIND_LABELS.get(f.kind, f.kind)}, {human_size(f.size)}\nsha256 {f.sha256[:16]}…"
            if f.id in self._missing:
                tip += "\nThe stored content of this file is missing."
            return tip
        elif role == Qt.ItemDataRole.ForegroundRole and f.id in self._missing:
            from .qt import QColor

            return QColor("#c0392b")
        elif role == Qt.ItemDataRole.TextAlignmentRole and col == 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        fl = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled
        if index.column() == 0:
            fl |= Qt.ItemFlag.ItemIsEditable
        return fl

    #: called for an in-place rename of the Name column: ``on_rename(file, new_name)``
    on_rename: Callable[[LibraryFile, str], None] | None = None

    def setData(self, index: AnyIndex, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or index.column() != 0:
            return False
        f = self.file_at(index.row())
        name = str(value).strip()
        if not name or name == f.name or self.on_rename is None:
            return False
        self.on_rename(f, name)  # the owner stores it and calls update_file
        return True

    def mimeTypes(self) -> list[str]:
        return [FILE_IDS_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        ids = list(dict.fromkeys(int(self.file_at(i.row()).id) for i in indexes if i.isValid()))
        mime = QMimeData()
        mime.setData(FILE_IDS_MIME, QByteArray(json.dumps(ids).encode()))
        return mime

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction


class PickedFilesModel(QAbstractListModel):
    """The project's ordered file selection: the order is what the drafter reads.

    Reordered by drag (internal move), by keyboard (``move_up``/``move_down``) or by ``moveRows``;
    files dragged in from the library are inserted where they are dropped.  Files dropped from the
    file manager are announced with :attr:`paths_dropped` (paths, row): the owner imports them into the
    library first and then inserts them there.
    """

    paths_dropped = Signal(list, int)  # list[Path], row

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._files: list[LibraryFile] = []

    def set_files(self, files: Sequence[LibraryFile]) -> None:
        self.beginResetModel()
        self._files = list(files)
        self.endResetModel()

    def files(self) -> list[LibraryFile]:
        return list(self._files)

    def ids(self) -> list[int]:
        return [f.id for f in self._files]

    def insert_files(self, row: int, files: Sequence[LibraryFile]) -> int:
        """Insert files not already picked at ``row``; returns how many were added."""
        have = set(self.ids())
        new = [f for f in files if f.id not in have]
        if not new:
            return 0
        row = max(0, min(row, len(self._files)))
        self.beginInsertRows(QModelIndex(), row, row + len(new) - 1)
        self._files[row:row] = new
        self.endInsertRows()
        return len(new)

    def append_files(self, files: Sequence[LibraryFile]) -> int:
        return self.insert_files(len(self._files), files)

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._files)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._files):
            return None
        f = self._files[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f.name  # the view's NumberedDelegate draws the position
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{f.name} — {KIND_LABELS.get(f.kind, f.kind)}"
        if role == FileIdRole:
            return f.id
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.ItemIsDropEnabled
        return (Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)

    def removeRows(self, row: int, count: int, parent: AnyIndex = QModelIndex()) -> bool:  # noqa: B008
        if parent.isValid() or row < 0 or count <= 0 or row + count > len(self._files):
            return False
        self.beginRemoveRows(QModelIndex(), row, row + count - 1)
        del self._files[row:row + count]
        self.endRemoveRows()
        return True

    def moveRows(self, source_parent: AnyIndex, source_row: int, count: int,
                 destination_parent: AnyIndex, destination_child: int) -> bool:
        n = len(self._files)
        if source_parent.isValid() or destination_parent.isValid() or count <= 0 \
                or source_row < 0 or source_row + count > n or not 0 <= destination_child <= n \
                or source_row <= destination_child <= source_row + count:
            return False
        if not self.beginMoveRows(QModelIndex(), source_row, source_row + count - 1,
                                  QModelIndex(), destination_child):
            return False
        block = self._files[source_row:source_row + count]
        del self._files[source_row:source_row + count]
        dest = destination_child - count if destination_child > source_row else destination_child
        self._files[dest:dest] = block
        self.endMoveRows()
        return True

    def move_up(self, row: int) -> bool:
        return row > 0 and self.moveRows(QModelIndex(), row, 1, QModelIndex(), row - 1)

    def move_down(self, row: int) -> bool:
        return row < len(self._files) - 1 and self.moveRows(QModelIndex(), row, 1, QModelIndex(), row + 2)

    # -- drag and drop

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction | Qt.DropAction.CopyAction

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [PICKED_ROWS_MIME, FILE_IDS_MIME, "text/uri-list"]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        rows = sorted({i.row() for i in indexes if i.isValid()})
        mime = QMimeData()
        mime.setData(PICKED_ROWS_MIME, QByteArray(json.dumps(rows).encode()))
        return mime

    def canDropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int,
                        parent: AnyIndex) -> bool:
        return (data.hasFormat(PICKED_ROWS_MIME) or data.hasFormat(FILE_IDS_MIME)
                or any(u.isLocalFile() for u in data.urls()))

    #: set by the owner: resolves dropped library ids to files
    resolve_ids: Any = None

    def dropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int,
                     parent: AnyIndex) -> bool:
        dest = row if row >= 0 else (parent.row() if parent.isValid() else len(self._files))
        if data.hasFormat(PICKED_ROWS_MIME):
            rows = json.loads(bytes(data.data(PICKED_ROWS_MIME).data()).decode())
            rows = sorted({r for r in rows if 0 <= r < len(self._files)})
            if len(rows) == 1:
                r = rows[0]
                if dest not in (r, r + 1):
                    self.moveRows(QModelIndex(), r, 1, QModelIndex(), dest)
            elif rows:
                moved = [self._files[r] for r in rows]
                at = dest - sum(1 for r in rows if r < dest)
                self.layoutAboutToBeChanged.emit()
                rest = [f for i, f in enumerate(self._files) if i not in set(rows)]
                self._files = rest[:at] + moved + rest[at:]
                self.layoutChanged.emit()
            # handled here: returning False keeps the view from deleting the "moved" source rows
            return False
        if data.hasFormat(FILE_IDS_MIME) and self.resolve_ids is not None:
            ids = json.loads(bytes(data.data(FILE_IDS_MIME).data()).decode())
            self.insert_files(dest, [f for f in self.resolve_ids(ids) if f is not None])
            return True
        paths = [Path(u.toLocalFile()) for u in data.urls() if u.isLocalFile()]
        if paths:
            self.paths_dropped.emit(paths, dest)
            # imported first, inserted when the import is done: no rows yet
            return False
        return False
