"""Regenerate storyboard.png (the card list with thumbnails and length bars) and timeline.png (the
strip under the player) from a real window under X, after a real local render of the example.

    Xvfb :99 -screen 0 1600x1000x24 &
    DISPLAY=:99 python docs/screenshots/storyboard.py docs/screenshots
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path

W, H = 1600, 1000


def x11grab(out: Path, x: int, y: int, w: int, h: int) -> None:
    display = os.environ.get("DISPLAY", ":99")
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "x11grab", "-draw_mouse", "0",
                    "-video_size", f"{W}x{H}", "-i", display, "-frames:v", "1",
                    "-vf", f"crop={w}:{h}:{x}:{y}", str(out)], check=True)
    print("wrote", out)


def grab_widget(widget: object, out: Path) -> None:
    from app.ui.qt import QPoint, QWidget

    assert isinstance(widget, QWidget)
    top_left = widget.mapToGlobal(QPoint(0, 0))
    x11grab(out, top_left.x(), top_left.y(), widget.width() - widget.width() % 2,
            widget.height() - widget.height() % 2)


async def capture(out_dir: Path) -> None:
    from app.ui.app import _open_example, _wait_painted
    from app.ui.main_window import MainWindow
    from app.ui.ops import Op
    from app.ui.qt import QApplication, QMediaPlayer
    from app.workbench.storage import Store

    store = Store()
    window = MainWindow(store)
    _open_example(window)
    window.start()
    window.setGeometry(0, 0, W, H)
    window.show()
    await _wait_painted(window)

    # a real render of the example fills the thumbnails and the strip
    rp = window.render_panel
    rp.select_size(1280, 720)
    window.renders.start_render()
    await Op.wait_all()
    assert "Complete" in rp.status.text(), rp.status.text()
    player = rp.player
    loaded = asyncio.get_running_loop().create_future()

    def status(s: object) -> None:
        if s == QMediaPlayer.MediaStatus.LoadedMedia and not loaded.done():
            loaded.set_result(None)

    player.mediaStatusChanged.connect(status)
    status(player.mediaStatus())
    await asyncio.wait_for(loaded, 30)
    # pick card 3 in the editor: the player follows to its start; then a second into it
    window.editor.select_card(2)
    card = rp.strip.timeline.card_for_script_index(2)
    assert card is not None
    rp.seek(card.start_s + 1.5)
    player.play()
    await asyncio.sleep(0.3)
    player.pause()
    rp.seek(card.start_s + 1.5)
    rp.strip.setFocus()
    await asyncio.sleep(1.0)
    QApplication.processEvents()
    grab_widget(rp, out_dir / "timeline.png")

    # the card list: thumbnails from the render, bars from the plan; narration grown on card 2
    window.tabs.setCurrentWidget(window.editor)
    window.editor.select_card(1)
    await asyncio.sleep(0.6)
    QApplication.processEvents()
    grab_widget(window.editor, out_dir / "storyboard.png")
    window.close()
    store.close()


def main() -> int:
    out_dir = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots").resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    import qasync

    from app.ui.app import create_app

    with tempfile.TemporaryDirectory(prefix="reelwright-shots-") as td:
        os.environ["REELWRIGHT_DATA_DIR"] = td
        app = create_app()
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        with loop:
            loop.run_until_complete(capture(out_dir))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
