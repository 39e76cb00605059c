"""The app's cloud path against the local emulator (a moto server, the production state machine and a
recorder subprocess per task): sign in through the dialog → render in the cloud → the outputs come
back into the same player, chapters and history as a local render."""

from __future__ import annotations

import asyncio
import shutil
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_flow import SITE, _media_loaded, _two_card_script  # tests/ui is on sys.path (rootdir)

from app.ui.main_window import MainWindow
from app.ui.ops import Op
from app.ui.qt import QApplication, Qt
from app.workbench.cloud_jobs import ALL_VARIANTS
from app.workbench.storage import ProjectData, Store

pytestmark = [pytest.mark.ui, pytest.mark.slow, pytest.mark.browser]


@pytest.fixture
def cloud_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "cloud"
    monkeypatch.setenv("REELWRIGHT_CLOUD_HOME", str(home))
    monkeypatch.setenv("REELWRIGHT_CLOUD_CONFIG", str(home / "config.json"))
    monkeypatch.setenv("REELWRIGHT_NO_KEYRING", "1")
    return home


@pytest.fixture
def window(store: Store, aloop: Any, cloud_home: Path, dispose: Any) -> Iterator[MainWindow]:
    w = MainWindow(store)
    w.start()
    w.show()
    yield w
    for op in list(Op.running):
        op.cancel()
    aloop.run_until_complete(Op.wait_all())
    dispose(w)


def test_sign_in_and_render_in_the_cloud(window: MainWindow, qtbot: Any, run: Any, tmp_path: Path) -> None:
    emulator_mod = pytest.importorskip("app.cloud.emulator.local")

    p = window.projects.create("Cloud demo", ProjectData(script=_two_card_script()))
    shutil.copytree(SITE, window.store.project_dir(p.id) / "site")
    rp = window.render_panel

    async def scenario() -> None:
        emu = emulator_mod.Emulator(workdir=tmp_path / "emulator")
        try:
            await _signed_in_for_the_cloud(window, qtbot, emu)
            stages: list[str] = []
            qtbot.mouseClick(rp.render_button, Qt.MouseButton.LeftButton)
            [op] = list(Op.running)
            op.progressed.connect(lambda pr: stages.append(pr.stage))
            await Op.wait_all()
            assert op.error is None, op.error
            assert "Complete" in rp.status.text() and "cloud job" in rp.status.text()
            assert "upload" in stages and "download" in stages
            assert rp.chapters.count() == 2
            record = window.project.data.history[-1]
            assert record.target == "cloud" and record.status == "Complete"
            assert Path(record.output).is_file()
            await _media_loaded(rp.player)
            # the storyboard's stills come from the video that came back, as after a local render
            from app.workbench.storyboard import thumbnail_dir

            stills = thumbnail_dir(window.store.project_dir(p.id))
            assert sorted(x.name for x in stills.iterdir()) == ["start.jpg", "welcome.jpg"]
            sb = window.editor.storyboard
            assert all(sb.has_thumbnail(card_id) for card_id in ("welcome", "start"))
        finally:
            await emu.stop()

    run(scenario())
    QApplication.processEvents()


FRENCH = ["Voici Acme Notes.", "Appuyez sur commencer."]


def _french_project(window: MainWindow) -> Any:
    script = _two_card_script()
    script["settings"]["languages"] = [{"lang": "fr"}]
    for card, text in zip(script["cards"], FRENCH, strict=True):
        card["narration_i18n"] = {"fr": text}
    p = window.projects.create("Cloud languages", ProjectData(script=script))
    shutil.copytree(SITE, window.store.project_dir(p.id) / "site")
    return p


async def _signed_in_for_the_cloud(window: MainWindow, qtbot: Any, emu: Any) -> None:
    """A new account, signed in through the dialog; the Render view set to the cloud at 854x480@24."""
    from app.cloud.client import CloudClient

    config = await emu.start()
    config.save()
    signup = CloudClient(config)
    await signup.sign_up("ada@example.com", "Correct-horse-9")
    await signup.confirm("ada@example.com", "123456")
    assert not window.render_panel.target.model().item(1).isEnabled()
    window.sign_in_action.trigger()
    dlg = window.cloud.dialog
    qtbot.keyClicks(dlg.email, "ada@example.com")
    qtbot.keyClicks(dlg.password, "Correct-horse-9")
    qtbot.mouseClick(dlg.findChild(object, "signInOk"), Qt.MouseButton.LeftButton)
    await Op.wait_all()
    assert window.cloud.email == "ada@example.com"
    rp = window.render_panel
    assert rp.target.model().item(1).isEnabled()  # cloud is offered only once signed in
    assert "Sign out" in window.sign_in_action.text()
    rp.target.setCurrentIndex(rp.target.findData("cloud"))
    rp.select_size(854, 480)
    rp.select_fps(24)


