"""The script's polish settings, edited in the app: camera, music, intro/outro, poster, preview and the
per-card camera — through the real widgets, undone and redone, autosaved, and read back by the core's
validation and the job the render uses."""

from __future__ import annotations

import asyncio
import json
import math
import sqlite3
import struct
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.core.mix.music import resolve_music
from app.core.script import validate_script
from app.ui.document import ScriptDocument
from app.ui.main_window import MainWindow
from app.ui.ops import Op
from app.ui.qt import QComboBox, Qt
from app.ui.video_settings import VideoSettingsDialog, VideoSettingsPanel
from app.workbench import services
from app.workbench.storage import ProjectData, Store

pytestmark = pytest.mark.ui

SCRIPT = {"title": "Tour", "settings": {"base_url": "http://127.0.0.1:9/"},
          "cards": [{"id": "a", "title": "First", "narration": "Hello there.", "actions": []},
                    {"id": "b", "title": "Second", "narration": "Bye now.", "actions": []}]}


@pytest.fixture
def window(store: Store, aloop: Any, dispose: Any) -> Iterator[MainWindow]:
    w = MainWindow(store)
    w.start()
    w.show()
    yield w
    aloop.run_until_complete(Op.wait_all())
    if w.video_settings_dialog is not None:
        w.video_settings_dialog.close()
    dispose(w)


def _choose(combo: QComboBox, value: Any) -> None:
    i = combo.findData(value)
    assert i >= 0, f"{value!r} is not offered by {combo.objectName()}"
    combo.setCurrentIndex(i)


def _retype(qtbot: Any, line: Any, text: str) -> None:
    line.setFocus()
    line.selectAll()
    qtbot.keyClick(line, Qt.Key.Key_Backspace)
    qtbot.keyClicks(line, text)


def _saved_script(data_dir: Path, project_id: int) -> dict[str, Any]:
    with sqlite3.connect(data_dir / "library.sqlite3") as db:  # what a crash right now would leave
        data = json.loads(db.execute("SELECT data FROM projects WHERE id=?", (project_id,)).fetchone()[0])
    return dict(data["script"])


