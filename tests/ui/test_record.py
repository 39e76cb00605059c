"""The Record button and dialog, and saved sessions in the library panel.

The end-to-end test runs the real recorder (Playwright codegen, headed Chromium) on a private Xvfb display
while the app itself stays offscreen, drives the recorder's browser over DevTools with trusted input, closes
its window, and checks the flow lands in the library and the project and is imported.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import stat
import threading
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
from recorder_driver import RecorderBrowser, free_port, sign_in, signed_in_tour, write_devtools_wrapper, xvfb

from app.core.infra.siteserver import SiteServer
from app.ui.main_window import MainWindow
from app.ui.ops import Op
from app.ui.qt import QMessageBox, Qt
from app.ui.record_dialog import RecordDialog
from app.workbench.recorder import RecordRequest
from app.workbench.sessions import SessionStore
from app.workbench.storage import Store, export_backup

pytestmark = [pytest.mark.ui]

REPO = Path(__file__).resolve().parents[2]
SITE = REPO / "resources" / "examples" / "quickstart" / "site"
SHOTS = REPO / ".reelwright-test"
SECRET = "sekrit-cookie-4f1c"
Run = Callable[[Coroutine[Any, Any, Any]], Any]


def _state(path: Path) -> Path:
    path.write_text(json.dumps({"cookies": [{"name": "sid", "value": SECRET, "domain": "x", "path": "/"}],
                                "origins": []}))
    return path


@pytest.fixture
def window(store: Store, qtbot: Any, aloop: Any, dispose: Any) -> Iterator[MainWindow]:
    w = MainWindow(store)
    w.start()
    w.show()
    yield w
    w.close()
    aloop.run_until_complete(Op.wait_all())
    dispose(w)


def test_record_dialog_checks_the_form_and_shows_sessions_by_name(store: Store, tmp_path: Path, qtbot: Any) -> None:
    SessionStore(store.root).save("lumen-admin", _state(tmp_path / "a.json"))
    dlg = RecordDialog(SessionStore(store.root).list())
    qtbot.addWidget(dlg)
    dlg.show()
    assert dlg.record_button.isVisible() and not dlg.stop_button.isVisible() and not dlg.status.isVisible()
    items = [dlg.session.itemText(i) for i in range(dlg.session.count())]
    assert items == ["— not signed in —", "🔒 lumen-admin"]
    requests: list[RecordRequest] = []
    dlg.start_requested.connect(requests.append)

    qtbot.mouseClick(dlg.record_button, Qt.MouseButton.LeftButton)
    assert dlg.error.isVisible() and "give the address" in dlg.error.text()
    qtbot.keyClicks(dlg.url, "ftp://files.example.com")
    qtbot.mouseClick(dlg.record_button, Qt.MouseButton.LeftButton)
    assert "not a web address" in dlg.error.text()
    dlg.url.clear()
    qtbot.keyClicks(dlg.url, "localhost:8000/signin.html")
    assert not dlg.save_name.isEnabled()
    dlg.save.setChecked(True)
    assert dlg.save_name.isEnabled()
    qtbot.mouseClick(dlg.record_button, Qt.MouseButton.LeftButton)
    assert "give the session a name" in dlg.error.text() and not requests
    qtbot.keyClicks(dlg.save_name, "lumen")
    dlg.session.setCurrentIndex(1)
    qtbot.mouseClick(dlg.record_button, Qt.MouseButton.LeftButton)
    assert len(requests) == 1
    req = requests[0]
    assert (req.url, req.load_session, req.save_session, req.target) == (
        "http://localhost:8000/signin.html", "lumen-admin", "lumen", "python")
    assert not dlg.error.isVisible()

    dlg.set_recording(True)
    assert dlg.status.isVisible() and "close the browser window to finish" in dlg.status.text()
    assert dlg.stop_button.isVisible() and not dlg.record_button.isVisible() and not dlg.url.isEnabled()
    stops: list[bool] = []
    dlg.stop_requested.connect(lambda: stops.append(True))
    dlg.reject()  # Esc while recording stops the recording, it does not just hide the dialog
    assert stops == [True] and dlg.isVisible()
    SHOTS.mkdir(exist_ok=True)
    assert dlg.grab().save(str(SHOTS / "record-dialog-recording.png"))
    dlg.set_recording(False)
    assert dlg.grab().save(str(SHOTS / "record-dialog.png"))


def test_sessions_are_listed_masked_deletable_and_out_of_backups(window: MainWindow, tmp_path: Path,
                                                                 run: Run) -> None:
    lib = window.library
    assert not lib.sessions_list.isVisibleTo(window)  # no sessions: no section
    saved = SessionStore(window.store.root).save("lumen", _state(tmp_path / "s.json"))
    assert stat.S_IMODE(saved.path.stat().st_mode) == 0o600
    lib.reload()
    assert lib.sessions_list.isVisibleTo(window)
    item = lib.sessions_list.item(0)
    assert item.text() == f"🔒 lumen · saved {saved.saved_text}"
    assert item.toolTip().startswith("lumen — signed-in session (contents hidden)")
    assert SECRET not in item.text() + item.toolTip()

    # the backup leaves it out unless the user says yes (the question defaults to No)
    box_seen: list[str] = []

    def answer(box: QMessageBox) -> int:
        box_seen.append(box.text())
        return int(QMessageBox.StandardButton.No)

    import app.ui.controllers.backup as backup_mod

    orig = backup_mod.QMessageBox.exec
    backup_mod.QMessageBox.exec = answer  # type: ignore[assignment,method-assign]
    try:
        assert window.backups.ask_include_sessions() is False
    finally:
        backup_mod.QMessageBox.exec = orig  # type: ignore[method-assign]
    assert box_seen and "1 saved session" in box_seen[0]
    run(Op.wait_all())
    archive = export_backup(window.store, tmp_path / "b.zip")
    import zipfile

    with zipfile.ZipFile(archive) as zf:
        assert not [n for n in zf.namelist() if "sessions" in n]

    lib.delete_session("lumen", confirm=False)
    assert SessionStore(window.store.root).list() == []
    assert not lib.sessions_list.isVisibleTo(window)


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.skipif(not (shutil.which("Xvfb") and Path("/usr/bin/chromium").is_file()),
                    reason="needs Xvfb and /usr/bin/chromium")
def test_record_button_records_for_real_and_the_flow_lands_in_library_and_project(
        window: MainWindow, qtbot: Any, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = {p.relative_to(SITE).as_posix(): p for p in SITE.rglob("*") if p.is_file()}
    server = SiteServer(files).start()
    port = free_port()
    monkeypatch.setenv("REELWRIGHT_CHROMIUM", str(write_devtools_wrapper(tmp_path, port)))
    window.project_panel.set_drafter("offline")
    errors: list[BaseException] = []

    def drive(start_url: str) -> None:
        async def main() -> None:
            b = RecorderBrowser(port)
            try:
                await b.attach(start_url)
                await b.wait_for("document.readyState === 'complete'")
                await b.click("#email")
                await b.type("maya@northwind.test")
                await b.click("#password")
                await b.type("hunter22")
                await b.click("button[type=submit]")
                await b.wait_for("location.pathname.endsWith('/dashboard.html')")
                await asyncio.sleep(0.4)
                await b.close_window()
            finally:
                await b.aclose()

        try:
            asyncio.run(main())
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            errors.append(exc)

    try:
        with xvfb() as display:
            monkeypatch.setenv("DISPLAY", display)  # for the recorder's browser; the app stays offscreen

            async def scenario() -> None:
                qtbot.mouseClick(window.library.record_button, Qt.MouseButton.LeftButton)
                dlg = window.recorder.dialog
                assert dlg is not None and dlg.isVisible()
                start = f"{server.base_url}/signin.html"
                qtbot.keyClicks(dlg.url, start)
                dlg.save.setChecked(True)
                qtbot.keyClicks(dlg.save_name, "lumen")
                qtbot.mouseClick(dlg.record_button, Qt.MouseButton.LeftButton)
                assert dlg.stop_button.isVisible() and "Recording…" in dlg.status.text()
                # the window stays live while the recorder runs
                await asyncio.sleep(0.3)
                assert window.recorder.op is not None and window.isEnabled()
                t = threading.Thread(target=drive, args=(start,), daemon=True)
                t.start()
                await Op.wait_all()  # the recording, then the import (draft) it starts
                t.join(10)

            run(asyncio.wait_for(scenario(), 120))
    finally:
        server.stop()
    assert not errors, errors
    assert window.recorder.dialog is None  # closed once the flow landed
    names = [f.name for f in window.library.model.files()]
    assert len(names) == 1 and names[0].startswith("recorded-127.0.0.1-") and names[0].endswith(".py")
    assert [f.name for f in window.project_panel.picked.files()] == names
    doc = window.doc
    assert doc.cards.rowCount() >= 1 and doc.problems == [], doc.problems
    actions = [a for r in range(doc.cards.rowCount()) for a in doc.cards.card(r).get("actions", [])]
    assert actions[0]["type"] == "goto" and actions[0]["url"].endswith("/signin.html")
    assert {"type": "fill", "value": "maya@northwind.test"}.items() <= next(
        a for a in actions if a["type"] == "fill").items()
    assert window.library.sessions_list.count() == 1
    assert window.library.sessions_list.item(0).text().startswith("🔒 lumen · saved ")
    assert "Recorded recorded-127.0.0.1-" in window.statusBar().currentMessage()
    # saved with the project
    window.projects.save_now()
    project = next(p for p in window.store.list_projects() if p.id == window.project.id)  # type: ignore[union-attr]
    assert project.data.files == [window.library.model.files()[0].id]
    assert project.data.script is not None


def test_a_recorder_that_cannot_start_says_why_in_the_dialog(window: MainWindow, qtbot: Any, run: Run,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    dlg = window.recorder.open_dialog()
    qtbot.keyClicks(dlg.url, "http://127.0.0.1:9/")
    qtbot.mouseClick(dlg.record_button, Qt.MouseButton.LeftButton)
    run(Op.wait_all())
    assert dlg.isVisible() and dlg.record_button.isVisible() and not dlg.stop_button.isVisible()
    assert "no display here" in dlg.error.text() and "Traceback" not in dlg.error.text()
    assert window.findChild(object, "errorDialog") is None  # said once, in the dialog
    assert window.library.model.rowCount() == 0


def _browser_processes(port: int) -> list[int]:
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            raw = cmdline.read_bytes()
            state = (cmdline.parent / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if f"--remote-debugging-port={port}".encode() in raw and state != "Z":
            pids.append(int(cmdline.parent.name))
    return pids


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.skipif(not (shutil.which("Xvfb") and Path("/usr/bin/chromium").is_file()),
                    reason="needs Xvfb and /usr/bin/chromium")
def test_stop_recording_ends_the_recorder_and_its_browser_and_keeps_nothing(
        window: MainWindow, qtbot: Any, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = {p.relative_to(SITE).as_posix(): p for p in SITE.rglob("*") if p.is_file()}
    server = SiteServer(files).start()
    port = free_port()
    monkeypatch.setenv("REELWRIGHT_CHROMIUM", str(write_devtools_wrapper(tmp_path, port)))
    try:
        with xvfb() as display:
            monkeypatch.setenv("DISPLAY", display)

            async def scenario() -> None:
                dlg = window.recorder.open_dialog()
                start = f"{server.base_url}/index.html"
                qtbot.keyClicks(dlg.url, start)
                qtbot.mouseClick(dlg.record_button, Qt.MouseButton.LeftButton)
                b = RecorderBrowser(port)
                try:
                    await b.attach(start)  # the recorder's window is open
                finally:
                    await b.aclose()
                assert _browser_processes(port)
                qtbot.mouseClick(dlg.stop_button, Qt.MouseButton.LeftButton)
                await Op.wait_all()
                assert dlg.isVisible() and "Recording stopped; nothing was kept." in dlg.error.text()
                assert dlg.record_button.isVisible() and dlg.url.isEnabled()

            run(asyncio.wait_for(scenario(), 90))
            assert not _browser_processes(port), "the recorder's browser survived Stop"
    finally:
        server.stop()
    assert window.library.model.rowCount() == 0 and window.store.list_files() == []
    assert not list((window.store.root / "tmp").glob("record-*"))


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.skipif(not (shutil.which("Xvfb") and Path("/usr/bin/chromium").is_file()),
                    reason="needs Xvfb and /usr/bin/chromium")
def test_record_button_records_the_signed_in_tour_from_a_saved_session(
        window: MainWindow, qtbot: Any, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 13's "the Record button produces such a flow": signed in from a saved session chosen in the Record
    dialog, a popup opened, acted on and closed, a confirm answered, a report downloaded."""
    files = {p.relative_to(SITE).as_posix(): p for p in SITE.rglob("*") if p.is_file()}
    server = SiteServer(files).start()
    port = free_port()
    monkeypatch.setenv("REELWRIGHT_CHROMIUM", str(write_devtools_wrapper(tmp_path, port)))
    window.project_panel.set_drafter("offline")
    errors: list[BaseException] = []
    try:
        asyncio.run(sign_in(server.base_url, tmp_path / "signed-in.json"))
        SessionStore(window.store.root).save("lumen", tmp_path / "signed-in.json")
        window.library.reload()
        with xvfb() as display:
            monkeypatch.setenv("DISPLAY", display)

            def drive() -> None:
                try:
                    asyncio.run(signed_in_tour(port, server.base_url, display, SHOTS))
                except BaseException as exc:  # noqa: BLE001 - reported by the test thread
                    errors.append(exc)

            async def scenario() -> None:
                qtbot.mouseClick(window.library.record_button, Qt.MouseButton.LeftButton)
                dlg = window.recorder.dialog
                assert dlg is not None and dlg.isVisible()
                qtbot.keyClicks(dlg.url, f"{server.base_url}/reports.html")
                dlg.session.setCurrentIndex(dlg.session.findData("lumen"))
                assert dlg.session.currentText() == "🔒 lumen"
                qtbot.mouseClick(dlg.record_button, Qt.MouseButton.LeftButton)
                t = threading.Thread(target=drive, daemon=True)
                t.start()
                await Op.wait_all()  # the recording, then the draft it starts
                t.join(10)

            run(asyncio.wait_for(scenario(), 120))
    finally:
        server.stop()
    assert not errors, errors
    assert window.recorder.dialog is None
    doc = window.doc
    assert doc.problems == [], doc.problems
    assert (doc.data.get("settings") or {}).get("session") == "sessions/lumen.json"
    actions = [a for r in range(doc.cards.rowCount()) for a in doc.cards.card(r).get("actions", [])]
    kinds = [a["type"] for a in actions]
    assert actions[0]["type"] == "goto" and actions[0]["url"].endswith("/reports.html")
    opens = next(i for i, a in enumerate(actions) if a.get("opens") == "page1")
    closed, dialog = kinds.index("close_page"), kinds.index("dialog")
    export = next(i for i, a in enumerate(actions) if a.get("download"))
    assert opens < closed < dialog < export, kinds
    assert actions[dialog + 1]["target"]["name"] == "Delete report"
    assert actions[export]["target"]["name"] == "Export CSV"
    (f,) = window.library.model.files()
    assert "sessions/lumen.json" in window.store.blob_path(f.sha256).read_text()
