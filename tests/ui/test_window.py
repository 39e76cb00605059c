"""The main window's everyday behaviour, driven through its widgets: library editing, autosave within a
second, reopening where you left off, corrupt records skipped, backup/restore, settings, theme."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.ui.main_window import MainWindow, about_text
from app.ui.ops import Op
from app.ui.qt import QMessageBox, QPalette, Qt
from app.workbench.storage import ProjectData, Store

pytestmark = pytest.mark.ui

SCRIPT = {"title": "T", "settings": {"base_url": "http://127.0.0.1:9/"},
          "cards": [{"id": "a", "title": "First", "narration": "Hello there.", "actions": []},
                    {"id": "b", "title": "Second", "narration": "Bye now.", "actions": []}]}


@pytest.fixture
def window(store: Store, aloop: Any, dispose: Any) -> Iterator[MainWindow]:
    w = MainWindow(store)
    w.start()
    w.show()
    yield w
    aloop.run_until_complete(Op.wait_all())
    dispose(w)


def _files(tmp_path: Path) -> list[Path]:
    (tmp_path / "guide.md").write_text("# Guide\n\nStep one.\n")
    (tmp_path / "notes.txt").write_text("plain notes\n")
    return [tmp_path / "guide.md", tmp_path / "notes.txt"]


def test_library_filter_rename_tag_delete_and_undo(window: MainWindow, qtbot: Any, run: Any,
                                                  tmp_path: Path) -> None:
    lib = window.library

    async def scenario() -> None:
        lib.import_paths(_files(tmp_path))
        await Op.wait_all()

    run(scenario())
    assert lib.count_label.text() == "2 files"
    qtbot.keyClicks(lib.search, "markdown")
    assert lib.model.rowCount() == 1 and lib.count_label.text() == "1 of 2 files"
    lib.search.clear()
    guide = next(f for f in lib.model.files() if f.name == "guide.md")
    lib.rename(guide, "intro.md")
    lib.set_tags([guide], ["docs", "v2"])
    assert {f.name for f in lib.model.files()} == {"intro.md", "notes.txt"}
    qtbot.keyClicks(lib.search, "v2")
    assert lib.model.rowCount() == 1
    lib.search.clear()
    window.projects.add_files(lib.model.files())
    assert len(window.project_panel.picked.ids()) == 2
    lib.table.selectRow(0)
    qtbot.keyClick(lib.table, Qt.Key.Key_Delete)
    assert lib.model.rowCount() == 1
    assert len(window.project_panel.picked.ids()) == 1  # a deleted file leaves the project too
    lib.undo_delete()
    assert lib.model.rowCount() == 2
    assert {f.name for f in window.store.list_files()} == {"intro.md", "notes.txt"}


def test_autosave_within_a_second_and_reopen_where_you_left_off(window: MainWindow, qtbot: Any, run: Any,
                                                                data_dir: Path, dispose: Any) -> None:
    p = window.projects.create("Autosave", ProjectData(script=json.loads(json.dumps(SCRIPT))))
    window.editor.select_card(1)

    def saved_narration() -> str:
        with sqlite3.connect(data_dir / "library.sqlite3") as db:  # what a crash right now would leave
            data = json.loads(db.execute("SELECT data FROM projects WHERE id=?", (p.id,)).fetchone()[0])
        return str(data["script"]["cards"][1]["narration"])

    async def scenario() -> float:
        saved = asyncio.get_running_loop().create_future()
        window.projects.autosave.timeout.connect(lambda: saved.done() or saved.set_result(None))
        window.editor.narration.setFocus()
        window.editor.narration.selectAll()
        qtbot.keyClicks(window.editor.narration, "Typed just now.")
        typed = time.monotonic()
        await asyncio.wait_for(saved, 5)
        return time.monotonic() - typed

    delay = run(scenario())
    assert delay < 1.0
    assert saved_narration() == "Typed just now."
    window.close()
    # a new window (a restart) reopens the same project on the same card
    w2 = MainWindow(window.store)
    w2.start()
    assert w2.project is not None and w2.project.id == p.id
    assert w2.editor.current_row() == 1
    assert w2.editor.narration.toPlainText() == "Typed just now."
    dispose(w2)


def test_corrupt_project_is_reported_and_startup_goes_on(data_dir: Path, aloop: Any, qapp: Any, dispose: Any) -> None:
    s = Store(data_dir)
    s.create_project("Fine", ProjectData(prompt="ok"))
    s.create_project("Broken")
    with sqlite3.connect(data_dir / "library.sqlite3") as db:
        db.execute("UPDATE projects SET data='[1, 2' WHERE name='Broken'")
    w = MainWindow(s)
    w.start()
    qapp.processEvents()
    box = w.findChild(QMessageBox, "startupProblems")
    assert box is not None and "'Broken' is corrupt" in box.text()
    assert w.project is not None and w.project.name == "Fine"
    dispose(w)
    s.close()


def test_backup_and_restore_from_the_window(window: MainWindow, run: Any, tmp_path: Path) -> None:
    async def scenario() -> None:
        window.library.import_paths(_files(tmp_path))
        await Op.wait_all()
        window.projects.create("Backed up", ProjectData(prompt="keep me"))
        window.backups.export(tmp_path / "backup.zip")
        await Op.wait_all()

    run(scenario())
    assert (tmp_path / "backup.zip").is_file()
    window.projects.create("After the backup")
    window.backups.restore(tmp_path / "backup.zip")
    names = [p.name for p in window.store.list_projects()]
    assert "Backed up" in names and "After the backup" not in names
    assert window.library.model.rowCount() == 2


def test_settings_dialog_shows_and_clears_the_voice_cache(window: MainWindow, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from app.ui.settings_dialog import SettingsDialog

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    voice_dir = tmp_path / "cache" / "reelwright" / "voice"
    voice_dir.mkdir(parents=True)
    (voice_dir / "abc.wav").write_bytes(b"\0" * 4096)
    (voice_dir / "abc.json").write_text("{}")
    dlg = SettingsDialog(window.settings, window.store.root, window)
    assert "KB" in dlg.cache_label.text()
    dlg.clear_button.click()
    assert not any(voice_dir.iterdir())
    assert "freed" in dlg.cache_label.text()
    dlg.fps.setCurrentIndex(dlg.fps.findData(25))
    assert dlg.result_settings().fps == 25
    assert str(window.store.root) in dlg.data_label.text()


def test_about_names_versions_and_theme_follows_override(qapp: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    text = about_text()
    assert "Qt" in text and "PySide6" in text and "GPL-3.0-or-later" in text
    from app.ui.app import apply_theme

    monkeypatch.setenv("REELWRIGHT_THEME", "dark")
    apply_theme(qapp)
    assert qapp.palette().color(QPalette.ColorRole.Window).lightness() < 80
    monkeypatch.setenv("REELWRIGHT_THEME", "light")
    apply_theme(qapp)
    assert qapp.palette().color(QPalette.ColorRole.Window).lightness() > 180


def test_sign_in_entry_is_present(window: MainWindow) -> None:
    menus = {a.text(): a.menu() for a in window.menuBar().actions()}
    names = [a.text() for a in menus["&Cloud"].actions()]
    assert names[:3] == ["Sign in…", "Account…", "Sign out"] and "Cloud setup…" in names


def test_preview_shows_pdf_first_page_text_and_highlighted_code(window: MainWindow, run: Any,
                                                                tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    for text in ("Welcome to Acme. Page one explains signing up.", "Page two is about billing."):
        pdf.add_page()
        pdf.set_font("helvetica", size=12)
        pdf.cell(0, 10, text)
    pdf.output(str(tmp_path / "guide.pdf"))
    (tmp_path / "flow.py").write_text("from playwright.sync_api import sync_playwright\n"
                                      "page.goto('https://example.com')  # open\n")
    lib = window.library

    async def scenario() -> None:
        lib.import_paths([tmp_path / "guide.pdf", tmp_path / "flow.py"])
        await Op.wait_all()
        for name in ("guide.pdf", "flow.py"):
            row = next(r for r in range(lib.model.rowCount()) if lib.model.index(r, 0).data() == name)
            lib.table.selectRow(row)
            await Op.wait_all()
            if name == "guide.pdf":
                text = lib.preview.toPlainText()
                assert text.startswith("[page 1 of 2]") and "signing up" in text and "billing" not in text
            else:
                assert "page.goto" in lib.preview.toPlainText()
                assert lib._highlighter is not None and lib._highlighter.language == "python"

    run(scenario())


def test_draft_can_be_cancelled_from_the_status_bar(window: MainWindow, qtbot: Any, run: Any,
                                                    tmp_path: Path) -> None:
    async def scenario() -> None:
        window.library.import_paths(_files(tmp_path))
        await Op.wait_all()
        window.projects.add_files(window.library.model.files())
        qtbot.mouseClick(window.project_panel.draft_button, Qt.MouseButton.LeftButton)
        assert window.op_bar.isVisible() and window.op_bar.cancel_button.isVisible()
        [op] = list(Op.running)
        qtbot.mouseClick(window.op_bar.cancel_button, Qt.MouseButton.LeftButton)
        await Op.wait_all()
        from app.core.errors import Cancelled

        assert isinstance(op.error, Cancelled)
        assert window.findChild(QMessageBox, "errorDialog") is None  # a cancel is not an error
        assert window.doc.is_empty() and window.project_panel.draft_button.isEnabled()
        assert not window.op_bar.isVisible()

    run(scenario())


def test_window_layout_is_remembered(store: Store, aloop: Any, dispose: Any) -> None:
    w = MainWindow(store)
    w.start()
    w.show()
    w.resize(820, 640)  # the offscreen screen is small; Qt keeps windows on it
    w.log_dock.show()
    size = (w.width(), w.height())
    w.close()
    w2 = MainWindow(store)
    # Qt fits a restored window onto the (800 px wide) offscreen screen, so compare the height
    assert w2.height() == size[1] != 900
    assert not w2.log_dock.isHidden()
    dispose(w)
    dispose(w2)


def test_a_library_entry_whose_file_vanished_is_reported_not_fatal(window: MainWindow, run: Any,
                                                                  tmp_path: Path) -> None:
    lib = window.library
    messages: list[str] = []
    lib.message.connect(messages.append)

    async def scenario() -> None:
        lib.import_paths(_files(tmp_path))
        await Op.wait_all()
        gone = next(f for f in lib.model.files() if f.name == "notes.txt")
        window.store.blob_path(gone.sha256).unlink()
        lib.check_files()
        await Op.wait_all()

    run(scenario())
    assert any("lost their stored content" in m for m in messages)
    row = next(r for r in range(lib.model.rowCount()) if lib.model.file_at(r).name == "notes.txt")
    assert lib.model.index(row, 0).data(Qt.ItemDataRole.ForegroundRole) is not None
    assert "missing" in lib.model.index(row, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert lib.model.rowCount() == 2  # reported, kept: the user decides


def test_new_projects_use_the_default_settings_and_the_example_can_be_reopened(window: MainWindow) -> None:
    window.settings.width, window.settings.height, window.settings.fps = 1080, 1920, 25
    p = window.projects.create("Vertical")
    # the default format goes into the new project's (card-less) script, which its first draft starts from
    assert p.data.script is not None and p.data.script["cards"] == []
    assert {k: p.data.script["settings"][k] for k in ("width", "height", "fps")} == \
        {"width": 1080, "height": 1920, "fps": 25}
    assert window.render_panel.formats.format.currentData() == "9:16"
    window.projects.open_example()
    assert window.project is not None and window.project.name == "Quickstart example"
    assert window.doc.cards.rowCount() >= 2 and window.doc.problems == []
    assert window.library.model.total() >= 1
    assert (window.store.project_dir(window.project.id) / "site").is_dir()