def test_a_language_rendered_in_the_cloud_is_a_cloud_job_like_any_other(
        window: MainWindow, qtbot: Any, run: Any, tmp_path: Path) -> None:
    """Languages… › Render this language with the Cloud target: the job is in the Cloud jobs list (so
    it survives closing the window and can be fetched and shared), and its video carries the
    translation.  Before, this door submitted a job the list never heard of."""
    emulator_mod = pytest.importorskip("app.cloud.emulator.local")
    from app.workbench.cloud_jobs import CloudJobStore

    p = _french_project(window)
    french = FRENCH
    rp = window.render_panel

    async def scenario() -> None:
        emu = emulator_mod.Emulator(workdir=tmp_path / "emulator")
        try:
            await _signed_in_for_the_cloud(window, qtbot, emu)
            langs = window.open_languages()
            langs.select_language("fr")
            assert langs.current_language() == "fr"
            qtbot.mouseClick(langs.render_one_button, Qt.MouseButton.LeftButton)
            await Op.wait_all()
            assert "Complete" in rp.status.text() and "cloud job" in rp.status.text(), rp.status.text()
            record = window.project.data.history[-1]
            assert record.target == "cloud" and record.status == "Complete" and record.job_id
            job = CloudJobStore(window.store.root).get(record.job_id)
            assert job is not None and job.status == "Complete", job
            assert job.script == "Acme tour (fr)" and job.project_id == p.id
            captions = Path(record.output).with_suffix(".srt")
            assert captions.is_file(), sorted(Path(record.output).parent.iterdir())
            text = captions.read_text(encoding="utf-8")
            assert all(t in text for t in french) and "This is Acme Notes." not in text
            langs.close()
        finally:
            await emu.stop()

    run(scenario())
    QApplication.processEvents()


def test_every_language_renders_in_the_cloud_at_once(
        window: MainWindow, qtbot: Any, run: Any, tmp_path: Path) -> None:
    """Languages… › Render all languages with the Cloud target: one fan-out cloud job with a variant per
    language (the state machine renders them in parallel), listed once in Cloud jobs with its variants,
    one history record per language, each video in its variant's folder with its own narration; and the
    Jobs view's Fetch brings every variant's outputs back."""
    emulator_mod = pytest.importorskip("app.cloud.emulator.local")
    from app.workbench.cloud_jobs import CloudJobStore

    p = _french_project(window)
    rp = window.render_panel

    async def scenario() -> None:
        emu = emulator_mod.Emulator(workdir=tmp_path / "emulator")
        try:
            await _signed_in_for_the_cloud(window, qtbot, emu)
            langs = window.open_languages()
            assert langs.languages() == ["en", "fr"]
            qtbot.mouseClick(langs.render_all_button, Qt.MouseButton.LeftButton)
            await Op.wait_all()
            assert "Complete</b>" in rp.status.text() and "failed" not in rp.status.text(), rp.status.text()
            outcome = window.renders.last_language_outcome
            assert sorted(outcome.results) == ["en", "fr"] and not outcome.failed
            records = window.project.data.history[-2:]
            assert [r.target for r in records] == ["cloud", "cloud"]
            assert [r.status for r in records] == ["Complete", "Complete"], [r.error for r in records]
            [job] = CloudJobStore(window.store.root).jobs()  # one submission, not one per language
            assert job.script == "Acme tour (en, fr)" and job.project_id == p.id, job
            assert job.status == "Complete" and job.variants == {"en": "Complete", "fr": "Complete"}, job
            assert {r.job_id for r in records} == {job.job_id} == {outcome.job_id}
            # the cloud ran them as the variants of one execution
            client = window.cloud.client
            assert client is not None
            st = await client.status(job.job_id)
            assert [v.variant.name for v in st.variants] == ["en", "fr"]
            for lang, o in outcome.results.items():
                assert o.render.video.parent == outcome.output_dir / lang
                text = o.render.video.with_suffix(".srt").read_text(encoding="utf-8")
                if lang == "fr":
                    assert all(t in text for t in FRENCH) and "This is Acme Notes." not in text
                else:
                    assert "This is Acme Notes." in text and FRENCH[0] not in text
            langs.close()

            # the Jobs view shows the one job with its variants and fetches every variant's outputs
            panel = window.jobs_panel
            window.findChild(object, "viewCloudJobs").trigger()
            assert panel.select(job.job_id)
            assert "2 variants: en (Complete), fr (Complete)" in panel.detail.text(), panel.detail.text()
            assert panel.fetch_button.isEnabled()
            qtbot.mouseClick(panel.fetch_button, Qt.MouseButton.LeftButton)
            await Op.wait_all()
            fetched = CloudJobStore(window.store.root).get(job.job_id)
            assert fetched is not None and fetched.output, fetched
            folder = Path(fetched.output).parent.parent
            assert {d.name for d in folder.iterdir() if (d / "video.mp4").is_file()} == {"en", "fr"}

            # Copy share link: a menu of each variant's link and all of them (the button alone would be
            # one video of two); each link downloads its own variant's video
            assert panel.share_button.isEnabled() and panel.share_button.menu() is panel.share_menu
            acts = {a.data(): a for a in panel.share_menu.actions() if a.data()}
            assert [a.text() for a in acts.values()] == ["Link to en", "Link to fr", "All 2 links, one line each"]

            def download(url: str) -> bytes:
                return bytes(urllib.request.urlopen(url, timeout=10).read())

            acts["fr"].trigger()  # what picking it in the menu does
            await Op.wait_all()
            url = QApplication.clipboard().text()
            assert url.startswith("http") and "\n" not in url, url
            assert "the fr video of 'Acme tour (en, fr)'" in panel.notice.text(), panel.notice.text()
            assert await asyncio.to_thread(download, url) == (folder / "fr" / "video.mp4").read_bytes()
            acts[ALL_VARIANTS].trigger()
            await Op.wait_all()
            lines = QApplication.clipboard().text().splitlines()
            assert [line.split(": ", 1)[0] for line in lines] == ["en", "fr"], lines
            for line in lines:
                name, url = line.split(": ", 1)
                assert await asyncio.to_thread(download, url) == (folder / name / "video.mp4").read_bytes()
            assert "2 share links" in panel.notice.text() and "each works until" in panel.notice.text()
        finally:
            await emu.stop()

    run(scenario())
    QApplication.processEvents()
