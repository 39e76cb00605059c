"""Regenerate the README screenshots of the desktop app from a real window under X.

    Xvfb :99 -screen 0 1600x1000x24 &
    DISPLAY=:99 python docs/screenshots/capture.py docs/screenshots

Opens the app on a throwaway data folder with the bundled example project, then captures the screen
with ffmpeg's x11grab (``QVideoWidget.grab()`` would leave the video blank): the main window, the card
editor after a voice preview, and the render view after a real local render, paused mid-video.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path

W, H = 1600, 1000


def x11grab(out: Path) -> None:
    display = os.environ.get("DISPLAY", ":99")
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "x11grab", "-draw_mouse", "0",
                    "-video_size", f"{W}x{H}", "-i", display, "-frames:v", "1", str(out)], check=True)
    print("wrote", out)


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
    # a few more files, as a user would have: the recorded codegen of the example's flow and two docs
    root = Path(__file__).resolve().parents[2]
    window.library.import_paths([root / "tests/data/codegen/recorded/quickstart.spec.ts",
                                 root / "tests/data/docs/release-notes.md", root / "tests/data/docs/faq.txt"])
    await Op.wait_all()
    files = {f.name: f for f in window.library.model.files()}
    # the example project may have brought the same recording already (the library keeps one copy)
    spec = files.get("quickstart.spec.ts") or next(f for n, f in files.items() if n.endswith((".ts", ".py")))
    window.projects.add_files([spec])
    model = window.library.model
    row = next(r for r in range(model.rowCount()) if model.index(r, 0).data() == spec.name)
    window.library.table.selectRow(row)
    await Op.wait_all()
    await asyncio.sleep(0.3)
    x11grab(out_dir / "main-window.png")

    # the card editor: a card with a bookmark, its voice measured
    window.editor.select_card(1)
    window.renders.play_voice(1)
    await Op.wait_all()
    if window.renders.voice_player is not None:
        window.renders.voice_player.stop()
    window.editor.action_table.selectRow(1)
    await asyncio.sleep(0.3)
    x11grab(out_dir / "card-editor.png")

    # the render view: a real local render, then the player paused a few seconds into card 2
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
    item = rp.chapters.item(1)
    rp.chapters.setCurrentItem(item)
    player.play()
    await asyncio.sleep(0.5)
    player.pause()
    player.setPosition(int((float(item.data(0x0100)) + 3.0) * 1000))
    await asyncio.sleep(1.0)
    QApplication.processEvents()
    x11grab(out_dir / "render-view.png")
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
