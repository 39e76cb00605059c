"""The script being edited: cards and actions as item models, every change an undoable command.

The document keeps the script as raw JSON data (so a half-typed locator is allowed mid-edit) and
validates it with the core's :func:`~app.core.script.validate_script` after each change; problems are
attached to the card (and action) they name.  Every mutation goes through the document's
``QUndoStack`` — the models never change their data except from a command's ``redo``/``undo``.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Sequence
from typing import Any

from app.core.errors import Problem, ScriptError
from app.core.script import ACTION_TYPES, LOCATOR_KINDS, Locator, Script, plain_narration, validate_script
from app.workbench import storyboard

from .qt import (
    QAbstractListModel,
    QAbstractTableModel,
    QByteArray,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QUndoCommand,
    QUndoStack,
    Signal,
    Slot,
)

AnyIndex = QModelIndex | QPersistentModelIndex
CARD_ROWS_MIME = "application/x-reelwright-card-rows"

ProblemsRole = Qt.ItemDataRole.UserRole + 10
CardIdRole = Qt.ItemDataRole.UserRole + 11

#: narration speed used for the estimate shown before the voice is measured (one value: the storyboard's)
WORDS_PER_MINUTE = storyboard.WORDS_PER_MINUTE

_MERGE_NARRATION = 1001
_MERGE_TITLE = 1002
_MERGE_SETTING = 1003


def word_count(narration: str) -> int:
    return storyboard.word_count(narration)


def estimate_seconds(narration: str, rate: float = 1.0) -> float:
    return storyboard.estimate_speech_s(narration, rate)


# --------------------------------------------------------------------------- locator text

_ROLE_RE = re.compile(r"^role\s*=\s*(?P<role>[A-Za-z]+)(?:\s+name\s*=\s*(?P<name>.+))?$")


def locator_to_text(loc: dict[str, Any] | None) -> str:
    """``{"role": "button", "name": "Save"}`` → ``role=button name=Save`` (what the editor shows)."""
    if not loc:
        return ""
    for kind in LOCATOR_KINDS:
        value = loc.get(kind)
        if value is None:
            continue
        if kind == "role":
            name = loc.get("name")
            return f"role={value}" + (f" name={name}" if name is not None else "")
        return f"{kind}={value}"
    return ""


def text_to_locator(text: str, old: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """Parse the editor's ``kind=value`` form; modifiers of the old locator (nth, exact, …) are kept.

    A bare value without ``kind=`` is a CSS selector, as in scripts.  Empty text means no target.
    """
    text = text.strip()
    if not text:
        return None
    keep = {k: v for k, v in (old or {}).items() if k not in LOCATOR_KINDS and k != "name"}
    m = _ROLE_RE.match(text)
    if m:
        loc: dict[str, Any] = {"role": m.group("role")}
        if m.group("name") is not None:
            loc["name"] = m.group("name").strip().strip('"')
        return {**loc, **keep}
    kind, sep, value = text.partition("=")
    kind = kind.strip()
    if sep and kind in LOCATOR_KINDS:
        return {kind: value.strip(), **keep}
    return {"css": text, **keep}


def describe_locator(loc: dict[str, Any] | None) -> str:
    if not loc:
        return ""
    try:
        return Locator.model_validate(loc).describe()
    except ValueError:
        return locator_to_text(loc)


# --------------------------------------------------------------------------- action "value" column

#: the one field an action type shows in the editor's Value column
VALUE_FIELD: dict[str, str] = {
    "goto": "url", "fill": "value", "type": "text", "press": "key", "select": "values", "wait": "ms",
    "highlight": "label", "zoom": "scale", "upload": "files", "wait_for": "state", "scroll": "to",
}
TARGETLESS = frozenset({"goto", "wait"})


def action_value(action: dict[str, Any]) -> str:
    typ = str(action.get("type", ""))
    if typ == "scroll":
        for k in ("to", "y", "by"):
            if action.get(k) is not None:
                return str(action[k]) if k == "to" else f"{k}={action[k]}"
        return ""
    if typ == "wait_for" and action.get("target") is None:
        for k in ("text", "url"):
            if action.get(k) is not None:
                return f"{k}={action[k]}"
    fld = VALUE_FIELD.get(typ)
    if fld is None or action.get(fld) is None:
        return ""
    v = action[fld]
    if isinstance(v, list):
        return ", ".join(str(x) for x in v)
    return str(v)


def with_value(action: dict[str, Any], text: str) -> dict[str, Any]:
    """A copy of ``action`` with its Value column set from ``text`` (validation judges the result)."""
    out = dict(action)
    typ = str(out.get("type", ""))
    text = text.strip()
    if typ == "scroll":
        for k in ("to", "y", "by"):
            out.pop(k, None)
        if text:
            k, sep, v = text.partition("=")
            if sep and k.strip() in ("y", "by"):
                out[k.strip()] = _num(v)
            else:
                out["to"] = text
        return out
    if typ == "wait_for" and out.get("target") is None:
        for k in ("text", "url"):
            out.pop(k, None)
        k, sep, v = text.partition("=")
        if sep and k.strip() in ("text", "url"):
            out[k.strip()] = v.strip()
        elif text:
            out["text"] = text
        return out
    fld = VALUE_FIELD.get(typ)
    if fld is None:
        return out
    if not text and fld in ("label",):
        out.pop(fld, None)
    elif fld in ("values", "files"):
        out[fld] = [v.strip() for v in text.split(",") if v.strip()]
    elif fld in ("ms", "scale"):
        out[fld] = _num(text)
    else:
        out[fld] = text
    return out


def _num(text: str) -> Any:
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text  # validation reports it on the card


def with_type(action: dict[str, Any], typ: str) -> dict[str, Any]:
    """Change an action's type, keeping its target where the new type takes one."""
    out: dict[str, Any] = {"type": typ}
    if action.get("at") is not None:
        out["at"] = action["at"]
    if typ not in TARGETLESS and action.get("target") is not None:
        out["target"] = action["target"]
    old_value = action_value(action)
    if old_value and typ in VALUE_FIELD:
        out = with_value(out, old_value)
    return out


