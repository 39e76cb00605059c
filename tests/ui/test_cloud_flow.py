"""The app's cloud path against the local emulator (a moto server, the production state machine and a
recorder subprocess per task): sign in through the dialog → render in the cloud → the outputs come
back into the same player, chapters and history as a local render."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_flow import SITE, _media_loaded, _two_card_script  # tests/ui is on sys.path (rootdir)

from app.ui.main_window import MainWindow
from app.ui.ops import Op
from app.ui.qt import QApplication, Qt
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
    from app.cloud.client import CloudClient

    p = window.projects.create("Cloud demo", ProjectData(script=_two_card_script()))
    shutil.copytree(SITE, window.store.project_dir(p.id) / "site")
    rp = window.render_panel

    async def scenario() -> None:
        emu = emulator_mod.Emulator(workdir=tmp_path / "emulator")
        config = await emu.start()
        try:
            config.save()
            signup = CloudClient(config)
            await signup.sign_up("ada@example.com", "Correct-horse-9")
            await signup.confirm("ada@example.com", "123456")
            # cloud is offered only once signed in
            assert not rp.target.model().item(1).isEnabled()
            window.sign_in_action.trigger()
            dlg = window.cloud.dialog
            qtbot.keyClicks(dlg.email, "ada@example.com")
            qtbot.keyClicks(dlg.password, "Correct-horse-9")
            qtbot.mouseClick(dlg.findChild(object, "signInOk"), Qt.MouseButton.LeftButton)
            await Op.wait_all()
            assert window.cloud.email == "ada@example.com"
            assert rp.target.model().item(1).isEnabled()
            assert "Sign out" in window.sign_in_action.text()

            rp.target.setCurrentIndex(rp.target.findData("cloud"))
            rp.select_size(854, 480)
            rp.select_fps(24)
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
        finally:
            await emu.stop()

    run(scenario())
    QApplication.processEvents()


def test_a_language_rendered_in_the_cloud_is_a_cloud_job_like_any_other(
        window: MainWindow, qtbot: Any, run: Any, tmp_path: Path) -> None:
    """Languages… › Render this language with the Cloud target: the job is in the Cloud jobs list (so
    it survives closing the window and can be fetched and shared), and its video carries the
    translation.  Before, this door submitted a job the list never heard of."""
    emulator_mod = pytest.importorskip("app.cloud.emulator.local")
    from app.cloud.client import CloudClient
    from app.workbench.cloud_jobs import CloudJobStore

    script = _two_card_script()
    script["settings"]["languages"] = [{"lang": "fr"}]
    french = ["Voici Acme Notes.", "Appuyez sur commencer."]
    for card, text in zip(script["cards"], french, strict=True):
        card["narration_i18n"] = {"fr": text}
    p = window.projects.create("Cloud languages", ProjectData(script=script))
    shutil.copytree(SITE, window.store.project_dir(p.id) / "site")
    rp = window.render_panel

    async def scenario() -> None:
        emu = emulator_mod.Emulator(workdir=tmp_path / "emulator")
        config = await emu.start()
        try:
            config.save()
            signup = CloudClient(config)
            await signup.sign_up("ada@example.com", "Correct-horse-9")
            await signup.confirm("ada@example.com", "123456")
            window.sign_in_action.trigger()
            dlg = window.cloud.dialog
            qtbot.keyClicks(dlg.email, "ada@example.com")
            qtbot.keyClicks(dlg.password, "Correct-horse-9")
            qtbot.mouseClick(dlg.findChild(object, "signInOk"), Qt.MouseButton.LeftButton)
            await Op.wait_all()
            assert window.cloud.email == "ada@example.com"
            rp.target.setCurrentIndex(rp.target.findData("cloud"))
            rp.select_size(854, 480)
            rp.select_fps(24)

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
