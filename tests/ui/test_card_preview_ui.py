"""The card editor's "Preview card": the button (and Ctrl+Shift+P) renders the selected card alone
with progress and cancel in place, and the inline player loads the result.

Real Chromium, real Piper/espeak, real ffmpeg; Qt offscreen."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.ui.main_window import MainWindow
from app.ui.ops import Op
from app.ui.qt import QAction, QKeySequence, Qt
from app.workbench.storage import ProjectData, Store

pytestmark = [pytest.mark.ui, pytest.mark.slow, pytest.mark.browser]

SITE = Path(__file__).parent / "flow_site"
Run = Callable[[Coroutine[Any, Any, Any]], Any]


@pytest.fixture
def window(store: Store, qtbot: Any, aloop: Any, dispose: Any) -> Iterator[MainWindow]:
    w = MainWindow(store)
    w.start()
    w.show()
    yield w
    w.close()
    aloop.run_until_complete(Op.wait_all())
    dispose(w)


def _script(wait_ms: int = 0) -> dict[str, Any]:
    second: list[dict[str, Any]] = [{"type": "click", "target": {"role": "button", "name": "Get started"}}]
    if wait_ms:
        second.append({"type": "wait", "ms": wait_ms})
    return {
        "title": "Acme tour",
        "settings": {"site": "site", "lead_in_ms": 200, "lead_out_ms": 300, "gap_ms": 200},
        "cards": [
            {"id": "welcome", "title": "Welcome", "narration": "This is Acme Notes.",
             "actions": [{"type": "goto", "url": "/"}]},
            {"id": "start", "title": "Get started", "narration": "Press get started.", "actions": second},
        ],
    }


def _open_project(window: MainWindow, script: dict[str, Any]) -> Path:
    p = window.projects.create("Preview demo", ProjectData(script=script))
    pdir = window.store.project_dir(p.id)
    shutil.copytree(SITE, pdir / "site")
    window.render_panel.select_size(854, 480)  # small: the preview is 428x240
    return pdir


async def _media_loaded(player: Any, timeout_s: float = 20.0) -> None:
    from app.ui.qt import QMediaPlayer

    done = asyncio.get_running_loop().create_future()

    def status(s: Any) -> None:
        if s in (QMediaPlayer.MediaStatus.LoadedMedia, QMediaPlayer.MediaStatus.BufferedMedia,
                 QMediaPlayer.MediaStatus.InvalidMedia) and not done.done():
            done.set_result(s)

    player.mediaStatusChanged.connect(status)
    status(player.mediaStatus())
    result = await asyncio.wait_for(done, timeout_s)
    assert result != QMediaPlayer.MediaStatus.InvalidMedia, player.errorString()


def test_preview_button_renders_the_card_and_plays_it_inline(window: MainWindow, qtbot: Any, run: Run) -> None:
    pdir = _open_project(window, _script())
    editor = window.editor
    preview = editor.preview
    assert not preview.isVisible()

    async def scenario() -> None:
        editor.select_card(1)
        qtbot.mouseClick(editor.preview_button, Qt.MouseButton.LeftButton)
        # progress and cancel in place, the trigger disabled while it runs
        assert preview.isVisible() and preview.cancel_button.isVisible()
        assert not editor.preview_button.isEnabled()
        await Op.wait_all()
        assert editor.preview_button.isEnabled() and not preview.cancel_button.isVisible()
        assert preview.status.text().startswith("Card 2 'Get started'"), preview.status.text()
        assert preview.player is not None
        await _media_loaded(preview.player)

    run(scenario())
    assert preview.video_path is not None and preview.video_path.is_file()
    assert preview.video_path.parent == pdir / "cache" / "previews"
    assert window.findChild(object, "errorDialog") is None


def test_ctrl_shift_p_previews_and_cancel_in_place_writes_nothing(window: MainWindow, qtbot: Any,
                                                                   run: Run) -> None:
    pdir = _open_project(window, _script(wait_ms=30_000))
    editor = window.editor
    preview = editor.preview
    [action] = [a for a in window.findChildren(QAction) if a.objectName() == "previewCardAction"]
    assert action.shortcut() == QKeySequence("Ctrl+Shift+P")

    async def scenario() -> None:
        editor.select_card(1)
        action.trigger()
        [op] = list(Op.running)
        filming = asyncio.get_running_loop().create_future()
        op.progressed.connect(lambda p: p.stage == "capture" and p.message.startswith("frame")
                              and not filming.done() and filming.set_result(None))
        await asyncio.wait_for(filming, 90)
        t0 = asyncio.get_running_loop().time()
        qtbot.mouseClick(preview.cancel_button, Qt.MouseButton.LeftButton)
        await Op.wait_all()
        took = asyncio.get_running_loop().time() - t0
        assert took < 1.5, f"cancel took {took:.2f} s"
        assert preview.status.text() == "Preview cancelled"
        assert window.findChild(object, "errorDialog") is None  # cancelling is not an error

    run(scenario())
    assert not list((pdir / "cache").rglob("*.mp4"))


def test_picking_a_card_prepares_its_preview_and_closing_ends_it(
        window: MainWindow, qtbot: Any, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    """A picked card gets its preview prepared in the background (the browser started, the flow
    replayed up to the card); "Preview card" then uses it, starts no browser, and prepares the next
    one; closing the window ends it all (no process left)."""
    from app.core.capture import _descendants

    monkeypatch.setenv("REELWRIGHT_PREVIEW_WARMUP", "1")
    _open_project(window, _script())
    editor = window.editor
    renders = window.renders

    async def ready() -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while renders.prepared is None or not renders.prepared.ready:
            assert loop.time() < deadline, "the preview was never prepared"
            await asyncio.sleep(0.05)
        return renders.prepared

    async def scenario() -> tuple[Any, list[int]]:
        editor.select_card(0)
        editor.select_card(1)  # only the card the selection rests on is prepared
        first = await ready()
        assert first.gate.index == 1
        warm = renders.warm
        assert warm is not None and warm.launches == 1
        for _ in range(2):
            prepared = await ready()
            qtbot.mouseClick(editor.preview_button, Qt.MouseButton.LeftButton)
            [op] = list(Op.running)
            await Op.wait_all()
            assert editor.preview.status.text().startswith("Card 2 'Get started'"), editor.preview.status.text()
            assert op.result is not None and op.result.result.prepared, "the click replayed the flow itself"
            assert prepared.task.done() and renders.prepared is not prepared
        kept = await ready()  # the next one, after the last preview
        # the usual loop: edit the card's narration, preview again — the replay is still good
        before = op.result.result.duration_s
        editor.narration.setFocus()
        editor.narration.moveCursor(editor.narration.textCursor().MoveOperation.End)
        qtbot.keyClicks(editor.narration, " Then it opens a form with a few more fields to fill in.")
        await asyncio.sleep(0.8)  # past the debounce
        assert renders.prepared is kept and kept.ready
        qtbot.mouseClick(editor.preview_button, Qt.MouseButton.LeftButton)
        [op] = list(Op.running)
        await Op.wait_all()
        assert op.result is not None and op.result.result.prepared
        assert op.result.result.duration_s > before + 1.0, "the new narration was not voiced"
        await ready()
        assert warm.launches == 1, "a preview started its own browser"
        browsers = [p for p in _descendants(os.getpid())
                    if b"headless" in Path(f"/proc/{p}/cmdline").read_bytes().split(b"\0")[0]]
        assert browsers, "no browser is kept running"
        return warm, browsers

    warm, browsers = run(scenario())
    # what the window's close does on the app's loop (closing the last window inside the test's loop
    # would quit its app; closed outside a loop, the window kills them instead)
    run(renders.close_warm())
    assert not warm.ready and renders.prepared is None

    def gone(pid: int) -> bool:
        try:
            return Path(f"/proc/{pid}/stat").read_text().split(")", 1)[1].split()[0] == "Z"
        except OSError:
            return True

    left = [p for p in browsers if not gone(p)]
    assert not left, f"the kept browser outlived the window: {left}"
