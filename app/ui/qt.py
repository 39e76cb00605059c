"""The one place Reelwright imports Qt (as qutebrowser does): every other ``app.ui`` module imports
the names it needs from here, so a Qt binding change or a missing module shows up in one file.

QtMultimedia comes from ``pyside6-addons``; when it is missing the player and the voice preview are
disabled instead of the whole app failing (``HAVE_MULTIMEDIA``).
"""


from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractListModel,
    QAbstractTableModel,
    QBuffer,
    QByteArray,
    QEvent,
    QIODevice,
    QItemSelectionModel,
    QLibraryInfo,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QPointF,
    QProcess,
    QRectF,
    QSize,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    QUrl,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QAccessible,
    QAction,
    QCloseEvent,
    QColor,
    QDesktopServices,
    QDragEnterEvent,
    QDropEvent,
    QFont,
    QFontDatabase,
    QGuiApplication,
    QIcon,
    QImage,
    QImageReader,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPalette,
    QPen,
    QPixmap,
    QShortcut,
    QSyntaxHighlighter,
    QTextCharFormat,
    QUndoCommand,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QStatusBar,
    QStyle,
    QStyledItemDelegate,
    QSystemTrayIcon,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextBrowser,
    QTextEdit,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

#: loaded on first use, not at start-up (QtMultimedia pulls in QtNetwork and the FFmpeg backend;
#: QtTest is for tests and benchmarks): ``qt.QMediaPlayer`` imports it then
_LAZY = {
    "QAudioOutput": "PySide6.QtMultimedia",
    "QDBusConnection": "PySide6.QtDBus",  # only to find the file manager for "Reveal in file manager"
    "QMediaFormat": "PySide6.QtMultimedia",
    "QMediaPlayer": "PySide6.QtMultimedia",
    "QVideoSink": "PySide6.QtMultimedia",
    "QVideoWidget": "PySide6.QtMultimediaWidgets",
    "QTest": "PySide6.QtTest",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def stop_player(player: Any) -> None:
    """``player.stop()`` without holding Python's GIL, as PySide6 already does for ``setSource``.

    ``QMediaPlayer.stop()`` waits for Qt Multimedia's decoder and audio threads, and those threads
    call back into the Python-made ``QAudioOutput`` (its ``disconnectNotify``, when a renderer on the
    audio thread is deleted), which needs the GIL.  Called from Python, ``stop()`` holds the GIL while
    it waits: both sides wait for ever.  The Qt tests hung there once, closing the window while a card
    preview played (a gdb backtrace showed the GUI thread in ``QObject::disconnect`` under ``stop()``,
    the ``QFFmpeg::AudioRenderer`` thread in ``~QObject`` waiting for the GIL).
    ``QMetaObject.invokeMethod`` releases the GIL around the call (PySide's typesystem marks it
    ``allow-thread``); with ``DirectConnection`` it is still a synchronous call on this thread.
    """
    QtCore.QMetaObject.invokeMethod(player, "stop", Qt.ConnectionType.DirectConnection)


def release_player(player: Any) -> None:
    """Stop ``player`` (see :func:`stop_player`) and let go of its file: the file may then be
    replaced or deleted, and no decoder thread of it posts frames to a window that is going away."""
    stop_player(player)
    player.setSource(QUrl())  # PySide6 releases the GIL here itself (``allow-thread``)


def have_multimedia() -> bool:
    """Whether Qt Multimedia (``pyside6-addons``) is installed; cheap, imports nothing."""
    try:
        return importlib.util.find_spec("PySide6.QtMultimedia") is not None
    except (ImportError, ValueError):  # pragma: no cover
        return False

QT_VERSION = QtCore.qVersion()

__all__ = [
    "QT_VERSION",
    "QAbstractButton",
    "QAbstractItemModel",
    "QAbstractItemView",
    "QAbstractListModel",
    "QAbstractSpinBox",
    "QAbstractTableModel",
    "QAccessible",
    "QAction",
    "QApplication",
    "QBuffer",
    "QByteArray",
    "QCheckBox",
    "QCloseEvent",
    "QColor",
    "QColorDialog",
    "QComboBox",
    "QDesktopServices",
    "QDialog",
    "QDialogButtonBox",
    "QDockWidget",
    "QDoubleSpinBox",
    "QDragEnterEvent",
    "QDropEvent",
    "QEvent",
    "QFileDialog",
    "QFont",
    "QFontDatabase",
    "QFormLayout",
    "QFrame",
    "QGridLayout",
    "QGroupBox",
    "QGuiApplication",
    "QHBoxLayout",
    "QHeaderView",
    "QIODevice",
    "QIcon",
    "QImage",
    "QImageReader",
    "QInputDialog",
    "QItemSelectionModel",
    "QKeyEvent",
    "QKeySequence",
    "QLabel",
    "QLibraryInfo",
    "QLineEdit",
    "QListView",
    "QListWidget",
    "QListWidgetItem",
    "QMainWindow",
    "QMenu",
    "QMessageBox",
    "QMimeData",
    "QModelIndex",
    "QMouseEvent",
    "QObject",
    "QPainter",
    "QPalette",
    "QPen",
    "QPersistentModelIndex",
    "QPixmap",
    "QPlainTextEdit",
    "QPoint",
    "QPointF",
    "QProcess",
    "QProgressBar",
    "QPushButton",
    "QRectF",
    "QScrollArea",
    "QShortcut",
    "QSize",
    "QSizePolicy",
    "QSlider",
    "QSortFilterProxyModel",
    "QSpinBox",
    "QSplitter",
    "QStackedWidget",
    "QStatusBar",
    "QStyle",
    "QStyledItemDelegate",
    "QSyntaxHighlighter",
    "QSystemTrayIcon",
    "QTabWidget",
    "QTableView",
    "QTableWidget",
    "QTableWidgetItem",
    "QTextBrowser",
    "QTextCharFormat",
    "QTextEdit",
    "QTimer",
    "QToolBar",
    "QToolButton",
    "QUndoCommand",
    "QUndoStack",
    "QUrl",
    "QVBoxLayout",
    "QWidget",
    "Qt",
    "QtCore",
    "QtGui",
    "QtWidgets",
    "Signal",
    "Slot",
    "have_multimedia",
    "stop_player",
]
