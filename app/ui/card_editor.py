"""The script card editor: the card list (drag to reorder) and the selected card's title, narration
(word count, estimated then measured duration), actions, voice preview, 'check in browser' and the
inline card preview (the card alone, rendered small and played under the narration)."""

from __future__ import annotations

from typing import Any

from app.core.script import ACTION_TYPES, plain_narration

from .card_preview import CardPreview
from .document import ActionsModel, ScriptDocument, estimate_seconds, word_count
from .qt import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QModelIndex,
    QPersistentModelIndex,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStyledItemDelegate,
    Qt,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
    Signal,
)
from .storyboard import StoryboardDelegate, StoryboardState
from .widgets import ReorderListView

AnyIndex = QModelIndex | QPersistentModelIndex


class ActionTypeDelegate(QStyledItemDelegate):
    """A combo box of the known action types for the Type column."""

    def createEditor(self, parent: QWidget, option: Any, index: AnyIndex) -> QWidget:
        combo = QComboBox(parent)
        combo.addItems(list(ACTION_TYPES))
        return combo

    def setEditorData(self, editor: QWidget, index: AnyIndex) -> None:
        assert isinstance(editor, QComboBox)
        editor.setCurrentText(str(index.data() or ""))

    def setModelData(self, editor: QWidget, model: Any, index: AnyIndex) -> None:
        assert isinstance(editor, QComboBox)
        model.setData(index, editor.currentText())