# --------------------------------------------------------------------------- the document


class ScriptDocument(QObject):
    """The script under edit, its undo stack and its current validation problems."""

    changed = Signal()  # anything changed (autosave listens)
    problems_changed = Signal()
    card_changed = Signal(int)  # a card's fields or actions changed

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.data: dict[str, Any] = {}
        self.cards = CardsModel(self)
        self.problems: list[Problem] = []
        self.script: Script | None = None  # the last valid parse
        #: measured voice durations, keyed by (card id, plain narration)
        self.measured: dict[tuple[str, str], float] = {}
        self.undo_stack.indexChanged.connect(self._index_changed)

    # -- loading

    def load(self, data: dict[str, Any] | None) -> None:
        """Replace the whole script (not undoable: a new document)."""
        self.undo_stack.clear()
        self.data = copy.deepcopy(data) if data else {}
        self.data.setdefault("cards", [])
        self.cards.reset_from(self.data["cards"])
        self._after_change()

    def is_empty(self) -> bool:
        return not self.data.get("cards")

    def to_data(self) -> dict[str, Any]:
        out = dict(self.data)
        out["cards"] = self.cards.raw_cards()
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_data(), indent=2, ensure_ascii=False)

    def revalidate(self) -> None:
        if self.is_empty() and not self.undo_stack.count():
            # a project without a script yet: nothing to complain about
            self.script, self.problems = None, []
            self.cards.set_problems([])
            self.problems_changed.emit()
            return
        try:
            self.script = validate_script(self.to_data())
            self.problems = []
        except ScriptError as exc:
            self.script = None
            self.problems = list(exc.problems)
        self.cards.set_problems(self.problems)
        self.problems_changed.emit()

    @Slot(int)
    def _index_changed(self, _index: int) -> None:
        # a bound slot: Qt drops the connection when the document is destroyed
        self._after_change()

    def _after_change(self) -> None:
        self.revalidate()
        self.changed.emit()

    def card_problems(self, card_index: int) -> list[Problem]:
        return [p for p in self.problems if p.card_index == card_index]

    def general_problems(self) -> list[Problem]:
        return [p for p in self.problems if p.card_index is None]

    # -- settings (undoable)

    def set_setting(self, key: str, value: Any, merge: str | None = None) -> None:
        """Set ``settings[key]`` (None removes it) as one undo step.

        Consecutive changes with the same ``merge`` tag (typing in one field, dragging a slider) merge
        into one step, as typing in a card's narration does.
        """
        settings = dict(self.data.get("settings") or {})
        if settings.get(key) == value:
            return
        self.undo_stack.push(_SetSettingCommand(self, key, copy.deepcopy(settings.get(key)),
                                                copy.deepcopy(value), merge))

    # -- card operations (each one an undo step)

    def set_card_field(self, row: int, field: str, value: Any) -> None:
        card = self.cards.card(row)
        if card.get(field) == value:
            return
        self.undo_stack.push(_SetCardFieldCommand(self, row, field, card.get(field), value))

    def add_card(self, row: int | None = None, card: dict[str, Any] | None = None) -> int:
        row = self.cards.rowCount() if row is None else row
        card = card or {"id": self.cards.fresh_id("card"), "title": "New card", "narration": "",
                        "actions": []}
        self.undo_stack.push(_InsertCardCommand(self, row, card, "Add card"))
        return row

    def duplicate_card(self, row: int) -> int:
        card = copy.deepcopy(self.cards.card(row))
        card["id"] = self.cards.fresh_id(str(card.get("id") or "card"))
        self.undo_stack.push(_InsertCardCommand(self, row + 1, card, "Duplicate card"))
        return row + 1

    def delete_card(self, row: int) -> None:
        self.undo_stack.push(_RemoveCardCommand(self, row))

    def move_card(self, row: int, to: int) -> None:
        """Move the card at ``row`` so it ends up at index ``to``."""
        if row == to or not 0 <= to < self.cards.rowCount():
            return
        self.undo_stack.push(_MoveCardCommand(self, row, to))

    def set_actions(self, row: int, actions: list[dict[str, Any]], text: str) -> None:
        old = copy.deepcopy(self.cards.card(row).get("actions") or [])
        if old == actions:
            return
        self.undo_stack.push(_SetCardFieldCommand(self, row, "actions", old, copy.deepcopy(actions), text))

    def set_action(self, row: int, action_index: int, action: dict[str, Any]) -> None:
        actions = copy.deepcopy(self.cards.card(row).get("actions") or [])
        actions[action_index] = action
        self.set_actions(row, actions, f"Edit action {action_index + 1}")

    def add_action(self, row: int, action: dict[str, Any], at: int | None = None) -> int:
        actions = copy.deepcopy(self.cards.card(row).get("actions") or [])
        at = len(actions) if at is None else at
        actions.insert(at, action)
        self.set_actions(row, actions, "Add action")
        return at

    def remove_action(self, row: int, action_index: int) -> None:
        actions = copy.deepcopy(self.cards.card(row).get("actions") or [])
        del actions[action_index]
        self.set_actions(row, actions, "Remove action")

    def move_action(self, row: int, action_index: int, to: int) -> None:
        actions = copy.deepcopy(self.cards.card(row).get("actions") or [])
        if not 0 <= to < len(actions):
            return
        actions.insert(to, actions.pop(action_index))
        self.set_actions(row, actions, "Move action")


