"""The app's item models checked with Qt's model tester (attached once, it then checks every change the
test makes) and reordered through ``moveRows``."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.ui.document import ActionsModel, ScriptDocument, locator_to_text, text_to_locator, with_value
from app.ui.library_models import (
    FILE_IDS_MIME,
    PICKED_ROWS_MIME,
    LibraryModel,
    PickedFilesModel,
)
from app.ui.qt import QModelIndex, Qt
from app.workbench.storage import LibraryFile

pytestmark = pytest.mark.ui


def _files(n: int) -> list[LibraryFile]:
    kinds = ["pdf", "markdown", "playwright-python", "image"]
    return [LibraryFile(i + 1, f"{i:064x}", f"file-{i:05d}.{kinds[i % 4][:3]}", kinds[i % 4], 100 + i,
                        1_700_000_000.0 + i, ["alpha"] if i % 3 == 0 else []) for i in range(n)]


def _script(n_cards: int = 3) -> dict[str, Any]:
    return {
        "title": "Demo",
        "settings": {"site": "site"},
        "cards": [
            {"id": f"c{i}", "title": f"Card {i}", "narration": f"Narration number {i}.",
             "actions": [{"type": "goto", "url": "/"}, {"type": "click", "target": {"role": "button", "name": "Go"}}]}
            for i in range(n_cards)
        ],
    }


def test_library_model_and_filter_pass_the_model_tester(qtmodeltester: Any) -> None:
    model = LibraryModel(_files(50))
    qtmodeltester.check(model, force_py=True)
    model.set_query("alpha PDF")
    names = {model.index(r, 0).data() for r in range(model.rowCount())}
    # every 3rd file is tagged alpha, every 4th is a pdf: 0, 12, 24, 36, 48
    assert names == {f"file-{i:05d}.pdf" for i in (0, 12, 24, 36, 48)}
    model.set_query("alpha PDF file-0001")  # typing on narrows within the rows shown
    assert [model.file_at(r).id for r in range(model.rowCount())] == [13]
    # files added while filtered appear only if they match; removals keep the rest in place
    extra = LibraryFile(99, "f" * 64, "file-00019-new.pdf", "pdf", 5, 1.0, ["alpha"])
    model.add_files([extra, LibraryFile(100, "e" * 64, "other.md", "markdown", 5, 1.0)])
    assert model.rowCount() == 2 and model.total() == 52
    model.remove_ids([13])
    assert [model.file_at(r).id for r in range(model.rowCount())] == [99] and model.total() == 51
    model.set_query("")
    assert model.rowCount() == 51


def test_library_sort_keeps_selection_rows(qtmodeltester: Any) -> None:
    model = LibraryModel(_files(20))
    model.sort(2, Qt.SortOrder.DescendingOrder)
    assert model.file_at(0).size == 119
    model.set_query("pdf")
    assert [model.file_at(r).size for r in range(model.rowCount())] == [116, 112, 108, 104, 100]
    model.sort(0, Qt.SortOrder.AscendingOrder)
    assert model.file_at(0).name == "file-00000.pdf"
    model.set_query("")
    assert model.file_at(1).name == "file-00001.mar"
    qtmodeltester.check(model, force_py=True)


def test_picked_files_reorder_by_moverows_keyboard_and_drop(qtmodeltester: Any) -> None:
    files = _files(5)
    model = PickedFilesModel()
    model.resolve_ids = lambda ids: [next((f for f in files if f.id == i), None) for i in ids]
    model.append_files(files[:4])
    qtmodeltester.check(model, force_py=True)
    assert model.moveRows(QModelIndex(), 0, 1, QModelIndex(), 3)  # a after c
    assert model.ids() == [2, 3, 1, 4]
    assert not model.moveRows(QModelIndex(), 0, 1, QModelIndex(), 1)  # a no-op move is refused
    assert model.move_up(3) and model.ids() == [2, 3, 4, 1]
    assert model.move_down(0) and model.ids() == [3, 2, 4, 1]
    assert not model.move_up(0)
    assert model.index(0).data() == "file-00002.pla"
    # an internal drag of row 3 to the top
    mime = model.mimeData([model.index(3)])
    assert mime.hasFormat(PICKED_ROWS_MIME)
    model.dropMimeData(mime, Qt.DropAction.MoveAction, 0, 0, QModelIndex())
    assert model.ids() == [1, 3, 2, 4]
    # a drop from the library inserts where dropped and ignores files already picked
    lib = LibraryModel(files)
    lib_mime = lib.mimeData([lib.index(4, 0), lib.index(0, 0)])
    assert lib_mime.hasFormat(FILE_IDS_MIME)
    assert json.loads(bytes(lib_mime.data(FILE_IDS_MIME).data())) == [5, 1]
    model.dropMimeData(lib_mime, Qt.DropAction.CopyAction, 1, 0, QModelIndex())
    assert model.ids() == [1, 5, 3, 2, 4]
    assert model.removeRows(0, 2)
    assert model.ids() == [3, 2, 4]


def test_cards_model_moves_are_undoable(qtmodeltester: Any) -> None:
    doc = ScriptDocument()
    doc.load(_script(4))
    qtmodeltester.check(doc.cards, force_py=True)
    ids = lambda: [doc.cards.card(r)["id"] for r in range(doc.cards.rowCount())]  # noqa: E731
    assert doc.cards.moveRows(QModelIndex(), 0, 1, QModelIndex(), 3)
    assert ids() == ["c1", "c2", "c0", "c3"]
    assert doc.cards.moveRows(QModelIndex(), 3, 1, QModelIndex(), 0)
    assert ids() == ["c3", "c1", "c2", "c0"]
    doc.undo_stack.undo()
    assert ids() == ["c1", "c2", "c0", "c3"]
    doc.undo_stack.undo()
    assert ids() == ["c0", "c1", "c2", "c3"]
    doc.undo_stack.redo()
    assert ids() == ["c1", "c2", "c0", "c3"]


def test_card_edits_merge_typing_and_show_problems_on_their_card() -> None:
    doc = ScriptDocument()
    doc.load(_script(2))
    assert doc.problems == []
    for text in ("H", "He", "Hel", "Hello"):
        doc.set_card_field(1, "narration", text)
    assert doc.undo_stack.count() == 1  # typing merges into one undo step
    doc.undo_stack.undo()
    assert doc.cards.card(1)["narration"] == "Narration number 1."
    doc.undo_stack.redo()
    assert doc.cards.card(1)["narration"] == "Hello"
    # a bad locator role is reported on card 2, action 2
    actions = ActionsModel(doc)
    actions.set_card(1)
    assert actions.setData(actions.index(1, 1), "role=buton name=Go")
    [problem] = doc.problems
    assert (problem.card_index, problem.action_index) == (1, 1)
    assert "buton" in problem.message
    assert doc.card_problems(0) == [] and len(doc.card_problems(1)) == 1
    assert "⚠" in doc.cards.index(1).data() and "⚠" not in doc.cards.index(0).data()
    doc.undo_stack.undo()
    assert doc.problems == []


def test_actions_model_edits(qtmodeltester: Any) -> None:
    doc = ScriptDocument()
    doc.load(_script(1))
    model = ActionsModel(doc)
    model.set_card(0)
    qtmodeltester.check(model, force_py=True)
    assert model.setData(model.index(1, 0), "fill")  # click -> fill keeps the target
    assert doc.cards.card(0)["actions"][1] == {"type": "fill", "target": {"role": "button", "name": "Go"}}
    assert model.setData(model.index(1, 2), "hello")
    assert doc.cards.card(0)["actions"][1]["value"] == "hello"
    assert model.setData(model.index(1, 1), "label=Email")
    assert doc.cards.card(0)["actions"][1]["target"] == {"label": "Email"}
    assert doc.problems == []
    assert model.index(1, 1).data() == "label=Email"
    doc.add_action(0, {"type": "wait", "ms": 500})
    assert model.rowCount() == 3 and model.index(2, 2).data() == "500"
    doc.move_action(0, 2, 0)
    assert model.index(0, 0).data() == "wait"
    doc.remove_action(0, 0)
    assert model.rowCount() == 2
    assert doc.undo_stack.count() == 6  # type, value, target, add, move, remove
    for _ in range(6):
        doc.undo_stack.undo()
    assert doc.cards.card(0)["actions"][1] == {"type": "click", "target": {"role": "button", "name": "Go"}}


def test_locator_text_round_trip() -> None:
    assert locator_to_text({"role": "button", "name": "Sign in"}) == "role=button name=Sign in"
    assert text_to_locator("role=button name=Sign in") == {"role": "button", "name": "Sign in"}
    assert text_to_locator("#email") == {"css": "#email"}
    assert text_to_locator("text=Welcome", {"css": "x", "nth": 1}) == {"text": "Welcome", "nth": 1}
    assert with_value({"type": "select"}, "a, b") == {"type": "select", "values": ["a", "b"]}
    assert with_value({"type": "scroll"}, "by=300") == {"type": "scroll", "by": 300}


def test_add_duplicate_delete_cards_with_undo() -> None:
    doc = ScriptDocument()
    doc.load(_script(1))
    doc.duplicate_card(0)
    assert [doc.cards.card(r)["id"] for r in range(2)] == ["c0", "c0-2"]
    doc.add_card()
    assert doc.cards.rowCount() == 3 and doc.problems == []
    doc.delete_card(0)
    assert doc.cards.card(0)["id"] == "c0-2"
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert doc.cards.rowCount() == 1
