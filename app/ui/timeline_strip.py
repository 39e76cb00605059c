"""The timeline strip under the player: one segment per card (its title), the narration clip inside
it, a tick per action, and the play head.  Clicking seeks; Left/Right jump between cards; Home/End go
to the ends.  The layout math is :class:`app.workbench.storyboard.StripLayout` (unit tested)."""

from __future__ import annotations

from typing import Any

from app.core.plan.sidecar import VideoTimeline
from app.workbench.storyboard import StripLayout, card_at, step_card

from .qt import (
    QColor,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPen,
    QRectF,
    QSize,
    QSizePolicy,
    Qt,
    QWidget,
    Signal,
)

#: segment fills, alternating so neighbouring cards stay apart; narration and action colours
CARD_FILLS = ("#e8eef7", "#dde6f3")
BUMPER_FILL = "#eceff1"
NARRATION = "#4a90d9"
ACTION = "#e67e22"
HEAD = "#c0392b"


def _fmt(t: float) -> str:
    s = max(0, int(t))
    return f"{s // 60}:{s % 60:02d}"


class TimelineStrip(QWidget):
    """Paints a :class:`VideoTimeline`; emits :attr:`seek_requested` (seconds) on click or key."""

    seek_requested = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("timelineStrip")
        self.setAccessibleName("Timeline")
        self.setToolTip("Cards, narration (blue) and actions (orange) of the video: click to jump there; "
                        "Left / Right move between cards")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(self.sizeHint().height())
        self.timeline = VideoTimeline(0.0, ())
        self.position_s = 0.0
        self._describe()

    def sizeHint(self) -> QSize:
        return QSize(400, 46)

    def minimumSizeHint(self) -> QSize:
        return QSize(120, 46)

    # -- data

    def set_timeline(self, timeline: VideoTimeline) -> None:
        self.timeline = timeline
        self.position_s = 0.0
        self._describe()
        self.update()

    def set_position(self, seconds: float) -> None:
        if abs(seconds - self.position_s) > 1e-3:
            before = self.current_card()
            self.position_s = seconds
            if self.current_card() != before:
                self._describe()
            self.update()

    def layout_(self) -> StripLayout:
        return StripLayout(self.timeline.duration_s, self.width())

    def current_card(self) -> int:
        return card_at(self.timeline, self.position_s)

    def _describe(self) -> None:
        n = len(self.timeline.cards)
        if not n:
            self.setAccessibleDescription("No video yet")
            return
        i = self.current_card()
        card = self.timeline.cards[i] if i >= 0 else None
        if card is None:
            here = ""
        elif card.script_index is None:
            here = f"; at {card.title}"
        else:
            here = f"; at card {card.script_index + 1}, {card.title}"
        self.setAccessibleDescription(f"{n} cards over {_fmt(self.timeline.duration_s)}{here}")

    # -- input

    def seek(self, seconds: float) -> None:
        self.set_position(seconds)
        self.seek_requested.emit(seconds)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.timeline.cards:
            self.setFocus(Qt.FocusReason.MouseFocusReason)
            self.seek(self.layout_().t_of(event.position().x()))
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton and self.timeline.cards:
            self.seek(self.layout_().t_of(event.position().x()))
            event.accept()
            return
        super().mouseMoveEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        cards = self.timeline.cards
        key = event.key()
        if cards and key in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            i = step_card(self.timeline, self.position_s, 1 if key == Qt.Key.Key_Right else -1)
            self.seek(cards[i].start_s)
        elif cards and key == Qt.Key.Key_Home:
            self.seek(0.0)
        elif cards and key == Qt.Key.Key_End:
            self.seek(cards[-1].start_s)
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    # -- painting

    def paintEvent(self, event: Any) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        h = self.height()
        pal = self.palette()
        p.fillRect(self.rect(), pal.base())
        lay = self.layout_()
        top, title_h, lane_h = 2.0, 16.0, 8.0
        narr_y = top + title_h + 2
        act_y = narr_y + lane_h + 2
        text_pen = QPen(pal.text().color())
        for i, (card, (x0, x1)) in enumerate(zip(self.timeline.cards, lay.segments(self.timeline.cards),
                                                 strict=True)):
            seg = QRectF(x0, top, max(1.0, x1 - x0), h - 2 * top)
            bumper = card.script_index is None  # an intro or outro card: not in the editor's list
            p.fillRect(seg, QColor(BUMPER_FILL if bumper else CARD_FILLS[i % 2]))
            if card.voice_duration_s > 0:
                v0, v1 = lay.x_of(card.voice_start_s), lay.x_of(card.voice_start_s + card.voice_duration_s)
                p.fillRect(QRectF(v0, narr_y, max(1.0, v1 - v0), lane_h), QColor(NARRATION))
            p.setPen(QPen(QColor(ACTION), 2))
            for a in card.actions:
                ax = lay.x_of(a.fire_s)
                p.drawLine(int(ax), int(act_y), int(ax), int(act_y + lane_h + 4))
            p.setPen(QPen(QColor("#7f8c8d"), 1))
            p.drawLine(int(x0), int(top), int(x0), int(h - top))
            p.setPen(text_pen)
            room = max(0, int(x1 - x0) - 6)
            # numbered as in the card list (intro and outro unnumbered)
            number = "" if bumper else f"{(card.script_index or 0) + 1}"
            full = f"{number}. {card.title}" if number else card.title
            label = p.fontMetrics().elidedText(full, Qt.TextElideMode.ElideRight, room)
            if number and len(label) <= len(number) + 3:  # only "3. …" fits: the number says more
                label = number if p.fontMetrics().horizontalAdvance(number) <= room else ""
            p.drawText(QRectF(x0 + 4, top, max(0.0, x1 - x0 - 6), title_h),
                       int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), label)
        if self.timeline.cards:
            hx = int(lay.x_of(self.position_s))
            p.setPen(QPen(QColor(HEAD), 2))
            p.drawLine(hx, 0, hx, h)
        if self.hasFocus():
            p.setPen(QPen(pal.highlight().color(), 1, Qt.PenStyle.DotLine))
            p.drawRect(self.rect().adjusted(0, 0, -1, -1))
        p.end()
