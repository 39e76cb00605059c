"""Desktop habits: files dropped from the file manager onto the project list, "Reveal in file manager"
and "Open output folder" where a video is shown."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.ui.main_window import MainWindow
from app.ui.ops import Op
from app.ui.qt import QMimeData, QModelIndex, Qt, QUrl
from app.ui.reveal import reveal, reveal_command
from app.workbench.storage import ProjectData, RenderRecord, Store

pytestmark = pytest.mark.ui


@pytest.fixture
def window(store: Store, aloop: Any, dispose: Any) -> Iterator[MainWindow]:
    w = MainWindow(store)
    w.start()
    w.show()
    yield w
    aloop.run_until_complete(Op.wait_all())
    dispose(w)


def test_files_dropped_from_the_file_manager_onto_the_project_land_where_dropped(
        window: MainWindow, run: Any, tmp_path: Path) -> None:
    a, b, c = (tmp_path / n for n in ("a.md", "b.txt", "c.md"))
    for f, text in ((a, "# A\n"), (b, "bee\n"), (c, "# C\n")):
        f.write_text(text)
    p = window.projects.create("Drops", ProjectData())
    window.projects.open(p.id)
    picked = window.project_panel.picked
    run(window.library.import_paths([a]).task)  # type: ignore[arg-type]
    window.projects.add_files(window.library.model.files())
    assert [f.name for f in picked.files()] == ["a.md"]

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(b)), QUrl.fromLocalFile(str(c)), QUrl.fromLocalFile(str(a))])
    assert picked.canDropMimeData(mime, Qt.DropAction.CopyAction, 0, 0, QModelIndex())
    picked.dropMimeData(mime, Qt.DropAction.CopyAction, 0, 0, QModelIndex())
    run(Op.wait_all())
    # imported into the library once each; the file already picked is not added twice
    assert sorted(f.name for f in window.library.model.files()) == ["a.md", "b.txt", "c.md"]
    assert [f.name for f in picked.files()] == ["b.txt", "c.md", "a.md"]
    window.projects.save_now()
    [saved] = [q for q in window.store.list_projects() if q.id == p.id]
    names = {f.id: f.name for f in window.library.model.files()}
    assert [names[i] for i in saved.data.files] == ["b.txt", "c.md", "a.md"]


def test_reveal_commands_select_the_file_on_each_desktop(tmp_path: Path) -> None:
    video = tmp_path / "my video.mp4"
    assert reveal_command(video, "darwin") == ["open", "-R", str(video)]
    assert reveal_command(video, "win32") == ["explorer", f"/select,{video}"]
    gdbus = reveal_command(video, "linux", lambda n: "/usr/bin/gdbus" if n == "gdbus" else None)
    assert gdbus is not None and gdbus[:2] == ["gdbus", "call"]
    assert f"['file://{tmp_path}/my%20video.mp4']" in gdbus
    dbus_send = reveal_command(video, "linux", lambda n: "/usr/bin/x" if n == "dbus-send" else None)
    assert dbus_send is not None and dbus_send[0] == "dbus-send"
    assert reveal_command(video, "linux", lambda n: None) is None  # then the folder opens instead
    assert reveal(tmp_path / "gone.mp4") is False


def test_render_history_offers_play_open_folder_reveal_and_copy(window: MainWindow, tmp_path: Path) -> None:
    video = tmp_path / "out" / "demo.mp4"
    video.parent.mkdir()
    video.write_bytes(b"\0")
    rp = window.render_panel
    rp.set_history([RenderRecord(started=1.0, status="Complete", output=str(video)),
                    RenderRecord(started=2.0, status="Complete", output=str(tmp_path / "moved.mp4"))])
    fresh, old = rp.history.item(1), rp.history.item(0)  # newest first
    menu = rp.history_menu(fresh)
    acts = {a.text(): a.isEnabled() for a in menu.actions()}
    assert acts == {"Play": True, "Open output folder": True, "Reveal in file manager": True, "Copy path": True}
    [copy] = [a for a in menu.actions() if a.text() == "Copy path"]
    copy.trigger()
    from app.ui.qt import QGuiApplication

    assert QGuiApplication.clipboard().text() == str(video)
    assert not any(a.isEnabled() for a in rp.history_menu(old).actions())  # the file is gone
    assert rp.open_folder.text() == "Open output folder"