class _SetSettingCommand(QUndoCommand):
    def __init__(self, doc: ScriptDocument, key: str, old: Any, new: Any, merge: str | None = None) -> None:
        super().__init__(f"Change {key}")
        self.doc, self.key, self.old, self.new, self.merge = doc, key, old, new, merge

    def _apply(self, value: Any) -> None:
        settings = dict(self.doc.data.get("settings") or {})
        if value is None:
            settings.pop(self.key, None)
        else:
            settings[self.key] = copy.deepcopy(value)
        self.doc.data["settings"] = settings

    def id(self) -> int:
        return _MERGE_SETTING if self.merge else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, _SetSettingCommand) or other.key != self.key or other.merge != self.merge:
            return False
        self.new = other.new
        return True

    def redo(self) -> None:
        self._apply(self.new)

    def undo(self) -> None:
        self._apply(self.old)


class _SetCardFieldCommand(QUndoCommand):
    def __init__(self, doc: ScriptDocument, row: int, field: str, old: Any, new: Any,
                 text: str | None = None) -> None:
        super().__init__(text or f"Edit {field}")
        self.doc, self.row, self.field, self.old, self.new = doc, row, field, old, new

    def redo(self) -> None:
        self.doc.cards.set_field(self.row, self.field, copy.deepcopy(self.new))
        self.doc.card_changed.emit(self.row)

    def undo(self) -> None:
        self.doc.cards.set_field(self.row, self.field, copy.deepcopy(self.old))
        self.doc.card_changed.emit(self.row)

    def id(self) -> int:
        # typing in a translation (the Languages view) merges like typing in the narration
        return {"narration": _MERGE_NARRATION, "narration_i18n": _MERGE_NARRATION,
                "title": _MERGE_TITLE}.get(self.field, -1)

    def mergeWith(self, other: QUndoCommand) -> bool:
        # consecutive keystrokes in one card's narration (or title) are one undo step
        if not isinstance(other, _SetCardFieldCommand) or other.row != self.row or other.field != self.field:
            return False
        self.new = other.new
        return True


