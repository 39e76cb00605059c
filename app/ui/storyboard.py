"""The storyboard in the card list: per card a thumbnail (from the last check or render) and a bar of
its planned length split into narration (blue) and actions (orange), with its share of the script;
the script's total above the list.  Re-planned (pure, estimated voices) a moment after each edit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.workbench.storyboard import Storyboard, fmt_length, plan_storyboard, thumbnail_path

from .document import CardIdRole, ScriptDocument
from .qt import (
    QColor,
    QLabel,
    QListView,
    QModelIndex,
    QObject,
    QPainter,
    QPen,
    QPersistentModelIndex,
    QPixmap,
    QRectF,
    QSize,
    QStyle,
    QStyledItemDelegate,
    Qt,
    QTimer,
    Signal,
)
from .timeline_strip import ACTION, NARRATION

AnyIndex = QModelIndex | QPersistentModelIndex

#: how long typing pauses before the storyboard is planned again
REPLAN_DELAY_MS = 250
THUMB_W, THUMB_H = 96, 54
ROW_H = THUMB_H + 10


class StoryboardState(QObject):
    """The planned lengths and thumbnails the card list draws; the total shown above it."""

    updated = Signal()

    def __init__(self, doc: ScriptDocument, view: QListView, total: QLabel) -> None:
        super().__init__(view)
        self.doc, self.view, self.total = doc, view, total
        self.board: Storyboard | None = None
        self.stale = False  # the script does not validate: the bars are from its last valid state
        self.folder: Path | None = None
        self._pixmaps: dict[str, tuple[int, QPixmap]] = {}
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(REPLAN_DELAY_MS)
        self.timer.timeout.connect(self.replan)
        self._reset = False
        doc.cards.modelReset.connect(self._model_reset)
        doc.changed.connect(self._changed)

    def _model_reset(self) -> None:
        self._reset = True  # a new script: plan it at once (once it is validated), not after a pause

    def _changed(self) -> None:
        if self._reset:
            self._reset = False
            self.replan()
        else:
            self.timer.start()

    def replan(self) -> None:
        self.timer.stop()
        script = self.doc.script
        if script is not None and script.cards:
            self.board, self.stale = plan_storyboard(script, self.doc.measured), False
        elif not self.doc.cards.rowCount():
            self.board, self.stale = None, False
        else:
            self.stale = self.board is not None
        self._show_total()
        self.view.viewport().update()
        self.updated.emit()

    def _show_total(self) -> None:
        if self.board is None:
            self.total.setText("")
            self.total.setToolTip("")
            return
        n = len(self.board.cards)
        text = f"Total ≈ {fmt_length(self.board.total_s)} · {n} card{'s' if n != 1 else ''}"
        if self.stale:
            text += " (fix the script to update)"
        self.total.setText(text)
        tip = "Planned length of the video with estimated voices (measured where the voice is known)"
        parts = [f"{label} {fmt_length(length)}" for label, length in
                 (("intro", self.board.intro_s), ("outro", self.board.outro_s)) if length > 0]
        if parts:
            tip += ", including the " + " and the ".join(parts)
        self.total.setToolTip(tip)

    # -- thumbnails

    def set_folder(self, folder: Path | None) -> None:
        self.folder = folder
        self.reload_thumbnails()

    def reload_thumbnails(self) -> None:
        self._pixmaps.clear()
        self.view.viewport().update()

    def thumbnail(self, card_id: str) -> QPixmap | None:
        path = thumbnail_path(self.folder, card_id) if self.folder is not None else None
        if path is None:
            return None
        try:
            stamp = path.stat().st_mtime_ns
        except OSError:
            return None
        cached = self._pixmaps.get(card_id)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        pm = QPixmap(str(path))
        if pm.isNull():
            return None
        pm = pm.scaled(THUMB_W, THUMB_H, Qt.AspectRatioMode.KeepAspectRatio,
                       Qt.TransformationMode.SmoothTransformation)
        self._pixmaps[card_id] = (stamp, pm)
        return pm

    def has_thumbnail(self, card_id: str) -> bool:
        return self.thumbnail(card_id) is not None

    def describe(self, card_id: str) -> str:
        bar = self.board.bar(card_id) if self.board is not None else None
        if bar is None:
            return ""
        how = "measured voice" if bar.measured else "estimated voice"
        return (f"{fmt_length(bar.length_s)} · {bar.share:.0%} — narration {bar.narration_s:.1f} s ({how}), "
                f"actions {bar.actions_s:.1f} s")


class StoryboardDelegate(QStyledItemDelegate):
    """Draws a card row: '3. title · n actions', its thumbnail and its length bar."""

    def __init__(self, state: StoryboardState) -> None:
        super().__init__(state.view)
        self.state = state

    def sizeHint(self, option: Any, index: AnyIndex) -> QSize:
        base = super().sizeHint(option, index)
        return QSize(base.width(), max(base.height(), ROW_H))

    def paint(self, painter: QPainter, option: Any, index: AnyIndex) -> None:
        self.initStyleOption(option, index)
        text = f"{index.row() + 1}. {option.text}"
        option.text = ""
        widget = option.widget
        style = widget.style() if widget is not None else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, widget)
        r = option.rect
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        pal = option.palette
        card_id = str(index.data(CardIdRole) or "")
        painter.save()
        # thumbnail (or an empty frame saying there is none yet)
        box = QRectF(r.left() + 4, r.top() + 5, THUMB_W, THUMB_H)
        pm = self.state.thumbnail(card_id)
        if pm is not None:
            x = box.left() + (THUMB_W - pm.width()) / 2
            y = box.top() + (THUMB_H - pm.height()) / 2
            painter.drawPixmap(int(x), int(y), pm)
        else:
            painter.setPen(QPen(QColor("#b0b7c3"), 1, Qt.PenStyle.DashLine))
            painter.drawRect(box.adjusted(0.5, 0.5, -0.5, -0.5))
            painter.setPen(QColor("#8a93a3"))
            small = painter.font()
            small.setPointSizeF(max(6.0, small.pointSizeF() * 0.8))
            painter.setFont(small)
            painter.drawText(box, int(Qt.AlignmentFlag.AlignCenter), "check or\nrender")
            painter.setFont(option.font)
        # title line
        fg = index.data(Qt.ItemDataRole.ForegroundRole)
        color = pal.highlightedText().color() if selected else (fg if isinstance(fg, QColor) else pal.text().color())
        painter.setPen(color)
        left = box.right() + 8
        width = max(10.0, r.right() - left - 6)
        fm = painter.fontMetrics()
        line_h = fm.height()
        painter.drawText(QRectF(left, r.top() + 4, width, line_h),
                         int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                         fm.elidedText(text, Qt.TextElideMode.ElideRight, int(width)))
        # the bar: width ∝ this card's length against the longest card; narration over actions
        board = self.state.board
        bar = board.bar(card_id) if board is not None else None
        if bar is not None and board is not None:
            bar_top = r.top() + 6 + line_h
            full = width * 0.72
            scale = full / max(board.longest_s, 0.001)
            length_w = max(2.0, bar.length_s * scale)
            track = QColor("#ffffff" if selected else "#e6e9ee")
            track.setAlpha(110 if selected else 255)
            painter.fillRect(QRectF(left, bar_top, length_w, 14), track)
            painter.fillRect(QRectF(left, bar_top + 1, max(1.0, bar.narration_s * scale), 6), QColor(NARRATION))
            if bar.actions_s > 0:
                painter.fillRect(QRectF(left + bar.actions_from_s * scale, bar_top + 8,
                                        max(1.5, bar.actions_s * scale), 5), QColor(ACTION))
            label = f"{fmt_length(bar.length_s)} · {bar.share:.0%}"
            if self.state.stale:
                label += " ?"
            painter.setPen(color)
            small = painter.font()
            small.setPointSizeF(max(6.0, small.pointSizeF() * 0.85))
            painter.setFont(small)
            painter.drawText(QRectF(left, bar_top + 15, width, line_h),
                             int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), label)
        painter.restore()
