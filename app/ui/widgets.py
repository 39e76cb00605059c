"""Small reusable widgets: the status-bar op progress, numbered list rows, code highlighting, log panel."""

from __future__ import annotations

import contextlib
import logging
import re
from typing import Any

from app.core.infra.progress import Progress

from .ops import Op, describe_progress
from .qt import (
    QColor,
    QFont,
    QFontDatabase,
    QHBoxLayout,
    QKeyEvent,
    QLabel,
    QListView,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QStyledItemDelegate,
    QSyntaxHighlighter,
    Qt,
    QTextCharFormat,
    QWidget,
    Signal,
)


class OpBar(QWidget):
    """Status-bar progress for background ops: a label, a bar and Cancel (hidden when idle)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(220)
        self.bar.setRange(0, 1000)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("opCancel")
        lay.addWidget(self.label)
        lay.addWidget(self.bar)
        lay.addWidget(self.cancel_button)
        self._ops: list[Op[Any]] = []
        self.cancel_button.clicked.connect(self._cancel)
        self.setVisible(False)

    def _cancel(self) -> None:
        if self._ops:
            self._ops[-1].cancel()

    def op_started(self, op: Op[Any]) -> None:
        self._ops.append(op)
        self.label.setText(f"{op.title}…")
        self.bar.setRange(0, 0)  # busy until the first progress event
        self.cancel_button.setVisible(op.cancellable)
        self.setVisible(True)

    def op_progress(self, op: Op[Any], p: Progress) -> None:
        if not self._ops or op is not self._ops[-1]:
            return
        self.bar.setRange(0, 1000)
        frac = p.overall if p.overall is not None else p.fraction
        self.bar.setValue(int(frac * 1000))
        self.label.setText(f"{op.title}: {describe_progress(p)}")

    def op_finished(self, op: Op[Any]) -> None:
        if op in self._ops:
            self._ops.remove(op)
        if self._ops:
            self.label.setText(f"{self._ops[-1].title}…")
        else:
            self.setVisible(False)


AnyIndex = QModelIndex | QPersistentModelIndex


class NumberedDelegate(QStyledItemDelegate):
    """Draws '3. name': the position is a property of the view, not of the item."""

    def initStyleOption(self, option: Any, index: AnyIndex) -> None:
        super().initStyleOption(option, index)
        option.text = f"{index.row() + 1}. {option.text}"


class CodeHighlighter(QSyntaxHighlighter):
    """Keyword/string/comment highlighting for Python, JS/TS and Markdown previews (display only)."""

    _KEYWORDS: tuple[str, ...] = (
        "and", "as", "async", "await", "break", "class", "const", "def", "else", "elif", "except", "export",
        "false", "False", "finally", "for", "from", "function", "if", "import", "in", "is", "let", "new",
        "None", "not", "null", "of", "or", "pass", "raise", "return", "self", "test", "this", "true", "True",
        "try", "type", "var", "while", "with", "yield", "expect", "page",
    )

    def __init__(self, document: Any, language: str) -> None:
        super().__init__(document)
        self.language = language
        kw = QTextCharFormat()
        kw.setForeground(QColor("#c678dd"))
        kw.setFontWeight(QFont.Weight.Bold)
        string = QTextCharFormat()
        string.setForeground(QColor("#98c379"))
        comment = QTextCharFormat()
        comment.setForeground(QColor("#7f848e"))
        comment.setFontItalic(True)
        heading = QTextCharFormat()
        heading.setForeground(QColor("#61afef"))
        heading.setFontWeight(QFont.Weight.Bold)
        self.rules: list[tuple[re.Pattern[str], QTextCharFormat]] = []
        if language == "markdown":
            self.rules.append((re.compile(r"^#{1,6} .*$"), heading))
            self.rules.append((re.compile(r"`[^`]*`"), string))
        else:
            self.rules.append((re.compile(r"\b(" + "|".join(self._KEYWORDS) + r")\b"), kw))
            strings = r"\"[^\"\\]*(\\.[^\"\\]*)*\"|'[^'\\]*(\\.[^'\\]*)*'|`[^`]*`"
            self.rules.append((re.compile(strings), string))
            self.rules.append((re.compile(r"#.*$" if language == "python" else r"//.*$"), comment))

    def highlightBlock(self, text: str) -> None:
        for pattern, fmt in self.rules:
            for m in pattern.finditer(text):
                self.setFormat(m.start(), m.end() - m.start(), fmt)


def monospace() -> QFont:
    return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)


class _LogBridge(QObject):
    line = Signal(str)


class QtLogHandler(logging.Handler):
    """Feeds log records to the log panel (thread-safe via a queued signal)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.bridge = _LogBridge()
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(RuntimeError):  # the panel is gone (app closing)
            self.bridge.line.emit(self.format(record))


class LogPanel(QPlainTextEdit):
    """'Show log' for support: the app's log lines, read-only, newest at the bottom."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setMaximumBlockCount(5000)
        self.setFont(monospace())
        self.handler = QtLogHandler()
        self.handler.bridge.line.connect(self.appendPlainText)
        logging.getLogger().addHandler(self.handler)
        if logging.getLogger().level > logging.INFO or logging.getLogger().level == logging.NOTSET:
            logging.getLogger().setLevel(logging.INFO)

    def detach(self) -> None:
        logging.getLogger().removeHandler(self.handler)


class ReorderListView(QListView):
    """A list whose rows move with Ctrl+Up / Ctrl+Down and are removed with Delete (keyboard reordering
    alongside drag and drop); the owner does the actual move through its model or document."""

    move_requested = Signal(int)  # -1 up, +1 down
    remove_requested = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        ctrl = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if ctrl and event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            self.move_requested.emit(-1 if event.key() == Qt.Key.Key_Up else 1)
            event.accept()
            return
        if event.key() == Qt.Key.Key_Delete and not event.modifiers():
            self.remove_requested.emit()
            event.accept()
            return
        super().keyPressEvent(event)