class _InsertCardCommand(QUndoCommand):
    def __init__(self, doc: ScriptDocument, row: int, card: dict[str, Any], text: str) -> None:
        super().__init__(text)
        self.doc, self.row, self.card = doc, row, card

    def redo(self) -> None:
        self.doc.cards.insert_card(self.row, copy.deepcopy(self.card))

    def undo(self) -> None:
        self.doc.cards.remove_card(self.row)


class _RemoveCardCommand(QUndoCommand):
    def __init__(self, doc: ScriptDocument, row: int) -> None:
        super().__init__("Delete card")
        self.doc, self.row = doc, row
        self.card = copy.deepcopy(doc.cards.card(row))

    def redo(self) -> None:
        self.doc.cards.remove_card(self.row)

    def undo(self) -> None:
        self.doc.cards.insert_card(self.row, copy.deepcopy(self.card))


class _MoveCardCommand(QUndoCommand):
    def __init__(self, doc: ScriptDocument, row: int, to: int) -> None:
        super().__init__("Move card")
        self.doc, self.row, self.to = doc, row, to

    def redo(self) -> None:
        self.doc.cards.move_card(self.row, self.to)

    def undo(self) -> None:
        self.doc.cards.move_card(self.to, self.row)


class CardsModel(QAbstractListModel):
    """The script's cards, one row each; reorder by drag (``moveRows`` pushes an undo step)."""

    def __init__(self, doc: ScriptDocument) -> None:
        super().__init__(doc)
        self._doc = doc
        self._cards: list[dict[str, Any]] = []
        self._problems: dict[int, list[Problem]] = {}
        self.failed_card: int | None = None  # highlighted after a failed render/check

    # -- primitives (called by undo commands only)

    def reset_from(self, cards: Sequence[dict[str, Any]]) -> None:
        self.beginResetModel()
        self._cards = [dict(c) if isinstance(c, dict) else {"id": "?"} for c in cards]
        self.failed_card = None
        self.endResetModel()

    def set_field(self, row: int, field: str, value: Any) -> None:
        if value is None:
            self._cards[row].pop(field, None)
        else:
            self._cards[row][field] = value
        self.dataChanged.emit(self.index(row), self.index(row))

    def insert_card(self, row: int, card: dict[str, Any]) -> None:
        self.beginInsertRows(QModelIndex(), row, row)
        self._cards.insert(row, card)
        self.endInsertRows()

    def remove_card(self, row: int) -> None:
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._cards[row]
        self.endRemoveRows()

    def move_card(self, row: int, to: int) -> None:
        dest = to + 1 if to > row else to  # Qt's destination is "insert before"
        if not self.beginMoveRows(QModelIndex(), row, row, QModelIndex(), dest):
            return
        self._cards.insert(to, self._cards.pop(row))
        self.endMoveRows()

    def set_problems(self, problems: Sequence[Problem]) -> None:
        by_card: dict[int, list[Problem]] = {}
        for p in problems:
            if p.card_index is not None:
                by_card.setdefault(p.card_index, []).append(p)
        if by_card != self._problems:
            self._problems = by_card
            if self._cards:
                self.dataChanged.emit(self.index(0), self.index(len(self._cards) - 1))

    def set_failed_card(self, row: int | None) -> None:
        self.failed_card = row
        if self._cards:
            self.dataChanged.emit(self.index(0), self.index(len(self._cards) - 1))

    # -- reading

    def card(self, row: int) -> dict[str, Any]:
        return self._cards[row]

    def raw_cards(self) -> list[dict[str, Any]]:
        return copy.deepcopy(self._cards)

    def fresh_id(self, base: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_.-]", "-", base).strip("-.") or "card"
        base = re.sub(r"-\d+$", "", base)[:56] or "card"
        ids = {str(c.get("id")) for c in self._cards}
        if base not in ids:
            return base
        n = 2
        while f"{base}-{n}" in ids:
            n += 1
        return f"{base}-{n}"

    # -- Qt model interface

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._cards)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._cards):
            return None
        row = index.row()
        card = self._cards[row]
        problems = self._problems.get(row, [])
        if role == Qt.ItemDataRole.DisplayRole:
            title = card.get("title") or card.get("id") or "(untitled)"
            n = len(card.get("actions") or [])
            mark = "⚠ " if problems or self.failed_card == row else ""
            # the position number is drawn by the view's NumberedDelegate
            return f"{mark}{title}  ·  {n} action{'s' if n != 1 else ''}"
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = plain_narration(str(card.get("narration") or "")) or "(no narration)"
            if problems:
                tip += "\n\n" + "\n".join(f"• {p.where}: {p.message}" for p in problems)
            return tip
        if role == Qt.ItemDataRole.ForegroundRole and (problems or self.failed_card == row):
            from .qt import QColor

            return QColor("#d35400") if problems else QColor("#c0392b")
        if role == ProblemsRole:
            return problems
        if role == CardIdRole:
            return card.get("id")
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.ItemIsDropEnabled
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled

    def moveRows(self, source_parent: AnyIndex, source_row: int, count: int,
                 destination_parent: AnyIndex, destination_child: int) -> bool:
        """Qt's move contract (destination = insert-before index), as one undoable step per card."""
        n = len(self._cards)
        if source_parent.isValid() or destination_parent.isValid() or count <= 0 \
                or source_row < 0 or source_row + count > n or not 0 <= destination_child <= n \
                or source_row <= destination_child <= source_row + count:
            return False
        stack = self._doc.undo_stack
        stack.beginMacro("Move card" if count == 1 else "Move cards")
        if destination_child > source_row:
            for _ in range(count):
                self._doc.move_card(source_row, destination_child - 1)
        else:
            for i in range(count):
                self._doc.move_card(source_row + i, destination_child + i)
        stack.endMacro()
        return True

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [CARD_ROWS_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        rows = sorted({i.row() for i in indexes if i.isValid()})
        mime = QMimeData()
        mime.setData(CARD_ROWS_MIME, QByteArray(json.dumps(rows).encode()))
        return mime

    def canDropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int,
                        parent: AnyIndex) -> bool:
        return data.hasFormat(CARD_ROWS_MIME)

    def dropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int,
                     parent: AnyIndex) -> bool:
        if not data.hasFormat(CARD_ROWS_MIME):
            return False
        rows = json.loads(bytes(data.data(CARD_ROWS_MIME).data()).decode())
        dest = row if row >= 0 else (parent.row() if parent.isValid() else len(self._cards))
        if len(rows) == 1 and dest not in (rows[0], rows[0] + 1):
            self.moveRows(QModelIndex(), rows[0], 1, QModelIndex(), dest)
        # handled: False keeps the view from removing the source rows afterwards
        return False