def test_video_settings_are_undoable_autosaved_and_reach_the_render(window: MainWindow, qtbot: Any, run: Any,
                                                                   data_dir: Path, dispose: Any) -> None:
    p = window.projects.create("Polish", ProjectData(script=json.loads(json.dumps(SCRIPT))))
    doc = window.doc
    window.tabs.setCurrentWidget(window.render_panel)
    qtbot.mouseClick(window.render_panel.video_settings, Qt.MouseButton.LeftButton)
    dlg = window.video_settings_dialog
    assert isinstance(dlg, VideoSettingsDialog) and dlg.isVisible()
    panel = dlg.panel
    # the defaults of the script model are what the widgets show for a script that names none
    assert panel.camera.currentData() == "off" and panel.music.currentData() == ""
    assert not panel.music_volume.isEnabled() and panel.volume_label.text() == "35 %"
    assert not panel.intro.isChecked() and not panel.outro.isChecked() and not panel.poster.isChecked()
    assert panel.preview.currentData() == "none"
    start = doc.undo_stack.index()

    _choose(panel.camera, "strong")
    _choose(panel.music, "bundled:calm")
    assert panel.music_volume.isEnabled()
    panel.music_volume.setValue(50)
    panel.music_volume.setValue(70)  # one drag: one undo step
    assert panel.volume_label.text() == "70 %"
    panel.intro.setChecked(True)
    assert panel.intro.title_edit.text() == "Tour"  # the intro starts from the script's title
    qtbot.keyClicks(panel.intro.title_edit, " of the app")
    qtbot.keyClicks(panel.intro.subtitle, "Version 2")
    _retype(qtbot, panel.intro.color, "#ff8800")
    panel.outro.setChecked(True)
    qtbot.keyClicks(panel.outro.title_edit, "Thanks for watching")
    qtbot.mouseClick(panel.poster, Qt.MouseButton.LeftButton)
    _choose(panel.preview, "gif")
    window.editor.select_card(0)
    assert window.editor.camera.currentText() == "Script default (strong)"
    _choose(window.editor.camera, "gentle")

    steps = doc.undo_stack.index() - start
    # camera, music, volume, intro on, title, subtitle, colour, outro on, outro title, poster, preview, card
    assert steps == 12, [doc.undo_stack.text(i) for i in range(doc.undo_stack.count())]

    def check_applied() -> None:
        script = validate_script(doc.to_data())
        s = script.settings
        assert (s.camera, s.music, s.music_volume, s.poster, s.preview) == ("strong", "bundled:calm", 0.7,
                                                                            True, "gif")
        assert s.intro is not None and s.outro is not None
        assert (s.intro.title, s.intro.subtitle, s.intro.brand_color) == ("Tour of the app", "Version 2", "#ff8800")
        assert s.outro.title == "Thanks for watching" and s.outro.brand_color == "#4f46e5"
        assert s.base_url == "http://127.0.0.1:9/"  # the other settings are untouched
        assert [c.camera for c in script.cards] == ["gentle", None]
        # the job the Render button builds from the document sees the same values
        assert doc.script is not None
        job = services.make_job(doc.script, window.store.project_dir(p.id))
        eff = job.effective_settings()
        assert (eff.camera, eff.music, eff.preview, eff.poster) == ("strong", "bundled:calm", "gif", True)
        assert eff.intro is not None and eff.intro.title == "Tour of the app"

    check_applied()
    assert not doc.problems

    # autosaved like any other edit
    async def autosaved() -> None:
        saved = asyncio.get_running_loop().create_future()
        window.projects.autosave.timeout.connect(lambda: saved.done() or saved.set_result(None))
        if window.projects.autosave.isActive():
            await asyncio.wait_for(saved, 5)

    run(autosaved())
    on_disk = validate_script(_saved_script(data_dir, p.id))
    assert on_disk.settings.intro is not None and on_disk.settings.intro.subtitle == "Version 2"
    assert on_disk.settings.camera == "strong" and on_disk.cards[0].camera == "gentle"

    # the dialog's Undo takes the card's camera back first, then everything else, one step at a time
    qtbot.mouseClick(dlg.undo_button, Qt.MouseButton.LeftButton)
    assert doc.cards.card(0).get("camera") is None
    assert window.editor.camera.currentIndex() == 0
    while doc.undo_stack.index() > start:
        doc.undo_stack.undo()
    assert doc.to_data()["settings"] == SCRIPT["settings"]
    assert panel.camera.currentData() == "off" and panel.music.currentData() == ""
    assert not panel.intro.isChecked() and not panel.outro.isChecked() and not panel.poster.isChecked()
    assert panel.preview.currentData() == "none" and panel.music_volume.value() == 35
    assert window.editor.camera.currentText() == "Script default (off)"
    assert start == 0 and not dlg.undo_button.isEnabled()

    while doc.undo_stack.canRedo():
        doc.undo_stack.redo()
    check_applied()
    # and the widgets show the redone values
    assert panel.camera.currentData() == "strong" and panel.music.currentData() == "bundled:calm"
    assert panel.music_volume.value() == 70 and panel.intro.isChecked() and panel.outro.isChecked()
    assert panel.intro.title_edit.text() == "Tour of the app" and panel.intro.color.text() == "#ff8800"
    assert panel.poster.isChecked() and panel.preview.currentData() == "gif"
    assert window.editor.camera.currentData() == "gentle"

    # reopening the project (a restart) shows the same settings
    window.projects.save_now()
    window.close()
    w2 = MainWindow(window.store)
    w2.start()
    dlg2 = w2.open_video_settings()
    assert dlg2.panel.intro.subtitle.text() == "Version 2" and dlg2.panel.camera.currentData() == "strong"
    dlg2.close()
    dispose(w2)


