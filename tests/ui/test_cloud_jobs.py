"""The Cloud jobs view against the local emulator (a moto server, the production state machine and a
recorder subprocess per task): a cloud render submitted from the app outlives the window, a new window
lists it, sees it finish (and says so), fetches it into the project's history, shares a link that
downloads the video; a job submitted elsewhere shows up and can be cancelled."""

from __future__ import annotations

import asyncio
import shutil
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_cloud_flow import cloud_home  # noqa: F401  (the fixture: a private cloud home per test)
from test_flow import SITE, _media_loaded, _two_card_script  # tests/ui is on sys.path (rootdir)

from app.ui.main_window import MainWindow
from app.ui.ops import Op
from app.ui.qt import QApplication, QSystemTrayIcon, Qt, QUrl
from app.workbench.cloud_jobs import CloudJob, CloudJobStore
from app.workbench.storage import ProjectData, Store

pytestmark = [pytest.mark.ui]

EMAIL, PASSWORD = "ada@example.com", "Correct-horse-9"


async def _until(check: Callable[[], Any], timeout_s: float, what: str) -> Any:
    """Let the Qt loop run until ``check()`` is truthy (the app's own poll timer drives the changes)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if loop.time() > end:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        await asyncio.sleep(0.1)


async def _open_window(store: Store) -> MainWindow:
    w = MainWindow(store)
    w.start()
    w.show()
    op = w.cloud.restore()  # the saved session: signed in without a dialog, as at app start
    assert op is not None and op.task is not None
    await op.task
    assert w.cloud.signed_in and w.cloud.email == EMAIL
    return w


def _click(qtbot: Any, widget: Any) -> None:
    assert widget.isEnabled(), f"{widget.objectName()} is disabled"
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def test_the_view_lists_stored_jobs_with_their_state_and_offers_what_each_allows(
        store: Store, aloop: Any, cloud_home: Path, dispose: Any, qtbot: Any) -> None:  # noqa: F811
    """No cloud needed: what the view shows of the stored list, signed out and (as far as the buttons
    go) signed in."""
    jobs = CloudJobStore(store.root)
    video = store.root / "renders" / "video.mp4"
    video.parent.mkdir(parents=True)
    video.write_bytes(b"not really a video")
    base = {"project_id": 1, "project_name": "Demo", "format": "854×480 24 fps", "account": EMAIL}
    jobs.add(CloudJob.model_validate({**base, "job_id": "20261205-100000-aaaaaa", "script": "Done and fetched",
                                      "submitted": 100.0, "status": "Complete", "output": str(video),
                                      "expires": "2026-12-12"}))
    jobs.add(CloudJob.model_validate({**base, "job_id": "20261205-110000-bbbbbb", "script": "Broke",
                                      "submitted": 200.0, "status": "Failed",
                                      "error": "card 2 'Sign in': no button 'Go'"}))
    jobs.add(CloudJob.model_validate({**base, "job_id": "20261205-120000-cccccc", "script": "Running",
                                      "submitted": 300.0, "status": "Rendering", "progress": 0.42}))
    w = MainWindow(store)
    w.start()
    w.show()
    try:
        panel = w.jobs_panel
        act = w.findChild(object, "viewCloudJobs")
        assert act.shortcut().toString() == "Ctrl+3"
        act.trigger()
        assert w.tabs.currentWidget() is panel and w.tabs.tabText(w.tabs.currentIndex()) == "Cloud jobs"
        m = panel.model
        assert [m.data(m.index(r, 0)) for r in range(m.rowCount())] == ["Running", "Broke", "Done and fetched"]
        assert [m.data(m.index(r, 4)) for r in range(m.rowCount())] == \
            ["Rendering", "Failed: card 2 'Sign in': no button 'Go'", "Fetched"]
        assert [m.data(m.index(r, 6)) for r in range(m.rowCount())] == ["", "", "2026-12-12"]  # Expires
        bar = panel.table.indexWidget(m.index(0, 5))
        assert bar is not None and bar.value() == 420
        # signed out: the list is there, nothing that needs the cloud is offered, and nothing is polled
        assert "Not signed in" in panel.account.text() and not panel.refresh_button.isEnabled()
        w.cloud_jobs.tick()
        assert w.cloud_jobs.poll_op is None
        assert panel.select("20261205-110000-bbbbbb")
        assert "no button 'Go'" in panel.detail.text()
        assert panel.select("20261205-100000-aaaaaa")
        assert not panel.fetch_button.isEnabled() and not panel.share_button.isEnabled()
        assert panel.open_button.isEnabled() and panel.reveal_button.isEnabled()
        # the buttons a signed-in user gets, per state
        panel.set_account(EMAIL, polling=True)
        assert panel.fetch_button.isEnabled() and panel.share_button.isEnabled()
        assert not panel.cancel_button.isEnabled()
        assert panel.select("20261205-120000-cccccc")
        assert panel.cancel_button.isEnabled() and not panel.fetch_button.isEnabled()
        assert panel.select("20261205-110000-bbbbbb")
        assert not any(b.isEnabled() for b in (panel.fetch_button, panel.cancel_button, panel.share_button,
                                               panel.open_button))
        # a job that ends: one notification (no tray offscreen: the status bar), never twice
        told: list[str] = []
        w.cloud_jobs.notified.connect(lambda _job, via: told.append(via))
        done = jobs.update("20261205-120000-cccccc", status="Complete", progress=1.0)
        assert done is not None
        w.renders.job_changed.emit(done)
        w.renders.job_changed.emit(done)
        assert told == ["tray" if QSystemTrayIcon.isSystemTrayAvailable() else "status bar"]
        assert "'Running' is ready to fetch" in w.statusBar().currentMessage()
    finally:
        dispose(w)


@pytest.mark.slow
@pytest.mark.browser
def test_a_cloud_job_outlives_the_window_and_is_fetched_shared_and_cancelled(
        store: Store, aloop: Any, cloud_home: Path, dispose: Any, qtbot: Any, run: Any,  # noqa: F811
        tmp_path: Path) -> None:
    emulator_mod = pytest.importorskip("app.cloud.emulator.local")
    from app.cloud.client import CloudClient
    from app.core.script import Script
    from app.workbench import services

    windows: list[MainWindow] = []

    async def scenario() -> None:
        emu = emulator_mod.Emulator(workdir=tmp_path / "emulator")
        config = await emu.start()
        try:
            config.save()
            cli = CloudClient(config)  # the account UI is not under test here: sign up as the CLI does
            await cli.sign_up(EMAIL, PASSWORD)
            await cli.confirm(EMAIL, "123456")
            await cli.sign_in(EMAIL, PASSWORD)
            # ask the tenant once now, so the saved session the windows reuse carries it: moto's GetId
            # hands out a new identity per call where AWS returns the same one for the same login
            await cli.identity()

            # -- window 1: submit a cloud render, then close the window right after the submit
            w1 = await _open_window(store)
            windows.append(w1)
            p = w1.projects.create("Cloud demo", ProjectData(script=_two_card_script()))
            shutil.copytree(SITE, w1.store.project_dir(p.id) / "site")
            rp = w1.render_panel
            rp.target.setCurrentIndex(rp.target.findData("cloud"))
            rp.select_size(854, 480)
            rp.select_fps(24)
            submitted: list[CloudJob] = []
            w1.renders.job_changed.connect(submitted.append)
            _click(qtbot, rp.render_button)
            await _until(lambda: submitted, 60, "the job to be submitted")
            job_id = submitted[0].job_id
            rec = CloudJobStore(store.root).get(job_id)
            assert rec is not None and (rec.project_id, rec.project_name, rec.script, rec.format) == \
                (p.id, "Cloud demo", "Acme tour", "854×480 24 fps")
            assert w1.jobs_panel.model.row_of(job_id) == 0  # listed at once in the open window too
            w1.close()
            await Op.wait_all()
            # closing stopped watching, not the render: the job was not cancelled
            assert (await cli.status(job_id)).state != "Cancelled"
            [record] = [r for r in p.data.history if r.job_id == job_id]
            assert record.status == "Rendering" and record.target == "cloud"
            # the closed window stays (hidden, its poll timer stopped) until the scenario ends: deleting
            # a MainWindow inside the running loop (dispose() or deleteLater) crashed later tests now and
            # then; the fixtures dispose windows outside the loop, and so does this test

            # -- window 2 on the same data folder: the job is listed and followed to its end
            w2 = await _open_window(store)
            windows.append(w2)
            panel, ctl = w2.jobs_panel, w2.cloud_jobs
            told: list[tuple[CloudJob, str]] = []
            ctl.notified.connect(lambda job, via: told.append((job, via)))
            w2.findChild(object, "viewCloudJobs").trigger()
            assert w2.tabs.currentWidget() is panel
            await _until(lambda: panel.model.row_of(job_id) >= 0, 10, "the job in the new window's list")
            await _until(lambda: any(j.job_id == job_id for j, _ in told), 90, "the job to finish")
            job = CloudJobStore(store.root).get(job_id)
            assert job is not None and job.status == "Complete"
            [(_, via)] = [(j, v) for j, v in told if j.job_id == job_id]
            # offscreen there is no system tray: the status bar says it (and the log)
            assert via == ("tray" if QSystemTrayIcon.isSystemTrayAvailable() else "status bar")
            assert "Acme tour" in w2.statusBar().currentMessage()
            assert "ready to fetch" in w2.statusBar().currentMessage()

            # Fetch: into the project's render history, the same record the submit made
            assert panel.select(job_id)
            assert panel.fetch_button.isEnabled() and not panel.open_button.isEnabled()
            _click(qtbot, panel.fetch_button)
            await Op.wait_all()
            project = w2.projects.project
            assert project is not None and project.id == p.id
            [record] = [r for r in project.data.history if r.job_id == job_id]
            assert record.status == "Complete" and record.output and Path(record.output).is_file()
            assert len(record.chapters) == 2 and (record.duration_s or 0) > 1
            saved = next(x for x in store.list_projects() if x.id == p.id)
            assert [r.status for r in saved.data.history if r.job_id == job_id] == ["Complete"]
            if w2.render_panel.player is not None:  # the fetched video is in the open project's player
                assert w2.render_panel.player.source() == QUrl.fromLocalFile(record.output)
                await _media_loaded(w2.render_panel.player)
            fetched = CloudJobStore(store.root).get(job_id)
            assert fetched is not None and fetched.output == record.output
            assert "Fetched" in panel.model.data(panel.model.index(panel.model.row_of(job_id), 4))

            # Copy share link: a URL on the clipboard that downloads the very video
            _click(qtbot, panel.share_button)
            await Op.wait_all()
            url = QApplication.clipboard().text()
            assert url.startswith(config.endpoint_url or "http"), url
            assert "works until" in panel.notice.text()
            # the time told is the link's real end: the emulator's credentials outlive it by no second
            link = ctl.last_share
            assert link is not None and link.url == url
            assert ctl.cloud.client is not None
            assert link.expires <= (ctl.cloud.client.auth.credentials_expire or 0)
            body = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=10).read())
            assert body == Path(record.output).read_bytes()

            # Open video: in the Render view's player; Reveal: the folder, in the file manager
            _click(qtbot, panel.open_button)
            assert w2.tabs.currentWidget() is w2.render_panel
            if w2.render_panel.player is not None:
                assert w2.render_panel.player.source() == QUrl.fromLocalFile(record.output)
            w2.tabs.setCurrentWidget(panel)
            opened: list[QUrl] = []
            ctl.open_url = opened.append  # records what the desktop's file manager would be asked
            _click(qtbot, panel.reveal_button)
            assert opened == [QUrl.fromLocalFile(str(Path(record.output).parent))]

            # -- a job submitted elsewhere (the CLI) appears on Refresh, and Cancel stops it
            script = Script.model_validate(_two_card_script())
            other = await cli.submit(services.make_job(script, store.project_dir(p.id)))
            _click(qtbot, panel.refresh_button)
            await _until(lambda: panel.model.row_of(other) >= 0, 20, "the CLI's job in the list")
            listed = CloudJobStore(store.root).get(other)
            assert listed is not None and listed.origin == "server" and not listed.terminal
            assert panel.select(other)
            _click(qtbot, panel.cancel_button)
            ended = await _until(lambda: (j := CloudJobStore(store.root).get(other)) is not None and j.terminal and j,
                                 60, "the cancelled job to end")
            assert ended.status == "Cancelled"
            assert not any(j.job_id == other for j, _ in told)  # the user's own cancel is not announced
            assert panel.select(other)
            assert not panel.fetch_button.isEnabled() and not panel.cancel_button.isEnabled()
            assert panel.model.data(panel.model.index(panel.model.row_of(other), 4)) == "Cancelled"
        finally:
            for w in windows:
                if w.isVisible():
                    w.close()
            await Op.wait_all()
            await emu.stop()

    # closing the only window would quit the app and stop the test's event loop with it: here the
    # "restart" is a second MainWindow in the same process, on the same data folder and cloud home
    quit_on_close = QApplication.quitOnLastWindowClosed()
    QApplication.setQuitOnLastWindowClosed(False)
    try:
        run(scenario())
    finally:
        QApplication.setQuitOnLastWindowClosed(quit_on_close)
        for w in windows:
            dispose(w)
    QApplication.processEvents()
