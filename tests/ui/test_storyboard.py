"""The storyboard in the card list and the timeline strip under the player, with real widgets.

Bars and totals follow typed narration (no voice, no browser); a check in a real headless browser
and a short real render of the two-card flow site leave a thumbnail per card; the strip shows the
rendered video's cards from its timeline sidecar, and clicking it, its arrow keys and picking a card
in the editor seek the real player.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.core.plan.sidecar import sidecar_for
from app.ui.main_window import MainWindow
from app.ui.ops import Op
from app.ui.qt import QPoint, Qt
from app.ui.timeline_strip import TimelineStrip
from app.workbench.storage import ProjectData, Store
from app.workbench.storyboard import thumbnail_dir, timeline_from_chapters

pytestmark = [pytest.mark.ui]

SITE = Path(__file__).parent / "flow_site"


def _two_card_script() -> dict[str, Any]:  # as in test_flow.py
    return {
        "title": "Acme tour",
        "settings": {"site": "site", "lead_in_ms": 200, "lead_out_ms": 300, "gap_ms": 200},
        "cards": [
            {"id": "welcome", "title": "Welcome", "narration": "This is Acme Notes.",
             "actions": [{"type": "goto", "url": "/"}]},
            {"id": "start", "title": "Get started", "narration": "Press get started.",
             "actions": [{"type": "click", "target": {"role": "button", "name": "Get started"}}]},
        ],
    }


@pytest.fixture
def window(store: Store, qtbot: Any, aloop: Any, dispose: Any) -> Iterator[MainWindow]:
    w = MainWindow(store)
    w.start()
    w.resize(1400, 900)
    w.show()
    yield w
    w.close()
    aloop.run_until_complete(Op.wait_all())
    dispose(w)


def _project(window: MainWindow) -> Path:
    p = window.projects.create("Storyboard demo", ProjectData(script=_two_card_script()))
    pdir = window.store.project_dir(p.id)
    shutil.copytree(SITE, pdir / "site")
    return pdir


async def _media_loaded(player: Any, timeout_s: float = 20.0) -> None:
    from app.ui.qt import QMediaPlayer

    done = asyncio.get_running_loop().create_future()

    def status(s: Any) -> None:
        if s in (QMediaPlayer.MediaStatus.LoadedMedia, QMediaPlayer.MediaStatus.InvalidMedia) and not done.done():
            done.set_result(s)

    player.mediaStatusChanged.connect(status)
    status(player.mediaStatus())
    assert await asyncio.wait_for(done, timeout_s) == QMediaPlayer.MediaStatus.LoadedMedia, player.errorString()


def test_bars_and_total_follow_the_narration_as_it_is_typed(window: MainWindow, qtbot: Any) -> None:
    _project(window)
    editor = window.editor
    board = editor.storyboard
    window.tabs.setCurrentWidget(editor)
    assert board.board is not None and [b.card_id for b in board.board.cards] == ["welcome", "start"]
    before = board.board.bar("start")
    total_before = editor.total.text()
    assert before is not None and total_before.startswith("Total ≈ ") and "2 cards" in total_before
    assert editor.total.isVisible() and editor.total.accessibleName()
    assert sum(b.share for b in board.board.cards) == pytest.approx(1.0)

    editor.select_card(1)
    editor.narration.setFocus()
    editor.narration.moveCursor(editor.narration.textCursor().MoveOperation.End)
    qtbot.keyClicks(editor.narration, " Then fill in your email address and press sign up to finish.")
    # debounced: the plan follows a moment after typing stops
    qtbot.waitUntil(lambda: (b := board.board.bar("start")) is not None and b.narration_s > before.narration_s,
                    timeout=3000)
    after = board.board.bar("start")
    assert after is not None
    assert after.length_s > before.length_s and after.share > before.share
    assert editor.total.text() != total_before
    assert "actions" in board.describe("start") and "estimated voice" in board.describe("start")
    # the rows are painted with their bars (no thumbnail yet: a dashed placeholder)
    assert not board.has_thumbnail("start")
    assert not editor.cards.viewport().grab().isNull()


@pytest.mark.slow
@pytest.mark.browser
def test_a_check_leaves_a_thumbnail_per_checked_card(window: MainWindow, qtbot: Any, run: Any) -> None:
    pdir = _project(window)
    editor = window.editor

    async def scenario() -> None:
        editor.select_card(1)
        qtbot.mouseClick(editor.check_button, Qt.MouseButton.LeftButton)
        await Op.wait_all()
        assert editor.check_result.text().startswith("✔"), editor.check_result.text()

    run(scenario())
    for card_id in ("welcome", "start"):
        path = thumbnail_dir(pdir) / f"{card_id}.jpg"
        assert path.is_file() and path.stat().st_size > 500
        pm = editor.storyboard.thumbnail(card_id)
        assert pm is not None and pm.width() <= 96 and pm.height() > 0


@pytest.mark.slow
@pytest.mark.browser
def test_render_fills_thumbnails_and_the_strip_seeks_the_player(window: MainWindow, qtbot: Any, run: Any) -> None:
    pdir = _project(window)
    rp = window.render_panel
    strip = rp.strip

    async def scenario() -> None:
        rp.select_size(854, 480)
        rp.select_fps(24)
        qtbot.mouseClick(rp.render_button, Qt.MouseButton.LeftButton)
        await Op.wait_all()
        assert "Complete" in rp.status.text(), rp.status.text()
        await _media_loaded(rp.player)

    run(scenario())
    video = Path(window.project.data.history[-1].output) if window.project else None
    assert video is not None and sidecar_for(video).is_file()
    for card_id in ("welcome", "start"):
        assert (thumbnail_dir(pdir) / f"{card_id}.jpg").is_file()
        assert window.editor.storyboard.has_thumbnail(card_id)

    # one segment per chapter, at the chapters' starts; narration and actions from the sidecar
    chapters = [rp.chapters.item(i).data(Qt.ItemDataRole.UserRole) for i in range(rp.chapters.count())]
    assert len(strip.timeline.cards) == len(chapters) == 2
    lay = strip.layout_()
    assert [lay.t_of(x0) for x0, _x1 in lay.segments(strip.timeline.cards)] == pytest.approx(chapters, abs=0.05)
    assert all(c.voice_duration_s > 0 and len(c.actions) == 1 for c in strip.timeline.cards)
    assert strip.accessibleName() == "Timeline" and "2 cards" in strip.accessibleDescription()

    # a click on the strip seeks the player there
    qtbot.waitUntil(lambda: strip.width() > 200)
    lay = strip.layout_()
    assert [c.start_s for c in strip.timeline.cards][1:] == pytest.approx(chapters[1:], abs=0.05)
    x = int(lay.x_of(strip.timeline.cards[1].start_s + 0.8))
    qtbot.mouseClick(strip, Qt.MouseButton.LeftButton, pos=QPoint(x, strip.height() // 2))
    want_ms = int(lay.t_of(x) * 1000)
    assert abs(rp.position.value() - want_ms) <= 1
    qtbot.waitUntil(lambda: abs(rp.player.position() - want_ms) < 300, timeout=5000)

    # Left goes back to this card's start, then to the previous card; Right to the next
    qtbot.keyClick(strip, Qt.Key.Key_Left)
    assert rp.position.value() == round(strip.timeline.cards[1].start_s * 1000)
    qtbot.keyClick(strip, Qt.Key.Key_Left)
    assert rp.position.value() == 0 or rp.position.value() == round(strip.timeline.cards[0].start_s * 1000)
    qtbot.keyClick(strip, Qt.Key.Key_Right)
    assert rp.position.value() == round(strip.timeline.cards[1].start_s * 1000)

    # picking card 2 in the editor seeks the player to its start
    qtbot.keyClick(strip, Qt.Key.Key_Home)
    assert rp.position.value() == 0
    window.editor.select_card(0)
    window.editor.select_card(1)
    start_ms = round(strip.timeline.cards[1].start_s * 1000)
    assert rp.position.value() == start_ms
    qtbot.waitUntil(lambda: abs(rp.player.position() - start_ms) < 300, timeout=5000)


def test_strip_without_a_video_paints_and_steps_by_keyboard(qtbot: Any) -> None:
    strip = TimelineStrip()
    qtbot.addWidget(strip)
    strip.resize(408, strip.sizeHint().height())
    assert strip.accessibleDescription() == "No video yet"
    assert not strip.grab().isNull()  # painting an empty strip is fine
    strip.set_timeline(timeline_from_chapters([("Intro", 0.0), ("Sign up", 4.0), ("Done", 6.0)], 10.0))
    seeks: list[float] = []
    strip.seek_requested.connect(seeks.append)
    qtbot.keyClick(strip, Qt.Key.Key_Right)
    qtbot.keyClick(strip, Qt.Key.Key_Right)
    qtbot.keyClick(strip, Qt.Key.Key_Right)
    qtbot.keyClick(strip, Qt.Key.Key_Left)
    assert seeks == [4.0, 6.0, 6.0, 4.0]
    assert "at card 2, Sign up" in strip.accessibleDescription()
    qtbot.mouseClick(strip, Qt.MouseButton.LeftButton, pos=QPoint(204, 20))
    assert seeks[-1] == pytest.approx(5.0)
    assert not strip.grab().isNull()
