"""The Languages view with real widgets and the real core: add German, translate the missing cards with
the drafting tests' named fake LLM server (FakeChatCompletionsServer), edit a translation by hand,
break a bookmark and see the warning, play the German voice (real espeak-ng), and render every
language of the two-card script (real Chromium, ffmpeg) into two MP4s."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_flow import SITE, _two_card_script  # tests/ui is on sys.path (rootdir)

from app.ui.main_window import MainWindow
from app.ui.ops import Op
from app.ui.qt import Qt
from app.workbench.storage import ProjectData, Store

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))  # the drafting tests' fakes live there
from draft_fakes import FakeChatCompletionsServer

pytestmark = [pytest.mark.ui]

WELCOME_DE = "Das ist Acme Notes."
START_DE = 'Drücken Sie <mark name="go"/> auf Los geht\'s.'


def _script() -> dict[str, Any]:
    script = _two_card_script()
    script["cards"][1]["narration"] = 'Press <mark name="go"/>get started.'
    script["cards"][1]["actions"][0]["at"] = "go"
    return script


@pytest.fixture
def chat() -> Iterator[FakeChatCompletionsServer]:
    fake = FakeChatCompletionsServer()
    yield fake
    fake.close()


@pytest.fixture
def window(store: Store, qtbot: Any, aloop: Any, dispose: Any, chat: FakeChatCompletionsServer) -> Iterator[MainWindow]:
    w = MainWindow(store)
    w.settings.openai_base_url = chat.base_url
    w.settings.openai_model = "fake-llm"
    w.start()
    w.show()
    p = w.projects.create("Languages demo", ProjectData(script=_script(), drafter="openai"))
    shutil.copytree(SITE, w.store.project_dir(p.id) / "site")
    w.project_panel.set_drafter("openai")
    yield w
    w.close()
    aloop.run_until_complete(Op.wait_all())
    dispose(w)


@pytest.mark.slow
@pytest.mark.browser
def test_add_translate_edit_warn_play_and_render_every_language(window: MainWindow, qtbot: Any, run: Any,
                                                                 chat: FakeChatCompletionsServer) -> None:
    doc = window.doc
    dlg = window.open_languages()
    assert dlg.isVisible() and not dlg.isModal()
    assert [dlg.language_list.item(i).text() for i in range(dlg.language_list.count())] == ["en — base narration"]

    # add German: espeak-ng speaks it offline (the bundled Piper voice is English)
    qtbot.keyClicks(dlg.new_tag, "de")
    qtbot.mouseClick(dlg.add_button, Qt.MouseButton.LeftButton)
    assert doc.data["settings"]["languages"] == [{"lang": "de", "provider": "espeak", "voice": "de"}]
    assert dlg.current_language() == "de" and dlg.provider.currentData() == "espeak"
    assert [r.warning.text() for r in dlg.rows] == ["⚠ not translated into de yet"] * 2

    # translate the missing cards with the fake model: one request per card, one undo step in all
    chat.reply_content(json.dumps({"text": WELCOME_DE}))
    chat.reply_content(json.dumps({"text": START_DE}))
    steps = doc.undo_stack.count()

    async def translate() -> None:
        qtbot.mouseClick(dlg.translate_button, Qt.MouseButton.LeftButton)
        assert not dlg.translate_button.isEnabled() and dlg.op_bar.isVisible()  # progress + cancel in place
        await Op.wait_all()

    run(translate())
    assert [doc.cards.card(r)["narration_i18n"]["de"] for r in range(2)] == [WELCOME_DE, START_DE]
    assert [r.text.toPlainText() for r in dlg.rows] == [WELCOME_DE, START_DE]
    assert not any(r.warning.isVisible() for r in dlg.rows)
    assert doc.undo_stack.count() == steps + 1
    user = chat.requests[1][1]["messages"][1]["content"]
    assert "German (de)" in user and json.dumps('Press <mark name="go"/>get started.') in user
    window.undo_action.trigger()
    assert "narration_i18n" not in doc.cards.card(0)
    window.redo_action.trigger()
    assert dlg.rows[1].text.toPlainText() == START_DE

    # edit by hand: typing goes into the script (one undo step per card, like the narration)
    row0 = dlg.rows[0].text
    row0.setFocus()
    row0.moveCursor(row0.textCursor().MoveOperation.End)
    qtbot.keyClicks(row0, " Willkommen!")
    assert doc.cards.card(0)["narration_i18n"]["de"] == WELCOME_DE + " Willkommen!"

    # break the bookmark the click fires on: the card says so, from the core's validation too
    dlg.rows[1].text.setPlainText("Drücken Sie auf Los geht's.")
    warning = dlg.rows[1].warning
    assert warning.isVisible()
    assert "missing go" in warning.text() and "lacks bookmark(s) go that actions fire on" in warning.text()
    assert doc.script is None  # the script is invalid until the mark is back
    window.undo_action.trigger()
    assert dlg.rows[1].text.toPlainText() == START_DE and not warning.isVisible()

    async def play_and_render() -> None:
        # play the German voice of card 1 (real espeak-ng)
        qtbot.mouseClick(dlg.rows[0].play_button, Qt.MouseButton.LeftButton)
        await Op.wait_all()
        clip = window.renders.last_clip
        assert clip is not None and clip.duration_s > 0.5 and clip.path.is_file()

        # render both languages at a small size → video.en.mp4 and video.de.mp4
        rp = window.render_panel
        rp.select_size(854, 480)
        rp.select_fps(24)
        qtbot.mouseClick(dlg.render_all_button, Qt.MouseButton.LeftButton)
        await Op.wait_all()
        assert "Complete" in rp.status.text(), rp.status.text()

    run(play_and_render())
    outcome = window.renders.last_language_outcome
    assert list(outcome.results) == ["en", "de"]
    videos = [Path(r.video) for r in outcome.results.values()]
    assert [v.name for v in videos] == ["video.en.mp4", "video.de.mp4"]
    assert all(v.stat().st_size > 10_000 for v in videos)
    assert window.project is not None and window.project.data.history[-1].status == "Complete"


def test_a_card_the_model_cannot_translate_is_named_beside_it(window: MainWindow, qtbot: Any, run: Any,
                                                              chat: FakeChatCompletionsServer) -> None:
    dlg = window.open_languages()
    dlg.add_language("fr", "espeak", "fr")
    chat.reply_content(json.dumps({"text": "Voici Acme Notes."}))
    for _ in range(3):  # drops the bookmark every time
        chat.reply_content(json.dumps({"text": "Appuyez sur commencer."}))

    async def translate() -> None:
        dlg.translate()
        await Op.wait_all()

    run(translate())
    assert window.doc.cards.card(0)["narration_i18n"] == {"fr": "Voici Acme Notes."}  # the card done is kept
    assert "narration_i18n" not in window.doc.cards.card(1)
    warning = dlg.rows[1].warning
    assert warning.isVisible() and "card 2 'start'" in warning.text() and "drops bookmark(s) go" in warning.text()
    assert "card 2 'start'" in dlg.status.text()
    assert dlg.translate_button.isEnabled()
    # removing the language removes its translations, as one undo step
    dlg.remove_selected()
    assert "languages" not in window.doc.data["settings"] and "narration_i18n" not in window.doc.cards.card(0)
    window.undo_action.trigger()
    assert window.doc.cards.card(0)["narration_i18n"] == {"fr": "Voici Acme Notes."}


def test_translating_shows_progress_in_the_view_and_cancels_in_place(window: MainWindow, qtbot: Any, run: Any,
                                                                      chat: FakeChatCompletionsServer) -> None:
    dlg = window.open_languages()
    dlg.add_language("de")
    chat.delay_s = 2.0  # a slow model
    chat.reply_content(json.dumps({"text": WELCOME_DE}))
    steps = window.doc.undo_stack.count()

    async def translate_then_cancel() -> None:
        op = dlg.translate(trigger=dlg.translate_button)
        assert op is not None
        deadline = asyncio.get_running_loop().time() + 5
        while not chat.requests:
            assert asyncio.get_running_loop().time() < deadline, "no request reached the fake model"
            await asyncio.sleep(0.05)
        assert dlg.op_bar.isVisible() and dlg.op_bar.cancel_button.isVisible()
        assert "into de" in dlg.op_bar.label.text()  # the op's title or its progress: card 1 'welcome' into de
        t0 = asyncio.get_running_loop().time()
        qtbot.mouseClick(dlg.op_bar.cancel_button, Qt.MouseButton.LeftButton)
        await Op.wait_all()
        assert asyncio.get_running_loop().time() - t0 < 1.0  # the slow answer is not waited for
        assert op.error is not None

    run(translate_then_cancel())
    assert "cancelled; nothing was changed" in dlg.status.text()
    assert "narration_i18n" not in window.doc.cards.card(0) and window.doc.undo_stack.count() == steps
    assert dlg.translate_button.isEnabled() and not dlg.op_bar.isVisible()