class CardEditor(QWidget):
    play_voice = Signal(int)  # card row
    check_card = Signal(int)  # card row
    preview_card = Signal(int)  # card row

    def __init__(self, doc: ScriptDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc = doc
        self._loading = False

        # -- card list
        self.cards = ReorderListView()
        self.cards.setObjectName("cardList")
        self.cards.setAccessibleName("Cards")
        self.cards.setModel(doc.cards)
        self.cards.setAccessibleName("Cards")
        # the storyboard: thumbnails and planned-length bars per card, the total above the list
        self.total = QLabel()
        self.total.setObjectName("storyboardTotal")
        self.total.setAccessibleName("Script length")
        self.storyboard = StoryboardState(doc, self.cards, self.total)
        self.cards.setItemDelegate(StoryboardDelegate(self.storyboard))
        self.cards.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.cards.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.cards.setSpacing(2)
        self.cards.setToolTip("Drag to reorder; Ctrl+Up / Ctrl+Down too. Each bar is the card's planned "
                              "length: narration (blue) and actions (orange)")
        bar = QHBoxLayout()
        self.add_button = self._tool("+ Card", "Add a card after this one (Ctrl+Shift+N)", self.add_card)
        self.dup_button = self._tool("Duplicate", "Duplicate this card", self.duplicate_card)
        self.del_button = self._tool("Delete", "Delete this card", self.delete_card)
        self.card_up = self._tool("▲", "Move card up (Ctrl+Up)", lambda: self.move_card(-1))
        self.card_down = self._tool("▼", "Move card down (Ctrl+Down)", lambda: self.move_card(1))
        for b in (self.add_button, self.dup_button, self.del_button):
            bar.addWidget(b)
        bar.addStretch(1)
        bar.addWidget(self.card_up)
        bar.addWidget(self.card_down)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        head.addWidget(QLabel("<b>Cards</b>"))
        head.addStretch(1)
        head.addWidget(self.total)
        ll.addLayout(head)
        ll.addWidget(self.cards, 1)
        ll.addLayout(bar)
        self.general_problems = QLabel()
        self.general_problems.setWordWrap(True)
        self.general_problems.setObjectName("scriptProblems")
        self.general_problems.setStyleSheet("color: #d35400")
        ll.addWidget(self.general_problems)

        # -- the selected card
        self.title = QLineEdit()
        self.title.setObjectName("cardTitle")
        self.title.setAccessibleName("Card title")
        self.title.setPlaceholderText("Card title (chapter name)")
        self.camera = QComboBox()
        self.camera.setObjectName("cardCamera")
        self.camera.setToolTip("Auto-zoom on this card's clicks and typing; the script default is set in "
                               "Script › Video settings…")
        self.camera.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.camera.addItem("Script default", None)
        for label, value in (("Off", "off"), ("Gentle", "gentle"), ("Strong", "strong")):
            self.camera.addItem(label, value)
        self.narration = QPlainTextEdit()
        self.narration.setObjectName("cardNarration")
        self.narration.setAccessibleName("Card narration")
        self.narration.setPlaceholderText('What the voice says during this card. <mark name="x"/> marks a '
                                          "word an action can wait for.")
        self.stats = QLabel()
        self.stats.setObjectName("cardStats")
        self.play_button = QPushButton("▶ Play voice")
        self.play_button.setObjectName("playVoice")
        self.play_button.setToolTip("Voice this card's narration and play it (measures its duration)")
        self.check_button = QPushButton("Check in browser")
        self.check_button.setObjectName("checkCard")
        self.check_button.setToolTip("Run the actions up to this card in a headless browser and report")
        self.preview_button = QPushButton("▶ Preview card")
        self.preview_button.setObjectName("previewCard")
        self.preview_button.setAccessibleName("Preview this card")
        self.preview_button.setToolTip("Render only this card, small, and play it here (Ctrl+Shift+P); the "
                                       "cards before it are replayed without filming")
        self.preview = CardPreview()
        self.actions_model = ActionsModel(doc, self)
        self.action_table = QTableView()
        self.action_table.setObjectName("actionTable")
        self.action_table.setAccessibleName("Card actions")
        self.action_table.setModel(self.actions_model)
        self.action_table.setItemDelegateForColumn(0, ActionTypeDelegate(self.action_table))
        self.action_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.action_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.action_table.verticalHeader().setDefaultSectionSize(24)
        self.action_table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                     | QAbstractItemView.EditTrigger.EditKeyPressed
                                     | QAbstractItemView.EditTrigger.AnyKeyPressed)
        hh = self.action_table.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        hh.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        hh.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        self.new_action_type = QComboBox()
        self.new_action_type.addItems(list(ACTION_TYPES))
        self.new_action_type.setCurrentText("click")
        self.add_action_button = self._tool("+ Action", "Add an action of the chosen type", self.add_action)
        self.remove_action_button = self._tool("Remove", "Remove the selected action", self.remove_action)
        self.action_up = self._tool("▲", "Move action up", lambda: self.move_action(-1))
        self.action_down = self._tool("▼", "Move action down", lambda: self.move_action(1))
        abar = QHBoxLayout()
        abar.addWidget(self.new_action_type)
        abar.addWidget(self.add_action_button)
        abar.addWidget(self.remove_action_button)
        abar.addStretch(1)
        abar.addWidget(self.action_up)
        abar.addWidget(self.action_down)
        self.problems = QLabel()
        self.problems.setObjectName("cardProblems")
        self.problems.setWordWrap(True)
        self.problems.setTextFormat(Qt.TextFormat.PlainText)
        self.problems.setStyleSheet("color: #d35400; padding: 4px; border: 1px solid #d35400; border-radius: 4px")
        self.check_result = QLabel()
        self.check_result.setObjectName("checkResult")
        self.check_result.setWordWrap(True)

        right = QFrame()
        right.setObjectName("cardDetail")
        rl = QVBoxLayout(right)
        rl.setContentsMargins(6, 0, 0, 0)
        rl.addWidget(QLabel("<b>Title</b>"))
        trow = QHBoxLayout()
        trow.addWidget(self.title, 1)
        trow.addWidget(QLabel("Camera:"))
        trow.addWidget(self.camera)
        rl.addLayout(trow)
        rl.addWidget(QLabel("<b>Narration</b>"))
        rl.addWidget(self.narration, 2)
        srow = QHBoxLayout()
        srow.addWidget(self.stats, 1)
        srow.addWidget(self.play_button)
        srow.addWidget(self.check_button)
        srow.addWidget(self.preview_button)
        rl.addLayout(srow)
        rl.addWidget(self.preview)
        rl.addWidget(self.problems)
        rl.addWidget(self.check_result)
        rl.addWidget(QLabel("<b>Actions</b>  <small>(double-click to edit; target as role=button name=Save, "
                            "label=Email, text=…, css=#id)</small>"))
        rl.addWidget(self.action_table, 3)
        rl.addLayout(abar)
        self.detail = right

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 5)
        self.empty_hint = QLabel("No script yet: pick files, write a prompt and press “Draft script” — "
                                 "or add a card.")
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_hint.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.empty_hint)
        lay.addWidget(split, 1)

        # -- wiring
        self.cards.selectionModel().currentChanged.connect(lambda cur, _prev: self._show_card(cur.row()))
        self.title.textEdited.connect(self._title_edited)
        self.camera.currentIndexChanged.connect(self._camera_chosen)
        doc.changed.connect(self._show_camera_default)
        self.narration.textChanged.connect(self._narration_edited)
        self.play_button.clicked.connect(lambda: self._emit_for_card(self.play_voice))
        self.check_button.clicked.connect(lambda: self._emit_for_card(self.check_card))
        self.preview_button.clicked.connect(lambda: self._emit_for_card(self.preview_card))
        doc.card_changed.connect(self._card_changed)
        doc.problems_changed.connect(self._refresh_problems)
        doc.cards.modelReset.connect(self._after_reset)
        doc.cards.rowsInserted.connect(lambda _p, first, _l: self.select_card(first))
        doc.cards.rowsMoved.connect(lambda *_: self._show_card(self.current_row()))
        doc.cards.rowsRemoved.connect(lambda *_: self._after_remove())
        self.cards.move_requested.connect(self.move_card)
        self.cards.remove_requested.connect(self.delete_card)
        self._after_reset()
        self.storyboard.replan()

    def _emit_for_card(self, signal: Any) -> None:
        if self.current_row() >= 0:
            signal.emit(self.current_row())

    def _tool(self, text: str, tip: str, slot: Any) -> QToolButton:
        b = QToolButton()
        b.setText(text)
        b.setToolTip(tip)
        b.clicked.connect(slot)
        return b

    # -- selection

    def current_row(self) -> int:
        idx = self.cards.currentIndex()
        return idx.row() if idx.isValid() else -1

    def select_card(self, row: int) -> None:
        if 0 <= row < self.doc.cards.rowCount():
            self.cards.setCurrentIndex(self.doc.cards.index(row))
            self._show_card(row)

    def _after_reset(self) -> None:
        empty = self.doc.cards.rowCount() == 0
        self.empty_hint.setVisible(empty)
        self.select_card(0) if not empty else self._show_card(-1)
        self._refresh_problems()

    def _after_remove(self) -> None:
        n = self.doc.cards.rowCount()
        self.empty_hint.setVisible(n == 0)
        self.select_card(min(max(self.current_row(), 0), n - 1)) if n else self._show_card(-1)

    def _show_card(self, row: int) -> None:
        self._loading = True
        try:
            valid = 0 <= row < self.doc.cards.rowCount()
            self.detail.setEnabled(valid)
            card = self.doc.cards.card(row) if valid else {}
            if self.title.text() != str(card.get("title") or ""):
                self.title.setText(str(card.get("title") or ""))
            narration = str(card.get("narration") or "")
            if self.narration.toPlainText() != narration:
                self.narration.setPlainText(narration)
            self.camera.setCurrentIndex(max(0, self.camera.findData(card.get("camera"))))
            self._show_camera_default()
            self.actions_model.set_card(row if valid else None)
            self.check_result.setText("")
            self.refresh_stats()
            self._refresh_problems()
        finally:
            self._loading = False

    # -- edits (each becomes an undo step; typing merges)

    def _title_edited(self, text: str) -> None:
        if not self._loading and self.current_row() >= 0:
            self.doc.set_card_field(self.current_row(), "title", text)

    def _camera_chosen(self, _index: int) -> None:
        if not self._loading and self.current_row() >= 0:
            self.doc.set_card_field(self.current_row(), "camera", self.camera.currentData())

    def _show_camera_default(self) -> None:
        settings = self.doc.data.get("settings")
        default = settings.get("camera", "off") if isinstance(settings, dict) else "off"
        self.camera.setItemText(0, f"Script default ({default})")

    def _narration_edited(self) -> None:
        if self._loading or self.current_row() < 0:
            return
        self.doc.set_card_field(self.current_row(), "narration", self.narration.toPlainText())
        self.refresh_stats()

    def _card_changed(self, row: int) -> None:
        if row == self.current_row():
            self._show_card(row)

    def refresh_stats(self) -> None:
        row = self.current_row()
        if row < 0:
            self.stats.setText("")
            return
        card = self.doc.cards.card(row)
        narration = str(card.get("narration") or "")
        words = word_count(narration)
        measured = self.doc.measured.get((str(card.get("id")), plain_narration(narration)))
        if measured is not None:
            dur = f"measured {measured:.1f} s"
        else:
            dur = f"≈ {estimate_seconds(narration):.1f} s (estimated)"
        self.stats.setText(f"{words} word{'s' if words != 1 else ''} · {dur}")

    def _refresh_problems(self) -> None:
        row = self.current_row()
        probs = self.doc.card_problems(row) if row >= 0 else []
        failed = self.doc.cards.failed_card == row and row >= 0
        lines = [f"• {p.where}: {p.message}" for p in probs]
        if failed and self._failure_text:
            lines.append(f"• last render failed here: {self._failure_text}")
        self.problems.setText("\n".join(lines))
        self.problems.setVisible(bool(lines))
        gen = self.doc.general_problems()
        self.general_problems.setText("\n".join(f"⚠ {p.where}: {p.message}" for p in gen))
        self.general_problems.setVisible(bool(gen))

    _failure_text = ""

    def show_failure(self, row: int | None, text: str) -> None:
        """Highlight the card a render or check failed on, with the error."""
        self._failure_text = text
        self.doc.cards.set_failed_card(row)
        if row is not None:
            self.select_card(row)
        self._refresh_problems()

    # -- card operations

    def add_card(self) -> None:
        row = self.current_row()
        self.doc.add_card(row + 1 if row >= 0 else None)

    def duplicate_card(self) -> None:
        if self.current_row() >= 0:
            self.doc.duplicate_card(self.current_row())

    def delete_card(self) -> None:
        if self.current_row() >= 0:
            self.doc.delete_card(self.current_row())

    def move_card(self, delta: int) -> None:
        row = self.current_row()
        to = row + delta
        if row >= 0 and 0 <= to < self.doc.cards.rowCount():
            self.doc.move_card(row, to)
            self.select_card(to)

    # -- action operations

    def _action_row(self) -> int:
        idx = self.action_table.currentIndex()
        return idx.row() if idx.isValid() else -1

    def add_action(self) -> None:
        row = self.current_row()
        if row < 0:
            return
        typ = self.new_action_type.currentText()
        action: dict[str, Any] = {"type": typ}
        defaults: dict[str, dict[str, Any]] = {"goto": {"url": "/"}, "wait": {"ms": 500}, "press": {"key": "Enter"}}
        action.update(defaults.get(typ, {}))
        at = self._action_row() + 1 if self._action_row() >= 0 else None
        i = self.doc.add_action(row, action, at)
        self.action_table.setCurrentIndex(self.actions_model.index(i, 1 if typ not in ("goto", "wait") else 2))

    def remove_action(self) -> None:
        if self.current_row() >= 0 and self._action_row() >= 0:
            self.doc.remove_action(self.current_row(), self._action_row())

    def move_action(self, delta: int) -> None:
        row, a = self.current_row(), self._action_row()
        if row < 0 or a < 0:
            return
        to = a + delta
        if 0 <= to < self.actions_model.rowCount():
            self.doc.move_action(row, a, to)
            self.action_table.setCurrentIndex(self.actions_model.index(to, 0))