class ActionsModel(QAbstractTableModel):
    """The actions of the selected card: Type | Target | Value | At, edited through the document."""

    COLUMNS = ("Type", "Target", "Value", "At mark")

    def __init__(self, doc: ScriptDocument, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._doc = doc
        self._row: int | None = None
        self._actions: list[dict[str, Any]] = []
        doc.card_changed.connect(self._on_card_changed)
        doc.cards.modelReset.connect(lambda: self.set_card(None))
        doc.problems_changed.connect(self._on_problems)

    def set_card(self, row: int | None) -> None:
        self.beginResetModel()
        self._row = row if row is not None and 0 <= row < self._doc.cards.rowCount() else None
        self._actions = list(self._doc.cards.card(self._row).get("actions") or []) if self._row is not None else []
        self.endResetModel()

    @property
    def card_row(self) -> int | None:
        return self._row

    def _on_card_changed(self, row: int) -> None:
        if row == self._row:
            self.set_card(row)

    def _on_problems(self) -> None:
        if self._actions:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._actions) - 1, len(self.COLUMNS) - 1))

    def action(self, i: int) -> dict[str, Any]:
        return self._actions[i]

    def _action_problems(self, i: int) -> list[Problem]:
        if self._row is None:
            return []
        return [p for p in self._doc.card_problems(self._row) if p.action_index == i]

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._actions)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.COLUMNS):
            return self.COLUMNS[section]
        if orientation == Qt.Orientation.Vertical:
            return str(section + 1)
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._actions):
            return None
        a = self._actions[index.row()]
        col = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if col == 0:
                return str(a.get("type", ""))
            if col == 1:
                tgt = a.get("target")
                if isinstance(tgt, str):
                    tgt = {"css": tgt}
                return locator_to_text(tgt if isinstance(tgt, dict) else None)
            if col == 2:
                return action_value(a)
            if col == 3:
                return str(a.get("at") or "")
        if role == Qt.ItemDataRole.ToolTipRole:
            problems = self._action_problems(index.row())
            tip = ""
            if col == 1 and isinstance(a.get("target"), dict):
                tip = describe_locator(a["target"])
            if problems:
                tip += ("\n" if tip else "") + "\n".join(f"{p.where}: {p.message}" for p in problems)
            return tip or None
        if role == Qt.ItemDataRole.BackgroundRole and self._action_problems(index.row()):
            from .qt import QColor

            return QColor(211, 84, 0, 60)
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEditable

    def setData(self, index: AnyIndex, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or self._row is None:
            return False
        i, col = index.row(), index.column()
        old = self._actions[i]
        text = "" if value is None else str(value)
        if col == 0:
            if text not in ACTION_TYPES or text == old.get("type"):
                return False
            new = with_type(old, text)
        elif col == 1:
            tgt = old.get("target")
            new = dict(old)
            loc = text_to_locator(text, tgt if isinstance(tgt, dict) else None)
            if loc is None:
                new.pop("target", None)
            else:
                new["target"] = loc
        elif col == 2:
            new = with_value(old, text)
        else:
            new = dict(old)
            if text.strip():
                new["at"] = text.strip()
            else:
                new.pop("at", None)
        if new == old:
            return False
        self._doc.set_action(self._row, i, new)
        return True