def test_switching_a_title_card_off_and_on_keeps_what_was_typed(qtbot: Any) -> None:
    doc = ScriptDocument()
    doc.load(json.loads(json.dumps(SCRIPT)))
    panel = VideoSettingsPanel(doc)
    qtbot.addWidget(panel)
    panel.outro.setChecked(True)
    qtbot.keyClicks(panel.outro.title_edit, "See you")
    qtbot.keyClicks(panel.outro.narration, "Thanks!")
    panel.outro.setChecked(False)
    assert "outro" not in doc.to_data()["settings"]
    panel.outro.setChecked(True)
    assert doc.to_data()["settings"]["outro"] == {"title": "See you", "subtitle": "", "brand_color": "#4f46e5",
                                                  "narration": "Thanks!"}
    # a half-typed colour waits (marked) instead of breaking the script
    _retype(qtbot, panel.outro.color, "#12")
    assert doc.to_data()["settings"]["outro"]["brand_color"] == "#4f46e5"
    assert "d35400" in panel.outro.color.styleSheet()
    qtbot.keyClicks(panel.outro.color, "34ab")
    assert doc.to_data()["settings"]["outro"]["brand_color"] == "#1234ab"
    assert panel.outro.color.styleSheet() == ""
    assert validate_script(doc.to_data()).settings.outro is not None
    # a script the core rejects shows its settings problem in the panel
    doc.set_setting("music_volume", 3.0)
    assert doc.script is None
    assert panel.problems.isVisibleTo(panel) and "music_volume" in panel.problems.text()
    doc.undo_stack.undo()
    assert doc.script is not None and not panel.problems.isVisibleTo(panel)


def test_key_badges_are_chosen_per_script_and_undone(qtbot: Any) -> None:
    doc = ScriptDocument()
    doc.load(json.loads(json.dumps(SCRIPT)))
    panel = VideoSettingsPanel(doc)
    qtbot.addWidget(panel)
    assert panel.key_badges.currentData() == "off" and "key_badges" not in doc.to_data()["settings"]
    _choose(panel.key_badges, "mac")
    assert validate_script(doc.to_data()).settings.key_badges == "mac"
    _choose(panel.key_badges, "windows")
    doc.undo_stack.undo()
    assert panel.key_badges.currentData() == "mac" and doc.to_data()["settings"]["key_badges"] == "mac"


def _wav(path: Path, seconds: float = 0.3, rate: int = 22050) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        frames = b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
                          for i in range(int(seconds * rate)))
        w.writeframes(frames)
    return path


def test_a_library_audio_file_becomes_the_music_bed(window: MainWindow, run: Any, tmp_path: Path) -> None:
    p = window.projects.create("Music", ProjectData(script=json.loads(json.dumps(SCRIPT))))

    async def imported() -> None:
        window.library.import_paths([_wav(tmp_path / "theme song.wav")])
        await Op.wait_all()

    run(imported())
    dlg = window.open_video_settings()
    panel = dlg.panel
    assert panel.music.findData("\x00library") >= 0  # "Audio file from the library…" is offered
    files = panel.audio_files()
    assert [name for name, _ in files] == ["theme song.wav"]
    rel = panel.use_audio_file(*files[0])
    assert rel == "music/theme_song.wav"
    assert doc_settings(window)["music"] == rel
    assert panel.music.currentText() == "File: theme_song.wav"
    script = validate_script(window.doc.to_data())
    job = services.make_job(script, window.store.project_dir(p.id))
    bed = resolve_music(job.effective_settings(), job.resolve)  # what the render does with it
    assert bed is not None and bed.path.read_bytes() == (tmp_path / "theme song.wav").read_bytes()
    window.doc.undo_stack.undo()
    assert "music" not in doc_settings(window) and panel.music.currentData() == ""


def doc_settings(window: MainWindow) -> dict[str, Any]:
    return dict(window.doc.to_data().get("settings") or {})
