"""Issue 14's "done when", in one sitting and without a terminal: a new user configures the cloud from
the stack's outputs, creates an account, renders locally in a 9:16 format in two languages, previews a
card, renders in the cloud, quits, and in the restarted app finds the cloud job, fetches it and shares
a link that downloads the very video.

Everything goes through the app's own controls (Cloud setup, Account, format bar, Languages, card
editor, Render view, Cloud jobs). Real parts: Qt widgets offscreen, Chromium, Piper/espeak-ng, ffmpeg,
the emulator (a moto server with the production state machine and a real recorder subprocess as the
Fargate task). The translation comes from the drafting tests' named fake LLM server; the Settings
dialog that points the app at such an endpoint is covered by its own tests, so it is set directly."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from test_cloud_flow import cloud_home  # noqa: F401  (a private cloud home per test)
from test_cloud_jobs import _until
from test_flow import SITE, _media_loaded, _two_card_script  # tests/ui is on sys.path (rootdir)

from app.ui.main_window import MainWindow
from app.ui.ops import Op
from app.ui.qt import QApplication, Qt
from app.workbench.cloud_jobs import CloudJob, CloudJobStore
from app.workbench.storage import ProjectData, Store

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))  # the drafting tests' fakes live there
from draft_fakes import FakeChatCompletionsServer

pytestmark = [pytest.mark.ui, pytest.mark.slow, pytest.mark.browser]

EMAIL, PASSWORD = "lin@example.com", "Correct-horse-9"
WELCOME_FR, START_FR = "Voici Acme Notes.", "Appuyez sur commencer."


def _click(qtbot: Any, widget: Any) -> None:
    assert widget.isEnabled(), f"{widget.objectName()} is disabled"
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def _type(qtbot: Any, edit: Any, text: str) -> None:
    edit.clear()
    qtbot.keyClicks(edit, text)


def _probe(video: Path) -> tuple[int, int, str]:
    """(width, height, audio codec) of ``video``, by ffprobe."""
    from app.core.infra.tools import find_ffprobe

    ffprobe = find_ffprobe()
    assert ffprobe is not None
    out = subprocess.run([str(ffprobe), "-v", "error", "-show_entries", "stream=codec_type,codec_name,width,height",
                          "-of", "json", str(video)], capture_output=True, text=True, check=True, timeout=30).stdout
    streams = json.loads(out)["streams"]
    v = next(s for s in streams if s["codec_type"] == "video")
    a = next(s for s in streams if s["codec_type"] == "audio")
    return int(v["width"]), int(v["height"]), str(a["codec_name"])


def test_a_user_who_never_opens_a_terminal(store: Store, aloop: Any, cloud_home: Path,  # noqa: F811
                                           dispose: Any, qtbot: Any, run: Any, tmp_path: Path) -> None:
    emulator_mod = pytest.importorskip("app.cloud.emulator.local")
    from app.cloud.config import STACK_OUTPUTS

    chat = FakeChatCompletionsServer()
    windows: list[MainWindow] = []

    def open_window() -> MainWindow:
        w = MainWindow(store)
        w.settings.openai_base_url = chat.base_url  # what Settings › Drafting would hold
        w.settings.openai_model = "fake-llm"
        w.start()
        w.show()
        windows.append(w)
        return w

    async def scenario() -> None:
        emu = emulator_mod.Emulator(workdir=tmp_path / "emulator")
        cfg = await emu.start()
        try:
            w = open_window()

            # -- Cloud › Cloud setup…: paste the stack's outputs (as the CloudFormation console lists them)
            w.cloud_setup_action.trigger()
            setup = w.cloud.setup_dialog
            assert setup is not None and setup.isVisible() and not setup.isModal()
            outputs = [{"OutputKey": k, "OutputValue": getattr(cfg, f)} for k, f in STACK_OUTPUTS.items()
                       if getattr(cfg, f) is not None]  # a stack without the share option has no share outputs
            setup.paste.setPlainText(json.dumps({"Stacks": [{"StackName": "reelwright", "Outputs": outputs}]}))
            _click(qtbot, setup.parse_button)
            assert not setup.error.isVisible(), setup.error.text()
            _type(qtbot, setup.fields["endpoint_url"], cfg.endpoint_url or "")  # the emulator's address
            _click(qtbot, setup.save_button)
            await Op.wait_all()
            assert "Saved to" in setup.result_label.text(), setup.error.text()
            setup.close()

            # -- Cloud › Account…: create an account, confirm it with the mailed code, sign in
            w.account_action.trigger()
            dlg = w.cloud.dialog
            assert dlg is not None and dlg.isVisible()
            _click(qtbot, dlg.create_link)
            _type(qtbot, dlg.email, EMAIL)
            _type(qtbot, dlg.new_password, PASSWORD)
            _type(qtbot, dlg.new_password2, PASSWORD)
            _click(qtbot, dlg.sign_up_button)
            await Op.wait_all()
            assert dlg.page == "confirm", dlg.error.text()
            _type(qtbot, dlg.code, "123456")  # moto accepts any code
            _click(qtbot, dlg.findChild(object, "confirmOk"))
            await Op.wait_all()
            _click(qtbot, dlg.findChild(object, "signInOk"))
            await Op.wait_all()
            assert w.cloud.email == EMAIL and not dlg.isVisible(), dlg.error.text()

            # -- a project (the library and drafting have their own tests): two cards on a local site
            p = w.projects.create("Walkthrough", ProjectData(script=_two_card_script(), drafter="openai"))
            shutil.copytree(SITE, w.store.project_dir(p.id) / "site")
            w.project_panel.set_drafter("openai")

            # -- a 9:16 format, chosen in the Render view and kept in the script
            rp = w.render_panel
            w.tabs.setCurrentWidget(rp)
            bar = rp.formats
            bar.format.setCurrentIndex(bar.format.findData("9:16"))
            settings = w.doc.data["settings"]
            assert (settings["width"], settings["height"]) == (1080, 1920)
            rp.select_fps(24)

            # -- Script › Languages…: add French, translate it with the model, render both languages
            langs = w.open_languages()
            qtbot.keyClicks(langs.new_tag, "fr")
            _click(qtbot, langs.add_button)
            chat.reply_content(json.dumps({"text": WELCOME_FR}))
            chat.reply_content(json.dumps({"text": START_FR}))
            _click(qtbot, langs.translate_button)
            await Op.wait_all()
            assert [w.doc.cards.card(r)["narration_i18n"]["fr"] for r in range(2)] == [WELCOME_FR, START_FR]
            _click(qtbot, langs.render_all_button)
            await Op.wait_all()
            assert "Complete" in rp.status.text(), rp.status.text()
            outcome = w.renders.last_language_outcome
            assert list(outcome.results) == ["en", "fr"]
            for lang, result in outcome.results.items():
                video = Path(result.video)
                assert video.name == f"video.{lang}.mp4"
                assert _probe(video) == (1080, 1920, "aac")
            fr_captions = Path(outcome.results["fr"].video).with_suffix(".srt").read_text(encoding="utf-8")
            assert WELCOME_FR in fr_captions and START_FR in fr_captions
            langs.close()

            # -- preview one card in the editor: only that card is filmed, and it plays inline
            editor = w.editor
            w.tabs.setCurrentWidget(editor)
            editor.select_card(1)
            _click(qtbot, editor.preview_button)
            await Op.wait_all()
            preview = editor.preview
            assert preview.status.text().startswith("Card 2 'Get started'"), preview.status.text()
            if preview.player is not None:
                await _media_loaded(preview.player)

            # -- the cloud: the same project, 16:9 this time, then quit while it renders
            w.tabs.setCurrentWidget(rp)
            rp.select_size(854, 480)
            rp.target.setCurrentIndex(rp.target.findData("cloud"))
            submitted: list[CloudJob] = []
            w.renders.job_changed.connect(submitted.append)
            _click(qtbot, rp.render_button)
            await _until(lambda: submitted, 60, "the cloud job to be submitted")
            job_id = submitted[0].job_id
            w.close()
            await Op.wait_all()

            # -- the app again (same data folder, same saved session): the job is there, ends, is fetched
            w2 = open_window()
            op = w2.cloud.restore()
            assert op is not None and op.task is not None
            await op.task
            assert w2.cloud.email == EMAIL  # no sign-in asked for
            panel = w2.jobs_panel
            w2.findChild(object, "viewCloudJobs").trigger()
            await _until(lambda: panel.model.row_of(job_id) >= 0, 10, "yesterday's job in the list")
            await _until(lambda: (j := CloudJobStore(store.root).get(job_id)) is not None and j.terminal, 120,
                         "the cloud job to end")
            job = CloudJobStore(store.root).get(job_id)
            assert job is not None and job.status == "Complete", job
            assert panel.select(job_id)
            _click(qtbot, panel.fetch_button)
            await Op.wait_all()
            fetched = CloudJobStore(store.root).get(job_id)
            assert fetched is not None and fetched.output and Path(fetched.output).is_file()
            assert _probe(Path(fetched.output))[:2] == (854, 480)
            _click(qtbot, panel.share_button)
            await Op.wait_all()
            url = QApplication.clipboard().text()
            body = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=10).read())
            assert body == Path(fetched.output).read_bytes()
            assert not [b for b in w2.findChildren(object, "errorDialog") if b.isVisible()]
        finally:
            for win in windows:
                if win.isVisible():
                    win.close()
            await Op.wait_all()
            await emu.stop()

    quit_on_close = QApplication.quitOnLastWindowClosed()
    QApplication.setQuitOnLastWindowClosed(False)  # the "restart" is a second window in this process
    try:
        run(scenario())
    finally:
        QApplication.setQuitOnLastWindowClosed(quit_on_close)
        for win in windows:
            dispose(win)
        chat.close()
    QApplication.processEvents()
